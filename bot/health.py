"""Is the bot alive? Polling stalls are noticed by the tick and written to a health file.

PTB keeps retrying a polling connection that fails, and a stuck connection looks like a quiet
day: nothing in the log says that updates no longer arrive. Every tick compares the time of the
last successful `getUpdates` (recorded by `bot.app.PollingRequest`) with the clock; after
`STALL_AFTER` without one it logs a WARNING once (and an INFO line when polling works again),
and writes the state to `HEALTH_FILE` (default `data/health.json`) for a supervisor. In webhook
mode nothing polls: the tick asks `getWebhookInfo` once a minute instead (bot.telegram_link),
and its answers count as the polls. An outage that bot.telegram_link announced is not warned
about again here.

    python -m bot.health            # exit 0 when healthy, 1 otherwise, one line on stdout
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.context import Services
from bot.telegram_link import link_of
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories import outbox as outbox_repo

logger = logging.getLogger(__name__)

STALL_AFTER = timedelta(minutes=2)
# A health file older than this is itself a sign that the tick (or the process) is stuck.
STALE_AFTER = timedelta(minutes=5)


async def check(
    services: Services, now: datetime, *, counts: tuple[dict[str, int], int] | None = None
) -> dict[str, Any]:
    """Update the polling-stall state, log its changes, write the health file; return it.
    `counts`: the outbox's rows by status and the reports owed, when the caller has just read
    them (the tick's one query); otherwise they are read here."""
    reference = services.last_poll_ok_at or services.started_at
    stalled = reference is not None and now - reference > STALL_AFTER
    # An outage that bot.telegram_link has already announced (and will say when it ends) is
    # not announced twice: the warning here is for the silent stall, no error and no update.
    outage = link_of(services).down_since is not None
    if stalled and not services.poll_stalled and not outage:
        assert reference is not None
        logger.warning(
            "%s has not succeeded for %d s (since %s): Telegram unreachable or the "
            "connection is stuck; updates are not arriving",
            "Polling" if services.settings.mode == "polling" else "Asking Telegram",
            int((now - reference).total_seconds()),
            reference.isoformat(timespec="seconds"),
        )
        services.poll_stalled = True
    elif not stalled and services.poll_stalled:
        logger.info("Polling works again")
        services.poll_stalled = False
    by_status, reports_owed = counts if counts is not None else await _counts(services, now)
    state: dict[str, Any] = {
        "status": "polling_stalled" if stalled else "ok",
        "mode": services.settings.mode,
        "checked_at": now.isoformat(),
        "last_poll_ok_at": services.last_poll_ok_at.isoformat()
        if services.last_poll_ok_at
        else None,
        "outbox_pending": int(by_status.get(OutboxStatus.PENDING, 0)),
        "outbox_uncertain": int(by_status.get(OutboxStatus.UNCERTAIN, 0)),
        "reports_owed": reports_owed,
    }
    if services.settings.health_file:
        write_state(Path(services.settings.health_file), state)
    return state


async def _counts(services: Services, now: datetime) -> tuple[dict[str, int], int]:
    async with services.db.transaction() as session:
        counts = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count())
                    .where(
                        OutboxMessage.status.in_(
                            [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNCERTAIN]
                        )
                    )
                    .group_by(OutboxMessage.status)
                )
            ).all()
        )
        # Reports to coordinators that did not arrive (bot.delivery.reoffer_reports). Imported
        # here: `python -m bot.health` stays light for a container's HEALTHCHECK.
        from bot.delivery import REPORT_OWED_FOR, REPORT_PREFIXES

        reports_owed = await outbox_repo.count_owed(
            session, prefixes=REPORT_PREFIXES, since=now - REPORT_OWED_FOR
        )
    return {str(k): int(v) for k, v in counts.items()}, reports_owed


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Atomically (a reader never sees half a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        logger.warning("Could not write the health file %s", path, exc_info=True)


def verdict(state: dict[str, Any] | None, now: datetime) -> tuple[bool, str]:
    """(healthy, one line) for a health file's content read at `now`."""
    if state is None:
        return False, "no health file: is the bot running?"
    try:
        checked = datetime.fromisoformat(str(state["checked_at"]))
    except (KeyError, TypeError, ValueError):  # TypeError: not a JSON object
        return False, "unreadable health file"
    if checked.tzinfo is None:  # the bot writes an aware moment: not its file
        return False, "unreadable health file"
    if now - checked > STALE_AFTER:
        return False, f"health file not updated since {checked.isoformat(timespec='seconds')}"
    if state.get("status") != "ok":
        return False, f"{state.get('status')} (last poll {state.get('last_poll_ok_at')})"
    owed = state.get("reports_owed", 0)
    return True, (
        f"ok (last poll {state.get('last_poll_ok_at')}, "
        f"{state.get('outbox_pending', 0)} pending, {state.get('outbox_uncertain', 0)} uncertain"
        + (f", {owed} reports to coordinators not delivered" if owed else "")
        + ")"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else os.environ.get("HEALTH_FILE") or "data/health.json")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = None
    healthy, line = verdict(state, datetime.now(UTC))
    print(line)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
