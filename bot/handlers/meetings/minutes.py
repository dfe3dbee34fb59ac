"""The minutes on Telegram (issue 19): the draft's buttons in the coordinator's private chat, the
typed notes, the approval, /verbali and its files, and the tick's work (drafts after a meeting,
the approved minutes' files). The use cases are bot.services.meetings.minutes'; the texts and
buttons bot.views.minutes_panel's (which lists the callback data)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Chat, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot import delivery, message_refresh, telegram_edit
from bot.context import BotContext, Services
from bot.conversations import Conversation, write_typed
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import ButtonPress, Refusal, on_object, read_in_scope, reply
from bot.services.meetings import meeting_union_id, minutes
from bot.views import minutes_panel as views
from bot.views.answer import Answer
from bot.views.meetings import confirmations_in_private_only

logger = logging.getLogger(__name__)

Outcome = views.Panel | minutes.Refused
UseCase = Callable[[AsyncSession, ButtonPress, Translator], Awaitable[Any]]


def _on_meeting(use_case: Callable[..., Awaitable[Any]], **extra: object) -> UseCase:
    """A use case of a meeting's minutes (`meeting_id`, `telegram_user_id` and `extra`
    keywords), for the press on `min:<verb>:<meeting>`."""
    return lambda s, p, _tr: use_case(
        s, meeting_id=p.object_id, telegram_user_id=p.user_id, **extra
    )


async def _panel_press(
    update: Update, context: BotContext, use: UseCase, *, writes: bool = True
) -> tuple[ButtonPress, Translator, Any] | None:
    """A press on the draft's panel (a private dialogue: refused in any group), then the use
    case, which checks the presser coordinates the meeting's Union."""
    return await on_object(
        update,
        context,
        None,
        use,
        writes=writes,
        private_only=confirmations_in_private_only,
    )


async def _show(
    update: Update, guarded: tuple[ButtonPress, Translator, Any] | None, screen: str
) -> None:
    if guarded is None:
        return
    _pressed, tr, outcome = guarded
    if isinstance(outcome, minutes.Refused):
        await telegram_edit.deliver(
            update, Answer(toast=views.refusal_text(outcome.reason, tr), alert=True)
        )
        return
    text, keyboard = views.render_panel(outcome, screen, tr)
    await telegram_edit.deliver(update, Answer(text=text, keyboard=keyboard))


async def on_screen(update: Update, context: BotContext) -> None:
    """`min:v:<meeting>:<screen>`: the main screen, the items' outcomes, presence, the approval's
    question."""
    guarded = await _panel_press(
        update,
        context,
        _on_meeting(minutes.panel),
        writes=False,
    )
    screen = guarded[0].data.str_arg(1) if guarded else None
    await _show(update, guarded, screen if screen in views.SCREENS else views.MAIN)


async def on_outcome(update: Update, context: BotContext) -> None:
    """`min:o:<meeting>:<item>:<d|a|x|r|i>`: the item's outcome as the button says."""

    async def use(session: AsyncSession, p: ButtonPress, _tr: Translator) -> Outcome:
        outcome = views.OUTCOME_CODES.get(p.data.str_arg(2) or "")
        item_id = p.data.int_arg(1)
        if outcome is None or item_id is None:
            return minutes.Refused("stale")
        return await minutes.set_outcome(
            session,
            meeting_id=p.object_id,
            item_id=item_id,
            outcome=outcome,
            telegram_user_id=p.user_id,
        )

    await _show(update, await _panel_press(update, context, use), views.ITEMS)


async def on_present(update: Update, context: BotContext) -> None:
    """`min:a:<meeting>:<member>:next`: the next of assente → in presenza → online; `1` / `0`
    (in presenza / assente) from a draft sent before."""
    now = context.services.clock.now()

    async def use(
        session: AsyncSession, p: ButtonPress, _tr: Translator
    ) -> minutes.PresenceSet | minutes.Refused:
        member_id, flag = p.data.int_arg(1), p.data.str_arg(2)
        if member_id is None or flag not in ("0", "1", views.NEXT):
            return minutes.Refused("stale")
        return await minutes.set_present(
            session,
            meeting_id=p.object_id,
            member_id=member_id,
            present=None if flag == views.NEXT else flag == "1",
            telegram_user_id=p.user_id,
            now=now,
        )

    guarded = await _panel_press(update, context, use)
    if guarded is not None and isinstance(set_ := guarded[2], minutes.PresenceSet):
        guarded = (guarded[0], guarded[1], set_.panel)
        message_refresh.request(context.services, set_.dirty_chat_ids)
    await _show(update, guarded, views.PEOPLE)


