"""Monthly meeting polls in place of Doodle: /riunione, the poll in the group, votes, reminders,
closing, the announcement with its .ics, meeting reminders, /riunioni.

A vote costs one answerCallbackQuery (the toast, sent right after the vote is committed) and at
most a share of one editMessageText: the vote marks the poll's messages dirty and asks
bot.message_refresh for the owed edit, which goes out with the latest state, coalesced and
paced per chat (Telegram's 20 a minute per group), and is re-driven by the tick until done.
"""

from __future__ import annotations

import asyncio
import copy
import html
import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callback_data as cb
from bot import delivery, message_refresh, telegram_edit
from bot.context import BotContext, Services
from bot.conversations import register_flow
from bot.i18n import N_, Translator, format_datetime, format_month
from bot.scope import (
    Pressed,
    Refusal,
    UnionScope,
    button_refusal,
    caller,
    pressed_where,
    register_union_command,
    reply,
    resolve_union,
    tr_for,
    update_transaction,
)
from bot.services import meeting_rules as rules
from bot.services.display_text import person_name
from bot.services.ics import CalendarEvent, build_ics, looks_like_url
from bot.services.italian_dates import ParsedWhen, ParseProblem, parse_when
from bot.services.meetings import (
    PollView,
    deadline_passed,
    load_poll_view,
    may_manage,
    table_chats,
    tables_a_member_may_propose,
)
from storage.models import (
    Answer,
    Conversation,
    Meeting,
    MeetingPoll,
    MeetingSettings,
    Member,
    OutboxMessage,
    OutboxStatus,
    Person,
    PollMessage,
    PollStatus,
    PollTable,
    Slot,
    Union,
)
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo
from storage.repositories.people import shown_name

logger = logging.getLogger(__name__)
# Days a deadline can be extended by (the buttons offered); anything else is forged.
EXTEND_DAYS_OFFERED = frozenset({"1", "2", "3", "7"})

VOTE_AREA = "vote"
MTG_AREA = "mtg"
WIZ_AREA = "wiz"
WIZARD_FLOW = "meeting_wizard"
ADD_SLOT_FLOW = "meeting_add_slot"
ICS_DOMAIN = "team-energia.bot"
MAX_TITLE, MAX_PLACE, MAX_AGENDA = 200, 400, 1500
MAX_OPTIONS = 16
DEADLINE_DEFAULT_TIME = time(18, 0)

ANSWER_CODES = {"y": Answer.YES, "m": Answer.MAYBE, "n": Answer.NO}
ANSWER_ICONS = {Answer.YES: "✅", Answer.MAYBE: "❔", Answer.NO: "❌"}
ANSWER_NAMES = {Answer.YES: N_("Sì"), Answer.MAYBE: N_("Se necessario"), Answer.NO: N_("No")}
TABLE_NAMES = {
    PollTable.POLITICAL: N_("tavolo politico"),
    PollTable.TECHNICAL: N_("tavolo tecnico"),
    PollTable.BOTH: N_("tavolo politico e tecnico insieme"),
}
TABLE_CODES = {"p": PollTable.POLITICAL, "t": PollTable.TECHNICAL, "b": PollTable.BOTH}

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# --- rendering ---------------------------------------------------------------------------


def when(dt: datetime, tz: ZoneInfo, tr: Translator, *, year: bool = False) -> str:
    return format_datetime(dt, tz, tr.language, year=year)


def _slot_rows(view: PollView, tr: Translator) -> list[list[InlineKeyboardButton]]:
    rows = []
    for sv in view.slots:
        sid = sv.slot.id
        rows.append(
            [
                InlineKeyboardButton(
                    when(sv.slot.starts_at, view.tz, tr),
                    callback_data=cb.encode(VOTE_AREA, "i", sid),
                ),
                InlineKeyboardButton("✅", callback_data=cb.encode(VOTE_AREA, "y", sid)),
                InlineKeyboardButton("❔", callback_data=cb.encode(VOTE_AREA, "m", sid)),
                InlineKeyboardButton("❌", callback_data=cb.encode(VOTE_AREA, "n", sid)),
            ]
        )
    return rows


def render_poll(view: PollView, tr: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
    """The poll message in the group: dates with tallies and Comuni covered, and its buttons."""
    _ = tr.gettext
    poll = view.poll
    total_comuni = len(view.comuni)
    lines = [f"🗓 <b>{html.escape(poll.title)}</b>"]
    lines.append(_("Per il {table}.").format(table=_(TABLE_NAMES[poll.table])))
    if poll.place:
        lines.append(_("📍 {place}").format(place=html.escape(poll.place)))
    if poll.agenda:
        agenda = poll.agenda if len(poll.agenda) <= 600 else poll.agenda[:600] + "…"
        lines.append(_("Ordine del giorno: {agenda}").format(agenda=html.escape(agenda)))
    status = poll.status
    if status == PollStatus.OPEN:
        lines.append(
            _("Rispondi entro <b>{deadline}</b>: ✅ Sì · ❔ Se necessario · ❌ No").format(
                deadline=when(poll.deadline_at, view.tz, tr)
            )
        )
    elif status == PollStatus.CLOSED and view.chosen is not None:
        lines.append(
            _("✅ Sondaggio chiuso. Data scelta: <b>{date}</b>").format(
                date=when(view.chosen.slot.starts_at, view.tz, tr)
            )
        )
    elif status == PollStatus.NO_DATE:
        lines.append(
            _(
                "Sondaggio chiuso: nessuna data va bene a nessun Comune. Il coordinatore proporrà nuove date."
            )
        )
    elif status == PollStatus.CANCELLED:
        lines.append(_("❌ Sondaggio annullato."))
    lines.append("")
    for sv in view.slots:
        t = sv.tally
        mark = "👉 " if view.chosen is not None and view.chosen.slot.id == sv.slot.id else ""
        lines.append(f"{mark}<b>{when(sv.slot.starts_at, view.tz, tr)}</b>")
        lines.append(
            _("✅ {yes} · ❔ {maybe} · ❌ {no} — Comuni: {covered}/{total}").format(
                yes=t.yes, maybe=t.maybe, no=t.no, covered=len(t.covered), total=total_comuni
            )
        )
    lines.append("")
    lines.append(
        tr.ngettext(
            "Ha risposto {n} persona su {total}.",
            "Hanno risposto {n} persone su {total}.",
            len(view.answered),
        ).format(n=len(view.answered), total=len(view.voters))
    )
    text = "\n".join(lines)
    if status != PollStatus.OPEN:
        return text, None
    pid = poll.id
    rows = _slot_rows(view, tr)
    # Two short rows that fit a phone; "Annulla sondaggio" so that nobody takes it for
    # "cancel my answer".
    rows.append(
        [
            InlineKeyboardButton(_("Chi manca?"), callback_data=cb.encode(MTG_AREA, "who", pid)),
            InlineKeyboardButton(_("Aggiungi data"), callback_data=cb.encode(MTG_AREA, "add", pid)),
            InlineKeyboardButton(_("Proroga"), callback_data=cb.encode(MTG_AREA, "ext", pid)),
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                _("Chiudi ora"), callback_data=cb.encode(MTG_AREA, "ask", pid, "close")
            ),
            InlineKeyboardButton(
                _("Annulla sondaggio"), callback_data=cb.encode(MTG_AREA, "ask", pid, "cancel")
            ),
        ]
    )
    return text, InlineKeyboardMarkup(rows)


