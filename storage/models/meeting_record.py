"""What a meeting leaves behind: its agenda, who came, the minutes and the tasks agreed.

A fixed meeting (storage.models.meetings.Meeting) gets an agenda (ordine del giorno) drafted from
what is pending for its table and completed by proposals; attendance (presenze) of members and of
guests who are not members; minutes (verbale) drafted after it, corrected and approved by the
coordinator, then frozen and filed; and tasks (compiti) for members, followed up by the monthly
round and the summary. A workshop of the technical table is a meeting of kind WORKSHOP with a theme
and materials. The rules are in docs/DESIGN.md, "The meeting itself".
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, str_enum


class MeetingKind(enum.StrEnum):
    MEETING = "meeting"
    WORKSHOP = "workshop"  # a thematic workshop of the technical table


class AgendaSource(enum.StrEnum):
    QUESTION = "question"  # a question waiting for the political table's decision
    DECISION = "decision"  # a decision taken, to pass on / carry out
    TASK = "task"  # a task of an earlier meeting still open
    DEADLINE = "deadline"  # a deadline of the Covenant of Mayors' calendar
    PROPOSAL = "proposal"  # proposed by a member
    COORDINATOR = "coordinator"  # written by the coordinator


class AgendaStatus(enum.StrEnum):
    PROPOSED = "proposed"  # a member's proposal, waiting for the coordinator
    ACCEPTED = "accepted"  # on the agenda
    DECLINED = "declined"


class ItemOutcome(enum.StrEnum):
    DECIDED = "decided"  # a decision recorded (decision_id)
    # A question of the register decided at the meeting: it is closed so at approval.
    APPROVED = "approved"
    REJECTED = "rejected"
    POSTPONED = "postponed"
    INFORMATION = "information"  # for information only

    @property
    def decides(self) -> bool:
        """The meeting decided the item: the minutes' «Decisioni» table lists it."""
        return self in (ItemOutcome.DECIDED, ItemOutcome.APPROVED, ItemOutcome.REJECTED)


class AttendanceMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class MinutesStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class MeetingRecord(Base):
    """One row per meeting that has any of this: its kind, theme and the agenda's state."""

    __tablename__ = "meeting_record"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind), default=MeetingKind.MEETING)
    theme: Mapped[str | None] = mapped_column(String(200))  # a workshop's theme
    agenda_confirmed_at: Mapped[datetime | None]
    # The agenda's rendered hash when the convocation went out: a different hash at the
    # day-before reminder means it changed, and it goes out again.
    agenda_sent_hash: Mapped[str | None] = mapped_column(String(64))
    convocation_sent_at: Mapped[datetime | None]


class AgendaItem(Base):
    """One item of a meeting's agenda, in `position` order, with its outcome once discussed."""

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    position: Mapped[int]
    source: Mapped[AgendaSource] = mapped_column(str_enum(AgendaSource))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[AgendaStatus] = mapped_column(str_enum(AgendaStatus))
    # What the item stands for, when drafted from pending work.
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    # No foreign key: an item may stand for a task, and a task may come from an item.
    task_id: Mapped[int | None] = mapped_column(Integer)
    proposed_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    outcome: Mapped[ItemOutcome | None] = mapped_column(str_enum(ItemOutcome))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Attendance(Base):
    """A member present at a meeting: checked in by themselves or recorded by the coordinator."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    mode: Mapped[AttendanceMode] = mapped_column(str_enum(AttendanceMode))
    recorded_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    recorded_at: Mapped[datetime]


class MeetingGuest(Base):
    """Someone present who is not a member (a workshop's expert, another body's officer)."""

    __tablename__ = "meeting_guest"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str | None] = mapped_column(String(200))
    mode: Mapped[AttendanceMode] = mapped_column(str_enum(AttendanceMode))
    added_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]


class MeetingMaterial(Base):
    """A document shared for a meeting (a workshop's materials), kept by its Telegram file id."""

    __tablename__ = "meeting_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    file_id: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    added_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]


class Minutes(Base):
    """A meeting's minutes: a draft the coordinator corrects, then approved, frozen and filed."""

    __tablename__ = "minutes"
    __table_args__ = (UniqueConstraint("union_id", "year", "number"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    status: Mapped[MinutesStatus] = mapped_column(str_enum(MinutesStatus))
    notes: Mapped[str | None] = mapped_column(Text)  # the coordinator's free text
    # Set at approval: the progressive number in the Union's year, and the content as approved
    # (JSON), from which the documents are written again identically whenever asked for.
    year: Mapped[int | None]
    number: Mapped[int | None]
    frozen: Mapped[str | None] = mapped_column(Text)
    approved_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class MeetingTask(Base):
    """A task agreed at a meeting: who, what, by when, possibly on a PAES action."""

    __tablename__ = "meeting_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"))
    assignee_member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None]
    action_id: Mapped[int | None] = mapped_column(ForeignKey("paes_action.id"))
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus))
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    told_at: Mapped[datetime | None]  # the assignee was told in private
    closed_at: Mapped[datetime | None]