async def _acted(
    update: Update, context: BotContext, use: UseCase
) -> tuple[Translator, Any] | None:
    """A press on the panel that acts: the use case's refusal shown (a popup that stays) and
    None, else the presser's translator and the outcome."""
    guarded = await _panel_press(update, context, use)
    if guarded is None:
        return None
    _pressed, tr, outcome = guarded
    if isinstance(outcome, minutes.Refused):
        await _show(update, guarded, views.MAIN)
        return None
    return tr, outcome


async def on_notes(update: Update, context: BotContext) -> None:
    """`min:n:<meeting>`: the next private message is the notes."""
    now = context.services.clock.now()
    acted = await _acted(update, context, _on_meeting(minutes.start_notes, now=now))
    if acted is not None:
        prompt = views.notes_prompt(acted[0], minutes.NOTES_LIMIT)
        await telegram_edit.deliver(update, Answer(text=prompt, new_message=True))


async def on_notes_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """The notes, typed after «📝 Note»: saved, then the draft's main screen again."""
    meeting_id = int(conv.data.get("meeting_id", 0))
    written = await write_typed(
        update,
        context,
        lambda s, *, telegram_user_id, chat_id, text, now: minutes.save_notes(
            s, meeting_id=meeting_id, telegram_user_id=telegram_user_id, text=text
        ),
    )
    await _after_typed(update, written, views.MAIN, views.notes_too_long)


async def on_words(update: Update, context: BotContext) -> None:
    """`min:w:<meeting>:<item>` («✏️ N»): the next private message is the item's outcome in the
    coordinator's words."""
    now = context.services.clock.now()

    async def use(
        session: AsyncSession, p: ButtonPress, _tr: Translator
    ) -> minutes.OutcomeNoteAsked | minutes.Refused:
        item_id = p.data.int_arg(1)
        if item_id is None:
            return minutes.Refused("stale")
        return await minutes.start_outcome_note(
            session, meeting_id=p.object_id, item_id=item_id, telegram_user_id=p.user_id, now=now
        )

    acted = await _acted(update, context, use)
    if acted is not None:
        tr, asked = acted
        prompt = views.outcome_note_prompt(asked.item, tr, minutes.OUTCOME_NOTE_LIMIT)
        await telegram_edit.deliver(update, Answer(text=prompt, new_message=True))


async def on_outcome_note_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """An item's outcome in words, typed after «✏️ N»: saved, then the items' screen again."""
    meeting_id = int(conv.data.get("meeting_id", 0))
    item_id = int(conv.data.get("item_id", 0))
    written = await write_typed(
        update,
        context,
        lambda s, *, telegram_user_id, chat_id, text, now: minutes.save_outcome_note(
            s, meeting_id=meeting_id, item_id=item_id, telegram_user_id=telegram_user_id, text=text
        ),
    )
    await _after_typed(update, written, views.ITEMS, views.words_too_long)


async def _after_typed(
    update: Update,
    written: tuple[Translator, Any] | None,
    screen: str,
    too_long: Callable[[Translator, int], str],
) -> None:
    """The answer to what a coordinator typed into the draft (the notes, an item's words):
    the draft's `screen` again, or why it was not taken."""
    if written is None:
        return
    tr, outcome = written
    if isinstance(outcome, minutes.NothingWritten):
        await reply(update, views.write_text_please(tr))
    elif isinstance(outcome, minutes.NotesTooLong):
        await reply(update, too_long(tr, outcome.limit))
    elif isinstance(outcome, minutes.Refused):
        await reply(update, views.refusal_text(outcome.reason, tr))
    else:
        text, keyboard = views.render_panel(outcome, screen, tr)
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