def render_reminder(view: PollView, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    text = _(
        "⏰ Non hai ancora risposto al sondaggio «{title}» ({table}).\n"
        "Si chiude <b>{deadline}</b>. Tocca ✅ Sì, ❔ Se necessario o ❌ No per ogni data: "
        "vale come nel gruppo."
    ).format(
        title=html.escape(view.poll.title),
        table=_(TABLE_NAMES[view.poll.table]),
        deadline=when(view.poll.deadline_at, view.tz, tr),
    )
    return text, InlineKeyboardMarkup(_slot_rows(view, tr))


def render_missing(view: PollView, tr: Translator) -> str:
    _ = tr.gettext
    if not view.missing_by_comune and not view.missing_without_comune:
        return _("Hanno risposto tutti. 🎉")
    lines = [_("Non hanno ancora risposto:")]
    for comune, represented, names in view.missing_by_comune:
        note = _(" (Comune già rappresentato)") if represented else ""
        lines.append(f"• {html.escape(comune)}{note}: {html.escape(', '.join(names))}")
    if view.missing_without_comune:
        lines.append(
            _("• Unione: {names}").format(names=html.escape(", ".join(view.missing_without_comune)))
        )
    return "\n".join(lines)


def render_announcement(view: PollView, meeting: Meeting, tr: Translator) -> str:
    _ = tr.gettext
    t = view.chosen.tally if view.chosen else None
    lines = [
        _("📣 <b>{title}</b>: si terrà <b>{date}</b>.").format(
            title=html.escape(meeting.title), date=when(meeting.starts_at, view.tz, tr, year=True)
        )
    ]
    if t is not None:
        lines.append(
            tr.ngettext(
                "Ci sarà {covered} Comune su {total} (✅ {yes} · ❔ {maybe}).",
                "Ci saranno {covered} Comuni su {total} (✅ {yes} · ❔ {maybe}).",
                len(t.covered),
            ).format(covered=len(t.covered), total=len(view.comuni), yes=t.yes, maybe=t.maybe)
        )
    if meeting.place:
        lines.append(_("📍 {place}").format(place=html.escape(meeting.place)))
    if meeting.agenda:
        lines.append(
            _("Ordine del giorno: {agenda}").format(agenda=html.escape(meeting.agenda[:1500]))
        )
    lines.append(_("Qui sotto l'invito da aggiungere al calendario."))
    return "\n".join(lines)


def meeting_ics(meeting: Meeting, union: Union, tr: Translator, now: datetime) -> bytes:
    _ = tr.gettext
    description = meeting.agenda or ""
    url = meeting.place if meeting.place and looks_like_url(meeting.place) else None
    event = CalendarEvent(
        uid=meeting.ics_uid,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        timezone=union.timezone,
        description=(
            _("Team energia di {union}").format(union=union.name) + "\n" + description
        ).strip(),
        location=meeting.place,
        url=url,
        cancelled=meeting.cancelled_at is not None,
    )
    return build_ics(event, stamp=now)


def ics_name(meeting: Meeting, tz: ZoneInfo) -> str:
    return f"riunione-{meeting.starts_at.astimezone(tz):%Y-%m-%d}.ics"


# --- live tally edits (bot.message_refresh) -----------------------------------------------


async def _render_poll_message(
    session: AsyncSession, services: Services, message: PollMessage
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """What a poll message shows now, rendered from the database at edit time."""
    view = await load_poll_view(session, message.poll_id)
    if view is None:
        return None
    return render_poll(view, tr_for(services))


POLL_MESSAGES = message_refresh.MessageKind(
    name="poll", model=PollMessage, render=_render_poll_message
)


async def on_poll_message_sent(session: AsyncSession, row: OutboxMessage) -> None:
    """Sent listener for `poll:<poll id>:<chat id>`: remember where the poll landed."""
    parts = row.dedup_key.split(":")
    if len(parts) < 3 or not parts[1].isdigit() or row.message_id is None:
        return
    poll_id = int(parts[1])
    await repo.add_poll_message(
        session, poll_id=poll_id, chat_id=row.chat_id, message_id=row.message_id
    )
    if await repo.votes_of(session, poll_id):  # votes arrived while it was being sent
        await repo.mark_dirty(session, poll_id=poll_id, now=row.sent_at or row.created_at)


async def enqueue_poll_posts(
    session: AsyncSession, services: Services, *, poll: MeetingPoll, now: datetime
) -> list[str]:
    """Queue the poll message for its table's group(s). Returns the group titles."""
    view = await load_poll_view(session, poll.id)
    if view is None:
        return []
    text, markup = render_poll(view, tr_for(services))
    chats = await table_chats(session, union_id=poll.union_id, table=poll.table)
    for link in chats:
        await outbox_repo.enqueue(
            session,
            dedup_key=f"poll:{poll.id}:{link.chat_id}",
            chat_id=link.chat_id,
            method="sendMessage",
            payload={
                "text": text,
                "parse_mode": "HTML",
                "reply_markup": markup.to_dict() if markup else None,
            },
            union_id=poll.union_id,
            now=now,
        )
    return [link.title for link in chats]


# --- voting ------------------------------------------------------------------------------


async def on_vote(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    data = cb.decode(query.data)
    slot_id = data.int_arg(0) if data else None
    code = data.action if data else ""
    now = services.clock.now()
    user = query.from_user
    if slot_id is None or (code not in ANSWER_CODES and code != "i"):
        await query.answer()
        return
    if code == "i":
        await _slot_details(update, context, slot_id)
        return
    answer = ANSWER_CODES[code]
    chat = update.effective_chat
    toast: str
    dirty: list[int] = []  # the chats whose poll message now owes an edit
    async with update_transaction(context, update) as session:
        # One query: slot, poll, Union, the presser's active membership and the poll's messages.
        vote, chosen_language = await repo.vote_context(
            session, slot_id=slot_id, telegram_user_id=user.id
        )
        tr = tr_for(services, language=chosen_language, user=user)
        _ = tr.gettext
        adopted = False
        if vote is None or chat is None or chat.type == Chat.PRIVATE:
            shown_here = vote is not None
        else:
            shown_here, adopted = await _poll_shown_in(session, vote, chat.id, query)
        if vote is None or not shown_here:
            toast = _("Questo sondaggio non esiste più.")
        elif vote.status != PollStatus.OPEN:
            toast = _("Il sondaggio è chiuso: la risposta non è stata registrata.")
        elif now >= vote.deadline_at:  # services.meetings.deadline_passed
            toast = _("Il tempo per rispondere è scaduto: la risposta non è stata registrata.")
        elif vote.member_id is None or vote.member_role is None:
            toast = _(
                "Questo sondaggio è per i membri del Team energia di questa Unione: la tua risposta non è stata registrata."
            )
        elif not rules.sits_at(
            vote.table, role=vote.member_role, is_coordinator=vote.member_is_coordinator
        ):
            toast = _(
                "Questo sondaggio è per il {table}: la tua risposta non è stata registrata."
            ).format(table=_(TABLE_NAMES[vote.table]))
        else:
            if adopted:  # a message this transaction added: mark it with the others
                await repo.cast_vote(
                    session, slot_id=vote.slot_id, member_id=vote.member_id, answer=answer, now=now
                )
                await repo.mark_dirty(session, poll_id=vote.poll_id, now=now)
                dirty = [m.chat_id for m in vote.messages]
                if chat is not None:
                    dirty.append(chat.id)
            else:
                await repo.record_vote(
                    session, context=vote, member_id=vote.member_id, answer=answer, now=now
                )
                dirty = [m.chat_id for m in vote.messages]
            toast = _("Registrato: {answer} per {date}").format(
                answer=_(ANSWER_NAMES[answer]),
                date=when(vote.starts_at, ZoneInfo(vote.timezone), tr),
            )
    # The vote is committed: confirm it, then let the coalesced edit catch up (even if the
    # toast fails, e.g. "query is too old": the tally must follow the stored vote).
    try:
        await query.answer(toast)
    finally:
        message_refresh.request(services, dirty)


async def _poll_shown_in(
    session: AsyncSession, vote: repo.VoteContext, chat_id: int, query: CallbackQuery
) -> tuple[bool, bool]:
    """(counts, adopted): a group press counts only on this poll's message in one of its groups.

    A poll message whose send ended `uncertain` (delivered, but its id unknown) is adopted
    here (`pressed_where`): its id is recorded and the tally edits reach it from now on.
    """
    where = pressed_where(query, chat_id, ((m.chat_id, m.message_id) for m in vote.messages))
    if where is Pressed.SHOWN:
        return True, False
    if where is Pressed.ELSEWHERE or not any(
        link.chat_id == chat_id
        for link in await table_chats(session, union_id=vote.union_id, table=vote.table)
    ):
        return False, False
    assert query.message is not None  # CARRIED: the pressed message is the bot's
    message_id = query.message.message_id
    await repo.add_poll_message(
        session, poll_id=vote.poll_id, chat_id=chat_id, message_id=message_id
    )
    logger.info("Poll %s: adopted message %s in chat %s", vote.poll_id, message_id, chat_id)
    return True, True


async def _slot_details(update: Update, context: BotContext, slot_id: int) -> None:
    """The date's label button: who answered what, for members of that Union."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    services = context.services
    async with services.db.transaction() as session:
        person = await core_repo.person_by_telegram_id(session, query.from_user.id)
        tr = tr_for(services, person=person, user=query.from_user)
        _ = tr.gettext
        slot = await session.get(Slot, slot_id)
        poll = await session.get(MeetingPoll, slot.poll_id) if slot else None
        refusal = await button_refusal(
            session, update, tr, union_id=poll.union_id if poll else None
        )
        member = (
            await core_repo.member_of(
                session, union_id=poll.union_id, telegram_user_id=query.from_user.id
            )
            if poll and refusal is None
            else None
        )
        view = await load_poll_view(session, poll.id) if poll and member else None
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return
    if view is None:
        await query.answer(_("Solo i membri del Team energia vedono le risposte."))
        return
    sv = next((s for s in view.slots if s.slot.id == slot_id), None)
    if sv is None:
        await query.answer()
        return
    parts = [when(sv.slot.starts_at, view.tz, tr)]
    mine = view.answers.get((slot_id, member.id)) if member else None
    if mine is not None:
        parts.append(_("La tua risposta: {answer}").format(answer=_(ANSWER_NAMES[mine])))
    for answer in Answer:
        if sv.names[answer]:
            parts.append(f"{ANSWER_ICONS[answer]} {', '.join(sv.names[answer])}")
    text = "\n".join(parts)
    await query.answer(text[:197] + "…" if len(text) > 200 else text, show_alert=True)


# --- the coordinator's row ----------------------------------------------------------------


# The confirmations of the coordinator's row ("Sì, chiudi", a new deadline) are sent in private.
CONFIRMATIONS = ("do", "extd")


async def _manager_check(
    session: AsyncSession, services: Services, update: Update, poll_id: int | None, action: str
) -> tuple[Translator, PollView | None, Member | None, str | None]:
    """(translator, view, member, refusal): the presser must manage this poll."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    person = await core_repo.person_by_telegram_id(session, query.from_user.id)
    tr = tr_for(services, person=person, user=query.from_user)
    _ = tr.gettext
    poll = await session.get(MeetingPoll, poll_id) if poll_id is not None else None
    if poll is None:
        return tr, None, None, _("Questo sondaggio non esiste più.")
    refusal = await button_refusal(
        session,
        update,
        tr,
        union_id=poll.union_id,
        private_only=_("Questo pulsante funziona solo in chat privata con me.")
        if action in CONFIRMATIONS
        else None,
    )
    if refusal is None:
        refusal = await _not_on_the_poll(session, update, tr, poll.id, action)
    if refusal is not None:
        return tr, None, None, refusal
    member = await core_repo.member_of(
        session, union_id=poll.union_id, telegram_user_id=query.from_user.id
    )
    if member is None or not may_manage(
        poll, member_id=member.id, is_coordinator=member.is_coordinator
    ):
        return (
            tr,
            None,
            member,
            _("Solo il coordinatore (o chi ha proposto il sondaggio) può farlo."),
        )
    view = await load_poll_view(session, poll.id)
    return tr, view, member, None


async def _not_on_the_poll(
    session: AsyncSession, update: Update, tr: Translator, poll_id: int, action: str
) -> str | None:
    """In a group the coordinator's row counts only on a message of the poll (`pressed_where`,
    as for votes and decisions): a forged «Chiudi ora» on another message, or in the other
    table's group, is refused. The vote adopts a message whose send ended uncertain; this
    only checks."""
    chat, query = update.effective_chat, update.callback_query
    if chat is None or query is None or chat.type == Chat.PRIVATE:
        return None
    shown = [(m.chat_id, m.message_id) for m in await repo.poll_messages(session, poll_id)]
    if pressed_where(query, chat.id, shown) is not Pressed.ELSEWHERE:
        return None
    logger.info(
        "Button mtg:%s on poll %s refused in group %s: not on a message of the poll",
        action,
        poll_id,
        chat.id,
    )
    return tr.gettext("Qui questo pulsante non funziona: usa quelli sotto il sondaggio.")


async def _tell_privately(
    bot: Bot, user_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> bool:
    try:
        await bot.send_message(
            chat_id=user_id, text=text, reply_markup=markup, parse_mode=ParseMode.HTML
        )
    except Forbidden:
        return False
    return True


async def on_meeting_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    if data is None:
        await query.answer()
        return
    if data.action == "ics":
        await _send_ics(update, context, data.int_arg(0))
        return
    services = context.services
    poll_id = data.int_arg(0)
    if data.action in ("do", "extd"):
        await _apply_manager_action(update, context, data.action, poll_id, data.str_arg(1))
        return
    async with services.db.transaction() as session:
        tr, view, _member, refusal = await _manager_check(
            session, services, update, poll_id, data.action
        )
    _ = tr.gettext
    if refusal is not None or view is None:
        await query.answer(refusal or "", show_alert=True)
        return
    user_id = query.from_user.id
    if data.action == "who":
        text = render_missing(view, tr)
        plain = html.unescape(text)
        if len(plain) <= 200:
            await query.answer(plain, show_alert=True)
        elif await _tell_privately(context.bot, user_id, text):
            await query.answer(_("Ti ho mandato in privato chi non ha ancora risposto."))
        else:
            await query.answer(plain[:190] + "…", show_alert=True)
        return
    if not view.is_open:
        await query.answer(_("Il sondaggio è già chiuso."), show_alert=True)
        return
    title = html.escape(view.poll.title)
    markup: InlineKeyboardMarkup | None
    if data.action == "ask" and data.str_arg(1) in ("close", "cancel"):
        op = data.str_arg(1)
        best = view.best()
        if op == "close":
            text = _("Chiudere ora il sondaggio «{title}»?").format(title=title) + "\n"
            text += (
                _("Verrebbe scelta: <b>{date}</b>.").format(
                    date=when(best.slot.starts_at, view.tz, tr)
                )
                if best
                else _("Per ora nessuna data va bene a nessun Comune.")
            )
            label = _("Sì, chiudi")
        else:
            text = _("Annullare il sondaggio «{title}»? Le risposte non conteranno più.").format(
                title=title
            )
            label = _("Sì, annulla il sondaggio")
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        label, callback_data=cb.encode(MTG_AREA, "do", view.poll.id, op)
                    )
                ]
            ]
        )
    elif data.action == "ext":
        latest = (
            rules.latest_deadline(view.slots[0].slot.starts_at)
            if view.slots
            else view.poll.deadline_at
        )
        buttons = []
        for days in (1, 2, 3, 7):
            new_deadline = rules.add_local_days(view.poll.deadline_at, days, view.tz)
            if new_deadline <= latest:
                buttons.append(
                    InlineKeyboardButton(
                        _("+{days} g ({date})").format(
                            days=days, date=when(new_deadline, view.tz, tr)
                        ),
                        callback_data=cb.encode(MTG_AREA, "extd", view.poll.id, days),
                    )
                )
        if not buttons:
            await query.answer(
                _(
                    "Non si può prorogare: la scadenza deve restare almeno 24 ore prima della prima data."
                ),
                show_alert=True,
            )
            return
        text = _(
            "Di quanto prorogare la scadenza del sondaggio «{title}» (ora {deadline})?"
        ).format(title=title, deadline=when(view.poll.deadline_at, view.tz, tr))
        markup = InlineKeyboardMarkup([[b] for b in buttons])
    elif data.action == "add":
        if len(view.slots) >= rules.MAX_SLOTS:
            await query.answer(_("Il sondaggio ha già 8 date: è il massimo."), show_alert=True)
            return
        text = _(
            "Scrivimi la nuova data per «{title}», per esempio «giovedì 17 dicembre ore 17». "
            "Deve essere almeno 24 ore dopo la scadenza ({deadline})."
        ).format(title=title, deadline=when(view.poll.deadline_at, view.tz, tr))
        markup = None
        async with update_transaction(context, update) as session:
            await core_repo.set_conversation(
                session,
                telegram_user_id=user_id,
                chat_id=user_id,
                flow=ADD_SLOT_FLOW,
                step="date",
                data={"poll_id": view.poll.id},
                now=services.clock.now(),
                ttl=timedelta(days=1),
            )
    else:
        await query.answer()
        return
    if await _tell_privately(context.bot, user_id, text, markup):
        await query.answer(_("Ti ho scritto in privato."))
    else:
        await query.answer(
            _("Non riesco a scriverti in privato: apri la chat con me e premi Avvia, poi riprova."),
            show_alert=True,
        )


