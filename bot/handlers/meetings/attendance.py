"""A meeting's attendance on Telegram: the check-in buttons under the list in the table's group,
«⚙️ Gestisci presenze» (the coordinator's roster, in private, or the link that opens it), the
roster's taps, the guest dialogue, and the tick's posting of the list. The use cases are
bot.services.meetings.attendance's; the texts and keyboards bot.views.attendance's (which lists
every button's callback data)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Message, Update, User
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application

from bot import delivery, message_refresh
from bot.context import BotContext, Services
from bot.conversations import Conversation, register_flow, write_message
from bot.handlers.common.hooks import put_link_in_front
from bot.handlers.meetings.buttons import in_private_or_link
from bot.i18n import Translator
from bot.markup import buttons
from bot.scope import (
    ButtonPress,
    group_press,
    in_private,
    on_object,
    reply,
)
from bot.services.meetings import attendance, meeting_union_id
from bot.telegram_edit import deliver
from bot.views import attendance as views
from bot.views.answer import Answer
from bot.views.common import start_link_url

logger = logging.getLogger(__name__)
Outcome = attendance.Roster | attendance.Asked | attendance.AttendanceRefused
UnionOf = Callable[[AsyncSession, int | None], Awaitable[int | None]]


MESSAGES = message_refresh.MessageKind(
    name="attendance",
    model=attendance.AttendanceMessage,
    render=message_refresh.render_now(
        lambda s, row, language: attendance.list_now(
            s, meeting_id=row.meeting_id, language=language
        )
    ),
)


def _refused(outcome: attendance.AttendanceRefused, tr: Translator) -> Answer:
    """A refusal records nothing: a popup that stays, naming the next step."""
    return Answer(toast=outcome.text(tr.language), alert=True)


async def on_check_in(update: Update, context: BotContext) -> None:
    """`att:in:<meeting>:p|o`: «✅ Sono presente» / «💻 Sono online» under the list."""
    services = context.services
    now = services.clock.now()

    async def use(
        s: AsyncSession, p: ButtonPress, _tr: Translator
    ) -> attendance.CheckedIn | attendance.AttendanceRefused:
        return await attendance.check_in(
            s,
            meeting_id=p.object_id,
            telegram_user_id=p.user_id,
            mode=views.MODE_CODES.get(p.data.str_arg(1) or ""),
            press=group_press(update, p.query),
            now=now,
        )

    guarded = await on_object(update, context, meeting_union_id, use, writes=True)
    if guarded is None:
        return
    _pressed, tr, outcome = guarded
    if isinstance(outcome, attendance.AttendanceRefused):
        await deliver(update, _refused(outcome, tr))
        return
    await deliver(update, Answer(toast=views.checked_in(outcome.mode, outcome.changed, tr)))
    message_refresh.request(services, outcome.dirty_chat_ids)


async def on_manage(update: Update, context: BotContext) -> None:
    """`att:manage:<meeting>`: the roster in private for the coordinator (or, when the bot may
    not write first, the link that opens it); anyone else is told who corrects the list."""
    services = context.services
    now = services.clock.now()

    async def use(s: AsyncSession, p: ButtonPress, tr: Translator) -> Outcome:
        return await attendance.open_roster(
            s, meeting_id=p.object_id, telegram_user_id=p.user_id, now=now, language=tr.language
        )

    guarded = await on_object(update, context, meeting_union_id, use)
    if guarded is None:
        return
    pressed, tr, outcome = guarded
    if not isinstance(outcome, attendance.Roster):
        assert isinstance(outcome, attendance.AttendanceRefused)
        await deliver(update, _refused(outcome, tr))
        return
    await in_private_or_link(
        update,
        context.bot,
        pressed.query,
        (outcome.text, outcome.keyboard),
        sent=views.roster_sent(tr),
        link=attendance.start_link(attendance.LINK_ROSTER, pressed.object_id),
    )


async def _roster_press(
    update: Update,
    context: BotContext,
    union_of: UnionOf,
    use: Callable[[AsyncSession, ButtonPress, Translator], Awaitable[Outcome]],
) -> None:
    """A press of the roster or of the guest dialogue (private only): the use case, then the
    pressed message becomes what it answers; the group's lists follow."""
    guarded = await on_object(
        update, context, union_of, use, writes=True, private_only=views.private_only
    )
    if guarded is None:
        return
    _pressed, tr, outcome = guarded
    await _show(update, context, outcome, tr, edit=True)


