"""Monthly progress updates from the technicians: the round, the guided private flow, reminders.

The round opens by the scheduler tick (one per Union per month, claimed by its period), is
announced in the technical group and sent privately to every Funzionario tecnico through the
outbox. The guided flow (status → progress → note/photo/document → optional political
question → saved) keeps its state in the `conversation` table, so a restart resumes it; every
button carries the action id, so a button pressed after a restart still knows what it is about.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callback_data as cb
from bot import telegram_edit
from bot.context import BotContext, Services
from bot.conversations import register_flow
from bot.handlers.actions import STATUS_ICONS, status_label
from bot.i18n import Translator, format_datetime, format_month
from bot.scope import (
    Refusal,
    UnionScope,
    button_refusal,
    register_union_command,
    reply,
    resolve_union,
    tr_for,
    update_transaction,
)
from bot.scope import caller as get_caller
from bot.services import repeats
from bot.services import update_rounds as rules
from bot.services.html_split import split_text
from bot.services.summary import round_note_rows
from bot.services.summary_build import note_view
from bot.services.update_status import (
    INVITE_PREFIX,
    TechnicianState,
    invitation_failures,
    invite_key,
    technician_states,
)
from storage.models import (
    Action,
    ActionStatus,
    Conversation,
    Member,
    MemberStatus,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    TableKind,
    Union,
    UpdateRound,
    UpdateSource,
)
from storage.repositories import actions as repo
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as summaries_repo
from storage.repositories.people import present_name

logger = logging.getLogger(__name__)

AREA = "upd"
FLOW = "upd"
MAX_NOTE = 2000
MAX_QUESTION = 300
MAX_ATTACHMENTS = 5
STATUS_CODES = {
    "c": ActionStatus.COMPLETED,
    "o": ActionStatus.ONGOING,
    "p": ActionStatus.POSTPONED,
    "n": ActionStatus.NOT_STARTED,
}
CODE_OF = {v: k for k, v in STATUS_CODES.items()}
ANNOUNCE_PREFIX = "upd:ann:"


# --- shared helpers -----------------------------------------------------------------------


def union_tz(union: Union) -> ZoneInfo:
    try:
        return ZoneInfo(union.timezone)
    except Exception:
        return ZoneInfo("Europe/Rome")


def month_label(period: str, tr: Translator) -> str:
    year, month = (int(x) for x in period.split("-"))
    return format_month(year, month, tr.language)


def action_line(
    action: Action,
    names: dict[int, str],
    tr: Translator,
    *,
    done: bool = False,
    home: int | None = None,
) -> str:
    """One action on one line; `home` is the reader's only Comune, not repeated on every line."""
    where = names.get(action.municipality_id or 0) or tr.gettext("Unione")
    place = (
        "" if home is not None and action.municipality_id == home else f" — {html.escape(where)}"
    )
    mark = "✔️ " if done else ""
    # "Non avviata 0%" and "Completata 100%" say the same thing twice.
    pct = (
        ""
        if action.status in (ActionStatus.NOT_STARTED, ActionStatus.COMPLETED)
        else f" {action.progress}%"
    )
    return f"{mark}<b>{html.escape(action.code)}</b> {html.escape(action.title[:80])}{place}: {STATUS_ICONS[action.status]} {html.escape(status_label(action.status, tr))}{pct}"


def fit_lines(lines: Sequence[str], budget: int, tr: Translator) -> str:
    """Join lines under `budget` characters, ending with "…and N more" when they don't fit."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            rest = len(lines) - index
            out.append(tr.ngettext("…e un'altra", "…e altre {n}", rest).format(n=rest))
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


async def municipality_names(session: AsyncSession, union_id: int) -> dict[int, str]:
    return await core_repo.municipality_names(session, union_id, include_archived=True)


async def edit_or_send(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the pressed message; if it cannot be edited, send a new one."""
    await telegram_edit.edit_or_send(update, update.get_bot(), text, markup)


# --- the flow state -----------------------------------------------------------------------


@dataclass
class FlowState:
    union_id: int
    member_id: int
    round_id: int | None
    order: list[int]
    done: list[int]
    action_id: int | None = None
    status: str | None = None
    progress: int | None = None
    note: str | None = None
    attachments: list[dict[str, Any]] | None = None
    question: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowState:
        known: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        known["order"] = [int(x) for x in known.get("order") or []]
        known["done"] = [int(x) for x in known.get("done") or []]
        return cls(**known)

    def reset_answer(self, action_id: int | None) -> None:
        self.action_id, self.status, self.progress = action_id, None, None
        self.note, self.attachments, self.question = None, None, None


@dataclass(frozen=True)
class Who:
    member: Member
    union: Union
    municipality_ids: tuple[int, ...]

    @property
    def may_report(self) -> bool:
        return self.member.role == Role.TECNICO or self.member.is_coordinator


async def who_in_union(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> Who | None:
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    union = await session.get(Union, union_id)
    if member is None or union is None:
        return None
    ids = await core_repo.municipality_ids_of(session, member.id)
    return Who(member=member, union=union, municipality_ids=tuple(ids))


def may_update(who: Who, action: Action) -> bool:
    if action.archived_at is not None or action.union_id != who.union.id:
        return False
    if who.member.is_coordinator or action.municipality_id is None:
        return who.may_report
    return who.member.role == Role.TECNICO and action.municipality_id in who.municipality_ids


async def start_state(
    session: AsyncSession, *, who: Who, now: datetime, telegram_user_id: int, chat_id: int
) -> tuple[FlowState, list[Action]]:
    """A fresh flow for this member: their actions in order, those done this round first skipped."""
    actions = await repo.actions_for_municipalities(
        session, union_id=who.union.id, municipality_ids=who.municipality_ids
    )
    round_ = await repo.current_round(session, union_id=who.union.id, now=now)
    done = sorted(await repo.updated_in_round(session, round_.id)) if round_ else []
    state = FlowState(
        union_id=who.union.id,
        member_id=who.member.id,
        round_id=round_.id if round_ else None,
        order=[a.id for a in actions],
        done=[a for a in done if a in {x.id for x in actions}],
    )
    await save_state(
        session, state, now=now, telegram_user_id=telegram_user_id, chat_id=chat_id, step="menu"
    )
    return state, actions


async def save_state(
    session: AsyncSession,
    state: FlowState,
    *,
    now: datetime,
    telegram_user_id: int,
    chat_id: int,
    step: str,
) -> None:
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=FLOW,
        step=step,
        data=state.to_json(),
        now=now,
    )


async def load_state(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, now: datetime
) -> tuple[FlowState, str] | None:
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=chat_id, now=now
    )
    if conv is None or conv.flow != FLOW:
        return None
    return FlowState.from_json(conv.data), conv.step


# --- rendering the questions --------------------------------------------------------------