async def _apply_manager_action(
    update: Update, context: BotContext, action: str, poll_id: int | None, arg: str | None
) -> None:
    query = update.callback_query
    assert query is not None
    services = context.services
    now = services.clock.now()
    message = ""
    closed: int | None = None
    dirty: list[int] = []
    async with update_transaction(context, update) as session:
        tr, view, member, refusal = await _manager_check(session, services, update, poll_id, action)
        _ = tr.gettext
        if refusal is None and view is not None and not view.is_open:
            refusal = _("Il sondaggio è già chiuso.")
        if refusal is None and view is not None and member is not None:
            poll = view.poll
            if action == "do" and arg == "cancel":
                await repo.transition(session, poll_id=poll.id, to=PollStatus.CANCELLED, now=now)
                dirty = await repo.mark_dirty(session, poll_id=poll.id, now=now)
                message = _("Sondaggio annullato.")
            elif action == "do" and arg == "close":
                outcome = await close_poll(
                    session, services, poll_id=poll.id, now=now, closed_by=member.id
                )
                closed = poll.id
                message = (
                    _("Sondaggio chiuso: data scelta {date}.").format(
                        date=when(outcome, view.tz, tr)
                    )
                    if isinstance(outcome, datetime)
                    else _("Sondaggio chiuso senza data. Proponi nuove date con /riunione.")
                )
            elif action == "extd" and arg in EXTEND_DAYS_OFFERED:
                new_deadline = rules.add_local_days(poll.deadline_at, int(arg), view.tz)
                first = view.slots[0].slot.starts_at if view.slots else new_deadline
                if rules.deadline_problem(now=now, deadline=new_deadline, first_slot=first):
                    refusal = _(
                        "Non si può: la scadenza deve restare almeno 24 ore prima della prima data."
                    )
                else:
                    poll.deadline_at = new_deadline
                    dirty = await repo.mark_dirty(session, poll_id=poll.id, now=now)
                    message = _("Nuova scadenza: {date}.").format(
                        date=when(new_deadline, view.tz, tr)
                    )
            else:
                refusal = _("Questo pulsante non è più valido.")
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return
    await query.answer(message)
    # The toast already said it; the menu message shows it too when it can still be edited.
    await telegram_edit.edit_pressed(context.bot, query, html.escape(message))
    if closed is not None:
        await after_closing(services, context.bot)
    if dirty:
        await message_refresh.request_owed(services)


async def _send_ics(update: Update, context: BotContext, meeting_id: int | None) -> None:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    services = context.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        person = await core_repo.person_by_telegram_id(session, query.from_user.id)
        tr = tr_for(services, person=person, user=query.from_user)
        meeting = await session.get(Meeting, meeting_id) if meeting_id is not None else None
        refusal = await button_refusal(
            session, update, tr, union_id=meeting.union_id if meeting else None
        )
        member = (
            await core_repo.member_of(
                session, union_id=meeting.union_id, telegram_user_id=query.from_user.id
            )
            if meeting and refusal is None
            else None
        )
        union = await session.get(Union, meeting.union_id) if meeting else None
    _ = tr.gettext
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return
    if meeting is None or member is None or union is None:
        await query.answer(
            _("Solo i membri del Team energia possono scaricare l'invito."), show_alert=True
        )
        return
    data = meeting_ics(meeting, union, tr, now)
    tz = ZoneInfo(union.timezone)
    try:
        await context.bot.send_document(
            chat_id=query.from_user.id,
            document=InputFile(data, filename=ics_name(meeting, tz)),
            caption=_("Invito per il calendario: {title}, {date}").format(
                title=html.escape(meeting.title), date=when(meeting.starts_at, tz, tr, year=True)
            ),
        )
    except Forbidden:
        await query.answer(
            _("Non riesco a scriverti in privato: apri la chat con me e premi Avvia, poi riprova."),
            show_alert=True,
        )
        return
    in_private = query.message is not None and query.message.chat.id == query.from_user.id
    await query.answer(
        _("Ecco l'invito.") if in_private else _("Ti ho mandato l'invito in privato.")
    )


# --- closing -----------------------------------------------------------------------------


