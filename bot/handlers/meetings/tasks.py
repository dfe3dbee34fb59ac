"""The tasks' buttons (`tsk:…`, listed in bot.views.tasks) and the task's text written in
private. Each decodes the press, checks the chat against the meeting's (or task's) Union, calls
one use case of bot.services.meetings.tasks, answers, and flushes what it queued."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ParseMode

from bot import delivery
from bot.context import BotContext
from bot.conversations import Conversation, write_typed
from bot.handlers.meetings.buttons import pressed_refusing
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import ButtonPress, reply
from bot.services.meetings import meeting_union_id, tasks
from bot.telegram_edit import deliver, edit_message
from bot.views import tasks as views
from bot.views.answer import Answer

TaskUse = Callable[[AsyncSession, ButtonPress, Translator], Awaitable[object]]


def _refusal(outcome: object, tr: Translator) -> str | None:
    if isinstance(outcome, tasks.TaskRefused):
        return views.render_refusal(outcome.reason, tr, outcome.n)
    return None


async def _step(update: Update, context: BotContext, use: TaskUse) -> None:
    """A step of the coordinator's dialogue: its screen replaces the pressed message."""
    done = await pressed_refusing(
        update, context, meeting_union_id, use, private=True, refusal=_refusal
    )
    if done is None:
        return
    outcome = done[2]
    assert isinstance(outcome, tasks.Step)
    await deliver(update, Answer(text=outcome.text, keyboard=outcome.keyboard))
    if outcome.done:
        await delivery.flush(context.services, context.bot)


async def on_new(update: Update, context: BotContext) -> None:
    """«📌 Assegna un compito»: whom?"""
    now = context.services.clock.now()
    await _step(
        update,
        context,
        lambda s, press, tr: tasks.start_task(
            s, meeting_id=press.object_id, telegram_user_id=press.user_id, now=now, tr=tr
        ),
    )


async def _choice(
    update: Update, context: BotContext, pick: Callable[..., Awaitable[object]]
) -> None:
    """A step that takes the button's choice (`tsk:verb:<meeting>:<choice>`)."""
    now = context.services.clock.now()
    await _step(
        update,
        context,
        lambda s, press, tr: pick(
            s,
            meeting_id=press.object_id,
            choice=press.data.int_arg(1),
            telegram_user_id=press.user_id,
            now=now,
            tr=tr,
        ),
    )


async def on_who(update: Update, context: BotContext) -> None:
    """The member chosen: the text is written next."""
    await _choice(update, context, tasks.pick_member)


async def on_action(update: Update, context: BotContext) -> None:
    """The PAES action the task is about, or none: then by when."""
    await _choice(update, context, tasks.pick_action)


async def on_due(update: Update, context: BotContext) -> None:
    """By when: the task is recorded and the assignee told."""
    language = context.services.settings.default_language
    await _choice(update, context, partial(tasks.pick_due, language=language))


async def on_stop(update: Update, context: BotContext) -> None:
    """«Annulla»: the dialogue ends, nothing recorded."""
    now = context.services.clock.now()

    async def use(session: AsyncSession, press: ButtonPress, tr: Translator) -> object:
        return await tasks.stop(
            session, meeting_id=press.object_id, telegram_user_id=press.user_id, now=now, tr=tr
        )

    await _step(update, context, use)


async def on_drop(update: Update, context: BotContext) -> None:
    """«🗑 Annulla questo compito», under the coordinator's «✅ Compito assegnato»."""
    services = context.services
    language = services.settings.default_language
    done = await _task_press(update, context, partial(tasks.cancel_task, language=language))
    if done is None:
        return
    tr, outcome = done
    assert isinstance(outcome, tasks.TaskCancelled)
    text, keyboard = views.render_cancelled(
        outcome.meeting_id, outcome.name, outcome.text, outcome.told, tr
    )
    await deliver(update, Answer(text=text, keyboard=keyboard))
    if outcome.struck is not None:  # best effort: a «✔️ Fatto» pressed there says it anyway
        chat_id, message_id, struck = outcome.struck
        await edit_message(context.bot, chat_id=chat_id, message_id=message_id, text=struck)
    if outcome.told:
        await delivery.flush(services, context.bot)


async def _task_press(
    update: Update, context: BotContext, use_case: Callable[..., Awaitable[object]]
) -> tuple[Translator, object] | None:
    """A button naming a task (`tsk:<verb>:<task>`), checked against the task's Union:
    `use_case(session, task_id=, telegram_user_id=, now=)`'s outcome, None once refused."""
    now = context.services.clock.now()

    async def use(session: AsyncSession, press: ButtonPress, _tr: Translator) -> object:
        return await use_case(
            session, task_id=press.object_id, telegram_user_id=press.user_id, now=now
        )

    done = await pressed_refusing(
        update, context, tasks.union_of_task, use, private=True, refusal=_refusal
    )
    return None if done is None else (done[1], done[2])


async def on_task_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """The task's text, written after the member was chosen."""
    written = await write_typed(
        update,
        context,
        partial(tasks.write_text, meeting_id=int(conv.data.get("meeting_id", 0))),
    )
    if written is None:
        return
    tr, outcome = written
    if isinstance(outcome, tasks.TaskRefused):
        await reply(update, views.render_refusal(outcome.reason, tr, outcome.n))
        return
    if isinstance(outcome, tasks.ActionAsked):
        text, keyboard = views.render_pick_action(
            outcome.meeting, outcome.name, outcome.text, outcome.actions, tr
        )
    else:
        text, keyboard = views.render_pick_due(
            outcome.meeting, outcome.name, outcome.text, outcome.today, tr
        )
    await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


async def on_done(update: Update, context: BotContext) -> None:
    """«✔️ Fatto», pressed by the assignee."""
    done = await _task_press(update, context, tasks.mark_done)
    if done is None:
        return
    tr, outcome = done
    assert isinstance(outcome, tasks.TaskDone)
    text, keyboard = views.render_done(outcome.text, outcome.remaining, outcome.today, tr)
    toast = views.render_done(outcome.text, (), outcome.today, tr)[0]
    await deliver(update, Answer(toast=toast, text=text, keyboard=keyboard))
