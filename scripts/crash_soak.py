"""The long version of the crash test: many seeds, more kills per seed.

    python scripts/crash_soak.py --seeds 50 --kills 10      # ~ 25 s per seed
    python scripts/crash_soak.py --month --seeds 20 --kills 15   # the month, ~ 1-1.5 min per seed
    python scripts/crash_soak.py --month --seeds 5 --kills 10 --postgres   # on PostgreSQL

Each seed starts the bot as `python -m bot` against the fake Telegram, SIGKILLs it `--kills`
times at random moments while it sends outbox messages and answers buttons, restarts it, and
checks that nothing was sent twice and nothing was lost silently (see
tests/reliability/crash.py). With `--month` each seed lives a scripted month of every feature
instead (monthly poll, votes, reminders, close, update round, answers, summary, meeting
reminders; tests/reliability/crash_month.py). With `--postgres` the bot runs on PostgreSQL:
one throwaway server for the run (tests/pg_server.py; or the one TEST_DATABASE_URL names), a
fresh database per seed; at the end of each seed no connection may be left on the server.
Exit status 1 when any seed found a problem.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import pg_server
from tests.reliability.crash import CrashReport, run_crash_scenario
from tests.reliability.crash_month import MonthReport, run_month_scenario


async def _main(args: argparse.Namespace) -> int:
    if not args.postgres:
        return await _seeds(args, None)
    reason = pg_server.unavailable_reason()
    if reason is not None:
        print("--postgres:", reason)
        return 2
    server = pg_server.start()
    try:
        return await _seeds(args, server)
    finally:
        if server.data_dir is not None:
            log = (server.data_dir.parent / "log").read_text(errors="replace")
            aborted = log.count("unexpected EOF on client connection with an open transaction")
            print(f"PostgreSQL: {aborted} transactions of killed bots rolled back by the server")
        server.stop()


async def _seeds(args: argparse.Namespace, server: pg_server.PgServer | None) -> int:
    failed = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix=f"crash-{seed}-") as tmp:
            url = await pg_server.create_database(server.admin_url, "te_crash") if server else None
            report: CrashReport | MonthReport
            if args.month:
                report = await run_month_scenario(
                    Path(tmp),
                    seed=seed,
                    kills=args.kills,
                    gap=(args.min_gap, args.max_gap),
                    database_url=url,
                )
            else:
                report = await run_crash_scenario(
                    Path(tmp), seed=seed, kills=args.kills, users=args.users, database_url=url
                )
            print(report.line(), flush=True)
            for problem in report.problems:
                print("   ", problem)
            if report.problems:
                failed += 1
                if args.keep:
                    kept = f"crash-{seed}.log"
                    shutil.copyfile(os.path.join(tmp, "bot.log"), kept)
                    print("    log kept in", kept)
    print(f"{args.seeds - failed}/{args.seeds} seeds OK")
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument(
        "--month", action="store_true", help="a scripted month of every feature (crash_month.py)"
    )
    parser.add_argument(
        "--min-gap", type=float, default=0.3, help="--month: least seconds between two kills"
    )
    parser.add_argument(
        "--max-gap", type=float, default=2.0, help="--month: most seconds between two kills"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on PostgreSQL: a throwaway server for the run, a fresh database per seed",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bot's log of a failed seed")
    sys.exit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
