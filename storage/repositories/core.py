"""People, Unions, memberships, linked chats, update ids, claims and conversations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from storage.db import connection_of, run_hot
from storage.models import (
    AttendanceMessage,
    Conversation,
    DecisionMessage,
    JobClaim,
    LinkedChat,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    OutboxMessage,
    Person,
    PollMessage,
    PostedMessage,
    ProcessedUpdate,
    TableKind,
    Union,
    UpdateRound,
)
from storage.repositories.common import dialect_insert, insert_ignore

# --- updates and claims -------------------------------------------------------------------


_UPDATE_COLUMNS = ("update_id", "handled_at")


@cache
def _mark_update(dialect: str) -> Any:
    """Built once per dialect: this runs in every writing update's transaction."""
    return (
        dialect_insert(dialect)(ProcessedUpdate)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )


async def mark_update_processed(session: AsyncSession, *, update_id: int, now: datetime) -> bool:
    """False when this update id was already handled (a redelivery).

    The transaction's first statement, with bound parameters like every other (docs/DESIGN.md,
    "Redelivery and update ids").
    """
    conn = await connection_of(session)
    inserted = await run_hot(
        conn,
        _mark_update(conn.dialect.name),
        {"update_id": update_id, "handled_at": now},
        column_keys=_UPDATE_COLUMNS,
    )
    return bool(inserted)


async def purge_processed_updates(session: AsyncSession, *, before: datetime) -> None:
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < before))


async def claim(
    session: AsyncSession,
    *,
    kind: str,
    union_id: int,
    period: str,
    now: datetime,
    note: str | None = None,
) -> bool:
    """Claim (job, Union, period) once: True for the first caller only, ever.

    Read first: work that is re-checked on every tick finds its claim there and writes nothing.
    """
    if await session.get(JobClaim, (kind, union_id, period)) is not None:
        return False
    return await insert_ignore(
        session,
        JobClaim,
        {"kind": kind, "union_id": union_id, "period": period, "claimed_at": now, "note": note},
        ["kind", "union_id", "period"],
    )


async def claimed_keys(
    session: AsyncSession, *, kinds: Iterable[str], periods: Iterable[str]
) -> set[tuple[str, int, str]]:
    """(kind, Union id, period) of the claims already made among these, in one query.

    Due work reads this first and claims only what is missing: a claim is an INSERT, and most
    ticks find everything already claimed.
    """
    kinds, periods = sorted(set(kinds)), sorted(set(periods))
    if not kinds or not periods:
        return set()
    rows = await session.execute(
        select(JobClaim.kind, JobClaim.union_id, JobClaim.period).where(
            JobClaim.kind.in_(kinds), JobClaim.period.in_(periods)
        )
    )
    return {(kind, union_id, period) for kind, union_id, period in rows.all()}


async def is_claimed(session: AsyncSession, *, kind: str, union_id: int, period: str) -> bool:
    row = await session.get(JobClaim, (kind, union_id, period))
    return row is not None


# --- people -------------------------------------------------------------------------------


async def person_by_telegram_id(session: AsyncSession, telegram_user_id: int) -> Person | None:
    return (
        await session.execute(select(Person).where(Person.telegram_user_id == telegram_user_id))
    ).scalar_one_or_none()


async def upsert_person(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    display_name: str,
    username: str | None,
    telegram_language: str | None,
    now: datetime,
) -> Person:
    """The person for this Telegram user, created on first contact.

    An existing person keeps the name they chose; username and client language follow Telegram.
    Writing to us proves the bot can reach them again.
    """
    person = await person_by_telegram_id(session, telegram_user_id)
    if person is None:
        person = Person(
            telegram_user_id=telegram_user_id,
            display_name=display_name[:128],
            username=username,
            telegram_language=telegram_language,
            reachable=True,
            created_at=now,
        )
        session.add(person)
        await session.flush()
        return person
    person.username = username
    person.telegram_language = telegram_language
    return person


async def mark_reachable(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    reachable: bool,
    reason: str | None,
    now: datetime,
) -> None:
    person = await person_by_telegram_id(session, telegram_user_id)
    if person is None:
        return
    if reachable:
        person.reachable, person.unreachable_reason, person.unreachable_since = True, None, None
    elif person.reachable or person.unreachable_reason != reason:
        person.reachable, person.unreachable_reason = False, reason
        person.unreachable_since = person.unreachable_since or now


# --- unions and members -------------------------------------------------------------------


async def memberships_of(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    statuses: Sequence[MemberStatus] = (MemberStatus.ACTIVE,),
) -> list[tuple[Member, Union]]:
    rows = await session.execute(
        select(Member, Union)
        .join(Person, Person.id == Member.person_id)
        .join(Union, Union.id == Member.union_id)
        .where(Person.telegram_user_id == telegram_user_id, Member.status.in_(statuses))
        .order_by(Union.name, Union.id)
    )
    return [(m, u) for m, u in rows.all()]


