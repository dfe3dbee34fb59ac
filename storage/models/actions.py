"""PAES actions, their progress updates (the history) and the monthly update rounds."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, str_enum


class ActionStatus(enum.StrEnum):
    """Covenant of Mayors monitoring set."""

    COMPLETED = "completed"  # Completata
    ONGOING = "ongoing"  # In corso
    POSTPONED = "postponed"  # Rinviata
    NOT_STARTED = "not_started"  # Non avviata


class UpdateSource(enum.StrEnum):
    PRIVATE = "private"  # the guided private conversation
    GROUP_REPLY = "group_reply"  # a reply to the round announcement in the technical group
    HASHTAG = "hashtag"  # #aggiornamento in the technical group
    COORDINATOR = "coordinator"  # edited by the coordinator


class RoundStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class UpdateSettings(Base):
    __tablename__ = "update_settings"

    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    fallback_day: Mapped[int] = mapped_column(default=20)
    fallback_hour: Mapped[int] = mapped_column(default=10)
    fallback_deadline_days: Mapped[int] = mapped_column(default=5)
    deadline_days_before_meeting: Mapped[int] = mapped_column(default=2)


class Action(Base):
    __tablename__ = "paes_action"
    __table_args__ = (UniqueConstraint("union_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str | None] = mapped_column(String(120))
    # None: an intercommunal action of the whole Union.
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"), index=True)
    responsible: Mapped[str | None] = mapped_column(String(200))
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]
    energy_saved_mwh: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    renewable_mwh: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    co2_avoided_t: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    cost_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus), default=ActionStatus.NOT_STARTED
    )
    progress: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UpdateRound(Base):
    __tablename__ = "update_round"
    __table_args__ = (UniqueConstraint("union_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    opened_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus))
    closed_at: Mapped[datetime | None]
    announcement_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    announcement_message_id: Mapped[int | None]


class ProgressUpdate(Base):
    """One report on one action: the history is the list of these, never overwritten."""

    __tablename__ = "progress_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("paes_action.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("update_round.id"), index=True)
    source: Mapped[UpdateSource] = mapped_column(str_enum(UpdateSource))
    previous_status: Mapped[ActionStatus | None] = mapped_column(str_enum(ActionStatus))
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus))
    previous_progress: Mapped[int | None]
    progress: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
    needs_decision: Mapped[bool] = mapped_column(default=False)
    decision_question: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(index=True)


class UpdateAttachment(Base):
    __tablename__ = "update_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("progress_update.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # photo | document
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(String(256))
    mime_type: Mapped[str | None] = mapped_column(String(128))


class RoundResponse(Base):
    """A technician's "nothing new this month" for a round (per member)."""

    __tablename__ = "round_response"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("update_round.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    no_news: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class UpdateNote(Base):
    """A free note on a Comune's progress: a reply to the round announcement, or #aggiornamento.

    Not tied to one action (the technician wrote in the group, not through the guided flow);
    the summary shows it under the Comune.
    """

    __tablename__ = "update_note"
    # An action's card reads a Comune's (or the Union's own) latest notes: equality on the first
    # two columns, newest first by the last two, so the index hands over the few rows in order
    # (summaries.group_notes with `latest`). Its prefix serves every read by union_id alone.
    __table_args__ = (
        Index(
            "ix_update_note_union_id_municipality_id_created_at_id",
            "union_id",
            "municipality_id",
            "created_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("update_round.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"))
    source: Mapped[UpdateSource] = mapped_column(str_enum(UpdateSource))
    text: Mapped[str] = mapped_column(Text)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
