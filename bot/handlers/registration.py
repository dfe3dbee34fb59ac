"""Registration by role: Unions, Comuni, invites, joining, approval, /team, /collega, /cancellami.

Every handler reads the update, decides in one transaction (rules in bot.services.registration,
queries in storage.repositories.registration), and talks to Telegram only after the transaction
is closed. Every button re-checks who presses and whether the thing is still open.
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
from telegram import (
    Bot,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
    User,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callback_data as cb
from bot import delivery, telegram_edit
from bot.context import BotContext, Services
from bot.conversations import register_flow
from bot.handlers.common import GROUP_MEMBERSHIP_HOOK, START_PAYLOAD_HOOK, privacy_notice
from bot.i18n import N_, Translator, format_date
from bot.scope import (
    ANONYMOUS_ADMIN_ID,
    Refusal,
    UnionScope,
    button_refusal,
    caller,
    register_union_command,
    reply,
    resolve_union,
    tr_for,
    update_transaction,
)
from bot.services import registration as rules
from bot.services.display_text import NAMELESS, person_name, telegram_display_name
from bot.services.registration import (
    AssignmentProblem,
    InviteState,
    NameProblem,
    RoleCode,
    RosterEntry,
)
from storage.models import (
    Conversation,
    Invite,
    Member,
    MemberStatus,
    Municipality,
    Person,
    Role,
    TableKind,
    Union,
)
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import registration as reg_repo
from storage.repositories.people import present_name, shown_name

logger = logging.getLogger(__name__)

# Callback areas (see docs/HACKING.md).
REG, APPR, COM, INV, TEAM, LINK, MBR, DEL = (
    "reg",
    "appr",
    "com",
    "inv",
    "team",
    "link",
    "mbr",
    "del",
)
# Conversation flows.
JOIN_FLOW = "join"
COMUNI_ADD_FLOW = "comuni_add"
COMUNI_RENAME_FLOW = "comuni_rename"

ROLE_LABELS = {
    RoleCode.SINDACO: N_("Sindaco"),
    RoleCode.ASSESSORE: N_("Assessore"),
    RoleCode.TECNICO: N_("Funzionario tecnico"),
    RoleCode.STAFF: N_("Staff dell'Unione"),
}
ROLE_ICONS = {
    RoleCode.SINDACO: "🏛",
    RoleCode.ASSESSORE: "🏛",
    RoleCode.TECNICO: "🛠",
    RoleCode.STAFF: "•",
}
TABLE_LABELS = {
    TableKind.POLITICAL: N_("Tavolo politico"),
    TableKind.TECHNICAL: N_("Tavolo tecnico"),
}
TABLE_SHORT = {TableKind.POLITICAL: "p", TableKind.TECHNICAL: "t"}
TABLE_FROM_SHORT = {v: k for k, v in TABLE_SHORT.items()}
ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
MAX_LISTED_BUTTONS = 90
TOAST_LIMIT = 200  # Telegram allows 100 buttons in a keyboard; keep room for the rest


# --- small helpers ----------------------------------------------------------------------------


def role_label(role: RoleCode | Role | str, tr: Translator) -> str:
    return tr.gettext(ROLE_LABELS[RoleCode(str(role))])


def table_label(table: TableKind, tr: Translator) -> str:
    return tr.gettext(TABLE_LABELS[table])


def esc(value: str | None) -> str:
    return html.escape(value or "")


def name_of(person: Person | None, tr: Translator) -> str:
    """The person's name, escaped; «ex membro» in the reader's language once they left."""
    return esc(person_name(shown_name(person), tr))


def button(text: str, area: str, action: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=cb.encode(area, action, *args))


def rows_of(
    buttons: Sequence[InlineKeyboardButton], width: int = 2
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Outcome:
    """What a button press leads to, decided in the transaction and sent after it."""

    toast: str | None = None
    text: str | None = None
    markup: InlineKeyboardMarkup | None = None
    alert: bool = False
    new_message: bool = False  # send a new message instead of editing the pressed one
    extra: list[str] | None = None  # further messages to send after the main one
    tail: tuple[str, InlineKeyboardMarkup | None] | None = None  # a last message, with buttons


async def refused_in_group(
    session: AsyncSession, update: Update, tr: Translator, toast: str | None = None
) -> Outcome | None:
    """The coordinator's buttons here show people's details, post invite links or start a
    private dialogue: they work only in private, where they are offered (`button_refusal`,
    the rule of every button). In a group everyone's press is refused with `toast`."""
    refusal = await button_refusal(
        session,
        update,
        tr,
        union_id=None,
        private_only=toast or tr.gettext("Questo pulsante funziona solo in chat privata con me."),
    )
    return None if refusal is None else Outcome(toast=refusal, alert=True)


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message whose button was pressed; otherwise (or if that fails) send a new one."""
    await telegram_edit.edit_or_send(update, update.get_bot(), text, markup)


async def deliver(update: Update, outcome: Outcome) -> None:
    query = update.callback_query
    toast = outcome.toast
    if toast is not None and len(toast) > TOAST_LIMIT:  # Telegram's limit for callback answers
        toast = toast[: TOAST_LIMIT - 1] + "…"
    if query is not None:
        try:
            await query.answer(toast, show_alert=outcome.alert)
        except BadRequest:  # "query is too old" is harmless
            logger.debug("Callback answer failed", exc_info=True)
    if outcome.text:
        if outcome.new_message or query is None:
            await reply(update, outcome.text, outcome.markup)
        else:
            await show(update, outcome.text, outcome.markup)
    for text in outcome.extra or []:
        await reply(update, text)
    if outcome.tail is not None:
        await reply(update, outcome.tail[0], outcome.tail[1])


async def flush_outbox(context: BotContext) -> None:
    delivery.flush_soon(context.services, context.bot)


def stale(tr: Translator) -> Outcome:
    return Outcome(toast=tr.gettext("Questo pulsante non è più valido."))


def not_yours(tr: Translator) -> Outcome:
    return Outcome(
        toast=tr.gettext("Questo pulsante non è per te: non ho cambiato nulla."), alert=True
    )


def name_problem_text(
    problem: NameProblem, tr: Translator, *, maximum: int, minimum: int = 2
) -> str:
    _ = tr.gettext
    if problem == NameProblem.TOO_LONG:
        return _("È troppo lungo: al massimo {n} caratteri.").format(n=maximum)
    if problem == NameProblem.TOO_SHORT:
        return _("È troppo corto: almeno {n} caratteri.").format(n=minimum)
    if problem == NameProblem.INVISIBLE:
        return _(
            "Non contiene lettere o cifre che si vedono (solo spazi o caratteri invisibili): "
            "scrivilo con lettere normali."
        )
    return _("Manca il nome.")


def assignment_problem_text(
    problem: AssignmentProblem,
    tr: Translator,
    *,
    comune: str | None = None,
    coordinator: bool = False,
) -> str:
    """`coordinator`: the reader is the one who can fix it (so: "togli", not "il coordinatore")."""
    _ = tr.gettext
    if problem == AssignmentProblem.SINDACO_TAKEN and coordinator:
        return _(
            "{comune} ha già un Sindaco nel team: un Comune ne ha uno solo. "
            "Se il Sindaco è cambiato, togli prima il precedente da /team."
        ).format(comune=comune or "")
    if problem == AssignmentProblem.SINDACO_TAKEN:
        return _(
            "{comune} ha già un Sindaco nel team: un Comune ne ha uno solo. "
            "Se il Sindaco è cambiato, il coordinatore deve prima togliere il precedente da /team."
        ).format(comune=comune or "")
    if problem == AssignmentProblem.NEEDS_ONE_COMUNE:
        return _("Sindaco e Assessore rappresentano un solo Comune: scegline uno.")
    if problem == AssignmentProblem.NEEDS_A_COMUNE:
        return _("Un Funzionario tecnico lavora per almeno un Comune: scegline uno.")
    return _("Lo staff dell'Unione non rappresenta un Comune.")


async def _private_only(update: Update, tr: Translator) -> bool:
    chat = update.effective_chat
    if chat is not None and chat.type == Chat.PRIVATE:
        return True
    await reply(update, tr.gettext("Questo comando funziona in chat privata con me: scrivimi lì."))
    return False


async def _coordinator_scope(
    session: AsyncSession,
    update: Update,
    context: BotContext,
    *,
    command: str,
    union_id: int | None,
) -> UnionScope | Refusal:
    scope = await resolve_union(session, update, context, command=command, chosen_union_id=union_id)
    if isinstance(scope, Refusal):
        return scope
    if not scope.is_coordinator:
        who = await caller(session, context.services, update)
        tr = who.tr if who else tr_for(context.services)
        return Refusal(tr.gettext("Questo comando è riservato al coordinatore dell'Unione."))
    return scope


async def _presser_coordinates(session: AsyncSession, user: User, union_id: int) -> Member | None:
    if user.id == ANONYMOUS_ADMIN_ID:
        return None
    member = await core_repo.member_of(session, union_id=union_id, telegram_user_id=user.id)
    return member if member is not None and member.is_coordinator else None


def _message_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def _command_argument(update: Update) -> str:
    """Everything after the command, spaces and apostrophes kept ("Unione Val d'Enza")."""
    parts = _message_text(update).split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


# --- /crea_unione -----------------------------------------------------------------------------


async def create_union(update: Update, context: BotContext) -> None:
    services = context.services
    user = update.effective_user
    if user is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None:
        return
    _ = who.tr.gettext
    if not await _private_only(update, who.tr):
        return
    admin_ids = services.settings.admin_ids
    if admin_ids and user.id not in admin_ids:
        await reply(
            update,
            _(
                "Su questo bot le nuove Unioni le crea solo chi lo gestisce. "
                "Se coordini un'Unione, chiedi a loro di crearla e di invitarti."
            ),
        )
        return
    name, problem = rules.check_union_name(_command_argument(update))
    if problem == NameProblem.MISSING:
        await reply(
            update,
            _(
                "Scrivi il nome dell'Unione dopo il comando, per esempio:\n/crea_unione Unione Reno Galliera"
            ),
        )
        return
    if problem is not None:
        await reply(
            update,
            _(
                "Nome non valido. {problem} Riprova, per esempio: /crea_unione Unione Reno Galliera"
            ).format(problem=name_problem_text(problem, who.tr, maximum=rules.UNION_NAME_MAX)),
        )
        return
    key = rules.fold_name(name)
    async with update_transaction(context, update) as session:
        for union in await reg_repo.coordinated_unions(session, telegram_user_id=user.id):
            if rules.fold_name(union.name) == key:
                text = _(
                    "Coordini già un'Unione che si chiama <b>{name}</b>: non ne creo un'altra."
                ).format(name=esc(union.name))
                markup = None
                break
        else:
            person = await core_repo.upsert_person(
                session,
                telegram_user_id=user.id,
                display_name=telegram_display_name(user, nameless=_(NAMELESS)),
                username=user.username,
                telegram_language=user.language_code,
                now=services.clock.now(),
            )
            union, member = await reg_repo.create_union(
                session, name=name, creator=person, now=services.clock.now()
            )
            text = _(
                "Fatto! Hai creato <b>{name}</b> e la coordini tu ⭐.\n\n"
                "Prossimi passi:\n"
                "1. /comuni — aggiungi i Comuni dell'Unione\n"
                "2. /invito — crea il link per sindaci, assessori e tecnici\n"
                "3. /collega — scrivilo nei due gruppi Telegram (tavolo politico e tavolo tecnico)\n\n"
                "Per ora risulti come staff dell'Unione. Se sei anche sindaco, assessore o tecnico "
                "di un Comune, indicalo con il pulsante qui sotto dopo aver aggiunto i Comuni."
            ).format(name=esc(union.name))
            markup = InlineKeyboardMarkup([[button(_("👤 Il mio ruolo"), MBR, "show", member.id)]])
    await reply(update, text, markup)


# --- /comuni ----------------------------------------------------------------------------------


def render_municipalities(
    union: Union, municipalities: Sequence[Municipality], tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    lines = [_("<b>Comuni di {union}</b>").format(union=esc(union.name))]
    if municipalities:
        lines += [f"• {esc(m.name)}" for m in municipalities]
        lines.append("")
        lines.append(_("Tocca ✏️ per rinominare un Comune, 🗑 per toglierlo."))
    else:
        lines.append(_("Non ci sono ancora Comuni."))
    rows: list[list[InlineKeyboardButton]] = []
    for mun in list(municipalities)[: MAX_LISTED_BUTTONS // 2]:
        rows.append(
            [
                button("✏️ " + short(mun.name), COM, "ren", mun.id),
                button("🗑", COM, "rm", mun.id),
            ]
        )
    rows.append([button(_("➕ Aggiungi Comuni"), COM, "add", union.id)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def add_prompt(union: Union, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    text = _(
        "Mandami in un solo messaggio i nomi dei Comuni di <b>{union}</b>, separati da virgola.\n"
        "Per esempio: <i>Argelato, Bentivoglio, Castel d'Argile</i>"
    ).format(union=esc(union.name))
    return text, InlineKeyboardMarkup([[button(_("Annulla"), COM, "stop", union.id)]])


async def comuni(update: Update, context: BotContext) -> None:
    await comuni_for_union(update, context, None)


async def comuni_for_union(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None or not await _private_only(update, who.tr):
        return
    async with update_transaction(context, update) as session:
        scope = await _coordinator_scope(
            session, update, context, command="comuni", union_id=union_id
        )
        if isinstance(scope, Refusal):
            answer: Refusal | tuple[str, InlineKeyboardMarkup] = scope
        else:
            muns = await core_repo.municipalities(session, scope.union.id)
            if muns:
                answer = render_municipalities(scope.union, muns, who.tr)
            else:
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    flow=COMUNI_ADD_FLOW,
                    step="names",
                    data={"union_id": scope.union.id},
                    now=services.clock.now(),
                )
                text, markup = add_prompt(scope.union, who.tr)
                answer = (
                    who.tr.gettext("L'Unione non ha ancora Comuni.") + "\n" + text,
                    markup,
                )
    if isinstance(answer, Refusal):
        await answer.send(update)
    else:
        await reply(update, answer[0], answer[1])


async def on_comuni_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    services = context.services
    user = query.from_user
    data = cb.decode(query.data)
    target = data.int_arg(0) if data else None
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        outcome = stale(tr)
        # /comuni is private: in a group a rename or an addition would start a dialogue that
        # group messages never reach.
        refusal = await refused_in_group(
            session, update, tr, _("I Comuni si gestiscono in chat privata con me.")
        )
        if refusal is not None:
            outcome = refusal
        elif data is None or target is None:
            pass
        elif data.action in ("add", "stop", "list"):
            union = await session.get(Union, target)
            if union is None:
                pass
            elif await _presser_coordinates(session, user, union.id) is None:
                outcome = not_yours(tr)
            elif data.action == "add":
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    flow=COMUNI_ADD_FLOW,
                    step="names",
                    data={"union_id": union.id},
                    now=services.clock.now(),
                )
                text, markup = add_prompt(union, tr)
                outcome = Outcome(text=text, markup=markup)
            else:
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=chat.id
                )
                muns = await core_repo.municipalities(session, union.id)
                text, markup = render_municipalities(union, muns, tr)
                outcome = Outcome(
                    toast=_("Va bene.") if data.action == "stop" else None, text=text, markup=markup
                )
        elif data.action in ("ren", "rm", "rmok"):
            mun = await session.get(Municipality, target)
            union = await session.get(Union, mun.union_id) if mun is not None else None
            if mun is None or union is None or mun.archived_at is not None:
                pass
            elif await _presser_coordinates(session, user, mun.union_id) is None:
                outcome = not_yours(tr)
            elif data.action == "ren":
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    flow=COMUNI_RENAME_FLOW,
                    step="name",
                    data={"union_id": union.id, "municipality_id": mun.id},
                    now=services.clock.now(),
                )
                outcome = Outcome(
                    text=_("Scrivimi il nuovo nome per <b>{name}</b>.").format(name=esc(mun.name)),
                    markup=InlineKeyboardMarkup([[button(_("Annulla"), COM, "stop", union.id)]]),
                )
            elif data.action == "rm":
                outcome = Outcome(
                    text=_(
                        "Tolgo <b>{name}</b> dai Comuni di {union}? Chi ne fa parte resta nel team."
                    ).format(name=esc(mun.name), union=esc(union.name)),
                    markup=InlineKeyboardMarkup(
                        [
                            [
                                button(_("Sì, toglilo"), COM, "rmok", mun.id),
                                button(_("No"), COM, "list", union.id),
                            ]
                        ]
                    ),
                )
            else:
                deleted = await reg_repo.remove_municipality(
                    session, municipality=mun, now=services.clock.now()
                )
                muns = await core_repo.municipalities(session, union.id)
                text, markup = render_municipalities(union, muns, tr)
                toast = (
                    _("Tolto.")
                    if deleted
                    else _("Archiviato: ha già una storia nel team, che resta com'era.")
                )
                outcome = Outcome(toast=toast, text=text, markup=markup, alert=not deleted)
    await deliver(update, outcome)


async def on_comuni_names(update: Update, context: BotContext, conv: Conversation) -> None:
    """The comma-separated list of new Comuni, all added in one transaction."""
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    text = _message_text(update)
    union_id = int(conv.data.get("union_id", 0))
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        union = await session.get(Union, union_id)
        markup: InlineKeyboardMarkup | None = None
        if union is None or await _presser_coordinates(session, user, union_id) is None:
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            answer = _("Non sei più coordinatore di questa Unione: non ho aggiunto nulla.")
        elif not text.strip():
            answer = _("Mandami i nomi come testo, separati da virgola.")
        else:
            active = {m.name_key: m.name for m in await core_repo.municipalities(session, union_id)}
            plan = rules.plan_name_list(text, active)
            added = await reg_repo.add_municipalities(
                session, union_id=union_id, names=plan.to_add, now=services.clock.now()
            )
            lines = []
            if added:
                lines.append(
                    tr.ngettext(
                        "✅ Aggiunto: {names}.", "✅ Aggiunti: {names}.", len(added)
                    ).format(names=", ".join(esc(m.name) for m in added))
                )
            if plan.already_present:
                lines.append(
                    tr.ngettext(
                        "Già presente: {names}.",
                        "Già presenti: {names}.",
                        len(plan.already_present),
                    ).format(names=", ".join(esc(n) for n in plan.already_present))
                )
            if plan.repeated:
                lines.append(
                    tr.ngettext(
                        "Ripetuto nel messaggio (l'ho contato una volta): {names}.",
                        "Ripetuti nel messaggio (li ho contati una volta): {names}.",
                        len(plan.repeated),
                    ).format(names=", ".join(esc(n) for n in plan.repeated))
                )
            for name, problem in plan.invalid:
                lines.append(
                    _("Non aggiunto «{name}»: {problem}").format(
                        name=esc(short(name, 40)),
                        problem=name_problem_text(problem, tr, maximum=rules.MUNICIPALITY_NAME_MAX),
                    )
                )
            if added:
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=chat.id
                )
                muns = await core_repo.municipalities(session, union_id)
                listing, markup = render_municipalities(union, muns, tr)
                lines += ["", listing]
            else:
                lines.append(_("Non ho aggiunto nulla. Mandami altri nomi, o premi Annulla."))
                markup = InlineKeyboardMarkup([[button(_("Annulla"), COM, "stop", union_id)]])
            answer = "\n".join(lines)
    await reply(update, answer, markup)


async def on_comuni_rename(update: Update, context: BotContext, conv: Conversation) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    union_id = int(conv.data.get("union_id", 0))
    mun_id = int(conv.data.get("municipality_id", 0))
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        markup: InlineKeyboardMarkup | None = None
        union = await session.get(Union, union_id)
        mun = await reg_repo.municipality_in_union(
            session, union_id=union_id, municipality_id=mun_id
        )
        if (
            union is None
            or mun is None
            or await _presser_coordinates(session, user, union_id) is None
        ):
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            answer = _("Questo Comune non si può più rinominare: non ho cambiato nulla.")
        else:
            name, problem = rules.check_municipality_name(_message_text(update))
            key = rules.fold_name(name)
            others = await reg_repo.municipality_keys(session, union_id)
            if problem is not None:
                answer = _("Nome non valido. {problem} Scrivimene un altro.").format(
                    problem=name_problem_text(problem, tr, maximum=rules.MUNICIPALITY_NAME_MAX)
                )
                markup = InlineKeyboardMarkup([[button(_("Annulla"), COM, "stop", union_id)]])
            elif key in others and others[key].id != mun.id:
                answer = _("{name} è già presente tra i Comuni: scegli un altro nome.").format(
                    name=esc(others[key].name)
                )
                markup = InlineKeyboardMarkup([[button(_("Annulla"), COM, "stop", union_id)]])
            else:
                old = mun.name
                mun.name, mun.name_key = name, key
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=chat.id
                )
                listing, markup = render_municipalities(
                    union, await core_repo.municipalities(session, union_id), tr
                )
                answer = (
                    _("✅ {old} ora si chiama {new}.").format(old=esc(old), new=esc(name))
                    + "\n\n"
                    + listing
                )
    await reply(update, answer, markup)


# --- /invito ----------------------------------------------------------------------------------


def _invite_binding(invite: Invite, muns: dict[int, str], tr: Translator) -> str:
    _ = tr.gettext
    parts = []
    if invite.municipality_id is not None:
        parts.append(esc(muns.get(invite.municipality_id, "?")))
    if invite.role is not None:
        parts.append(role_label(invite.role, tr))
    return " · ".join(parts) if parts else _("per chiunque")


def render_invites(
    union: Union, invites: Sequence[Invite], muns: dict[int, str], tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    tz = ZoneInfo(union.timezone)
    lines = [
        _("<b>Inviti per {union}</b>").format(union=esc(union.name)),
        _(
            "Un link vale 14 giorni. Chi lo apre sceglie Comune e ruolo (se non li fissi tu) "
            "e aspetta la tua approvazione."
        ),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if invites:
        lines.append(_("Inviti aperti:"))
        for n, invite in enumerate(invites, start=1):
            uses = (
                tr.ngettext("usato {n} volta", "usato {n} volte", invite.uses).format(n=invite.uses)
                if invite.uses
                else _("non ancora usato")
            )
            lines.append(
                _("{n}. {binding} — scade {date}, {uses}").format(
                    n=n,
                    binding=_invite_binding(invite, muns, tr),
                    date=format_date(invite.expires_at, tz, tr.language),
                    uses=uses,
                )
            )
            if len(rows) < 20:
                rows.append([button(_("Revoca il n. {n}").format(n=n), INV, "rv", invite.id)])
    else:
        lines.append(_("Nessun invito aperto."))
    rows.append([button(_("🔗 Nuovo link per chiunque"), INV, "mk", union.id, 0, "x")])
    rows.append(
        [
            button(_("🏠 Per un Comune"), INV, "pm", union.id),
            button(_("👤 Per un ruolo"), INV, "pr", union.id, 0),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _invites_view(
    session: AsyncSession, union: Union, now: datetime, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    invites = await reg_repo.open_invites(session, union_id=union.id, now=now)
    muns = {
        m.id: m.name
        for m in await core_repo.municipalities(session, union.id, include_archived=True)
    }
    return render_invites(union, invites, muns, tr)


async def invito(update: Update, context: BotContext) -> None:
    await invito_for_union(update, context, None)


async def invito_for_union(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        if who is None:
            return
        if update.effective_chat is None or update.effective_chat.type != Chat.PRIVATE:
            answer: Refusal | tuple[str, InlineKeyboardMarkup] = Refusal(
                who.tr.gettext("Questo comando funziona in chat privata con me: scrivimi lì.")
            )
        else:
            scope = await _coordinator_scope(
                session, update, context, command="invito", union_id=union_id
            )
            if isinstance(scope, Refusal):
                answer = scope
            else:
                answer = await _invites_view(session, scope.union, services.clock.now(), who.tr)
    if isinstance(answer, Refusal):
        await answer.send(update)
    else:
        await reply(update, answer[0], answer[1])


async def on_invite_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    user = query.from_user
    data = cb.decode(query.data)
    now = services.clock.now()
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        outcome = stale(tr)
        target = data.int_arg(0) if data else None
        union: Union | None = None
        invite: Invite | None = None
        # /invito is private: a forged press in a group would post a live invite link there.
        refusal = await refused_in_group(
            session, update, tr, _("Gli inviti si preparano in chat privata con me.")
        )
        if refusal is None and data is not None and target is not None:
            if data.action == "rv":
                invite = await session.get(Invite, target)
                union = await session.get(Union, invite.union_id) if invite else None
            else:
                union = await session.get(Union, target)
        coordinator = await _presser_coordinates(session, user, union.id) if union else None
        if refusal is not None:
            outcome = refusal
        elif data is None or union is None:
            pass
        elif coordinator is None:
            outcome = not_yours(tr)
        elif data.action == "pm":
            muns = await core_repo.municipalities(session, union.id)
            if not muns:
                outcome = Outcome(toast=_("Aggiungi prima i Comuni con /comuni."), alert=True)
            else:
                buttons = [
                    button(short(m.name), INV, "pr", union.id, m.id)
                    for m in muns[:MAX_LISTED_BUTTONS]
                ]
                outcome = Outcome(
                    text=_("Per quale Comune è il link?"),
                    markup=InlineKeyboardMarkup(
                        [*rows_of(buttons), [button(_("↩️ Indietro"), INV, "ls", union.id)]]
                    ),
                )
        elif data.action == "pr":
            mun_id = data.int_arg(1) or 0
            mun = (
                await reg_repo.municipality_in_union(
                    session, union_id=union.id, municipality_id=mun_id
                )
                if mun_id
                else None
            )
            if mun_id and mun is None:
                pass
            else:
                choices = [
                    button(role_label(r, tr), INV, "mk", union.id, mun_id, rules.ROLE_SHORT[r])
                    for r in rules.JOINABLE_ROLES
                ]
                if mun is not None:
                    choices.append(button(_("Qualsiasi ruolo"), INV, "mk", union.id, mun_id, "x"))
                title = (
                    _("Link per {comune}: per quale ruolo?").format(comune=esc(mun.name))
                    if mun
                    else _("Per quale ruolo è il link?")
                )
                outcome = Outcome(
                    text=title,
                    markup=InlineKeyboardMarkup(
                        [*rows_of(choices), [button(_("↩️ Indietro"), INV, "ls", union.id)]]
                    ),
                )
        elif data.action == "ls":
            text, markup = await _invites_view(session, union, now, tr)
            outcome = Outcome(text=text, markup=markup)
        elif data.action == "rv" and invite is not None:
            done = await reg_repo.revoke_invite(
                session, invite_id=invite.id, union_id=union.id, now=now
            )
            text, markup = await _invites_view(session, union, now, tr)
            outcome = Outcome(
                toast=_("Invito revocato: il link non funziona più.")
                if done
                else _("Era già chiuso."),
                text=text,
                markup=markup,
            )
        elif data.action == "mk" and data.int_arg(1) is None:
            pass  # a Comune that is not a number is garbage, not "any Comune"
        elif data.action == "mk":
            outcome = await _make_invite(
                session, context, union, coordinator, data.int_arg(1), data.str_arg(2), now, tr
            )
    await deliver(update, outcome)


async def _make_invite(
    session: AsyncSession,
    context: BotContext,
    union: Union,
    coordinator: Member,
    mun_id: int | None,
    role_short: str | None,
    now: datetime,
    tr: Translator,
) -> Outcome:
    _ = tr.gettext
    role = rules.ROLE_FROM_SHORT.get(role_short or "")
    if role_short != "x" and role not in rules.JOINABLE_ROLES:
        return stale(tr)
    mun = None
    if mun_id:
        mun = await reg_repo.municipality_in_union(
            session, union_id=union.id, municipality_id=mun_id
        )
        if mun is None:
            return stale(tr)
    if mun is not None and role == RoleCode.SINDACO:
        taken = await reg_repo.sindaco_by_municipality(
            session, union_id=union.id, municipality_ids=[mun.id]
        )
        if taken:
            return Outcome(
                toast=assignment_problem_text(
                    AssignmentProblem.SINDACO_TAKEN, tr, comune=mun.name, coordinator=True
                ),
                alert=True,
            )
    token = rules.new_invite_token()
    expires = now + rules.INVITE_VALIDITY
    await reg_repo.create_invite(
        session,
        union_id=union.id,
        token_hash=rules.hash_token(token),
        municipality_id=mun.id if mun else None,
        role=Role(role.value) if role else None,
        created_by_member_id=coordinator.id,
        now=now,
        expires_at=expires,
    )
    link = rules.invite_link(context.bot.username, token)
    binding = []
    if mun is not None:
        binding.append(_("Comune: {comune}").format(comune=esc(mun.name)))
    if role is not None and mun is not None:
        binding.append(_("ruolo: {role}").format(role=role_label(role, tr)))
    elif role is not None:
        binding.append(_("Ruolo: {role}").format(role=role_label(role, tr)))
    scope_line = (
        "; ".join(binding) if binding else _("Chi lo apre sceglie il suo Comune e il suo ruolo.")
    )
    text = _(
        "🔗 Link d'invito per <b>{union}</b>\n{scope}\n"
        "Scade {date}. Vale per più persone; ogni richiesta la approvi tu.\n\n"
        "Inoltra il messaggio qui sotto a chi deve entrare. Per sicurezza non conservo il link: "
        "se lo perdi, creane uno nuovo."
    ).format(
        union=esc(union.name),
        scope=scope_line,
        date=format_date(expires, ZoneInfo(union.timezone), tr.language, year=True),
    )
    invitation = _(
        "Ti invito nel Team energia di {union}. Apri il link e segui le istruzioni:\n{link}"
    ).format(union=esc(union.name), link=esc(link))
    return Outcome(toast=_("Link creato."), text=text, new_message=True, extra=[invitation])


# --- /start <token>: joining ------------------------------------------------------------------


def _next_step(data: dict[str, Any]) -> str:
    if "municipality_id" not in data:
        return "comune"
    if data.get("role") is None:
        return "role"
    return "name"


async def _join_prompt(
    session: AsyncSession, union: Union, data: dict[str, Any], step: str, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    invite_id = int(data["invite_id"])
    cancel = button(_("Annulla"), REG, "x", invite_id)
    if step == "comune":
        muns = await core_repo.municipalities(session, union.id)
        buttons = [
            button(short(m.name), REG, "m", invite_id, m.id) for m in muns[:MAX_LISTED_BUTTONS]
        ]
        rows = rows_of(buttons)
        if data.get("role") is None:
            rows.append([button(_("Nessun Comune (staff dell'Unione)"), REG, "m", invite_id, 0)])
        rows.append([cancel])
        text = _("<b>1/3</b> Di quale Comune fai parte?")
        if not muns:
            text += "\n" + _(
                "(L'Unione non ha ancora inserito i suoi Comuni: se ne fai parte, chiedi al coordinatore di aggiungerli e riapri il link.)"
            )
        return text, InlineKeyboardMarkup(rows)
    if step == "role":
        mun = await session.get(Municipality, int(data["municipality_id"] or 0))
        buttons = [
            button(role_label(r, tr), REG, "r", invite_id, rules.ROLE_SHORT[r])
            for r in rules.JOINABLE_ROLES
        ]
        text = _("<b>2/3</b> Qual è il tuo ruolo per {comune}?").format(
            comune=esc(mun.name if mun else "")
        )
        return text, InlineKeyboardMarkup([[b] for b in buttons] + [[cancel]])
    text = _(
        "<b>3/3</b> Nel team ti vedranno come <b>{name}</b>.\n"
        "Va bene? Se preferisci un altro nome (per esempio nome e cognome), scrivimelo."
    ).format(name=esc(str(data.get("name", ""))))
    return text, InlineKeyboardMarkup([[button(_("✅ Va bene"), REG, "ok", invite_id)], [cancel]])


def _invite_problem_text(state: InviteState | None, tr: Translator) -> str:
    _ = tr.gettext
    if state == InviteState.EXPIRED:
        return _(
            "Questo link d'invito è scaduto. Chiedi al coordinatore della tua Unione un link nuovo."
        )
    if state == InviteState.REVOKED:
        return _("Questo link d'invito è stato revocato dal coordinatore. Chiedigliene uno nuovo.")
    return _(
        "Questo link d'invito non è valido. Controlla di averlo aperto per intero, "
        "o chiedi al coordinatore della tua Unione un link nuovo."
    )


def _already_text(member: Member, union: Union, tr: Translator) -> str:
    _ = tr.gettext
    if member.status == MemberStatus.ACTIVE:
        return _(
            "Fai già parte del Team energia di <b>{union}</b>. Scrivi /team per vedere chi c'è."
        ).format(union=esc(union.name))
    return _(
        "La tua richiesta per <b>{union}</b> è già arrivata al coordinatore: "
        "ti scrivo appena risponde."
    ).format(union=esc(union.name))


async def on_start_payload(update: Update, context: BotContext, payload: str) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None:
        return
    tr = who.tr
    _ = tr.gettext
    if chat.type != Chat.PRIVATE:
        await reply(update, _("Apri il link d'invito in chat privata con me."))
        return
    if not rules.is_valid_token(payload):  # before any lookup: anyone can type anything
        await reply(update, _invite_problem_text(None, tr))
        return
    now = services.clock.now()
    messages: list[tuple[str, InlineKeyboardMarkup | None]] = []
    async with update_transaction(context, update) as session:
        invite = await reg_repo.invite_by_hash(session, rules.hash_token(payload))
        union = await session.get(Union, invite.union_id) if invite else None
        state = (
            rules.invite_state(expires_at=invite.expires_at, revoked_at=invite.revoked_at, now=now)
            if invite
            else None
        )
        if invite is None or union is None or state != InviteState.OPEN:
            messages.append((_invite_problem_text(state, tr), None))
        else:
            person = await core_repo.upsert_person(
                session,
                telegram_user_id=user.id,
                display_name=telegram_display_name(user, nameless=_(NAMELESS)),
                username=user.username,
                telegram_language=user.language_code,
                now=now,
            )
            existing = await reg_repo.membership(session, union_id=union.id, person_id=person.id)
            bound_mun = (
                await reg_repo.municipality_in_union(
                    session, union_id=union.id, municipality_id=invite.municipality_id
                )
                if invite.municipality_id
                else None
            )
            taken = (
                await reg_repo.sindaco_by_municipality(
                    session, union_id=union.id, municipality_ids=[bound_mun.id]
                )
                if bound_mun is not None and invite.role == Role.SINDACO
                else {}
            )
            if existing is not None and existing.status in (
                MemberStatus.ACTIVE,
                MemberStatus.PENDING,
            ):
                messages.append((_already_text(existing, union, tr), None))
            elif invite.municipality_id and bound_mun is None:
                messages.append(
                    (
                        _(
                            "Il Comune di questo invito non fa più parte dell'Unione. Chiedi al coordinatore un link nuovo."
                        ),
                        None,
                    )
                )
            elif taken and bound_mun is not None:
                messages.append(
                    (
                        esc(
                            assignment_problem_text(
                                AssignmentProblem.SINDACO_TAKEN, tr, comune=bound_mun.name
                            )
                        ),
                        None,
                    )
                )
            else:
                data: dict[str, Any] = {
                    "invite_id": invite.id,
                    "union_id": union.id,
                    # Someone already known keeps the name they chose; a newcomer gets Telegram's.
                    "name": rules.shown_or_default(
                        person.display_name, telegram_display_name(user, nameless=_(NAMELESS))
                    )[: rules.DISPLAY_NAME_MAX],
                    "role": invite.role.value if invite.role else None,
                }
                if bound_mun is not None:
                    data["municipality_id"] = bound_mun.id
                step = _next_step(data)
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    flow=JOIN_FLOW,
                    step=step,
                    data=data,
                    now=now,
                )
                welcome = _(
                    "Ciao! Ti hanno invitato nel <b>Team energia di {union}</b>.\n"
                    "Qualche domanda veloce, poi il coordinatore conferma la tua iscrizione."
                ).format(union=esc(union.name))
                messages.append((welcome + "\n\n" + privacy_notice(tr), None))
                messages.append(await _join_prompt(session, union, data, step, tr))
    for text, markup in messages:
        await reply(update, text, markup)


async def on_join_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    services = context.services
    user = query.from_user
    data = cb.decode(query.data)
    now = services.clock.now()
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        outcome = stale(tr)
        conv = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=chat.id, now=now
        )
        invite_id = data.int_arg(0) if data else None
        if (
            data is None
            or conv is None
            or conv.flow != JOIN_FLOW
            or conv.data.get("invite_id") != invite_id
        ):
            pass  # someone else's buttons, an old message, or forged data: the conversation decides
        elif data.action == "x":
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            outcome = Outcome(
                toast=_("Annullato."),
                text=_("Va bene, ho annullato. Se cambi idea, riapri il link d'invito."),
            )
        else:
            union = await session.get(Union, int(conv.data["union_id"]))
            state = dict(conv.data)
            if union is None:
                pass
            elif data.action == "m" and conv.step == "comune":
                outcome = await _join_pick_comune(session, union, state, data.int_arg(1), tr)
            elif data.action == "r" and conv.step == "role":
                outcome = await _join_pick_role(session, union, state, data.str_arg(1), tr)
            elif data.action == "ok" and conv.step == "name":
                outcome = await _submit_join(session, context, user, union, state, tr)
            if outcome.text is not None and outcome.markup is not None and "submitted" not in state:
                step = _next_step(state)
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    flow=JOIN_FLOW,
                    step=step,
                    data=state,
                    now=now,
                )
    await deliver(update, outcome)
    await flush_outbox(context)


async def _join_pick_comune(
    session: AsyncSession, union: Union, state: dict[str, Any], mun_id: int | None, tr: Translator
) -> Outcome:
    _ = tr.gettext
    if mun_id is None:
        return stale(tr)
    if mun_id == 0:
        if state.get("role") is not None:
            return stale(tr)
        state["municipality_id"] = None
        state["role"] = RoleCode.STAFF.value
    else:
        mun = await reg_repo.municipality_in_union(
            session, union_id=union.id, municipality_id=mun_id
        )
        if mun is None:
            return Outcome(toast=_("Questo Comune non c'è più: scegline un altro."), alert=True)
        if state.get("role") == RoleCode.SINDACO.value:
            taken = await reg_repo.sindaco_by_municipality(
                session, union_id=union.id, municipality_ids=[mun.id]
            )
            if taken:
                return Outcome(
                    toast=assignment_problem_text(
                        AssignmentProblem.SINDACO_TAKEN, tr, comune=mun.name
                    ),
                    alert=True,
                )
        state["municipality_id"] = mun.id
    text, markup = await _join_prompt(session, union, state, _next_step(state), tr)
    return Outcome(text=text, markup=markup)


async def _join_pick_role(
    session: AsyncSession,
    union: Union,
    state: dict[str, Any],
    short_role: str | None,
    tr: Translator,
) -> Outcome:
    role = rules.ROLE_FROM_SHORT.get(short_role or "")
    if role not in rules.JOINABLE_ROLES or state.get("municipality_id") is None:
        return stale(tr)
    mun_id = int(state["municipality_id"])
    if role == RoleCode.SINDACO:
        taken = await reg_repo.sindaco_by_municipality(
            session, union_id=union.id, municipality_ids=[mun_id]
        )
        if taken:
            mun = await session.get(Municipality, mun_id)
            return Outcome(
                toast=assignment_problem_text(
                    AssignmentProblem.SINDACO_TAKEN, tr, comune=mun.name if mun else ""
                ),
                alert=True,
            )
    state["role"] = role.value
    text, markup = await _join_prompt(session, union, state, _next_step(state), tr)
    return Outcome(text=text, markup=markup)


def render_request(
    union: Union, person: Person, member: Member, mun_names: Sequence[str], tr: Translator
) -> str:
    _ = tr.gettext
    who = name_of(person, tr)
    if person.username:
        who += f" (@{esc(person.username)})"
    comune = ", ".join(esc(n) for n in mun_names) if mun_names else _("nessuno (staff dell'Unione)")
    return _(
        "🙋 <b>Nuova richiesta</b> per il Team energia di <b>{union}</b>\n"
        "Chi: {who}\nComune: {comune}\nRuolo: {role}"
    ).format(union=esc(union.name), who=who, comune=comune, role=role_label(member.role, tr))


async def _submit_join(
    session: AsyncSession,
    context: BotContext,
    user: User,
    union: Union,
    state: dict[str, Any],
    tr: Translator,
) -> Outcome:
    """The request: checked again, the invite use counted atomically, the coordinators told."""
    services = context.services
    _ = tr.gettext
    now = services.clock.now()
    chat_id = user.id
    person = await core_repo.upsert_person(
        session,
        telegram_user_id=user.id,
        display_name=telegram_display_name(user, nameless=_(NAMELESS)),
        username=user.username,
        telegram_language=user.language_code,
        now=now,
    )
    existing = await reg_repo.membership(session, union_id=union.id, person_id=person.id)
    if existing is not None and existing.status in (MemberStatus.ACTIVE, MemberStatus.PENDING):
        await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat_id)
        state["submitted"] = True
        return Outcome(text=_already_text(existing, union, tr))
    role = RoleCode(str(state["role"]))
    mun_ids = [int(state["municipality_id"])] if state.get("municipality_id") else []
    for mid in mun_ids:
        if (
            await reg_repo.municipality_in_union(session, union_id=union.id, municipality_id=mid)
            is None
        ):
            state.pop("municipality_id", None)
            text, markup = await _join_prompt(session, union, state, "comune", tr)
            return Outcome(
                toast=_("Questo Comune non c'è più: scegline un altro."),
                alert=True,
                text=text,
                markup=markup,
            )
    sindaci = await reg_repo.sindaco_by_municipality(
        session, union_id=union.id, municipality_ids=mun_ids
    )
    problem = rules.check_assignment(
        role=role, municipality_ids=mun_ids, sindaco_by_municipality=sindaci, member_id=None
    )
    if problem is not None:
        mun = await session.get(Municipality, mun_ids[0]) if mun_ids else None
        state["role"] = None
        text, markup = await _join_prompt(session, union, state, "role", tr)
        return Outcome(
            text=esc(assignment_problem_text(problem, tr, comune=mun.name if mun else None))
            + "\n\n"
            + text,
            markup=markup,
        )
    if not await reg_repo.redeem_invite(session, invite_id=int(state["invite_id"]), now=now):
        await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat_id)
        state["submitted"] = True
        return Outcome(
            text=_(
                "Nel frattempo il link d'invito è scaduto o è stato revocato. Chiedi al coordinatore un link nuovo."
            )
        )
    person.display_name = str(state["name"])
    member = await reg_repo.request_membership(
        session,
        union_id=union.id,
        person_id=person.id,
        role=Role(role.value),
        municipality_ids=mun_ids,
        invite_id=int(state["invite_id"]),
        now=now,
    )
    await _notify_coordinators_of_request(session, services, union, person, member, mun_ids)
    await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat_id)
    state["submitted"] = True
    return Outcome(
        toast=_("Richiesta inviata."),
        text=_(
            "✅ Richiesta inviata al coordinatore di <b>{union}</b>. Ti scrivo appena risponde."
        ).format(union=esc(union.name)),
    )


async def _notify_coordinators_of_request(
    session: AsyncSession,
    services: Services,
    union: Union,
    person: Person,
    member: Member,
    mun_ids: Sequence[int],
) -> None:
    names = []
    for mid in mun_ids:
        mun = await session.get(Municipality, mid)
        if mun is not None:
            names.append(mun.name)
    stamp = int(member.requested_at.timestamp())
    for coordinator, coord_person in await core_repo.coordinators(session, union.id):
        if coord_person.telegram_user_id is None:
            continue
        ctr = tr_for(services, person=coord_person)
        markup = InlineKeyboardMarkup(
            [
                [
                    button(ctr.gettext("✅ Approva"), APPR, "ok", member.id),
                    button(ctr.gettext("❌ Rifiuta"), APPR, "no", member.id),
                ]
            ]
        )
        await outbox_repo.enqueue(
            session,
            dedup_key=f"reg:req:{member.id}:{stamp}:{coordinator.id}",
            chat_id=coord_person.telegram_user_id,
            method="sendMessage",
            payload={
                "text": render_request(union, person, member, names, ctr),
                "reply_markup": markup.to_dict(),
            },
            union_id=union.id,
            person_id=coord_person.id,
            now=services.clock.now(),
            names=[person.id],
        )


async def on_join_text(update: Update, context: BotContext, conv: Conversation) -> None:
    """Typed text during joining: a display name at the last step, otherwise a nudge."""
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    now = services.clock.now()
    messages: list[tuple[str, InlineKeyboardMarkup | None]] = []
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        state = dict(conv.data)
        union = await session.get(Union, int(state.get("union_id", 0)))
        if union is None:
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            messages.append((_invite_problem_text(None, tr), None))
        elif conv.step != "name":
            messages.append((_("Rispondi con i pulsanti qui sotto."), None))
            messages.append(await _join_prompt(session, union, state, conv.step, tr))
        else:
            name, problem = rules.check_display_name(_message_text(update))
            if problem is not None:
                messages.append(
                    (
                        _(
                            "Nome non valido. {problem} Scrivimene un altro, o premi «Va bene»."
                        ).format(
                            problem=name_problem_text(problem, tr, maximum=rules.DISPLAY_NAME_MAX)
                        ),
                        None,
                    )
                )
                messages.append(await _join_prompt(session, union, state, "name", tr))
            else:
                state["name"] = name
                outcome = await _submit_join(session, context, user, union, state, tr)
                if "submitted" not in state:
                    await core_repo.set_conversation(
                        session,
                        telegram_user_id=user.id,
                        chat_id=chat.id,
                        flow=JOIN_FLOW,
                        step=_next_step(state),
                        data=state,
                        now=now,
                    )
                if outcome.text:
                    messages.append((outcome.text, outcome.markup))
                elif outcome.toast:
                    messages.append((outcome.toast, None))
    for text, markup in messages:
        await reply(update, text, markup)
    await flush_outbox(context)


# --- approval ---------------------------------------------------------------------------------


async def on_approval_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    user = query.from_user
    data = cb.decode(query.data)
    now = services.clock.now()
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        outcome = stale(tr)
        refusal = await refused_in_group(session, update, tr)
        member_id = data.int_arg(0) if data else None
        found = await reg_repo.member_with_person(session, member_id) if member_id else None
        if refusal is not None:
            outcome = refusal
        elif data is None or data.action not in ("ok", "no") or found is None:
            pass
        else:
            member, person = found
            union = await session.get(Union, member.union_id)
            coordinator = await _presser_coordinates(session, user, member.union_id)
            if union is None:
                pass
            elif coordinator is None:
                outcome = Outcome(
                    toast=_("Solo il coordinatore di questa Unione può decidere sulle richieste."),
                    alert=True,
                )
            else:
                outcome = await _decide(
                    session,
                    services,
                    union,
                    member,
                    person,
                    coordinator,
                    data.action == "ok",
                    now,
                    tr,
                )
    await deliver(update, outcome)
    await flush_outbox(context)


async def _decide(
    session: AsyncSession,
    services: Services,
    union: Union,
    member: Member,
    person: Person,
    coordinator: Member,
    approve: bool,
    now: datetime,
    tr: Translator,
) -> Outcome:
    _ = tr.gettext
    mun_ids = await core_repo.municipality_ids_of(session, member.id)
    names = [
        m.name
        for m in await core_repo.municipalities(session, union.id, include_archived=True)
        if m.id in mun_ids
    ]
    request = render_request(union, person, member, names, tr)
    if member.status != MemberStatus.PENDING:
        if member.status == MemberStatus.ACTIVE:
            already = _("Questa richiesta è già stata approvata.")
        elif member.status == MemberStatus.REJECTED:
            already = _("Questa richiesta è già stata rifiutata.")
        else:
            already = _("Questa richiesta non è più in attesa.")
        return Outcome(toast=already, text=request + "\n\n" + already)
    coord_person = await session.get(Person, coordinator.person_id)
    by = name_of(coord_person, tr)
    if approve:
        sindaci = await reg_repo.sindaco_by_municipality(
            session, union_id=union.id, municipality_ids=mun_ids
        )
        problem = rules.check_assignment(
            role=RoleCode(member.role.value),
            municipality_ids=mun_ids,
            sindaco_by_municipality=sindaci,
            member_id=member.id,
        )
        if problem is not None:
            return Outcome(
                toast=assignment_problem_text(
                    problem, tr, comune=names[0] if names else None, coordinator=True
                ),
                alert=True,
            )
    member.status = MemberStatus.ACTIVE if approve else MemberStatus.REJECTED
    member.decided_at, member.decided_by_member_id = now, coordinator.id
    if person.telegram_user_id is not None:
        ptr = tr_for(services, person=person)
        if approve:
            text = ptr.gettext(
                "🎉 Ti diamo il benvenuto nel Team energia di <b>{union}</b>: il coordinatore ha approvato la tua iscrizione.\n"
                "Scrivi /team per vedere chi c'è e /aiuto per sapere che cosa puoi fare."
            ).format(union=esc(union.name))
        else:
            text = ptr.gettext(
                "La tua richiesta per il Team energia di <b>{union}</b> non è stata accolta. "
                "Se pensi che sia un errore, parlane con il coordinatore dell'Unione."
            ).format(union=esc(union.name))
        await outbox_repo.enqueue(
            session,
            dedup_key=f"reg:out:{member.id}:{int(member.requested_at.timestamp())}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": text},
            union_id=union.id,
            person_id=person.id,
            now=now,
        )
    result = _("✅ Approvata da {by}.") if approve else _("❌ Rifiutata da {by}.")
    return Outcome(
        toast=_("Approvata.") if approve else _("Rifiutata."),
        text=request + "\n\n" + result.format(by=by),
    )


# --- /team and member management --------------------------------------------------------------


def render_roster(
    union: Union,
    rows: Sequence[reg_repo.RosterRow],
    municipalities: Sequence[Municipality],
    links: dict[TableKind, str],
    tr: Translator,
) -> list[str]:
    """The roster as HTML messages (split between lines when long)."""
    _ = tr.gettext
    active = [r for r in rows if r.member.status == MemberStatus.ACTIVE]
    entries = [
        RosterEntry(
            member_id=r.member.id,
            name=present_name(r.person),
            role=RoleCode(r.member.role.value),
            is_coordinator=r.member.is_coordinator,
            reachable=r.person.reachable,
            municipality_ids=r.municipality_ids,
        )
        for r in active
    ]
    archived = " " + _("(non più nell'Unione)")
    groups = rules.group_roster(
        entries,
        [(m.id, m.name + (archived if m.archived_at else "")) for m in municipalities],
    )
    legend = [tr.ngettext("{n} membro", "{n} membri", len(active)).format(n=len(active))]
    if any(e.is_coordinator for e in entries):
        legend.append(_("⭐ coordinatore"))
    if any(not e.reachable for e in entries):
        legend.append(_("⚠️ non raggiungibile: non ha avviato il bot o l'ha bloccato"))
    lines = [
        _("<b>Team energia di {union}</b>").format(union=esc(union.name)),
        " · ".join(legend),
    ]
    for group in groups:
        lines.append("")
        title = esc(group.name) if group.name is not None else _("Staff dell'Unione")
        lines.append(f"<b>{title}</b>")
        if not group.entries:
            lines.append("<i>" + _("nessuno per ora") + "</i>")
        for e in group.entries:
            line = f"{ROLE_ICONS[e.role]} {esc(e.name)}"
            if e.role != RoleCode.STAFF:  # the heading already says "Staff dell'Unione"
                line += f" — {role_label(e.role, tr)}"
            if e.is_coordinator:
                line += " ⭐"
            if not e.reachable:
                line += " ⚠️"
            lines.append(line)
    lines.append("")
    for table in (TableKind.POLITICAL, TableKind.TECHNICAL):
        group_title = links.get(table)
        lines.append(
            _("{table}: {group}").format(
                table=table_label(table, tr),
                group=("«" + esc(group_title) + "»")
                if group_title is not None
                else _("gruppo non ancora collegato"),
            )
        )
    return rules.split_lines(lines)


def roster_buttons(
    union: Union, rows: Sequence[reg_repo.RosterRow], tr: Translator
) -> InlineKeyboardMarkup:
    _ = tr.gettext
    pending = [r for r in rows if r.member.status == MemberStatus.PENDING]
    active = sorted(
        (r for r in rows if r.member.status == MemberStatus.ACTIVE),
        key=lambda r: rules.fold_name(present_name(r.person)),
    )
    buttons = [
        button("⏳ " + short(present_name(r.person), 24), MBR, "show", r.member.id) for r in pending
    ]
    buttons += [
        button("✏️ " + short(present_name(r.person), 24), MBR, "show", r.member.id) for r in active
    ]
    return InlineKeyboardMarkup(rows_of(buttons[:MAX_LISTED_BUTTONS]))


async def _team_view(
    session: AsyncSession, union: Union, tr: Translator, *, manage: bool
) -> tuple[list[str], InlineKeyboardMarkup | None]:
    statuses = (MemberStatus.ACTIVE, MemberStatus.PENDING) if manage else (MemberStatus.ACTIVE,)
    rows = await reg_repo.roster(session, union_id=union.id, statuses=statuses)
    # An archived Comune still shows while someone stands for it (they stay in the team).
    used = {
        mid for r in rows if r.member.status == MemberStatus.ACTIVE for mid in r.municipality_ids
    }
    muns = [
        m
        for m in await core_repo.municipalities(session, union.id, include_archived=True)
        if m.archived_at is None or m.id in used
    ]
    links = {}
    for table in (TableKind.POLITICAL, TableKind.TECHNICAL):
        link = await core_repo.linked_chat(session, union_id=union.id, table=table)
        if link is not None:
            links[table] = link.title
    texts = render_roster(union, rows, muns, links, tr)
    if not manage:
        return texts, None
    _ = tr.gettext
    pending = sum(1 for r in rows if r.member.status == MemberStatus.PENDING)
    note = _("Tocca un nome per cambiare ruolo, Comune o permessi.")
    if pending:
        note = (
            tr.ngettext(
                "⏳ {n} richiesta in attesa.", "⏳ {n} richieste in attesa.", pending
            ).format(n=pending)
            + " "
            + note
        )
    texts[-1] += "\n\n" + note
    return texts, roster_buttons(union, rows, tr)


async def team(update: Update, context: BotContext) -> None:
    await team_for_union(update, context, None)


async def team_for_union(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    chat = update.effective_chat
    if chat is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        scope = await resolve_union(
            session, update, context, command="team", chosen_union_id=union_id
        )
        if who is None or isinstance(scope, Refusal):
            texts: list[str] = []
            markup = None
        else:
            manage = scope.is_coordinator and chat.type == Chat.PRIVATE
            texts, markup = await _team_view(session, scope.union, who.tr, manage=manage)
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    for n, text in enumerate(texts):
        await reply(update, text, markup if n == len(texts) - 1 else None)


def _texts_outcome(texts: list[str], markup: InlineKeyboardMarkup | None) -> Outcome:
    """A long roster: the first part replaces the pressed message, the rest follow it.

    The buttons go with the last part, so they must then come in a new message too."""
    if len(texts) == 1:
        return Outcome(text=texts[0], markup=markup)
    return Outcome(text=texts[0], extra=texts[1:-1], tail=(texts[-1], markup))


async def on_team_button(update: Update, context: BotContext) -> None:
    """`team:ls:<union>` — back to the roster from a member card."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    data = cb.decode(query.data)
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=query.from_user)
        outcome = stale(tr)
        refusal = await refused_in_group(session, update, tr)
        union_id = data.int_arg(0) if data else None
        union = await session.get(Union, union_id) if union_id else None
        if refusal is not None:
            outcome = refusal
        elif union is None or data is None or data.action != "ls":
            pass
        elif await _presser_coordinates(session, query.from_user, union.id) is None:
            outcome = not_yours(tr)
        else:
            texts, markup = await _team_view(session, union, tr, manage=True)
            outcome = _texts_outcome(texts, markup)
    await deliver(update, outcome)


