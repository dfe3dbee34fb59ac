"""The Mini App's pages as use cases: read-only, a session and plain values in, a frozen
dataclass (or NotAllowed) out. Each re-checks who is looking (an active member of that Union)
and what they may see (an action's history: its Comune's people and the coordinator), and
runs a fixed number of queries however large the Union (bench/dashboard.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.dashboard.access import viewer
from bot.services.dashboard.rules import (
    ActionFacts,
    Change,
    co2_series,
    figures,
    figures_by_comune,
    page_count,
)
from bot.services.progress.rules import may_read_history
from bot.views.dashboard.model import (
    ActionDetail,
    ActionItem,
    ActionList,
    AttachmentItem,
    Calendar,
    ComuneFigures,
    ComuneRef,
    DecisionItem,
    DecisionsPage,
    HistoryItem,
    MeetingItem,
    NotAllowed,
    NoteItem,
    Overview,
    Viewer,
    VoteItem,
)
from storage.models import ActionStatus, DecisionStatus
from storage.repositories import core as core_repo
from storage.repositories import dashboard as repo
from storage.repositories import summaries as summaries_repo

ACTIONS_PER_PAGE = 40
HISTORY_SHOWN = 30
NOTES_SHOWN = 5
MEETINGS_PAST = 12
MEETINGS_UPCOMING = 12
DECISIONS_SHOWN = 100

STATUS_CODES = {
    "c": ActionStatus.COMPLETED,
    "o": ActionStatus.ONGOING,
    "p": ActionStatus.POSTPONED,
    "n": ActionStatus.NOT_STARTED,
}


@dataclass(frozen=True)
class Who:
    """Who asks: the Telegram user of the session, the language of the client that opened the
    app (from its signed initData), and the instance's default language."""

    telegram_user_id: int
    client_language: str | None
    default_language: str


async def viewer_of(session: AsyncSession, who: Who, union_id: int) -> Viewer | NotAllowed:
    return await viewer(
        session,
        telegram_user_id=who.telegram_user_id,
        union_id=union_id,
        client_language=who.client_language,
        default_language=who.default_language,
    )


async def comune_names(session: AsyncSession, union_id: int) -> dict[int, str]:
    return await core_repo.municipality_names(session, union_id, include_archived=True)


def facts_of(rows: list[repo.ActionRow]) -> list[ActionFacts]:
    return [
        ActionFacts(r.id, r.municipality_id, r.status, r.progress, r.co2_avoided_t) for r in rows
    ]


# --- the overview ---------------------------------------------------------------------------


def _meeting(row: repo.MeetingRow) -> MeetingItem:
    return MeetingItem(
        row.id, row.table, row.title, row.place, row.agenda, row.starts_at, row.ends_at
    )


def comune_figures(actions: list[ActionFacts], names: dict[int, str]) -> tuple[ComuneFigures, ...]:
    """Every Comune with actions, by name, then the intercommunal ones (if any)."""
    grouped = figures_by_comune(actions)
    rows = [
        ComuneFigures(ComuneRef(cid, names.get(cid, "?")), fig)
        for cid, fig in grouped.items()
        if cid is not None
    ]
    rows.sort(key=lambda c: c.comune.name.casefold())
    if None in grouped:
        rows.append(ComuneFigures(ComuneRef(None, ""), grouped[None]))
    return tuple(rows)


async def union_overview(
    session: AsyncSession, *, who: Who, union_id: int, now: datetime
) -> Overview | NotAllowed:
    """The first page: the Union's figures, Comune by Comune, the CO₂ avoided month by month
    against the plan, the next meeting and how many questions wait for the political table."""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    names = await comune_names(session, union_id)
    actions = facts_of(await repo.action_rows(session, union_id=union_id))
    changes = await repo.completion_changes(session, union_id=union_id)
    upcoming, _past = await repo.meetings(session, union_id=union_id, now=now, past=0, upcoming=1)
    questions = await repo.decision_count(
        session, union_id=union_id, statuses=[DecisionStatus.OPEN]
    )
    series = co2_series(
        actions,
        [Change(c.action_id, c.at, c.completed) for c in changes],
        now=now,
        timezone=v.timezone,
    )
    return Overview(
        viewer=v,
        now=now,
        figures=figures(actions),
        comuni=comune_figures(actions, names),
        series=tuple(series),
        next_meeting=_meeting(upcoming[0]) if upcoming else None,
        open_questions=questions,
    )


# --- actions --------------------------------------------------------------------------------


def _item(row: repo.ActionRow, names: dict[int, str]) -> ActionItem:
    comune = (
        ComuneRef(None, "")
        if row.municipality_id is None
        else ComuneRef(row.municipality_id, names.get(row.municipality_id, "?"))
    )
    return ActionItem(
        row.id,
        row.code,
        row.title,
        row.sector,
        comune,
        row.status,
        row.progress,
        row.co2_avoided_t,
        row.start_on,
        row.end_on,
    )


async def action_list(
    session: AsyncSession, *, who: Who, union_id: int, comune: str, status: str, page: int
) -> ActionList | NotAllowed:
    """The Union's actions, filtered by Comune and status (unknown filter values mean "all"),
    a page at a time, by code."""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    names = await comune_names(session, union_id)
    municipality_id: int | None = None
    if comune == "u":
        municipality_id = repo.UNION_WIDE
    elif comune.isdigit() and int(comune) in names:
        municipality_id = int(comune)
    else:
        comune = ""
    wanted = STATUS_CODES.get(status)
    rows = await repo.action_rows(
        session, union_id=union_id, municipality_id=municipality_id, status=wanted
    )
    pages = page_count(len(rows), ACTIONS_PER_PAGE)
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * ACTIONS_PER_PAGE : page * ACTIONS_PER_PAGE]
    refs = sorted((ComuneRef(i, n) for i, n in names.items()), key=lambda c: c.name.casefold())
    return ActionList(
        viewer=v,
        comuni=tuple(refs),
        comune=comune,
        status=status if wanted is not None else "",
        items=tuple(_item(r, names) for r in shown),
        total=len(rows),
        page=page,
        pages=pages,
    )