async def close_poll(
    session: AsyncSession,
    services: Services,
    *,
    poll_id: int,
    now: datetime,
    closed_by: int | None = None,
) -> datetime | bool | None:
    """Close an open poll exactly once (status transition) and queue what follows.

    Returns the chosen start, None when no slot covers any Comune, False when it was not open.
    `closed_by` (a member id) already reads the outcome where they pressed: no second message.
    """
    view = await load_poll_view(session, poll_id)
    if view is None or not view.is_open:
        return False
    poll = view.poll
    # Reminders still waiting in the outbox expire at the deadline by themselves; a poll the
    # coordinator closes before its deadline withdraws them here (they ask for answers the poll
    # no longer takes).
    if dropped := await outbox_repo.drop_pending(session, f"pollrem:{poll.id}:"):
        logger.info("Poll %s: %d reminders not sent, the poll closed first", poll.id, dropped)
    best = view.best()
    tr = tr_for(services)
    _ = tr.gettext
    chats = await table_chats(session, union_id=poll.union_id, table=poll.table)
    if best is None:
        if not await repo.transition(session, poll_id=poll.id, to=PollStatus.NO_DATE, now=now):
            return False
        await repo.mark_dirty(session, poll_id=poll.id, now=now)
        for coordinator, person in await core_repo.coordinators(session, poll.union_id):
            if person.telegram_user_id is None or coordinator.id == closed_by:
                continue
            ptr = tr_for(
                services, language=person.language, telegram_language=person.telegram_language
            )
            await outbox_repo.enqueue(
                session,
                dedup_key=f"pollnodate:{poll.id}:{person.id}",
                chat_id=person.telegram_user_id,
                method="sendMessage",
                payload={
                    "text": ptr.gettext(
                        "Il sondaggio «{title}» si è chiuso ma nessuna data va bene a nessun Comune. "
                        "Proponi nuove date con /riunione."
                    ).format(title=html.escape(poll.title)),
                    "parse_mode": "HTML",
                },
                union_id=poll.union_id,
                person_id=person.id,
                now=now,
            )
        logger.info("Poll %s closed without a date (no slot covers a Comune)", poll.id)
        return None
    if not await repo.transition(
        session, poll_id=poll.id, to=PollStatus.CLOSED, now=now, chosen_slot_id=best.slot.id
    ):
        return False
    meeting = await repo.create_meeting(
        session, poll=poll, slot=best.slot, uid_domain=ICS_DOMAIN, now=now
    )
    await repo.mark_dirty(session, poll_id=poll.id, now=now)
    view = await load_poll_view(session, poll.id)  # with the chosen slot
    assert view is not None
    text = render_announcement(view, meeting, tr)
    data = meeting_ics(meeting, view.union, tr, now)
    for link in chats:
        await outbox_repo.enqueue(
            session,
            dedup_key=f"mtgann:{meeting.id}:{link.chat_id}",
            chat_id=link.chat_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML"},
            union_id=poll.union_id,
            now=now,
        )
        await outbox_repo.enqueue(
            session,
            dedup_key=f"mtgics:{meeting.id}:{link.chat_id}",
            chat_id=link.chat_id,
            method="sendDocument",
            payload={"caption": _("Invito per il calendario (.ics)")},
            union_id=poll.union_id,
            file_name=ics_name(meeting, view.tz),
            file_data=data,
            now=now,
        )
    logger.info("Poll %s closed: meeting %s at %s", poll.id, meeting.id, meeting.starts_at)
    return meeting.starts_at


async def after_closing(services: Services, bot: Bot) -> None:
    """Send what closing queued, pin the announcements, show the closed polls."""
    await delivery.flush(services, bot)
    await pin_announcements(services, bot, services.clock.now())
    await message_refresh.refresh_now(services, bot)


async def close_due_polls(services: Services, bot: Bot, now: datetime) -> None:
    """Tick: every open poll whose deadline passed closes now (also right after a restart)."""
    async with services.db.transaction() as session:
        due = [p.id for p in await repo.open_polls(session) if deadline_passed(p, now)]
    closed = 0
    for poll_id in due:
        async with services.db.transaction() as session:
            poll = await session.get(MeetingPoll, poll_id)
            if poll is not None and not await core_repo.is_claimed(
                session,
                kind="poll_reminder",
                union_id=poll.union_id,
                period=f"{poll.id}:{_deadline_key(poll)}",
            ):
                logger.info(
                    "Poll %s: reminder skipped (the bot was down before the deadline)", poll_id
                )
            if await close_poll(session, services, poll_id=poll_id, now=now) is not False:
                closed += 1
    if closed:
        await after_closing(services, bot)
        # Reminders withdrawn by the close may leave the refused ones to report: at once.
        await report_unreachable(services, bot, now)


PIN_OWED = "meeting_pin"  # claimed before pinning: the pin is owed from then on
PIN_DONE = "meeting_pin_done"  # claimed once Telegram answered (pinned, or refused for good)
# A pin that Telegram keeps failing (5xx, timeouts) is tried again after 1, 2, 4 … 60 minutes,
# not at every tick for 3 days with a warning each time. Kept with the services, in memory: a
# restart tries again at once.
PIN_RETRY_MAX = timedelta(hours=1)
_PIN_LOCK = "meetings.pin_lock"
_PIN_BACKOFF = "meetings.pin_backoff"  # (meeting id, chat id) → (failures so far, next try)


async def pin_announcements(services: Services, bot: Bot, now: datetime) -> None:
    """Pin each sent announcement once, where the bot may pin; lack of rights is fine.

    Restart-safe: the pin is first recorded as owed, and settled only after Telegram answered;
    an owed pin not settled (the bot was killed in between, or Telegram was unreachable) is
    re-driven by the tick. Re-driven, it first asks whether the message is already the chat's
    pinned one, so a pin that went through just before the kill is not made twice.
    """
    lock = services.extras.setdefault(_PIN_LOCK, asyncio.Lock())
    async with lock:  # the tick and a coordinator's close may both get here
        await _pin_announcements(services, bot, now)


async def _pin_announcements(services: Services, bot: Bot, now: datetime) -> None:
    async with services.db.transaction() as session:
        meetings = await repo.recent_meetings(session, since=now - timedelta(days=3))
        sent: list[tuple[Meeting, int, int]] = []
        for meeting in meetings:
            for row in await outbox_repo.status_by_key_prefix(session, f"mtgann:{meeting.id}:"):
                if row.status == OutboxStatus.SENT and row.message_id is not None:
                    sent.append((meeting, row.chat_id, row.message_id))
        # Read first: most ticks every pin is settled and nothing is written.
        claimed = await core_repo.claimed_keys(
            session,
            kinds=[PIN_OWED, PIN_DONE],
            periods=[f"{m.id}:{chat}" for m, chat, _id in sent],
        )
        todo: list[tuple[Meeting, int, int, bool]] = []  # ..., re-driven
        for meeting, chat_id, message_id in sent:
            period = f"{meeting.id}:{chat_id}"
            if (PIN_DONE, meeting.union_id, period) in claimed:
                continue
            if (PIN_OWED, meeting.union_id, period) in claimed:
                todo.append((meeting, chat_id, message_id, True))
            elif await core_repo.claim(
                session, kind=PIN_OWED, union_id=meeting.union_id, period=period, now=now
            ):
                todo.append((meeting, chat_id, message_id, False))
    backoff: dict[tuple[int, int], tuple[int, datetime]] = services.extras.setdefault(
        _PIN_BACKOFF, {}
    )
    for meeting, chat_id, message_id, again in todo:
        key = (meeting.id, chat_id)
        failures, next_try = backoff.get(key, (0, now))
        if now < next_try:
            continue  # Telegram failed it moments ago: still owed, tried later
        try:
            if again and await _already_pinned(bot, chat_id, message_id):
                logger.info("Meeting %s: already pinned in %s", meeting.id, chat_id)
            else:
                await bot.pin_chat_message(
                    chat_id=chat_id, message_id=message_id, disable_notification=True
                )
        except (BadRequest, Forbidden) as exc:
            logger.info("Meeting %s: not pinned in %s (%s)", meeting.id, chat_id, exc.message)
        except TelegramError as exc:
            failures += 1
            wait = min(timedelta(minutes=2 ** (failures - 1)), PIN_RETRY_MAX)
            backoff[key] = (failures, services.clock.now() + wait)
            logger.warning(
                "Meeting %s: pin in %s failed (%s, attempt %d); next try in %d min",
                meeting.id,
                chat_id,
                exc,
                failures,
                wait.total_seconds() // 60,
                exc_info=failures == 1,
            )
            continue  # still owed
        backoff.pop(key, None)
        async with services.db.transaction() as session:
            await core_repo.claim(
                session,
                kind=PIN_DONE,
                union_id=meeting.union_id,
                period=f"{meeting.id}:{chat_id}",
                now=services.clock.now(),
            )


async def _already_pinned(bot: Bot, chat_id: int, message_id: int) -> bool:
    chat = await bot.get_chat(chat_id)
    return chat.pinned_message is not None and chat.pinned_message.message_id == message_id


# --- reminders ---------------------------------------------------------------------------


def _deadline_key(poll: MeetingPoll) -> str:
    return str(int(poll.deadline_at.timestamp()))


async def remind_poll_voters(services: Services, bot: Bot, now: datetime) -> None:
    """Tick: 24 h before the deadline, a private reminder to each table member who has not
    answered (once per deadline: a proroga earns a new one); then report the unreachable."""
    async with services.db.transaction() as session:
        polls = [
            p
            for p in await repo.open_polls(session)
            if p.deadline_at - rules.DEADLINE_MARGIN <= now < p.deadline_at
        ]
        reminded = await core_repo.claimed_keys(
            session,
            kinds=["poll_reminder"],
            periods=[f"{p.id}:{_deadline_key(p)}" for p in polls],
        )
        # Only the polls whose reminder is not claimed yet get a (writing) transaction.
        polls = [
            p
            for p in polls
            if ("poll_reminder", p.union_id, f"{p.id}:{_deadline_key(p)}") not in reminded
        ]
    queued = False
    for poll in polls:
        async with services.db.transaction() as session:
            key = _deadline_key(poll)
            if not await core_repo.claim(
                session,
                kind="poll_reminder",
                union_id=poll.union_id,
                period=f"{poll.id}:{key}",
                now=now,
            ):
                continue
            view = await load_poll_view(session, poll.id)
            if view is None:
                continue
            for tm in view.missing_members():
                if tm.telegram_user_id is None:
                    continue
                tr = tr_for(services, language=tm.language, telegram_language=tm.telegram_language)
                text, markup = render_reminder(view, tr)
                await outbox_repo.enqueue(
                    session,
                    dedup_key=f"pollrem:{poll.id}:{key}:{tm.member_id}",
                    chat_id=tm.telegram_user_id,
                    method="sendMessage",
                    payload={"text": text, "parse_mode": "HTML", "reply_markup": markup.to_dict()},
                    union_id=poll.union_id,
                    person_id=tm.person_id,
                    now=now,
                    expires_at=poll.deadline_at,
                )
                queued = True
            logger.info(
                "Poll %s: reminders queued for %d people", poll.id, len(view.missing_members())
            )
    if queued:
        await delivery.flush(services, bot)
    await report_unreachable(services, bot, now)


