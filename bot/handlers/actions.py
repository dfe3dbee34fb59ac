"""/azioni: the Union's PAES actions — list with filters, detail, history; for the coordinator
the template, export, import from a CSV/XLSX file (preview, then confirm) and editing by hand."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callback_data as cb
from bot import conversations, telegram_edit
from bot.context import BotContext, Services
from bot.conversations import register_flow
from bot.i18n import N_, Translator, format_datetime
from bot.scope import (
    Refusal,
    UnionScope,
    button_refusal,
    caller_tr,
    register_union_command,
    reply,
    resolve_union,
    update_transaction,
)
from bot.services import action_import as importer
from bot.services import import_worker
from bot.services.display_text import person_name
from bot.services.html_split import TELEGRAM_LIMIT, telegram_length
from bot.services.summary import CARD_NOTES_READ, NoteView, card_note_rows
from bot.services.summary_build import note_view
from storage.models import (
    Action,
    ActionStatus,
    Conversation,
    Member,
    Role,
    Union,
)
from storage.repositories import actions as repo
from storage.repositories import core as core_repo
from storage.repositories import summaries as summaries_repo

logger = logging.getLogger(__name__)

AREA = "act"
IMPORT_AREA = "imp"
IMPORT_FLOW = "act_import"
EDIT_FLOW = "act_edit"
PAGE_SIZE = 15

STATUS_LABELS = {
    ActionStatus.COMPLETED: N_("Completata"),
    ActionStatus.ONGOING: N_("In corso"),
    ActionStatus.POSTPONED: N_("Rinviata"),
    ActionStatus.NOT_STARTED: N_("Non avviata"),
}
STATUS_ICONS = {
    ActionStatus.COMPLETED: "✅",
    ActionStatus.ONGOING: "🔄",
    ActionStatus.POSTPONED: "⏸",
    ActionStatus.NOT_STARTED: "⚪",
}
STATUS_CODE = {
    ActionStatus.COMPLETED: "c",
    ActionStatus.ONGOING: "o",
    ActionStatus.POSTPONED: "p",
    ActionStatus.NOT_STARTED: "n",
}
CODE_STATUS = {v: k for k, v in STATUS_CODE.items()}

# Fields a coordinator edits by typing (key → label); Comune is chosen with buttons.
EDIT_FIELDS = (
    ("title", N_("Titolo")),
    ("sector", N_("Settore")),
    ("responsible", N_("Responsabile")),
    ("start_on", N_("Inizio")),
    ("end_on", N_("Fine")),
    ("energy_saved_mwh", N_("Risparmio MWh/a")),
    ("renewable_mwh", N_("Rinnovabili MWh/a")),
    ("co2_avoided_t", N_("CO2 t/a")),
    ("cost_eur", N_("Costo €")),
)


def status_label(status: ActionStatus, tr: Translator) -> str:
    return tr.gettext(STATUS_LABELS[status])


async def _names(session: AsyncSession, union_id: int) -> dict[int, str]:
    return {
        m.id: m.name
        for m in await core_repo.municipalities(session, union_id, include_archived=True)
    }


def import_counts(tr: Translator, *, new: int, changed: int, same: int = 0) -> str:
    """'3 nuove, 1 modificata': only the counts that are not zero (at least one part)."""
    parts = []
    if new or not (changed or same):
        parts.append(tr.ngettext("{n} nuova", "{n} nuove", new).format(n=new))
    if changed:
        parts.append(tr.ngettext("{n} modificata", "{n} modificate", changed).format(n=changed))
    if same:
        parts.append(tr.ngettext("{n} invariata", "{n} invariate", same).format(n=same))
    return ", ".join(parts)


def _where(action: Action, names: dict[int, str], tr: Translator) -> str:
    if action.municipality_id is None:
        return tr.gettext("Unione (intercomunale)")
    return names.get(action.municipality_id, "?")


async def _edit_or_send(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    await telegram_edit.edit_or_send(update, update.get_bot(), text, markup)


# --- the list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    municipality: str = "a"  # "a" all, "u" intercommunal, or a Comune id
    status: str = "a"  # "a" all, or a status code
    page: int = 0


async def render_list(
    session: AsyncSession, scope_union: Union, is_coordinator: bool, f: ListFilter, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    names = await _names(session, scope_union.id)
    municipality_id: int | None = None
    if f.municipality == "u":
        municipality_id = repo.UNION_WIDE
    elif f.municipality.isdigit() and int(f.municipality) in names:
        municipality_id = int(f.municipality)
    status = CODE_STATUS.get(f.status)
    actions = await repo.list_actions(
        session, union_id=scope_union.id, municipality_id=municipality_id, status=status
    )
    pages = max(1, (len(actions) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(f.page, 0), pages - 1)
    shown = actions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    title = _("<b>Azioni del PAES — {union}</b>").format(union=html.escape(scope_union.name))
    filters_text = []
    if municipality_id == repo.UNION_WIDE:
        filters_text.append(_("intercomunali"))
    elif municipality_id is not None:
        filters_text.append(html.escape(names[municipality_id]))
    if status is not None:
        filters_text.append(html.escape(status_label(status, tr)))
    lines = [title]
    if filters_text:
        lines.append(_("Filtro: {f}").format(f=", ".join(filters_text)))
    if not actions:
        lines.append("")
        if filters_text:
            lines.append(_("Nessuna azione con questo filtro."))
        elif is_coordinator:
            lines.append(_("Nessuna azione caricata finora."))
            lines.append(
                _(
                    "Per caricarle mandami il file CSV o Excel (scarica il modello qui sotto), oppure aggiungile una per una."
                )
            )
        else:
            lines.append(_("Il coordinatore non ha ancora caricato le azioni del PAES."))
    else:
        lines.append(
            tr.ngettext(
                "{n} azione — pagina {page} di {pages}",
                "{n} azioni — pagina {page} di {pages}",
                len(actions),
            ).format(n=len(actions), page=page + 1, pages=pages)
            if pages > 1
            else tr.ngettext("{n} azione", "{n} azioni", len(actions)).format(n=len(actions))
        )
        lines.append("")
        for a in shown:
            lines.append(
                f"{STATUS_ICONS[a.status]} <b>{html.escape(a.code)}</b> {html.escape(a.title[:90])} — {html.escape(_where(a, names, tr))}, {a.progress}%"
            )
    u = scope_union.id
    keyboard: list[list[InlineKeyboardButton]] = []
    buttons = [
        InlineKeyboardButton(a.code[:20], callback_data=cb.encode(AREA, "v", a.id)) for a in shown
    ]
    keyboard += [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                "◀️", callback_data=cb.encode(AREA, "l", u, f.municipality, f.status, page - 1)
            )
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(
                "▶️", callback_data=cb.encode(AREA, "l", u, f.municipality, f.status, page + 1)
            )
        )
    if nav:
        keyboard.append(nav)
    # With no action at all there is nothing to filter or export: only the ways to add some.
    nothing_yet = not actions and not filters_text
    if not nothing_yet:
        keyboard.append(
            [
                InlineKeyboardButton(
                    _("🏘 Comune"), callback_data=cb.encode(AREA, "fm", u, f.status)
                ),
                InlineKeyboardButton(
                    _("📊 Stato"), callback_data=cb.encode(AREA, "fs", u, f.municipality)
                ),
            ]
        )
    if is_coordinator:
        keyboard.append(
            [
                InlineKeyboardButton(_("➕ Nuova azione"), callback_data=cb.encode(AREA, "new", u)),
                InlineKeyboardButton(_("📥 Modello"), callback_data=cb.encode(AREA, "tpl", u)),
            ]
        )
    if is_coordinator and not nothing_yet:
        keyboard.append(
            [
                InlineKeyboardButton(_("📤 Excel"), callback_data=cb.encode(AREA, "exp", u, "x")),
                InlineKeyboardButton(_("📤 CSV"), callback_data=cb.encode(AREA, "exp", u, "c")),
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def azioni(update: Update, context: BotContext, union_id: int | None = None) -> None:
    services = context.services
    async with services.db.transaction() as session:
        scope = await resolve_union(
            session, update, context, command="azioni", chosen_union_id=union_id
        )
        if isinstance(scope, Refusal):
            refusal: Refusal | None = scope
        else:
            refusal = None
            tr = await caller_tr(session, services, update)
            text, markup = await render_list(
                session, scope.union, scope.is_coordinator, ListFilter(), tr
            )
    if refusal is not None:
        await refusal.send(update)
        return
    await reply(update, text, markup)


async def _member_scope(
    session: AsyncSession, update: Update, context: BotContext, union_id: int
) -> UnionScope | None:
    """The presser's membership of that Union, re-checked (the chat: `button_refusal`)."""
    user = update.effective_user
    if user is None:
        return None
    member = await core_repo.member_of(session, union_id=union_id, telegram_user_id=user.id)
    union = await session.get(Union, union_id)
    if member is None or union is None:
        return None
    ids = await core_repo.municipality_ids_of(session, member.id)
    return UnionScope(union=union, member=member, municipality_ids=tuple(ids), link=None)


