"""The technician's update dialogue: texts and keyboards, plain functions of plain data. The
dialogue's use cases (bot.services.progress.dialogue, .written) say what to show as one of the
screens below (`Screen`); `render_screen` turns it into a message. The round's own messages
(invitations, reminders, reports, /aggiornamento stato) are bot.views.rounds'.

Callback data (`upd:verb:id[:arg]`, re-checked by the handlers):

    upd:start:<union>                 «Aggiorna le azioni» under an invitation: the dialogue
    upd:no_news:<round>               nothing new this month
    upd:pick:<action>                 an action from the list
    upd:status:<action>:<status>      its state now (an ActionStatus value)
    upd:progress:<action>:<percent>   its percentage
    upd:question:<action>             it needs a political decision: the question is typed next
    upd:save:<action>                 save the answer
    upd:skip:<action>                 the next action instead
    upd:list:<union>                  the list of the technician's actions
    upd:finish:<union>                done for now
"""

from __future__ import annotations

import enum
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.callback_data import encode
from bot.i18n import Translator, format_datetime, format_month
from bot.views.actions import STATUS_ICONS, status_label
from bot.views.keyboard import Button, Keyboard
from storage.models import Action, ActionStatus

AREA = "upd"
PROGRESS_CHOICES = (0, 25, 50, 75, 100)
LIST_BUDGET = 3300  # characters of the action list in a message (the rest: header, buttons)

Shown = tuple[str, Keyboard | None]