# A poll closed this long ago owes no report any more (its outbox rows are purged after 60 days).
REPORT_LOOKBACK = timedelta(days=30)


async def report_unreachable(services: Services, bot: Bot, now: datetime) -> None:
    """Once the reminders of a deadline are all sent or failed, tell the coordinator who could
    not be reached (never started the bot, or blocked it)."""
    async with services.db.transaction() as session:
        # Reminders go out in the last 24 hours of a poll: only those polls can owe a report,
        # and so can a poll closed since (the refusals came in, or the pending ones were
        # withdrawn, after the close): the claim below keeps it to one report either way.
        polls = [
            p
            for p in await repo.open_polls(session)
            if p.deadline_at - rules.DEADLINE_MARGIN <= now
        ] + await repo.polls_closed_since(session, since=now - REPORT_LOOKBACK)
        claimed = await core_repo.claimed_keys(
            session,
            kinds=["poll_reminder", "poll_reminder_report"],
            periods=[f"{p.id}:{_deadline_key(p)}" for p in polls],
        )
        queued = False
        for poll in polls:
            key = _deadline_key(poll)
            period = f"{poll.id}:{key}"
            if ("poll_reminder", poll.union_id, period) not in claimed:
                continue  # no reminder yet
            if ("poll_reminder_report", poll.union_id, period) in claimed:
                continue  # already reported
            rows = await outbox_repo.status_by_key_prefix(session, f"pollrem:{poll.id}:{key}:")
            if any(r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING) for r in rows):
                continue
            # Refused ones only: an uncertain reminder may well have arrived, and the generic
            # delivery report says so in its own words (it was left to it: see register()).
            failed = [r for r in rows if r.status == OutboxStatus.FAILED]
            if not await core_repo.claim(
                session,
                kind="poll_reminder_report",
                union_id=poll.union_id,
                period=f"{poll.id}:{key}",
                now=now,
            ):
                continue
            if not failed:
                continue
            named: list[Person | None] = []
            for row in failed:
                named.append(await session.get(Person, row.person_id) if row.person_id else None)
                row.reported_at = now
            for _member, coordinator in await core_repo.coordinators(session, poll.union_id):
                if coordinator.telegram_user_id is None:
                    continue
                tr = tr_for(
                    services,
                    language=coordinator.language,
                    telegram_language=coordinator.telegram_language,
                )
                names = [person_name(shown_name(person), tr) for person in named]
                text = tr.ngettext(
                    "Non sono riuscito a mandare il promemoria del sondaggio «{title}» a: {names}.\n"
                    "Forse non ha mai avviato la chat con me o mi ha bloccato: avvisalo tu.",
                    "Non sono riuscito a mandare il promemoria del sondaggio «{title}» a: {names}.\n"
                    "Forse non hanno mai avviato la chat con me o mi hanno bloccato: avvisali tu.",
                    len(names),
                ).format(title=html.escape(poll.title), names=html.escape(", ".join(sorted(names))))
                await outbox_repo.enqueue(
                    session,
                    dedup_key=f"pollremrep:{poll.id}:{key}:{coordinator.id}",
                    chat_id=coordinator.telegram_user_id,
                    method="sendMessage",
                    payload={"text": text, "parse_mode": "HTML"},
                    union_id=poll.union_id,
                    person_id=coordinator.id,
                    now=now,
                    names=[person.id for person in named if person is not None],
                )
                queued = True
            logger.info("Poll %s: %d reminders could not be delivered", poll.id, len(failed))
    if queued:
        await delivery.flush(services, bot)


MEETING_SKIP_LOOKBACK = timedelta(days=62)


async def remind_meetings(services: Services, bot: Bot, now: datetime) -> None:
    """Tick: the day before and one hour before, in the table's group(s), if still ahead."""
    queued = False
    reminder_kinds = ("meeting_remind_day", "meeting_remind_hour")
    async with services.db.transaction() as session:
        # Started while the bot was down (up to a long downtime back) with a reminder not
        # decided yet: each such reminder is skipped, with a log line, once.
        started = await repo.meetings_missing_claims(
            session, after=now - MEETING_SKIP_LOOKBACK, until=now, kinds=reminder_kinds
        )
        upcoming = await repo.meetings_starting_between(
            session, after=now, until=now + timedelta(hours=24)
        )
        # Read first, claim only what is missing: most ticks every reminder is already claimed.
        claimed = await core_repo.claimed_keys(
            session, kinds=reminder_kinds, periods=[str(m.id) for m in (*started, *upcoming)]
        )

        async def claim(kind: str, meeting: Meeting) -> bool:
            if (kind, meeting.union_id, str(meeting.id)) in claimed:
                return False
            return await core_repo.claim(
                session, kind=kind, union_id=meeting.union_id, period=str(meeting.id), now=now
            )

        for meeting in started:
            for kind in reminder_kinds:
                if await claim(kind, meeting):
                    logger.info(
                        "Meeting %s: %s skipped (the meeting already started)", meeting.id, kind
                    )
        for meeting in upcoming:
            if all((k, meeting.union_id, str(meeting.id)) in claimed for k in reminder_kinds):
                continue
            settings = await repo.settings_of(session, meeting.union_id)
            union = await session.get(Union, meeting.union_id)
            if union is None:
                continue
            tz = ZoneInfo(union.timezone)
            hour_due = now >= meeting.starts_at - timedelta(hours=1)
            kinds: list[str] = []
            if settings.remind_day_before and await claim("meeting_remind_day", meeting):
                if hour_due:
                    logger.info(
                        "Meeting %s: day-before reminder skipped (less than an hour left)",
                        meeting.id,
                    )
                elif meeting.created_at >= meeting.starts_at - timedelta(hours=24):
                    logger.info(
                        "Meeting %s: day-before reminder skipped (announced within 24 h)",
                        meeting.id,
                    )
                else:
                    kinds.append("day")
            if (
                hour_due
                and settings.remind_hour_before
                and await claim("meeting_remind_hour", meeting)
            ):
                kinds.append("hour")
            if not kinds:
                continue
            tr = tr_for(services)
            _ = tr.gettext
            for kind in kinds:
                if (
                    kind == "day"
                    and meeting.starts_at.astimezone(tz).date() == now.astimezone(tz).date()
                ):  # caught up on the day itself (the bot was down): not "tomorrow"
                    text = _("⏰ Oggi alle {time}: {title}.").format(
                        time=f"{meeting.starts_at.astimezone(tz):%H:%M}",
                        title=html.escape(meeting.title),
                    )
                elif kind == "day":
                    text = _("⏰ Domani, {date}: {title}.").format(
                        date=when(meeting.starts_at, tz, tr), title=html.escape(meeting.title)
                    )
                else:
                    text = _("⏰ Tra un'ora, alle {time}: {title}.").format(
                        time=f"{meeting.starts_at.astimezone(tz):%H:%M}",
                        title=html.escape(meeting.title),
                    )
                if meeting.place:
                    text += "\n" + _("📍 {place}").format(place=html.escape(meeting.place))
                for link in await table_chats(session, union_id=union.id, table=meeting.table):
                    await outbox_repo.enqueue(
                        session,
                        dedup_key=f"mtgrem{kind}:{meeting.id}:{link.chat_id}",
                        chat_id=link.chat_id,
                        method="sendMessage",
                        payload={"text": text, "parse_mode": "HTML"},
                        union_id=union.id,
                        now=now,
                        expires_at=meeting.starts_at,
                    )
                    queued = True
    if queued:
        await delivery.flush(services, bot)


# --- the monthly poll --------------------------------------------------------------------


def monthly_title(tr: Translator, year: int, month: int) -> str:
    return tr.gettext("Riunione del Team energia — {month}").format(
        month=format_month(year, month, tr.language)
    )


async def open_monthly_polls(services: Services, bot: Bot, now: datetime) -> None:
    """Tick: on the set day and hour, this month's poll for every Union — exactly once
    (unique (Union, period)); caught up later in the month if the bot was down."""
    async with services.db.transaction() as session:
        unions = await repo.all_settings(session)
        due_now = []
        for union, settings in unions:
            if not settings.auto_poll_enabled:
                continue
            due = rules.monthly_poll_due(
                now=now,
                tz=ZoneInfo(union.timezone),
                day=settings.auto_poll_day,
                hour=settings.auto_poll_hour,
            )
            if due is not None:
                due_now.append((union, settings, due))
        # One query for the whole region: which Unions already had this month's poll.
        done = await core_repo.claimed_keys(
            session, kinds=["auto_poll"], periods={due[0] for _u, _s, due in due_now}
        )
    posted = False
    for union, settings, (period, year, month) in due_now:
        if ("auto_poll", union.id, period) in done:
            continue
        async with services.db.transaction() as session:
            if await _monthly_poll_exists(session, union.id, period):
                continue
            created = await _create_monthly_poll(
                session,
                services,
                union=union,
                settings=settings,
                period=period,
                year=year,
                month=month,
                now=now,
            )
            posted = posted or created
    if posted:
        await delivery.flush(services, bot)


async def _monthly_poll_exists(session: AsyncSession, union_id: int, period: str) -> bool:
    if await core_repo.is_claimed(session, kind="auto_poll", union_id=union_id, period=period):
        return True
    return await repo.has_poll_for_period(session, union_id=union_id, period=period)


async def _tell_coordinators(
    session: AsyncSession,
    services: Services,
    *,
    union_id: int,
    key: str,
    message: str,
    now: datetime,
    **fmt: str,
) -> None:
    for _member, person in await core_repo.coordinators(session, union_id):
        if person.telegram_user_id is None:
            continue
        tr = tr_for(services, language=person.language, telegram_language=person.telegram_language)
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{key}:{person.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": tr.gettext(message).format(**fmt), "parse_mode": "HTML"},
            union_id=union_id,
            person_id=person.id,
            now=now,
        )


