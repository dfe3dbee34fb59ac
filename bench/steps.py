"""The CPU of a round answer's steps, in-process, without Telegram.

The bench.run burst's Union (20 Comuni, 20 technicians with 10 actions each, the month's round
open) is seeded; then each technician in turn answers an action as the burst presses it — the
action (`pick`), «🔄 In corso» (`status`, saved at once), a percentage (`progress`) — through
what the real bot runs for a step without PTB: the update's transaction with its update id
(bot.scope.update_transaction's body: `mark_update_processed`), the use case
(`bot.services.progress.press_step`), the screen rendered (`bot.views.updates.render_screen`)
and turned into PTB's markup (`bot.markup.markup`). Printed per step: this process's CPU
(`time.process_time`, after a warm-up), the statements sent (`before_cursor_execute`) and, on
PostgreSQL, the server's CPU.

`--compare DIR` runs the same measure on another checkout (e.g. a worktree of main) in a
process of its own, the two alternating over `--runs`; `--profile FILE` writes a cProfile of
this checkout's steps (one run, SQLite).

    python -m bench.steps                              # 1,200 steps on SQLite
    python -m bench.steps --postgres --runs 3 --compare /work/main
    python -m bench.steps --profile /tmp/steps.prof
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

VERBS = ("pick", "status", "progress")  # an answer as the burst presses it


async def measure(backend: str, steps: int, warm_up: int, profile: str) -> dict[str, Any]:
    """CPU ms and statements per step (by verb and overall) of `steps` steps after `warm_up`."""
    from sqlalchemy import event

    from bench.run import Databases, _seed_union, postgres_cpu_seconds
    from bot.i18n import translator
    from bot.markup import markup
    from bot.services import progress
    from bot.views.updates import render_screen
    from storage.db import Database
    from storage.repositories import core as core_repo

    databases = Databases()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            url = await databases.url(backend, Path(workdir))
            people = [
                SimpleNamespace(id=10_000 + n, full_name=f"Membro{n} Bench") for n in range(60)
            ]
            seeded = await _seed_union(url, people, -100_000)  # type: ignore[arg-type]
            db = Database(url)
            tr = translator("it")
            statements: list[int] = [0]

            def count(*_args: Any) -> None:
                statements[0] += 1

            event.listen(db.engine.sync_engine, "before_cursor_execute", count)
            technicians = list(seeded.actions)
            answered = Counter[int]()
            cpu: dict[str, list[float]] = {verb: [] for verb in VERBS}
            sent: dict[str, list[int]] = {verb: [] for verb in VERBS}
            update_id = 0
            gc.collect()
            gc.freeze()  # as python -m bot does once started (bot.app.freeze_heap_after_start)
            profiler = None
            server = 0.0
            try:
                for n in range(warm_up + steps):
                    if n == warm_up:
                        server = postgres_cpu_seconds() if backend == "postgres" else 0.0
                        if profile:
                            import cProfile

                            profiler = cProfile.Profile()
                            profiler.enable()
                    user = technicians[(n // len(VERBS)) % len(technicians)]
                    verb = VERBS[n % len(VERBS)]
                    mine = seeded.actions[user]
                    action = mine[answered[user] % len(mine)]
                    if verb == "progress":
                        answered[user] += 1
                    arg = {"status": "ongoing", "progress": str((25, 50, 75)[n // 3 % 3])}.get(verb)
                    update_id += 1
                    statements[0] = 0
                    started = time.process_time()
                    async with db.transaction() as session:
                        now = datetime.now(UTC)
                        assert await core_repo.mark_update_processed(
                            session, update_id=update_id, now=now
                        )
                        shown = await progress.press_step(
                            session,
                            verb=verb,
                            telegram_user_id=user,
                            chat_id=user,
                            target=action,
                            arg=arg,
                            now=now,
                        )
                    assert isinstance(shown, progress.StepShown), shown
                    _text, keyboard = render_screen(shown.edit, tr)
                    markup(keyboard)
                    if n >= warm_up:
                        cpu[verb].append(time.process_time() - started)
                        sent[verb].append(statements[0])
            finally:
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(profile)
                server = (postgres_cpu_seconds() - server if backend == "postgres" else 0.0) / steps
                event.remove(db.engine.sync_engine, "before_cursor_execute", count)
                await db.dispose()
    finally:
        databases.close()
    every = [c for verb in VERBS for c in cpu[verb]]
    return {
        "cpu_ms": sum(every) / len(every) * 1000,
        "by_verb": {v: statistics.mean(cpu[v]) * 1000 for v in VERBS},
        "statements": {v: statistics.mean(sent[v]) for v in VERBS},
        "server_ms": server * 1000,
    }


def _in_checkout(checkout: Path, backend: str, steps: int, warm_up: int) -> dict[str, Any]:
    """This measure on another checkout's code, in a process of its own."""
    from bench.commits import json_in_checkout  # this checkout's: the other may not have it

    args = ("--inner", backend, "--steps", str(steps), "--warm-up", str(warm_up))
    return json_in_checkout(__file__, checkout, *args)


def _line(run: int, label: str, backend: str, r: dict[str, Any]) -> str:
    verbs = ", ".join(f"{v} {r['by_verb'][v]:.2f} ms / {r['statements'][v]:.0f} st." for v in VERBS)
    server = f" | PostgreSQL {r['server_ms']:.2f} ms" if backend == "postgres" else ""
    return f"run {run} {label:<16} {backend:<8} {r['cpu_ms']:.2f} ms CPU a step ({verbs}){server}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_200)
    parser.add_argument("--warm-up", type=int, default=120)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too")
    parser.add_argument("--compare", default="", help="another checkout, measured alternately")
    parser.add_argument("--profile", default="", help="a cProfile of this checkout's steps")
    parser.add_argument("--inner", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(asyncio.run(measure(args.inner, args.steps, args.warm_up, ""))))
        return
    if args.profile:
        result = asyncio.run(measure("sqlite", args.steps, args.warm_up, args.profile))
        print(_line(1, "this checkout", "sqlite", result))
        return
    from bench.commits import checkouts

    sides = checkouts(args.compare)
    backends = ("sqlite", "postgres") if args.postgres else ("sqlite",)
    print(f"{args.steps} update steps after {args.warm_up} of warm-up, {args.runs} run(s)")
    results: dict[tuple[str, str], list[float]] = {}
    for run in range(args.runs):
        for backend in backends:
            for label, checkout in sides if run % 2 == 0 else sides[::-1]:
                r = _in_checkout(checkout, backend, args.steps, args.warm_up)
                results.setdefault((label, backend), []).append(r["cpu_ms"])
                print(_line(run + 1, label, backend, r), flush=True)
    for (label, backend), values in results.items():
        print(f"median {label:<16} {backend:<8} {statistics.median(values):.2f} ms CPU a step")


if __name__ == "__main__":
    main()
