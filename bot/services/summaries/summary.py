"""The summary for the political table: plain data in, Telegram HTML out (no Telegram import).

A mayor reads it in one minute on a phone, in the order of what they must do (docs/DESIGN.md,
«The summary»): the questions waiting for their vote (the vote messages with their buttons come
right after the text), the decisions to carry out, the next meeting; then three lines of totals
(the actions by status, what moved since the last scheduled summary, the CO₂ avoided against
the PAES); then one line per Comune — completed out of total, what moved, what is stuck, who has
not answered the round — with no line or count that says zero. The detail of every action and
every note is in the spreadsheet (the button under the summary, /esporta). A 20-Comuni Union
fits in two messages; the text is split between Comuni (bot.views.html_split).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.i18n import N_, Translator, format_date, format_datetime, format_month
from bot.services.display_text import person_name
from bot.views.continuity import Absent, absences_lines
from bot.views.html_split import TELEGRAM_LIMIT, split_sections, telegram_length
from bot.views.summaries import (
    APPROVE,
    CHOICE_ICONS,
    CHOICE_LABELS,
    OUTCOME_LABELS,
    POSTPONE,
    QUESTION_MAX,
    REJECT,
    clip,
)
from bot.views.tasks import day_label
from storage.repositories.people import ShownName
from storage.repositories.tasks import OverdueTask

COMPLETED, ONGOING, POSTPONED, NOT_STARTED = "completed", "ongoing", "postponed", "not_started"
STATUSES = (COMPLETED, ONGOING, POSTPONED, NOT_STARTED)
STATUS_LABELS = {
    COMPLETED: N_("Completata"),
    ONGOING: N_("In corso"),
    POSTPONED: N_("Rinviata"),
    NOT_STARTED: N_("Non avviata"),
}
STATUS_PLURALS = {
    COMPLETED: N_("Completate"),
    ONGOING: N_("In corso"),
    POSTPONED: N_("Rinviate"),
    NOT_STARTED: N_("Non avviate"),
}
STATUS_ICONS = {COMPLETED: "✅", ONGOING: "🔄", POSTPONED: "⏸", NOT_STARTED: "⚪"}
STUCK_ROUNDS = 2
QUESTIONS_LISTED = 10  # open questions named in the text (each has its vote message anyway)
GROUP_NOTE_MAX = 200  # a group note in the summary: about three lines on a phone
HASHTAG = "#aggiornamento"


@dataclass(frozen=True)
class ActionSnapshot:
    """An action as it stands now."""

    action_id: int
    code: str
    title: str
    municipality_id: int | None  # None: an intercommunal action of the whole Union
    status: str
    progress: int
    co2_avoided_t: Decimal | float | None = None
    stuck_rounds: int = 0  # consecutive rounds without any movement


@dataclass(frozen=True)
class ActionChange:
    """What one action did since the baseline: first previous value → last value."""

    action_id: int
    old_status: str | None
    new_status: str
    old_progress: int | None
    new_progress: int
    notes: tuple[str, ...] = ()
    photos: int = 0
    documents: int = 0


@dataclass(frozen=True)
class NoteView:
    """A technician's free note from the technical group (a reply to the round, #aggiornamento)."""

    author: ShownName  # FORMER_MEMBER once the author left with /cancellami
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ComuneInfo:
    municipality_id: int
    name: str
    silent: tuple[ShownName, ...] = ()  # technicians who did not report in the round
    has_technician: bool = True
    notes: tuple[NoteView, ...] = ()  # group notes since the baseline, oldest first


@dataclass(frozen=True)
class VoteView:
    comune: str
    choice: str
    voter: ShownName | None = None


@dataclass(frozen=True)
class QuestionView:
    decision_id: int
    question: str
    status: str  # "open" while voting; approved/rejected/postponed once closed (not yet done)
    comune: str | None = None
    action_code: str | None = None
    votes: tuple[VoteView, ...] = ()


@dataclass(frozen=True)
class MeetingView:
    starts_at: datetime
    title: str
    place: str | None = None


