"""The technician's update dialogue: texts and keyboards, plain functions of plain data. The
dialogue's use cases (bot.services.progress.dialogue, .written) say what to show as one of the
screens below (`Screen`); `render_screen` turns it into a message. The round's own messages
(invitations, reminders, reports, /aggiornamento stato) are bot.views.rounds'.

The round is one list (`Menu`, also the invitation's keyboard): the technician taps only what
changed; a status saves at once and comes back to the list with the percentage row of the
action just saved (last month's value marked) and its optional extras; «Il resto è invariato»
confirms the others. Taps per round: issue 16, tests/e2e/test_round_taps.py.

Callback data (`upd:verb:id[:arg]`, re-checked by the handlers):

    upd:no_news:<round>               nothing new this month
    upd:rest:<round>                  the actions not answered yet are unchanged
    upd:pick:<action>                 an action from the list: its question
    upd:same:<action>                 «Invariata»: confirmed as it was (saved at once)
    upd:status:<action>:<status>      its state now (an ActionStatus value; saved at once)
    upd:progress:<action>:<percent>   the percentage of the answer just saved
    upd:question:<action>             the answer just saved needs the political table: typed next
    upd:skip:<action>                 the next action still to answer instead
    upd:list:<union>                  the list of the technician's actions
    upd:finish:<union>                done for now
"""

from __future__ import annotations

import enum
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.callback_data import encode
from bot.i18n import Translator, format_datetime, format_month
from bot.views.actions import STATUS_ICONS, progress_after_status, status_label
from bot.views.keyboard import Button, Keyboard, open_chat_button
from storage.models import ActionStatus
from storage.repositories.actions import ListedAction

AREA = "upd"
PROGRESS_CHOICES = (0, 25, 50, 75, 100)
LIST_BUDGET = 3300  # characters of the action list in a message (the rest: header, buttons)
MAX_ACTION_BUTTONS = 80  # Telegram takes 100 buttons a message: the rest for the other rows

Shown = tuple[str, Keyboard | None]


