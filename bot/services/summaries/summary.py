"""The summary for the political table: plain data in, Telegram HTML out (no Telegram import).

A mayor reads it in one minute on a phone: the Union and the month, the overall figures, then
Comune by Comune what changed since the last scheduled summary, what is stuck and who did not
report; the next meeting; the questions waiting for a political decision. The text is split
into messages at Comune boundaries (bot.views.html_split).

A large Union's month would fill a dozen messages if every changed action were listed, and a
mayor reads the first screen. So the detail shrinks, step by step (`DETAILS`), until the
summary fits in `MAX_MESSAGES` messages: per Comune the most important changes first
(completed, then a status change, then the largest progress), a "… e altre K azioni" line for
the rest, fewer and shorter notes; the full detail is in the spreadsheet (/esporta). Only a
Union too large even for the most compact form takes more messages (nothing is ever cut
mid-Comune, and every Comune keeps its line).
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
from storage.repositories.people import ShownName

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
NOTE_MAX = 280
GROUP_NOTE_MAX = 200  # a group note in the summary: about three lines on a phone
MAX_MESSAGES = 4  # text messages of a summary (the chart and the vote messages come after)
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
class Detail:
    """How much a summary says per Comune; `DETAILS` goes from everything to the bare counts."""

    changes: int | None  # changed actions listed per Comune (None: all of them)
    action_notes: int  # notes shown under each listed action
    action_note_chars: int
    group_notes: int  # the latest group notes shown per Comune
    group_note_chars: int
    stuck: int | None  # stuck actions named per Comune (None: all)


FULL = Detail(None, 2, NOTE_MAX, 3, GROUP_NOTE_MAX, None)
DETAILS = (
    FULL,
    Detail(5, 1, 200, 2, 160, 8),
    Detail(3, 1, 140, 2, 140, 5),
    Detail(2, 1, 100, 1, 120, 3),
    Detail(1, 0, 0, 1, 100, 3),
    Detail(0, 0, 0, 0, 0, 0),
)


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


@dataclass(frozen=True)
class Figures:
    total: int
    by_status: dict[str, int] = field(default_factory=dict)
    average_progress: int = 0
    co2_completed: Decimal = Decimal(0)
    co2_total: Decimal = Decimal(0)


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
    return Figures(
        total=total,
        by_status=by_status,
        average_progress=average,
        co2_completed=co2_done,
        co2_total=co2_total,
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


def importance(
    action: ActionSnapshot, change: ActionChange, *, asks_decision: bool = False
) -> tuple[object, ...]:
    """Sort key, most important first: completed, an open question for the political table, a
    status change, the largest progress, a note or attachment, then the action code."""
    completed = change.new_status == COMPLETED and change.old_status != COMPLETED
    status_moved = change.old_status is not None and change.old_status != change.new_status
    delta = abs(change.new_progress - (change.old_progress or 0))
    said = bool(change.notes or change.photos or change.documents)
    return (
        not completed,
        not asks_decision,
        not status_moved,
        -delta,
        not said,
        natural_key(action.code),
        action.action_id,
    )


def _change_row(
    tr: Translator,
    action: ActionSnapshot,
    change: ActionChange,
    detail: Detail = FULL,
    *,
    asks_decision: bool = False,
) -> list[str]:
    e = html.escape
    head = f"• <b>{e(action.code)}</b> {e(clip(action.title, 80))}"
    moves: list[str] = []
    if change.old_status is not None and change.old_status != change.new_status:
        moves.append(
            f"{_status(tr, change.old_status)} → {STATUS_ICONS.get(change.new_status, '')} "
            f"<b>{_status(tr, change.new_status)}</b>"
        )
    elif change.old_status is None:
        moves.append(f"{STATUS_ICONS.get(change.new_status, '')} {_status(tr, change.new_status)}")
    if change.old_progress is not None and change.old_progress != change.new_progress:
        moves.append(f"{change.old_progress}% → <b>{change.new_progress}%</b>")
    elif change.old_progress is None or not moves:
        moves.append(f"{change.new_progress}%")
    if asks_decision:
        moves.append("🗳 " + tr.gettext("da decidere"))
    rows = [head + ": " + ", ".join(moves)]
    if detail.action_notes:
        for note in change.notes[-detail.action_notes :]:
            rows.append(f"   <i>«{e(clip_words(note, detail.action_note_chars))}»</i>")
    attachments = []
    if change.photos:
        attachments.append(
            "📷 " + tr.ngettext("{n} foto", "{n} foto", change.photos).format(n=change.photos)
        )
    if change.documents:
        attachments.append(
            "📄 "
            + tr.ngettext("{n} documento", "{n} documenti", change.documents).format(
                n=change.documents
            )
        )
    if attachments:
        rows.append("   " + " · ".join(attachments))
    return rows


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


def _group_note_rows(
    tr: Translator, notes: Sequence[NoteView], detail: Detail, timezone: str
) -> tuple[list[str], bool]:
    """The latest group notes of a Comune (rows, and whether some were left out)."""
    notes = [n for n in notes if note_text(n.text)]
    if not notes:
        return [], False
    shown = notes[-detail.group_notes :] if detail.group_notes else []
    rows = [note_row(tr, n, chars=detail.group_note_chars, timezone=timezone) for n in shown]
    rest = len(notes) - len(shown)
    if rest and shown:
        rows.append(
            "   "
            + tr.ngettext(
                "… e un'altra nota dal gruppo tecnico",
                "… e altre {n} note dal gruppo tecnico",
                rest,
            ).format(n=rest)
        )
    elif rest:
        rows.append(
            "💬 "
            + tr.ngettext(
                "{n} nota dal gruppo tecnico", "{n} note dal gruppo tecnico", rest
            ).format(n=rest)
        )
    return rows, bool(rest) or any(len(note_text(n.text)) > detail.group_note_chars for n in shown)


def _comune_section(
    tr: Translator,
    title: str,
    actions: Sequence[ActionSnapshot],
    changes: dict[int, ActionChange],
    silent: Sequence[ShownName],
    has_technician: bool,
    *,
    notes: Sequence[NoteView] = (),
    detail: Detail = FULL,
    timezone: str = "Europe/Rome",
    asking: frozenset[str] = frozenset(),  # codes of actions with an open question
) -> tuple[list[str], bool]:
    """A Comune's rows, and whether anything was left out (then the spreadsheet has it)."""
    _ = tr.gettext
    e = html.escape
    fig = figures(actions)
    head = f"<b>{e(title)}</b>"
    if fig.total:
        head += (
            " · "
            + tr.ngettext("{n} azione", "{n} azioni", fig.total).format(n=fig.total)
            + " · "
            + _("media {avg}%").format(avg=fig.average_progress)
            + " · ✅ "
            + tr.ngettext("{n} completata", "{n} completate", fig.by_status[COMPLETED]).format(
                n=fig.by_status[COMPLETED]
            )
        )
    rows = [head]
    moved = sorted(
        (a for a in actions if a.action_id in changes),
        key=lambda a: importance(a, changes[a.action_id], asks_decision=a.code in asking),
    )
    shown = moved if detail.changes is None else moved[: detail.changes]
    for action in shown:
        rows.extend(
            _change_row(
                tr, action, changes[action.action_id], detail, asks_decision=action.code in asking
            )
        )
    hidden = len(moved) - len(shown)
    if hidden and shown:
        rows.append(
            "   "
            + tr.ngettext(
                "… e un'altra azione aggiornata",
                "… e altre {n} azioni aggiornate",
                hidden,
            ).format(n=hidden)
        )
    elif hidden:
        rows.append(
            "• "
            + tr.ngettext("{n} azione aggiornata", "{n} azioni aggiornate", hidden).format(n=hidden)
        )
    left_out = bool(hidden) or any(
        len(changes[a.action_id].notes) > detail.action_notes
        or any(len(n) > detail.action_note_chars for n in changes[a.action_id].notes)
        for a in shown
    )
    note_rows, notes_left_out = _group_note_rows(tr, notes, detail, timezone)
    if not moved and fig.total:
        # With a note from the group there is news, just not on the actions.
        rows.append(_("Nessuna azione aggiornata.") if note_rows else _("Nessuna novità."))
    rows.extend(note_rows)
    left_out = left_out or notes_left_out
    stuck = [a for a in actions if a.stuck_rounds >= STUCK_ROUNDS and a.action_id not in changes]
    if stuck:
        named = stuck if detail.stuck is None else stuck[: detail.stuck]
        items = ", ".join(
            _("{code} ({pct}%, {n} giri)").format(code=e(a.code), pct=a.progress, n=a.stuck_rounds)
            for a in named
        )
        more = len(stuck) - len(named)
        if more and named:
            items += " " + tr.ngettext("e un'altra", "e altre {n}", more).format(n=more)
        left_out = left_out or bool(more)
        if named:
            rows.append("⏳ " + _("Ferme da due giri o più: {items}").format(items=items))
        else:
            rows.append(
                "⏳ "
                + tr.ngettext(
                    "{n} azione ferma da due giri o più",
                    "{n} azioni ferme da due giri o più",
                    len(stuck),
                ).format(n=len(stuck))
            )
    if silent:
        rows.append(
            "🔕 "
            + tr.ngettext(
                "Non ha riferito: {names}", "Non hanno riferito: {names}", len(silent)
            ).format(names=", ".join(e(person_name(n, tr)) for n in silent))
        )
    elif not has_technician:
        rows.append("🔕 " + _("Nessun funzionario tecnico registrato."))
    return rows, left_out