async def _create_monthly_poll(
    session: AsyncSession,
    services: Services,
    *,
    union: Union,
    settings: MeetingSettings,
    period: str,
    year: int,
    month: int,
    now: datetime,
) -> bool:
    tz = ZoneInfo(union.timezone)
    tr = tr_for(services)
    month_name = format_month(year, month, tr.language)
    chats = await table_chats(session, union_id=union.id, table=settings.auto_poll_table)
    # Already planned this month (a meeting, set by hand or from a decided poll, or an open poll
    # proposing a date in it): nothing to add. Only dates inside the local month count, so a
    # poll opened early for next month blocks nothing; the query reads just that window.
    month_start, month_end = rules.month_span(year, month, tz)
    planned = bool(
        await repo.planned_dates_between(
            session, union_id=union.id, start=month_start, end=month_end
        )
    )
    reason = None
    if planned:
        reason = "already planned"
    elif not chats:
        reason = "no linked group"
    slots = rules.monthly_slots(
        year=year,
        month=month,
        now=now,
        tz=tz,
        weekdays=rules.parse_weekdays(settings.weekdays),
        at=time(settings.slot_hour, settings.slot_minute),
        duration=timedelta(minutes=settings.duration_minutes),
    )
    deadline = (
        rules.default_deadline(
            now=now, first_slot=slots[0].starts_at, tz=tz, days=settings.deadline_days
        )
        if slots
        else None
    )
    if reason is None and (len(slots) < rules.MIN_SLOTS or deadline is None):
        reason = "month almost over"
    if reason is not None:
        if await core_repo.claim(
            session, kind="auto_poll", union_id=union.id, period=period, now=now, note=reason
        ):
            logger.info("Union %s: monthly poll %s skipped (%s)", union.id, period, reason)
            if reason == "no linked group":
                await _tell_coordinators(
                    session,
                    services,
                    union_id=union.id,
                    key=f"autopoll-nogroup:{union.id}:{period}",
                    message=N_(
                        "Non ho potuto aprire il sondaggio della riunione di {month}: nessun gruppo "
                        "del tavolo è collegato. Collega il gruppo con /collega, poi usa /riunione."
                    ),
                    month=month_name,
                    now=now,
                )
            elif reason == "month almost over":
                await _tell_coordinators(
                    session,
                    services,
                    union_id=union.id,
                    key=f"autopoll-late:{union.id}:{period}",
                    message=N_(
                        "Il sondaggio automatico della riunione di {month} non è partito: "
                        "restano troppo pochi giorni utili. Se serve, proponi tu le date con /riunione."
                    ),
                    month=month_name,
                    now=now,
                )
        return False
    assert deadline is not None
    poll = await repo.create_poll(
        session,
        union_id=union.id,
        table=settings.auto_poll_table,
        title=monthly_title(tr, year, month),
        agenda=None,
        place=None,
        deadline_at=deadline,
        slots=[(s.starts_at, s.ends_at) for s in slots],
        created_by_member_id=None,
        now=now,
        period=period,
    )
    if poll is None:
        return False
    await core_repo.claim(
        session, kind="auto_poll", union_id=union.id, period=period, now=now, note=f"poll {poll.id}"
    )
    await enqueue_poll_posts(session, services, poll=poll, now=now)
    logger.info("Union %s: monthly poll %s opened (poll %s)", union.id, period, poll.id)
    return True


# --- /riunione: the wizard ---------------------------------------------------------------

STEP_TABLE, STEP_TITLE, STEP_PLACE, STEP_AGENDA, STEP_DATES, STEP_DEADLINE, STEP_CONFIRM = (
    "table",
    "title",
    "place",
    "agenda",
    "dates",
    "deadline",
    "confirm",
)


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _dt(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


async def riunione(update: Update, context: BotContext) -> None:
    await _start_wizard(update, context, None)


async def _riunione_for(update: Update, context: BotContext, union_id: int) -> None:
    await _start_wizard(update, context, union_id)


async def _start_wizard(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    now = services.clock.now()
    text: str
    markup: InlineKeyboardMarkup | None = None
    in_group = chat.type != Chat.PRIVATE
    async with update_transaction(context, update) as session:
        scope = await resolve_union(
            session, update, context, command="riunione", chosen_union_id=union_id
        )
        person = await core_repo.person_by_telegram_id(session, user.id)
        tr = tr_for(services, person=person, user=user)
        _ = tr.gettext
        if isinstance(scope, Refusal):
            refusal: Refusal | None = scope
        else:
            refusal = None
            allowed = tables_a_member_may_propose(
                role=scope.role, is_coordinator=scope.is_coordinator
            )
            usable = [
                t for t in allowed if await table_chats(session, union_id=scope.union.id, table=t)
            ]
            if not allowed:
                refusal = Refusal(
                    _(
                        "Le date delle riunioni le propone il coordinatore (o un Sindaco per il tavolo politico)."
                    )
                )
            elif not usable:
                refusal = Refusal(
                    _(
                        "Prima va collegato il gruppo del tavolo: il coordinatore lo fa con /collega nel gruppo."
                    )
                )
            else:
                settings = await repo.settings_of(session, scope.union.id)
                state = _new_state(scope, settings, usable, now)
                if in_group and scope.link is not None:
                    preferred = PollTable(scope.link.table_kind.value)
                    if preferred in usable and not scope.is_coordinator:
                        state["table"] = preferred.value
                step = STEP_TABLE if len(usable) > 1 and state["table"] is None else STEP_TITLE
                if state["table"] is None:
                    state["table"] = usable[0].value
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=user.id,
                    flow=WIZARD_FLOW,
                    step=step,
                    data=state,
                    now=now,
                    ttl=timedelta(days=2),
                )
                text, markup = render_wizard(step, state, tr, now)
    if refusal is not None:
        await refusal.send(update)
        return
    if in_group:
        if await _tell_privately(context.bot, user.id, text, markup):
            await reply(update, _("Ti ho scritto in privato per preparare il sondaggio."))
        else:
            await reply(
                update,
                _(
                    "Per preparare il sondaggio scrivimi in privato: apri la chat con me, premi Avvia e poi /riunione."
                ),
            )
        return
    await reply(update, text, markup, parse_mode=ParseMode.HTML)


def _new_state(
    scope: UnionScope, settings: MeetingSettings, usable: list[PollTable], now: datetime
) -> dict[str, Any]:
    tz = ZoneInfo(scope.union.timezone)
    suggestions = rules.wizard_suggestions(
        now=now,
        tz=tz,
        weekdays=rules.parse_weekdays(settings.weekdays),
        at=time(settings.slot_hour, settings.slot_minute),
        duration=timedelta(minutes=settings.duration_minutes),
    )
    return {
        "union_id": scope.union.id,
        "member_id": scope.member.id,
        "tz": scope.union.timezone,
        "tables": [t.value for t in usable],
        "table": usable[0].value if len(usable) == 1 else None,
        "title": None,
        "place": None,
        "agenda": None,
        "duration": settings.duration_minutes,
        "slot_time": f"{settings.slot_hour:02d}:{settings.slot_minute:02d}",
        "deadline_days": settings.deadline_days,
        "options": [_iso(s.starts_at) for s in suggestions],
        "chosen": [],
        "deadline": None,
        "deadline_options": [],
    }


def _default_title(state: dict[str, Any], tr: Translator) -> str:
    return tr.gettext("Riunione del Team energia")


def _wiz_button(label: str, action: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=cb.encode(WIZ_AREA, action, *args))


def render_wizard(
    step: str, state: dict[str, Any], tr: Translator, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    tz = ZoneInfo(state["tz"])
    stop = [_wiz_button(_("Annulla"), "stop")]
    if step == STEP_TABLE:
        rows = [
            [_wiz_button(_(TABLE_NAMES[PollTable(t)]).capitalize(), "tbl", code)]
            for code, t in (("p", "political"), ("t", "technical"), ("b", "both"))
            if t in state["tables"]
        ]
        return _("Nuova riunione. Per quale tavolo?"), InlineKeyboardMarkup([*rows, stop])
    if step == STEP_TITLE:
        text = _("Scrivi il titolo della riunione, oppure usa «{title}».").format(
            title=html.escape(_default_title(state, tr))
        )
        return text, InlineKeyboardMarkup([[_wiz_button(_("Usa questo titolo"), "skip")], stop])
    if step == STEP_PLACE:
        text = _("Dove? Scrivi il luogo o il link della videochiamata.")
        return text, InlineKeyboardMarkup([[_wiz_button(_("Lo dirò dopo"), "skip")], stop])
    if step == STEP_AGENDA:
        text = _("Ordine del giorno? Scrivilo in un messaggio.")
        return text, InlineKeyboardMarkup(
            [[_wiz_button(_("Nessun ordine del giorno"), "skip")], stop]
        )
    if step == STEP_DATES:
        chosen = set(state["chosen"])
        buttons = [
            _wiz_button(("✔️ " if raw in chosen else "") + when(_dt(raw), tz, tr), "tog", i)
            for i, raw in enumerate(state["options"])
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        count = len(chosen)
        rows.append(
            [
                _wiz_button(
                    tr.ngettext(
                        "Avanti ({n} data scelta)", "Avanti ({n} date scelte)", count
                    ).format(n=count),
                    "next",
                )
            ]
        )
        text = _(
            "Scegli da 2 a 8 date toccandole. Puoi anche scrivermi una data, per esempio "
            "«giovedì 10 dicembre ore 17» o «9/12 17:30»."
        )
        return text, InlineKeyboardMarkup([*rows, stop])
    if step == STEP_DEADLINE:
        options = [_dt(raw) for raw in state["deadline_options"]]
        rows = [[_wiz_button(when(d, tz, tr), "dl", i)] for i, d in enumerate(options)]
        text = _(
            "Entro quando rispondere? La scadenza deve essere almeno 24 ore prima della prima data. "
            "Puoi anche scrivermela."
        )
        return text, InlineKeyboardMarkup([*rows, stop])
    # confirm
    lines = [
        _("<b>Riepilogo</b>"),
        _("Titolo: {title}").format(title=html.escape(state["title"] or _default_title(state, tr))),
        _("Tavolo: {table}").format(table=_(TABLE_NAMES[PollTable(state["table"])])),
    ]
    if state["place"]:
        lines.append(_("Luogo: {place}").format(place=html.escape(state["place"])))
    if state["agenda"]:
        lines.append(_("Ordine del giorno: {agenda}").format(agenda=html.escape(state["agenda"])))
    lines.append(_("Date:"))
    lines += [f"• {when(_dt(raw), tz, tr, year=True)}" for raw in sorted(state["chosen"])]
    lines.append(
        _("Scadenza per rispondere: {date}").format(date=when(_dt(state["deadline"]), tz, tr))
    )
    rows = [[_wiz_button(_("Pubblica nel gruppo"), "pub")], stop]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _prepare_deadline(state: dict[str, Any], now: datetime) -> bool:
    """Fill the deadline options for the chosen dates; False when none is possible."""
    first = min(_dt(raw) for raw in state["chosen"])
    tz = ZoneInfo(state["tz"])
    options = rules.deadline_options(now=now, first_slot=first, tz=tz)
    default = rules.default_deadline(
        now=now, first_slot=first, tz=tz, days=int(state["deadline_days"])
    )
    if default is not None and default not in options:
        options = sorted([*options, default])
    state["deadline_options"] = [_iso(d) for d in options]
    return bool(options)


async def on_wizard_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    data = cb.decode(query.data)
    user = query.from_user
    now = services.clock.now()
    toast = ""
    text: str | None = None
    markup: InlineKeyboardMarkup | None = None
    published: list[str] | None = None
    async with update_transaction(context, update) as session:
        person = await core_repo.person_by_telegram_id(session, user.id)
        tr = tr_for(services, person=person, user=user)
        _ = tr.gettext
        conv = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=user.id, now=now
        )
        if data is None or conv is None or conv.flow != WIZARD_FLOW:
            toast = _("Questa preparazione è scaduta: ricomincia con /riunione.")
        else:
            state = copy.deepcopy(conv.data)
            step = conv.step
            action = data.action
            if action == "stop":
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=user.id
                )
                text, toast = _("Va bene, nessun sondaggio creato."), _("Annullato.")
            elif (
                action == "tbl"
                and step == STEP_TABLE
                and TABLE_CODES.get(data.str_arg(0) or "") is not None
            ):
                table = TABLE_CODES[data.str_arg(0) or ""]
                if table.value in state["tables"]:
                    state["table"], step = table.value, STEP_TITLE
            elif action == "skip" and step in (STEP_TITLE, STEP_PLACE, STEP_AGENDA):
                step = {STEP_TITLE: STEP_PLACE, STEP_PLACE: STEP_AGENDA, STEP_AGENDA: STEP_DATES}[
                    step
                ]
            elif action == "tog" and step == STEP_DATES:
                index = data.int_arg(0)
                if index is not None and index < len(state["options"]):
                    raw = state["options"][index]
                    if raw in state["chosen"]:
                        state["chosen"].remove(raw)
                    elif len(state["chosen"]) >= rules.MAX_SLOTS:
                        toast = _("Al massimo 8 date.")
                    else:
                        state["chosen"].append(raw)
            elif action == "next" and step == STEP_DATES:
                if len(state["chosen"]) < rules.MIN_SLOTS:
                    toast = _("Scegli almeno 2 date.")
                elif min(_dt(r) for r in state["chosen"]) < now + rules.DEADLINE_MARGIN + timedelta(
                    hours=1
                ):
                    toast = _(
                        "La prima data è troppo vicina: servono almeno 24 ore per rispondere."
                    )
                elif _prepare_deadline(state, now):
                    step = STEP_DEADLINE
                else:
                    toast = _(
                        "La prima data è troppo vicina: servono almeno 24 ore per rispondere."
                    )
            elif action == "dl" and step == STEP_DEADLINE:
                index = data.int_arg(0)
                if index is not None and index < len(state["deadline_options"]):
                    state["deadline"] = state["deadline_options"][index]
                    step = STEP_CONFIRM
            elif action == "pub" and step == STEP_CONFIRM:
                outcome = await _publish(
                    session, services, user_id=user.id, state=state, now=now, tr=tr
                )
                if isinstance(outcome, str):
                    toast = outcome
                else:
                    published = outcome
                    await core_repo.clear_conversation(
                        session, telegram_user_id=user.id, chat_id=user.id
                    )
                    text = _("Sondaggio pubblicato in: {groups}.").format(
                        groups=html.escape(", ".join(published))
                    )
                    toast = _("Pubblicato.")
            else:
                toast = _("Questo pulsante non è più valido.")
            if text is None and conv.flow == WIZARD_FLOW and published is None and action != "stop":
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=user.id,
                    flow=WIZARD_FLOW,
                    step=step,
                    data=state,
                    now=now,
                    ttl=timedelta(days=2),
                )
                text, markup = render_wizard(step, state, tr, now)
    await query.answer(toast or None)
    if text is not None:
        await telegram_edit.edit_or_send(update, context.bot, text, markup)
    if published is not None:
        delivery.flush_soon(services, context.bot)