def union_tz(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except Exception:
        return ZoneInfo("Europe/Rome")


def month_label(period: str, tr: Translator) -> str:
    year, month = (int(x) for x in period.split("-"))
    return format_month(year, month, tr.language)


def action_line(
    action: Action,
    names: Mapping[int, str],
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


def private_only(tr: Translator) -> str:
    """What a button or command of the update dialogue answers in a group."""
    return tr.gettext(
        "Gli aggiornamenti si danno in privato: scrivimi /aggiornamento in chat con me."
    )


# --- the dialogue's screens -----------------------------------------------------------------


class Notice(enum.Enum):
    """A fixed line: a screen of its own, or the header of another."""

    USE_BUTTONS = "use_buttons"
    NEXT_ACTION = "next_action"
    PICK_FIRST = "pick_first"
    WRITE_QUESTION = "write_question"
    QUESTION_TOO_LONG = "question_too_long"
    NUMBER_PLEASE = "number_please"
    NOT_A_MEMBER = "not_a_member"


@dataclass(frozen=True)
class RoundHeader:
    """The dialogue's first header: the round's month and deadline, or none open."""

    period: str | None
    deadline_at: datetime | None = None
    timezone: str = "Europe/Rome"


@dataclass(frozen=True)
class Finished:
    """«Done»: the codes still to update (none: all done)."""

    missing: tuple[str, ...]


Header = Notice | RoundHeader | Finished | None


@dataclass(frozen=True)
class StatusQuestion:
    action: Action
    position: int  # 0 when the action is not in the technician's list
    total: int
    names: Mapping[int, str]
    union_id: int
    header: Header = None


@dataclass(frozen=True)
class ProgressQuestion:
    action: Action
    status: ActionStatus
    header: Header = None


class Ack(enum.Enum):
    """What a text, photo or document written at the note step did."""

    ATTACHED = "attached"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
    NOTE_ADDED = "note_added"
    NOTE_TOO_LONG = "note_too_long"
    NOTHING = "nothing"


@dataclass(frozen=True)
class ExtrasQuestion:
    action: Action
    status: ActionStatus
    progress: int
    note: str | None
    attachments: int
    acks: tuple[Ack, ...] = ()
    progress_ack: int | None = None  # «Avanzamento: 40%», after a typed percentage


@dataclass(frozen=True)
class Menu:
    actions: Sequence[Action]
    done: frozenset[int]
    names: Mapping[int, str]
    round_id: int | None
    union_id: int
    header: Header = None


@dataclass(frozen=True)
class SavedAnswer:
    code: str
    status: ActionStatus
    progress: int
    note: str | None
    attachments: int
    question: str | None


Screen = StatusQuestion | ProgressQuestion | ExtrasQuestion | Menu | SavedAnswer | Finished | Notice

MAX_ATTACHMENTS = 5
MAX_NOTE = 2000
MAX_QUESTION = 300


def _notice(notice: Notice, tr: Translator) -> str:
    _ = tr.gettext
    match notice:
        case Notice.USE_BUTTONS:
            return _("Usa i pulsanti qui sotto.")
        case Notice.NEXT_ACTION:
            return _("➡️ Prossima azione")
        case Notice.PICK_FIRST:
            return _("Scegli prima un'azione dai pulsanti.")
        case Notice.WRITE_QUESTION:
            return _("⚖️ Scrivi in una riga la domanda per il tavolo politico.")
        case Notice.QUESTION_TOO_LONG:
            return _("Troppo lunga: al massimo {n} caratteri, in una riga.").format(n=MAX_QUESTION)
        case Notice.NUMBER_PLEASE:
            return _("Scrivi un numero da 0 a 100, oppure premi un pulsante.")
        case Notice.NOT_A_MEMBER:
            return _("Non risulti più tra i membri attivi dell'Unione.")


def _header(header: Header, tr: Translator) -> str:
    if header is None:
        return ""
    if isinstance(header, Notice):
        return _notice(header, tr)
    if isinstance(header, Finished):
        return finished_text(header, tr)
    _ = tr.gettext
    if header.period is None or header.deadline_at is None:
        return _("📝 Aggiornamento delle azioni del PAES.")
    return _("📝 Aggiornamento di {month}: rispondi entro {deadline}.").format(
        month=month_label(header.period, tr),
        deadline=format_datetime(header.deadline_at, union_tz(header.timezone), tr.language),
    )


def render_screen(screen: Screen, tr: Translator) -> Shown:
    if isinstance(screen, StatusQuestion):
        return status_question(screen, tr)
    if isinstance(screen, ProgressQuestion):
        return progress_question(screen, tr)
    if isinstance(screen, ExtrasQuestion):
        return extras_question(screen, tr)
    if isinstance(screen, Menu):
        return menu_view(screen, tr)
    if isinstance(screen, SavedAnswer):
        return saved_text(screen, tr), None
    if isinstance(screen, Finished):
        return finished_text(screen, tr), None
    return _notice(screen, tr), None


def status_question(q: StatusQuestion, tr: Translator) -> Shown:
    _ = tr.gettext
    action = q.action
    where = q.names.get(action.municipality_id or 0) or _("Unione (intercomunale)")
    header = _header(q.header, tr)
    lines = [header] if header else []
    lines.append(
        _("Azione {n} di {total}: <b>{code}</b> — {title}").format(
            n=q.position,
            total=q.total,
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

    def button(status: ActionStatus) -> Button:
        return Button(
            f"{STATUS_ICONS[status]} {status_label(status, tr)}",
            encode(AREA, "status", a, status.value),
        )

    keyboard = Keyboard.of(
        [button(ActionStatus.COMPLETED), button(ActionStatus.ONGOING)],
        [button(ActionStatus.POSTPONED), button(ActionStatus.NOT_STARTED)],
        [
            Button(_("⏭ Salta"), encode(AREA, "skip", a)),
            Button(_("📋 Elenco"), encode(AREA, "list", q.union_id)),
            Button(_("🏁 Ho finito"), encode(AREA, "finish", q.union_id)),
        ],
    )
    return "\n".join(lines), keyboard


def progress_question(q: ProgressQuestion, tr: Translator) -> Shown:
    _ = tr.gettext
    text = _(
        "<b>{code}</b> — {icon} {status}\nA che punto è? Scegli una percentuale o scrivi un numero da 0 a 100."
    ).format(
        code=html.escape(q.action.code),
        icon=STATUS_ICONS[q.status],
        status=html.escape(status_label(q.status, tr)),
    )
    if q.header is not None:
        text = _header(q.header, tr) + "\n\n" + text
    row = [Button(f"{p}%", encode(AREA, "progress", q.action.id, p)) for p in PROGRESS_CHOICES]
    return text, Keyboard.of(row)


def _ack(ack: Ack, tr: Translator) -> str:
    _ = tr.gettext
    match ack:
        case Ack.ATTACHED:
            return _("📎 Allegato aggiunto.")
        case Ack.TOO_MANY_ATTACHMENTS:
            return _("Al massimo {n} allegati per aggiornamento.").format(n=MAX_ATTACHMENTS)
        case Ack.NOTE_ADDED:
            return _("📝 Nota aggiunta.")
        case Ack.NOTE_TOO_LONG:
            return _("La nota è troppo lunga: al massimo {n} caratteri.").format(n=MAX_NOTE)
        case Ack.NOTHING:
            return _("Mandami una nota scritta, una foto o un documento, oppure premi «Salva».")


def extras_question(q: ExtrasQuestion, tr: Translator) -> Shown:
    _ = tr.gettext
    lines = []
    if q.progress_ack is not None:
        lines.append(_("Avanzamento: {p}%").format(p=q.progress_ack))
    elif q.acks:
        lines.append(" ".join(_ack(a, tr) for a in q.acks))
    lines.append(
        _("<b>{code}</b> — {icon} {status}, {progress}%").format(
            code=html.escape(q.action.code),
            icon=STATUS_ICONS[q.status],
            status=html.escape(status_label(q.status, tr)),
            progress=q.progress,
        )
    )
    if q.note:
        lines.append(_("Nota: {note}").format(note=html.escape(q.note[:300])))
    if q.attachments:
        n = q.attachments
        lines.append(tr.ngettext("📎 {n} allegato", "📎 {n} allegati", n).format(n=n))
    lines.append("")
    lines.append(_("Se vuoi, scrivi una nota o manda una foto o un documento. Poi premi «Salva»."))
    keyboard = Keyboard.of(
        [Button(_("💾 Salva"), encode(AREA, "save", q.action.id))],
        [Button(_("⚖️ Serve una decisione politica"), encode(AREA, "question", q.action.id))],
    )
    return "\n".join(lines), keyboard


def menu_view(m: Menu, tr: Translator) -> Shown:
    _ = tr.gettext
    actions, done = m.actions, m.done
    # Once every action is updated, "nothing new this month" would contradict what was just said.
    all_done = bool(actions) and all(a.id in done for a in actions)
    header = _header(m.header, tr)
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
        if home is not None and home in m.names:
            lines.append(
                _("Le tue azioni — {comune} (✔️ = già aggiornata in questo giro):").format(
                    comune=html.escape(m.names[home])
                )
            )
        else:
            home = None
            lines.append(_("Le tue azioni (✔️ = già aggiornata in questo giro):"))
        lines.append(
            fit_lines(
                [action_line(a, m.names, tr, done=a.id in done, home=home) for a in actions],
                LIST_BUDGET,
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
        Button(("✔️ " if a.id in done else "") + a.code[:20], encode(AREA, "pick", a.id))
        for a in actions[:80]
    ]
    no_news = (
        [Button(_("😴 Nessuna novità questo mese"), encode(AREA, "no_news", m.round_id))]
        if m.round_id is not None and not all_done
        else []
    )
    keyboard = Keyboard.of(
        *(buttons[i : i + 4] for i in range(0, len(buttons), 4)),
        no_news,
        [Button(_("🏁 Ho finito"), encode(AREA, "finish", m.union_id))],
    )
    return "\n".join(lines), keyboard


def finished_text(f: Finished, tr: Translator) -> str:
    _ = tr.gettext
    if not f.missing:
        return _("🏁 Hai aggiornato tutte le tue azioni. Grazie!")
    codes = ", ".join(html.escape(code) for code in f.missing[:30])
    return _(
        "🏁 Grazie! Restano da aggiornare: {codes}. Riprendi quando vuoi con /aggiornamento."
    ).format(codes=codes)


def saved_text(s: SavedAnswer, tr: Translator) -> str:
    _ = tr.gettext
    text = _("💾 Salvato: <b>{code}</b> → {icon} {status}, {progress}%").format(
        code=html.escape(s.code),
        icon=STATUS_ICONS[s.status],
        status=html.escape(status_label(s.status, tr)),
        progress=s.progress,
    )
    if s.note:
        text += "\n" + _("Nota: {note}").format(note=html.escape(s.note[:300]))
    if s.attachments:
        text += "\n" + tr.ngettext("📎 {n} allegato", "📎 {n} allegati", s.attachments).format(
            n=s.attachments
        )
    if s.question:
        text += "\n" + _("⚖️ Domanda per il tavolo politico: {q}").format(q=html.escape(s.question))
    return text


def step_refusal(reason: str, tr: Translator) -> str:
    _ = tr.gettext
    match reason:
        case "gone":
            return _("Questa azione non esiste più.")
        case "no_longer_valid":
            return _("Questo pulsante non è più valido.")
        case "cannot_update":
            return _("Non puoi aggiornare questa azione.")
        case "status_first":
            return _("Prima scegli lo stato dell'azione.")
        case "round_closed":
            return _("Questo giro di aggiornamenti è chiuso: usa /aggiornamento.")
        case "reporters_only":
            return _("Gli aggiornamenti sulle azioni li danno i funzionari tecnici dei Comuni.")
        case _other:
            return _("Questo pulsante non è per te.")


def step_toast(toast: ActionStatus | int | str | None, tr: Translator) -> str | None:
    """A step's toast: the status chosen, the percentage, «Salvato»."""
    if toast is None:
        return None
    if isinstance(toast, ActionStatus):
        return status_label(toast, tr)
    if isinstance(toast, int):
        return f"{toast}%"
    return tr.gettext("Salvato")


def no_news_recorded(tr: Translator) -> tuple[str, str]:
    """(toast, text) once «nothing new this month» is recorded."""
    _ = tr.gettext
    return _("Registrato: nessuna novità."), _(
        "😴 Registrato: nessuna novità questo mese. Grazie!\nSe qualcosa cambia prima della scadenza, scrivi /aggiornamento."
    )
