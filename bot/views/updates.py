"""The technician's update dialogue and the monthly round: texts and keyboards, plain functions
of plain data. The dialogue's use cases (bot.services.progress.dialogue) say what to show as
one of the screens below; the round's (bot.services.progress.rounds) queue the invitations,
reminders and reports rendered here.

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


# --- the round: invitations, reminders, reports ----------------------------------------------


@dataclass(frozen=True)
class Invitation:
    union_id: int
    union_name: str
    round_id: int
    period: str
    deadline_at: datetime
    timezone: str
    actions: Sequence[Action]
    updated: frozenset[int]
    names: Mapping[int, str]
    home: int | None  # the technician's only Comune
    reminder: bool = False


def render_invitation(inv: Invitation, tr: Translator) -> tuple[str, Keyboard]:
    _ = tr.gettext
    deadline = format_datetime(inv.deadline_at, union_tz(inv.timezone), tr.language)
    if inv.reminder:
        head = _("⏰ Promemoria: aspetto ancora il tuo aggiornamento di {month}, entro {deadline}.")
    else:
        head = _(
            "📝 <b>Aggiornamento di {month}</b> — {union}\nA che punto sono le azioni del PAES? Rispondi entro {deadline}: bastano pochi tocchi."
        )
    lines = [
        head.format(
            month=month_label(inv.period, tr), union=html.escape(inv.union_name), deadline=deadline
        ),
        "",
    ]
    if inv.actions:
        lines.append(
            fit_lines(
                [
                    action_line(a, inv.names, tr, done=a.id in inv.updated, home=inv.home)
                    for a in inv.actions
                ],
                LIST_BUDGET,
                tr,
            )
        )
    else:
        lines.append(_("Non ci sono azioni caricate per il tuo Comune."))
    keyboard = Keyboard(
        (
            (Button(_("▶️ Aggiorna le azioni"), encode(AREA, "start", inv.union_id)),),
            (Button(_("😴 Nessuna novità questo mese"), encode(AREA, "no_news", inv.round_id)),),
        )
    )
    return "\n".join(lines), keyboard


def round_announcement(period: str, deadline_at: datetime, timezone: str, tr: Translator) -> str:
    """To the technical group, when a round opens."""
    return tr.gettext(
        "📣 <b>Aggiornamento di {month}</b>\n"
        "Ho scritto in privato ai funzionari tecnici per sapere a che punto sono le azioni del PAES dei loro Comuni: bastano pochi tocchi, entro {deadline}.\n"
        "Potete anche rispondere a questo messaggio con una nota sul vostro Comune: la registro e i Sindaci la leggeranno nel riepilogo."
    ).format(
        month=month_label(period, tr),
        deadline=format_datetime(deadline_at, union_tz(timezone), tr.language),
    )


@dataclass(frozen=True)
class Technician:
    """A technician as a coordinator's message names them."""

    name: str
    comuni: tuple[str, ...]


def _who(t: Technician, tr: Translator) -> str:
    return "{} ({})".format(t.name, ", ".join(t.comuni) or tr.gettext("nessun Comune"))


def round_opened(
    period: str,
    deadline_at: datetime,
    timezone: str,
    *,
    asked: int,
    idle: Sequence[Technician],
    tr: Translator,
) -> str:
    """To each coordinator who is not a technician, when a round opens: how many were asked,
    who was not (no action loaded for their Comune)."""
    month = month_label(period, tr)
    deadline = format_datetime(deadline_at, union_tz(timezone), tr.language)
    idle_names = html.escape(", ".join(_who(t, tr) for t in idle))
    if asked:
        text = tr.ngettext(
            "📣 Ho aperto il giro di aggiornamenti di {month}: l'ho chiesto a {n} funzionario tecnico, entro {deadline}.",
            "📣 Ho aperto il giro di aggiornamenti di {month}: l'ho chiesto a {n} funzionari tecnici, entro {deadline}.",
            asked,
        ).format(month=month, n=asked, deadline=deadline)
        if idle:
            text += "\n" + tr.ngettext(
                "Non l'ho chiesto a {names}: non ci sono azioni caricate per il suo Comune. Caricale con /azioni e riceverà subito la richiesta.",
                "Non l'ho chiesto a {names}: non ci sono azioni caricate per i loro Comuni. Caricale con /azioni e riceveranno subito la richiesta.",
                len(idle),
            ).format(names=idle_names)
        text += "\n" + tr.gettext(
            "Con /aggiornamento stato vedi chi ha risposto; con /aggiornamento aggiorni tu le azioni intercomunali."
        )
        return text
    if idle:
        return tr.ngettext(
            "📣 Giro di aggiornamenti di {month}: non l'ho chiesto a {names}, perché non ci sono azioni caricate per il suo Comune. Caricale con /azioni entro {deadline} e riceverà subito la richiesta.",
            "📣 Giro di aggiornamenti di {month}: non l'ho chiesto a {names}, perché non ci sono azioni caricate per i loro Comuni. Caricale con /azioni entro {deadline} e riceveranno subito la richiesta.",
            len(idle),
        ).format(month=month, names=idle_names, deadline=deadline)
    return tr.gettext(
        "📣 Giro di aggiornamenti di {month}: nell'Unione non c'è ancora nessun funzionario tecnico a cui chiederlo. Invitali con /invito."
    ).format(month=month)