async def _publish(
    session: AsyncSession,
    services: Services,
    *,
    user_id: int,
    state: dict[str, Any],
    now: datetime,
    tr: Translator,
) -> list[str] | str:
    """Create the poll and queue it for the group(s). A str is why not."""
    _ = tr.gettext
    union_id = int(state["union_id"])
    member = await core_repo.member_of(session, union_id=union_id, telegram_user_id=user_id)
    table = PollTable(state["table"])
    if member is None or table not in tables_a_member_may_propose(
        role=member.role, is_coordinator=member.is_coordinator
    ):
        return _("Non puoi più proporre riunioni per questo tavolo.")
    starts = sorted(_dt(r) for r in state["chosen"])
    deadline = _dt(state["deadline"])
    if not rules.MIN_SLOTS <= len(starts) <= rules.MAX_SLOTS:
        return _("Scegli da 2 a 8 date.")
    if rules.deadline_problem(now=now, deadline=deadline, first_slot=starts[0]):
        return _(
            "La scadenza non va più bene: deve essere nel futuro e almeno 24 ore prima della prima data."
        )
    if not await table_chats(session, union_id=union_id, table=table):
        return _(
            "Prima va collegato il gruppo del tavolo: il coordinatore lo fa con /collega nel gruppo."
        )
    duration = timedelta(minutes=int(state["duration"]))
    poll = await repo.create_poll(
        session,
        union_id=union_id,
        table=table,
        title=state["title"] or _default_title(state, tr_for(services)),
        agenda=state["agenda"],
        place=state["place"],
        deadline_at=deadline,
        slots=[(s, s + duration) for s in starts],
        created_by_member_id=member.id,
        now=now,
    )
    assert poll is not None
    groups = await enqueue_poll_posts(session, services, poll=poll, now=now)
    logger.info("Poll %s created by member %s with %d slots", poll.id, member.id, len(starts))
    return groups


def problem_text(problem: ParseProblem, tr: Translator) -> str:
    _ = tr.gettext
    day = problem.day
    day_text = ""
    if day is not None:
        day_text = format_datetime(
            datetime.combine(day, time(12)).replace(tzinfo=ZoneInfo("UTC")),
            ZoneInfo("UTC"),
            tr.language,
            year=True,
        ).split(",")[0]
    messages = {
        "empty": _("Scrivimi una data, per esempio «giovedì 10 dicembre ore 17»."),
        "no_date": _("Non trovo il giorno: scrivi per esempio «9/12 17:00» o «martedì alle 17»."),
        "no_time": _("Manca l'ora: scrivi per esempio «9/12 17:00»."),
        "bad_time": _("L'ora non è valida: usa per esempio 17:30."),
        "bad_date": _("Questa data non esiste: controlla giorno e mese."),
        "past": _("{day} è già passato: scegli una data futura.").format(day=day_text.capitalize()),
        "dst_gap": _(
            "Quell'ora non esiste quel giorno (cambio dell'ora legale): scegline un'altra."
        ),
        "too_far": _("È troppo lontano: scegli una data entro un anno."),
    }
    if problem.kind == "weekday_mismatch" and day is not None and problem.weekday is not None:
        weekdays = (
            N_("lunedì"),
            N_("martedì"),
            N_("mercoledì"),
            N_("giovedì"),
            N_("venerdì"),
            N_("sabato"),
            N_("domenica"),
        )
        return _("Il {date} è {actual}, non {written}: quale intendi?").format(
            date=day_text.split(" ", 1)[-1],
            actual=_(weekdays[day.weekday()]),
            written=_(weekdays[problem.weekday]),
        )
    if problem.kind == "unknown_words":
        words = " ".join(problem.words)
        if len(words) > 80:  # echo a short piece: the whole text may exceed a message
            words = words[:80] + "…"
        return _(
            "Non ho capito «{words}». Scrivi la data così: «giovedì 10 dicembre ore 17» o «9/12 17:30»."
        ).format(words=html.escape(words))
    return messages.get(problem.kind, messages["no_date"])