async def _show(
    update: Update, context: BotContext, outcome: Outcome, tr: Translator, *, edit: bool
) -> None:
    if isinstance(outcome, attendance.AttendanceRefused):
        if update.callback_query is not None:
            await deliver(update, _refused(outcome, tr))
        else:
            await reply(update, outcome.text(tr.language))
        return
    if isinstance(outcome, attendance.Asked):
        answer = Answer(text=outcome.text, keyboard=outcome.keyboard, new_message=True)
        await deliver(update, answer)
        message_refresh.request(context.services, outcome.dirty_chat_ids)
        return
    if edit:  # a press: the note is its toast, the roster replaces the pressed message
        answer = Answer(toast=outcome.note, text=outcome.text, keyboard=outcome.keyboard)
    else:  # written: the note heads the roster, sent anew below the answer
        text = f"{outcome.note}\n\n{outcome.text}" if outcome.note else outcome.text
        answer = Answer(text=text, keyboard=outcome.keyboard, new_message=True)
    await deliver(update, answer)
    message_refresh.request(context.services, outcome.dirty_chat_ids)


async def on_tap(update: Update, context: BotContext) -> None:
    """`att:tap:<meeting>:<member>`: one tap on a person of the roster."""
    now = context.services.clock.now()

    async def use(s: AsyncSession, p: ButtonPress, tr: Translator) -> Outcome:
        return await attendance.tap(
            s,
            meeting_id=p.object_id,
            member_id=p.data.int_arg(1),
            telegram_user_id=p.user_id,
            now=now,
            language=tr.language,
        )

    await _roster_press(update, context, meeting_union_id, use)


# The roster's presses on a meeting that start or end a dialogue, or change the meeting.
_ON_MEETING = {
    views.GUEST: attendance.start_guest,
    views.NO_ORGANISATION: attendance.skip_organisation,
    views.WORKSHOP: attendance.start_theme,
    views.NOT_WORKSHOP: attendance.clear_workshop,
    views.MATERIALS: attendance.start_materials,
    views.MATERIALS_DONE: attendance.end_materials,
}


async def on_meeting_press(update: Update, context: BotContext) -> None:
    """`att:guest:<meeting>` starts the guest dialogue, `att:nonorg:<meeting>` ends it without
    an organisation; `att:ws:<meeting>` asks a workshop's theme, `att:nows:<meeting>` makes it
    an ordinary meeting again; `att:mat:<meeting>` waits for its documents until
    `att:matend:<meeting>`."""
    now = context.services.clock.now()

    async def use(s: AsyncSession, p: ButtonPress, tr: Translator) -> Outcome:
        case = _ON_MEETING[p.data.action]
        return await case(
            s, meeting_id=p.object_id, telegram_user_id=p.user_id, now=now, language=tr.language
        )

    await _roster_press(update, context, meeting_union_id, use)


async def on_guest_line(update: Update, context: BotContext) -> None:
    """`att:gmode:<guest>` (in presenza ↔ online) and `att:gdel:<guest>` (removed)."""
    now = context.services.clock.now()

    async def use(s: AsyncSession, p: ButtonPress, tr: Translator) -> Outcome:
        return await attendance.change_guest(
            s,
            guest_id=p.object_id,
            remove=p.data.action == views.GUEST_REMOVE,
            telegram_user_id=p.user_id,
            now=now,
            language=tr.language,
        )

    await _roster_press(update, context, attendance.guest_union_id, use)


async def on_material_line(update: Update, context: BotContext) -> None:
    """`att:matdel:<material>`: a document off the workshop's materials."""
    now = context.services.clock.now()

    async def use(s: AsyncSession, p: ButtonPress, tr: Translator) -> Outcome:
        return await attendance.remove_material(
            s, material_id=p.object_id, telegram_user_id=p.user_id, now=now, language=tr.language
        )

    await _roster_press(update, context, attendance.material_union_id, use)


async def on_material_message(update: Update, context: BotContext, conv: Conversation) -> None:
    """A message during the materials' dialogue: a document is kept, anything else asked again."""
    now = context.services.clock.now()

    async def use(s: AsyncSession, message: Message, user: User, tr: Translator) -> Outcome:
        document = message.document
        return await attendance.material_sent(
            s,
            conversation=conv,
            file_id=document.file_id if document else None,
            file_name=document.file_name if document else None,
            telegram_user_id=user.id,
            now=now,
            language=tr.language,
        )

    await _written(update, context, use)


async def _written(
    update: Update,
    context: BotContext,
    use: Callable[[AsyncSession, Message, User, Translator], Awaitable[Outcome]],
) -> None:
    """A message of one of the list's dialogues, answered with the roster (or the question
    asked again) sent anew."""
    if (written := await write_message(update, context, use)) is not None:
        tr, outcome = written
        await _show(update, context, outcome, tr, edit=False)