def may_read_history(member: Member, ids: tuple[int, ...], action: Action) -> bool:
    if member.is_coordinator or action.municipality_id is None:
        return True
    return action.municipality_id in ids or member.role == Role.STAFF


async def card(
    session: AsyncSession,
    action: Action,
    tr: Translator,
    *,
    coordinator: bool,
    now: datetime,
    names: dict[int, str] | None = None,
    reserve: int = 0,
) -> tuple[str, InlineKeyboardMarkup]:
    """An action's card as it stands, with the technical group's latest notes on its Comune."""
    union = await session.get(Union, action.union_id)
    timezone = union.timezone if union is not None else "Europe/Rome"
    notes = await summaries_repo.group_notes(
        session,
        union_id=action.union_id,
        comune=action.municipality_id
        if action.municipality_id is not None
        else summaries_repo.UNION_NOTES,
        latest=CARD_NOTES_READ,
    )
    return render_detail(
        action,
        names if names is not None else await _names(session, action.union_id),
        tr,
        coordinator=coordinator,
        notes=[note_view(n) for n in notes],
        timezone=timezone,
        today=now.astimezone(ZoneInfo(timezone)).date(),
        reserve=reserve,
    )


def render_detail(
    action: Action,
    names: dict[int, str],
    tr: Translator,
    *,
    coordinator: bool,
    notes: Sequence[NoteView] = (),
    timezone: str = "Europe/Rome",
    today: date | None = None,
    reserve: int = 0,
) -> tuple[str, InlineKeyboardMarkup]:
    """The card; the notes fill what is left of Telegram's limit (less `reserve`, for a text
    the caller puts before the card): shortened, then fewer, never the card's own lines."""
    _ = tr.gettext
    lines = [
        f"<b>{html.escape(action.code)}</b> — {html.escape(action.title)}",
        _("Comune: {where}").format(where=html.escape(_where(action, names, tr))),
        _("Stato: {icon} {status}, {progress}%").format(
            icon=STATUS_ICONS[action.status],
            status=html.escape(status_label(action.status, tr)),
            progress=action.progress,
        ),
    ]
    if action.sector:
        lines.append(_("Settore: {v}").format(v=html.escape(action.sector)))
    if action.responsible:
        lines.append(_("Responsabile: {v}").format(v=html.escape(action.responsible)))
    if action.start_on and action.end_on:
        lines.append(
            _("Periodo: {start} – {end}").format(
                start=_fmt_date(action.start_on), end=_fmt_date(action.end_on)
            )
        )
    elif action.start_on:
        lines.append(_("Inizio: {date}").format(date=_fmt_date(action.start_on)))
    elif action.end_on:
        lines.append(_("Fine: {date}").format(date=_fmt_date(action.end_on)))
    for label, value, unit in (
        (_("Risparmio energetico"), action.energy_saved_mwh, "MWh/a"),
        (_("Produzione da rinnovabili"), action.renewable_mwh, "MWh/a"),
        (_("Riduzione CO2"), action.co2_avoided_t, "t/a"),
        (_("Costo"), action.cost_eur, "€"),
    ):
        if value is not None:
            shown = _euro(value) if unit == "€" else importer.format_decimal_display(value)
            lines.append(f"{label}: {shown} {unit}")
    if action.archived_at is not None:
        lines.append(_("🗄 Archiviata"))
    if notes:
        body = "\n".join(lines)
        note_rows = card_note_rows(
            tr,
            notes,
            comune=None if action.municipality_id is None else _where(action, names, tr),
            timezone=timezone,
            today=today,
            room=TELEGRAM_LIMIT - reserve - telegram_length(body) - 2,  # 2: the blank line
        )
        if note_rows:
            lines += ["", *note_rows]
    a = action.id
    keyboard = [
        [
            InlineKeyboardButton(_("📜 Storico"), callback_data=cb.encode(AREA, "h", a)),
            InlineKeyboardButton(
                _("↩️ Elenco"), callback_data=cb.encode(AREA, "l", action.union_id, "a", "a", 0)
            ),
        ]
    ]
    if coordinator:
        row = [InlineKeyboardButton(_("✏️ Modifica"), callback_data=cb.encode(AREA, "ed", a))]
        if action.archived_at is None:
            row.append(
                InlineKeyboardButton(_("🗄 Archivia"), callback_data=cb.encode(AREA, "ar", a))
            )
        keyboard.append(row)
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def _euro(value: Decimal) -> str:
    """Euros with cents when there are any: 1.250.000,50 (not 1.250.000,5)."""
    if value == value.to_integral_value():
        return importer.format_decimal_display(value)
    whole, cents = f"{value.quantize(Decimal('0.01')):.2f}".split(".")
    return importer.format_decimal_display(Decimal(whole)) + "," + cents


