"""The plain data the dashboard's pages show: built by the use cases (bot.services.dashboard),
rendered by the page functions beside this module. Frozen dataclasses of plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from storage.models import ActionStatus, DecisionStatus, PollTable, Role
from storage.repositories.people import ShownName

STATUS_ORDER = (
    ActionStatus.COMPLETED,
    ActionStatus.ONGOING,
    ActionStatus.POSTPONED,
    ActionStatus.NOT_STARTED,
)


@dataclass(frozen=True)
class Figures:
    """Counts and CO₂ of a set of actions (a Comune, or the whole Union)."""

    total: int
    by_status: tuple[tuple[ActionStatus, int], ...]  # in STATUS_ORDER, zeros included
    average_progress: int  # 0–100, rounded
    co2_avoided_t: Decimal  # by the completed actions, t/year
    co2_target_t: Decimal  # by all the actions of the plan, t/year

    def count(self, status: ActionStatus) -> int:
        return dict(self.by_status).get(status, 0)

    @property
    def co2_share(self) -> int | None:
        """Percent of the plan's CO₂ already avoided; None when the plan gives no CO₂."""
        if self.co2_target_t <= 0:
            return None
        return int((self.co2_avoided_t * 100 / self.co2_target_t).to_integral_value())


@dataclass(frozen=True)
class Co2Point:
    month: date  # the first day of the month (local time)
    avoided_t: Decimal  # at the end of that month (for the current month: now)


@dataclass(frozen=True)
class NotAllowed:
    """A refusal. `reason`: "not_member" (not an active member of that Union — or of any, for
    sign-in), "not_found" (no such thing in that Union), "history" (the history of an action of
    another Comune), "coordinator_only". `language` for the page that says so."""

    reason: str
    language: str


@dataclass(frozen=True)
class Viewer:
    """An active member of the Union they are looking at."""

    telegram_user_id: int
    member_id: int
    union_id: int
    union_name: str
    timezone: str
    role: Role
    is_coordinator: bool
    municipality_ids: tuple[int, ...]
    language: str
    unions: int  # how many Unions they may look at (more than one: a way back to the picker)


@dataclass(frozen=True)
class UnionChoice:
    union_id: int
    name: str
    is_coordinator: bool


@dataclass(frozen=True)
class ComuneRef:
    id: int | None  # None: the Union itself (intercommunal actions)
    name: str  # "" for the Union: the view names it


@dataclass(frozen=True)
class ComuneFigures:
    comune: ComuneRef
    figures: Figures


@dataclass(frozen=True)
class MeetingItem:
    id: int
    table: PollTable
    title: str
    place: str | None
    agenda: str | None
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Overview:
    viewer: Viewer
    now: datetime
    figures: Figures
    comuni: tuple[ComuneFigures, ...]  # by name, the Union's own actions last
    series: tuple[Co2Point, ...]
    next_meeting: MeetingItem | None
    open_questions: int


@dataclass(frozen=True)
class ActionItem:
    id: int
    code: str
    title: str
    sector: str | None
    comune: ComuneRef
    status: ActionStatus
    progress: int
    co2_avoided_t: Decimal | None
    start_on: date | None
    end_on: date | None


@dataclass(frozen=True)
class ActionList:
    viewer: Viewer
    comuni: tuple[ComuneRef, ...]  # the filter's choices, by name
    comune: str  # the filter as given back: "" all, "u" intercommunal, or a Comune id
    status: str  # "" all, or a key of STATUS_CODES
    items: tuple[ActionItem, ...]  # this page
    total: int
    page: int  # from 1
    pages: int


@dataclass(frozen=True)
class AttachmentItem:
    id: int
    kind: str  # photo | document
    file_name: str | None


@dataclass(frozen=True)
class HistoryItem:
    created_at: datetime
    author: ShownName | None  # None: nobody recorded; FORMER_MEMBER: someone who left
    previous_status: ActionStatus | None
    status: ActionStatus
    previous_progress: int | None
    progress: int
    note: str | None
    question: str | None  # the question for the political table, when it asked one
    attachments: tuple[AttachmentItem, ...]


@dataclass(frozen=True)
class NoteItem:
    created_at: datetime
    author: ShownName
    text: str


@dataclass(frozen=True)
class ActionDetail:
    viewer: Viewer
    action: ActionItem
    may_read_history: bool
    history: tuple[HistoryItem, ...]  # newest first; empty when not allowed
    notes: tuple[NoteItem, ...]  # the technical group's latest notes on its Comune, oldest first


@dataclass(frozen=True)
class Calendar:
    viewer: Viewer
    now: datetime
    upcoming: tuple[MeetingItem, ...]  # soonest first
    past: tuple[MeetingItem, ...]  # latest first


@dataclass(frozen=True)
class VoteItem:
    comune: str
    choice: str  # approve | reject | postpone


@dataclass(frozen=True)
class DecisionItem:
    id: int
    text: str  # the question put to the table, or the decision recorded with /decisione
    status: DecisionStatus
    outcome_text: str | None  # the votes behind an outcome, as recorded with it
    voted: bool  # a question the table voted on (else a decision recorded as such)
    comune: str | None
    action_code: str | None
    asked_by: ShownName | None
    created_at: datetime
    closed_at: datetime | None
    votes: tuple[VoteItem, ...]


@dataclass(frozen=True)
class DecisionsPage:
    viewer: Viewer
    open_questions: tuple[DecisionItem, ...]  # oldest first: the longest waiting on top
    register: tuple[DecisionItem, ...]  # decided, newest first
    comuni_voting: int  # Comuni with a political table seat (the denominator of the votes)


@dataclass(frozen=True)
class CompletedAction:
    code: str
    title: str
    co2_avoided_t: Decimal | None


@dataclass(frozen=True)
class PublicComune:
    figures: ComuneFigures
    completed: tuple[CompletedAction, ...]  # by code


@dataclass(frozen=True)
class PublicProgress:
    """Everything the public page shows. Deliberately no member, author, note, sector or
    responsible office: only the Union, its Comuni, the actions' codes, titles, statuses and
    CO₂ figures (the PAES itself is a public document)."""

    union_name: str
    slug: str
    timezone: str
    now: datetime
    figures: Figures
    comuni: tuple[PublicComune, ...]
    series: tuple[Co2Point, ...]


@dataclass(frozen=True)
class PublicPageState:
    union_id: int
    union_name: str
    enabled: bool
    slug: str | None  # None until first switched on
    changed: bool  # this call switched it


@dataclass(frozen=True)
class PressNote:
    """The figures of the draft press note (its text is Italian by design: bot.views)."""

    viewer: Viewer
    progress: PublicProgress
    public: bool  # the public page is on: the note may point to it
    timezone: str
