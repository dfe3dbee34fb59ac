"""Sending through the outbox: at most once, never blindly resent, nothing lost silently.

A row goes pending → sending (committed) → Telegram call → sent | failed | uncertain.
Only failures that certainly did not reach Telegram (connection refused, pool or connect
timeouts, 429) go back to pending. A read timeout or a broken answer may have been delivered:
the row becomes `uncertain` and the coordinator is told.
"""

from __future__ import annotations

import asyncio
import enum
import html
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.context import Services
from bot.i18n import N_, Translator
from bot.scope import tr_for
from bot.telegram_edit import retry_after_seconds
from storage.models import OutboxMessage, OutboxStatus, Person, Union
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo

logger = logging.getLogger(__name__)

_locks: dict[int, asyncio.Lock] = {}

RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 300
# Telegram answering an error of its own (5xx) this many times: give up and report the row.
MAX_SERVER_ERRORS = 5


def _lock(services: Services) -> asyncio.Lock:
    return _locks.setdefault(id(services), asyncio.Lock())


def certainly_not_delivered(exc: BaseException) -> bool:
    """True when the request never reached Telegram, so sending again cannot double-post."""
    cause = exc.__cause__
    safe = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    if isinstance(cause, safe):
        return True
    return isinstance(exc, TimedOut) and "Pool timeout" in str(exc)


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


class Outcome(enum.Enum):
    DONE = "done"  # sent, failed or uncertain: the row is settled
    RETRY = "retry"  # back to pending, not before a given time
    CHAT_BUSY = "chat busy"  # flood control for this chat: skip its other rows this round
    UNREACHABLE = "unreachable"  # Telegram cannot be reached: stop this round