def _fmt_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


async def render_history(
    session: AsyncSession, action: Action, union: Union, tr: Translator
) -> str:
    _ = tr.gettext
    entries = await repo.history(session, action_id=action.id, limit=30)
    tz = ZoneInfo(union.timezone)
    lines = [
        _("📜 <b>Storico di {code}</b> — {title}").format(
            code=html.escape(action.code), title=html.escape(action.title[:80])
        )
    ]
    if not entries:
        lines.append(_("Nessun aggiornamento finora."))
    for e in entries:
        u = e.update
        before = (
            f"{STATUS_ICONS[u.previous_status]} {u.previous_progress}% → "
            if u.previous_status is not None
            else ""
        )
        line = f"• {format_datetime(u.created_at, tz, tr.language)} — {html.escape(person_name(e.author, tr))}: {before}{STATUS_ICONS[u.status]} {html.escape(status_label(u.status, tr))} {u.progress}%"
        if u.note:
            line += "\n   " + html.escape(u.note[:300])
        if e.attachments:
            line += "\n   " + tr.ngettext(
                "📎 {n} allegato", "📎 {n} allegati", e.attachments
            ).format(n=e.attachments)
        if u.needs_decision:
            line += "\n   ⚖️ " + html.escape(u.decision_question or "")
        lines.append(line)
    text = "\n".join(lines)
    while len(text) > 4000 and len(lines) > 2:
        lines.pop()
        text = "\n".join(lines) + "\n…"
    return text


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    data = cb.decode(query.data)
    if data is None:
        await query.answer()
        return
    services = context.services
    verb = data.action
    toast: str | None = None
    edit: tuple[str, InlineKeyboardMarkup | None] | None = None
    send: tuple[str, InlineKeyboardMarkup | None] | None = None
    document: tuple[str, bytes, str] | None = None
    in_private: str | None = None  # a text for the presser's private chat
    chat = update.effective_chat
    writes = verb in ("ary", "new", "ed", "ef", "em")
    async with (
        update_transaction(context, update) if writes else services.db.transaction()
    ) as session:
        tr = await caller_tr(session, services, update)
        _ = tr.gettext
        action: Action | None = None
        union_id = None
        if verb in ("v", "h", "ed", "ar", "ary", "ef", "em"):
            action_id = data.int_arg(0)
            action = await session.get(Action, action_id) if action_id is not None else None
            union_id = action.union_id if action is not None else None
        else:
            union_id = data.int_arg(0)
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        scope = (
            await _member_scope(session, update, context, union_id)
            if union_id is not None and refusal is None
            else None
        )
        if refusal is not None:
            toast = refusal
        elif scope is None:
            toast = _("Questo pulsante non è per te.")
        elif (
            verb in ("ed", "ar", "ary", "new", "tpl", "exp", "ef", "em", "nm")
            and not scope.is_coordinator
        ):
            toast = _("Solo il coordinatore può farlo.")
        elif verb == "l":
            f = ListFilter(data.str_arg(1) or "a", data.str_arg(2) or "a", data.int_arg(3) or 0)
            edit = await render_list(session, scope.union, scope.is_coordinator, f, tr)
        elif verb == "fm":
            status_code = data.str_arg(1) or "a"
            buttons = [
                InlineKeyboardButton(
                    _("Tutti"),
                    callback_data=cb.encode(AREA, "l", scope.union.id, "a", status_code, 0),
                ),
                InlineKeyboardButton(
                    _("Intercomunali"),
                    callback_data=cb.encode(AREA, "l", scope.union.id, "u", status_code, 0),
                ),
            ] + [
                InlineKeyboardButton(
                    name[:30],
                    callback_data=cb.encode(AREA, "l", scope.union.id, mid, status_code, 0),
                )
                for mid, name in (await _active_names(session, scope.union.id))
            ]
            edit = (
                _("Quale Comune?"),
                InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
            )
        elif verb == "fs":
            mun = data.str_arg(1) or "a"
            buttons = [
                InlineKeyboardButton(
                    _("Tutti"), callback_data=cb.encode(AREA, "l", scope.union.id, mun, "a", 0)
                )
            ] + [
                InlineKeyboardButton(
                    f"{STATUS_ICONS[s]} {status_label(s, tr)}",
                    callback_data=cb.encode(AREA, "l", scope.union.id, mun, STATUS_CODE[s], 0),
                )
                for s in STATUS_LABELS
            ]
            edit = (
                _("Quale stato?"),
                InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
            )
        elif verb == "v" and action is not None:
            edit = await card(
                session, action, tr, coordinator=scope.is_coordinator, now=services.clock.now()
            )
        elif verb == "h" and action is not None:
            if not may_read_history(scope.member, scope.municipality_ids, action):
                toast = _("Lo storico di questa azione lo vedono i membri del suo Comune.")
            elif chat is not None and chat.type != Chat.PRIVATE:
                # The history is for its Comune's people: in a group, to the presser alone.
                in_private = await render_history(session, action, scope.union, tr)
            else:
                send = (await render_history(session, action, scope.union, tr), None)
        elif verb == "tpl":
            document = (
                "modello_azioni_paes.xlsx",
                importer.template_xlsx(),
                _(
                    "📥 Il modello per le azioni del PAES: compilalo e rimandamelo qui in chat (va bene anche in CSV)."
                ),
            )
        elif verb == "exp":
            rows = await export_rows(session, scope.union.id, tr)
            if data.str_arg(1) == "c":
                document = (
                    "azioni_paes.csv",
                    importer.export_csv(rows),
                    _("📤 Le azioni del PAES (CSV)."),
                )
            else:
                payload = await asyncio.to_thread(importer.export_xlsx, rows)
                document = ("azioni_paes.xlsx", payload, _("📤 Le azioni del PAES (Excel)."))
        elif verb == "ar" and action is not None:
            edit = (
                _(
                    "Archiviare <b>{code}</b>? Non comparirà più negli elenchi e negli aggiornamenti; lo storico resta."
                ).format(code=html.escape(action.code)),
                InlineKeyboardMarkup(
                    [
                        [
                            InlineKeyboardButton(
                                _("🗄 Sì, archivia"), callback_data=cb.encode(AREA, "ary", action.id)
                            ),
                            InlineKeyboardButton(
                                _("Annulla"), callback_data=cb.encode(AREA, "v", action.id)
                            ),
                        ]
                    ]
                ),
            )
        elif verb == "ary" and action is not None:
            if action.archived_at is None:
                action.archived_at = services.clock.now()
            toast = _("Archiviata.")
            edit = await card(session, action, tr, coordinator=True, now=services.clock.now())
        elif verb in ("new", "ed", "ef", "em"):
            toast, edit, send = await edit_button(
                session, update, context, scope, action, verb, data.str_arg(1), tr
            )
        else:
            toast = _("Questo pulsante non è più valido.")
    if in_private is not None:
        try:
            await context.bot.send_message(chat_id=query.from_user.id, text=in_private)
            toast = _("Ti ho mandato lo storico in privato.")
        except Forbidden:
            toast = _(
                "Non riesco a scriverti in privato: apri la chat con me e premi Avvia, poi riprova."
            )
    await query.answer(toast)
    if edit is not None:
        await _edit_or_send(update, edit[0], edit[1])
    if send is not None:
        await reply(update, send[0], send[1])
    if document is not None and update.effective_chat is not None:
        await update.effective_chat.send_document(
            InputFile(document[1], filename=document[0]), caption=document[2]
        )


