"""Sending through the outbox: at most once, never blindly resent, nothing lost silently.

A row goes pending → sending (committed) → Telegram call → sent | failed | uncertain.
Only failures that certainly did not reach Telegram (connection refused, pool or connect
timeouts, 429) go back to pending. A read timeout or a broken answer may have been delivered:
the row becomes `uncertain` and the coordinator is told.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
from telegram import Bot, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.context import Services
from storage.models import OutboxMessage, OutboxStatus, Person
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo

logger = logging.getLogger(__name__)

_locks: dict[int, asyncio.Lock] = {}


def _lock(services: Services) -> asyncio.Lock:
    return _locks.setdefault(id(services), asyncio.Lock())


def certainly_not_delivered(exc: BaseException) -> bool:
    """True when the request never reached Telegram, so sending again cannot double-post."""
    cause = exc.__cause__
    safe = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    if isinstance(cause, safe):
        return True
    return isinstance(exc, TimedOut) and "Pool timeout" in str(exc)


def retry_after_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _call(bot: Bot, row: OutboxMessage) -> Message:
    payload = dict(row.payload)
    markup = payload.pop("reply_markup", None)
    kwargs: dict[str, Any] = dict(payload)
    if markup:
        kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(markup, bot)
    if row.method == "sendMessage":
        return await bot.send_message(chat_id=row.chat_id, **kwargs)
    if row.method in ("sendDocument", "sendPhoto"):
        data = row.file_data or b""
        upload = InputFile(data, filename=row.file_name or "file")
        if row.method == "sendDocument":
            return await bot.send_document(chat_id=row.chat_id, document=upload, **kwargs)
        return await bot.send_photo(chat_id=row.chat_id, photo=upload, **kwargs)
    raise ValueError(f"unsupported outbox method {row.method}")


async def _finish(
    services: Services,
    row: OutboxMessage,
    status: OutboxStatus,
    *,
    message: Message | None = None,
    error: str | None = None,
) -> None:
    now = services.clock.now()
    async with services.db.transaction() as session:
        await outbox_repo.finish(
            session,
            message_id=row.id,
            status=status,
            now=now,
            telegram_message_id=message.message_id if message else None,
            error=error,
        )
        if status == OutboxStatus.SENT:
            row.message_id = message.message_id if message else None
            for prefix, listener in services.sent_listeners:
                if row.dedup_key.startswith(prefix):
                    await listener(session, row)
        elif (
            status == OutboxStatus.FAILED
            and row.person_id
            and (error or "").startswith("Forbidden")
        ):
            person = await session.get(Person, row.person_id)
            if person is not None and person.telegram_user_id is not None:
                await core_repo.mark_reachable(
                    session,
                    telegram_user_id=person.telegram_user_id,
                    reachable=False,
                    reason=(error or "")[:200],
                    now=now,
                )


async def _send_one(services: Services, bot: Bot, row_id: int) -> None:
    async with services.db.transaction() as session:
        row = await outbox_repo.start_sending(session, message_id=row_id)
    if row is None:
        return
    try:
        message = await _call(bot, row)
    except ChatMigrated as exc:
        new_id = exc.new_chat_id
        logger.info("Chat %s migrated to %s; following it", row.chat_id, new_id)
        async with services.db.transaction() as session:
            await core_repo.migrate_chat(session, old_chat_id=row.chat_id, new_chat_id=new_id)
            await outbox_repo.back_to_pending(session, message_id=row.id, error="chat migrated")
            stored = await session.get(OutboxMessage, row.id)
            if stored is not None:
                stored.chat_id = new_id
        return
    except RetryAfter as exc:
        wait = retry_after_seconds(exc)
        logger.warning("Outbox %s: flood control, retry after %.0f s", row.dedup_key, wait)
        async with services.db.transaction() as session:
            await outbox_repo.back_to_pending(session, message_id=row.id, error="retry after")
            stored = await session.get(OutboxMessage, row.id)
            if stored is not None:
                stored.not_before = services.clock.now() + timedelta(seconds=wait)
        return
    except Forbidden as exc:
        logger.info("Outbox %s: chat %s unreachable (%s)", row.dedup_key, row.chat_id, exc)
        await _finish(services, row, OutboxStatus.FAILED, error=f"Forbidden: {exc.message}")
        return
    except BadRequest as exc:
        logger.warning("Outbox %s rejected by Telegram: %s", row.dedup_key, exc.message)
        await _finish(services, row, OutboxStatus.FAILED, error=f"BadRequest: {exc.message}")
        return
    except (TimedOut, NetworkError) as exc:
        if certainly_not_delivered(exc):
            async with services.db.transaction() as session:
                await outbox_repo.back_to_pending(session, message_id=row.id, error=str(exc))
            return
        logger.warning("Outbox %s: delivery uncertain (%s)", row.dedup_key, exc)
        await _finish(services, row, OutboxStatus.UNCERTAIN, error=f"uncertain: {exc}")
        return
    await _finish(services, row, OutboxStatus.SENT, message=message)


async def flush(services: Services, bot: Bot, *, now: datetime | None = None) -> int:
    """Send every due outbox message, oldest first. Returns how many were attempted."""
    async with _lock(services):
        async with services.db.transaction() as session:
            ids = await outbox_repo.due_ids(session, now=now or services.clock.now())
        for row_id in ids:
            await _send_one(services, bot, row_id)
        return len(ids)


async def recover_after_restart(services: Services) -> int:
    """Rows caught in `sending` by a crash become `uncertain` (reported, not resent)."""
    async with services.db.transaction() as session:
        rows = await outbox_repo.mark_interrupted_as_uncertain(session)
    for row in rows:
        logger.warning("Outbox %s was interrupted while sending: marked uncertain", row.dedup_key)
    return len(rows)