def status_question(
    action: Action, state: FlowState, names: dict[int, str], tr: Translator, *, header: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    position = state.order.index(action.id) + 1 if action.id in state.order else 0
    where = names.get(action.municipality_id or 0) or _("Unione (intercomunale)")
    lines = [header] if header else []
    lines.append(
        _("Azione {n} di {total}: <b>{code}</b> — {title}").format(
            n=position,
            total=len(state.order),
            code=html.escape(action.code),
            title=html.escape(action.title),
        )
    )
    lines.append(_("Comune: {where}").format(where=html.escape(where)))
    lines.append(
        _("Ultimo stato: {icon} {status}, {progress}%").format(
            icon=STATUS_ICONS[action.status],
            status=html.escape(status_label(action.status, tr)),
            progress=action.progress,
        )
    )
    lines.append("")
    lines.append(_("Com'è la situazione adesso?"))
    a = action.id

    def button(status: ActionStatus) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            f"{STATUS_ICONS[status]} {status_label(status, tr)}",
            callback_data=cb.encode(AREA, "st", a, CODE_OF[status]),
        )

    keyboard = [
        [button(ActionStatus.COMPLETED), button(ActionStatus.ONGOING)],
        [button(ActionStatus.POSTPONED), button(ActionStatus.NOT_STARTED)],
        [
            InlineKeyboardButton(_("⏭ Salta"), callback_data=cb.encode(AREA, "sk", a)),
            InlineKeyboardButton(
                _("📋 Elenco"), callback_data=cb.encode(AREA, "ls", state.union_id)
            ),
            InlineKeyboardButton(
                _("🏁 Ho finito"), callback_data=cb.encode(AREA, "end", state.union_id)
            ),
        ],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def progress_question(
    action: Action, state: FlowState, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    status = ActionStatus(state.status or ActionStatus.ONGOING)
    text = _(
        "<b>{code}</b> — {icon} {status}\nA che punto è? Scegli una percentuale o scrivi un numero da 0 a 100."
    ).format(
        code=html.escape(action.code),
        icon=STATUS_ICONS[status],
        status=html.escape(status_label(status, tr)),
    )
    row = [
        InlineKeyboardButton(f"{p}%", callback_data=cb.encode(AREA, "pr", action.id, p))
        for p in rules.PROGRESS_CHOICES
    ]
    return text, InlineKeyboardMarkup([row])


def extras_question(
    action: Action, state: FlowState, tr: Translator, *, ack: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    status = ActionStatus(state.status or ActionStatus.ONGOING)
    lines = [ack] if ack else []
    lines.append(
        _("<b>{code}</b> — {icon} {status}, {progress}%").format(
            code=html.escape(action.code),
            icon=STATUS_ICONS[status],
            status=html.escape(status_label(status, tr)),
            progress=state.progress if state.progress is not None else 0,
        )
    )
    if state.note:
        lines.append(_("Nota: {note}").format(note=html.escape(state.note[:300])))
    if state.attachments:
        n = len(state.attachments)
        lines.append(tr.ngettext("📎 {n} allegato", "📎 {n} allegati", n).format(n=n))
    lines.append("")
    lines.append(_("Se vuoi, scrivi una nota o manda una foto o un documento. Poi premi «Salva»."))
    keyboard = [
        [InlineKeyboardButton(_("💾 Salva"), callback_data=cb.encode(AREA, "sv", action.id))],
        [
            InlineKeyboardButton(
                _("⚖️ Serve una decisione politica"), callback_data=cb.encode(AREA, "dq", action.id)
            )
        ],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def menu_view(
    actions: Sequence[Action],
    state: FlowState,
    names: dict[int, str],
    tr: Translator,
    *,
    header: str = "",
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    done = set(state.done)
    # Once every action is updated, "nothing new this month" would contradict what was just said.
    all_done = bool(actions) and all(a.id in done for a in actions)
    lines = [header] if header else []
    if not actions:
        lines.append(
            _(
                "Non ci sono azioni da aggiornare per il tuo Comune. Il coordinatore le carica con /azioni."
            )
        )
    else:
        # When every municipal action is of one Comune (a technician's usual case), name it once
        # in the heading instead of on every line.
        comuni = {a.municipality_id for a in actions if a.municipality_id is not None}
        home = next(iter(comuni)) if len(comuni) == 1 else None
        if home is not None and home in names:
            lines.append(
                _("Le tue azioni — {comune} (✔️ = già aggiornata in questo giro):").format(
                    comune=html.escape(names[home])
                )
            )
        else:
            home = None
            lines.append(_("Le tue azioni (✔️ = già aggiornata in questo giro):"))
        lines.append(
            fit_lines(
                [action_line(a, names, tr, done=a.id in done, home=home) for a in actions],
                3300,
                tr,
            )
        )
        lines.append("")
        lines.append(
            _("Se vuoi correggere qualcosa, tocca l'azione.")
            if all_done
            else _("Scegli un'azione da aggiornare.")
        )
    buttons = [
        InlineKeyboardButton(
            ("✔️ " if a.id in done else "") + a.code[:20], callback_data=cb.encode(AREA, "a", a.id)
        )
        for a in actions[:80]
    ]
    keyboard = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    if state.round_id is not None and not all_done:
        keyboard.append(
            [
                InlineKeyboardButton(
                    _("😴 Nessuna novità questo mese"),
                    callback_data=cb.encode(AREA, "nn", state.round_id),
                )
            ]
        )
    keyboard.append(
        [
            InlineKeyboardButton(
                _("🏁 Ho finito"), callback_data=cb.encode(AREA, "end", state.union_id)
            )
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def finished_text(state: FlowState, actions: Sequence[Action], tr: Translator) -> str:
    _ = tr.gettext
    missing = [a for a in actions if a.id not in set(state.done)]
    if not missing:
        return _("🏁 Hai aggiornato tutte le tue azioni. Grazie!")
    codes = ", ".join(html.escape(a.code) for a in missing[:30])
    return _(
        "🏁 Grazie! Restano da aggiornare: {codes}. Riprendi quando vuoi con /aggiornamento."
    ).format(codes=codes)


# --- /aggiornamento -----------------------------------------------------------------------


async def aggiornamento(update: Update, context: BotContext) -> None:
    args = [a.lower() for a in (context.args or [])]
    if args and args[0] in ("stato", "status"):
        await round_status(update, context)
        return
    await start_flow(update, context, None)


def private_only_text(tr: Translator) -> str:
    """What a button or command of the update dialogue answers in a group."""
    return tr.gettext(
        "Gli aggiornamenti si danno in privato: scrivimi /aggiornamento in chat con me."
    )


async def start_flow(update: Update, context: BotContext, union_id: int | None) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    services = context.services
    now = services.clock.now()
    if chat.type != Chat.PRIVATE:
        async with services.db.transaction() as session:
            speaker = await get_caller(session, services, update)
        if speaker is not None:
            await reply(update, private_only_text(speaker.tr))
        return
    async with update_transaction(context, update) as session:
        scope = await resolve_union(
            session, update, context, command="aggiornamento", chosen_union_id=union_id
        )
        if isinstance(scope, Refusal):
            refusal: Refusal | None = scope
        else:
            refusal = None
            tr = tr_for(
                services, person=await core_repo.person_by_telegram_id(session, user.id), user=user
            )
            me = Who(
                member=scope.member, union=scope.union, municipality_ids=scope.municipality_ids
            )
            if not me.may_report:
                refusal = Refusal(
                    tr.gettext(
                        "Gli aggiornamenti sulle azioni li danno i funzionari tecnici dei Comuni."
                    )
                )
            else:
                state, actions = await start_state(
                    session, who=me, now=now, telegram_user_id=user.id, chat_id=chat.id
                )
                names = await municipality_names(session, me.union.id)
                text, markup = first_question(
                    state,
                    actions,
                    names,
                    tr,
                    header=await round_header(session, state, tr, me.union),
                )
                step = "status" if state.action_id else "menu"
                await save_state(
                    session, state, now=now, telegram_user_id=user.id, chat_id=chat.id, step=step
                )
    if refusal is not None:
        await refusal.send(update)
        return
    await reply(update, text, markup)


async def round_header(
    session: AsyncSession, state: FlowState, tr: Translator, union: Union
) -> str:
    _ = tr.gettext
    if state.round_id is None:
        return _("📝 Aggiornamento delle azioni del PAES.")
    round_ = await session.get(UpdateRound, state.round_id)
    if round_ is None:
        return ""
    return _("📝 Aggiornamento di {month}: rispondi entro {deadline}.").format(
        month=month_label(round_.period, tr),
        deadline=format_datetime(round_.deadline_at, union_tz(union), tr.language),
    )


def first_question(
    state: FlowState,
    actions: Sequence[Action],
    names: dict[int, str],
    tr: Translator,
    *,
    header: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """The first action still to update; the list when all are done (to change an answer)."""
    next_id = rules.next_pending(state.order, done=state.done)
    by_id = {a.id: a for a in actions}
    if next_id is None:
        state.reset_answer(None)
        return menu_view(actions, state, names, tr, header=header)
    state.reset_answer(next_id)
    return status_question(by_id[next_id], state, names, tr, header=header)


# --- flow buttons -------------------------------------------------------------------------


@dataclass
class Pressed:
    who: Who
    state: FlowState
    step: str
    action: Action | None
    tr: Translator
    # Held while the press is handled: the session's identity map keeps only what is referenced,
    # and saving the state then updates this row without reading it again.
    conversation: Conversation | None = None


async def _pressed(
    session: AsyncSession,
    update: Update,
    context: BotContext,
    *,
    action_id: int | None,
    union_id: int | None,
) -> Pressed | str:
    """Re-check the press: an active member who may report, the action theirs; state loaded or made."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    now = services.clock.now()
    # One query for the presser, the action, the membership, the Union, the Comuni and the
    # dialogue: a step is pressed every few seconds by every technician in a round.
    ctx = await repo.step_context(
        session, telegram_user_id=user.id, chat_id=chat.id, action_id=action_id, union_id=union_id
    )
    tr = tr_for(services, person=ctx.person if ctx else None, user=user)
    _ = tr.gettext
    refusal = await button_refusal(
        session, update, tr, union_id=None, private_only=private_only_text(tr)
    )
    if refusal is not None:
        return refusal
    action = ctx.action if ctx else None
    if action_id is not None:
        if action is None and (ctx is not None or await session.get(Action, action_id) is None):
            return _("Questa azione non esiste più.")
    elif union_id is None:
        return _("Questo pulsante non è più valido.")
    if ctx is None or ctx.member is None or ctx.union is None:
        return _("Questo pulsante non è per te.")
    who = Who(member=ctx.member, union=ctx.union, municipality_ids=ctx.municipality_ids)
    if not who.may_report:
        return _("Questo pulsante non è per te.")
    if action is not None and not may_update(who, action):
        return _("Non puoi aggiornare questa azione.")
    conv = ctx.conversation
    if (
        conv is None
        or conv.flow != FLOW
        or conv.expires_at <= now
        or conv.data.get("union_id") != who.union.id
        or conv.data.get("member_id") != who.member.id
    ):
        state, _actions = await start_state(
            session, who=who, now=now, telegram_user_id=user.id, chat_id=chat.id
        )
        step = "menu"
    else:
        state, step = FlowState.from_json(conv.data), conv.step
    return Pressed(who=who, state=state, step=step, action=action, tr=tr, conversation=conv)


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    if data is None:
        await query.answer()
        return
    if data.action == "nn":
        await on_no_news(update, context, data.int_arg(0))
        return
    if data.action == "go":
        await query.answer()
        await start_flow_from_button(update, context, data.int_arg(0))
        return
    services = context.services
    now = services.clock.now()
    chat = update.effective_chat
    assert chat is not None
    uses_action = data.action in ("st", "pr", "sv", "dq", "sk", "a")
    arg = data.int_arg(0)
    if arg is None:
        await query.answer()
        return
    toast: str | None = None
    send_after: list[tuple[str, InlineKeyboardMarkup | None]] = []
    edit: tuple[str, InlineKeyboardMarkup | None] | None = None
    async with update_transaction(context, update) as session:
        pressed = await _pressed(
            session,
            update,
            context,
            action_id=arg if uses_action else None,
            union_id=None if uses_action else arg,
        )
        if isinstance(pressed, str):
            toast = pressed
        else:
            toast, edit, send_after = await _apply_button(
                session,
                context,
                pressed,
                data.action,
                data.str_arg(1),
                now=now,
                user_id=query.from_user.id,
                chat_id=chat.id,
            )
    await query.answer(toast)
    if edit is not None:
        await edit_or_send(update, edit[0], edit[1])
    for text, markup in send_after:
        await reply(update, text, markup)


async def _apply_button(
    session: AsyncSession,
    context: BotContext,
    p: Pressed,
    verb: str,
    extra: str | None,
    *,
    now: datetime,
    user_id: int,
    chat_id: int,
) -> tuple[
    str | None,
    tuple[str, InlineKeyboardMarkup | None] | None,
    list[tuple[str, InlineKeyboardMarkup | None]],
]:
    _ = p.tr.gettext
    state, action = p.state, p.action
    # Read only what this button shows: a state or a percentage needs neither (bench/README.md).
    names = (
        await municipality_names(session, state.union_id) if verb in ("a", "sv", "sk", "ls") else {}
    )
    step = p.step
    toast: str | None = None
    edit: tuple[str, InlineKeyboardMarkup | None] | None = None
    after: list[tuple[str, InlineKeyboardMarkup | None]] = []
    actions = (
        await repo.actions_for_municipalities(
            session, union_id=state.union_id, municipality_ids=p.who.municipality_ids
        )
        if verb in ("sv", "sk", "ls", "end")
        else []
    )
    if action is not None and action.id not in state.order:
        state.order.append(action.id)
    if verb == "a" and action is not None:
        state.reset_answer(action.id)
        edit = status_question(action, state, names, p.tr)
        step = "status"
    elif verb == "st" and action is not None:
        status = STATUS_CODES.get(extra or "")
        if status is None:
            return _("Questo pulsante non è più valido."), None, []
        if state.action_id != action.id:
            state.reset_answer(action.id)
        state.status = status.value
        toast = status_label(status, p.tr)
        if status == ActionStatus.COMPLETED:
            state.progress = 100
            edit, step = extras_question(action, state, p.tr), "extras"
        elif status == ActionStatus.NOT_STARTED:
            state.progress = 0
            edit, step = extras_question(action, state, p.tr), "extras"
        else:
            edit, step = progress_question(action, state, p.tr), "progress"
    elif verb == "pr" and action is not None:
        value = p_int(extra)
        if (
            state.action_id != action.id
            or state.status is None
            or value is None
            or not 0 <= value <= 100
        ):
            return _("Prima scegli lo stato dell'azione."), None, []
        state.progress = value
        toast = f"{value}%"
        edit, step = extras_question(action, state, p.tr), "extras"
    elif verb == "dq" and action is not None:
        if state.action_id != action.id or state.status is None:
            return _("Prima scegli lo stato dell'azione."), None, []
        step = "question"
        after.append((_("⚖️ Scrivi in una riga la domanda per il tavolo politico."), None))
    elif verb == "sv" and action is not None:
        if state.action_id != action.id or state.status is None:
            return _("Prima scegli lo stato dell'azione."), None, []
        saved_text = await save_answer(session, p, action, now=now)
        toast = _("Salvato")
        edit = (saved_text, None)
        after.append(next_after_save(state, actions, names, p.tr))
        step = "status" if state.action_id else "menu"
    elif verb == "sk" and action is not None:
        next_id = rules.next_pending(state.order, done=state.done, after=action.id)
        by_id = {a.id: a for a in actions}
        if next_id is None or next_id not in by_id:
            state.reset_answer(None)
            edit, step = menu_view(actions, state, names, p.tr), "menu"
        else:
            state.reset_answer(next_id)
            edit, step = status_question(by_id[next_id], state, names, p.tr), "status"
    elif verb == "ls":
        state.reset_answer(None)
        edit, step = menu_view(actions, state, names, p.tr), "menu"
    elif verb == "end":
        await core_repo.clear_conversation(session, telegram_user_id=user_id, chat_id=chat_id)
        return None, (finished_text(state, actions, p.tr), None), []
    else:
        return _("Questo pulsante non è più valido."), None, []
    await save_state(session, state, now=now, telegram_user_id=user_id, chat_id=chat_id, step=step)
    return toast, edit, after


def p_int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and len(text) <= 3 else None


def next_after_save(
    state: FlowState, actions: Sequence[Action], names: dict[int, str], tr: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    """After "saved": straight to the next action still to do (its buttons are the "next" step)."""
    _ = tr.gettext
    by_id = {a.id: a for a in actions}
    next_id = rules.next_pending(state.order, done=state.done, after=state.action_id)
    if next_id is None or next_id not in by_id:
        state.reset_answer(None)
        text, markup = menu_view(
            actions, state, names, tr, header=finished_text(state, actions, tr)
        )
        return text, markup
    state.reset_answer(next_id)
    return status_question(by_id[next_id], state, names, tr, header=_("➡️ Prossima azione"))


async def save_answer(session: AsyncSession, p: Pressed, action: Action, *, now: datetime) -> str:
    """Write the ProgressUpdate (committed with this update, before "Salvato" is shown)."""
    state = p.state
    _ = p.tr.gettext
    round_id = state.round_id
    if round_id is not None:
        round_ = await session.get(UpdateRound, round_id)
        if round_ is None or round_.deadline_at <= now:
            round_id = None  # too late for that round: kept as an update outside it
    status = ActionStatus(state.status or ActionStatus.ONGOING)
    progress = state.progress if state.progress is not None else action.progress
    attachments = [repo.AttachmentIn(**a) for a in state.attachments or []]
    await repo.record_update(
        session,
        action=action,
        member_id=state.member_id,
        round_id=round_id,
        source=UpdateSource.PRIVATE,
        status=status,
        progress=progress,
        note=state.note,
        now=now,
        needs_decision=state.question is not None,
        decision_question=state.question,
        attachments=attachments,
    )
    if action.id not in state.done:
        state.done.append(action.id)
    text = _("💾 Salvato: <b>{code}</b> → {icon} {status}, {progress}%").format(
        code=html.escape(action.code),
        icon=STATUS_ICONS[status],
        status=html.escape(status_label(status, p.tr)),
        progress=progress,
    )
    if state.note:
        text += "\n" + _("Nota: {note}").format(note=html.escape(state.note[:300]))
    if attachments:
        text += "\n" + p.tr.ngettext("📎 {n} allegato", "📎 {n} allegati", len(attachments)).format(
            n=len(attachments)
        )
    if state.question:
        text += "\n" + _("⚖️ Domanda per il tavolo politico: {q}").format(
            q=html.escape(state.question)
        )
    return text


async def start_flow_from_button(update: Update, context: BotContext, union_id: int | None) -> None:
    if union_id is None:
        return
    await start_flow(update, context, union_id)


async def on_no_news(update: Update, context: BotContext, round_id: int | None) -> None:
    query = update.callback_query
    assert query is not None
    services = context.services
    now = services.clock.now()
    user = query.from_user
    text: str | None = None
    async with update_transaction(context, update) as session:
        person = await core_repo.person_by_telegram_id(session, user.id)
        tr = tr_for(services, person=person, user=user)
        _ = tr.gettext
        refusal = await button_refusal(
            session, update, tr, union_id=None, private_only=private_only_text(tr)
        )
        round_ = await session.get(UpdateRound, round_id) if round_id is not None else None
        who = (
            await who_in_union(session, union_id=round_.union_id, telegram_user_id=user.id)
            if round_ is not None and refusal is None
            else None
        )
        if refusal is not None:
            toast = refusal
        elif round_ is None or who is None or not who.may_report:
            toast = _("Questo pulsante non è per te.")
        elif round_.deadline_at <= now:
            toast = _("Questo giro di aggiornamenti è chiuso: usa /aggiornamento.")
        else:
            await repo.set_no_news(session, round_id=round_.id, member_id=who.member.id, now=now)
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=user.id)
            toast = _("Registrato: nessuna novità.")
            text = _(
                "😴 Registrato: nessuna novità questo mese. Grazie!\nSe qualcosa cambia prima della scadenza, scrivi /aggiornamento."
            )
    await query.answer(toast)
    if text is not None:
        await edit_or_send(update, text, None)


# --- typed input in the flow --------------------------------------------------------------


async def on_flow_input(update: Update, context: BotContext, conversation: Conversation) -> None:
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    now = services.clock.now()
    answer: list[tuple[str, InlineKeyboardMarkup | None]] = []
    async with update_transaction(context, update) as session:
        loaded = await load_state(session, telegram_user_id=user.id, chat_id=chat.id, now=now)
        person = await core_repo.person_by_telegram_id(session, user.id)
        tr = tr_for(services, person=person, user=user)
        _ = tr.gettext
        if loaded is None:
            return
        state, step = loaded
        who = await who_in_union(session, union_id=state.union_id, telegram_user_id=user.id)
        action = await session.get(Action, state.action_id) if state.action_id else None
        if who is None or not who.may_report:
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            answer.append((_("Non risulti più tra i membri attivi dell'Unione."), None))
        elif action is None or not may_update(who, action):
            names = await municipality_names(session, state.union_id)
            actions = await repo.actions_for_municipalities(
                session, union_id=state.union_id, municipality_ids=who.municipality_ids
            )
            answer.append(
                menu_view(
                    actions, state, names, tr, header=_("Scegli prima un'azione dai pulsanti.")
                )
            )
        else:
            pressed = Pressed(who=who, state=state, step=step, action=action, tr=tr)
            answer = await _apply_input(
                session, pressed, message, now=now, user_id=user.id, chat_id=chat.id
            )
    for text, markup in answer:
        await reply(update, text, markup)


async def _apply_input(
    session: AsyncSession,
    p: Pressed,
    message: Message,
    *,
    now: datetime,
    user_id: int,
    chat_id: int,
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    _ = p.tr.gettext
    state, action = p.state, p.action
    assert action is not None
    names = await municipality_names(session, state.union_id)
    text = (message.text or message.caption or "").strip()
    attachment = attachment_of(message)
    step = p.step
    out: list[tuple[str, InlineKeyboardMarkup | None]] = []
    if step == "progress":
        value = rules.parse_progress(text) if text else None
        if value is None:
            question = progress_question(action, state, p.tr)
            return [
                (
                    _("Scrivi un numero da 0 a 100, oppure premi un pulsante.")
                    + "\n\n"
                    + question[0],
                    question[1],
                )
            ]
        state.progress = value
        out.append(extras_question(action, state, p.tr, ack=_("Avanzamento: {p}%").format(p=value)))
        step = "extras"
    elif step == "extras":
        ack = []
        if attachment is not None:
            current = list(state.attachments or [])
            if len(current) >= MAX_ATTACHMENTS:
                ack.append(
                    _("Al massimo {n} allegati per aggiornamento.").format(n=MAX_ATTACHMENTS)
                )
            else:
                current.append(attachment)
                state.attachments = current
                ack.append(_("📎 Allegato aggiunto."))
        if text:
            note = (state.note + "\n" if state.note else "") + text
            if len(note) > MAX_NOTE:
                ack.append(
                    _("La nota è troppo lunga: al massimo {n} caratteri.").format(n=MAX_NOTE)
                )
            else:
                state.note = note
                ack.append(_("📝 Nota aggiunta."))
        if not ack:
            ack.append(
                _("Mandami una nota scritta, una foto o un documento, oppure premi «Salva».")
            )
        out.append(extras_question(action, state, p.tr, ack=" ".join(ack)))
    elif step == "question":
        if not text or (attachment is not None and not message.caption):
            return [(_("⚖️ Scrivi in una riga la domanda per il tavolo politico."), None)]
        if len(text) > MAX_QUESTION:
            return [
                (
                    _("Troppo lunga: al massimo {n} caratteri, in una riga.").format(
                        n=MAX_QUESTION
                    ),
                    None,
                )
            ]
        state.question = " ".join(text.split())
        saved = await save_answer(session, p, action, now=now)
        actions = await repo.actions_for_municipalities(
            session, union_id=state.union_id, municipality_ids=p.who.municipality_ids
        )
        out.append((saved, None))
        out.append(next_after_save(state, actions, names, p.tr))
        step = "status" if state.action_id else "menu"
    else:  # "status" or "menu": buttons expected
        if step == "status":
            out.append(
                status_question(action, state, names, p.tr, header=_("Usa i pulsanti qui sotto."))
            )
        else:
            actions = await repo.actions_for_municipalities(
                session, union_id=state.union_id, municipality_ids=p.who.municipality_ids
            )
            out.append(
                menu_view(actions, state, names, p.tr, header=_("Usa i pulsanti qui sotto."))
            )
        return out
    await save_state(session, state, now=now, telegram_user_id=user_id, chat_id=chat_id, step=step)
    return out


def attachment_of(message: Message) -> dict[str, Any] | None:
    if message.photo:
        best = message.photo[-1]
        return {
            "kind": "photo",
            "file_id": best.file_id,
            "file_unique_id": best.file_unique_id,
            "file_name": None,
            "mime_type": "image/jpeg",
        }
    if message.document is not None:
        doc = message.document
        return {
            "kind": "document",
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "file_name": (doc.file_name or "")[:256] or None,
            "mime_type": (doc.mime_type or "")[:128] or None,
        }
    return None


# --- /aggiornamento stato -----------------------------------------------------------------


def render_status(
    round_: UpdateRound,
    union: Union,
    states: Sequence[TechnicianState],
    names: dict[int, str],
    tr: Translator,
    *,
    noted: frozenset[int] = frozenset(),
) -> str:
    """The round's state for the coordinator. `noted`: member ids who wrote a note in the
    technical group during the round; as in the summary, a note counts as having reported."""
    _ = tr.gettext

    def who(s: TechnicianState) -> str:
        comuni = ", ".join(names.get(i, "?") for i in s.technician.municipality_ids) or _(
            "nessun Comune"
        )
        return f"{html.escape(present_name(s.technician.person))} ({html.escape(comuni)})"

    lines = [
        _("<b>Aggiornamento di {month}</b> — scadenza {deadline}").format(
            month=month_label(round_.period, tr),
            deadline=format_datetime(round_.deadline_at, union_tz(union), tr.language),
        )
    ]
    idle = [s for s in states if not s.required]
    asked = [s for s in states if s.required]

    def reported(s: TechnicianState) -> bool:
        return s.answered or s.technician.member.id in noted

    answered = [s for s in asked if reported(s)]
    missing = [s for s in asked if not reported(s) and not s.unreachable]
    unreachable = [s for s in asked if not reported(s) and s.unreachable]

    def done(s: TechnicianState) -> str:
        return tr.ngettext("{u} di {r} azione", "{u} di {r} azioni", len(s.required)).format(
            u=len(s.updated), r=len(s.required)
        )

    lines.append("")
    lines.append(_("✅ Hanno risposto ({n}):").format(n=len(answered)))
    for s in answered:
        if not s.answered:  # only a note in the group
            detail = _("nota nel gruppo tecnico")
            if s.updated:
                detail = f"{done(s)}, {detail}"
        elif s.no_news and not s.required <= s.updated:
            detail = _("nessuna novità")
        else:
            detail = done(s)
        lines.append(f"• {who(s)} — {detail}")
    lines.append(_("⏳ Non ancora ({n}):").format(n=len(missing)))
    for s in missing:
        lines.append(f"• {who(s)} — {done(s)}")
    if unreachable:
        lines.append(
            _("🚫 Non raggiungibili ({n}): non hanno avviato il bot o l'hanno bloccato.").format(
                n=len(unreachable)
            )
        )
        for s in unreachable:
            lines.append(f"• {who(s)}")
    if idle:
        lines.append(
            _("📭 Senza azioni da aggiornare ({n}): caricale con /azioni.").format(n=len(idle))
        )
        for s in idle:
            lines.append(f"• {who(s)}")
    if not states:
        lines.append(_("Nessun funzionario tecnico attivo nell'Unione."))
    return "\n".join(lines)


async def round_status(update: Update, context: BotContext, union_id: int | None = None) -> None:
    services = context.services
    async with services.db.transaction() as session:
        scope = await resolve_union(
            session, update, context, command="aggiornamento_stato", chosen_union_id=union_id
        )
        text: str
        if isinstance(scope, Refusal):
            await_refusal: Refusal | None = scope
        else:
            await_refusal = None
            text = await status_text(session, services, update, scope)
    if await_refusal is not None:
        await await_refusal.send(update)
        return
    for chunk in split_text(text):
        await reply(update, chunk)


async def status_text(
    session: AsyncSession, services: Services, update: Update, scope: UnionScope
) -> str:
    person = await session.get(Person, scope.member.person_id)
    tr = tr_for(services, person=person, user=update.effective_user)
    _ = tr.gettext
    if not scope.is_coordinator:
        return _("Lo stato del giro di aggiornamenti lo vede il coordinatore.")
    round_ = await repo.latest_round(session, union_id=scope.union.id)
    if round_ is None:
        return _("Non c'è ancora stato nessun giro di aggiornamenti.")
    states = await technician_states(session, round_)
    names = await municipality_names(session, scope.union.id)
    notes = await summaries_repo.group_notes(session, union_id=scope.union.id, round_id=round_.id)
    noted = frozenset(n.member_id for n in notes if n.member_id is not None)
    text = render_status(round_, scope.union, states, names, tr, noted=noted)
    rows = round_note_rows(
        tr,
        [
            (
                names.get(n.municipality_id, "?") if n.municipality_id is not None else None,
                note_view(n),
            )
            for n in notes
        ],
        timezone=scope.union.timezone,
    )
    return "\n".join([text, "", *rows]) if rows else text


# --- the scheduled work -------------------------------------------------------------------


def settings_of_row(row: Any) -> rules.RoundSettings:
    if row is None:
        return rules.DEFAULT_SETTINGS
    return rules.RoundSettings(
        enabled=row.enabled,
        fallback_day=row.fallback_day,
        fallback_hour=row.fallback_hour,
        fallback_deadline_days=row.fallback_deadline_days,
        deadline_days_before_meeting=row.deadline_days_before_meeting,
    )


async def open_due_rounds(services: Services, bot: Bot, now: datetime) -> None:
    """Open the rounds that are due. One read finds the Unions with something to decide (most
    ticks: none); each of those then gets its own short transaction, so opening a month's rounds
    for many Unions never holds the write lock for all of them, and one Union's failure neither
    stops nor undoes the others.
    """
    async with services.db.transaction() as session:
        unions = await repo.all_unions(session)
        checked = {p for u in unions for p in rules.periods_to_check(now, union_tz(u))}
        settled = await repo.settled_periods(session, periods=checked)
        # A skipped month is settled only until a meeting is fixed in it: that meeting still
        # earns its round if its deadline is ahead (docs/DESIGN.md, "The monthly cycle": the
        # round opens as soon as the meeting date is fixed). The plan below decides; a skip
        # stays claimed once.
        unions_by_id = {u.id: u for u in unions}
        for union_id, period, starts_at in await repo.skipped_with_meetings_ahead(
            session, periods=checked, after=now
        ):
            union = unions_by_id.get(union_id)
            if union is not None and rules.period_of(starts_at, union_tz(union)) == period:
                settled.discard((union_id, period))
        # Per Union, the periods still to decide (a round neither opened nor skipped).
        todo = [
            (union.id, periods)
            for union in unions
            if (
                periods := [
                    p
                    for p in rules.periods_to_check(now, union_tz(union))
                    if (union.id, p) not in settled
                ]
            )
        ]
    for union_id, periods in todo:
        try:
            async with services.db.transaction() as session:
                union = await session.get(Union, union_id)
                if union is not None:
                    await _open_round_for(session, services, union, now, periods=periods)
        except Exception:
            logger.exception("Update round of Union %s failed; retrying at the next tick", union_id)


async def _open_round_for(
    session: AsyncSession, services: Services, union: Union, now: datetime, *, periods: list[str]
) -> None:
    """Open (or settle as skipped) the rounds of `periods`, those not settled yet."""
    tz = union_tz(union)
    settings = settings_of_row(await repo.settings_of(session, union.id))
    for period in periods:
        if await repo.round_for_period(session, union_id=union.id, period=period) is not None:
            continue
        start, end = rules.month_bounds(period, tz)
        meetings = await repo.meetings_between(session, union_id=union.id, start=start, end=end)
        plan = rules.plan_round(
            period=period,
            now=now,
            tz=tz,
            settings=settings,
            meetings=[rules.MeetingInfo(id=m.id, starts_at=m.starts_at) for m in meetings],
        )
        if plan.decision == rules.Decision.SKIP:
            # A skipped month with a meeting too close for a round comes back here: claimed once.
            won = await core_repo.claim(
                session, kind=repo.ROUND_SKIP_CLAIM, union_id=union.id, period=period, now=now
            )
            # A Union created after that deadline missed nothing: no warning for it.
            if won and (plan.deadline_at is None or union.created_at < plan.deadline_at):
                logger.warning(
                    "Update round %s of Union %s skipped: its deadline passed while the bot was not running",
                    period,
                    union.id,
                )
            continue
        if plan.decision != rules.Decision.OPEN or plan.deadline_at is None:
            continue
        round_ = await repo.create_round(
            session,
            union_id=union.id,
            period=period,
            meeting_id=plan.meeting_id,
            deadline_at=plan.deadline_at,
            now=now,
        )
        if round_ is None:
            continue
        logger.info(
            "Update round %s opened for Union %s (deadline %s)", period, union.id, plan.deadline_at
        )
        await _enqueue_round_messages(session, services, union, round_, now)


async def _enqueue_round_messages(
    session: AsyncSession, services: Services, union: Union, round_: UpdateRound, now: datetime
) -> None:
    tz = union_tz(union)
    default_tr = tr_for(services)
    names = await municipality_names(session, union.id)
    techs = await repo.technicians(session, union.id)
    # A technician with no action to report on gets no message: there is nothing to ask.
    # The coordinator hears who was left out, and loading actions during the round reaches
    # them at the next tick (see _invite_late_joiners).
    with_actions = [await has_actions(session, union.id, t) for t in techs]
    asked = [t for t, yes in zip(techs, with_actions, strict=True) if yes]
    idle = [t for t, yes in zip(techs, with_actions, strict=True) if not yes]
    group = await core_repo.linked_chat(session, union_id=union.id, table=TableKind.TECHNICAL)
    if group is not None and asked:
        _ = default_tr.gettext
        text = _(
            "📣 <b>Aggiornamento di {month}</b>\n"
            "Ho scritto in privato ai funzionari tecnici per sapere a che punto sono le azioni del PAES dei loro Comuni: bastano pochi tocchi, entro {deadline}.\n"
            "Potete anche rispondere a questo messaggio con una nota sul vostro Comune: la registro e i Sindaci la leggeranno nel riepilogo."
        ).format(
            month=month_label(round_.period, default_tr),
            deadline=format_datetime(round_.deadline_at, tz, default_tr.language),
        )
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{ANNOUNCE_PREFIX}{round_.id}",
            chat_id=group.chat_id,
            method="sendMessage",
            payload={"text": text},
            union_id=union.id,
            now=now,
        )
    for t in asked:
        if t.person.telegram_user_id is None:
            continue
        text, markup = await invitation(session, services, union, round_, t, names)
        await outbox_repo.enqueue(
            session,
            dedup_key=invite_key(round_.id, t.member.id),
            chat_id=t.person.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "reply_markup": markup.to_dict()},
            union_id=union.id,
            person_id=t.person.id,
            now=now,
            expires_at=round_.deadline_at,
        )
    tech_ids = {t.member.id for t in techs}
    for member, person in await core_repo.coordinators(session, union.id):
        if member.id in tech_ids or person.telegram_user_id is None:
            continue
        tr = tr_for(services, person=person)
        month = month_label(round_.period, tr)
        deadline = format_datetime(round_.deadline_at, tz, tr.language)
        idle_names = html.escape(
            ", ".join(
                "{} ({})".format(
                    present_name(t.person),
                    ", ".join(names.get(i, "?") for i in t.municipality_ids)
                    or tr.gettext("nessun Comune"),
                )
                for t in idle
            )
        )
        if asked:
            text = tr.ngettext(
                "📣 Ho aperto il giro di aggiornamenti di {month}: l'ho chiesto a {n} funzionario tecnico, entro {deadline}.",
                "📣 Ho aperto il giro di aggiornamenti di {month}: l'ho chiesto a {n} funzionari tecnici, entro {deadline}.",
                len(asked),
            ).format(month=month, n=len(asked), deadline=deadline)
            if idle:
                text += "\n" + tr.ngettext(
                    "Non l'ho chiesto a {names}: non ci sono azioni caricate per il suo Comune. Caricale con /azioni e riceverà subito la richiesta.",
                    "Non l'ho chiesto a {names}: non ci sono azioni caricate per i loro Comuni. Caricale con /azioni e riceveranno subito la richiesta.",
                    len(idle),
                ).format(names=idle_names)
            text += "\n" + tr.gettext(
                "Con /aggiornamento stato vedi chi ha risposto; con /aggiornamento aggiorni tu le azioni intercomunali."
            )
        elif idle:
            text = tr.ngettext(
                "📣 Giro di aggiornamenti di {month}: non l'ho chiesto a {names}, perché non ci sono azioni caricate per il suo Comune. Caricale con /azioni entro {deadline} e riceverà subito la richiesta.",
                "📣 Giro di aggiornamenti di {month}: non l'ho chiesto a {names}, perché non ci sono azioni caricate per i loro Comuni. Caricale con /azioni entro {deadline} e riceveranno subito la richiesta.",
                len(idle),
            ).format(month=month, names=idle_names, deadline=deadline)
        else:
            text = tr.gettext(
                "📣 Giro di aggiornamenti di {month}: nell'Unione non c'è ancora nessun funzionario tecnico a cui chiederlo. Invitali con /invito."
            ).format(month=month)
        await outbox_repo.enqueue(
            session,
            dedup_key=f"upd:open:{round_.id}:{member.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": text},
            union_id=union.id,
            person_id=person.id,
            now=now,
            names=[t.person.id for t in idle],
        )


async def has_actions(session: AsyncSession, union_id: int, t: repo.Technician) -> bool:
    """Whether the technician has anything to report on: their Comuni's or intercommunal actions."""
    return bool(
        await repo.actions_for_municipalities(
            session, union_id=union_id, municipality_ids=t.municipality_ids
        )
    )


async def invitation(
    session: AsyncSession,
    services: Services,
    union: Union,
    round_: UpdateRound,
    t: repo.Technician,
    names: dict[int, str],
    *,
    reminder: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    tr = tr_for(services, person=t.person)
    _ = tr.gettext
    actions = await repo.actions_for_municipalities(
        session, union_id=union.id, municipality_ids=t.municipality_ids
    )
    updated = await repo.updated_in_round(session, round_.id)
    deadline = format_datetime(round_.deadline_at, union_tz(union), tr.language)
    if reminder:
        head = _("⏰ Promemoria: aspetto ancora il tuo aggiornamento di {month}, entro {deadline}.")
    else:
        head = _(
            "📝 <b>Aggiornamento di {month}</b> — {union}\nA che punto sono le azioni del PAES? Rispondi entro {deadline}: bastano pochi tocchi."
        )
    lines = [
        head.format(
            month=month_label(round_.period, tr), union=html.escape(union.name), deadline=deadline
        ),
        "",
    ]
    home = t.municipality_ids[0] if len(t.municipality_ids) == 1 else None
    if actions:
        lines.append(
            fit_lines(
                [action_line(a, names, tr, done=a.id in updated, home=home) for a in actions],
                3300,
                tr,
            )
        )
    else:
        lines.append(_("Non ci sono azioni caricate per il tuo Comune."))
    keyboard = [
        [
            InlineKeyboardButton(
                _("▶️ Aggiorna le azioni"), callback_data=cb.encode(AREA, "go", union.id)
            )
        ],
        [
            InlineKeyboardButton(
                _("😴 Nessuna novità questo mese"), callback_data=cb.encode(AREA, "nn", round_.id)
            )
        ],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def round_housekeeping(services: Services, bot: Bot, now: datetime) -> None:
    """Close rounds past their deadline, send due reminders, tell coordinators who is unreachable.

    One short transaction per round: on SQLite a transaction holds the write lock, and a vote
    pressed meanwhile waits for one round's duties at most, not for every round's. A round that
    fails is retried at the next tick and undoes nothing of the others.
    """
    async with services.db.transaction() as session:
        round_ids = [r.id for r in await repo.open_rounds(session)]
    for round_id in round_ids:
        try:
            async with services.db.transaction() as session:
                await _round_duties(session, services, round_id, now)
        except Exception:
            logger.exception(
                "Duties of update round %s failed; retrying at the next tick", round_id
            )


async def _round_duties(
    session: AsyncSession, services: Services, round_id: int, now: datetime
) -> None:
    from storage.models import RoundStatus

    round_ = await session.get(UpdateRound, round_id)
    union = await session.get(Union, round_.union_id) if round_ is not None else None
    if round_ is None or union is None or round_.status != RoundStatus.OPEN:
        return
    for missed in rules.missed_reminders(
        now=now, opened_at=round_.opened_at, deadline_at=round_.deadline_at
    ):
        # Sent in time, it holds its claim already; missed while the bot was down: skipped.
        if await core_repo.claim(
            session,
            kind=f"upd_remind_{missed.value}",
            union_id=union.id,
            period=round_.period,
            now=now,
        ):
            logger.info(
                "Update round %s of Union %s: reminder %s skipped (its moment passed while the bot was not running)",
                round_.period,
                union.id,
                missed.value,
            )
    if now >= round_.deadline_at:
        round_.status, round_.closed_at = RoundStatus.CLOSED, now
        # Invitations and reminders still waiting in the outbox expire at the deadline.
        logger.info("Update round %s of Union %s closed", round_.period, union.id)
        return
    await _invite_late_joiners(session, services, union, round_, now)
    await _report_unreachable(session, services, union, round_, now)
    kind = rules.due_reminder(now=now, opened_at=round_.opened_at, deadline_at=round_.deadline_at)
    if kind is None:
        return
    if not await core_repo.claim(
        session, kind=f"upd_remind_{kind.value}", union_id=union.id, period=round_.period, now=now
    ):
        return
    names = await municipality_names(session, union.id)
    sent = 0
    for s in await technician_states(session, round_):
        t = s.technician
        if s.answered or t.person.telegram_user_id is None:
            continue
        text, markup = await invitation(session, services, union, round_, t, names, reminder=True)
        if await outbox_repo.enqueue(
            session,
            dedup_key=f"upd:rem:{round_.id}:{t.member.id}:{kind.value}",
            chat_id=t.person.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "reply_markup": markup.to_dict()},
            union_id=union.id,
            person_id=t.person.id,
            now=now,
            expires_at=round_.deadline_at,
        ):
            sent += 1
    logger.info(
        "Update round %s of Union %s: reminder %s to %d technicians",
        round_.period,
        union.id,
        kind.value,
        sent,
    )


async def _invite_late_joiners(
    session: AsyncSession, services: Services, union: Union, round_: UpdateRound, now: datetime
) -> None:
    """A technician approved while the round is open gets the same invitation (once); so does one
    whose Comune had no actions when the round opened, once the coordinator loads some."""
    rows = await outbox_repo.status_by_key_prefix(session, f"{INVITE_PREFIX}{round_.id}:")
    invited = {r.dedup_key for r in rows}
    late = [
        t
        for t in await repo.technicians(session, union.id)
        if invite_key(round_.id, t.member.id) not in invited
        and t.person.telegram_user_id is not None
    ]
    late = [t for t in late if await has_actions(session, union.id, t)]
    if not late:
        return
    names = await municipality_names(session, union.id)
    for t in late:
        assert t.person.telegram_user_id is not None
        text, markup = await invitation(session, services, union, round_, t, names)
        await outbox_repo.enqueue(
            session,
            dedup_key=invite_key(round_.id, t.member.id),
            chat_id=t.person.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "reply_markup": markup.to_dict()},
            union_id=union.id,
            person_id=t.person.id,
            now=now,
            expires_at=round_.deadline_at,
        )


async def _report_unreachable(
    session: AsyncSession, services: Services, union: Union, round_: UpdateRound, now: datetime
) -> None:
    """Once the invitations were all tried, list the technicians Telegram refused to the coordinators."""
    rows: list[OutboxMessage] = await outbox_repo.status_by_key_prefix(
        session, f"{INVITE_PREFIX}{round_.id}:"
    )
    if not rows or any(r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING) for r in rows):
        return
    if await core_repo.is_claimed(
        session, kind="upd_unreachable", union_id=union.id, period=round_.period
    ):
        return
    await core_repo.claim(
        session, kind="upd_unreachable", union_id=union.id, period=round_.period, now=now
    )
    failed = await invitation_failures(session, round_.id)
    if not failed:
        return
    names = await municipality_names(session, union.id)
    techs = [t for t in await repo.technicians(session, union.id) if t.member.id in failed]
    for member, person in await core_repo.coordinators(session, union.id):
        if person.telegram_user_id is None:
            continue
        tr = tr_for(services, person=person)
        _ = tr.gettext
        lines = [
            tr.ngettext(
                "🚫 Non sono riuscito a scrivere a questo funzionario tecnico per l'aggiornamento di {month}: non ha mai avviato il bot o l'ha bloccato. Chiedigli di aprire la chat con me e premere Avvia, poi di scrivere /aggiornamento.",
                "🚫 Non sono riuscito a scrivere a questi funzionari tecnici per l'aggiornamento di {month}: non hanno mai avviato il bot o l'hanno bloccato. Chiedi loro di aprire la chat con me e premere Avvia, poi di scrivere /aggiornamento.",
                len(techs),
            ).format(month=month_label(round_.period, tr))
        ]
        for t in techs:
            comuni = ", ".join(names.get(i, "?") for i in t.municipality_ids)
            lines.append(f"• {html.escape(present_name(t.person))} ({html.escape(comuni)})")
        await outbox_repo.enqueue(
            session,
            dedup_key=f"upd:unr:{round_.id}:{member.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": "\n".join(lines)},
            union_id=union.id,
            person_id=person.id,
            now=now,
            names=[t.person.id for t in techs],
        )


async def on_announcement_sent(session: AsyncSession, row: OutboxMessage) -> None:
    round_id = row.dedup_key[len(ANNOUNCE_PREFIX) :]
    if not round_id.isdigit():
        return
    round_ = await session.get(UpdateRound, int(round_id))
    if round_ is not None:
        round_.announcement_chat_id, round_.announcement_message_id = row.chat_id, row.message_id


# --- the technical group: replies to the announcement, #aggiornamento ---------------------


async def on_group_message(update: Update, context: BotContext) -> None:
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or user.is_bot:
        return
    text = (message.text or message.caption or "").strip()
    if not text:
        return
    services = context.services
    now = services.clock.now()
    reply_to = message.reply_to_message
    is_reply = (
        reply_to is not None
        and reply_to.from_user is not None
        and reply_to.from_user.id == context.bot.id
    )
    has_tag = "#aggiornamento" in text.lower()
    if not is_reply and not has_tag:
        return
    ack: str | None = None
    async with services.db.transaction() as session:
        round_ = (
            await repo.round_by_announcement(
                session, chat_id=chat.id, message_id=reply_to.message_id
            )
            if is_reply and reply_to is not None
            else None
        )
        links = await core_repo.links_of_chat(session, chat.id)
        link = next((lk for lk in links if lk.table_kind == TableKind.TECHNICAL), None)
        if round_ is not None:
            union_id, source = round_.union_id, UpdateSource.GROUP_REPLY
        elif has_tag and link is not None and link.hashtag_capture:
            union_id, source = link.union_id, UpdateSource.HASHTAG
        else:
            return
    async with update_transaction(context, update) as session:
        member = await core_repo.member_of(session, union_id=union_id, telegram_user_id=user.id)
        person = await core_repo.person_by_telegram_id(session, user.id)
        tr = tr_for(services, person=person, user=user)
        _ = tr.gettext
        if member is None or member.status != MemberStatus.ACTIVE:
            return
        if round_ is None:
            round_ = await repo.current_round(session, union_id=union_id, now=now)
        ids = await core_repo.municipality_ids_of(session, member.id)
        names = await municipality_names(session, union_id)
        targets: list[int | None] = list(ids) or [None]
        earlier = repeats.find_repeat(
            (
                (n, n.text, n.created_at)
                for n in await repo.recent_notes_by(
                    session,
                    union_id=union_id,
                    municipality_id=targets[0],
                    member_id=member.id,
                    since=repeats.repeat_since(now),
                )
            ),
            text=text[:4000],
            now=now,
        )
        union = await session.get(Union, union_id) if earlier is not None else None
        if earlier is not None and union is not None:  # the same note again (bot.services.repeats)
            ack = _(
                "📝 Questa nota è già registrata ({date}): non la conto una seconda volta."
            ).format(date=format_datetime(earlier.created_at, union_tz(union), tr.language))
            targets = []
        for municipality_id in targets:
            await repo.add_note(
                session,
                union_id=union_id,
                round_id=round_.id if round_ else None,
                member_id=member.id,
                municipality_id=municipality_id,
                source=source,
                text=text[:4000],
                chat_id=chat.id,
                message_id=message.message_id,
                now=now,
            )
        where = ", ".join(names.get(i, "?") for i in ids) or _("l'Unione")
        if earlier is None:
            ack = _(
                "📝 Nota registrata per {where}: i Sindaci la leggeranno nel prossimo riepilogo. Grazie!"
            ).format(where=html.escape(where))
    if ack:
        await message.reply_text(ack)


# --- registration -------------------------------------------------------------------------


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.add_handler(CommandHandler("aggiornamento", aggiornamento))
    application.add_handler(CallbackQueryHandler(on_button, pattern=cb.pattern(AREA)))
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & ~filters.COMMAND & (filters.TEXT | filters.CAPTION),
            on_group_message,
        ),
        group=7,  # its own group: other features' group handlers still see the message
    )
    register_flow(FLOW, on_flow_input)
    register_union_command("aggiornamento", start_flow)
    register_union_command("aggiornamento_stato", round_status)
    services.add_due_work("update_rounds_open", open_due_rounds)
    services.add_due_work("update_rounds_duties", round_housekeeping)
    services.report_elsewhere(INVITE_PREFIX, ("failed",))  # _report_unreachable tells them
    services.add_sent_listener(ANNOUNCE_PREFIX, on_announcement_sent)