def _decision_row(tr: Translator, q: QuestionView, index: int) -> list[str]:
    _ = tr.gettext
    e = html.escape
    where = ", ".join(e(x) for x in (q.comune, q.action_code) if x)
    head = f"{index}. {e(clip(q.question, QUESTION_MAX))}"
    if where:
        head += f" <i>({where})</i>"
    rows = [head]
    if q.status == "open":
        if q.votes:
            tally = " · ".join(
                f"{CHOICE_ICONS[c]} {sum(1 for v in q.votes if v.choice == c)}"
                for c in (APPROVE, REJECT, POSTPONE)
            )
            rows.append("   " + _("Voti finora: {tally}").format(tally=tally))
        else:
            rows.append("   " + _("Nessun voto finora."))
    else:
        rows.append("   " + e(tr.gettext(OUTCOME_LABELS.get(q.status, q.status))))
    return rows


def summary_sections(data: SummaryInput, tr: Translator, detail: Detail = FULL) -> list[list[str]]:
    """The summary as sections of rows (each row balanced HTML): header, Comuni, meeting, questions."""
    _ = tr.gettext
    e = html.escape
    tz = ZoneInfo(data.timezone)
    lang = tr.language
    month = format_month(data.year, data.month, lang)
    header = [
        "📊 " + _("<b>Team energia · {union}</b>").format(union=e(data.union_name)),
        _("Riepilogo di {month}").format(month=e(month))
        + (" " + _("(su richiesta)") if data.on_demand else ""),
    ]
    if data.late:
        header.append(
            "⚠️ " + _("In ritardo: il bot era fermo quando è scaduto il giro di aggiornamenti.")
        )
    if data.since is not None:
        header.append(_("Novità dal {date}.").format(date=e(format_datetime(data.since, tz, lang))))
    else:
        header.append(_("Primo riepilogo: tutte le novità registrate finora."))

    fig = figures(data.actions)
    overall = [_("<b>Il quadro</b>")]
    if fig.total:
        overall.append(
            " · ".join(
                f"{STATUS_ICONS[s]} {_(STATUS_PLURALS[s])} {fig.by_status[s]}" for s in STATUSES
            )
        )
        overall.append(
            _("Azioni: {n} · avanzamento medio: {avg}%").format(
                n=fig.total, avg=fig.average_progress
            )
        )
        if fig.co2_total > 0:
            share = round(fig.co2_completed * 100 / fig.co2_total)
            overall.append(
                _(
                    "CO₂ evitata dalle azioni completate: {done} t/anno su {total} t/anno del PAES ({pct}%)"
                ).format(
                    done=format_number(fig.co2_completed, lang, decimals=1),
                    total=format_number(fig.co2_total, lang, decimals=1),
                    pct=share,
                )
            )
    else:
        overall.append(_("Nessuna azione del PAES caricata."))

    changes = {c.action_id: c for c in data.changes}
    by_comune: dict[int | None, list[ActionSnapshot]] = {}
    for action in data.actions:
        by_comune.setdefault(action.municipality_id, []).append(action)
    for items in by_comune.values():
        items.sort(key=lambda a: (natural_key(a.code), a.action_id))
    comune_sections: list[list[str]] = []
    left_out = False
    asking = frozenset(
        q.action_code for q in data.questions if q.status == "open" and q.action_code
    )
    intercommunal = by_comune.get(None, [])
    if intercommunal or any(note_text(n.text) for n in data.union_notes):
        rows, cut = _comune_section(
            tr,
            _("Azioni intercomunali") if intercommunal else _("Unione"),
            intercommunal,
            changes,
            (),
            True,
            notes=data.union_notes,
            detail=detail,
            timezone=data.timezone,
            asking=asking,
        )
        comune_sections.append(rows)
        left_out = left_out or cut
    for comune in data.comuni:
        rows, cut = _comune_section(
            tr,
            comune.name,
            by_comune.get(comune.municipality_id, []),
            changes,
            comune.silent,
            comune.has_technician,
            notes=comune.notes,
            detail=detail,
            timezone=data.timezone,
            asking=asking,
        )
        comune_sections.append(rows)
        left_out = left_out or cut
    if left_out:
        header.append(
            "ℹ️ "
            + _(
                "Per ogni Comune le novità principali: il dettaglio completo è nel foglio di "
                "calcolo (pulsante «📤 Foglio di calcolo» in fondo al riepilogo, o /esporta)."
            )
        )
    sections = [header, overall, *comune_sections]

    meeting = ["📅 " + _("<b>Prossima riunione</b>")]
    if data.next_meeting is not None:
        m = data.next_meeting
        line = f"{e(format_datetime(m.starts_at, tz, lang))} — {e(m.title)}"
        if m.place:
            line += f", {e(m.place)}"
        meeting.append(line)
    else:
        meeting.append(_("Non ancora fissata."))
    sections.append(meeting)

    open_q = [q for q in data.questions if q.status == "open"]
    decided = [q for q in data.questions if q.status != "open"]
    if open_q:
        rows = ["🗳 " + _("<b>Da decidere</b> (votate nei messaggi qui sotto)")]
        for i, q in enumerate(open_q, 1):
            rows.extend(_decision_row(tr, q, i))
        sections.append(rows)
    if decided:
        rows = ["📌 " + _("<b>Decisioni da attuare</b>")]
        for i, q in enumerate(decided, 1):
            rows.extend(_decision_row(tr, q, i))
        sections.append(rows)
    if not open_q and not decided:
        sections.append(["🗳 " + _("Nessuna questione aperta per il tavolo politico.")])
    return sections


def render_summary(
    data: SummaryInput,
    tr: Translator,
    *,
    limit: int = TELEGRAM_LIMIT,
    max_messages: int = MAX_MESSAGES,
    detail: Detail | None = None,
) -> list[str]:
    """The summary as Telegram HTML messages, each ≤ limit, split at Comune boundaries.

    With no `detail` given, the most detailed form that fits in `max_messages` messages (or the
    most compact one, when none does).
    """
    if detail is not None:
        return split_sections(summary_sections(data, tr, detail), limit=limit)
    parts: list[str] = []
    for level in DETAILS:
        parts = split_sections(summary_sections(data, tr, level), limit=limit)
        if len(parts) <= max_messages:
            break
    return parts


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
        rows.append(_("Chiesta da {name}").format(name=e(person_name(asked_by, tr))))
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
        "Con /esporta il coordinatore scarica azioni e aggiornamenti nel formato del monitoraggio."
    )
    return text
