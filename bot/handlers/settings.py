"""`/impostazioni`: one menu for the coordinator, in private, with buttons only.

Sections: Riunioni (MeetingSettings), Aggiornamenti (UpdateSettings), the PAES approval date
(for the Covenant clock) and the `#aggiornamento` capture of the technical group. A missing
settings row means the defaults; the row is created on the first change.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callback_data as cb
from bot import telegram_edit
from bot.context import BotContext, Services
from bot.conversations import register_flow
from bot.i18n import Translator
from bot.markup import button as plain_button
from bot.scope import (
    Refusal,
    button_refusal,
    caller,
    register_union_command,
    reply,
    resolve_union,
    update_transaction,
)
from bot.views.dashboard.telegram import settings_menu_button
from storage.models import (
    Conversation,
    LinkedChat,
    MeetingSettings,
    TableKind,
    Union,
    UpdateSettings,
)
from storage.repositories import core as core_repo
from storage.repositories import summaries as repo

logger = logging.getLogger(__name__)

SET_AREA = "set"
PAES_FLOW = "paes_date"
WEEKDAYS = {
    "it": ("Lu", "Ma", "Me", "Gi", "Ve", "Sa", "Do"),
    "en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"),
}
# In sentences the days are spelled out: "Giorni proposti: martedì, giovedì".
WEEKDAY_NAMES = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

# field → (minimum, maximum, step) for the +/− buttons
MEETING_RANGES = {
    "auto_poll_day": (1, 28, 1),
    "auto_poll_hour": (0, 23, 1),
    "slot_hour": (7, 21, 1),
    "duration_minutes": (30, 480, 30),
    "deadline_days": (1, 14, 1),
}
MEETING_TOGGLES = ("auto_poll_enabled", "remind_day_before", "remind_hour_before")
UPDATE_RANGES = {
    "fallback_day": (1, 28, 1),
    "fallback_hour": (0, 23, 1),
    "fallback_deadline_days": (1, 14, 1),
    "deadline_days_before_meeting": (1, 7, 1),
}
UPDATE_TOGGLES = ("enabled",)
# Short codes keep callback data well under 64 bytes.
FIELD_CODES = {
    "ae": "auto_poll_enabled",
    "ad": "auto_poll_day",
    "ah": "auto_poll_hour",
    "sh": "slot_hour",
    "du": "duration_minutes",
    "dd": "deadline_days",
    "r1": "remind_day_before",
    "r2": "remind_hour_before",
    "ue": "enabled",
    "fd": "fallback_day",
    "fh": "fallback_hour",
    "fl": "fallback_deadline_days",
    "db": "deadline_days_before_meeting",
}

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def _btn(text: str, *parts: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=cb.encode(SET_AREA, *[str(p) for p in parts]))


def _onoff(tr: Translator, value: bool) -> str:
    return tr.gettext("sì") if value else tr.gettext("no")


# --- views ---------------------------------------------------------------------------------


def _menu(
    tr: Translator, union: Union, *, dashboard: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    text = "⚙️ " + _("<b>Impostazioni · {union}</b>\nChe cosa vuoi cambiare?").format(
        union=html.escape(union.name)
    )
    u = union.id
    rows = [
        [_btn("📅 " + _("Riunioni"), "mtg", u)],
        [_btn("📝 " + _("Aggiornamenti"), "upd", u)],
        [_btn("🖊 " + _("Data di approvazione del PAES"), "paes", u)],
        [_btn("#️⃣ " + _("#aggiornamento nel gruppo tecnico"), "tag", u)],
    ]
    if dashboard:  # the public page (issue 20: bot/handlers/public_page.py)
        rows.append([plain_button(settings_menu_button(tr, u))])
    return text, InlineKeyboardMarkup(rows)


def _stepper(label: str, value: str, u: int, section: str, code: str) -> list[InlineKeyboardButton]:
    return [
        _btn("−", section, u, code, "n"),
        _btn(f"{label}: {value}", section, u, code, "i"),
        _btn("+", section, u, code, "p"),
    ]


def _meeting_view(
    tr: Translator, union: Union, s: MeetingSettings
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    u = union.id
    days = WEEKDAYS.get(tr.language, WEEKDAYS["it"])
    chosen = {int(x) for x in (s.weekdays or "").split(",") if x.strip().isdigit()}
    text = "\n".join(
        [
            "📅 " + _("<b>Riunioni</b>"),
            _("Sondaggio automatico ogni mese: {v}").format(v=_onoff(tr, s.auto_poll_enabled)),
            _("Si apre il giorno {d} alle {h}:00").format(d=s.auto_poll_day, h=s.auto_poll_hour),
            _("Giorni proposti: {days}, alle {h}:{m:02d}, durata {dur} minuti").format(
                days=", ".join(
                    WEEKDAY_NAMES.get(tr.language, WEEKDAY_NAMES["it"])[d] for d in sorted(chosen)
                )
                or "—",
                h=s.slot_hour,
                m=s.slot_minute,
                dur=s.duration_minutes,
            ),
            tr.ngettext(
                "Risposte entro {n} giorno", "Risposte entro {n} giorni", s.deadline_days
            ).format(n=s.deadline_days),
            _("Promemoria il giorno prima: {a} · un'ora prima: {b}").format(
                a=_onoff(tr, s.remind_day_before), b=_onoff(tr, s.remind_hour_before)
            ),
        ]
    )
    rows = [
        [
            _btn(
                ("✅ " if s.auto_poll_enabled else "⬜ ") + _("Sondaggio automatico"),
                "m",
                u,
                "ae",
                "t",
            )
        ],
        _stepper(_("Giorno"), str(s.auto_poll_day), u, "m", "ad"),
        _stepper(_("Ora"), f"{s.auto_poll_hour}:00", u, "m", "ah"),
        [_btn(("● " if d in chosen else "○ ") + days[d], "m", u, "wd", str(d)) for d in range(7)],
        _stepper(_("Inizio"), f"{s.slot_hour}:{s.slot_minute:02d}", u, "m", "sh"),
        _stepper(_("Durata"), f"{s.duration_minutes}′", u, "m", "du"),
        _stepper(_("Risposte entro"), f"{s.deadline_days} gg", u, "m", "dd"),
        [
            _btn(("✅ " if s.remind_day_before else "⬜ ") + _("Giorno prima"), "m", u, "r1", "t"),
            _btn(("✅ " if s.remind_hour_before else "⬜ ") + _("Ora prima"), "m", u, "r2", "t"),
        ],
        [_btn("↩️ " + _("Indietro"), "menu", u)],
    ]
    return text, InlineKeyboardMarkup(rows)


def _update_view(
    tr: Translator, union: Union, s: UpdateSettings
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    u = union.id
    text = "\n".join(
        [
            "📝 " + _("<b>Aggiornamenti dei tecnici</b>"),
            _("Giro mensile di aggiornamenti: {v}").format(v=_onoff(tr, s.enabled)),
            tr.ngettext(
                "Si apre appena è fissata la riunione del mese, con scadenza {n} giorno prima.",
                "Si apre appena è fissata la riunione del mese, con scadenza {n} giorni prima.",
                s.deadline_days_before_meeting,
            ).format(n=s.deadline_days_before_meeting),
            tr.ngettext(
                "Se nel mese non c'è una riunione, si apre il giorno {d} alle {h}:00, con {n} giorno per rispondere.",
                "Se nel mese non c'è una riunione, si apre il giorno {d} alle {h}:00, con {n} giorni per rispondere.",
                s.fallback_deadline_days,
            ).format(d=s.fallback_day, h=s.fallback_hour, n=s.fallback_deadline_days),
        ]
    )
    rows = [
        [_btn(("✅ " if s.enabled else "⬜ ") + _("Giro mensile"), "u", u, "ue", "t")],
        _stepper(
            _("Giorni prima della riunione"), str(s.deadline_days_before_meeting), u, "u", "db"
        ),
        _stepper(_("Giorno senza riunione"), str(s.fallback_day), u, "u", "fd"),
        _stepper(_("Ora"), f"{s.fallback_hour}:00", u, "u", "fh"),
        _stepper(_("Giorni per rispondere"), str(s.fallback_deadline_days), u, "u", "fl"),
        [_btn("↩️ " + _("Indietro"), "menu", u)],
    ]
    return text, InlineKeyboardMarkup(rows)


def _paes_view(tr: Translator, union: Union) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    u = union.id
    when = (
        union.paes_approved_on.strftime("%d/%m/%Y") if union.paes_approved_on else _("non indicata")
    )
    text = "\n".join(
        [
            "🖊 " + _("<b>Data di approvazione del PAES</b>: {d}").format(d=html.escape(when)),
            _(
                "Con questa data avviso il tavolo politico 60 e 14 giorni prima di ogni relazione di monitoraggio (ogni 2 anni) e di ogni inventario delle emissioni (ogni 4 anni)."
            ),
        ]
    )
    rows = [[_btn("✏️ " + _("Scrivi la data"), "pset", u)]]
    if union.paes_approved_on:
        rows.append([_btn("🗑 " + _("Togli la data"), "pclr", u)])
    rows.append([_btn("↩️ " + _("Indietro"), "menu", u)])
    return text, InlineKeyboardMarkup(rows)


def _tag_view(
    tr: Translator, union: Union, links: list[LinkedChat]
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    u = union.id
    technical = [link for link in links if link.table_kind == TableKind.TECHNICAL]
    lines = [
        "#️⃣ " + _("<b>#aggiornamento nel gruppo tecnico</b>"),
        _(
            "Se attivo, un messaggio del gruppo tecnico che contiene #aggiornamento diventa un aggiornamento delle azioni."
        ),
        _(
            "Funziona solo se il bot è amministratore del gruppo (o se chi gestisce il bot gli ha fatto leggere tutti i messaggi dei gruppi). Altrimenti i tecnici usano /aggiornamento o rispondono al messaggio del bot."
        ),
    ]
    rows = []
    if technical:
        for link in technical:
            lines.append(
                _("{title}: {v}").format(
                    title=html.escape(link.title), v=_onoff(tr, link.hashtag_capture)
                )
            )
            rows.append(
                [
                    _btn(
                        ("✅ " if link.hashtag_capture else "⬜ ") + link.title[:40],
                        "h",
                        u,
                        link.id,
                    )
                ]
            )
    else:
        lines.append(_("Il gruppo tecnico non è ancora collegato: usa /collega nel gruppo."))
    rows.append([_btn("↩️ " + _("Indietro"), "menu", u)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _view(
    session: AsyncSession, tr: Translator, union: Union, section: str, *, dashboard: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    if section in ("mtg", "m"):
        return _meeting_view(tr, union, await repo.meeting_settings(session, union.id))
    if section in ("upd", "u"):
        return _update_view(tr, union, await repo.update_settings(session, union.id))
    if section in ("paes", "pclr"):
        return _paes_view(tr, union)
    if section in ("tag", "h"):
        return _tag_view(tr, union, await repo.technical_links(session, union.id))
    return _menu(tr, union, dashboard=dashboard)


# --- pure changes --------------------------------------------------------------------------


def step_value(value: int, op: str, bounds: tuple[int, int, int]) -> int:
    low, high, step = bounds
    if op == "p":
        return min(high, value + step)
    if op == "n":
        return max(low, value - step)
    return value


def toggle_weekday(weekdays: str, day: int) -> str:
    chosen = {int(x) for x in weekdays.split(",") if x.strip().isdigit()}
    chosen ^= {day}
    if not chosen:
        chosen = {day}  # at least one day to propose
    return ",".join(str(d) for d in sorted(chosen))


def parse_italian_date(text: str) -> date | None:
    """'15/3/2024', '15-03-2024', '15.03.2024' or '2024-03-15'."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return None


