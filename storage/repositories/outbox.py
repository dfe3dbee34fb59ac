"""The outbox: scheduled and bulk messages, each sent at most once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import OutboxMention, OutboxMessage, OutboxStatus
from storage.repositories.common import dialect_insert

_MAX_CHAR = 0x10FFFF


def _after_prefix(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with `prefix`, in code-point
    order (SQLite's BINARY collation, PostgreSQL's "C"); None when there is none."""
    stem = prefix.rstrip(chr(_MAX_CHAR))
    if not stem:
        return None
    code = ord(stem[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters: skip them
        code = 0xE000
    return stem[:-1] + chr(code)


def key_starts_with(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range the column's index answers.

    LIKE 'p%' cannot use the index on SQLite (LIKE ignores case there) nor on PostgreSQL outside
    the "C" collation; `p <= key < p'` (p' = p with its last character incremented) can, because
    `outbox_message.dedup_key` compares by code point on both (BINARY; COLLATE "C").
    """
    if not prefix:
        return true()
    upper = _after_prefix(prefix)
    lower = column >= prefix
    return lower if upper is None else and_(lower, column < upper)


@dataclass(frozen=True)
class Queued:
    """One message to queue (`enqueue_many`): see `enqueue` for the fields."""

    dedup_key: str
    chat_id: int
    method: str
    payload: dict[str, Any]
    union_id: int | None = None
    person_id: int | None = None
    file_name: str | None = None
    file_data: bytes | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None
    names: Collection[int] = ()


async def enqueue(
    session: AsyncSession,
    *,
    dedup_key: str,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    union_id: int | None = None,
    person_id: int | None = None,
    file_name: str | None = None,
    file_data: bytes | None = None,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    names: Collection[int] = (),
) -> bool:
    """Queue one message. False when a message with this key was ever queued (no duplicate).
    Not sent by `expires_at`, it is withdrawn instead (`withdraw_expired`).

    `names`: the ids of the people whose names the text carries (other than its recipient):
    once one of them leaves with /cancellami, the text kept here is wiped after it is sent
    (registration.wipe_settled_copies)."""
    message = Queued(
        dedup_key,
        chat_id,
        method,
        payload,
        union_id,
        person_id,
        file_name,
        file_data,
        not_before,
        expires_at,
        names,
    )
    return bool(await enqueue_many(session, [message], now=now))


async def enqueue_many(
    session: AsyncSession, messages: Sequence[Queued], *, now: datetime
) -> set[str]:
    """Queue several messages (`enqueue`'s rules for each) in two statements however many they
    are: one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, and one for all their
    mentions. Returns the keys queued now (a key ever queued before is skipped).

    They are sent in the order given: each INSERT takes the rows of its VALUES in order (SQLite
    and PostgreSQL; nothing runs it in parallel), so their ids, which `due` sends by, follow
    that order (tests/storage/test_core_repositories.py checks it on both databases). A summary's
    text, its vote messages and their mentions were 63 statements at 20 Comuni: this is 2
    (bench/README.md, "Session 10 — the summary's build")."""
    if not messages:
        return set()
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    stmt = (
        dialect_insert(dialect)(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(OutboxMessage.id, OutboxMessage.dedup_key)
    )
    rows = [
        {
            "dedup_key": _no_nul(m.dedup_key),
            "union_id": m.union_id,
            "person_id": m.person_id,
            "chat_id": m.chat_id,
            "method": _no_nul(m.method),
            "payload": m.payload,
            "file_name": m.file_name and _no_nul(m.file_name),
            "file_data": m.file_data,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "not_before": m.not_before,
            "expires_at": m.expires_at,
        }
        for m in messages
    ]
    queued = {key: row_id for row_id, key in (await session.execute(stmt, rows)).all()}
    mentions = [
        {"outbox_id": queued[key], "person_id": person_id}
        for m in messages
        if (key := _no_nul(m.dedup_key)) in queued
        for person_id in set(m.names)
    ]
    if mentions:
        await session.execute(insert(OutboxMention), mentions)
    return set(queued)


def _no_nul(text: str) -> str:
    """As for ORM flushes (storage/db.py): PostgreSQL text cannot hold NUL."""
    return text.replace("\x00", "")


async def named_in(session: AsyncSession, message_ids: Sequence[int]) -> set[int]:
    """The person ids that these rows' texts name (`enqueue(names=...)`)."""
    if not message_ids:
        return set()
    rows = await session.execute(
        select(OutboxMention.person_id).where(OutboxMention.outbox_id.in_(message_ids))
    )
    return set(rows.scalars())


def expired_where(now: datetime) -> list[ColumnElement[bool]]:
    """A pending row not sent by its `expires_at`: `withdraw_expired` and the tick's probe
    (storage.repositories.schedule)."""
    return [OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.expires_at <= now]


def due_where(now: datetime) -> list[ColumnElement[bool]]:
    """A pending row due by `now`: `due` and the tick's probe (storage.repositories.schedule)."""
    return [
        OutboxMessage.status == OutboxStatus.PENDING,
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
    ]


async def withdraw_expired(session: AsyncSession, *, now: datetime) -> list[str]:
    """Delete the rows not sent by their `expires_at`; their keys, oldest first."""
    rows = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.dedup_key)
            .where(*expired_where(now))
            .order_by(OutboxMessage.id)
        )
    ).all()
    if rows:
        await session.execute(
            delete(OutboxMessage).where(OutboxMessage.id.in_([row_id for row_id, _key in rows]))
        )
    return [key for _id, key in rows]


async def due(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(id, chat id) of the pending rows due by `now`, oldest first."""
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.chat_id)
        .where(*due_where(now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [(row_id, chat_id) for row_id, chat_id in rows.all()]


async def start_sending(session: AsyncSession, *, message_id: int) -> OutboxMessage | None:
    """pending → sending, atomically; None if someone else took it or it is gone."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return await session.get(OutboxMessage, message_id)


async def finish(
    session: AsyncSession,
    *,
    message_id: int,
    status: OutboxStatus,
    now: datetime,
    telegram_message_id: int | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "error": error}
    if status == OutboxStatus.SENT:
        values |= {"message_id": telegram_message_id, "sent_at": now, "file_data": None}
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
    )


async def back_to_pending(
    session: AsyncSession,
    *,
    message_id: int,
    error: str,
    not_before: datetime | None = None,
    chat_id: int | None = None,
) -> None:
    """A send that certainly did not reach Telegram: try again, not before `not_before`."""
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING,
        "error": error,
        "not_before": not_before,
    }
    if chat_id is not None:
        values["chat_id"] = chat_id
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
    )


