"""/impostazioni as the coordinator reads it: one menu, a page per section, buttons only.

Plain functions of the stored settings (no Telegram, no session); the handlers in
bot.handlers.settings answer with them.

Buttons (callback data `set:verb:<union>[:arg…]`, ids and codes only; the handlers re-check
everything):

    set:menu|meetings|rounds|paes|hashtag:<union>   a page
    set:meeting:<union>:<field>:<op>                 a meeting setting: up | down | toggle | show
    set:weekday:<union>:<0-6>                        a day proposed for the meetings, on/off
    set:round:<union>:<field>:<op>                   an update-round setting
    set:capture:<union>:<link>                       #aggiornamento in a technical group, on/off
    set:paes_date:<union>, set:paes_clear:<union>    the PAES approval date: write it, clear it

A field is its short code (bot.services.settings.rules.FIELD_CODES).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot import callback_data as cb
from bot.i18n import N_, Translator
from bot.views.answer import Answer
from bot.views.common import STALE_BUTTON
from bot.views.dashboard.telegram import settings_menu_button
from bot.views.keyboard import Button, Keyboard
from storage.models import LinkedChat, MeetingSettings, TableKind, Union, UpdateSettings

SET_AREA = "set"
MENU, MEETINGS, ROUNDS, PAES, HASHTAG = "menu", "meetings", "rounds", "paes", "hashtag"
SECTIONS = (MENU, MEETINGS, ROUNDS, PAES, HASHTAG)
MEETING, WEEKDAY, ROUND, CAPTURE, PAES_DATE, PAES_CLEAR = (
    "meeting",
    "weekday",
    "round",
    "capture",
    "paes_date",
    "paes_clear",
)
UP, DOWN, TOGGLE, SHOW = "up", "down", "toggle", "show"

WEEKDAYS = {
    "it": ("Lu", "Ma", "Me", "Gi", "Ve", "Sa", "Do"),
    "en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"),
}
# In sentences the days are spelled out: "Giorni proposti: martedì, giovedì".
WEEKDAY_NAMES = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

Keyboarded = tuple[str, Keyboard]


def _btn(text: str, verb: str, *args: object) -> Button:
    return Button(text, cb.encode(SET_AREA, verb, *args))


def _onoff(tr: Translator, value: bool) -> str:
    return tr.gettext("sì") if value else tr.gettext("no")


def _check(value: bool) -> str:
    return "✅ " if value else "⬜ "


def _back(tr: Translator, union_id: int) -> tuple[Button, ...]:
    return (_btn("↩️ " + tr.gettext("Indietro"), MENU, union_id),)


def menu(tr: Translator, union: Union, *, dashboard: bool = False) -> Keyboarded:
    """The menu; with the dashboard configured, also its public page (issue 20: `pub:show`,
    bot/handlers/public_page.py)."""
    _ = tr.gettext
    text = "⚙️ " + _("<b>Impostazioni · {union}</b>\nChe cosa vuoi cambiare?").format(
        union=html.escape(union.name)
    )
    u = union.id
    rows: list[tuple[Button, ...]] = [
        (_btn("📅 " + _("Riunioni"), MEETINGS, u),),
        (_btn("📝 " + _("Aggiornamenti"), ROUNDS, u),),
        (_btn("🖊 " + _("Data di approvazione del PAES"), PAES, u),),
        (_btn("#️⃣ " + _("#aggiornamento nel gruppo tecnico"), HASHTAG, u),),
    ]
    if dashboard:
        rows.append((settings_menu_button(tr, u),))
    return text, Keyboard(tuple(rows))


def _stepper(label: str, value: str, verb: str, u: int, code: str) -> tuple[Button, ...]:
    return (
        _btn("−", verb, u, code, DOWN),
        _btn(f"{label}: {value}", verb, u, code, SHOW),
        _btn("+", verb, u, code, UP),
    )


def meetings(tr: Translator, union: Union, s: MeetingSettings) -> Keyboarded:
    _ = tr.gettext
    u = union.id
    days = WEEKDAYS.get(tr.language, WEEKDAYS["it"])
    chosen = {int(x) for x in (s.weekdays or "").split(",") if x.strip().isdigit()}
    names = WEEKDAY_NAMES.get(tr.language, WEEKDAY_NAMES["it"])
    text = "\n".join(
        [
            "📅 " + _("<b>Riunioni</b>"),
            _("Sondaggio automatico ogni mese: {v}").format(v=_onoff(tr, s.auto_poll_enabled)),
            _("Si apre il giorno {d} alle {h}:00").format(d=s.auto_poll_day, h=s.auto_poll_hour),
            _("Giorni proposti: {days}, alle {h}:{m:02d}, durata {dur} minuti").format(
                days=", ".join(names[d] for d in sorted(chosen)) or "—",
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
    rows = (
        (_btn(_check(s.auto_poll_enabled) + _("Sondaggio automatico"), MEETING, u, "ae", TOGGLE),),
        _stepper(_("Giorno"), str(s.auto_poll_day), MEETING, u, "ad"),
        _stepper(_("Ora"), f"{s.auto_poll_hour}:00", MEETING, u, "ah"),
        tuple(_btn(("● " if d in chosen else "○ ") + days[d], WEEKDAY, u, d) for d in range(7)),
        _stepper(_("Inizio"), f"{s.slot_hour}:{s.slot_minute:02d}", MEETING, u, "sh"),
        _stepper(_("Durata"), f"{s.duration_minutes}′", MEETING, u, "du"),
        _stepper(_("Risposte entro"), f"{s.deadline_days} gg", MEETING, u, "dd"),
        (
            _btn(_check(s.remind_day_before) + _("Giorno prima"), MEETING, u, "r1", TOGGLE),
            _btn(_check(s.remind_hour_before) + _("Ora prima"), MEETING, u, "r2", TOGGLE),
        ),
        _back(tr, u),
    )
    return text, Keyboard(rows)


def rounds(tr: Translator, union: Union, s: UpdateSettings) -> Keyboarded:
    _ = tr.gettext
    u = union.id
    text = "\n".join(
        [
            "📝 " + _("<b>Aggiornamenti dei tecnici</b>"),
            _("Aggiornamento mensile: {v}").format(v=_onoff(tr, s.enabled)),
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
    rows = (
        (_btn(_check(s.enabled) + _("Aggiornamento mensile"), ROUND, u, "ue", TOGGLE),),
        _stepper(
            _("Giorni prima della riunione"), str(s.deadline_days_before_meeting), ROUND, u, "db"
        ),
        _stepper(_("Senza riunione, giorno"), str(s.fallback_day), ROUND, u, "fd"),
        _stepper(_("Ora"), f"{s.fallback_hour}:00", ROUND, u, "fh"),
        _stepper(_("Giorni per rispondere"), str(s.fallback_deadline_days), ROUND, u, "fl"),
        _back(tr, u),
    )
    return text, Keyboard(rows)


def paes(tr: Translator, union: Union) -> Keyboarded:
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
    rows: list[tuple[Button, ...]] = [(_btn("✏️ " + _("Scrivi la data"), PAES_DATE, u),)]
    if union.paes_approved_on:
        rows.append((_btn("🗑 " + _("Togli la data"), PAES_CLEAR, u),))
    rows.append(_back(tr, u))
    return text, Keyboard(tuple(rows))


def hashtag(tr: Translator, union: Union, links: Sequence[LinkedChat]) -> Keyboarded:
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
    rows: list[tuple[Button, ...]] = []
    for link in technical:
        lines.append(
            _("{title}: {v}").format(
                title=html.escape(link.title), v=_onoff(tr, link.hashtag_capture)
            )
        )
        rows.append((_btn(_check(link.hashtag_capture) + link.title[:40], CAPTURE, u, link.id),))
    if not technical:
        lines.append(_("Il gruppo tecnico non è ancora collegato: usa /collega nel gruppo."))
    rows.append(_back(tr, u))
    return "\n".join(lines), Keyboard(tuple(rows))


# --- answers --------------------------------------------------------------------------------

_TOASTS = {
    "saved": N_("Salvato."),
    "cleared": N_("Data tolta."),
    "invalid": STALE_BUTTON,
}


def shown(tr: Translator, page: Keyboarded, toast: str | None) -> Answer:
    """A page after a press; `toast`: saved, cleared, invalid, or None (nothing to say)."""
    return Answer(
        toast=tr.gettext(_TOASTS[toast]) if toast else None, text=page[0], keyboard=page[1]
    )


def settings_in_private(tr: Translator) -> str:
    return tr.gettext("Le impostazioni si cambiano in chat privata con me.")


def coordinator_only(tr: Translator) -> str:
    return tr.gettext("Solo chi coordina l'Unione ne cambia le impostazioni.")


def ask_paes_date(tr: Translator) -> Answer:
    howto = tr.gettext(
        "Scrivimi la data di approvazione del PAES in consiglio, ad esempio 15/03/2024."
    )
    return Answer(toast=None, then=((howto, None),))


def bad_paes_date(tr: Translator) -> str:
    return tr.gettext(
        "Non è una data valida (e non può essere nel futuro). Scrivila come 15/03/2024."
    )


def paes_saved(tr: Translator, page: Keyboarded) -> Keyboarded:
    return tr.gettext("Salvato.") + "\n\n" + page[0], page[1]