# --- handlers ------------------------------------------------------------------------------


async def settings_command(update: Update, context: BotContext) -> None:
    await _settings_for(update, context, None)


async def _settings_for(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    chat = update.effective_chat
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        scope = await resolve_union(
            session, update, context, command="impostazioni", chosen_union_id=union_id
        )
    if who is None or chat is None:
        return
    _ = who.tr.gettext
    if chat.type != Chat.PRIVATE:
        await reply(update, _("Le impostazioni si cambiano in chat privata con me."))
        return
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if not scope.is_coordinator:
        await reply(update, _("Solo il coordinatore cambia le impostazioni dell'Unione."))
        return
    text, markup = _menu(who.tr, scope.union, dashboard=bool(services.settings.webapp_url))
    await reply(update, text, markup, parse_mode=ParseMode.HTML)


async def on_settings_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    data = cb.decode(query.data)
    union_id = data.int_arg(0) if data else None
    services = context.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None or data is None or union_id is None:
        await query.answer()
        return
    _ = who.tr.gettext
    toast = ""
    view: tuple[str, InlineKeyboardMarkup] | None = None
    ask_date = False
    async with update_transaction(context, update) as session:
        only_in_private = _("Le impostazioni si cambiano in chat privata con me.")
        refusal = await button_refusal(
            session, update, who.tr, union_id=union_id, private_only=only_in_private
        )
        member = await core_repo.member_of(
            session, union_id=union_id, telegram_user_id=query.from_user.id
        )
        union = await session.get(Union, union_id)
        section = data.action
        if refusal is not None:
            toast = refusal
        elif member is None or union is None or not member.is_coordinator:
            toast = _("Solo il coordinatore cambia le impostazioni dell'Unione.")
        else:
            code = data.str_arg(1) or ""
            op = data.str_arg(2) or ""
            if section == "m":
                settings = await repo.meeting_settings(session, union_id)
                session.add(settings)
                if code == "wd" and op.isdigit() and int(op) < 7:
                    settings.weekdays = toggle_weekday(settings.weekdays or "", int(op))
                elif FIELD_CODES.get(code) in MEETING_TOGGLES and op == "t":
                    name = FIELD_CODES[code]
                    setattr(settings, name, not getattr(settings, name))
                elif FIELD_CODES.get(code) in MEETING_RANGES and op in ("p", "n", "i"):
                    name = FIELD_CODES[code]
                    setattr(
                        settings,
                        name,
                        step_value(getattr(settings, name), op, MEETING_RANGES[name]),
                    )
                toast = _("Salvato.") if op != "i" else ""
            elif section == "u":
                usettings = await repo.update_settings(session, union_id)
                session.add(usettings)
                name = FIELD_CODES.get(code, "")
                if name in UPDATE_TOGGLES and op == "t":
                    setattr(usettings, name, not getattr(usettings, name))
                elif name in UPDATE_RANGES and op in ("p", "n", "i"):
                    setattr(
                        usettings,
                        name,
                        step_value(getattr(usettings, name), op, UPDATE_RANGES[name]),
                    )
                toast = _("Salvato.") if op != "i" else ""
            elif section == "h":
                link_id = data.int_arg(1)
                link = await session.get(LinkedChat, link_id) if link_id is not None else None
                if (
                    link is None
                    or link.union_id != union_id
                    or link.table_kind != TableKind.TECHNICAL
                ):
                    toast = _("Questo pulsante non è più valido.")
                else:
                    link.hashtag_capture = not link.hashtag_capture
                    toast = _("Salvato.")
            elif section == "pclr":
                union.paes_approved_on = None
                toast = _("Data tolta.")
            elif section == "pset":
                await core_repo.set_conversation(
                    session,
                    telegram_user_id=query.from_user.id,
                    chat_id=chat.id,
                    flow=PAES_FLOW,
                    step="date",
                    data={"union_id": union_id},
                    now=now,
                )
                ask_date = True
            if not ask_date:
                await session.flush()
                view = await _view(
                    session, who.tr, union, section, dashboard=bool(services.settings.webapp_url)
                )
    await query.answer(toast or None)
    if ask_date:
        await chat.send_message(
            _("Scrivimi la data di approvazione del PAES in consiglio, ad esempio 15/03/2024.")
        )
    if view is not None:
        await telegram_edit.edit_or_send(update, context.bot, view[0], view[1])


async def on_paes_date(update: Update, context: BotContext, conversation: Conversation) -> None:
    message = update.effective_message
    user = update.effective_user
    chat = update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    now = services.clock.now()
    union_id = int(conversation.data.get("union_id", 0))
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None:
        return
    _ = who.tr.gettext
    day = parse_italian_date(message.text or "")
    if day is None or not (date(1990, 1, 1) <= day <= now.date()):
        await reply(
            update,
            _("Non è una data valida (e non può essere nel futuro). Scrivila come 15/03/2024."),
        )
        return
    view = None
    async with update_transaction(context, update) as session:
        member = await core_repo.member_of(session, union_id=union_id, telegram_user_id=user.id)
        union = await session.get(Union, union_id)
        await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
        if member is not None and member.is_coordinator and union is not None:
            union.paes_approved_on = day
            view = _paes_view(who.tr, union)
    if view is None:
        await reply(update, _("Solo il coordinatore cambia le impostazioni dell'Unione."))
        return
    await reply(update, _("Salvato.") + "\n\n" + view[0], view[1], parse_mode=ParseMode.HTML)


async def _settings_picked(update: Update, context: BotContext, union_id: int) -> None:
    await _settings_for(update, context, union_id)


def register(application: AnyApplication, services: Services) -> None:
    application.add_handler(CommandHandler("impostazioni", settings_command))
    application.add_handler(CallbackQueryHandler(on_settings_button, pattern=cb.pattern(SET_AREA)))
    register_union_command("impostazioni", _settings_picked)
    register_flow(PAES_FLOW, on_paes_date)