@dataclass(frozen=True)
class SummaryInput:
    union_name: str
    timezone: str
    year: int
    month: int
    generated_at: datetime
    since: datetime | None  # the last scheduled summary (None: the first one)
    comuni: Sequence[ComuneInfo]
    actions: Sequence[ActionSnapshot]
    changes: Sequence[ActionChange] = ()
    next_meeting: MeetingView | None = None
    questions: Sequence[QuestionView] = ()
    late: bool = False
    on_demand: bool = False
    round_deadline: datetime | None = None
    union_notes: Sequence[NoteView] = ()  # group notes of members with no Comune
    overdue_tasks: Sequence[OverdueTask] = ()  # tasks of the meetings past their date
    absences: Sequence[Absent] = ()  # Comuni missing from a table's last meetings (continuity)


@dataclass(frozen=True)
class Figures:
    total: int
    by_status: dict[str, int] = field(default_factory=dict)
    average_progress: int = 0
    co2_completed: Decimal = Decimal(0)
    co2_total: Decimal = Decimal(0)
    co2_ongoing: Decimal = Decimal(0)


def _dec(value: Decimal | float | None) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def figures(actions: Iterable[ActionSnapshot]) -> Figures:
    items = list(actions)
    by_status = {s: 0 for s in STATUSES}
    for a in items:
        by_status[a.status] = by_status.get(a.status, 0) + 1
    total = len(items)
    average = round(sum(a.progress for a in items) / total) if total else 0
    co2_total = sum((_dec(a.co2_avoided_t) for a in items), Decimal(0))
    co2_done = sum((_dec(a.co2_avoided_t) for a in items if a.status == COMPLETED), Decimal(0))
    co2_ongoing = sum((_dec(a.co2_avoided_t) for a in items if a.status == ONGOING), Decimal(0))
    return Figures(
        total=total,
        by_status=by_status,
        average_progress=average,
        co2_completed=co2_done,
        co2_total=co2_total,
        co2_ongoing=co2_ongoing,
    )