def union_tz(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except Exception:
        return ZoneInfo("Europe/Rome")


def month_label(period: str, tr: Translator) -> str:
    year, month = (int(x) for x in period.split("-"))
    return format_month(year, month, tr.language)


def action_line(action: ListedAction, tr: Translator, *, home: int | None = None) -> str:
    """One action on one line; `home` is the reader's only Comune, not repeated on every line."""
    where = action.comune or tr.gettext("Unione")
    place = (
        "" if home is not None and action.municipality_id == home else f" — {html.escape(where)}"
    )
    mark = "✔️ " if action.done else ""
    pct = progress_after_status(action.status, action.progress)
    pct = f" {pct}" if pct else ""
    return f"{mark}<b>{html.escape(action.code)}</b> {html.escape(action.title[:80])}{place}: {STATUS_ICONS[action.status]} {html.escape(status_label(action.status, tr))}{pct}"


def home_of(actions: Sequence[ListedAction]) -> int | None:
    """The one Comune of every municipal action (a technician's usual case), if there is one."""
    comuni = {a.municipality_id for a in actions if a.municipality_id is not None}
    return next(iter(comuni)) if len(comuni) == 1 else None


def round_buttons(
    actions: Sequence[ListedAction], *, round_id: int | None, round_open: bool, tr: Translator
) -> list[list[Button]]:
    """The list's keyboard rows: one button per action (✔️ once answered), then «Nessuna novità»
    while nothing is answered, «Il resto è invariato» once something is, neither when all are."""
    _ = tr.gettext
    buttons = [
        Button(("✔️ " if a.done else "") + a.code[:20], encode(AREA, "pick", a.id))
        for a in actions[:MAX_ACTION_BUTTONS]
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    answered = sum(1 for a in actions if a.done)
    if round_id is not None and round_open and answered < len(actions):
        if answered:
            rows.append([Button(_("✔️ Il resto è invariato"), encode(AREA, "rest", round_id))])
        else:
            rows.append(
                [Button(_("👌 Nessuna novità questo mese"), encode(AREA, "no_news", round_id))]
            )
    return rows


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


def private_only(tr: Translator, *, opened: bool) -> str:
    """What a button of the update dialogue answers in a group. `opened`: the answer also
    opens the private chat on the dialogue (t.me/<bot>?start=upd-<union>); otherwise (a button
    that names nothing) the toast says where to go."""
    if opened:
        return tr.gettext(
            "Gli aggiornamenti si danno in privato: ti apro la chat con me, premi Avvia."
        )
    return tr.gettext(
        "Gli aggiornamenti si danno in privato: scrivimi /aggiornamento in chat con me."
    )


def go_private(tr: Translator, bot_username: str | None) -> tuple[str, Keyboard | None]:
    """/aggiornamento written in a group: where it works, with a button that opens the private
    chat (without the bot's username, the text alone says where to go)."""
    text = tr.gettext(
        "Gli aggiornamenti si danno in privato: apri la chat con me con il pulsante qui sotto e "
        "scrivi /aggiornamento."
    )
    return text, open_chat_button(bot_username, tr) if bot_username else None


# --- the dialogue's screens -----------------------------------------------------------------


class Notice(enum.Enum):
    """A fixed line: a screen of its own, or the header of another."""

    USE_BUTTONS = "use_buttons"
    NEXT_ACTION = "next_action"
    PICK_FIRST = "pick_first"
    WRITE_QUESTION = "write_question"
    QUESTION_TOO_LONG = "question_too_long"
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
    action: ListedAction
    position: int  # 0 when the action is not in the technician's list
    total: int
    union_id: int
    header: Header = None


@dataclass(frozen=True)
class SavedAnswer:
    """An answer just saved: shown on top of the list, with its percentage row (when its
    status has one) and the button for a question to the political table."""

    action_id: int
    code: str
    status: ActionStatus
    progress: int
    note: str | None = None
    attachments: int = 0
    question: str | None = None
    unchanged: bool = False  # «Invariata»: confirmed as it was

    @property
    def offers_progress(self) -> bool:
        """A percentage row under it: a state that has one, not just confirmed as it was."""
        return not self.unchanged and self.status in (ActionStatus.ONGOING, ActionStatus.POSTPONED)


@dataclass(frozen=True)
class Menu:
    """The round's list: the technician's actions, what to tap."""

    actions: Sequence[ListedAction]
    round_id: int | None
    union_id: int
    round_open: bool = True
    header: Header = None
    saved: SavedAnswer | None = None


class Ack(enum.Enum):
    """What a text, photo or document sent after a save did."""

    ATTACHED = "attached"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
    NOTE_ADDED = "note_added"
    NOTE_TOO_LONG = "note_too_long"
    PROGRESS_SET = "progress_set"
    QUESTION_ADDED = "question_added"


@dataclass(frozen=True)
class Added:
    """The answer to something sent after a save: what was added to which action."""

    code: str
    union_id: int
    acks: tuple[Ack, ...]
    progress: int | None = None
    question: str | None = None


@dataclass(frozen=True)
class RestConfirmed:
    """«Il resto è invariato» recorded: `confirmed` actions confirmed unchanged."""

    confirmed: int
    period: str


Screen = StatusQuestion | Menu | SavedAnswer | Added | RestConfirmed | Finished | Notice

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
            return _(
                "⚖️ Scrivi in una riga la questione da portare al tavolo politico: la aggiungo all'aggiornamento che hai appena salvato."
            )
        case Notice.QUESTION_TOO_LONG:
            return _("Troppo lunga: al massimo {n} caratteri, in una riga.").format(n=MAX_QUESTION)
        case Notice.NOT_A_MEMBER:
            return _("Non fai più parte del Team energia dell'Unione.")


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
    if isinstance(screen, Menu):
        return menu_view(screen, tr)
    if isinstance(screen, SavedAnswer):
        return saved_text(screen, tr), None
    if isinstance(screen, Added):
        return added_view(screen, tr)
    if isinstance(screen, RestConfirmed):
        return rest_confirmed(screen, tr), None
    if isinstance(screen, Finished):
        return finished_text(screen, tr), None
    return _notice(screen, tr), None


def _now_line(status: ActionStatus, progress: int, tr: Translator) -> str:
    """«🔄 In corso, 50%» («✅ Completata», «⚪ Non avviata»: their percentage goes without saying)."""
    label = f"{STATUS_ICONS[status]} {html.escape(status_label(status, tr))}"
    pct = progress_after_status(status, progress)
    return f"{label}, {pct}" if pct else label


def status_question(q: StatusQuestion, tr: Translator) -> Shown:
    _ = tr.gettext
    action = q.action
    where = action.comune or _("Unione (intercomunale)")
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
    lines.append(_("Finora: {state}").format(state=_now_line(action.status, action.progress, tr)))
    lines.append("")
    lines.append(
        _("Com'è adesso? Se non è cambiato niente, premi «Invariata». Ogni scelta si salva subito.")
    )
    a = action.id

    def button(status: ActionStatus) -> Button:
        return Button(
            f"{STATUS_ICONS[status]} {status_label(status, tr)}",
            encode(AREA, "status", a, status.value),
        )

    keyboard = Keyboard.of(
        [Button(_("✔️ Invariata"), encode(AREA, "same", a))],
        [button(ActionStatus.COMPLETED), button(ActionStatus.ONGOING)],
        [button(ActionStatus.POSTPONED), button(ActionStatus.NOT_STARTED)],
        [
            Button(_("⏭ Salta"), encode(AREA, "skip", a)),
            Button(_("📋 Elenco"), encode(AREA, "list", q.union_id)),
            Button(_("🏁 Ho finito"), encode(AREA, "finish", q.union_id)),
        ],
    )
    return "\n".join(lines), keyboard


def progress_choices(current: int) -> tuple[int, ...]:
    """The percentage row: the usual steps and, marked in the row, the value saved now."""
    return tuple(sorted({*PROGRESS_CHOICES, current}))


def _saved_rows(saved: SavedAnswer, tr: Translator) -> list[list[Button]]:
    _ = tr.gettext
    rows: list[list[Button]] = []
    if saved.offers_progress:
        rows.append(
            [
                Button(
                    f"● {p}%" if p == saved.progress else f"{p}%",
                    encode(AREA, "progress", saved.action_id, p),
                )
                for p in progress_choices(saved.progress)
            ]
        )
    if saved.question is None:
        rows.append(
            [
                Button(
                    _("⚖️ Serve una decisione del tavolo politico"),
                    encode(AREA, "question", saved.action_id),
                )
            ]
        )
    return rows


def _saved_block(saved: SavedAnswer, tr: Translator) -> list[str]:
    _ = tr.gettext
    lines = [saved_text(saved, tr)]
    if saved.offers_progress:
        lines.append(
            _("Se la percentuale è cambiata, tocca quella giusta qui sotto (● = quella salvata).")
        )
    lines.append(
        _(
            "Se vuoi, scrivimi una nota o mandami una foto o un documento: li aggiungo a {code}."
        ).format(code=html.escape(saved.code))
    )
    return lines


def menu_view(m: Menu, tr: Translator) -> Shown:
    _ = tr.gettext
    actions = m.actions
    # Once every action is answered, "nothing new" or "the rest is unchanged" would contradict it.
    all_done = bool(actions) and all(a.done for a in actions)
    lines = _saved_block(m.saved, tr) if m.saved is not None else []
    header = _header(m.header, tr)
    if header:
        lines.append(header)
    if lines:
        lines.append("")
    if not actions:
        lines.append(
            _("Non hai ancora azioni da aggiornare: chi coordina l'Unione le carica con /azioni.")
        )
    else:
        home = home_of(actions)
        comune = next((a.comune for a in actions if a.municipality_id == home), None)
        if home is not None and comune:
            lines.append(
                _("Le tue azioni — {comune} (✔️ = già aggiornata in questo mese):").format(
                    comune=html.escape(comune)
                )
            )
        else:
            home = None
            lines.append(_("Le tue azioni (✔️ = già aggiornata in questo mese):"))
        # The answer on top (a note, a question) takes from the list's room: one message.
        budget = LIST_BUDGET - max(0, len("\n".join(lines)) - 400)
        lines.append(fit_lines([action_line(a, tr, home=home) for a in actions], budget, tr))
        lines.append("")
        lines.append(_list_hint(m, all_done, tr))
    keyboard = Keyboard.of(
        *(_saved_rows(m.saved, tr) if m.saved is not None else []),
        *round_buttons(actions, round_id=m.round_id, round_open=m.round_open, tr=tr),
        [Button(_("🏁 Ho finito"), encode(AREA, "finish", m.union_id))],
    )
    return "\n".join(lines), keyboard


def _list_hint(m: Menu, all_done: bool, tr: Translator) -> str:
    _ = tr.gettext
    if all_done:
        return _("Hai aggiornato tutte le azioni. Se vuoi correggere qualcosa, tocca l'azione.")
    if m.round_id is None or not m.round_open:
        return _("Tocca l'azione da aggiornare.")
    if any(a.done for a in m.actions):
        return _(
            "Tocca un'altra azione che è cambiata. Se le altre sono come il mese scorso, premi «Il resto è invariato»."
        )
    return _(
        "Tocca solo le azioni che sono cambiate dal mese scorso. Se non è cambiato niente, premi «Nessuna novità questo mese»."
    )


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
    if s.unchanged:
        text = _("✔️ Confermata invariata: <b>{code}</b> — {state}").format(
            code=html.escape(s.code), state=_now_line(s.status, s.progress, tr)
        )
    else:
        text = _("💾 Salvato: <b>{code}</b> → {state}").format(
            code=html.escape(s.code), state=_now_line(s.status, s.progress, tr)
        )
    if s.note:
        text += "\n" + _("Nota: {note}").format(note=html.escape(s.note[:300]))
    if s.attachments:
        text += "\n" + tr.ngettext("📎 {n} allegato", "📎 {n} allegati", s.attachments).format(
            n=s.attachments
        )
    if s.question:
        text += "\n" + _("⚖️ Questione per il tavolo politico: {q}").format(
            q=html.escape(s.question)
        )
    return text


def _ack(ack: Ack, a: Added, tr: Translator) -> str:
    _ = tr.gettext
    code = html.escape(a.code)
    match ack:
        case Ack.ATTACHED:
            return _("📎 Allegato aggiunto a {code}.").format(code=code)
        case Ack.TOO_MANY_ATTACHMENTS:
            return _("Al massimo {n} allegati per aggiornamento.").format(n=MAX_ATTACHMENTS)
        case Ack.NOTE_ADDED:
            return _("📝 Nota aggiunta a {code}.").format(code=code)
        case Ack.NOTE_TOO_LONG:
            return _("La nota è troppo lunga: al massimo {n} caratteri.").format(n=MAX_NOTE)
        case Ack.PROGRESS_SET:
            return _("📊 {code}: avanzamento {p}%.").format(code=code, p=a.progress)
        case Ack.QUESTION_ADDED:
            return _("⚖️ Questione per il tavolo politico aggiunta a {code}: {q}").format(
                code=code, q=html.escape(a.question or "")
            )


def added_view(a: Added, tr: Translator) -> Shown:
    _ = tr.gettext
    text = "\n".join(_ack(ack, a, tr) for ack in a.acks)
    text += "\n" + _(
        "Tocca un'altra azione nell'elenco qui sopra, oppure premi «📋 Elenco» per riaverlo qui sotto."
    )
    return text, Keyboard.of([Button(_("📋 Elenco"), encode(AREA, "list", a.union_id))])


def rest_confirmed(r: RestConfirmed, tr: Translator) -> str:
    _ = tr.gettext
    head = tr.ngettext(
        "✔️ Fatto: ho segnato come invariata l'azione che mancava.",
        "✔️ Fatto: ho segnato come invariate le {n} azioni che mancavano.",
        r.confirmed,
    ).format(n=r.confirmed)
    if not r.confirmed:
        head = _("✔️ Fatto: non mancava nessuna azione.")
    return (
        head
        + "\n"
        + _(
            "Il tuo aggiornamento di {month} è completo: grazie! Se qualcosa cambia prima della scadenza, scrivi /aggiornamento."
        ).format(month=month_label(r.period, tr))
    )


def step_refusal(reason: str, tr: Translator) -> str:
    _ = tr.gettext
    match reason:
        case "gone":
            return _("Questa azione non esiste più.")
        case "no_longer_valid":
            return _("Usa i pulsanti del messaggio più recente.")
        case "cannot_update":
            return _("Non puoi aggiornare questa azione.")
        case "status_first":
            return _("Prima scegli lo stato dell'azione: toccala nell'elenco.")
        case "round_closed":
            return _("L'aggiornamento di questo mese è chiuso: usa /aggiornamento.")
        case "reporters_only":
            return _("Gli aggiornamenti sulle azioni li danno i funzionari tecnici dei Comuni.")
        case _other:
            return _("Questo pulsante non è per te.")


def link_refusal(reason: str, tr: Translator) -> str:
    """/start upd-<union> (bot.services.progress.links) refused: someone who is not in that
    Union's team is told so, not «this button»; anything else as the dialogue's buttons."""
    if reason == "not_for_you":
        return tr.gettext(
            "Gli aggiornamenti di questa Unione li danno i funzionari tecnici del suo Team energia."
        )
    return step_refusal(reason, tr)


def step_toast(toast: ActionStatus | int | str | None, tr: Translator) -> str | None:
    """A step's toast: «Salvato», «Confermata invariata», the percentage."""
    if toast is None:
        return None
    if isinstance(toast, ActionStatus):
        return status_label(toast, tr)
    if isinstance(toast, int):
        return f"{toast}%"
    if toast == "confirmed":
        return tr.gettext("Confermata invariata")
    if toast == "rest":
        return tr.gettext("Registrato: il resto è invariato")
    return tr.gettext("Salvato")


def no_news_recorded(tr: Translator) -> tuple[str, str]:
    """(toast, text) once «nothing new this month» is recorded."""
    _ = tr.gettext
    return _("Registrato: nessuna novità."), _(
        "👌 Registrato: nessuna novità questo mese. Grazie!\nSe qualcosa cambia prima della scadenza, scrivi /aggiornamento."
    )
