"""Summaries to the political table, decisions, announcements, shared folders."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, str_enum


class SummaryKind(enum.StrEnum):
    SCHEDULED = "scheduled"  # after a round: the baseline for "since the last summary"
    ON_DEMAND = "on_demand"  # /riepilogo: never moves the baseline


class DecisionStatus(enum.StrEnum):
    OPEN = "open"  # being voted / waiting for the coordinator
    APPROVED = "approved"
    REJECTED = "rejected"
    POSTPONED = "postponed"
    DONE = "done"  # carried out; no longer shown in summaries

    @property
    def waiting(self) -> bool:
        """Still waiting for the political table: being voted, or postponed to a later meeting.
        The coordinator can close it, and the minutes of the meeting that discusses it do."""
        return self in (DecisionStatus.OPEN, DecisionStatus.POSTPONED)


class DecisionVoteChoice(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    POSTPONE = "postpone"


class Summary(Base):
    __tablename__ = "summary"
    __table_args__ = (UniqueConstraint("union_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    kind: Mapped[SummaryKind] = mapped_column(str_enum(SummaryKind))
    # Scheduled summaries: the round's period ("2026-12"); on demand: "ondemand:<timestamp>".
    period: Mapped[str] = mapped_column(String(48))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("update_round.id"))
    late: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]


class Decision(Base):
    """A question for, or a decision of, the political table."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    source_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_update.id"), unique=True
    )
    action_id: Mapped[int | None] = mapped_column(ForeignKey("paes_action.id"))
    question: Mapped[str] = mapped_column(Text)
    outcome_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DecisionStatus] = mapped_column(str_enum(DecisionStatus))
    asked_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    closed_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class DecisionVote(Base):
    """One vote per Comune: the Sindaco's, or the Assessore's standing in."""

    __tablename__ = "decision_vote"
    __table_args__ = (UniqueConstraint("decision_id", "municipality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    choice: Mapped[DecisionVoteChoice] = mapped_column(str_enum(DecisionVoteChoice))
    updated_at: Mapped[datetime]


class DecisionMessage(Base):
    """Where a decision is shown; `dirty_since` marks an edit still owed (bot.message_refresh).
    `kind`: the card the political table votes on (`CARD`), the outcome of a question announced
    to the technical table (`OUTCOME`), or a decision recorded with /decisione announced there
    (`RECORD`): each is edited as what it is."""

    CARD = "card"
    OUTCOME = "outcome"
    RECORD = "record"

    __tablename__ = "decision_message"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), default=CARD, server_default=CARD)
    dirty_since: Mapped[datetime | None]
    rendered_hash: Mapped[str | None] = mapped_column(String(64))


class Announcement(Base):
    """A message to members in place of the mailing list; deliveries go through the outbox."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    audience: Mapped[str] = mapped_column(String(48))  # all | political | technical | comune:<id>
    text: Mapped[str] = mapped_column(Text)
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]


class DocumentLink(Base):
    __tablename__ = "document_link"
    __table_args__ = (UniqueConstraint("union_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]


class PostedMessage(Base):
    """Where a summary (or other long post) landed, part by part."""

    __tablename__ = "posted_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    summary_id: Mapped[int | None] = mapped_column(ForeignKey("summary.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