def unreachable_report(period: str, techs: Sequence[Technician], tr: Translator) -> str:
    """To the coordinators, once the invitations were tried: who Telegram refused."""
    lines = [
        tr.ngettext(
            "🚫 Non sono riuscito a scrivere a questo funzionario tecnico per l'aggiornamento di {month}: non ha mai avviato il bot o l'ha bloccato. Chiedigli di aprire la chat con me e premere Avvia, poi di scrivere /aggiornamento.",
            "🚫 Non sono riuscito a scrivere a questi funzionari tecnici per l'aggiornamento di {month}: non hanno mai avviato il bot o l'hanno bloccato. Chiedi loro di aprire la chat con me e premere Avvia, poi di scrivere /aggiornamento.",
            len(techs),
        ).format(month=month_label(period, tr))
    ]
    for t in techs:
        lines.append(f"• {html.escape(t.name)} ({html.escape(', '.join(t.comuni))})")
    return "\n".join(lines)


# --- /aggiornamento stato ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoundState:
    """One technician in the round, as the coordinator's status shows them."""

    technician: Technician
    required: int  # actions to report on (their Comuni's and the intercommunal ones)
    updated: int  # of those, updated in the round
    answered: bool  # all updated, or «nothing new»
    no_news: bool  # answered with «nothing new» (not by updating everything)
    noted: bool  # wrote a note in the technical group during the round
    unreachable: bool


def render_status(
    period: str, deadline_at: datetime, timezone: str, states: Sequence[RoundState], tr: Translator
) -> str:
    """The round's state for the coordinator. As in the summary, a note in the technical group
    counts as having reported."""
    _ = tr.gettext

    def who(s: RoundState) -> str:
        return html.escape(_who(s.technician, tr))

    def done(s: RoundState) -> str:
        return tr.ngettext("{u} di {r} azione", "{u} di {r} azioni", s.required).format(
            u=s.updated, r=s.required
        )

    lines = [
        _("<b>Aggiornamento di {month}</b> — scadenza {deadline}").format(
            month=month_label(period, tr),
            deadline=format_datetime(deadline_at, union_tz(timezone), tr.language),
        )
    ]
    idle = [s for s in states if not s.required]
    asked = [s for s in states if s.required]
    answered = [s for s in asked if s.answered or s.noted]
    missing = [s for s in asked if not (s.answered or s.noted) and not s.unreachable]
    unreachable = [s for s in asked if not (s.answered or s.noted) and s.unreachable]
    lines.append("")
    lines.append(_("✅ Hanno risposto ({n}):").format(n=len(answered)))
    for s in answered:
        if not s.answered:  # only a note in the group
            detail = _("nota nel gruppo tecnico")
            if s.updated:
                detail = f"{done(s)}, {detail}"
        elif s.no_news:
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


def status_refusal(reason: str, tr: Translator) -> str:
    if reason == "coordinator_only":
        return tr.gettext("Lo stato del giro di aggiornamenti lo vede il coordinatore.")
    return tr.gettext("Non c'è ancora stato nessun giro di aggiornamenti.")


def split_message(text: str, limit: int = 4000) -> list[str]:
    """Split at line boundaries so that no message passes Telegram's 4096 characters.

    Every line is a whole entry (tags open and close on the same line), so a cut never
    falls inside a tag.
    """
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


# --- notes from the technical group ---------------------------------------------------------


def note_recorded(comuni: Sequence[str], tr: Translator) -> str:
    where = ", ".join(comuni) or tr.gettext("l'Unione")
    return tr.gettext(
        "📝 Nota registrata per {where}: i Sindaci la leggeranno nel prossimo riepilogo. Grazie!"
    ).format(where=html.escape(where))


def note_repeated(first_at: datetime, timezone: str, tr: Translator) -> str:
    return tr.gettext(
        "📝 Questa nota è già registrata ({date}): non la conto una seconda volta."
    ).format(date=format_datetime(first_at, union_tz(timezone), tr.language))