async def _active_names(session: AsyncSession, union_id: int) -> list[tuple[int, str]]:
    return [(m.id, m.name) for m in await core_repo.municipalities(session, union_id)]


async def export_rows(
    session: AsyncSession, union_id: int, tr: Translator
) -> list[importer.ExportRow]:
    names = await _names(session, union_id)
    return [
        importer.ExportRow(
            action=action_row(a),
            municipality_name=names.get(a.municipality_id) if a.municipality_id else None,
            status_label=status_label(a.status, tr),
            progress=a.progress,
        )
        for a in await repo.list_actions(session, union_id=union_id)
    ]


def action_row(a: Action) -> importer.ActionRow:
    return importer.ActionRow(
        code=a.code,
        title=a.title,
        municipality_id=a.municipality_id,
        sector=a.sector,
        responsible=a.responsible,
        start_on=a.start_on,
        end_on=a.end_on,
        energy_saved_mwh=a.energy_saved_mwh,
        renewable_mwh=a.renewable_mwh,
        co2_avoided_t=a.co2_avoided_t,
        cost_eur=a.cost_eur,
    )


# --- add and edit by hand -----------------------------------------------------------------


def _field_label(key: str, tr: Translator) -> str:
    for k, label in EDIT_FIELDS:
        if k == key:
            return tr.gettext(label)
    return key