async def _send_materials(bot: Bot, user_id: int, materials: attendance.Materials) -> bool:
    """The documents, in private, by their file ids; False when the bot may not write first."""
    for file_id, name in materials.files:
        try:
            await bot.send_document(chat_id=user_id, document=file_id, caption=name)
        except Forbidden:
            return False
        except BadRequest:  # a file Telegram no longer knows: the others still go
            logger.warning("A workshop's document could not be sent: %s", name)
    return True


async def on_get_materials(update: Update, context: BotContext) -> None:
    """`att:get:<meeting>`: «📎 Ricevi i materiali» under the list; the documents in private
    (or, when the bot may not write first, the link that opens the chat and sends them)."""

    async def use(
        s: AsyncSession, p: ButtonPress, _tr: Translator
    ) -> attendance.Materials | attendance.AttendanceRefused:
        return await attendance.materials_for(s, meeting_id=p.object_id, telegram_user_id=p.user_id)

    guarded = await on_object(update, context, meeting_union_id, use)
    if guarded is None:
        return
    pressed, tr, outcome = guarded
    if isinstance(outcome, attendance.AttendanceRefused):
        await deliver(update, _refused(outcome, tr))
    elif await _send_materials(context.bot, pressed.user_id, outcome):
        await pressed.query.answer(None if in_private(update) else views.materials_sent(tr))
    else:
        link = attendance.start_link(attendance.LINK_MATERIALS, pressed.object_id)
        await pressed.query.answer(url=start_link_url(context.bot.username, link))


async def on_guest_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """A written step of the guest dialogue (the name, then the organisation) or of the
    theme's (the theme)."""
    now = context.services.clock.now()
    step = attendance.theme_text if conv.flow == attendance.THEME_FLOW else attendance.guest_text
    await _written(
        update,
        context,
        lambda s, message, user, tr: step(
            s,
            conversation=conv,
            text=message.text or "",
            telegram_user_id=user.id,
            now=now,
            language=tr.language,
        ),
    )


async def _link_kind(session: AsyncSession, kind: str, meeting_id: int, user_id: int) -> str:
    """The /start hook's read: the roster and the materials are read by their answer, in the
    caller's language; it needs the link's kind."""
    return kind


async def on_link(
    update: Update, context: BotContext, tr: Translator, meeting_id: int, kind: str
) -> None:
    """`/start pr-<meeting>` (the roster) or `pm-<meeting>` (a workshop's materials), in
    private: checked as the buttons are (`att:manage`, `att:get`)."""
    services, user = context.services, update.effective_user
    assert user is not None  # the hook reads a link for a user only
    outcome: Outcome | attendance.Materials
    async with services.db.transaction() as session:
        if kind == attendance.LINK_MATERIALS:
            outcome = await attendance.materials_for(
                session, meeting_id=meeting_id, telegram_user_id=user.id
            )
        else:
            outcome = await attendance.open_roster(
                session,
                meeting_id=meeting_id,
                telegram_user_id=user.id,
                now=services.clock.now(),
                language=tr.language,
            )
    if isinstance(outcome, attendance.Materials):
        await _send_materials(context.bot, user.id, outcome)
    else:
        await _show(update, context, outcome, tr, edit=False)


async def post_lists(services: Services, bot: Bot, now: datetime) -> None:
    """The tick: the list goes to the table's group(s) when a meeting's check-ins open."""
    language = services.settings.default_language
    async with services.db.transaction() as session:
        queued = await attendance.open_check_ins(session, now=now, language=language)
    if queued:
        await delivery.flush(services, bot)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.add_handlers(
        buttons(
            views.ATT_AREA,
            {
                views.CHECK_IN: on_check_in,
                views.MANAGE: on_manage,
                views.TAP: on_tap,
                tuple(_ON_MEETING): on_meeting_press,
                views.MATERIAL_REMOVE: on_material_line,
                views.GET_MATERIALS: on_get_materials,
                (views.GUEST_MODE, views.GUEST_REMOVE): on_guest_line,
            },
        )
    )
    register_flow(attendance.GUEST_FLOW, on_guest_text)
    register_flow(attendance.THEME_FLOW, on_guest_text)
    register_flow(attendance.MATERIAL_FLOW, on_material_message)
    put_link_in_front(services, attendance.parse_start_link, _link_kind, on_link)
    services.add_sent_listener(attendance.MESSAGE_PREFIX, attendance.list_sent)
    services.add_due_work("meetings.attendance_lists", post_lists)
    message_refresh.install(application, services, MESSAGES)