async def action_detail(
    session: AsyncSession, *, who: Who, union_id: int, action_id: int
) -> ActionDetail | NotAllowed:
    """An action's card with its history of updates (notes, photos, questions) and the
    technical group's latest notes on its Comune — the history and the notes only for those
    who may read them (rules.may_read_history)."""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    row = await repo.action_row(session, union_id=union_id, action_id=action_id)
    if row is None:
        return NotAllowed("not_found", v.language)
    names = await comune_names(session, union_id)
    allowed = may_read_history(
        coordinator=v.is_coordinator,
        role=v.role,
        municipality_ids=v.municipality_ids,
        action_comune=row.municipality_id,
    )
    history: tuple[HistoryItem, ...] = ()
    notes: tuple[NoteItem, ...] = ()
    if allowed:
        entries, attachments = await repo.history(session, action_id=row.id, limit=HISTORY_SHOWN)
        by_update: dict[int, list[AttachmentItem]] = {}
        for a in attachments:
            by_update.setdefault(a.update_id, []).append(AttachmentItem(a.id, a.kind, a.file_name))
        history = tuple(
            HistoryItem(
                created_at=e.created_at,
                author=e.author,
                previous_status=e.previous_status,
                status=e.status,
                previous_progress=e.previous_progress,
                progress=e.progress,
                note=e.note,
                question=e.decision_question if e.needs_decision else None,
                attachments=tuple(by_update.get(e.update_id, ())),
            )
            for e in entries
        )
        group_notes = await summaries_repo.group_notes(
            session,
            union_id=union_id,
            comune=row.municipality_id
            if row.municipality_id is not None
            else summaries_repo.UNION_NOTES,
            latest=NOTES_SHOWN,
        )
        notes = tuple(NoteItem(n.created_at, n.author, n.text) for n in group_notes)
    return ActionDetail(v, _item(row, names), allowed, history, notes)


# --- meetings -------------------------------------------------------------------------------


async def meeting_calendar(
    session: AsyncSession, *, who: Who, union_id: int, now: datetime
) -> Calendar | NotAllowed:
    """The Union's meetings: those ahead (or under way) and the latest past ones, each with
    its agenda. (Minutes will hang on the same items when meetings get them.)"""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    upcoming, past = await repo.meetings(
        session, union_id=union_id, now=now, past=MEETINGS_PAST, upcoming=MEETINGS_UPCOMING
    )
    return Calendar(v, now, tuple(map(_meeting, upcoming)), tuple(map(_meeting, past)))


# --- questions and decisions ----------------------------------------------------------------


async def decision_register(
    session: AsyncSession, *, who: Who, union_id: int
) -> DecisionsPage | NotAllowed:
    """Questions waiting for the political table (with the Comuni that voted so far) and the
    register of what it decided."""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    open_rows = await repo.decisions(
        session, union_id=union_id, statuses=[DecisionStatus.OPEN], limit=DECISIONS_SHOWN
    )
    closed_rows = await repo.decisions(
        session,
        union_id=union_id,
        statuses=[
            DecisionStatus.APPROVED,
            DecisionStatus.REJECTED,
            DecisionStatus.POSTPONED,
            DecisionStatus.DONE,
        ],
        limit=DECISIONS_SHOWN,
    )
    facts = await summaries_repo.decision_facts(session, [*open_rows, *closed_rows])
    items = [
        DecisionItem(
            id=f.decision.id,
            text=f.decision.question,
            status=f.decision.status,
            outcome_text=f.decision.outcome_text
            if f.decision.outcome_text != f.decision.question
            else None,
            voted=f.decision.source_update_id is not None,
            comune=f.comune,
            action_code=f.action_code,
            asked_by=f.asked_by,
            created_at=f.decision.created_at,
            closed_at=f.decision.closed_at,
            votes=tuple(VoteItem(vote.comune, vote.choice) for vote in f.votes),
        )
        for f in facts
    ]
    comuni = await summaries_repo.political_comuni(session, union_id)
    opened = sorted(
        (i for i in items if i.status == DecisionStatus.OPEN), key=lambda i: (i.created_at, i.id)
    )
    decided = [i for i in items if i.status != DecisionStatus.OPEN]
    return DecisionsPage(v, tuple(opened), tuple(decided), len(comuni))


# --- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileToServe:
    """A photo or document of an update, which the caller may see: fetch it from Telegram."""

    file_id: str
    kind: str
    file_name: str | None
    mime_type: str | None


async def attachment_file(
    session: AsyncSession, *, who: Who, union_id: int, attachment_id: int
) -> FileToServe | NotAllowed:
    """An attachment of this Union's action, for someone who may read that action's history."""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    row = await repo.attachment(session, attachment_id=attachment_id)
    if row is None or row.union_id != union_id:
        return NotAllowed("not_found", v.language)
    if not may_read_history(
        coordinator=v.is_coordinator,
        role=v.role,
        municipality_ids=v.municipality_ids,
        action_comune=row.action_municipality_id,
    ):
        return NotAllowed("history", v.language)
    return FileToServe(row.file_id, row.kind, row.file_name, row.mime_type)