async def mark_interrupted_as_uncertain(session: AsyncSession) -> list[OutboxMessage]:
    """At start: a row left in `sending` may or may not have been delivered."""
    rows = list(
        (
            await session.execute(
                select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING)
            )
        ).scalars()
    )
    for row in rows:
        row.status = OutboxStatus.UNCERTAIN
        row.error = "interrupted while sending: delivery unknown"
    return rows


def unreported_where(exclude: Sequence[tuple[str, Sequence[str]]]) -> list[ColumnElement[bool]]:
    """Uncertain and failed rows of a Union not yet reported, except the (key prefix, statuses)
    in `exclude`: `unreported_problems` and the tick's probe (storage.repositories.schedule)."""
    conditions: list[ColumnElement[bool]] = [
        OutboxMessage.status.in_([OutboxStatus.UNCERTAIN, OutboxStatus.FAILED]),
        OutboxMessage.reported_at.is_(None),
        OutboxMessage.union_id.is_not(None),
    ]
    for prefix, statuses in exclude:
        conditions.append(
            not_(
                and_(
                    key_starts_with(OutboxMessage.dedup_key, prefix),
                    OutboxMessage.status.in_([OutboxStatus(s) for s in statuses]),
                )
            )
        )
    return conditions


async def unreported_problems(
    session: AsyncSession,
    *,
    limit: int = 200,
    exclude: Sequence[tuple[str, Sequence[str]]] = (),
) -> list[OutboxMessage]:
    """Uncertain and failed rows of a Union not yet reported, except the (key prefix, statuses)
    in `exclude` (reported by their feature)."""
    conditions = unreported_where(exclude)
    rows = await session.execute(
        select(OutboxMessage)
        .where(*conditions)
        .order_by(OutboxMessage.union_id, OutboxMessage.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def mark_reported(session: AsyncSession, *, message_ids: list[int], now: datetime) -> None:
    if message_ids:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(message_ids)).values(reported_at=now)
        )


async def status_by_key_prefix(session: AsyncSession, prefix: str) -> list[OutboxMessage]:
    rows = await session.execute(
        select(OutboxMessage)
        .where(key_starts_with(OutboxMessage.dedup_key, prefix))
        .order_by(OutboxMessage.id)
    )
    return list(rows.scalars())


async def sent_with_prefix(
    session: AsyncSession, prefix: str, *, since: datetime
) -> list[tuple[str, int, int]]:
    """(key, chat id, message id) of the rows with this key prefix queued since `since` and
    sent, oldest first: one read for a whole family of keys (e.g. every meeting's
    announcements), where `status_by_key_prefix` would be one read per member."""
    rows = await session.execute(
        select(OutboxMessage.dedup_key, OutboxMessage.chat_id, OutboxMessage.message_id)
        .where(
            key_starts_with(OutboxMessage.dedup_key, prefix),
            OutboxMessage.created_at >= since,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.message_id.is_not(None),
        )
        .order_by(OutboxMessage.id)
    )
    return [(key, chat, message) for key, chat, message in rows.all() if message is not None]