async def edit_button(
    session: AsyncSession,
    update: Update,
    context: BotContext,
    scope: UnionScope,
    action: Action | None,
    verb: str,
    arg: str | None,
    tr: Translator,
) -> tuple[
    str | None,
    tuple[str, InlineKeyboardMarkup | None] | None,
    tuple[str, InlineKeyboardMarkup | None] | None,
]:
    _ = tr.gettext
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    now = context.services.clock.now()
    if chat.type != Chat.PRIVATE:
        return _("Per modificare le azioni scrivimi in privato."), None, None
    if verb == "new":
        await core_repo.set_conversation(
            session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            flow=EDIT_FLOW,
            step="code",
            data={"union_id": scope.union.id, "action_id": None},
            now=now,
        )
        return None, None, (_("➕ Nuova azione. Scrivi il <b>codice</b> (per esempio A1.3)."), None)
    if action is None:
        return _("Questa azione non esiste più."), None, None
    if verb == "ed":
        buttons = [
            InlineKeyboardButton(
                _field_label(k, tr), callback_data=cb.encode(AREA, "ef", action.id, k)
            )
            for k, _label in EDIT_FIELDS
        ]
        buttons.append(
            InlineKeyboardButton(_("Comune"), callback_data=cb.encode(AREA, "em", action.id))
        )
        keyboard = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        keyboard.append(
            [InlineKeyboardButton(_("↩️ Indietro"), callback_data=cb.encode(AREA, "v", action.id))]
        )
        return (
            None,
            (
                _("✏️ Che cosa vuoi modificare di <b>{code}</b>?").format(
                    code=html.escape(action.code)
                ),
                InlineKeyboardMarkup(keyboard),
            ),
            None,
        )
    if verb == "ef" and arg in {k for k, _l in EDIT_FIELDS}:
        await core_repo.set_conversation(
            session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            flow=EDIT_FLOW,
            step="field",
            data={"union_id": scope.union.id, "action_id": action.id, "field": arg},
            now=now,
        )
        return (
            None,
            None,
            (
                _("Scrivi il nuovo valore per «{field}» (un trattino «-» lo cancella).").format(
                    field=html.escape(_field_label(arg, tr))
                ),
                None,
            ),
        )
    if verb == "em":
        names = await _active_names(session, scope.union.id)
        buttons = [
            InlineKeyboardButton(
                _("Unione (intercomunale)"), callback_data=cb.encode(AREA, "nm", action.id, "u")
            )
        ] + [
            InlineKeyboardButton(n[:30], callback_data=cb.encode(AREA, "nm", action.id, mid))
            for mid, n in names
        ]
        return (
            None,
            (
                _("Di quale Comune è <b>{code}</b>?").format(code=html.escape(action.code)),
                InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
            ),
            None,
        )
    return _("Questo pulsante non è più valido."), None, None


async def on_municipality_pick(update: Update, context: BotContext) -> None:
    """act:nm:<action_id>:<comune id | u> — for an existing action (edit) or a new one (draft)."""
    query = update.callback_query
    if query is None:
        return
    data = cb.decode(query.data)
    services = context.services
    now = services.clock.now()
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    toast: str | None = None
    edit: tuple[str, InlineKeyboardMarkup | None] | None = None
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        _ = tr.gettext
        target = data.str_arg(0) if data else None
        choice = data.str_arg(1) if data else None
        conv = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=chat.id, now=now
        )
        if target == "new":
            union_id = (
                int(conv.data.get("union_id", 0)) if conv and conv.flow == EDIT_FLOW else None
            )
            action = None
        else:
            action = await session.get(Action, int(target)) if target and target.isdigit() else None
            union_id = action.union_id if action else None
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        scope = (
            await _member_scope(session, update, context, union_id)
            if union_id and refusal is None
            else None
        )
        names = await _names(session, union_id) if union_id else {}
        municipality_id: int | None = None
        valid = choice == "u" or (choice is not None and choice.isdigit() and int(choice) in names)
        if choice is not None and choice.isdigit():
            municipality_id = int(choice)
        if refusal is not None:
            toast = refusal
        elif scope is None or not scope.is_coordinator or not valid:
            toast = _("Questo pulsante non è per te.")
        elif action is not None:
            action.municipality_id, action.updated_at = municipality_id, now
            toast = _("Salvato.")
            edit = await card(session, action, tr, coordinator=True, now=now, names=names)
        elif conv is not None and conv.step == "municipality":
            draft = dict(conv.data)
            created, _updated = await repo.upsert_actions(
                session,
                union_id=scope.union.id,
                rows=[
                    {
                        "code": draft["code"],
                        "title": draft["title"],
                        "municipality_id": municipality_id,
                    }
                ],
                now=now,
            )
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            made = (await repo.actions_by_code(session, scope.union.id))[
                str(draft["code"]).casefold()
            ]
            toast = _("Azione creata.") if created else _("Azione aggiornata.")
            edit = await card(session, made, tr, coordinator=True, now=now, names=names)
        else:
            toast = _("Questo pulsante non è più valido.")
    await query.answer(toast)
    if edit is not None:
        await _edit_or_send(update, edit[0], edit[1])


