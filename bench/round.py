"""Benchmark: the monthly update round of 50 Unions (1,000 technicians) against Telegram's limits.

    python -m bench.round                    # 50 Unions × 20 technicians, SQLite
    python -m bench.round --postgres         # the same on a throwaway PostgreSQL as well
    python -m bench.round --unions 5         # a quick look (100 technicians)

Nothing is queued by hand: the world is written through the models (50 Unions, each with 20
Comuni, one technician per Comune with 5 actions, a coordinator and a linked technical group),
with each Union's fallback opening set to the current hour. `python -m bot` then starts as in
production (AIORateLimiter on, a 1 s scheduler tick) and its own tick opens the 50 rounds
(`bot/handlers/updates/scheduled.py:open_due_rounds`): per Union an announcement in the technical group,
a private invitation with buttons to each technician, a note to the coordinator — 1,100
messages, all through the outbox. The fake server enforces Telegram's limits (30/s overall,
about 1/s per private chat, 20/min per group) and answers 429 with `retry_after` beyond.

Reported: messages per second (first to last send) against the 30/s ceiling, 429 answers
(target 0), outbox attempts (more than the messages means retries), the time from the bot's
start to the first send (start-up + the tick that opens all the rounds) and to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bench.run import Databases, TimedFake, _env, _spawn, _stop, _wait, machine

TECHNICIANS_PER_UNION = 20  # one per Comune
ACTIONS_PER_COMUNE = 5
TIMEZONE = "Europe/Rome"


@dataclass
class RoundResult:
    backend: str
    unions: int
    technicians: int
    messages: int
    private: int
    groups: int
    first_send_s: float
    last_send_s: float
    count_429: int
    attempts: int
    rounds: int
    kinds: dict[str, int]

    @property
    def rate(self) -> float:
        span = self.last_send_s - self.first_send_s
        return (self.messages - 1) / span if span else 0.0


async def seed(database_url: str, fake: TimedFake, unions: int, now: datetime) -> int:
    """Write the Unions; returns the number of messages the round must send."""
    from storage import migrate
    from storage.db import Database
    from storage.models import (
        Action,
        LinkedChat,
        MeetingSettings,
        Member,
        MemberMunicipality,
        MemberStatus,
        Municipality,
        Person,
        Role,
        TableKind,
        Union,
        UpdateSettings,
    )

    local = now.astimezone(ZoneInfo(TIMEZONE))
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        rows: dict[type, list[dict[str, object]]] = {
            Union: [],
            UpdateSettings: [],
            MeetingSettings: [],
            Municipality: [],
            Person: [],
            Member: [],
            MemberMunicipality: [],
            Action: [],
            LinkedChat: [],
        }
        person_id = action_id = 0
        for u in range(1, unions + 1):
            rows[Union].append(
                {"id": u, "name": f"Unione {u:02d}", "timezone": TIMEZONE, "created_at": now}
            )
            # The fallback opening is this very hour: the first tick opens the round.
            rows[UpdateSettings].append(
                {
                    "union_id": u,
                    "enabled": True,
                    "fallback_day": local.day,
                    "fallback_hour": local.hour,
                    "fallback_deadline_days": 5,
                }
            )
            # Only the round: no automatic meeting poll (its notices would mix in).
            rows[MeetingSettings].append({"union_id": u, "auto_poll_enabled": False})
            coordinator = fake.add_user(f"Coordinatrice{u}", "Bench")
            coordinator.has_started = True
            technicians = []
            for c in range(TECHNICIANS_PER_UNION):
                user = fake.add_user(f"Tecnico{u}x{c}", "Bench")
                user.has_started = True
                technicians.append(user)
            group = fake.create_group(f"Tecnici Unione {u}", coordinator, members=technicians)
            group.bot_status = "member"
            rows[LinkedChat].append(
                {
                    "union_id": u,
                    "table_kind": TableKind.TECHNICAL,
                    "chat_id": group.id,
                    "title": group.title,
                    "linked_at": now,
                }
            )
            for n, user in enumerate([coordinator, *technicians]):
                person_id += 1
                rows[Person].append(
                    {
                        "id": person_id,
                        "telegram_user_id": user.id,
                        "display_name": user.full_name,
                        "telegram_language": "it",
                        "reachable": True,
                        "created_at": now,
                    }
                )
                rows[Member].append(
                    {
                        "id": person_id,
                        "union_id": u,
                        "person_id": person_id,
                        "role": Role.STAFF if n == 0 else Role.TECNICO,
                        "status": MemberStatus.ACTIVE,
                        "is_coordinator": n == 0,
                        "requested_at": now,
                        "decided_at": now,
                    }
                )
                if n == 0:
                    continue
                comune_id = (u - 1) * TECHNICIANS_PER_UNION + n
                rows[Municipality].append(
                    {
                        "id": comune_id,
                        "union_id": u,
                        "name": f"Comune {u}-{n}",
                        "name_key": f"comune {u}-{n}",
                        "created_at": now,
                    }
                )
                rows[MemberMunicipality].append(
                    {"member_id": person_id, "municipality_id": comune_id}
                )
                for a in range(ACTIONS_PER_COMUNE):
                    action_id += 1
                    rows[Action].append(
                        {
                            "id": action_id,
                            "union_id": u,
                            "code": f"{n}.{a + 1}",
                            "title": f"Azione {a + 1} del Comune {u}-{n}",
                            "municipality_id": comune_id,
                            "status": "ongoing",
                            "progress": 10 * a,
                            "created_at": now - timedelta(days=60),
                            "updated_at": now - timedelta(days=60),
                        }
                    )
        async with db.transaction() as session:
            # Parents before children (the order of the dict).
            for model, values in rows.items():
                if values:
                    await session.execute(insert(model), values)
        # Per Union: the group announcement, one invitation per technician, the coordinator's note.
        return unions * (1 + TECHNICIANS_PER_UNION + 1)
    finally:
        await db.dispose()


async def run_round(database_url: str, backend: str, unions: int, workdir: Path) -> RoundResult:
    from storage.db import Database
    from storage.models import OutboxMessage, UpdateRound

    fake = TimedFake()
    fake.enforce_rate_limits = True  # 30/s overall, per chat and per group, 429 beyond
    await fake.start()
    try:
        expected = await seed(database_url, fake, unions, datetime.now(UTC))
        env = _env(fake, database_url, workdir, TICK_SECONDS="1")
        started = time.perf_counter()
        proc = await _spawn("bot", env, workdir)
        try:
            await _wait(lambda: len(fake.sent_at) >= expected, 600, f"{expected} round messages")
            await asyncio.sleep(2)  # anything beyond the expected messages would show here
        finally:
            await _stop(proc)
        failed = [c for c in fake.calls if not c.ok and c.method != "getUpdates"]
        sends = [c for c in fake.calls if c.ok and c.method == "sendMessage"]
        private = sum(1 for c in sends if int(c.params.get("chat_id") or 0) > 0)
        # Every technician got their own invitation, with the buttons to answer.
        invited = {
            int(c.params["chat_id"]) for c in sends if c.params.get("reply_markup") is not None
        }
        if len(invited) != unions * TECHNICIANS_PER_UNION:
            raise RuntimeError(f"{len(invited)} technicians invited with buttons, not 1 each")
        kinds = Counter(
            re.sub(r"\d+", "N", str(c.params.get("text") or "").split("\n")[0])[:60] for c in sends
        )
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                attempts = int(
                    (await session.execute(select(func.sum(OutboxMessage.attempts)))).scalar_one()
                )
                rounds = int(
                    (await session.execute(select(func.count(UpdateRound.id)))).scalar_one()
                )
        finally:
            await db.dispose()
        bad = [c for c in failed if "Too Many Requests" not in (c.error or "")]
        if bad:
            raise RuntimeError(f"{len(bad)} failed calls, e.g. {bad[0]}")
        return RoundResult(
            backend=backend,
            unions=unions,
            technicians=unions * TECHNICIANS_PER_UNION,
            messages=len(fake.sent_at),
            private=private,
            groups=len(sends) - private,
            first_send_s=fake.sent_at[0] - started,
            last_send_s=fake.sent_at[-1] - started,
            count_429=fake.count_429,
            attempts=attempts,
            rounds=rounds,
            kinds=dict(kinds),
        )
    finally:
        await fake.stop()


async def main_async(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgres"] if args.postgres else ["sqlite"]
    workroot = Path(tempfile.mkdtemp(prefix="bench-round-"))
    dbs = Databases()
    results = []
    try:
        print(
            f"# {machine()}; "
            f"{args.unions} Unions × {TECHNICIANS_PER_UNION} technicians, python -m bot with "
            "AIORateLimiter, 1 s tick, the fake enforcing Telegram's limits"
        )
        for backend in backends:
            workdir = workroot / backend
            workdir.mkdir()
            result = await run_round(await dbs.url(backend, workdir), backend, args.unions, workdir)
            results.append(result)
            print(f"  {backend}: messages by first line", flush=True)
            for text, n in sorted(result.kinds.items(), key=lambda kv: -kv[1]):
                print(f"    {n:>5} × {text}")
    finally:
        dbs.close()
        if args.keep:
            print(f"  logs kept in {workroot}")
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    print()
    print(
        "| database | Unions | technicians | rounds | messages (private + group) | msg/s (ceiling 30) "
        "| 429 answers | outbox attempts | first send | last send |"
    )
    print(
        "|----------|--------|-------------|--------|----------------------------|"
        "--------------------|-------------|-----------------|------------|-----------|"
    )
    for r in results:
        print(
            f"| {r.backend:<8} | {r.unions:>6} | {r.technicians:>11} | {r.rounds:>6} "
            f"| {r.messages:>5} ({r.private} + {r.groups}){'':>8} | {r.rate:>18.1f} "
            f"| {r.count_429:>11} | {r.attempts:>15} | {r.first_send_s:>8.1f} s "
            f"| {r.last_send_s:>7.1f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Monthly round benchmark (see bench/README.md)")
    parser.add_argument("--unions", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the bot's logs")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
