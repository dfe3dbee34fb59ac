"""Dirty message → edit later: the one way live tallies (meeting polls, decisions) follow the
database.

A change (a vote, a new date, a closed poll) marks the messages showing it dirty in its own
transaction (`dirty_since`). After the commit the handler calls `request(services, chat_ids)`;
one named job per chat (`message-edit:<chat id>`) then edits, re-rendering from the database at
edit time, so a burst of presses costs one edit carrying the latest state. Edits are paced per
chat (bot.services.edit_pacing: a short coalescing window, then at most one edit every 4 s in a
group and every second in a private chat) so a long voting burst stays inside Telegram's 20 a
minute per group and never delays the group's other messages in the rate limiter.

The flag is cleared only after Telegram accepted the edit ("message is not modified" counts),
in a transaction that locks the row and re-renders: if the state moved on meanwhile, the
message stays dirty and the chat's next edit follows. A crash between edit and clear costs at
most one repeated edit, never a lost one; the scheduler tick re-drives whatever is still owed
(after a restart, a refused edit, a 429 that outlasted the rate limiter's retries).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardMarkup
from telegram.ext import Application, JobQueue

from bot.context import BotContext, Services
from bot.markup import markup
from bot.scope import tr_for
from bot.services import schedule
from bot.services.edit_pacing import EditPacer
from bot.telegram_edit import EditStatus, edit_message
from bot.views.keyboard import Keyboard
from storage.repositories import dirty_messages as repo
from storage.repositories.dirty_messages import TrackedModel

logger = logging.getLogger(__name__)

JOB_PREFIX = "message-edit:"
DUE_WORK_NAME = schedule.OWED_EDITS
# A job scheduled longer ago than this and not run is taken as lost: the tick takes over.
LOST_JOB_SECONDS = 120.0

Rendered = tuple[str, InlineKeyboardMarkup | None]
# (session, services, message row) → what the message should show now, None if its subject is gone.
Render = Callable[[AsyncSession, Services, Any], Awaitable[Rendered | None]]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class Shown(Protocol):
    """What a use case says a live message shows now: its text and its buttons."""

    @property
    def text(self) -> str: ...

    @property
    def keyboard(self) -> Keyboard | None: ...


def render_now(now: Callable[[AsyncSession, Any, str], Awaitable[Shown | None]]) -> Render:
    """The Render of a kind whose use case says what a row's message shows now, given the
    session, the row and the language (the instance's: a live message is shown to many)."""

    async def render(session: AsyncSession, services: Services, row: Any) -> Rendered | None:
        shown = await now(session, row, tr_for(services).language)
        return None if shown is None else (shown.text, markup(shown.keyboard))

    return render


@dataclass(frozen=True)
class MessageKind:
    """A kind of live message: its table and how to render one of its rows."""

    name: str
    model: TrackedModel
    render: Render


@dataclass
class _State:
    services: Services
    job_queue: JobQueue[Any] | None
    pacer: EditPacer = field(default_factory=EditPacer)
    scheduled: dict[int, float] = field(default_factory=dict)  # chat id → when its job is due
    locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    def lock(self, chat_id: int) -> asyncio.Lock:
        return self.locks.setdefault(chat_id, asyncio.Lock())


# Wiring, not per-update state: the kinds are registered once by the feature modules.
_KINDS: dict[str, MessageKind] = {}
_STATE_KEY = "message_refresh"


def _clock() -> float:
    """Telegram's flood limits run on real time, whatever the injected domain clock says."""
    return time.monotonic()


def digest(rendered: Rendered) -> str:
    text, markup = rendered
    raw = text + json.dumps(markup.to_dict() if markup else None, sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def tracked_models() -> list[TrackedModel]:
    """The tables of the live messages registered so far (the tick's probe: one owed an edit)."""
    return [kind.model for kind in _KINDS.values()]


def install(application: AnyApplication, services: Services, kind: MessageKind) -> None:
    """Register a kind of live message (from a feature's `register`) and the tick's re-drive."""
    _KINDS[kind.name] = kind
    if _STATE_KEY not in services.extras:
        services.extras[_STATE_KEY] = _State(services=services, job_queue=application.job_queue)
    if not any(name == DUE_WORK_NAME for name, _work in services.due_work):
        services.add_due_work(DUE_WORK_NAME, refresh_owed)


def _state(services: Services) -> _State:
    state = services.extras.get(_STATE_KEY)
    if not isinstance(state, _State):  # not installed: no jobs, the tick re-drives
        state = services.extras[_STATE_KEY] = _State(services=services, job_queue=None)
    return state


# --- asking for edits ---------------------------------------------------------------------


def request(services: Services, chat_ids: Iterable[int]) -> None:
    """After a committed change: the owed edits of these chats go out, coalesced and paced."""
    state = _state(services)
    for chat_id in dict.fromkeys(chat_ids):
        _schedule(state, chat_id, coalesce=True)


async def request_owed(services: Services) -> None:
    """Like `request`, for every chat with an owed edit (after a rarer change whose messages
    the caller did not read)."""
    request(services, await _owed_chats(services))


def _schedule(state: _State, chat_id: int, *, coalesce: bool) -> None:
    now = _clock()
    due = state.scheduled.get(chat_id)
    if due is not None and due > now - LOST_JOB_SECONDS:
        return  # a job is waiting: it will render the latest state
    if state.job_queue is None:
        return  # no job queue: the tick re-drives it
    at = state.pacer.next_edit_at(chat_id, now=now, coalesce=coalesce)
    state.scheduled[chat_id] = at
    state.job_queue.run_once(
        cast(Any, _edit_job), when=max(0.0, at - now), name=f"{JOB_PREFIX}{chat_id}", data=chat_id
    )


async def _edit_job(context: BotContext) -> None:
    job = context.job
    if job is None or not isinstance(job.data, int):
        return
    await _run(_state(context.services), context.bot, job.data)


async def _run(state: _State, bot: Bot, chat_id: int) -> None:
    """One paced step for a chat, then its next job if it still owes an edit.

    While it runs the chat counts as scheduled: a vote committed meanwhile is picked up by the
    check that follows, which schedules from the time of this edit, not from the vote.
    """
    state.scheduled[chat_id] = _clock()
    try:
        await _drain(state, bot, chat_id, paced=True)
    finally:
        state.scheduled.pop(chat_id, None)
    if await _owed_in_chat(state.services, chat_id):
        _schedule(state, chat_id, coalesce=False)


# --- editing ------------------------------------------------------------------------------


async def _owed_chats(services: Services) -> list[int]:
    chats: dict[int, None] = {}
    async with services.db.transaction() as session:
        for kind in _KINDS.values():
            for owed in await repo.owed(session, kind.model):
                chats[owed.chat_id] = None
    return list(chats)


async def _owed_in_chat(services: Services, chat_id: int) -> list[tuple[MessageKind, int]]:
    found: list[tuple[datetime, MessageKind, int]] = []
    async with services.db.transaction() as session:
        for kind in _KINDS.values():
            for owed in await repo.owed(session, kind.model, chat_id=chat_id):
                found.append((owed.dirty_since, kind, owed.row_id))
    found.sort(key=lambda item: (item[0], item[1].name, item[2]))
    return [(kind, row_id) for _since, kind, row_id in found]


async def _drain(state: _State, bot: Bot, chat_id: int, *, paced: bool) -> None:
    """Edit what this chat owes: one edit when paced, all of it otherwise (a coordinator's
    action wants its result shown at once)."""
    async with state.lock(chat_id):
        for kind, row_id in await _owed_in_chat(state.services, chat_id):
            status = await _refresh(state, bot, kind, row_id)
            if status == EditStatus.RETRY or (status is not None and paced):
                break


async def _refresh(state: _State, bot: Bot, kind: MessageKind, row_id: int) -> EditStatus | None:
    """Bring one message up to date. The Telegram answer, or None when no call was needed."""
    services = state.services
    async with services.db.transaction() as session:
        row = await repo.lock(session, kind.model, row_id)  # may clear the flag below
        if row is None or row.dirty_since is None:
            return None
        rendered = await kind.render(session, services, row)
        if rendered is None:  # its subject is gone: nothing to show
            repo.drop(row)
            return None
        shown = digest(rendered)
        if shown == row.rendered_hash:  # the message already shows this state
            repo.settle(row, shown_digest=shown, current_digest=shown)
            return None
        chat_id, message_id = row.chat_id, row.message_id
    text, markup = rendered
    result = await edit_message(
        bot, chat_id=chat_id, message_id=message_id, text=text, reply_markup=markup
    )
    now = _clock()
    if result.status == EditStatus.RETRY:
        state.pacer.told_to_wait(chat_id, now=now, seconds=result.retry_after)
        return result.status  # still dirty: the chat's next job (or the tick) tries again
    state.pacer.edited(chat_id, now=now)
    async with services.db.transaction() as session:
        locked = await repo.lock(session, kind.model, row_id)
        if locked is None:
            return result.status
        if result.ok:
            current = await kind.render(session, services, locked)
            repo.settle(
                locked,
                shown_digest=shown,
                current_digest=digest(current) if current is not None else None,
            )
        else:
            logger.warning(
                "%s message %s (chat %s) can no longer be updated (%s): edit dropped",
                kind.name,
                row_id,
                chat_id,
                result.error,
            )
            repo.drop(locked)
    return result.status


async def refresh_now(services: Services, bot: Bot, chat_ids: Iterable[int] | None = None) -> None:
    """Edit at once what these chats (default: all) owe, e.g. after a coordinator closed a poll."""
    state = _state(services)
    chats = list(chat_ids) if chat_ids is not None else await _owed_chats(services)
    for chat_id in dict.fromkeys(chats):
        await _drain(state, bot, chat_id, paced=False)
        if await _owed_in_chat(services, chat_id):  # a postponed edit, or a newer change
            _schedule(state, chat_id, coalesce=False)


async def refresh_owed(services: Services, bot: Bot, now: datetime) -> None:
    """Tick: re-drive every owed edit (a restart, a lost job, a refused or postponed edit)."""
    state = _state(services)
    for chat_id in await _owed_chats(services):
        clock = _clock()
        due = state.scheduled.get(chat_id)
        if due is not None and due > clock - LOST_JOB_SECONDS:
            continue  # its job is waiting (or running)
        if state.pacer.next_edit_at(chat_id, now=clock, coalesce=False) <= clock:
            await _run(state, bot, chat_id)
        else:
            _schedule(state, chat_id, coalesce=False)


__all__ = [
    "DUE_WORK_NAME",
    "JOB_PREFIX",
    "MessageKind",
    "digest",
    "install",
    "refresh_now",
    "refresh_owed",
    "request",
    "request_owed",
]
