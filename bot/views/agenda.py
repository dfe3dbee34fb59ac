"""A meeting's agenda (ordine del giorno) as people read it: the coordinator's panel, a member's
proposal and its answer, the convocation, the agenda in the .ics and in the day-before reminder.

Buttons (callback data `agd:verb:id`, ids only; the handlers re-check everything):

    agd:add:<meeting>      «📝 Proponi un punto» (the announcement, the convocation) and
                           «➕ Aggiungi un punto» (the panel): the text is then written in
                           private; a coordinator's goes straight on the agenda
    agd:up:<item>          move an item up (panel)
    agd:down:<item>        move an item down (panel)
    agd:drop:<item>        take an item off the agenda (panel)
    agd:ok:<meeting>       «✅ Conferma l'ordine del giorno» (panel)
    agd:show:<meeting>     «↩️ Torna all'ordine del giorno»: the panel again, in place of the
                           pressed message (the end of a task's dialogue opened from the panel)
    agd:yes:<item>         accept a member's proposal (to each coordinator, in private)
    agd:no:<item>          decline it
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot import callback_data as cb
from bot.i18n import N_, Translator, format_datetime
from bot.views.answer import Answer
from bot.views.keyboard import Button, Keyboard
from bot.views.meetings import NOT_A_MEMBER
from bot.views.tasks import new_task_button
from storage.models import AgendaSource

AGENDA_AREA = "agd"

SOURCE_ICONS = {
    AgendaSource.QUESTION: "❓",
    AgendaSource.DECISION: "✅",
    AgendaSource.TASK: "📌",
    AgendaSource.DEADLINE: "⏰",
    AgendaSource.PROPOSAL: "💬",
    AgendaSource.COORDINATOR: "✏️",
}


@dataclass(frozen=True)
class ItemView:
    item_id: int
    source: AgendaSource
    text: str


@dataclass(frozen=True)
class AgendaView:
    meeting_id: int
    title: str
    starts_at: datetime
    tz: ZoneInfo
    place: str | None
    items: tuple[ItemView, ...]
    confirmed: bool
    convoked: bool
    convocation_at: datetime  # when the convocation goes (or went) out


def _when(dt: datetime, tz: ZoneInfo, tr: Translator) -> str:
    return format_datetime(dt, tz, tr.language, year=True)


def agenda_lines(items: Sequence[ItemView], tr: Translator) -> list[str]:
    """The numbered items (HTML), or the line that says there is none."""
    if not items:
        return [tr.gettext("Nessun punto per ora.")]
    return [
        f"{n}. {SOURCE_ICONS[item.source]} {html.escape(item.text)}"
        for n, item in enumerate(items, 1)
    ]


def deadline_item(monitoring_only: bool, due: date, tr: Translator) -> str:
    """A Covenant report due soon, as a drafted item (`monitoring_only`: no emissions
    inventory with it)."""
    _ = tr.gettext
    what = (
        _("relazione di monitoraggio del PAES")
        if monitoring_only
        else _("relazione di monitoraggio e inventario delle emissioni")
    )
    noon = datetime.combine(due, time(12), UTC)
    day = format_datetime(noon, ZoneInfo("UTC"), tr.language, year=True).split(",")[0]
    return _("Patto dei Sindaci: {what} entro {date}").format(what=what, date=day)


def decision_item(approved: bool, question: str, tr: Translator) -> str:
    """A decision taken since the last meeting, to pass on, as a drafted item."""
    _ = tr.gettext
    said = _("approvata") if approved else _("non approvata")
    return _("Decisione {said}: {question}").format(said=said, question=question)


def agenda_plain(items: Sequence[ItemView]) -> str:
    """The agenda as plain text (the .ics description): one numbered line per item."""
    return "\n".join(f"{n}. {item.text}" for n, item in enumerate(items, 1))


def _head(view: AgendaView, tr: Translator) -> str:
    return tr.gettext("📋 <b>Ordine del giorno</b> · {title}, {date}").format(
        title=html.escape(view.title), date=_when(view.starts_at, view.tz, tr)
    )


def propose_button(meeting_id: int, tr: Translator) -> Button:
    return Button(tr.gettext("📝 Proponi un punto"), cb.encode(AGENDA_AREA, "add", meeting_id))


def propose_keyboard(meeting_id: int, tr: Translator) -> Keyboard | None:
    return Keyboard.of([propose_button(meeting_id, tr)])


def render_panel(view: AgendaView, tr: Translator) -> tuple[str, Keyboard | None]:
    """The coordinator's panel: the items with ↑ ↓ ✖ each, add, confirm."""
    _ = tr.gettext
    lines = [_head(view, tr), "", *agenda_lines(view.items, tr), ""]
    when = _when(view.convocation_at, view.tz, tr)
    if view.convoked:
        lines.append(
            _(
                "La convocazione è partita il {date}: se cambi qualcosa, l'ordine del giorno "
                "aggiornato parte con il promemoria del giorno prima."
            ).format(date=when)
        )
    elif view.confirmed:
        lines.append(_("✅ Confermato: lo invio con la convocazione, il {date}.").format(date=when))
    elif not view.items:  # no ↑ ↓ ✖ to tell about
        lines.append(
            _(
                "Aggiungi i punti con «➕ Aggiungi un punto», poi conferma. La convocazione parte "
                "il {date}."
            ).format(date=when)
        )
    else:
        lines.append(
            _(
                "Metti i punti in ordine con ↑ e ↓, togli quelli che non servono con ✖, poi "
                "conferma. La convocazione parte il {date}."
            ).format(date=when)
        )
    rows: list[list[Button]] = []
    last = len(view.items)
    for n, item in enumerate(view.items, 1):
        row = []
        if n > 1:
            row.append(Button(f"{n} ↑", cb.encode(AGENDA_AREA, "up", item.item_id)))
        if n < last:
            row.append(Button(f"{n} ↓", cb.encode(AGENDA_AREA, "down", item.item_id)))
        row.append(Button(f"{n} ✖", cb.encode(AGENDA_AREA, "drop", item.item_id)))
        rows.append(row)
    rows.append(
        [
            Button(_("➕ Aggiungi un punto"), cb.encode(AGENDA_AREA, "add", view.meeting_id)),
            new_task_button(view.meeting_id, tr),
        ]
    )
    if not view.confirmed:
        rows.append(
            [
                Button(
                    _("✅ Conferma l'ordine del giorno"),
                    cb.encode(AGENDA_AREA, "ok", view.meeting_id),
                )
            ]
        )
    return "\n".join(lines), Keyboard.of(*rows)


