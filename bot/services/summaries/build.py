"""From the stored facts to the summary's plain input: what changed, what is stuck, who is silent.

Pure computation over rows already read (no database access, no Telegram).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.services.summaries.chart import Co2Figures, ComuneBar
from bot.services.summaries.summary import (
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    MeetingView,
    NoteView,
    QuestionView,
    SummaryInput,
    VoteView,
    figures,
    stuck_rounds,
)
from storage.repositories.summaries import (
    DecisionFact,
    NoteFact,
    SummaryFacts,
    TechnicianFact,
    UpdateFact,
)

MAX_NOTES_PER_ACTION = 2


def month_of(period: str, now: datetime, timezone: str) -> tuple[int, int]:
    """'2026-12' → (2026, 12); anything else → the month of `now` in the Union's zone."""
    parts = period.split("-")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return int(parts[0]), int(parts[1])
    local = now.astimezone(ZoneInfo(timezone))
    return local.year, local.month


def changes_since(updates: Sequence[UpdateFact], since: datetime | None) -> list[ActionChange]:
    """Per action: the value before the first update after `since` → the last value."""
    by_action: dict[int, list[UpdateFact]] = {}
    for u in updates:
        if since is None or u.created_at > since:
            by_action.setdefault(u.action_id, []).append(u)
    result = []
    for action_id, items in by_action.items():
        first, last = items[0], items[-1]
        notes = tuple(n.note.strip() for n in items if n.note and n.note.strip())
        photos = sum(n.photos for n in items)
        documents = sum(n.documents for n in items)
        moved = first.previous_status != last.status or first.previous_progress != last.progress
        if not moved and not notes and not photos and not documents:
            continue
        result.append(
            ActionChange(
                action_id=action_id,
                old_status=first.previous_status,
                new_status=last.status,
                old_progress=first.previous_progress,
                new_progress=last.progress,
                notes=notes[-MAX_NOTES_PER_ACTION:],
                photos=photos,
                documents=documents,
            )
        )
    return result


def _moved(u: UpdateFact) -> bool:
    return u.previous_status != u.status or u.previous_progress != u.progress


def stuck_by_action(facts: SummaryFacts) -> dict[int, int]:
    """Consecutive past rounds (latest first) in which a started, unfinished action did not move."""
    windows = []
    for i, r in enumerate(facts.rounds):
        start = facts.rounds[i - 1].deadline_at if i else r.opened_at
        windows.append((start, r.deadline_at))
    moved_in: dict[int, set[int]] = {}
    for u in facts.updates:
        if not _moved(u):
            continue
        for index, (start, end) in enumerate(windows):
            if start < u.created_at <= end:
                moved_in.setdefault(u.action_id, set()).add(index)
    result = {}
    for action in facts.actions:
        if action.status.value not in ("ongoing", "postponed"):
            continue
        created = action.created_at
        flags = [
            index in moved_in.get(action.id, set())
            for index, (_start, end) in enumerate(windows)
            if end > created
        ]
        result[action.id] = stuck_rounds(flags)
    return result


def _question(fact: DecisionFact) -> QuestionView:
    return QuestionView(
        decision_id=fact.decision.id,
        question=fact.decision.question,
        status=fact.decision.status.value,
        comune=fact.comune,
        action_code=fact.action_code,
        votes=tuple(VoteView(v.comune, v.choice, v.voter) for v in fact.votes),
    )


def question_view(fact: DecisionFact) -> QuestionView:
    return _question(fact)


def note_view(note: NoteFact) -> NoteView:
    return NoteView(author=note.author, text=note.text, created_at=note.created_at)


def notes_by_comune(
    notes: Sequence[NoteFact], since: datetime | None
) -> dict[int | None, tuple[NoteView, ...]]:
    """Group notes after `since`, per Comune (None: the Union), oldest first."""
    grouped: dict[int | None, list[NoteView]] = {}
    for n in notes:
        if since is None or n.created_at > since:
            grouped.setdefault(n.municipality_id, []).append(note_view(n))
    return {k: tuple(v) for k, v in grouped.items()}


def build_summary_input(
    facts: SummaryFacts,
    *,
    since: datetime | None,
    now: datetime,
    period: str,
    late: bool = False,
    on_demand: bool = False,
    round_deadline: datetime | None = None,
) -> SummaryInput:
    year, month = month_of(period, now, facts.union.timezone)
    stuck = stuck_by_action(facts)
    snapshots = [
        ActionSnapshot(
            action_id=a.id,
            code=a.code,
            title=a.title,
            municipality_id=a.municipality_id,
            status=a.status.value,
            progress=a.progress,
            co2_avoided_t=a.co2_avoided_t,
            stuck_rounds=stuck.get(a.id, 0),
        )
        for a in facts.actions
    ]
    notes = notes_by_comune(facts.notes, since)
    with_actions = {a.municipality_id for a in facts.actions}  # None: the intercommunal ones

    def asked(t: TechnicianFact) -> bool:
        """The round asked them something: an action of one of their Comuni, or of the Union
        (the round's own list: `progress.rounds`); one asked nothing is never silent."""
        return None in with_actions or any(c in with_actions for c in t.municipality_ids)

    comuni = []
    for m in facts.municipalities:
        techs = [t for t in facts.technicians if m.id in t.municipality_ids]
        silent = (
            tuple(
                t.name for t in techs if asked(t) and t.member_id not in facts.reported_member_ids
            )
            if round_deadline is not None
            else ()
        )
        comuni.append(
            ComuneInfo(
                m.id,
                m.name,
                silent=silent,
                has_technician=bool(techs),
                notes=notes.get(m.id, ()),
            )
        )
    meeting = None
    if facts.next_meeting is not None:
        meeting = MeetingView(
            facts.next_meeting.starts_at, facts.next_meeting.title, facts.next_meeting.place
        )
    return SummaryInput(
        union_name=facts.union.name,
        timezone=facts.union.timezone,
        year=year,
        month=month,
        generated_at=now,
        since=since,
        comuni=comuni,
        actions=snapshots,
        changes=changes_since(facts.updates, since),
        next_meeting=meeting,
        questions=[_question(d) for d in facts.decisions],
        late=late,
        on_demand=on_demand,
        round_deadline=round_deadline,
        union_notes=notes.get(None, ()),
        overdue_tasks=facts.overdue_tasks,
    )


def chart_bars(data: SummaryInput, *, union_label: str) -> list[ComuneBar]:
    """Per Comune (in the summary's order) its actions by status; the intercommunal actions
    last, as `union_label` («Unione»). Comuni with no action are in the list (the picture
    leaves them out)."""
    by_comune: dict[int | None, dict[str, int]] = {}
    for a in data.actions:
        counts = by_comune.setdefault(a.municipality_id, {})
        counts[a.status] = counts.get(a.status, 0) + 1
    bars = [ComuneBar(c.name, by_comune.get(c.municipality_id, {})) for c in data.comuni]
    if None in by_comune:
        bars.append(ComuneBar(union_label, by_comune[None]))
    return bars


def co2_of(data: SummaryInput) -> Co2Figures:
    """The CO₂ picture's figures: the rule of the summary's totals (`figures`)."""
    fig = figures(data.actions)
    return Co2Figures(fig.co2_completed, fig.co2_ongoing, fig.co2_total)
