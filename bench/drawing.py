"""Benchmark: what drawing a summary's pictures costs the event loop, in a thread and in the
worker process (bot.services.worker).

    python -m bench.drawing                 # 3 rounds of 15 drawings each way, alternating
    python -m bench.drawing --rounds 5 --drawings 30

A 2 ms sleeper runs on the loop meanwhile: its longest lateness is the loop's longest hold
(wall time), beside the CPU the loop's own thread spent in it. In a thread, matplotlib's Agg
text and Pillow's PNG encoding keep the GIL, so the loop waits with nothing of its own to do (its
CPU stays near 0); in the worker process only the operating system's scheduling is left.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal

from bot.services import worker
from bot.services.summaries.chart import Co2Figures, ComuneBar, Picture, render_pictures
from bot.services.summaries.posting import _draw

BARS = tuple(
    ComuneBar(
        f"Comune di prova numero {i}",
        {"completed": 2, "ongoing": 2, "planned": 1},
        40,
    )
    for i in range(6)
)
CO2 = Co2Figures(Decimal("12.5"), Decimal("30"), Decimal("100"))
TITLE = "Unione 001 · gennaio 2027"


async def _in_thread() -> list[Picture]:
    from bot.i18n import translator

    return await asyncio.to_thread(render_pictures, BARS, CO2, translator("it"), title=TITLE)


async def _in_worker() -> list[Picture]:
    return await worker.run(_draw, BARS, CO2, "it", TITLE)


@dataclass
class Run:
    seconds: float  # for all the drawings
    late: list[float]  # the sleeper's lateness at each turn: the loop's holds
    cpu: float  # the most CPU the loop's thread spent in one hold

    def over(self, threshold: float) -> float:
        """The time the loop spent in holds longer than `threshold`."""
        return sum(x for x in self.late if x > threshold)


async def measure(how: str, drawings: int) -> Run:
    draw = _in_thread if how == "thread" else _in_worker
    await draw()  # warm: imports, the worker's start
    run = Run(0.0, [], 0.0)

    async def sleeper() -> None:
        while True:
            wall, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.002)
            run.late.append(time.perf_counter() - wall - 0.002)
            run.cpu = max(run.cpu, time.thread_time() - cpu)

    task = asyncio.create_task(sleeper())
    started = time.perf_counter()
    for _ in range(drawings):
        await draw()
    run.seconds = time.perf_counter() - started
    task.cancel()
    return run


async def main_async(args: argparse.Namespace) -> None:
    import os

    results: dict[str, list[Run]] = {"thread": [], "worker": []}
    for n in range(args.rounds):
        for how in ("thread", "worker") if n % 2 == 0 else ("worker", "thread"):
            one = await measure(how, args.drawings)
            results[how].append(one)
            print(
                f"round {n + 1} {how:>6}: {args.drawings} drawings {one.seconds:.1f} s, "
                f"{_line(one)}; load " + " ".join(f"{x:.1f}" for x in os.getloadavg()),
                flush=True,
            )
    print(
        "\n| drawn | s per drawing | loop late > 50 ms, per drawing | holds > 50 ms | "
        "p99 hold | longest | loop CPU in a hold |"
    )
    print("|---|---|---|---|---|---|---|")
    for how, runs in results.items():
        late = [x for r in runs for x in r.late]
        drawn = args.drawings * len(runs)
        print(
            f"| {how} | {sum(r.seconds for r in runs) / drawn:.2f} "
            f"| {sum(r.over(0.05) for r in runs) / drawn * 1000:.0f} ms "
            f"| {sum(1 for x in late if x > 0.05)} "
            f"| {statistics.quantiles(late, n=100, method='inclusive')[98] * 1000:.1f} ms "
            f"| {max(late) * 1000:.0f} ms | ≤ {max(r.cpu for r in runs) * 1000:.0f} ms |"
        )


def _line(run: Run) -> str:
    return (
        f"loop late > 50 ms for {run.over(0.05) * 1000:.0f} ms in "
        f"{sum(1 for x in run.late if x > 0.05)} holds, longest {max(run.late) * 1000:.0f} ms "
        f"(loop CPU ≤ {run.cpu * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="A summary's drawing and the event loop")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--drawings", type=int, default=15)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