async def member_of(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> Member | None:
    """The active membership of this Telegram user in this Union, if any."""
    return (
        await session.execute(
            select(Member)
            .join(Person, Person.id == Member.person_id)
            .where(
                Member.union_id == union_id,
                Person.telegram_user_id == telegram_user_id,
                Member.status == MemberStatus.ACTIVE,
            )
        )
    ).scalar_one_or_none()


async def municipality_ids_of(session: AsyncSession, member_id: int) -> list[int]:
    rows = await session.execute(
        select(MemberMunicipality.municipality_id).where(MemberMunicipality.member_id == member_id)
    )
    return list(rows.scalars())


async def comuni_by_member(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, tuple[int, ...]]:
    """member id → the ids of its Comuni (sorted), in one query; members with none are absent."""
    links = await session.execute(
        select(MemberMunicipality.member_id, MemberMunicipality.municipality_id).where(
            MemberMunicipality.member_id.in_(list(member_ids) or [-1])
        )
    )
    by_member: dict[int, list[int]] = {}
    for member_id, municipality_id in links.all():
        by_member.setdefault(member_id, []).append(municipality_id)
    return {m: tuple(sorted(ids)) for m, ids in by_member.items()}


async def municipalities(
    session: AsyncSession, union_id: int, *, include_archived: bool = False
) -> list[Municipality]:
    stmt = select(Municipality).where(Municipality.union_id == union_id)
    if not include_archived:
        stmt = stmt.where(Municipality.archived_at.is_(None))
    rows = await session.execute(stmt.order_by(Municipality.name_key))
    return list(rows.scalars())


async def municipality_names(
    session: AsyncSession, union_id: int, *, include_archived: bool = False
) -> dict[int, str]:
    """Comune id → name; archived Comuni only when asked (they no longer sit at the table, but
    old actions and answers still name them)."""
    stmt = select(Municipality.id, Municipality.name).where(Municipality.union_id == union_id)
    if not include_archived:
        stmt = stmt.where(Municipality.archived_at.is_(None))
    return dict((await session.execute(stmt)).all())


async def coordinators(session: AsyncSession, union_id: int) -> list[tuple[Member, Person]]:
    rows = await session.execute(
        select(Member, Person)
        .join(Person, Person.id == Member.person_id)
        .where(
            Member.union_id == union_id,
            Member.is_coordinator.is_(True),
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(Member.id)
    )
    return [(m, p) for m, p in rows.all()]


# --- linked chats -------------------------------------------------------------------------


async def links_of_chat(session: AsyncSession, chat_id: int) -> list[LinkedChat]:
    rows = await session.execute(select(LinkedChat).where(LinkedChat.chat_id == chat_id))
    return list(rows.scalars())


async def linked_chat(
    session: AsyncSession, *, union_id: int, table: TableKind
) -> LinkedChat | None:
    return (
        await session.execute(
            select(LinkedChat).where(
                LinkedChat.union_id == union_id, LinkedChat.table_kind == table
            )
        )
    ).scalar_one_or_none()


async def migrate_chat(session: AsyncSession, *, old_chat_id: int, new_chat_id: int) -> int:
    """A group became a supergroup: follow the new id everywhere. Returns rows changed."""
    changed = 0
    for model, column in (
        (LinkedChat, LinkedChat.chat_id),
        (PollMessage, PollMessage.chat_id),
        (DecisionMessage, DecisionMessage.chat_id),
        (AttendanceMessage, AttendanceMessage.chat_id),
        (PostedMessage, PostedMessage.chat_id),
        (UpdateRound, UpdateRound.announcement_chat_id),
    ):
        result = await session.execute(
            update(model).where(column == old_chat_id).values({column.key: new_chat_id})
        )
        changed += getattr(result, "rowcount", 0) or 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.chat_id == old_chat_id, OutboxMessage.status == "pending")
        .values(chat_id=new_chat_id)
    )
    changed += getattr(result, "rowcount", 0) or 0
    return changed


# --- conversations ------------------------------------------------------------------------


async def get_conversation(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, now: datetime
) -> Conversation | None:
    conv = await session.get(Conversation, (telegram_user_id, chat_id))
    if conv is not None and conv.expires_at <= now:
        await session.delete(conv)
        return None
    return conv


_CONVERSATION_COLUMNS = (
    "telegram_user_id",
    "chat_id",
    "flow",
    "step",
    "data",
    "updated_at",
    "expires_at",
)


@cache
def _upsert_conversation(dialect: str) -> Any:
    """set_conversation's statement `at_once`, built once per dialect."""
    stmt = dialect_insert(dialect)(Conversation)
    return stmt.on_conflict_do_update(
        index_elements=["telegram_user_id", "chat_id"],
        set_={c: stmt.excluded[c] for c in ("flow", "step", "data", "updated_at", "expires_at")},
    )


async def set_conversation(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
    ttl: timedelta = timedelta(days=7),
    at_once: bool = False,
) -> None:
    """The dialogue's row, written by the commit's flush (or the autoflush of the next query):
    a flush of its own was one more greenlet trip on every step of every dialogue.

    `at_once`: one statement now (INSERT … ON CONFLICT DO UPDATE) on the transaction's
    connection, for a hot path that holds no ORM object of the row (the round's steps): a
    `Conversation` loaded in this session is not refreshed, and one changed or deleted there
    would be flushed over it."""
    if at_once:
        conn = await connection_of(session)
        row = {"telegram_user_id": telegram_user_id, "chat_id": chat_id, "flow": flow}
        row |= {"step": step, "data": data, "updated_at": now, "expires_at": now + ttl}
        await run_hot(
            conn, _upsert_conversation(conn.dialect.name), row, column_keys=_CONVERSATION_COLUMNS
        )
        return
    conv = await session.get(Conversation, (telegram_user_id, chat_id))
    if conv is None:
        conv = Conversation(telegram_user_id=telegram_user_id, chat_id=chat_id)
        session.add(conv)
    conv.flow, conv.step, conv.data = flow, step, dict(data)
    # A JSON value changed in place compares equal to itself: say it changed.
    flag_modified(conv, "data")
    conv.updated_at, conv.expires_at = now, now + ttl


async def clear_conversation(session: AsyncSession, *, telegram_user_id: int, chat_id: int) -> None:
    await session.execute(
        delete(Conversation).where(
            Conversation.telegram_user_id == telegram_user_id, Conversation.chat_id == chat_id
        )
    )
