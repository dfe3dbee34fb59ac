"""Meeting polls (in place of Doodle), their slots and votes, and fixed meetings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, str_enum


class PollTable(enum.StrEnum):
    POLITICAL = "political"
    TECHNICAL = "technical"
    BOTH = "both"


class PollStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"  # a date was chosen
    NO_DATE = "no_date"  # closed, but no slot covered any Comune
    CANCELLED = "cancelled"


class Answer(enum.StrEnum):
    YES = "yes"
    MAYBE = "maybe"  # "Se necessario"
    NO = "no"


class MeetingSettings(Base):
    """Per-Union meeting rhythm; defaults as docs/DESIGN.md says ("Meeting polls: the best date")."""

    __tablename__ = "meeting_settings"

    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), primary_key=True)
    auto_poll_enabled: Mapped[bool] = mapped_column(default=True)
    auto_poll_day: Mapped[int] = mapped_column(default=1)
    auto_poll_hour: Mapped[int] = mapped_column(default=9)
    auto_poll_table: Mapped[PollTable] = mapped_column(str_enum(PollTable), default=PollTable.BOTH)
    weekdays: Mapped[str] = mapped_column(String(16), default="1,3")  # Mon=0 … Sun=6
    slot_hour: Mapped[int] = mapped_column(default=17)
    slot_minute: Mapped[int] = mapped_column(default=0)
    duration_minutes: Mapped[int] = mapped_column(default=120)
    deadline_days: Mapped[int] = mapped_column(default=5)
    remind_day_before: Mapped[bool] = mapped_column(default=True)
    remind_hour_before: Mapped[bool] = mapped_column(default=True)


class MeetingPoll(Base):
    __tablename__ = "meeting_poll"
    __table_args__ = (UniqueConstraint("union_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    table: Mapped[PollTable] = mapped_column(str_enum(PollTable))
    title: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(400))
    status: Mapped[PollStatus] = mapped_column(str_enum(PollStatus))
    # Set only for the automatic monthly poll ("2026-12"): one per Union per month.
    period: Mapped[str | None] = mapped_column(String(16))
    deadline_at: Mapped[datetime]
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # No foreign key: poll and slot refer to each other.
    chosen_slot_id: Mapped[int | None] = mapped_column(Integer)


class PollMessage(Base):
    """Where a poll is shown; `dirty_since` marks an edit still owed (edits coalesce).

    `member_id` None: the poll in a group (the grid of every answer). Set: one member's private
    copy (their own answers marked on the buttons), in their private chat; it owes an edit only
    when that member votes or the poll itself changes.
    """

    __tablename__ = "poll_message"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("meeting_poll.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    dirty_since: Mapped[datetime | None]
    rendered_hash: Mapped[str | None] = mapped_column(String(64))


class Slot(Base):
    __tablename__ = "meeting_slot"
    __table_args__ = (UniqueConstraint("poll_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("meeting_poll.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class Vote(Base):
    __tablename__ = "meeting_vote"
    __table_args__ = (UniqueConstraint("slot_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("meeting_slot.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    answer: Mapped[Answer] = mapped_column(str_enum(Answer))
    updated_at: Mapped[datetime]


class Meeting(Base):
    """A fixed meeting (from a closed poll, or entered by hand)."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_poll.id"), unique=True)
    table: Mapped[PollTable] = mapped_column(str_enum(PollTable))
    title: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(400))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    ics_uid: Mapped[str] = mapped_column(String(120), unique=True)
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