def format_number(value: Decimal | float | int, language: str, *, decimals: int = 0) -> str:
    """1234.5 → '1.234,5' in Italian, '1,234.5' in English."""
    text = f"{float(value):,.{decimals}f}"
    if language == "it":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def clip_words(text: str, limit: int) -> str:
    """Like clip, but the cut falls between words when a word boundary is near: «… parte a…»."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-—") + "…"


def note_text(text: str) -> str:
    """What a group note says, without the #aggiornamento tag that made the bot record it."""
    text = re.sub(re.escape(HASHTAG) + r"\b[\s:,.\-—]*", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def natural_key(code: str) -> tuple[tuple[int, int | str], ...]:
    """'A2' before 'A10': numbers compare as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in re.split(r"(\d+)", code)
        if part
    )


def stuck_rounds(moved_in_round: Sequence[bool]) -> int:
    """Consecutive rounds without movement, counting back from the latest (oldest first given)."""
    count = 0
    for moved in reversed(moved_in_round):
        if moved:
            break
        count += 1
    return count


# --- rendering ----------------------------------------------------------------------------


def _status(tr: Translator, status: str | None) -> str:
    return tr.gettext(STATUS_LABELS.get(status or "", status or "?"))


def note_row(
    tr: Translator,
    note: NoteView,
    *,
    chars: int,
    timezone: str,
    prefix: str = "💬 ",
    year: bool = False,
) -> str:
    """One group note as a row: «text» — author, date (escaped, clipped with «…»)."""
    e = html.escape
    when = format_date(note.created_at, ZoneInfo(timezone), tr.language, year=year)
    author = e(person_name(note.author, tr))
    return f"{prefix}<i>«{e(clip_words(note_text(note.text), chars))}»</i> — {author}, {e(when)}"


CARD_NOTES_MAX = 3  # group notes on an action's card (the latest ones)
# Read for a card: a few more than it shows, as a note that is only the hashtag shows nothing.
CARD_NOTES_READ = 3 * CARD_NOTES_MAX
CARD_NOTE_CHARS = (GROUP_NOTE_MAX, 120, 60)  # a card too long shortens its notes, then drops some


def card_note_rows(
    tr: Translator,
    notes: Sequence[NoteView],
    *,
    comune: str | None,
    timezone: str,
    today: date | None = None,
    room: int = TELEGRAM_LIMIT,
) -> list[str]:
    """The technical group's latest notes of an action's Comune, for the action's card.

    `comune` names the Comune (None: the Union, for an intercommunal action: the notes of
    members with no Comune, as in the summary). Oldest first, as in the summary; the year is
    shown for a note of another year than `today`. The rows fit in `room` characters as Telegram counts
    them (joined by newlines): notes are shortened first, then the oldest are left out;
    nothing when not even one fits.
    """
    _ = tr.gettext
    heading = (
        _("💬 Ultime note dal gruppo tecnico per {comune}:").format(comune=html.escape(comune))
        if comune is not None
        else _("💬 Ultime note dal gruppo tecnico per l'Unione:")
    )
    shown = [n for n in notes if note_text(n.text)][-CARD_NOTES_MAX:]
    tz = ZoneInfo(timezone)
    while shown:
        for chars in CARD_NOTE_CHARS:
            rows = [heading] + [
                note_row(
                    tr,
                    n,
                    chars=chars,
                    timezone=timezone,
                    prefix="• ",
                    year=today is not None and n.created_at.astimezone(tz).year != today.year,
                )
                for n in shown
            ]
            if telegram_length("\n".join(rows)) <= room:
                return rows
        shown = shown[1:]
    return []


ROUND_NOTES_MAX = 10  # notes listed in /aggiornamento stato (the latest ones)


def round_note_rows(
    tr: Translator,
    notes: Sequence[tuple[str | None, NoteView]],
    *,
    timezone: str,
    max_notes: int = ROUND_NOTES_MAX,
    chars: int = GROUP_NOTE_MAX,
) -> list[str]:
    """The technical group's notes of a round for the coordinator, latest last, one row each.

    `notes` are (Comune name or None for the Union, note); a technician of several Comuni
    has one stored note per Comune: they read as one row naming the Comuni.
    """
    merged: dict[tuple[ShownName, str, datetime], list[str]] = {}
    for comune, note in notes:
        if not note_text(note.text):
            continue
        names = merged.setdefault((note.author, note.text, note.created_at), [])
        name = comune if comune is not None else tr.gettext("Unione")
        if name not in names:
            names.append(name)
    if not merged:
        return []
    items = list(merged.items())
    shown = items[-max_notes:]
    rows = [
        "💬 "
        + tr.ngettext(
            "Una nota dal gruppo tecnico:", "{n} note dal gruppo tecnico:", len(items)
        ).format(n=len(items))
    ]
    for (author, text, created_at), comuni in shown:
        where = html.escape(", ".join(comuni))
        rows.append(
            note_row(
                tr,
                NoteView(author, text, created_at),
                chars=chars,
                timezone=timezone,
                prefix=f"• <b>{where}</b>: ",
            )
        )
    rest = len(items) - len(shown)
    if rest:
        rows.append(
            tr.ngettext(
                "… e un'altra nota più vecchia: le trovi tutte nel foglio di calcolo (/esporta).",
                "… e altre {n} note più vecchie: le trovi tutte nel foglio di calcolo (/esporta).",
                rest,
            ).format(n=rest)
        )
    return rows


def status_count(tr: Translator, status: str, n: int) -> str:
    """«4 completate», «1 rinviata»: a count of actions in one status."""
    ngettext = tr.ngettext
    if status == COMPLETED:
        text = ngettext("{n} completata", "{n} completate", n)
    elif status == ONGOING:
        text = ngettext("{n} in corso", "{n} in corso", n)
    elif status == POSTPONED:
        text = ngettext("{n} rinviata", "{n} rinviate", n)
    else:
        text = ngettext("{n} non avviata", "{n} non avviate", n)
    return text.format(n=n)


def _names(tr: Translator, names: Sequence[ShownName]) -> str:
    return ", ".join(html.escape(person_name(n, tr)) for n in names)


def _codes(actions: Sequence[ActionSnapshot], limit: int) -> str:
    """The first `limit` action codes, escaped: «C1, C4, C7»."""
    return ", ".join(html.escape(a.code) for a in actions[:limit])


def comune_line(
    tr: Translator,
    title: str,
    actions: Sequence[ActionSnapshot],
    changes: dict[int, ActionChange],
    *,
    silent: Sequence[ShownName] = (),
    has_technician: bool = True,
    notes: int = 0,
    own: bool = False,
    asked_silence: bool = True,
) -> str:
    """One Comune in one line: how many actions are completed, what moved since the last
    summary, what is stuck, who has not answered the round. Nothing is said about a count that is
    zero; a Comune where nothing happened says so in two words."""
    _ = tr.gettext
    ngettext = tr.ngettext
    fig = figures(actions)
    done = fig.by_status.get(COMPLETED, 0)
    head = ("📍 " if own else "") + f"<b>{html.escape(title)}</b>"
    parts: list[str] = []
    if not fig.total:
        parts.append(_("nessuna azione caricata"))
    elif done:
        parts.append(_("{done}/{total} completate").format(done=done, total=fig.total))
    else:
        parts.append(ngettext("{n} azione", "{n} azioni", fig.total).format(n=fig.total))
    moved = sorted(
        (a for a in actions if a.action_id in changes), key=lambda a: natural_key(a.code)
    )
    completed_now = [
        a
        for a in moved
        if changes[a.action_id].new_status == COMPLETED
        and changes[a.action_id].old_status != COMPLETED
    ]
    news: list[str] = []
    if moved:
        text = ngettext("{n} aggiornata", "{n} aggiornate", len(moved)).format(n=len(moved))
        news.append(text)
    if completed_now:
        codes = _codes(completed_now, 3)
        if len(completed_now) > 3:
            codes += " " + _("e altre {n}").format(n=len(completed_now) - 3)
        news.append(
            "✅ "
            + ngettext("{codes} completata", "{codes} completate", len(completed_now)).format(
                codes=codes
            )
        )
    stuck = [a for a in actions if a.stuck_rounds >= STUCK_ROUNDS and a.action_id not in changes]
    if stuck:
        news.append("⏳ " + ngettext("{n} ferma", "{n} ferme", len(stuck)).format(n=len(stuck)))
    if notes:
        news.append("💬 " + ngettext("{n} nota", "{n} note", notes).format(n=notes))
    if silent:
        news.append(
            "🔕 "
            + ngettext(
                "non ha ancora aggiornato: {names}",
                "non hanno ancora aggiornato: {names}",
                len(silent),
            ).format(names=_names(tr, silent))
        )
    elif not has_technician and fig.total and asked_silence:
        news.append("🔕 " + _("nessun funzionario tecnico registrato"))
    if not news and fig.total:
        news.append(_("nessuna novità"))
    return " · ".join([head, *parts, *news])


def _decision_row(tr: Translator, q: QuestionView, index: int) -> str:
    """A question in one line: what, where, and while open the votes so far (a closed one's
    section says its outcome)."""
    _ = tr.gettext
    e = html.escape
    where = ", ".join(e(x) for x in (q.comune, q.action_code) if x)
    row = f"{index}. {e(clip(q.question, QUESTION_MAX))}"
    if where:
        row += f" <i>({where})</i>"
    if q.status == "open":
        if q.votes:
            tally = " · ".join(
                f"{CHOICE_ICONS[c]} {n}"
                for c in (APPROVE, REJECT, POSTPONE)
                if (n := sum(1 for v in q.votes if v.choice == c))
            )
            row += " — " + tally
        else:
            row += " — " + _("nessun voto finora")
    return row


def _totals(tr: Translator, data: SummaryInput) -> list[str]:
    """«In sintesi»: at most three lines — the actions by status, what moved this month, the
    CO₂ avoided against the PAES (`co2_rule` in docs/DESIGN.md)."""
    _ = tr.gettext
    ngettext = tr.ngettext
    lang = tr.language
    fig = figures(data.actions)
    rows = ["<b>" + _("In sintesi") + "</b>"]
    if not fig.total:
        rows.append(_("Nessuna azione del PAES caricata."))
        return rows
    by_status = [
        f"{STATUS_ICONS[s]} " + status_count(tr, s, fig.by_status[s])
        for s in STATUSES
        if fig.by_status.get(s)
    ]
    rows.append(
        ngettext("{n} azione", "{n} azioni", fig.total).format(n=format_number(fig.total, lang))
        + ": "
        + " · ".join(by_status)
    )
    shown = {a.action_id for a in data.actions}
    moved = [c for c in data.changes if c.action_id in shown]
    month: list[str] = []
    if moved:
        month.append(
            ngettext("{n} azione aggiornata", "{n} azioni aggiornate", len(moved)).format(
                n=len(moved)
            )
        )
    completed = sum(1 for c in moved if c.new_status == COMPLETED and c.old_status != COMPLETED)
    if completed:
        month.append(ngettext("{n} completata", "{n} completate", completed).format(n=completed))
    # People, not Comuni: a Comune whose actions moved may still have a technician silent
    # (its line names them), and «1 Comune non ha ancora aggiornato» beside «3 aggiornate» read
    # as a contradiction.
    silent = len({name for c in data.comuni for name in c.silent})
    if silent:
        month.append(
            ngettext(
                "{n} tecnico non ha ancora aggiornato",
                "{n} tecnici non hanno ancora aggiornato",
                silent,
            ).format(n=silent)
        )
    rows.append(
        (_("Dall'ultimo riepilogo: {what}") if data.since else _("Finora: {what}")).format(
            what=", ".join(month)
        )
        if month
        else _("Nessuna novità dall'ultimo riepilogo.")
    )
    if fig.co2_total > 0:
        share = round(fig.co2_completed * 100 / fig.co2_total)
        line = "🌱 " + _(
            "CO₂ evitata: {done} t/anno su {total} t/anno previste dal PAES ({pct}%)"
        ).format(
            done=format_number(fig.co2_completed, lang, decimals=1),
            total=format_number(fig.co2_total, lang, decimals=1),
            pct=share,
        )
        if fig.co2_ongoing > 0:
            line += "; " + _("altre {t} t/anno con le azioni in corso").format(
                t=format_number(fig.co2_ongoing, lang, decimals=1)
            )
        rows.append(line)
    return rows


def _header(data: SummaryInput, tr: Translator) -> list[str]:
    _ = tr.gettext
    e = html.escape
    month = format_month(data.year, data.month, tr.language)
    header = [
        "📊 " + _("<b>Team energia · {union}</b>").format(union=e(data.union_name)),
        _("Riepilogo di {month}").format(month=e(month))
        + (" " + _("(su richiesta)") if data.on_demand else ""),
    ]
    if data.late:
        header.append(_("Riepilogo inviato in ritardo per un problema tecnico."))
    if data.since is not None:
        since = format_datetime(data.since, ZoneInfo(data.timezone), tr.language)
        header.append(_("Novità dal {date}.").format(date=e(since)))
    return header


def _to_do(data: SummaryInput, tr: Translator, *, private: bool) -> list[list[str]]:
    """What the mayors must do: the questions to vote (their vote messages follow the text),
    the decisions to carry out (approved ones: a rejected question has nothing to carry out,
    and was announced when it was closed), the questions postponed to the next meeting, the
    next meeting."""
    _ = tr.gettext
    e = html.escape
    sections: list[list[str]] = []
    open_q = [q for q in data.questions if q.status == "open"]
    decided = [q for q in data.questions if q.status == "approved"]
    postponed = [q for q in data.questions if q.status == "postponed"]
    if open_q:
        head = (
            _("<b>Da decidere</b>: vota con i pulsanti nei messaggi qui sotto")
            if private
            else _("<b>Da decidere</b>: votate con i pulsanti nei messaggi qui sotto")
        )
        rows = [_decision_row(tr, q, i) for i, q in enumerate(open_q[:QUESTIONS_LISTED], 1)]
        more = len(open_q) - QUESTIONS_LISTED
        if more > 0:
            rows.append(
                tr.ngettext(
                    "… e un'altra questione, nei messaggi qui sotto",
                    "… e altre {n} questioni, nei messaggi qui sotto",
                    more,
                ).format(n=more)
            )
        sections.append(["🗳 " + head, *rows])
    if decided:
        rows = [_decision_row(tr, q, i) for i, q in enumerate(decided, 1)]
        sections.append(["📌 " + _("<b>Decisioni da attuare</b>"), *rows])
    if postponed:
        rows = [_decision_row(tr, q, i) for i, q in enumerate(postponed, 1)]
        sections.append(
            ["⏸ " + _("<b>Rinviate</b>: tornano alla prossima riunione del tavolo politico"), *rows]
        )
    if not open_q and not decided and not postponed:
        sections.append(["🗳 " + _("Nessuna questione aperta per il tavolo politico.")])
    if data.overdue_tasks:
        sections.append(_overdue_rows(data.overdue_tasks, tr))
    if data.next_meeting is not None:
        m = data.next_meeting
        when = format_datetime(m.starts_at, ZoneInfo(data.timezone), tr.language)
        line = f"{e(when)} — {e(m.title)}" + (f", {e(m.place)}" if m.place else "")
        sections.append(["📅 " + _("<b>Prossima riunione</b>: {when}").format(when=line)])
    else:
        sections.append(["📅 " + _("Prossima riunione non ancora fissata.")])
    return sections


TASKS_LISTED = 5


def _overdue_rows(tasks: Sequence[OverdueTask], tr: Translator) -> list[str]:
    """«Compiti scaduti»: who, what, since when (the first few, then how many more)."""
    e = html.escape
    rows = ["⏰ " + tr.gettext("<b>Compiti scaduti</b>")]
    for task in tasks[:TASKS_LISTED]:
        rows.append(
            tr.gettext("{name}: «{task}», entro {date}").format(
                name=e(person_name(task.assignee, tr)),
                task=e(clip_words(task.text, 80)),
                date=day_label(task.due_on, tr),
            )
        )
    if (more := len(tasks) - TASKS_LISTED) > 0:
        rows.append(
            tr.ngettext("… e un altro compito", "… e altri {n} compiti", more).format(n=more)
        )
    return rows


def _comune_lines(data: SummaryInput, tr: Translator, own: frozenset[int]) -> list[str]:
    """One line per Comune, the reader's own first; the intercommunal actions last."""
    changes = {c.action_id: c for c in data.changes}
    by_comune: dict[int | None, list[ActionSnapshot]] = {}
    for action in data.actions:
        by_comune.setdefault(action.municipality_id, []).append(action)
    lines = [
        comune_line(
            tr,
            comune.name,
            by_comune.get(comune.municipality_id, []),
            changes,
            silent=comune.silent,
            has_technician=comune.has_technician,
            notes=sum(1 for n in comune.notes if note_text(n.text)),
            own=comune.municipality_id in own,
        )
        for comune in sorted(data.comuni, key=lambda c: c.municipality_id not in own)
    ]
    union_notes = sum(1 for n in data.union_notes if note_text(n.text))
    if by_comune.get(None) or union_notes:
        lines.append(
            comune_line(
                tr,
                tr.gettext("Unione"),
                by_comune.get(None, []),
                changes,
                notes=union_notes,
                asked_silence=False,
            )
        )
    return lines


def summary_sections(
    data: SummaryInput,
    tr: Translator,
    *,
    private: bool = False,
    own: frozenset[int] = frozenset(),
) -> list[list[str]]:
    """The summary as sections of rows (each row balanced HTML), in the order the mayors need
    it: what they must do (the questions to vote, the decisions to carry out, the next
    meeting), three lines of totals, then one line per Comune — the reader's own Comuni
    (`own`, in a private copy) first and marked 📍."""
    sections = [_header(data, tr), *_to_do(data, tr, private=private)]
    absent = absences_lines(data.absences, tr)
    if absent:  # after the next meeting: who has been missing from the last ones
        sections.append(absent)
    sections.append(_totals(tr, data))
    lines = _comune_lines(data, tr, own)
    if lines:  # one section: the splitter cuts between two Comuni when it must
        sections.append(lines)
    if data.comuni or data.actions:
        detail = tr.gettext(
            "Il dettaglio di ogni azione e le note sono nel foglio di calcolo "
            "(«📤 Foglio di calcolo» qui sotto)."
        )
        sections.append(["ℹ️ " + detail])
    return sections


def render_summary(
    data: SummaryInput,
    tr: Translator,
    *,
    limit: int = TELEGRAM_LIMIT,
    private: bool = False,
    own: frozenset[int] = frozenset(),
) -> list[str]:
    """The summary as Telegram HTML messages, each ≤ limit, split between Comuni."""
    return split_sections(summary_sections(data, tr, private=private, own=own), limit=limit)


# --- decisions ----------------------------------------------------------------------------


def render_decision(
    tr: Translator,
    *,
    question: QuestionView,
    comuni: Sequence[str],
    asked_by: ShownName | None,
    outcome_text: str | None = None,
) -> str:
    """The message the political table votes on: the question and who voted what."""
    _ = tr.gettext
    e = html.escape
    rows = ["🗳 " + _("<b>Questione per il tavolo politico</b>"), e(question.question)]
    where = ", ".join(e(x) for x in (question.comune, question.action_code) if x)
    if where:
        rows.append(f"<i>{where}</i>")
    if asked_by:
        rows.append(_("Posta da {name}").format(name=e(person_name(asked_by, tr))))
    rows.append("")
    by_comune = {v.comune: v for v in question.votes}
    if question.status != "open" and not question.votes and asked_by is None:
        comuni = []  # a decision recorded with /decisione: nobody voted on it here
    for comune in comuni:
        vote = by_comune.get(comune)
        if vote is None:
            rows.append(f"▫️ {e(comune)}")
        else:
            who = f" ({e(person_name(vote.voter, tr))})" if vote.voter else ""
            rows.append(
                f"{CHOICE_ICONS[vote.choice]} {e(comune)}: "
                f"{e(tr.gettext(CHOICE_LABELS[vote.choice]))}{who}"
            )
    tally = " · ".join(
        f"{CHOICE_ICONS[c]} {sum(1 for v in question.votes if v.choice == c)}"
        for c in (APPROVE, REJECT, POSTPONE)
    )
    if comuni:
        rows.append(
            tr.ngettext(
                "Voti: {tally} ({n} Comune su {total})",
                "Voti: {tally} ({n} Comuni su {total})",
                len(question.votes),
            ).format(tally=tally, n=len(question.votes), total=len(comuni))
        )
    if question.status != "open":
        rows.append("")
        rows.append(
            _("<b>Esito: {outcome}</b>").format(
                outcome=e(tr.gettext(OUTCOME_LABELS.get(question.status, question.status)))
            )
        )
        if outcome_text:
            rows.append(e(outcome_text))
    return "\n".join(rows)


# --- the Covenant clock -------------------------------------------------------------------

MONITORING, INVENTORY = "monitoring", "inventory"
LEAD_DAYS = (60, 14)


@dataclass(frozen=True)
class Milestone:
    due: date
    kinds: tuple[str, ...]  # monitoring and/or inventory (every 4 years both fall together)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def next_milestones(approved_on: date, today: date, *, horizon_days: int = 61) -> list[Milestone]:
    """Covenant reports due within the horizon: monitoring every 2 years, inventory every 4."""
    result = []
    years = 2
    while True:
        due = _add_years(approved_on, years)
        if (due - today).days > horizon_days:
            break
        if due > today:
            kinds = (MONITORING, INVENTORY) if years % 4 == 0 else (MONITORING,)
            result.append(Milestone(due=due, kinds=kinds))
        years += 2
    return result


def leads_reached(milestone: Milestone, today: date) -> list[int]:
    """The warning lead times (days) already reached for a milestone, longest first."""
    days_left = (milestone.due - today).days
    return [lead for lead in LEAD_DAYS if 0 < days_left <= lead]


def render_covenant_warning(
    tr: Translator, *, union_name: str, milestone: Milestone, today: date
) -> str:
    _ = tr.gettext
    e = html.escape
    days = (milestone.due - today).days
    due = format_date(
        datetime(milestone.due.year, milestone.due.month, milestone.due.day, 12, tzinfo=UTC),
        ZoneInfo("UTC"),
        tr.language,
        year=True,
    )
    if milestone.kinds == (MONITORING,):
        what = _("la relazione di monitoraggio biennale del PAES")
    else:
        what = _("la relazione di monitoraggio e l'inventario delle emissioni (quadriennale)")
    text = "⏰ " + _("<b>Patto dei Sindaci · {union}</b>").format(union=e(union_name)) + "\n"
    text += tr.ngettext(
        "Manca {n} giorno alla scadenza per {what}: {due}.",
        "Mancano {n} giorni alla scadenza per {what}: {due}.",
        days,
    ).format(n=days, what=what, due=e(due))
    text += "\n" + _(
        "Con /esporta chi coordina scarica azioni e aggiornamenti nel formato del monitoraggio."
    )
    return text