async def on_wizard_text(update: Update, context: BotContext, conv: Conversation) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    services = context.services
    now = services.clock.now()
    raw = (message.text or "").strip()
    answer: str
    markup: InlineKeyboardMarkup | None = None
    async with update_transaction(context, update) as session:
        person = await core_repo.person_by_telegram_id(session, user.id)
        tr = tr_for(services, person=person, user=user)
        _ = tr.gettext
        current = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=user.id, now=now
        )
        if current is None or current.flow != WIZARD_FLOW:
            answer = _("Questa preparazione è scaduta: ricomincia con /riunione.")
        else:
            state = copy.deepcopy(current.data)
            step = current.step
            note = ""
            tz = ZoneInfo(state["tz"])
            if not raw:
                note = _("Scrivimi un testo oppure usa i pulsanti.")
            elif step == STEP_TITLE and not rules.is_one_line(raw):
                note = _("Il titolo va scritto su una riga sola: riscrivilo senza andare a capo.")
            elif step == STEP_TITLE:
                state["title"], step = raw[:MAX_TITLE], STEP_PLACE
            elif step == STEP_PLACE and not rules.is_one_line(raw):
                note = _(
                    "Il luogo va scritto su una riga sola (un indirizzo o un link): "
                    "riscrivilo senza andare a capo. L'ordine del giorno lo chiedo subito dopo."
                )
            elif step == STEP_PLACE:
                state["place"], step = raw[:MAX_PLACE], STEP_AGENDA
            elif step == STEP_AGENDA:
                state["agenda"], step = raw[:MAX_AGENDA], STEP_DATES
            elif step == STEP_DATES:
                hh, mm = (int(x) for x in state["slot_time"].split(":"))
                parsed = parse_when(raw, now=now, tz=tz, default_time=time(hh, mm))
                if isinstance(parsed, ParseProblem):
                    note = problem_text(parsed, tr)
                else:
                    note = _add_typed_date(state, parsed, now, tr, tz)
            elif step == STEP_DEADLINE:
                first = min(_dt(r) for r in state["chosen"])
                # "entro il 6 dicembre": by the evening of that day unless a time is given.
                parsed = parse_when(raw, now=now, tz=tz, default_time=DEADLINE_DEFAULT_TIME)
                if isinstance(parsed, ParseProblem):
                    note = problem_text(parsed, tr)
                elif rules.deadline_problem(now=now, deadline=parsed.utc, first_slot=first):
                    note = _(
                        "La scadenza deve essere almeno 24 ore prima della prima data ({date})."
                    ).format(date=when(first, tz, tr))
                else:
                    state["deadline"], step = _iso(parsed.utc), STEP_CONFIRM
                    note = _("Scadenza: {date}.").format(date=when(parsed.utc, tz, tr, year=True))
            else:
                note = _("Usa i pulsanti qui sopra.")
            await core_repo.set_conversation(
                session,
                telegram_user_id=user.id,
                chat_id=user.id,
                flow=WIZARD_FLOW,
                step=step,
                data=state,
                now=now,
                ttl=timedelta(days=2),
            )
            text, markup = render_wizard(step, state, tr, now)
            answer = (note + "\n\n" if note else "") + text
    await reply(update, answer, markup, parse_mode=ParseMode.HTML)


def _add_typed_date(
    state: dict[str, Any], parsed: ParsedWhen, now: datetime, tr: Translator, tz: ZoneInfo
) -> str:
    _ = tr.gettext
    start = parsed.utc
    label = when(start, tz, tr, year=True)
    if start < now + rules.DEADLINE_MARGIN + timedelta(hours=1):
        return _("{date} è troppo vicina: servono almeno 24 ore per rispondere.").format(date=label)
    raw = _iso(start)
    if raw in state["chosen"]:
        return _("{date} è già tra le date scelte.").format(date=label)
    if len(state["chosen"]) >= rules.MAX_SLOTS:
        return _("Hai già 8 date: togline una prima di aggiungerne altre.")
    if raw not in state["options"]:
        if len(state["options"]) >= MAX_OPTIONS:
            state["options"] = [o for o in state["options"] if o in state["chosen"]]
        state["options"].append(raw)
    state["chosen"].append(raw)
    note = _("Aggiunta: {date}.").format(date=label)
    if parsed.used_default_time:
        note += " " + _("(Ora non indicata: ho messo quella solita.)")
    if rules.is_holiday(parsed.local.date()):
        note += " " + _("Attenzione: è un giorno festivo.")
    return note


async def on_add_slot_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """The coordinator's "Aggiungi data": one typed date added to an open poll."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    services = context.services
    now = services.clock.now()
    dirty: list[int] = []
    async with update_transaction(context, update) as session:
        person = await core_repo.person_by_telegram_id(session, user.id)
        tr = tr_for(services, person=person, user=user)
        _ = tr.gettext
        poll = await session.get(MeetingPoll, int(conv.data.get("poll_id", 0)))
        member = (
            await core_repo.member_of(session, union_id=poll.union_id, telegram_user_id=user.id)
            if poll
            else None
        )
        union = await session.get(Union, poll.union_id) if poll else None
        if (
            poll is None
            or union is None
            or member is None
            or not may_manage(poll, member_id=member.id, is_coordinator=member.is_coordinator)
        ):
            answer = _("Questo sondaggio non esiste più.")
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=user.id)
        elif poll.status != PollStatus.OPEN:
            answer = _("Il sondaggio è già chiuso.")
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=user.id)
        else:
            tz = ZoneInfo(union.timezone)
            settings = await repo.settings_of(session, union.id)
            parsed = parse_when(
                message.text or "",
                now=now,
                tz=tz,
                default_time=time(settings.slot_hour, settings.slot_minute),
            )
            slots = await repo.slots_of(session, poll.id)
            if isinstance(parsed, ParseProblem):
                answer = problem_text(parsed, tr)
            elif len(slots) >= rules.MAX_SLOTS:
                answer = _("Il sondaggio ha già 8 date: è il massimo.")
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=user.id
                )
            elif parsed.utc < poll.deadline_at + rules.DEADLINE_MARGIN:
                answer = _(
                    "La nuova data deve essere almeno 24 ore dopo la scadenza ({date})."
                ).format(date=when(poll.deadline_at, tz, tr))
            elif not await repo.add_slot(
                session,
                poll_id=poll.id,
                starts_at=parsed.utc,
                ends_at=parsed.utc + timedelta(minutes=settings.duration_minutes),
            ):
                answer = _("{date} è già tra le date del sondaggio.").format(
                    date=when(parsed.utc, tz, tr, year=True)
                )
            else:
                dirty = await repo.mark_dirty(session, poll_id=poll.id, now=now)
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=user.id
                )
                answer = _("Aggiunta al sondaggio: {date}.").format(
                    date=when(parsed.utc, tz, tr, year=True)
                )
                if rules.is_holiday(parsed.local.date()):
                    answer += " " + _("Attenzione: è un giorno festivo.")
    await reply(update, answer, parse_mode=ParseMode.HTML)
    if dirty:
        await message_refresh.request_owed(services)


# --- /riunioni ---------------------------------------------------------------------------


async def riunioni(update: Update, context: BotContext) -> None:
    await _list_meetings(update, context, None)


async def _riunioni_for(update: Update, context: BotContext, union_id: int) -> None:
    await _list_meetings(update, context, union_id)


async def _list_meetings(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        scope = await resolve_union(
            session, update, context, command="riunioni", chosen_union_id=union_id
        )
        who = await caller(session, services, update)
        if isinstance(scope, Refusal) or who is None:
            meetings: list[Meeting] = []
            polls: list[MeetingPoll] = []
        else:
            meetings = await repo.upcoming_meetings(session, union_id=scope.union.id, now=now)
            polls = [p for p in await repo.open_polls(session) if p.union_id == scope.union.id]
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if who is None:
        return
    tr = who.tr
    _ = tr.gettext
    tz = ZoneInfo(scope.union.timezone)
    lines = [_("<b>Prossime riunioni</b>")]
    buttons = []
    if not meetings:
        lines.append(_("Nessuna riunione fissata."))
    for meeting in meetings:
        line = (
            f"• <b>{when(meeting.starts_at, tz, tr, year=True)}</b> — {html.escape(meeting.title)}"
        )
        line += f" ({_(TABLE_NAMES[meeting.table])})"
        if meeting.place:
            line += "\n  📍 " + html.escape(meeting.place)
        lines.append(line)
        buttons.append(
            [
                InlineKeyboardButton(
                    _("📅 Invito .ics — {date}").format(date=when(meeting.starts_at, tz, tr)),
                    callback_data=cb.encode(MTG_AREA, "ics", meeting.id),
                )
            ]
        )
    if polls:
        lines.append("")
        lines.append(
            tr.ngettext("{n} sondaggio aperto:", "{n} sondaggi aperti:", len(polls)).format(
                n=len(polls)
            )
        )
        for poll in polls:
            lines.append(
                _("• {title}: rispondi entro {deadline}").format(
                    title=html.escape(poll.title), deadline=when(poll.deadline_at, tz, tr)
                )
            )
    await reply(
        update,
        "\n".join(lines),
        InlineKeyboardMarkup(buttons) if buttons else None,
        parse_mode=ParseMode.HTML,
    )


# --- wiring ------------------------------------------------------------------------------


def register(application: AnyApplication, services: Services) -> None:
    application.add_handler(CommandHandler("riunione", riunione))
    application.add_handler(CommandHandler("riunioni", riunioni))
    application.add_handler(CallbackQueryHandler(on_vote, pattern=cb.pattern(VOTE_AREA)))
    application.add_handler(CallbackQueryHandler(on_meeting_button, pattern=cb.pattern(MTG_AREA)))
    application.add_handler(CallbackQueryHandler(on_wizard_button, pattern=cb.pattern(WIZ_AREA)))
    register_union_command("riunione", _riunione_for)
    register_union_command("riunioni", _riunioni_for)
    register_flow(WIZARD_FLOW, on_wizard_text)
    register_flow(ADD_SLOT_FLOW, on_add_slot_text)
    services.add_sent_listener("poll:", on_poll_message_sent)
    # First of this feature's work: nothing of it flushes the outbox before the withdrawal.
    services.add_due_work("meetings.monthly_poll", open_monthly_polls)
    services.add_due_work("meetings.poll_reminders", remind_poll_voters)
    # report_unreachable tells the coordinator who refused; uncertain ones get the generic report.
    services.report_elsewhere("pollrem:", ("failed",))
    services.add_due_work("meetings.close_due", close_due_polls)
    services.add_due_work("meetings.meeting_reminders", remind_meetings)
    services.add_due_work("meetings.pins", pin_announcements)
    message_refresh.install(application, services, POLL_MESSAGES)