async def on_approve(update: Update, context: BotContext) -> None:
    """`min:ok:<meeting>`: approved, numbered, frozen; then the files to the table's group."""
    services = context.services
    now = services.clock.now()
    language = services.settings.default_language
    acted = await _acted(update, context, _on_meeting(minutes.approve, now=now, language=language))
    if acted is None:
        return
    tr, outcome = acted
    text = views.approved_text(outcome.content, tr)
    await telegram_edit.deliver(update, Answer(toast=text[:200], text=text))
    # A question closed by the minutes: its message in the political group loses its buttons.
    message_refresh.request(services, outcome.dirty_chat_ids)
    await post_approved(services, context.bot, outcome.meeting_id)


async def post_approved(services: Services, bot: Bot, meeting_id: int) -> bool:
    """The approved minutes' files, written in a thread from the frozen content and queued to
    the table's group (once: a claim), then sent. False when there was nothing to queue."""
    async with services.db.transaction() as session:
        content = await minutes.frozen_content(session, meeting_id)
    if content is None:
        return False
    language = services.settings.default_language
    files = await minutes.minutes_files(content, language=language)
    async with services.db.transaction() as session:
        queued = await minutes.queue_posting(
            session, meeting_id=meeting_id, files=files, now=services.clock.now()
        )
    if queued:
        await delivery.flush(services, bot)
    return queued


# --- /verbali ---------------------------------------------------------------------------------


async def verbali(update: Update, context: BotContext, union_id: int | None) -> None:
    """/verbali: the Union's approved minutes, newest first, a button each."""
    tr, scope, found = await read_in_scope(
        update,
        context,
        "verbali",
        union_id,
        lambda session, scope, _tr: minutes.filed(session, member_id=scope.member.id),
    )
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if found is None:
        await reply(update, views.refusal_text("not_member", tr))
        return
    chat = update.effective_chat
    drafts = found.drafts if chat is not None and chat.type == Chat.PRIVATE else ()
    text, keyboard = views.render_filed(found.union_name, found.tz, found.entries, tr, drafts)
    await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


async def on_files(update: Update, context: BotContext) -> None:
    """`min:f:<meeting>`: the approved minutes' files in private, for a member of its Union."""
    guarded = await on_object(
        update,
        context,
        meeting_union_id,
        _on_meeting(minutes.filed_content),
    )
    if guarded is None:
        return
    pressed, tr, content = guarded
    if isinstance(content, minutes.Refused):
        await pressed.query.answer(views.refusal_text(content.reason, tr), show_alert=True)
        return
    language = context.services.settings.default_language
    files = await minutes.minutes_files(content, language=language)
    try:
        for file in files:
            await context.bot.send_document(
                chat_id=pressed.user_id,
                document=InputFile(file.content, filename=file.name),
                caption=file.caption,
            )
    except Forbidden:
        await pressed.query.answer(views.files_cannot_reach(tr), show_alert=True)
        return
    chat = update.effective_chat
    in_private = chat is not None and chat.type == Chat.PRIVATE
    await pressed.query.answer(None if in_private else views.files_sent(tr))


# --- the tick ---------------------------------------------------------------------------------


async def draft_due_minutes(services: Services, bot: Bot, now: datetime) -> None:
    """A meeting ended: its minutes' draft to the coordinators, each meeting in a transaction."""
    language = services.settings.default_language
    async with services.db.transaction() as session:
        due = await minutes.meetings_owing_draft(session, now=now)
    queued = False
    for meeting_id in due:
        async with services.db.transaction() as session:
            queued |= await minutes.draft_minutes(
                session, meeting_id=meeting_id, now=now, language=language
            )
    if queued:
        await delivery.flush(services, bot)


async def post_due_minutes(services: Services, bot: Bot, _now: datetime) -> None:
    """Approved minutes whose files a crash kept from the group: queued now."""
    async with services.db.transaction() as session:
        due = await minutes.minutes_to_post(session)
    for meeting_id in due:
        await post_approved(services, bot, meeting_id)
