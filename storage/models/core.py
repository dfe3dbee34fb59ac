"""People, Unions, Comuni, memberships, invites, linked groups, and the rhythm's bookkeeping."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, str_enum


class Role(enum.StrEnum):
    SINDACO = "sindaco"
    ASSESSORE = "assessore"
    TECNICO = "tecnico"
    STAFF = "staff"  # Union staff with no Comune


class Form(enum.StrEnum):
    """How a person wants to be named: «Sindaca», «coordinatrice» or «Sindaco», «coordinatore».
    None on the person row: not chosen (the masculine forms, as for a group of people)."""

    FEMININE = "f"
    MASCULINE = "m"


class MemberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    REMOVED = "removed"
    LEFT = "left"


class TableKind(enum.StrEnum):
    POLITICAL = "political"
    TECHNICAL = "technical"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNCERTAIN = "uncertain"
    FAILED = "failed"


class Person(Base):
    """Someone known by Telegram id. Erased on /cancellami: identity fields cleared (the name
    is NULL, not a word standing for it: readers show «ex membro» in their language), row kept
    so that contributions still point at it."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))  # chosen with /lingua
    # Chosen once, at joining (the role's buttons) or with /profilo.
    form: Mapped[Form | None] = mapped_column(str_enum(Form))
    reachable: Mapped[bool] = mapped_column(default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    unreachable_since: Mapped[datetime | None]
    # Indexed for the follow-up of erasures (registration.wipe_settled_copies, every tick).
    erased_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]


class MenuOwed(Base):
    """A private chat whose own command menu must be set again (BotCommandScopeChat): its
    person joined, changed role or coordinator rights, or left. The tick (and the change's
    own after-effect) sets the menu from what the database says then and deletes the row;
    `owed_since` tells a change made meanwhile from the one just served. Keyed by the chat,
    not the person: after /cancellami the menu must still go back to a non-member's."""

    __tablename__ = "menu_owed"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owed_since: Mapped[datetime]


class Union(Base):
    """A Unione dei Comuni running its PAES through a Team energia."""

    __tablename__ = "municipal_union"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Rome")
    paes_approved_on: Mapped[date | None]
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime]


class Municipality(Base):
    """A Comune of a Union. `name_key` is the name folded for comparisons."""

    __tablename__ = "municipality"
    __table_args__ = (UniqueConstraint("union_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(80))
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Member(Base):
    """A person's membership of one Union: one row per (Union, person)."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("union_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    status: Mapped[MemberStatus] = mapped_column(str_enum(MemberStatus))
    is_coordinator: Mapped[bool] = mapped_column(default=False)
    # No foreign key: invite and member refer to each other.
    invite_id: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))


class MemberMunicipality(Base):
    """The Comuni a member stands for (a technician may serve more than one)."""

    __tablename__ = "member_municipality"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id"), primary_key=True, index=True
    )


class Invite(Base):
    """A deep-link invitation. Only the SHA-256 of the token is stored."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"))
    role: Mapped[Role | None] = mapped_column(str_enum(Role))
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(default=0)


class LinkedChat(Base):
    """A Telegram group linked to a Union as its political or technical table."""

    __tablename__ = "linked_chat"
    __table_args__ = (UniqueConstraint("union_id", "table_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    table_kind: Mapped[TableKind] = mapped_column(str_enum(TableKind))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(256))
    hashtag_capture: Mapped[bool] = mapped_column(default=False)
    linked_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    linked_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """Telegram update ids already handled, written in the same transaction as their effect."""

    __tablename__ = "processed_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(index=True)


class JobClaim(Base):
    """ "This job, for this Union, for this period, has been done": inserted once, never twice."""

    __tablename__ = "job_claim"

    kind: Mapped[str] = mapped_column(String(48), primary_key=True)
    union_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(200))


class DueWork(Base):
    """When a kind of the tick's work is next due (bot.services.schedule): the earliest moment
    it may have something to do by the clock (`due_at`, None: none known), and whether a write
    since its last run may have brought something forward (`awake`, raised by the storage's wake
    listener in the writer's own transaction; `woken` counts the wakes, so a wake that lands
    while the tick runs the work is never lost). A kind with no row is due."""

    __tablename__ = "due_work"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime | None]
    awake: Mapped[bool] = mapped_column(default=True)
    woken: Mapped[int] = mapped_column(Integer, default=0)


KEY_TYPE = String(160).with_variant(String(160, collation="C"), "postgresql")


class OutboxMessage(Base):
    """A message the bot must send exactly once (scheduled and bulk sends).

    pending → sending → sent(message_id) | failed(reason); a row found in `sending` after a crash
    may or may not have reached Telegram: it becomes `uncertain` and is reported, never resent.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Compared by code point on both databases (PostgreSQL "C"), so that a key-prefix lookup is
    # a range the unique index answers (repositories/outbox.py: key_starts_with).
    dedup_key: Mapped[str] = mapped_column(KEY_TYPE, unique=True)
    union_id: Mapped[int | None] = mapped_column(ForeignKey("municipal_union.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))  # sendMessage, sendDocument, sendPhoto
    payload: Mapped[dict[str, Any]]
    file_name: Mapped[str | None] = mapped_column(String(128))
    file_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    # Past this moment a row not yet sent is withdrawn, never sent late (a reminder for a
    # meeting that has started, for a poll or round whose deadline has passed).
    expires_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]


class OutboxMention(Base):
    """A person whose name an outbox message's text carries (a summary's note author, the
    applicant in a request to the coordinators, a recipient in a delivery report).

    /cancellami wipes the text of such a message once it is settled: the bot keeps no copy of
    the name in what it sent. Deleted with its message (ON DELETE CASCADE)."""

    __tablename__ = "outbox_mention"

    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)


class Conversation(Base):
    """A multi-step private dialogue that survives restarts: one per Telegram user and chat."""

    __tablename__ = "conversation"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(48))
    step: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