async def on_edit_input(update: Update, context: BotContext, conversation: Conversation) -> None:
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    now = services.clock.now()
    text = " ".join((message.text or "").split())
    answer: tuple[str, InlineKeyboardMarkup | None] | None = None
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        _ = tr.gettext
        conv = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=chat.id, now=now
        )
        if conv is None or conv.flow != EDIT_FLOW:
            return
        data = dict(conv.data)
        union_id = int(data.get("union_id") or 0)
        scope = await _member_scope(session, update, context, union_id)
        if scope is None or not scope.is_coordinator:
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            answer = (_("Solo il coordinatore può modificare le azioni."), None)
        elif not text:
            answer = (_("Scrivilo come testo, per favore."), None)
        elif conv.step == "code":
            if len(text) > 32:
                answer = (_("Il codice è troppo lungo (massimo 32 caratteri)."), None)
            else:
                data["code"] = text
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    flow=EDIT_FLOW,
                    step="title",
                    data=data,
                    now=now,
                )
                answer = (_("Scrivi il <b>titolo</b> dell'azione."), None)
        elif conv.step == "title":
            if len(text) > 300:
                answer = (_("Il titolo è troppo lungo (massimo 300 caratteri)."), None)
            else:
                data["title"] = text
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=user.id,
                    chat_id=chat.id,
                    flow=EDIT_FLOW,
                    step="municipality",
                    data=data,
                    now=now,
                )
                names = await _active_names(session, union_id)
                buttons = [
                    InlineKeyboardButton(
                        _("Unione (intercomunale)"), callback_data=cb.encode(AREA, "nm", "new", "u")
                    )
                ] + [
                    InlineKeyboardButton(n[:30], callback_data=cb.encode(AREA, "nm", "new", mid))
                    for mid, n in names
                ]
                answer = (
                    _("Di quale Comune è?"),
                    InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
                )
        elif conv.step == "field":
            action = await repo.get_action(
                session, union_id=union_id, action_id=int(data.get("action_id") or 0)
            )
            field = str(data.get("field"))
            if action is None:
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=chat.id
                )
                answer = (_("Questa azione non esiste più."), None)
            else:
                problem, value = parse_field(field, text)
                if problem is not None:
                    problem_text = tr.gettext(problem).format(value=html.escape(text))
                    answer = (
                        problem_text[:1].upper()
                        + problem_text[1:]
                        + " "
                        + _("Riprova, oppure scrivi «-» per cancellare il valore."),
                        None,
                    )
                else:
                    setattr(action, field, value)
                    action.updated_at = now
                    await core_repo.clear_conversation(
                        session, telegram_user_id=user.id, chat_id=chat.id
                    )
                    saved = _("✅ Salvato.") + "\n\n"
                    text_out, markup = await card(
                        session,
                        action,
                        tr,
                        coordinator=True,
                        now=now,
                        reserve=telegram_length(saved),
                    )
                    answer = (saved + text_out, markup)
        else:
            answer = (_("Usa i pulsanti qui sopra."), None)
    if answer is not None:
        await reply(update, answer[0], answer[1])


def parse_field(field: str, text: str) -> tuple[str | None, Any]:
    """(error message template, value) for one typed field, with the importer's rules."""
    empty = text in ("-", "—")
    if field == "title":
        if empty:
            return N_("Il titolo non può essere vuoto."), None
        return (N_("Troppo lungo (massimo 300 caratteri).") if len(text) > 300 else None), text
    if field in ("sector", "responsible"):
        limit = 120 if field == "sector" else 200
        if len(text) > limit:
            return N_("Troppo lungo."), None
        return None, None if empty else text
    if field in ("start_on", "end_on"):
        if empty:
            return None, None
        try:
            return None, importer.parse_date(text, end=field == "end_on")
        except ValueError:
            return importer.E_BAD_DATE, None
    if empty:
        return None, None
    places = 2 if field == "cost_eur" else 3
    try:
        value: Decimal | None = importer.parse_decimal(text, places)
    except (ValueError, ArithmeticError):
        return importer.E_BAD_NUMBER, None
    if value is not None and value < 0:
        return importer.E_NEGATIVE, None
    return None, value


# --- import from a file -------------------------------------------------------------------