async def _member_card(
    session: AsyncSession, union: Union, member: Member, person: Person, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    mun_ids = await core_repo.municipality_ids_of(session, member.id)
    muns = [
        m
        for m in await core_repo.municipalities(session, union.id, include_archived=True)
        if m.id in mun_ids
    ]
    who = name_of(person, tr) + (f" (@{esc(person.username)})" if person.username else "")
    names = ", ".join(esc(m.name) for m in muns)
    lines = [
        f"<b>{who}</b> · {esc(union.name)}",
        _("Ruolo: {role}").format(role=role_label(member.role, tr)),
        tr.ngettext("Comune: {names}", "Comuni: {names}", len(muns)).format(names=names)
        if muns
        else _("Comune: nessuno (staff dell'Unione)"),
    ]
    if member.is_coordinator:
        lines.append(_("⭐ Coordinatore"))
    if not person.reachable:
        lines.append(_("⚠️ Non raggiungibile: non ha avviato il bot o l'ha bloccato."))
    rows: list[list[InlineKeyboardButton]] = []
    if member.status == MemberStatus.PENDING:
        lines.append(_("⏳ In attesa di approvazione."))
        rows.append(
            [
                button(_("✅ Approva"), APPR, "ok", member.id),
                button(_("❌ Rifiuta"), APPR, "no", member.id),
            ]
        )
    elif member.status == MemberStatus.ACTIVE:
        rows.append([button(_("Cambia ruolo"), MBR, "role", member.id)])
        if member.role != Role.STAFF:
            label = _("Comuni serviti") if member.role == Role.TECNICO else _("Cambia Comune")
            rows.append([button(label, MBR, "mun", member.id)])
        if member.is_coordinator:
            rows.append([button(_("Togli il ruolo di coordinatore"), MBR, "co", member.id, 0)])
        else:
            rows.append([button(_("⭐ Rendi coordinatore"), MBR, "co", member.id, 1)])
        rows.append([button(_("🚫 Togli dal team"), MBR, "rm", member.id)])
    else:
        lines.append(_("Non fa più parte del team."))
    rows.append([button(_("↩️ Torna al team"), TEAM, "ls", union.id)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def on_member_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.services
    user = query.from_user
    data = cb.decode(query.data)
    now = services.clock.now()
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        outcome = stale(tr)
        refusal = await refused_in_group(session, update, tr)
        member_id = data.int_arg(0) if data else None
        found = await reg_repo.member_with_person(session, member_id) if member_id else None
        if refusal is not None:
            outcome = refusal
        elif data is not None and found is not None:
            member, person = found
            union = await session.get(Union, member.union_id)
            coordinator = await _presser_coordinates(session, user, member.union_id)
            if union is None:
                pass
            elif coordinator is None:
                outcome = not_yours(tr)
            else:
                outcome = await _manage_member(
                    session, services, union, member, person, coordinator, data, now, tr
                )
    await deliver(update, outcome)
    await flush_outbox(context)


async def _manage_member(
    session: AsyncSession,
    services: Services,
    union: Union,
    member: Member,
    person: Person,
    coordinator: Member,
    data: cb.CallbackData,
    now: datetime,
    tr: Translator,
) -> Outcome:
    _ = tr.gettext
    action = data.action
    if action == "show":
        text, markup = await _member_card(session, union, member, person, tr)
        return Outcome(text=text, markup=markup)
    if member.status != MemberStatus.ACTIVE:
        text, markup = await _member_card(session, union, member, person, tr)
        return Outcome(toast=_("Non è più un membro attivo."), text=text, markup=markup)
    back = [button(_("↩️ Indietro"), MBR, "show", member.id)]
    muns = await core_repo.municipalities(session, union.id)
    current = await core_repo.municipality_ids_of(session, member.id)
    if action == "role":
        choices = [
            button(role_label(r, tr), MBR, "sr", member.id, rules.ROLE_SHORT[r])
            for r in (*rules.JOINABLE_ROLES, RoleCode.STAFF)
        ]
        return Outcome(
            text=_("Nuovo ruolo per <b>{name}</b>:").format(name=name_of(person, tr)),
            markup=InlineKeyboardMarkup([[c] for c in choices] + [back]),
        )
    if action in ("sr", "as"):
        role = rules.ROLE_FROM_SHORT.get(data.str_arg(1) or "")
        if role is None:
            return stale(tr)
        if action == "as":
            mun_id = data.int_arg(2)
            if mun_id is None or mun_id not in {m.id for m in muns}:
                return stale(tr)
            target = [mun_id]
        elif role == RoleCode.STAFF:
            target = []
        elif (role == RoleCode.TECNICO and current) or (
            len(current) == 1 and role != RoleCode.TECNICO
        ):
            target = list(current)
        else:
            if not muns:
                return Outcome(toast=_("Aggiungi prima i Comuni con /comuni."), alert=True)
            buttons = [
                button(short(m.name), MBR, "as", member.id, rules.ROLE_SHORT[role], m.id)
                for m in muns[:MAX_LISTED_BUTTONS]
            ]
            return Outcome(
                text=_("{role}: di quale Comune?").format(role=role_label(role, tr)),
                markup=InlineKeyboardMarkup([*rows_of(buttons), back]),
            )
        return await _assign(session, services, union, member, person, role, target, now, tr)
    if action == "mun":
        role = RoleCode(member.role.value)
        if role == RoleCode.STAFF:
            return stale(tr)
        marks = [
            button(("✅ " if m.id in current else "▫️ ") + short(m.name), MBR, "pm", member.id, m.id)
            for m in muns[:MAX_LISTED_BUTTONS]
        ]
        hint = (
            _("Tocca i Comuni per cui lavora (almeno uno).")
            if role == RoleCode.TECNICO
            else _("Scegli il Comune che rappresenta.")
        )
        return Outcome(
            text=f"<b>{name_of(person, tr)}</b>\n{hint}",
            markup=InlineKeyboardMarkup([*rows_of(marks), back]),
        )
    if action == "pm":
        mun_id = data.int_arg(1)
        if mun_id is None or mun_id not in {m.id for m in muns}:
            return stale(tr)
        role = RoleCode(member.role.value)
        if role == RoleCode.TECNICO:
            target = (
                [m for m in current if m != mun_id] if mun_id in current else [*current, mun_id]
            )
        else:
            target = [mun_id]
        outcome = await _assign(session, services, union, member, person, role, target, now, tr)
        if role == RoleCode.TECNICO and not outcome.alert:
            # Stay on the list of Comuni so that several can be ticked in a row.
            again = cb.CallbackData(area=MBR, action="mun", args=(str(member.id),))
            listing = await _manage_member(
                session, services, union, member, person, coordinator, again, now, tr
            )
            listing.toast = outcome.toast
            return listing
        return outcome
    if action == "co":
        give = data.int_arg(1) == 1
        if give:
            member.is_coordinator = True
            toast = _("Ora è coordinatore.")
            if person.telegram_user_id is not None:
                ptr = tr_for(services, person=person)
                await outbox_repo.enqueue(
                    session,
                    dedup_key=f"reg:coord:{member.id}:{int(now.timestamp())}",
                    chat_id=person.telegram_user_id,
                    method="sendMessage",
                    payload={
                        "text": ptr.gettext(
                            "⭐ Ora sei coordinatore del Team energia di <b>{union}</b>. Scrivi /aiuto per vedere che cosa puoi fare."
                        ).format(union=esc(union.name))
                    },
                    union_id=union.id,
                    person_id=person.id,
                    now=now,
                )
        else:
            ids = await reg_repo.coordinator_ids(session, union.id)
            if member.is_coordinator and not rules.can_drop_coordinator(
                coordinator_ids=ids, member_id=member.id
            ):
                return Outcome(
                    toast=_(
                        "Un'Unione ha sempre almeno un coordinatore: prima rendi coordinatore qualcun altro."
                    ),
                    alert=True,
                )
            member.is_coordinator = False
            toast = _("Non è più coordinatore.")
        text, markup = await _member_card(session, union, member, person, tr)
        return Outcome(toast=toast, text=text, markup=markup)
    if action == "rm":
        return Outcome(
            text=_(
                "Tolgo <b>{name}</b> dal Team energia di {union}? Quello che ha fatto resta nella storia del team."
            ).format(name=name_of(person, tr), union=esc(union.name)),
            markup=InlineKeyboardMarkup(
                [
                    [
                        button(_("Sì, toglilo"), MBR, "rmok", member.id),
                        button(_("No"), MBR, "show", member.id),
                    ]
                ]
            ),
        )
    if action == "rmok":
        ids = await reg_repo.coordinator_ids(session, union.id)
        if member.is_coordinator and not rules.can_drop_coordinator(
            coordinator_ids=ids, member_id=member.id
        ):
            return Outcome(
                toast=_(
                    "Un'Unione ha sempre almeno un coordinatore: prima rendi coordinatore qualcun altro."
                ),
                alert=True,
            )
        member.status = MemberStatus.REMOVED
        member.is_coordinator = False
        member.decided_at, member.decided_by_member_id = now, coordinator.id
        if person.telegram_user_id is not None and member.id != coordinator.id:
            ptr = tr_for(services, person=person)
            await outbox_repo.enqueue(
                session,
                dedup_key=f"reg:rm:{member.id}:{int(now.timestamp())}",
                chat_id=person.telegram_user_id,
                method="sendMessage",
                payload={
                    "text": ptr.gettext(
                        "Il coordinatore ti ha tolto dal Team energia di <b>{union}</b>. Se pensi che sia un errore, parlane con il coordinatore."
                    ).format(union=esc(union.name))
                },
                union_id=union.id,
                person_id=person.id,
                now=now,
            )
        texts, roster_markup = await _team_view(session, union, tr, manage=True)
        outcome = _texts_outcome(texts, roster_markup)
        outcome.toast = _("Tolto dal team.")
        return outcome
    return stale(tr)


async def _assign(
    session: AsyncSession,
    services: Services,
    union: Union,
    member: Member,
    person: Person,
    role: RoleCode,
    municipality_ids: list[int],
    now: datetime,
    tr: Translator,
) -> Outcome:
    _ = tr.gettext
    sindaci = await reg_repo.sindaco_by_municipality(
        session, union_id=union.id, municipality_ids=municipality_ids
    )
    problem = rules.check_assignment(
        role=role,
        municipality_ids=municipality_ids,
        sindaco_by_municipality=sindaci,
        member_id=member.id,
    )
    if problem is not None:
        mun = await session.get(Municipality, municipality_ids[0]) if municipality_ids else None
        return Outcome(
            toast=assignment_problem_text(
                problem, tr, comune=mun.name if mun else None, coordinator=True
            ),
            alert=True,
        )
    member.role = Role(role.value)
    await reg_repo.set_municipalities(
        session, member_id=member.id, municipality_ids=municipality_ids
    )
    text, markup = await _member_card(session, union, member, person, tr)
    return Outcome(toast=_("Fatto."), text=text, markup=markup)


# --- /collega and the bot's group membership -------------------------------------------------


async def _is_group_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Telegram's word on it, asked every time (never the anonymous admin id)."""
    if user_id == ANONYMOUS_ADMIN_ID:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        logger.info("getChatMember failed for chat %s", chat_id, exc_info=True)
        return False
    return member.status in ADMIN_STATUSES


async def collega(update: Update, context: BotContext) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        unions = await reg_repo.coordinated_unions(session, telegram_user_id=user.id)
        links = await core_repo.links_of_chat(session, chat.id)
    if who is None:
        return
    _ = who.tr.gettext
    if chat.type == Chat.PRIVATE:
        await reply(
            update,
            _(
                "Scrivi /collega dentro il gruppo Telegram da collegare (aggiungimi prima al gruppo)."
            ),
        )
        return
    if user.id == ANONYMOUS_ADMIN_ID:
        await reply(
            update,
            _(
                "Scrivi come te stesso, non come amministratore anonimo del gruppo: così so chi sei."
            ),
        )
        return
    if not unions:
        await reply(update, _("Solo il coordinatore di un'Unione può collegare questo gruppo."))
        return
    if not await _is_group_admin(context, chat.id, user.id):
        await reply(update, _("Per collegare il gruppo devi esserne amministratore."))
        return
    mine = {u.id for u in unions}
    if any(link.union_id not in mine for link in links):
        await reply(
            update,
            _(
                "Questo gruppo è già collegato a un'altra Unione: non posso collegarlo anche alla tua."
            ),
        )
        return
    rows: list[list[InlineKeyboardButton]] = []
    for union in unions[:20]:
        prefix = short(union.name, 20) + ": " if len(unions) > 1 else ""
        rows.append(
            [
                button(prefix + _("Tavolo politico"), LINK, "set", union.id, "p"),
                button(prefix + _("Tavolo tecnico"), LINK, "set", union.id, "t"),
            ]
        )
    rows.append([button(_("Annulla"), LINK, "no", 0)])
    question = (
        _("Come collego questo gruppo a <b>{union}</b>?").format(union=esc(unions[0].name))
        if len(unions) == 1
        else _("A quale Unione collego questo gruppo, e come?")
    )
    if links:
        question += "\n" + _("Ora è: {tables}.").format(
            tables=", ".join(table_label(li.table_kind, who.tr) for li in links)
        )
    await reply(update, question, InlineKeyboardMarkup(rows))


async def on_link_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    services = context.services
    user = query.from_user
    data = cb.decode(query.data)
    tr = tr_for(services, person=None, user=user)
    if data is not None and data.action == "no":
        async with services.db.transaction() as session:
            who = await caller(session, services, update)
            tr = who.tr if who else tr
            allowed = bool(await reg_repo.coordinated_unions(session, telegram_user_id=user.id))
        if not allowed:
            await deliver(update, not_yours(tr))
        else:
            await deliver(
                update,
                Outcome(
                    toast=tr.gettext("Va bene."),
                    text=tr.gettext("Va bene, non ho collegato nulla."),
                ),
            )
        return
    union_id = data.int_arg(0) if data else None
    table = TABLE_FROM_SHORT.get((data.str_arg(1) if data else None) or "")
    if (
        data is None
        or union_id is None
        or table is None
        or data.action not in ("set", "rep")
        or chat.type == Chat.PRIVATE
    ):
        await deliver(update, stale(tr))
        return
    # Telegram is asked before the transaction: never await Telegram inside one.
    admin = await _is_group_admin(context, chat.id, user.id)
    now = services.clock.now()
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr
        _ = tr.gettext
        union = await session.get(Union, union_id)
        coordinator = await _presser_coordinates(session, user, union_id) if union else None
        links = await core_repo.links_of_chat(session, chat.id)
        existing = await core_repo.linked_chat(session, union_id=union_id, table=table)
        if union is None:
            outcome = stale(tr)
        elif coordinator is None:
            outcome = Outcome(
                toast=_("Solo il coordinatore dell'Unione può collegare il gruppo."), alert=True
            )
        elif not admin:
            outcome = Outcome(
                toast=_("Per collegare il gruppo devi esserne amministratore."), alert=True
            )
        elif any(link.union_id != union_id for link in links):
            outcome = Outcome(
                toast=_("Questo gruppo è già collegato a un'altra Unione."), alert=True
            )
        elif existing is not None and existing.chat_id != chat.id and data.action == "set":
            outcome = Outcome(
                text=_(
                    "Il {table} di {union} è già il gruppo «{title}». Vuoi che sia questo gruppo al suo posto?"
                ).format(
                    table=table_label(table, tr), union=esc(union.name), title=esc(existing.title)
                ),
                markup=InlineKeyboardMarkup(
                    [
                        [
                            button(
                                _("Sì, usa questo gruppo"),
                                LINK,
                                "rep",
                                union.id,
                                TABLE_SHORT[table],
                            ),
                            button(_("No"), LINK, "no", 0),
                        ]
                    ]
                ),
            )
        else:
            await reg_repo.link_chat(
                session,
                union_id=union.id,
                table=table,
                chat_id=chat.id,
                title=chat.title or str(chat.id),
                member_id=coordinator.id,
                now=now,
            )
            outcome = Outcome(
                toast=_("Collegato."),
                text=_("✅ Questo gruppo è ora il {table} di <b>{union}</b>.").format(
                    table=table_label(table, tr), union=esc(union.name)
                )
                + "\n"
                + (
                    _(
                        "Qui arriveranno i sondaggi per le riunioni, i riepiloghi mensili e le questioni da decidere. Scrivete /aiuto per i comandi."
                    )
                    if table == TableKind.POLITICAL
                    else _(
                        "Qui arriveranno i sondaggi per le riunioni, il giro di aggiornamenti e le decisioni del tavolo politico. Scrivete /aiuto per i comandi."
                    )
                ),
            )
    await deliver(update, outcome)


async def on_bot_group_membership(update: Update, context: BotContext) -> None:
    change = update.my_chat_member
    if change is None:
        return
    services = context.services
    chat = change.chat
    new, old = change.new_chat_member.status, change.old_chat_member.status
    gone = (ChatMember.LEFT, ChatMember.BANNED)
    now = services.clock.now()
    if new in gone:
        async with services.db.transaction() as session:
            dropped = await reg_repo.unlink_chat(session, chat_id=chat.id)
            for link in dropped:
                union = await session.get(Union, link.union_id)
                if union is None:
                    continue
                for coordinator, person in await core_repo.coordinators(session, union.id):
                    if person.telegram_user_id is None:
                        continue
                    ptr = tr_for(services, person=person)
                    text = ptr.gettext(
                        "⚠️ Mi hanno tolto dal gruppo «{title}», che era il {table} di <b>{union}</b>: "
                        "l'ho scollegato. Per ricollegarlo aggiungimi di nuovo al gruppo e scrivi /collega."
                    ).format(
                        title=esc(link.title),
                        table=table_label(link.table_kind, ptr),
                        union=esc(union.name),
                    )
                    await outbox_repo.enqueue(
                        session,
                        dedup_key=f"link:gone:{link.id}:{chat.id}:{int(now.timestamp())}:{coordinator.id}",
                        chat_id=person.telegram_user_id,
                        method="sendMessage",
                        payload={"text": text},
                        union_id=union.id,
                        person_id=person.id,
                        now=now,
                    )
        if dropped:
            logger.info(
                "Bot removed from linked chat %s: %d link(s) dropped", chat.id, len(dropped)
            )
        await flush_outbox(context)
        return
    if old in gone and new in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        adder = change.from_user
        async with services.db.transaction() as session:
            linked = bool(await core_repo.links_of_chat(session, chat.id))
            adder_person = await core_repo.person_by_telegram_id(session, adder.id)
            coordinates = adder.id != ANONYMOUS_ADMIN_ID and bool(
                await reg_repo.coordinated_unions(session, telegram_user_id=adder.id)
            )
        if linked:
            return  # e.g. the group became a supergroup: the link already followed it
        tr = tr_for(services, person=adder_person, user=adder)
        _ = tr.gettext
        if coordinates:
            text = _(
                "Ciao! Sono il bot del Team energia di Unione. {name}, per collegare questo gruppo "
                "scrivi /collega qui e scegli se è il tavolo politico o il tavolo tecnico."
            ).format(name=esc(adder.first_name))
        else:
            text = _(
                "Ciao! Sono il bot del Team energia di Unione. Questo gruppo non è collegato a "
                "nessuna Unione: può collegarlo solo il coordinatore di un'Unione, scrivendo "
                "/collega qui. Finché non è collegato non mostro nessun dato."
            )
        try:
            await context.bot.send_message(chat.id, text)
        except TelegramError:
            logger.info("Could not greet group %s", chat.id, exc_info=True)


# --- /cancellami ------------------------------------------------------------------------------


async def _leaving_blockers(session: AsyncSession, person: Person) -> list[Union]:
    blocked = []
    for member, union in await core_repo.memberships_of(
        session, telegram_user_id=person.telegram_user_id or 0
    ):
        ids = await reg_repo.coordinator_ids(session, union.id)
        count = await reg_repo.active_member_count(session, union.id)
        if rules.blocks_leaving(
            coordinator_ids=ids, member_id=member.id, active_member_count=count
        ):
            blocked.append(union)
    return blocked


def _handover_text(unions: Sequence[Union], tr: Translator) -> str:
    return tr.gettext(
        "Sei l'unico coordinatore di <b>{unions}</b>: prima di andartene passa il testimone. "
        "Apri /team, tocca il nome di chi ti sostituisce e premi «⭐ Rendi coordinatore»; "
        "poi scrivi di nuovo /cancellami."
    ).format(unions=", ".join(esc(u.name) for u in unions))


async def cancellami(update: Update, context: BotContext) -> None:
    services = context.services
    user = update.effective_user
    if user is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        blockers = await _leaving_blockers(session, who.person) if who and who.person else []
    if who is None or not await _private_only(update, who.tr):
        return
    _ = who.tr.gettext
    if who.person is None:
        await reply(update, _("Non ho nessun tuo dato personale da cancellare."))
        return
    if blockers:
        await reply(update, _handover_text(blockers, who.tr))
        return
    await reply(
        update,
        _(
            "Vuoi davvero cancellare i tuoi dati personali?\n"
            "Uscirai da tutti i team; il tuo nome, il tuo id Telegram e le tue preferenze spariscono. "
            "Voti e aggiornamenti che hai dato restano nella storia del team come «ex membro»; "
            "il testo delle tue note resta come l'hai scritto."
        ),
        InlineKeyboardMarkup(
            [[button(_("Sì, cancella i miei dati"), DEL, "ok"), button(_("No, resto"), DEL, "no")]]
        ),
    )


async def on_delete_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    services = context.services
    user = query.from_user
    data = cb.decode(query.data)
    erased = False
    async with update_transaction(context, update) as session:
        who = await caller(session, services, update)
        tr = who.tr if who else tr_for(services, person=None, user=user)
        _ = tr.gettext
        outcome = stale(tr)
        # /cancellami is private, and so is its confirmation.
        refusal = await refused_in_group(session, update, tr)
        if refusal is not None:
            outcome = refusal
        elif data is None or chat.id != user.id:
            pass
        elif data.action == "no":
            outcome = Outcome(toast=_("Va bene."), text=_("Va bene, non ho cancellato nulla."))
        elif data.action == "ok" and who is not None and who.person is not None:
            blockers = await _leaving_blockers(session, who.person)
            if blockers:
                outcome = Outcome(text=_handover_text(blockers, tr))
            else:
                await reg_repo.erase_person(session, person=who.person, now=services.clock.now())
                erased = True
                outcome = Outcome(
                    toast=_("Dati cancellati."),
                    text=_(
                        "Fatto: ho cancellato i tuoi dati personali e non fai più parte di nessun team. "
                        "Se un giorno vorrai tornare, basterà un nuovo link d'invito."
                    ),
                )
        elif data.action == "ok":
            outcome = Outcome(toast=_("Non ho nessun tuo dato personale da cancellare."))
    await deliver(update, outcome)
    if erased:
        # Messages composed before they left that name them go out as composed; then the bot's
        # copies are wiped and SQLite's WAL, which still holds old page images, is emptied.
        await flush_outbox(context)
        await wipe_copies_of_erased(services, context.bot, services.clock.now())
        await services.db.checkpoint_truncate()


async def wipe_copies_of_erased(services: Services, bot: Bot, now: datetime) -> None:
    """Due work: the text of a message that named someone who has since left is wiped once the
    message is settled (storage.repositories.registration.wipe_settled_copies)."""
    async with services.db.transaction() as session:
        wiped = await reg_repo.wipe_settled_copies(session)
    if wiped:
        logger.info("Erasure: %d sent messages that named a former member wiped", wiped)


# --- wiring -----------------------------------------------------------------------------------


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    services.hooks[START_PAYLOAD_HOOK] = on_start_payload
    services.hooks[GROUP_MEMBERSHIP_HOOK] = on_bot_group_membership
    register_union_command("team", team_for_union)
    register_union_command("comuni", comuni_for_union)
    register_union_command("invito", invito_for_union)
    register_flow(JOIN_FLOW, on_join_text)
    services.add_due_work("erasure_copies", wipe_copies_of_erased)
    register_flow(COMUNI_ADD_FLOW, on_comuni_names)
    register_flow(COMUNI_RENAME_FLOW, on_comuni_rename)
    application.add_handler(CommandHandler("crea_unione", create_union))
    application.add_handler(CommandHandler("comuni", comuni))
    application.add_handler(CommandHandler("invito", invito))
    application.add_handler(CommandHandler("team", team))
    application.add_handler(CommandHandler("collega", collega))
    application.add_handler(CommandHandler("cancellami", cancellami))
    for area, handler in (
        (REG, on_join_button),
        (APPR, on_approval_button),
        (COM, on_comuni_button),
        (INV, on_invite_button),
        (TEAM, on_team_button),
        (MBR, on_member_button),
        (LINK, on_link_button),
        (DEL, on_delete_button),
    ):
        application.add_handler(CallbackQueryHandler(handler, pattern=cb.pattern(area)))