def render_drafted(view: AgendaView, tr: Translator) -> tuple[str, Keyboard | None]:
    """To each coordinator when the meeting is fixed: the draft, as the panel."""
    text, keyboard = render_panel(view, tr)
    intro = tr.gettext(
        "Ho preparato la bozza dell'ordine del giorno con quello che è in sospeso per il tavolo."
    )
    return intro + "\n\n" + text, keyboard


def panel_button(meeting_id: int, tr: Translator) -> Button:
    return Button(
        tr.gettext("↩️ Torna all'ordine del giorno"), cb.encode(AGENDA_AREA, "show", meeting_id)
    )


def panel_answer(view: AgendaView, tr: Translator, toast: str | None = None) -> Answer:
    text, keyboard = render_panel(view, tr)
    return Answer(toast=toast, text=text, keyboard=keyboard)


def render_ask_item(view: AgendaView, coordinator: bool, tr: Translator) -> str:
    _ = tr.gettext
    lines = [_head(view, tr), "", *agenda_lines(view.items, tr), ""]
    if coordinator:
        lines.append(_("Scrivimi in un messaggio il punto da aggiungere."))
    else:
        lines.append(
            _(
                "Scrivimi in un messaggio il punto che proponi: lo mando a chi coordina, che "
                "decide se aggiungerlo. Ti dirò com'è andata."
            )
        )
    return "\n".join(lines)


def asked_in_private(tr: Translator) -> str:
    return tr.gettext("Ti ho scritto in privato: scrivi lì il punto che proponi.")