async def on_document(update: Update, context: BotContext) -> None:
    """A CSV/XLSX in private: the update flow's attachment, or an import by a coordinator."""
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or message.document is None:
        return
    services = context.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        conv = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=chat.id, now=now
        )
        tr = await caller_tr(session, services, update)
        memberships = await core_repo.memberships_of(session, telegram_user_id=user.id)
    if conv is not None and conv.flow == "upd" and conv.step == "extras":
        await conversations.route(update, context)
        return
    _ = tr.gettext
    unions = [u for m, u in memberships if m.is_coordinator]
    if not unions:
        if conv is not None and await conversations.route(update, context):
            return
        await reply(update, _("Solo il coordinatore può caricare le azioni da un file."))
        return
    if len(unions) > 1:
        async with update_transaction(context, update) as session:
            await core_repo.set_conversation(
                session,
                telegram_user_id=user.id,
                chat_id=chat.id,
                flow=IMPORT_FLOW,
                step="union",
                data={
                    "file_id": message.document.file_id,
                    "file_name": message.document.file_name,
                    "size": message.document.file_size,
                },
                now=now,
            )
        buttons = [
            [InlineKeyboardButton(u.name, callback_data=cb.encode(IMPORT_AREA, "u", u.id))]
            for u in unions
        ]
        await reply(
            update, _("Per quale Unione sono queste azioni?"), InlineKeyboardMarkup(buttons)
        )
        return
    await preview_import(
        update,
        context,
        unions[0].id,
        message.document.file_id,
        message.document.file_name,
        message.document.file_size,
    )


async def preview_import(
    update: Update,
    context: BotContext,
    union_id: int,
    file_id: str,
    file_name: str | None,
    size: int | None,
) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        union = await session.get(Union, union_id)
        names = await _active_names(session, union_id)
    _ = tr.gettext
    if union is None:
        return
    if size is not None and size > importer.MAX_FILE_BYTES:
        await reply(update, tr.gettext(importer.E_TOO_BIG))
        return
    ticket = import_worker.gate_of(services.extras).admit(union_id)
    if ticket is import_worker.Busy.UNION:
        await reply(
            update,
            _(
                "C'è già un'importazione in corso per questa Unione: aspetta la sua anteprima, "
                "poi rimandami il file se serve."
            ),
        )
        return
    if ticket is import_worker.Busy.FULL:
        await reply(
            update, _("In questo momento sto leggendo molti file: riprova tra qualche minuto.")
        )
        return
    assert isinstance(ticket, import_worker.Ticket)
    # Read outside this update (bot/services/import_worker.py): the slot it holds goes back to
    # other people's updates while a worker process reads the file.
    services.run_in_background(
        _read_and_preview(update, context, ticket, union.name, names, tr, file_id, file_name)
    )


async def _read_and_preview(
    update: Update,
    context: BotContext,
    ticket: import_worker.Ticket,
    union_name: str,
    names: list[tuple[int, str]],
    tr: Translator,
    file_id: str,
    file_name: str | None,
) -> None:
    try:
        await _read_and_preview_admitted(
            update, context, ticket, union_name, names, tr, file_id, file_name
        )
    except Exception:
        logger.exception("Reading an uploaded actions file failed")
        await reply(update, tr.gettext("Non sono riuscito a leggere il file: riprova tra poco."))
    finally:
        ticket.release()


async def _read_and_preview_admitted(
    update: Update,
    context: BotContext,
    ticket: import_worker.Ticket,
    union_name: str,
    names: list[tuple[int, str]],
    tr: Translator,
    file_id: str,
    file_name: str | None,
) -> None:
    services = context.services
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    union_id = ticket.union_id
    _ = tr.gettext
    try:
        file = await context.bot.get_file(file_id)
        data = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        # Telegram hands bots files up to 20 MB only ("file is too big"), whatever the message
        # said about the size; any other refusal is worth a retry by the user, not a crash.
        logger.info("Could not download import file %s: %s", file_name, exc.message)
        too_big = "too big" in exc.message.lower()
        await reply(
            update,
            tr.gettext(importer.E_TOO_BIG)
            if too_big
            else _("Non riesco a scaricare il file da Telegram: prova a rimandarlo."),
        )
        return
    result = await ticket.parse(
        data=data,
        file_name=file_name,
        municipalities=importer.municipality_lookup(names),
        union_name=union_name,
    )
    if not result.ok:
        await reply(update, render_errors(result.errors, tr, file_name))
        return
    # A plain transaction: when the file waited for the Union picker, the button's update id
    # is already recorded, and storing the same preview twice is harmless anyway.
    async with services.db.transaction() as session:
        scope = await _member_scope(session, update, context, union_id)
        if scope is None or not scope.is_coordinator:
            text, markup = _("Solo il coordinatore può caricare le azioni da un file."), None
        else:
            existing = {
                k: action_row(a) for k, a in (await repo.actions_by_code(session, union_id)).items()
            }
            plan = importer.plan_import(result.rows, existing)
            await core_repo.set_conversation(
                session,
                telegram_user_id=user.id,
                chat_id=chat.id,
                flow=IMPORT_FLOW,
                step="confirm",
                data={
                    "union_id": union_id,
                    "file_name": file_name,
                    "rows": [r.to_json() for r in result.rows],
                },
                now=services.clock.now(),
            )
            text = tr.ngettext(
                "📄 <b>{file}</b>: {n} azione ({counts}).",
                "📄 <b>{file}</b>: {n} azioni ({counts}).",
                plan.total,
            ).format(
                file=html.escape(file_name or "file"),
                n=plan.total,
                counts=import_counts(
                    tr, new=len(plan.new), changed=len(plan.changed), same=len(plan.unchanged)
                ),
            )
            if plan.new:
                text += "\n" + _("Nuove: {codes}").format(
                    codes=html.escape(", ".join(r.code for r in plan.new[:40]))
                )
            if plan.changed:
                text += "\n" + _("Modificate: {codes}").format(
                    codes=html.escape(", ".join(r.code for r in plan.changed[:40]))
                )
            text += "\n\n" + _(
                "Le azioni che non sono nel file restano come sono; lo storico non si perde."
            )
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("✅ Conferma"), callback_data=cb.encode(IMPORT_AREA, "ok", union_id)
                        ),
                        InlineKeyboardButton(
                            _("✖️ Annulla"), callback_data=cb.encode(IMPORT_AREA, "no", union_id)
                        ),
                    ]
                ]
            )
    await reply(update, text, markup)


