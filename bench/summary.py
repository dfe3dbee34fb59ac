"""Benchmark: the monthly summary of a large Union — time to build it and SQL queries it takes.

    python -m bench.summary                  # 5, 10, 20 Comuni × 30 actions × 24 months, SQLite
    python -m bench.summary --postgres       # the same on a throwaway PostgreSQL as well
    python -m bench.summary --comuni 5,10,20,40 --runs 5

The world is written straight through the models (bulk inserts, no bot): per Comune 30 actions
and one technician, 24 monthly rounds with one progress update per action per round (20 Comuni:
14,400 updates) and two notes per Comune a month in the technical group, the previous month's
scheduled summary (the baseline), and one open political decision per Comune with a vote from
every Comune; on PostgreSQL the tables are then analysed, as autovacuum has them in use. Then
the summary of the latest round is built the way the tick builds it
(`bot/handlers/summaries/scheduled.py:_post_summary`), in four timed stages:

- *query*: `bot.services.summaries.read_scheduled_summary` in one transaction
  (`last_scheduled_summary` + `summary_facts`, then `build_summary_input` and the chart's bars
  on the rows read), every statement counted by a `before_cursor_execute` listener on the
  engine (BEGIN included);
- *text*: `summary_texts` (`render_summary`, Italian);
- *queue*: `queue_summary` in its own transaction, as the tick queues the text before drawing
  (the parts to the political table, the open questions' vote messages), its statements
  counted as the read's (in brackets in the table); removed afterwards, untimed. *text queued* =
  query + text + queue: when the text can go out;
- *chart*: the pictures (`chart.render_pictures` since issue 16: per Comune bars in pictures of at
  most 12 Comuni, and the CO₂; before it `render_chart`, one picture: the bench draws what the
  checkout it runs from has; matplotlib, PNG, in a thread in the bot). The bot imports matplotlib only
  for its first chart; that one-off cost is measured apart ("matplotlib import"), before any
  build, and the warm-up build (not reported) pays the rest of the first-chart set-up.

The query count must not grow with the number of Comuni: the table prints it side by side, with
the text's length (messages, and characters as Telegram counts them) and the number of pictures.
The pictures are drawn in a thread, as in the bot, while a probe task asks for the event loop
every millisecond: the table prints the longest it waited, with the build's CPU time (all
threads: on a shared machine a wall-clock time also counts the moments the process was not run).

`--compare DIR` measures another checkout (a worktree of main, say) in the same run: for each
size this file runs once on each checkout's code, in its own process with that checkout's
`.venv`, the order alternating (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text

from bench.run import Databases, machine

ACTIONS_PER_COMUNE = 30
MONTHS = 24
STATUSES = ("not_started", "ongoing", "ongoing", "postponed", "completed")


@dataclass
class SummaryResult:
    backend: str
    comuni: int
    updates: int
    queries: int
    query_s: list[float]
    text_s: list[float]
    chart_s: list[float]
    parts: int
    chart_bytes: int
    chars: int = 0  # the text messages' length, as Telegram counts it
    pictures: int = 0
    cpu_s: list[float] = field(default_factory=list)  # the whole build's CPU (all threads)
    chart_cpu_s: list[float] = field(default_factory=list)
    loop_wait_s: list[float] = field(default_factory=list)  # the loop's longest wait, drawing
    queue_s: list[float] = field(default_factory=list)  # the text queued (before the pictures)
    queue_queries: int = 0  # the queueing transaction's statements
    checkout: str = ""


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, 8, 0, tzinfo=UTC)


async def seed(database_url: str, comuni: int) -> tuple[int, int]:
    """Write the Union straight through the models. Returns (union_id, number of updates)."""
    from storage import migrate
    from storage.db import Database
    from storage.models import (
        Action,
        Decision,
        DecisionStatus,
        DecisionVote,
        DecisionVoteChoice,
        Member,
        MemberMunicipality,
        MemberStatus,
        Municipality,
        Person,
        ProgressUpdate,
        Role,
        RoundStatus,
        Summary,
        SummaryKind,
        Union,
        UpdateNote,
        UpdateRound,
        UpdateSettings,
        UpdateSource,
    )

    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        start = _month_start(2024, 1)
        months = [_month_start(2024 + m // 12, m % 12 + 1) for m in range(MONTHS)]
        now = months[-1] + timedelta(days=12)
        async with db.transaction() as session:
            await session.execute(
                insert(Union),
                [{"id": 1, "name": "Unione Bench", "timezone": "Europe/Rome", "created_at": start}],
            )
            await session.execute(insert(UpdateSettings), [{"union_id": 1, "enabled": False}])
            await session.execute(
                insert(Municipality),
                [
                    {
                        "id": c + 1,
                        "union_id": 1,
                        "name": f"Comune {c + 1:02d}",
                        "name_key": f"comune {c + 1:02d}",
                        "created_at": start,
                    }
                    for c in range(comuni)
                ],
            )
            # Person/member 1 is the coordinator; 2..comuni+1 one technician per Comune.
            await session.execute(
                insert(Person),
                [
                    {
                        "id": p + 1,
                        "telegram_user_id": 900_000 + p,
                        "display_name": f"Persona {p}",
                        "reachable": True,
                        "created_at": start,
                    }
                    for p in range(comuni + 1)
                ],
            )
            await session.execute(
                insert(Member),
                [
                    {
                        "id": p + 1,
                        "union_id": 1,
                        "person_id": p + 1,
                        "role": Role.STAFF if p == 0 else Role.TECNICO,
                        "status": MemberStatus.ACTIVE,
                        "is_coordinator": p == 0,
                        "requested_at": start,
                        "decided_at": start,
                    }
                    for p in range(comuni + 1)
                ],
            )
            await session.execute(
                insert(MemberMunicipality),
                [{"member_id": c + 2, "municipality_id": c + 1} for c in range(comuni)],
            )
            actions: list[dict[str, Any]] = []
            for c in range(comuni):
                for a in range(ACTIONS_PER_COMUNE):
                    actions.append(
                        {
                            "id": c * ACTIONS_PER_COMUNE + a + 1,
                            "union_id": 1,
                            "code": f"C{c + 1:02d}.{a + 1:02d}",
                            "title": f"Azione {a + 1} del Comune {c + 1}: illuminazione pubblica LED",
                            "municipality_id": c + 1,
                            "status": STATUSES[a % len(STATUSES)],
                            "progress": (a * 7) % 100,
                            "co2_avoided_t": a * 1.5,
                            "created_at": start - timedelta(days=30),
                            "updated_at": now,
                        }
                    )
            await session.execute(insert(Action), actions)
            await session.execute(
                insert(UpdateRound),
                [
                    {
                        "id": m + 1,
                        "union_id": 1,
                        "period": f"{opened.year}-{opened.month:02d}",
                        "opened_at": opened,
                        "deadline_at": opened + timedelta(days=10),
                        "status": RoundStatus.OPEN if m == MONTHS - 1 else RoundStatus.CLOSED,
                        "closed_at": None if m == MONTHS - 1 else opened + timedelta(days=10),
                    }
                    for m, opened in enumerate(months)
                ],
            )
            updates = []
            update_id = 0
            for m, opened in enumerate(months):
                for action in actions:
                    update_id += 1
                    a = action["id"]
                    # Most actions move a little each month; every fifth one stays put.
                    moves = a % 5 != 0
                    progress_before = min(100, (m * 4 + a) % 100)
                    updates.append(
                        {
                            "id": update_id,
                            "action_id": a,
                            "member_id": (a - 1) // ACTIONS_PER_COMUNE + 2,
                            "round_id": m + 1,
                            "source": UpdateSource.PRIVATE,
                            "previous_status": action["status"],
                            "status": action["status"],
                            "previous_progress": progress_before,
                            "progress": min(100, progress_before + (4 if moves else 0)),
                            "note": "Lavori proseguiti, sopralluogo fatto." if a % 7 == 0 else None,
                            "created_at": opened + timedelta(days=1, minutes=a % 600),
                        }
                    )
            for chunk in range(0, len(updates), 5000):
                await session.execute(insert(ProgressUpdate), updates[chunk : chunk + 5000])
            # The technicians also write in the technical group: two notes per Comune a month.
            await session.execute(
                insert(UpdateNote),
                [
                    {
                        "union_id": 1,
                        "round_id": m + 1,
                        "member_id": c + 2,
                        "municipality_id": c + 1,
                        "source": UpdateSource.GROUP_REPLY,
                        "text": f"Sopralluogo {k + 1} fatto, il cantiere procede; la ditta chiede "
                        f"una proroga di due settimane per la consegna dei materiali ({m}).",
                        "chat_id": -100,
                        "message_id": (m * comuni + c) * 2 + k + 1,
                        "created_at": opened + timedelta(days=2 + k, minutes=c),
                    }
                    for m, opened in enumerate(months)
                    for c in range(comuni)
                    for k in range(2)
                ],
            )
            previous = months[-2]
            await session.execute(
                insert(Summary),
                [
                    {
                        "union_id": 1,
                        "kind": SummaryKind.SCHEDULED,
                        "period": f"{previous.year}-{previous.month:02d}",
                        "round_id": MONTHS - 1,
                        "late": False,
                        "created_at": previous + timedelta(days=11),
                        "posted_at": previous + timedelta(days=11),
                    }
                ],
            )
            await session.execute(
                insert(Decision),
                [
                    {
                        "id": c + 1,
                        "union_id": 1,
                        "action_id": c * ACTIONS_PER_COMUNE + 1,
                        "question": f"Approvare il progetto esecutivo del Comune {c + 1}?",
                        "status": DecisionStatus.OPEN,
                        "asked_by_member_id": c + 2,
                        "created_at": months[-1] + timedelta(days=2, minutes=c),
                    }
                    for c in range(comuni)
                ],
            )
            choices = list(DecisionVoteChoice)
            await session.execute(
                insert(DecisionVote),
                [
                    {
                        "decision_id": d + 1,
                        "municipality_id": c + 1,
                        "member_id": c + 2,
                        "choice": choices[(c + d) % len(choices)],
                        "updated_at": months[-1] + timedelta(days=3),
                    }
                    for d in range(comuni)
                    for c in range(comuni)
                ],
            )
        if db.engine.dialect.name == "postgresql":
            # A Union's tables in use have statistics (autovacuum analyses a table after a tenth
            # of its rows changed); straight after a bulk load they have none, and the planner
            # then reads the updates through a nested loop, 5× slower (bench/README.md,
            # "Session 10 — the summary's build").
            async with db.transaction() as session:
                await session.execute(text("ANALYZE"))
        return 1, len(updates)
    finally:
        await db.dispose()


async def measure(database_url: str, backend: str, comuni: int, runs: int) -> SummaryResult:
    from bot.i18n import translator
    from bot.services import summaries
    from bot.services.summaries import chart
    from bot.views.html_split import telegram_length
    from storage.db import Database
    from storage.models import UpdateRound

    union_id, n_updates = await seed(database_url, comuni)
    db = Database(database_url)
    statements: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        statements.append(statement)

    tr = translator("it")
    query_s: list[float] = []
    text_s: list[float] = []
    chart_s: list[float] = []
    queue_s: list[float] = []
    cpu_s: list[float] = []
    chart_cpu_s: list[float] = []
    loop_wait_s: list[float] = []
    queries = queue_queries = parts_n = chart_bytes = chars = pictures_n = 0
    try:
        async with db.transaction() as session:
            round_ = await session.get(UpdateRound, MONTHS)
            assert round_ is not None
        now = round_.deadline_at + timedelta(minutes=5)
        for run in range(runs + 1):  # run 0 warms the connection pool and caches
            statements.clear()
            # Each build starts from a collected heap: otherwise a full collection (tens of
            # thousands of ORM objects alive) lands in a random build and doubles its time.
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            async with db.transaction() as session:
                draft = await summaries.read_scheduled_summary(
                    session, due=summaries.DueSummary(round_), now=now, language="it"
                )
            t1 = time.perf_counter()
            read_statements = len(statements)
            assert draft is not None
            parts = summaries.summary_texts(draft, language="it")
            t2 = time.perf_counter()
            # The text queued as the tick queues it, before the pictures: the parts to the
            # political table (the seed links no group: the coordinator's private copy) and
            # the open questions' vote messages, committed; then removed, untimed, so that the
            # next build queues it again.
            async with db.transaction() as session:
                await summaries.queue_summary(
                    session,
                    due=summaries.DueSummary(round_),
                    draft=draft,
                    now=now,
                    language="it",
                    **_pictures_apart(summaries.queue_summary),
                )
            cq, tq = time.process_time(), time.perf_counter()
            queue_statements = len(statements) - read_statements
            await _unqueue(db, round_.period)
            c2, t2b = time.process_time(), time.perf_counter()
            # In a thread, as the bot draws them (`summary_pictures`), while a probe asks for
            # the event loop every millisecond: its longest wait is what drawing costs the
            # loop. Main (before issue 16) drew one chart, later checkouts the pictures that
            # have something to show: whichever this checkout has.
            probe = _LoopProbe()
            probing = asyncio.create_task(probe.run())
            if hasattr(chart, "render_pictures"):
                pictures = await asyncio.to_thread(
                    chart.render_pictures, draft.bars, draft.co2, tr, title=draft.title
                )
                pngs = [p.png for p in pictures]
            else:
                render_chart = getattr(chart, "render_chart")  # noqa: B009 (before issue 16)
                pngs = [await asyncio.to_thread(render_chart, draft.bars, tr, title=draft.title)]
            c3, t3 = time.process_time(), time.perf_counter()
            probing.cancel()
            if run == 0:
                queries, queue_queries = read_statements, queue_statements
                continue
            if read_statements != queries:
                raise RuntimeError(f"query count changed between runs: {queries} → {statements}")
            query_s.append(t1 - t0)
            text_s.append(t2 - t1)
            queue_s.append(tq - t2)
            chart_s.append(t3 - t2b)
            cpu_s.append(cq - c0 + c3 - c2)
            chart_cpu_s.append(c3 - c2)
            loop_wait_s.append(probe.longest)
            parts_n, chart_bytes = len(parts), sum(len(p) for p in pngs)
            chars, pictures_n = sum(telegram_length(p) for p in parts), len(pngs)
            # Sanity: the summary really is about this Union.
            data = draft.data
            if draft.union_id != union_id:
                raise RuntimeError("the summary is not the seeded Union's")
            if not any("Comune 01" in p for p in parts) or len(data.comuni) != comuni:
                raise RuntimeError("the summary does not show the seeded Comuni")
            if not all(len(c.notes) == 2 for c in data.comuni):
                raise RuntimeError("the summary does not carry last month's group notes")
            if len(data.questions) != comuni:
                raise RuntimeError(f"{len(data.questions)} open decisions, expected {comuni}")
    finally:
        await db.dispose()
    return SummaryResult(
        backend,
        comuni,
        n_updates,
        queries,
        query_s,
        text_s,
        chart_s,
        parts_n,
        chart_bytes,
        chars,
        pictures_n,
        cpu_s,
        chart_cpu_s,
        loop_wait_s,
        queue_s=queue_s,
        queue_queries=queue_queries,
    )


def _pictures_apart(queue_summary: Any) -> dict[str, Any]:
    """Before the text went out first (main before issue 16's last part) `queue_summary` took
    the pictures too: none, so that both checkouts queue the same."""
    return {"pictures": []} if "pictures" in inspect.signature(queue_summary).parameters else {}


async def _unqueue(db: Any, period: str) -> None:
    """Forget the queued summary (its rows, its outbox), so that the next build queues it."""
    from sqlalchemy import delete

    from storage.models import OutboxMention, OutboxMessage, Summary

    async with db.transaction() as session:
        await session.execute(delete(OutboxMention))
        await session.execute(delete(OutboxMessage))
        await session.execute(delete(Summary).where(Summary.period == period))


class _LoopProbe:
    """Asks for the event loop every millisecond; `longest`: the longest it waited past that."""

    def __init__(self) -> None:
        self.longest = 0.0

    async def run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.001)
            self.longest = max(self.longest, time.perf_counter() - asked - 0.001)


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def measure_sizes(backends: list[str], sizes: list[int], runs: int) -> list[SummaryResult]:
    """Each size on each database, in this process (after matplotlib's import, timed apart)."""
    t0 = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: F401

    print(f"  matplotlib import: {(time.perf_counter() - t0) * 1000:.0f} ms (once per process)")
    workroot = Path(tempfile.mkdtemp(prefix="bench-summary-"))
    dbs = Databases()
    results: list[SummaryResult] = []
    try:
        for backend in backends:
            for comuni in sizes:
                url = await dbs.url(backend, workroot)
                results.append(await measure(url, backend, comuni, runs))
                print(f"  {backend} {comuni} Comuni done", flush=True)
    finally:
        dbs.close()
        shutil.rmtree(workroot, ignore_errors=True)
    return results


def in_checkout(checkout: Path, backend: str, comuni: int, runs: int) -> SummaryResult:
    """This file's measure run on another checkout's code, with its own environment."""
    python = checkout / ".venv" / "bin" / "python"
    out = subprocess.run(
        [
            str(python if python.exists() else sys.executable),
            str(Path(__file__).resolve()),
            "--inner",
            "--backends",
            backend,
            "--comuni",
            str(comuni),
            "--runs",
            str(runs),
        ],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (result,) = json.loads(out.splitlines()[-1])
    return SummaryResult(**result)


def print_table(results: list[SummaryResult]) -> None:
    print()
    print(
        "| checkout | database | Comuni | updates | SQL queries (queue) | query ms | text ms | queue ms "
        "| **text queued ms** | chart ms | total ms | CPU ms (chart) "
        "| loop's longest wait, drawing | messages | characters | pictures |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        first = _ms(r.query_s) + _ms(r.text_s) + _ms(r.queue_s)
        print(
            f"| {r.checkout or 'this'} | {r.backend} | {r.comuni} | {r.updates} "
            f"| {r.queries} ({r.queue_queries}) "
            f"| {_ms(r.query_s):.0f} | {_ms(r.text_s):.0f} | {_ms(r.queue_s):.0f} "
            f"| **{first:.0f}** | {_ms(r.chart_s):.0f} | {first + _ms(r.chart_s):.0f} "
            f"| {_ms(r.cpu_s):.0f} ({_ms(r.chart_cpu_s):.0f}) | {_ms(r.loop_wait_s):.1f} ms "
            f"| {r.parts} | {r.chars} | {r.pictures} |"
        )
    for checkout in dict.fromkeys(r.checkout for r in results):
        for backend in dict.fromkeys(r.backend for r in results):
            counts = {
                r.comuni: r.queries
                for r in results
                if r.backend == backend and r.checkout == checkout
            }
            verdict = "constant" if len(set(counts.values())) == 1 else "GROWS with the Comuni"
            side = ", ".join(f"{c} Comuni: {q}" for c, q in counts.items())
            print(f"SQL queries ({checkout or 'this'}, {backend}): {side} — {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Summary benchmark (see bench/README.md)")
    parser.add_argument("--comuni", default="5,10,20", help="Union sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="builds per size (median reported)")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument(
        "--compare", default="", help="another checkout: each size measured on both, alternately"
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backends", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(n) for n in args.comuni.split(",")]
    backends = ["sqlite", "postgres"] if args.postgres else ["sqlite"]
    if args.inner:
        results = asyncio.run(measure_sizes(args.backends.split(","), sizes, args.runs))
        print(json.dumps([asdict(r) for r in results]))
        return
    print(
        f"# {machine()}; {ACTIONS_PER_COMUNE} actions per Comune, {MONTHS} "
        f"monthly rounds, medians of {args.runs} builds after a warm-up; CPU: all threads"
    )
    if not args.compare:
        print_table(asyncio.run(measure_sizes(backends, sizes, args.runs)))
        return
    # Each checkout in its own process (its own matplotlib, its own caches), the order of the
    # two alternating from one measure to the next.
    here = Path(__file__).resolve().parents[1]
    sides = [("this", here), (Path(args.compare).name, Path(args.compare).resolve())]
    results = []
    n = 0
    for backend in backends:
        for comuni in sizes:
            for label, checkout in sides if n % 2 == 0 else sides[::-1]:
                result = in_checkout(checkout, backend, comuni, args.runs)
                result.checkout = label
                results.append(result)
                print(f"  {label} {backend} {comuni} Comuni done", flush=True)
            n += 1
    results.sort(key=lambda r: (r.backend, r.comuni, r.checkout != "this"))
    print_table(results)


if __name__ == "__main__":
    main()