def render_proposal(
    view: AgendaView, item_id: int, proposer: str, text: str, tr: Translator
) -> tuple[str, Keyboard | None]:
    """To each coordinator: a member's proposal, with one tap to accept or decline it."""
    _ = tr.gettext
    body = _(
        "💬 {name} propone un punto per l'ordine del giorno di «{title}» ({date}):\n«{text}»"
    ).format(
        name=html.escape(proposer),
        title=html.escape(view.title),
        date=_when(view.starts_at, view.tz, tr),
        text=html.escape(text),
    )
    return body, Keyboard.of(
        [
            Button(_("✅ Accetta"), cb.encode(AGENDA_AREA, "yes", item_id)),
            Button(_("❌ Rifiuta"), cb.encode(AGENDA_AREA, "no", item_id)),
        ]
    )


def render_proposal_answered(accepted: bool, text: str, tr: Translator) -> str:
    """The coordinator's message, once answered."""
    if accepted:
        return tr.gettext("✅ Aggiunto all'ordine del giorno: «{text}».").format(
            text=html.escape(text)
        )
    return tr.gettext("❌ Non aggiunto all'ordine del giorno: «{text}».").format(
        text=html.escape(text)
    )


def render_proposer_told(accepted: bool, text: str, view: AgendaView, tr: Translator) -> str:
    """To the member who proposed: what the coordinator decided."""
    if accepted:
        msg = tr.gettext(
            "✅ La tua proposta «{text}» è nell'ordine del giorno di «{title}» ({date})."
        )
    else:
        msg = tr.gettext(
            "La tua proposta «{text}» per «{title}» ({date}) non è stata aggiunta all'ordine "
            "del giorno. Se vuoi sapere perché, chiedi a chi coordina."
        )
    return msg.format(
        text=html.escape(text),
        title=html.escape(view.title),
        date=_when(view.starts_at, view.tz, tr),
    )


def render_proposed(tr: Translator) -> str:
    return tr.gettext("Proposta inviata a chi coordina: ti dirò se la aggiunge.")


def render_convocation(view: AgendaView, tr: Translator) -> str:
    """To the table's groups, a set number of days before: the meeting and its agenda."""
    _ = tr.gettext
    lines = [
        _("📣 <b>Convocazione</b>: {title}, <b>{date}</b>.").format(
            title=html.escape(view.title), date=_when(view.starts_at, view.tz, tr)
        )
    ]
    if view.place:
        lines.append(_("📍 {place}").format(place=html.escape(view.place)))
    lines += ["", _("<b>Ordine del giorno</b>"), *agenda_lines(view.items, tr), ""]
    lines.append(_("Per proporre un altro punto usate il pulsante qui sotto."))
    return "\n".join(lines)


def render_agenda_changed(items: Sequence[ItemView], tr: Translator) -> str:
    """Appended to the day-before reminder when the agenda changed since the convocation."""
    return "\n".join(
        ["", tr.gettext("<b>Ordine del giorno aggiornato</b>"), *agenda_lines(items, tr)]
    )


_REFUSALS = {
    "gone": N_("Questa riunione non c'è più o è già cominciata: l'ordine del giorno è chiuso."),
    "not_member": NOT_A_MEMBER,
    "not_at_table": N_(
        "Questa riunione è di un tavolo di cui non fai parte: i punti li propone chi ne fa "
        "parte. Se è un errore, chiedi a chi coordina di correggere il tuo ruolo."
    ),
    "not_coordinator": N_(
        "Solo chi coordina l'Unione mette in ordine e conferma l'ordine del giorno: proponi un "
        "punto con «📝 Proponi un punto»."
    ),
    "decided": N_("Questa proposta ha già avuto risposta: guarda l'ordine del giorno."),
    "item_gone": N_("Questo punto non è più nell'ordine del giorno: usa il messaggio più recente."),
    "full": N_(
        "L'ordine del giorno ha già {n} punti: chiedi a chi coordina di toglierne uno prima di "
        "aggiungerne altri."
    ),
    "empty": N_("Il messaggio è vuoto: scrivimi il punto in parole."),
    "too_long": N_("È troppo lungo: scrivilo in al massimo {n} caratteri."),
    "repeat": N_("Questo punto è già nell'ordine del giorno (o in attesa di risposta)."),
}


def render_refusal(reason: str, tr: Translator, n: int = 0) -> str:
    return tr.gettext(_REFUSALS[reason]).format(n=n)
