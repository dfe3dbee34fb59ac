"""Benchmark: the dashboard's pages for a large Union — time to build each and the SQL it takes.

    python -m bench.dashboard                  # 5, 10, 20 Comuni × 30 actions × 24 months, SQLite
    python -m bench.dashboard --postgres       # the same on a throwaway PostgreSQL as well
    python -m bench.dashboard --comuni 20 --runs 9

The Union is bench/summary.py's (`seed`: per Comune 30 actions and a technician, 24 monthly
rounds with one update per action each — 14,400 updates at 20 Comuni —, two group notes per
Comune a month, one open question per Comune with a vote from every Comune), plus what the
dashboard reads beyond the summary: each completed action's update that made it Completata
(spread over the 24 months, for the CO₂ curve), a photo on every update of one action, 24 past
meetings with an agenda and 2 ahead, 48 recorded decisions. The viewer is the coordinator
(every history readable).

Each page is built as bot/web/server.py builds it: one read transaction around one use case
(*query*, every statement counted by a `before_cursor_execute` listener, BEGIN/COMMIT left
out), then the page function (*render*). The HTTP layer (aiohttp, a few hundred µs) is not in
the figures. Target (issue 20): under 200 ms per page at 20 Comuni on both databases, with a
statement count that does not grow with the number of Comuni.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, update

from bench.run import Databases, machine
from bench.summary import ACTIONS_PER_COMUNE, MONTHS, _month_start, _ms, seed

COORDINATOR_TELEGRAM_ID = 900_000  # bench.summary.seed: person 1, the Union's coordinator


@dataclass
class PageResult:
    backend: str
    comuni: int
    page: str
    statements: int
    query_s: list[float]
    render_s: list[float]
    size: int


async def _extend(database_url: str, comuni: int) -> None:
    """What the dashboard reads beyond the summary's world."""
    from storage.db import Database
    from storage.models import (
        ActionStatus,
        Decision,
        DecisionStatus,
        Meeting,
        PollTable,
        ProgressUpdate,
        UpdateAttachment,
    )

    db = Database(database_url)
    start = _month_start(2024, 1)
    try:
        async with db.transaction() as s:
            # Each completed action became Completata in some month: its update of that round.
            await s.execute(
                update(ProgressUpdate)
                .where(
                    ProgressUpdate.status == ActionStatus.COMPLETED,
                    ProgressUpdate.round_id == (ProgressUpdate.action_id % MONTHS) + 1,
                )
                .values(previous_status=ActionStatus.ONGOING)
            )
            await s.execute(
                insert(UpdateAttachment),
                [
                    {
                        "update_id": m * comuni * ACTIONS_PER_COMUNE + 2,
                        "kind": "photo",
                        "file_id": f"AgACbench{m}",
                        "file_unique_id": f"AQADbench{m}",
                    }
                    for m in range(MONTHS)
                ],
            )
            months = [_month_start(2024 + m // 12, m % 12 + 1) for m in range(MONTHS + 2)]
            await s.execute(
                insert(Meeting),
                [
                    {
                        "union_id": 1,
                        "table": PollTable.BOTH,
                        "title": f"Team energia {m + 1}",
                        "agenda": "1. Stato delle azioni\n2. Bandi\n3. Varie",
                        "place": "Sala consiliare",
                        "starts_at": when + timedelta(days=14),
                        "ends_at": when + timedelta(days=14, hours=2),
                        "ics_uid": f"bench-{m}@dashboard",
                        "created_at": start,
                    }
                    for m, when in enumerate(months)
                ],
            )
            await s.execute(
                insert(Decision),
                [
                    {
                        # Explicit ids: bench.summary.seed wrote its decisions with theirs, so
                        # PostgreSQL's sequence still starts at 1.
                        "id": 10_000 + d,
                        "union_id": 1,
                        "question": f"Decisione registrata numero {d + 1}",
                        "outcome_text": f"Decisione registrata numero {d + 1}",
                        "status": DecisionStatus.APPROVED,
                        "created_at": months[d // 2] + timedelta(days=15),
                        "closed_at": months[d // 2] + timedelta(days=15),
                    }
                    for d in range(2 * MONTHS)
                ],
            )
    finally:
        await db.dispose()


Build = Callable[[Any, Any], Awaitable[Any]]


def _pages(now: Any, action_id: int) -> dict[str, tuple[Build, Callable[[Any], str]]]:
    """page → (use case on a session and a Who, render of its outcome)."""
    from bot.i18n import translator
    from bot.services import dashboard as uc
    from bot.views.dashboard import meetings, pages, public
    from bot.views.dashboard.links import AppLinks

    tr, links = translator("it"), AppLinks("/")

    def press(note: Any) -> str:
        return meetings.press_page(
            note.viewer,
            public.press_note_text(note.progress, timezone=note.timezone, public_url=None),
            None,
            tr,
            links,
        )

    return {
        "overview": (
            lambda s, who: uc.union_overview(s, who=who, union_id=1, now=now),
            lambda o: pages.overview_page(o, tr, links),
        ),
        "actions (all)": (
            lambda s, who: uc.action_list(s, who=who, union_id=1, comune="", status="", page=1),
            lambda o: pages.actions_page(o, tr, links),
        ),
        "actions (a Comune)": (
            lambda s, who: uc.action_list(s, who=who, union_id=1, comune="1", status="o", page=1),
            lambda o: pages.actions_page(o, tr, links),
        ),
        "action + history": (
            lambda s, who: uc.action_detail(s, who=who, union_id=1, action_id=action_id),
            lambda o: pages.action_page(o, tr, links),
        ),
        "meetings": (
            lambda s, who: uc.meeting_calendar(s, who=who, union_id=1, now=now),
            lambda o: meetings.meetings_page(o, tr, links),
        ),
        "decisions": (
            lambda s, who: uc.decision_register(s, who=who, union_id=1),
            lambda o: meetings.decisions_page(o, tr, links),
        ),
        "press note": (
            lambda s, who: uc.press_note(s, who=who, union_id=1, now=now),
            press,
        ),
        "public page": (
            lambda s, who: uc.public_progress(s, slug="benchpublicpage1", now=now),
            lambda o: public.public_page(o, tr, links, base_url="https://energia.example.org/"),
        ),
    }


async def measure(database_url: str, backend: str, comuni: int, runs: int) -> list[PageResult]:
    from bot.services import dashboard as uc
    from storage.db import Database
    from storage.models import PublicPage

    await seed(database_url, comuni)
    await _extend(database_url, comuni)
    db = Database(database_url)
    now = _month_start(2024 + (MONTHS - 1) // 12, (MONTHS - 1) % 12 + 1) + timedelta(days=12)
    async with db.transaction() as s:
        s.add(PublicPage(union_id=1, slug="benchpublicpage1", enabled=True, updated_at=now))
    who = uc.Who(COORDINATOR_TELEGRAM_ID, "it", "it")
    statements: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    results = []
    try:
        for name, (build, render) in _pages(now, action_id=2).items():
            query_s: list[float] = []
            render_s: list[float] = []
            count = size = 0
            for run in range(runs + 1):  # run 0 warms the pool and the statement caches
                statements.clear()
                gc.collect()
                t0 = time.perf_counter()
                async with db.transaction() as s:
                    outcome = await build(s, who)
                t1 = time.perf_counter()
                if outcome is None or isinstance(outcome, uc.NotAllowed):
                    raise RuntimeError(f"{name}: {outcome}")
                body = render(outcome)
                t2 = time.perf_counter()
                if run == 0:
                    count, size = len(statements), len(body.encode())
                    continue
                if len(statements) != count:
                    raise RuntimeError(f"{name}: statement count changed between runs")
                query_s.append(t1 - t0)
                render_s.append(t2 - t1)
            if name == "overview" and "Comune 01" not in body:
                raise RuntimeError("the overview does not show the seeded Comuni")
            results.append(PageResult(backend, comuni, name, count, query_s, render_s, size))
    finally:
        await db.dispose()
    return results


async def main_async(args: argparse.Namespace) -> None:
    sizes = [int(n) for n in args.comuni.split(",")]
    backends = ["sqlite", "postgres"] if args.postgres else ["sqlite"]
    workroot = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    dbs = Databases()
    results: list[PageResult] = []
    try:
        print(
            f"# {machine()}; {ACTIONS_PER_COMUNE} actions per Comune, {MONTHS} "
            f"months of updates, medians of {args.runs} builds after a warm-up"
        )
        for backend in backends:
            for comuni in sizes:
                url = await dbs.url(backend, workroot)
                results += await measure(url, backend, comuni, args.runs)
                print(f"  {backend} {comuni} Comuni done", flush=True)
    finally:
        dbs.close()
        shutil.rmtree(workroot, ignore_errors=True)
    print()
    print(
        "| database   | Comuni | page               | SQL | query ms | render ms | total ms "
        "| KB    |"
    )
    print(
        "|------------|--------|--------------------|-----|----------|-----------|----------"
        "|-------|"
    )
    for r in results:
        total = _ms(r.query_s) + _ms(r.render_s)
        print(
            f"| {r.backend:<10} | {r.comuni:>6} | {r.page:<18} | {r.statements:>3} "
            f"| {_ms(r.query_s):>8.1f} | {_ms(r.render_s):>9.1f} | {total:>8.1f} "
            f"| {r.size / 1024:>5.1f} |"
        )
    worst = max(results, key=lambda r: _ms(r.query_s) + _ms(r.render_s))
    print(
        f"slowest: {worst.page} ({worst.backend}, {worst.comuni} Comuni), "
        f"{_ms(worst.query_s) + _ms(worst.render_s):.1f} ms"
    )
    for backend in backends:
        for page in dict.fromkeys(r.page for r in results):
            counts = {
                r.comuni: r.statements for r in results if (r.backend, r.page) == (backend, page)
            }
            if len(set(counts.values())) != 1:
                print(f"SQL statements GROW with the Comuni ({backend}, {page}): {counts}")
    print(
        "SQL statements per page: the same at every size"
        if all(
            len({r.statements for r in results if (r.backend, r.page) == (b, p)}) == 1
            for b in backends
            for p in {r.page for r in results}
        )
        else ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Dashboard benchmark (see bench/README.md)")
    parser.add_argument("--comuni", default="5,10,20", help="Union sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="builds per page (median reported)")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