async def sent_message(session: AsyncSession, dedup_key: str) -> tuple[int, int, str] | None:
    """(chat id, message id, text) of the message sent under `dedup_key`; None if it was not
    (yet) sent, or its fate is unknown."""
    row = (
        await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.message_id, OutboxMessage.payload).where(
                OutboxMessage.dedup_key == dedup_key,
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.message_id.is_not(None),
            )
        )
    ).first()
    if row is None or row[1] is None:
        return None
    return int(row[0]), int(row[1]), str((row[2] or {}).get("text") or "")


async def withdraw(session: AsyncSession, dedup_key: str) -> bool:
    """Delete the row under `dedup_key` if it is still pending (never sent); True if it was."""
    result = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.dedup_key == dedup_key, OutboxMessage.status == OutboxStatus.PENDING
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def drop_pending(session: AsyncSession, prefix: str) -> int:
    """Withdraw the rows with this key prefix not sent yet (their moment is over); returns
    how many. Rows being sent, sent or uncertain stay as they are."""
    result = await session.execute(
        delete(OutboxMessage).where(
            key_starts_with(OutboxMessage.dedup_key, prefix),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_settled(session: AsyncSession, *, before: datetime, limit: int = 500) -> int:
    """Delete up to `limit` of the oldest rows queued before `before` that nobody needs any more:
    sent ones, and failed or uncertain ones already reported to a coordinator (or with no Union,
    which are never reported). Pending and sending rows, and problems not yet reported, stay.

    Walks the primary key from the oldest row, so each batch is cheap however big the table is.
    """
    ids = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.created_at < before,
            or_(
                OutboxMessage.status == OutboxStatus.SENT,
                and_(
                    OutboxMessage.status.in_([OutboxStatus.FAILED, OutboxStatus.UNCERTAIN]),
                    or_(OutboxMessage.reported_at.is_not(None), OutboxMessage.union_id.is_(None)),
                ),
            ),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    found = list((await session.execute(ids)).scalars())
    if found:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(found)))
    return len(found)


def owed_where(prefixes: Sequence[str], since: datetime) -> list[ColumnElement[bool]]:
    """Rows with one of these key prefixes, queued since `since`, that were tried and did not
    certainly arrive: uncertain, failed, or back to pending after such an outcome. Also the
    conditions of the tick's probe and count (storage.repositories.schedule)."""
    return [
        or_(*(key_starts_with(OutboxMessage.dedup_key, p) for p in prefixes)),
        OutboxMessage.created_at >= since,
        or_(
            OutboxMessage.status.in_([OutboxStatus.UNCERTAIN, OutboxStatus.FAILED]),
            and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0),
        ),
    ]


# How bot.delivery starts the error of a row Telegram kept failing with 5xx answers.
SERVER_ERROR = "server error:"


def offerable_where() -> ColumnElement[bool]:
    """An owed row worth another try by the tick: its fate is unknown, or Telegram kept
    answering 5xx. A refusal (blocked, never started, a bad request) would only be refused
    again. The one rule for `bot.delivery.reoffer_reports` (through `owed`) and the tick's probe
    (storage.repositories.schedule.reports_to_offer); the error's start compared exactly, as a
    case-sensitive prefix on both databases (SQLite's LIKE is not)."""
    return or_(
        OutboxMessage.status == OutboxStatus.UNCERTAIN,
        and_(
            OutboxMessage.status == OutboxStatus.FAILED,
            func.substr(OutboxMessage.error, 1, len(SERVER_ERROR)) == SERVER_ERROR,
        ),
    )


async def owed(
    session: AsyncSession, *, prefixes: Sequence[str], since: datetime, limit: int = 500
) -> list[tuple[OutboxMessage, bool]]:
    """The rows of these prefixes still owed to their chat (see `owed_where`), oldest first,
    each with whether it is worth another try (`offerable_where`)."""
    offerable = case((offerable_where(), True), else_=False)
    rows = await session.execute(
        select(OutboxMessage, offerable)
        .where(*owed_where(prefixes, since))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [(row, bool(again)) for row, again in rows.all()]


async def count_owed(session: AsyncSession, *, prefixes: Sequence[str], since: datetime) -> int:
    result = await session.execute(
        select(func.count()).select_from(OutboxMessage).where(*owed_where(prefixes, since))
    )
    return int(result.scalar_one())


async def offer_again_now(
    session: AsyncSession, *, prefixes: Sequence[str], chat_id: int, since: datetime
) -> int:
    """Every owed row of these prefixes for one chat goes back to pending, due at once (its
    person is talking to us right now). Returns how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(*owed_where(prefixes, since), OutboxMessage.chat_id == chat_id)
        .values(status=OutboxStatus.PENDING, not_before=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
