"""A vote's CPU in this process, without HTTP: where a press goes beyond the Telegram calls.

The real bot (`bot.app.build_application`) on a database seeded as `bench.run`'s votes burst
(a 20-Comuni Union, 3 open polls of 4 dates, 60 members in the linked group), its Telegram
requests answered in-process by a canned request class (no socket, no fake server): every vote
is an `Update` given to `Application.process_update`, one after the other. Printed: CPU per vote
of the whole process (`time.process_time`, aiosqlite's thread included) and, with `--profile`,
a cProfile of the votes (main thread) sorted by cumulative time.

    python -m bench.vote_cpu                       # 2,000 votes, SQLite
    python -m bench.vote_cpu --postgres            # … and on a throwaway PostgreSQL
    python -m bench.vote_cpu --profile out.prof    # cProfile of the SQLite votes
    python -m bench.vote_cpu --compare /work/main  # the same in another checkout, alternately
    python -m bench.vote_cpu --at-once 4           # four votes at a time, as CONCURRENT_UPDATES
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from telegram import Update
from telegram.request import BaseRequest, RequestData

AT_ONCE = "BENCH_VOTES_AT_ONCE"  # --at-once, to the measuring child
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Team Energia", "username": "bench_bot"}


class CannedRequest(BaseRequest):
    """Answers every Bot API call at once, as Telegram would, and counts them by method."""

    calls: ClassVar[Counter[str]] = Counter()

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 10.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        CannedRequest.calls[name] += 1
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if name == "getMe":
            result = BOT_USER
        elif name in ("editMessageText", "sendMessage"):
            result = {
                "message_id": int(params.get("message_id", 1)),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "supergroup", "title": "g"},
                "from": BOT_USER,
                "text": "x",
            }
        elif name == "getUpdates":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()


async def measure(database_url: str, votes: int, profile: str | None) -> dict[str, Any]:
    import bot.app
    from bench.run import votes_burst
    from bot.app import build_application, on_shutdown, on_startup
    from bot.config import Settings
    from tests.fakes.telegram_server import FakeTelegram

    fake = FakeTelegram()  # only its users, group and messages: never started
    presses = await votes_burst(fake, votes, 60, database_url)
    updates = [
        {
            "update_id": 1000 + n,
            "callback_query": {
                "id": str(n),
                "from": p.user.to_api(),
                "message": p.message.to_api(),
                "chat_instance": "1",
                "data": p.data,
            },
        }
        for n, p in enumerate(presses)
    ]
    bot.app.HTTPXRequest = CannedRequest  # type: ignore[misc,assignment]
    bot.app.PollingRequest = CannedRequest  # type: ignore[misc,assignment]
    settings = Settings(
        token=fake.token, database_url=database_url, base_url="http://canned/bot", tick_seconds=0
    )
    app = build_application(settings, rate_limiter=False)
    await app.initialize()
    await on_startup(app)
    await app.start()
    try:
        warm = 50
        for data in updates[:warm]:
            await app.process_update(Update.de_json(data, app.bot))
        gc.collect()
        gc.freeze()
        CannedRequest.calls.clear()
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile(time.thread_time)  # this thread's CPU, no waits
            profiler.enable()
        cpu, main, wall = time.process_time(), time.thread_time(), time.perf_counter()
        # One at a time, or `--at-once` N together (as CONCURRENT_UPDATES lets the bot do):
        # concurrent transactions meet on SQLite's write lock.
        at_once, counted_updates = int(os.environ.get(AT_ONCE, "1")), updates[warm:]
        for start in range(0, len(counted_updates), at_once):
            await asyncio.gather(
                *(
                    app.process_update(Update.de_json(data, app.bot))
                    for data in counted_updates[start : start + at_once]
                )
            )
        cpu, main = time.process_time() - cpu, time.thread_time() - main
        wall = time.perf_counter() - wall
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        counted = len(updates) - warm
        await asyncio.sleep(5)  # the coalesced edits owed at the end
        toasts = CannedRequest.calls["answerCallbackQuery"]
        assert toasts == counted, (toasts, counted)
        return {
            "votes": counted,
            "cpu_ms": 1000 * cpu / counted,
            "main_ms": 1000 * main / counted,  # the event loop's thread alone
            "wall_ms": 1000 * wall / counted,
            "calls": dict(CannedRequest.calls),
        }
    finally:
        await app.stop()
        await app.shutdown()
        await on_shutdown(app)


async def _database(backend: str, workdir: Path, postgres: Any) -> str:
    from bot.config import normalize_database_url

    if backend == "sqlite":
        return normalize_database_url(f"sqlite:///{workdir / f'votes{time.time_ns()}.db'}")
    from tests import pg_server

    return await pg_server.create_database(postgres.admin_url, "votes")


def _inner(backend: str, votes: int, profile: str | None, pg_admin: str | None) -> dict[str, Any]:
    """One measurement in this process (a fresh interpreter per checkout and backend)."""
    import logging

    logging.disable(logging.WARNING)

    class _Pg:
        admin_url = pg_admin

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as workdir:
            url = await _database(backend, Path(workdir), _Pg)
            from storage import migrate
            from storage.db import Database

            db = Database(url)
            try:
                await migrate.upgrade(db)
            finally:
                await db.dispose()
            return await measure(url, votes, profile)

    return asyncio.run(run())


def _in_checkout(
    checkout: Path, backend: str, votes: int, profile: str | None, pg_admin: str | None
) -> dict[str, Any]:
    """Measure in a child interpreter that imports the bot from `checkout` and this file from
    here (an older checkout may not have it)."""
    code = (
        "import importlib.util, json, sys; sys.path.insert(0, sys.argv[1]); "
        "spec = importlib.util.spec_from_file_location('vote_cpu', sys.argv[2]); "
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
        "print(json.dumps(module._inner(sys.argv[3], int(sys.argv[4]), sys.argv[5] or None, "
        "sys.argv[6] or None)))"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(checkout),
            str(Path(__file__).resolve()),
            backend,
            str(votes),
            profile or "",
            pg_admin or "",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", help="cProfile output of the SQLite votes (this checkout)")
    parser.add_argument("--compare", type=Path, help="another checkout, measured alternately")
    parser.add_argument(
        "--at-once", type=int, default=1, help="votes handled together (default one at a time)"
    )
    args = parser.parse_args()
    os.environ[AT_ONCE] = str(max(1, args.at_once))
    postgres = None
    backends = ["sqlite"]
    if args.postgres:
        from tests import pg_server

        reason = pg_server.unavailable_reason()
        if reason:
            raise SystemExit(f"PostgreSQL not available: {reason}")
        postgres = pg_server.start()
        backends.append("postgresql")
    here = Path(__file__).resolve().parent.parent
    sides = [("this", here)] + ([("compare", args.compare.resolve())] if args.compare else [])
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    try:
        for run in range(args.runs):
            order = sides if run % 2 == 0 else sides[::-1]
            for backend in backends:
                for label, checkout in order:
                    profile = (
                        f"{args.profile}.{backend}" if args.profile and label == "this" else None
                    )
                    admin = postgres.admin_url if postgres is not None else None
                    result = _in_checkout(checkout, backend, args.votes, profile, admin)
                    results.setdefault((label, backend), []).append(result)
                    print(
                        f"run {run + 1} {label:8} {backend:10} "
                        f"CPU {result['cpu_ms']:.3f} ms/vote (loop's thread {result['main_ms']:.3f}), wall {result['wall_ms']:.3f}, "
                        f"calls {result['calls']}",
                        flush=True,
                    )
    finally:
        if postgres is not None:
            postgres.stop()
    print(
        f"\nmedians over {args.runs} run(s), {args.votes} votes each (50 of them warm-up), "
        f"{args.at_once} at a time:"
    )
    checkouts = dict(sides)
    for (label, backend), rows in results.items():
        cpu = sorted(r["cpu_ms"] for r in rows)[len(rows) // 2]
        main_thread = sorted(r["main_ms"] for r in rows)[len(rows) // 2]
        print(
            f"  {checkouts[label]!s:30} {backend:10} CPU {cpu:.3f} ms/vote"
            f" (loop's thread {main_thread:.3f})"
        )


if __name__ == "__main__":
    main()