def backoff(attempts: int) -> timedelta:
    """Wait before the next try of a send that certainly did not arrive: 5 s, 10 s … 5 min."""
    return timedelta(seconds=min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def telegram_refused(exc: BaseException) -> bool:
    """Telegram answered with an error of its own (a 5xx in its JSON envelope): not delivered.

    PTB raises a bare NetworkError for those, without a cause; an unreadable answer (a proxy's
    HTML page) or a broken connection carries its cause and stays uncertain.
    """
    return type(exc) is NetworkError and exc.__cause__ is None


async def _retry_later(
    services: Services,
    row: OutboxMessage,
    error: str,
    *,
    wait: timedelta,
    chat_id: int | None = None,
) -> None:
    async with services.db.transaction() as session:
        await outbox_repo.back_to_pending(
            session,
            message_id=row.id,
            error=error[:500],
            not_before=services.clock.now() + wait,
            chat_id=chat_id,
        )


async def _send_one(services: Services, bot: Bot, row_id: int) -> Outcome:
    async with services.db.transaction() as session:
        row = await outbox_repo.start_sending(session, message_id=row_id)
    if row is None:
        return Outcome.DONE
    try:
        message = await _call(bot, row)
    except ChatMigrated as exc:
        new_id = exc.new_chat_id
        logger.info("Chat %s migrated to %s; following it", row.chat_id, new_id)
        async with services.db.transaction() as session:
            await core_repo.migrate_chat(session, old_chat_id=row.chat_id, new_chat_id=new_id)
            await outbox_repo.back_to_pending(
                session, message_id=row.id, error="chat migrated", chat_id=new_id
            )
        return Outcome.RETRY
    except RetryAfter as exc:
        wait = retry_after_seconds(exc)
        logger.warning("Outbox %s: flood control, retry after %.0f s", row.dedup_key, wait)
        await _retry_later(services, row, "retry after", wait=timedelta(seconds=wait))
        return Outcome.CHAT_BUSY
    except Forbidden as exc:
        logger.info("Outbox %s: chat %s unreachable (%s)", row.dedup_key, row.chat_id, exc)
        await _finish(services, row, OutboxStatus.FAILED, error=f"Forbidden: {exc.message}")
        return Outcome.DONE
    except BadRequest as exc:
        logger.warning("Outbox %s rejected by Telegram: %s", row.dedup_key, exc.message)
        await _finish(services, row, OutboxStatus.FAILED, error=f"BadRequest: {exc.message}")
        return Outcome.DONE
    except (TimedOut, NetworkError) as exc:
        if certainly_not_delivered(exc):
            logger.warning("Outbox %s: Telegram unreachable (%s); will retry", row.dedup_key, exc)
            await _retry_later(services, row, str(exc), wait=backoff(row.attempts))
            return Outcome.UNREACHABLE
        if telegram_refused(exc):
            if row.attempts >= MAX_SERVER_ERRORS:
                logger.warning("Outbox %s: Telegram keeps failing (%s)", row.dedup_key, exc)
                await _finish(
                    services, row, OutboxStatus.FAILED, error=f"{outbox_repo.SERVER_ERROR} {exc}"
                )
                return Outcome.DONE
            logger.warning("Outbox %s: Telegram error (%s); will retry", row.dedup_key, exc)
            error = f"{outbox_repo.SERVER_ERROR} {exc}"
            await _retry_later(services, row, error, wait=backoff(row.attempts))
            return Outcome.UNREACHABLE
        logger.warning("Outbox %s: delivery uncertain (%s)", row.dedup_key, exc)
        await _finish(services, row, OutboxStatus.UNCERTAIN, error=f"uncertain: {exc}")
        return Outcome.DONE
    except Exception as exc:
        # Anything else (a bad stored payload, an unexpected answer): we cannot know whether
        # Telegram delivered it, so never resend; report it like any uncertain send.
        logger.exception("Outbox %s: unexpected error while sending", row.dedup_key)
        await _finish(services, row, OutboxStatus.UNCERTAIN, error=f"unexpected: {exc!r}"[:500])
        return Outcome.DONE
    await _finish(services, row, OutboxStatus.SENT, message=message)
    return Outcome.DONE


# Several instances on PostgreSQL: only the one running the scheduled work sends the outbox
# (bot/jobs.py turns sending off and on with the scheduler's lock).
_NOT_SENDING = "bot.delivery.not_sending"


def allow_sending(services: Services, allowed: bool) -> None:
    """Let this instance send the outbox, or not (flush then does nothing)."""
    if allowed:
        services.extras.pop(_NOT_SENDING, None)
    else:
        services.extras[_NOT_SENDING] = True


def flush_soon(services: Services, bot: Bot) -> None:
    """Flush in the background: a handler answers its user at once instead of waiting behind
    everyone else's due messages (a round's invitations, an announcement) for the shared lock."""

    # A failure is logged by run_in_background; the tick tries again (the change that queued
    # the message is saved).
    services.run_in_background(flush(services, bot))


async def flush(services: Services, bot: Bot, *, now: datetime | None = None) -> int:
    """Send every due outbox message, oldest first. Returns how many were attempted.

    When Telegram cannot be reached the round stops (the rest stays pending, untouched); a
    chat under flood control is skipped until the next round.
    """
    if services.extras.get(_NOT_SENDING):  # several instances: the scheduler's holder sends
        return 0
    attempted = 0
    async with _lock(services):
        moment = now or services.clock.now()
        async with services.db.transaction() as session:
            if expired := await outbox_repo.withdraw_expired(session, now=moment):
                logger.info(
                    "Outbox: %d messages not sent, their moment passed: %s",
                    len(expired),
                    ", ".join(expired),
                )
            rows = await outbox_repo.due(session, now=moment)
        busy_chats: set[int] = set()
        for row_id, chat_id in rows:
            if chat_id in busy_chats:
                continue
            attempted += 1
            outcome = await _send_one(services, bot, row_id)
            if outcome == Outcome.RETRY:  # the chat moved: send to the new id right away
                outcome = await _send_one(services, bot, row_id)
            if outcome == Outcome.UNREACHABLE:
                break
            if outcome == Outcome.CHAT_BUSY:
                busy_chats.add(chat_id)
        if attempted:
            services.extras[_SENT] = services.extras.get(_SENT, 0) + attempted
        return attempted


_SENT = "bot.delivery.sent"  # services.extras: sends attempted since the tick last asked


def take_sent(services: Services) -> int:
    """Sends attempted by this instance since the last call (the tick's `after_sends` kinds:
    what waits for messages to settle — only this instance sends while it runs the tick)."""
    return int(services.extras.pop(_SENT, 0))


async def recover_after_restart(services: Services) -> int:
    """Rows caught in `sending` by a crash become `uncertain` (reported, not resent)."""
    async with services.db.transaction() as session:
        rows = await outbox_repo.mark_interrupted_as_uncertain(session)
    for row in rows:
        logger.warning("Outbox %s was interrupted while sending: marked uncertain", row.dedup_key)
    return len(rows)


# --- housekeeping ---------------------------------------------------------------------------

# Settled rows are kept this long: longer than anything that still reads its own rows (an update
# round finds late joiners among its invitations and is open at most about a month) and than any
# re-run that relies on a key being "ever queued". After that they only cost space and keep
# payloads (names, notes) that no longer serve anyone.
OUTBOX_RETENTION = timedelta(days=60)
PURGE_BATCH = 500
PURGE_MAX_BATCHES = 200  # at most 100,000 rows a day; what is left waits for tomorrow
PURGE_PAUSE_SECONDS = 0.05  # between batches, so an update waiting for the write lock gets it
PURGE_CLAIM = "outbox_purge"


async def purge_outbox(services: Services, now: datetime) -> int:
    """Once a day, delete settled outbox rows older than OUTBOX_RETENTION, a short transaction
    per batch. Rows pending or sending and problems not yet reported are never deleted."""
    before = now - OUTBOX_RETENTION
    purged = 0
    for batch in range(PURGE_MAX_BATCHES):
        if batch:
            await asyncio.sleep(PURGE_PAUSE_SECONDS)
        async with services.db.transaction() as session:
            if batch == 0:
                day = now.date().isoformat()
                # Once a day: on every other tick the claim is found and nothing is written.
                if not await core_repo.claim(
                    session, kind=PURGE_CLAIM, union_id=0, period=day, now=now
                ):
                    return 0
            deleted = await outbox_repo.purge_settled(session, before=before, limit=PURGE_BATCH)
        purged += deleted
        if deleted < PURGE_BATCH:
            break
    if purged:
        logger.info("Outbox: %d settled messages older than %s deleted", purged, before.date())
    return purged


# --- telling the coordinators -------------------------------------------------------------

REPORT_KEY_PREFIX = "report:"
ANNOUNCEMENT_REPORT_PREFIX = "annrep:"  # an announcement's delivery report to its sender
# Reports to coordinators. Unlike an announcement or a reminder, a report may be sent again:
# it says how things stand, and reading it twice harms nobody, while never reading it means
# that a message lost in silence stays lost in silence. So a report whose send ended uncertain
# or failed (Telegram's 5xx) is offered again by the tick, after a wait that grows with its age
# (REPORT_RETRY_MIN … REPORT_RETRY_MAX), for REPORT_OWED_FOR; and at once whenever its
# coordinator writes to the bot in private (bot.handlers.common.chats.on_private_reachable),
# whatever it failed on (a coordinator who blocked the bot and writes again can be reached again).
REPORT_PREFIXES = (REPORT_KEY_PREFIX, ANNOUNCEMENT_REPORT_PREFIX)
REPORT_OWED_FOR = timedelta(days=14)
REPORT_RETRY_MIN = timedelta(minutes=5)
REPORT_RETRY_MAX = timedelta(hours=6)
_OWED_CHATS = "bot.delivery.owed_report_chats"  # services.extras: chats owed a report
_MAX_REPORT_LINES = 10  # per section: the report stays far below 4096 characters
_TAG = re.compile(r"<[^>]*>")

_REASONS = (
    (
        "can't initiate conversation",
        N_("non ha ancora avviato il bot (deve aprirlo e premere Avvia)"),
    ),
    ("blocked by the user", N_("ha bloccato il bot")),
    ("user is deactivated", N_("profilo Telegram disattivato")),
    ("bot was kicked", N_("il bot è stato tolto dal gruppo")),
    ("bot is not a member", N_("il bot non è nel gruppo")),
    (outbox_repo.SERVER_ERROR, N_("Telegram ha dato errore più volte")),
)


def _short(text: str, limit: int) -> str:
    plain = " ".join(text.split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def _preview(row: OutboxMessage) -> str:
    raw = str(row.payload.get("text") or row.payload.get("caption") or row.file_name or "")
    return _short(html.unescape(_TAG.sub(" ", raw)), 60)


def _reason(row: OutboxMessage, tr: Translator) -> str:
    error = (row.error or "").lower()  # PTB capitalises Telegram's descriptions
    for phrase, label in _REASONS:
        if phrase in error:
            return tr.gettext(label)
    return tr.gettext("rifiutato da Telegram")


async def _recipient(session: AsyncSession, row: OutboxMessage, tr: Translator) -> str:
    if row.person_id is not None:
        person = await session.get(Person, row.person_id)
        if person is not None:
            if person.erased_at is not None or person.display_name is None:
                return tr.gettext("ex membro")
            return person.display_name
    for link in await core_repo.links_of_chat(session, row.chat_id):
        if link.union_id == row.union_id:
            return link.title
    if row.chat_id < 0:  # e.g. a group that removed the bot and was unlinked
        return tr.gettext("un gruppo non più collegato")
    return tr.gettext("una chat privata")


async def _lines(
    session: AsyncSession, rows: list[OutboxMessage], tr: Translator, *, reason: bool
) -> list[str]:
    lines = []
    for row in rows[:_MAX_REPORT_LINES]:
        who = html.escape(_short(await _recipient(session, row, tr), 40))
        line = f"• {who}: «{html.escape(_preview(row))}»"
        if reason:
            line += " — " + html.escape(_reason(row, tr))
        lines.append(line)
    if len(rows) > _MAX_REPORT_LINES:
        more = len(rows) - _MAX_REPORT_LINES
        lines.append(tr.ngettext("…e un altro.", "…e altri {n}.", more).format(n=more))
    return lines


async def _report_text(
    session: AsyncSession, union: Union, rows: list[OutboxMessage], tr: Translator
) -> str:
    _ = tr.gettext
    uncertain = [r for r in rows if r.status == OutboxStatus.UNCERTAIN]
    failed = [r for r in rows if r.status != OutboxStatus.UNCERTAIN]
    parts = [_("⚠️ <b>Messaggi da controllare</b> — {union}").format(union=html.escape(union.name))]
    if uncertain:
        parts.append(
            _(
                "Non so se questi messaggi sono arrivati (la risposta di Telegram si è persa). "
                "Non li rimando, per non mandarli due volte: se serve, chiedi a chi li doveva "
                "ricevere."
            )
        )
        parts.append("\n".join(await _lines(session, uncertain, tr, reason=False)))
    if failed:
        parts.append(_("Questi messaggi non sono stati consegnati:"))
        parts.append("\n".join(await _lines(session, failed, tr, reason=True)))
    return "\n\n".join(parts)


async def report_problems(services: Services, bot: Bot, now: datetime) -> int:
    """Tell each Union's coordinators, once, about uncertain and failed sends.

    The report goes through the outbox itself (with no Union, so a report that fails is not
    reported again) and the rows are marked reported in the same transaction. Returns the
    number of rows reported.
    """
    async with services.db.transaction() as session:
        problems = await outbox_repo.unreported_problems(
            session, exclude=services.reported_elsewhere
        )
        by_union: dict[int, list[OutboxMessage]] = {}
        for row in problems:
            if row.union_id is not None:
                by_union.setdefault(row.union_id, []).append(row)
        for union_id, rows in by_union.items():
            union = await session.get(Union, union_id)
            coordinators = [
                person
                for _member, person in await core_repo.coordinators(session, union_id)
                if person.telegram_user_id is not None and person.reachable
            ]
            if union is None or not coordinators:
                logger.warning(
                    "Union %s: %d delivery problems and no reachable coordinator to tell",
                    union_id,
                    len(rows),
                )
            else:
                span = f"{rows[0].id}-{rows[-1].id}"
                # The report names the recipients and quotes the texts (which may name others).
                named = {r.person_id for r in rows if r.person_id is not None}
                named |= await outbox_repo.named_in(session, [r.id for r in rows])
                for person in coordinators:
                    tr = tr_for(services, person=person)
                    assert person.telegram_user_id is not None
                    await outbox_repo.enqueue(
                        session,
                        dedup_key=f"{REPORT_KEY_PREFIX}{union_id}:{span}:{person.id}",
                        chat_id=person.telegram_user_id,
                        method="sendMessage",
                        payload={"text": await _report_text(session, union, rows, tr)},
                        person_id=person.id,
                        now=now,
                        names=named,
                    )
                logger.info(
                    "Union %s: told %d coordinator(s) about %d delivery problems",
                    union_id,
                    len(coordinators),
                    len(rows),
                )
            await outbox_repo.mark_reported(session, message_ids=[r.id for r in rows], now=now)
    return len(problems)


# --- reports that did not arrive ------------------------------------------------------------


def report_retry_wait(age: timedelta) -> timedelta:
    """How long an owed report waits before its next try: half its age, within bounds (the
    waits grow by half at each try without counting them: 5, 5, 5, 7.5, 11 … minutes, then at
    most 6 hours)."""
    return max(REPORT_RETRY_MIN, min(REPORT_RETRY_MAX, age / 2))


async def reoffer_reports(services: Services, now: datetime) -> int:
    """Due work of the tick: reports owed to coordinators go back to pending, due after a wait;
    remembers which chats are owed one (for `offer_reports_on_contact`). Returns how many rows
    were offered again."""
    async with services.db.transaction() as session:
        rows = await outbox_repo.owed(
            session, prefixes=REPORT_PREFIXES, since=now - REPORT_OWED_FOR
        )
        offered = 0
        for row, again in rows:  # worth another try: outbox_repo.offerable_where
            if not again:
                continue
            await outbox_repo.back_to_pending(
                session,
                message_id=row.id,
                error=(row.error or "")[:500],
                not_before=now + report_retry_wait(now - row.created_at),
            )
            offered += 1
    services.extras[_OWED_CHATS] = frozenset(row.chat_id for row, _again in rows)
    if offered:
        logger.warning(
            "Outbox: %d report(s) to coordinators did not arrive; offered again: %s",
            offered,
            ", ".join(r.dedup_key for r, again in rows if again),
        )
    return offered


def owes_report(services: Services, chat_id: int) -> bool:
    """Whether the last tick found a report owed to this chat (no database query)."""
    owed: frozenset[int] = services.extras.get(_OWED_CHATS, frozenset())
    return chat_id in owed


async def offer_reports_on_contact(session: AsyncSession, services: Services, chat_id: int) -> int:
    """The coordinator is writing to us: whatever report is owed to them is due now (the caller
    flushes after its transaction)."""
    count = await outbox_repo.offer_again_now(
        session,
        prefixes=REPORT_PREFIXES,
        chat_id=chat_id,
        since=services.clock.now() - REPORT_OWED_FOR,
    )
    if count:
        logger.info("Outbox: %d owed report(s) offered again to chat %s, who wrote", count, chat_id)
    return count