def render_errors(
    errors: list[importer.ImportError_], tr: Translator, file_name: str | None
) -> str:
    _ = tr.gettext
    lines = [
        tr.ngettext(
            "❌ <b>{file}</b> ha un errore: non ho importato nulla.",
            "❌ <b>{file}</b> ha {n} errori: non ho importato nulla.",
            len(errors),
        ).format(file=html.escape(file_name or "file"), n=len(errors))
    ]
    for e in errors[: importer.MAX_ERRORS_SHOWN]:
        message = tr.gettext(e.message).format(
            **{k: html.escape(v) for k, v in e.format_args().items()}
        )
        if e.row is not None and e.column is not None:
            lines.append(
                _("Riga {row}, colonna «{column}»: {message}").format(
                    row=e.row, column=html.escape(e.column), message=message
                )
            )
        elif e.row is not None:
            lines.append(_("Riga {row}: {message}").format(row=e.row, message=message))
        else:
            lines.append(message)
    if len(errors) > importer.MAX_ERRORS_SHOWN:
        rest = len(errors) - importer.MAX_ERRORS_SHOWN
        lines.append(
            tr.ngettext("…e un altro errore.", "…e altri {n} errori.", rest).format(n=rest)
        )
    lines.append("")
    lines.append(_("Correggi il file e rimandamelo."))
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:3990].rsplit("\n", 1)[0] + "\n…"


async def on_import_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    data = cb.decode(query.data)
    services = context.services
    now = services.clock.now()
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    union_id = data.int_arg(0) if data else None
    verb = data.action if data else ""
    toast: str | None = None
    edit: str | None = None
    pending_file: tuple[str, str | None, int | None] | None = None
    async with update_transaction(context, update) as session:
        tr = await caller_tr(session, services, update)
        _ = tr.gettext
        conv = await core_repo.get_conversation(
            session, telegram_user_id=user.id, chat_id=chat.id, now=now
        )
        refusal = await button_refusal(session, update, tr, union_id=union_id)
        scope = (
            await _member_scope(session, update, context, union_id)
            if union_id and refusal is None
            else None
        )
        if refusal is not None:
            toast = refusal
        elif scope is None or not scope.is_coordinator:
            toast = _("Solo il coordinatore può caricare le azioni da un file.")
        elif conv is None or conv.flow != IMPORT_FLOW:
            toast = _("Questa anteprima è scaduta: rimandami il file.")
        elif verb == "u" and conv.step == "union":
            pending_file = (
                str(conv.data["file_id"]),
                conv.data.get("file_name"),
                conv.data.get("size"),
            )
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
        elif verb == "no":
            await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
            toast, edit = _("Annullato."), _("✖️ Importazione annullata: non ho cambiato nulla.")
        elif (
            verb == "ok"
            and conv.step == "confirm"
            and int(conv.data.get("union_id") or 0) == union_id
        ):
            rows = [importer.ActionRow.from_json(r) for r in conv.data.get("rows", [])]
            valid = {mid for mid, _n in await _active_names(session, union_id)}
            if any(r.municipality_id is not None and r.municipality_id not in valid for r in rows):
                toast = _("Nel frattempo i Comuni sono cambiati: rimandami il file.")
            else:
                created, updated = await repo.upsert_actions(
                    session, union_id=union_id, rows=[r.values() for r in rows], now=now
                )
                await core_repo.clear_conversation(
                    session, telegram_user_id=user.id, chat_id=chat.id
                )
                toast = _("Importate.")
                if created or updated:
                    edit = _("✅ Fatto: {counts}. Le vedi con /azioni.").format(
                        counts=import_counts(tr, new=created, changed=updated)
                    )
                else:
                    edit = _("✅ Nessuna modifica: le azioni erano già così. Le vedi con /azioni.")
        else:
            toast = _("Questa anteprima è scaduta: rimandami il file.")
    await query.answer(toast)
    if edit is not None:
        await _edit_or_send(update, edit, None)
    if pending_file is not None and union_id is not None:
        await preview_import(update, context, union_id, *pending_file)


async def on_import_input(update: Update, context: BotContext, conversation: Conversation) -> None:
    services = context.services
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
    await reply(
        update, tr.gettext("Premi «Conferma» o «Annulla» qui sopra, oppure mandami un altro file.")
    )


# --- registration -------------------------------------------------------------------------


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    application.add_handler(CommandHandler("azioni", azioni))
    application.add_handler(CallbackQueryHandler(on_municipality_pick, pattern=rf"^{AREA}:nm:"))
    application.add_handler(CallbackQueryHandler(on_button, pattern=cb.pattern(AREA)))
    application.add_handler(CallbackQueryHandler(on_import_button, pattern=cb.pattern(IMPORT_AREA)))
    spreadsheet = (
        filters.Document.FileExtension("csv")
        | filters.Document.FileExtension("xlsx")
        | filters.Document.MimeType("text/csv")
        | filters.Document.MimeType(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    )
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & spreadsheet, on_document))
    register_flow(IMPORT_FLOW, on_import_input)
    register_flow(EDIT_FLOW, on_edit_input)
    register_union_command("azioni", azioni)
