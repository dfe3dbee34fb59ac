"""What an upload costs the running bot: time to the answer and the bot's peak memory, for the
shared-strings bomb of issue 14 and a legal 2,000-row workbook, optionally four bombs at once
with a bystander's /aiuto. The real bot (`python -m bot`) against the fake Telegram server, on a
fresh SQLite database; `--repo` runs another checkout's bot (e.g. main) side by side.

    python scripts/measure_import.py                      # this checkout
    python scripts/measure_import.py --repo /path/to/main --repo .   # before / after
    python scripts/measure_import.py --four               # also four bombs at once + /aiuto

Peak RSS is the bot process's VmHWM after each step (it only grows: read the step where it
jumps). The worker processes' own peaks, when the bot has them, come from its log.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.run import TOKEN, _proc_status_kb, _stop, _wait  # noqa: E402
from tests.fakes.fake_world import FakeUser  # noqa: E402
from tests.fakes.telegram_server import FakeTelegram  # noqa: E402
from tests.import_files import legal_workbook, shared_strings_bomb  # noqa: E402

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _answer(fake: FakeTelegram, user: FakeUser, seen: int, about: str = "") -> str:
    """The first message to `user` after the first `seen` that mentions `about` (a file's
    answer names the file; the scheduler may write to a coordinator meanwhile)."""

    def found() -> str | None:
        return next(
            (m.text or "" for m in fake.sent_to(user)[seen:] if about in (m.text or "")), None
        )

    await _wait(lambda: found() is not None, 600, f"an answer to {user.first_name}")
    return found() or ""


def _short(text: str) -> str:
    first = text.split("\n")[1] if text.startswith("❌") and "\n" in text else text.split("\n")[0]
    return first[:60]


async def measure(repo: Path, four: bool) -> list[tuple[str, float, int, str]]:
    fake = FakeTelegram(token=TOKEN)
    await fake.start()
    rows: list[tuple[str, float, int, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
            "DATABASE_URL": f"sqlite:///{work / 'bot.db'}",
            "HEALTH_FILE": str(work / "health.json"),
            "LOG_LEVEL": "INFO",
            "TICK_SECONDS": "3600",  # no scheduled message in the middle of a measure
            "PTB_TIMEDELTA": "1",
            "PYTHONPATH": str(repo),
        }
        log = (work / "bot.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=repo, env=env, stdout=log, stderr=log
        )
        try:
            await _wait(lambda: fake._poll_generation >= 2, 120, "the bot to poll")
            await asyncio.sleep(0.5)
            rows.append(("started", 0.0, _proc_status_kb(proc.pid, "VmHWM:"), ""))
            coordinators = [fake.add_user("Coordinatrice", str(n)) for n in range(4)]
            for n, user in enumerate(coordinators):
                await user.send(f"/crea_unione Unione Misura {n}")
                await _answer(fake, user, 0)
                await user.send("/comuni")
                await _answer(fake, user, 1)
                await user.send("Canossa, Bibbiano")
                await _answer(fake, user, 2)
            carla = coordinators[0]

            async def upload(name: str, data: bytes) -> None:
                seen = len(fake.sent_to(carla))
                started = time.perf_counter()
                await carla.send_document(name, data, mime_type=XLSX)
                text = await _answer(fake, carla, seen, name)
                rows.append(
                    (
                        f"{name} ({len(data) // 1024} KB)",
                        time.perf_counter() - started,
                        _proc_status_kb(proc.pid, "VmHWM:"),
                        _short(text),
                    )
                )

            await upload("bomb.xlsx", shared_strings_bomb())
            await upload("legal-2000.xlsx", legal_workbook(rows=2000, comune="Canossa"))
            if four:
                bystander = fake.add_user("Passante")
                bomb = shared_strings_bomb()
                seen = [len(fake.sent_to(u)) for u in coordinators]
                started = time.perf_counter()
                for user in coordinators:
                    await user.send_document("bomb.xlsx", bomb, mime_type=XLSX)
                await bystander.send("/aiuto")
                await _answer(fake, bystander, 0)
                help_after = time.perf_counter() - started
                for user, before in zip(coordinators, seen, strict=True):
                    await _answer(fake, user, before, "bomb.xlsx")
                rows.append(
                    (
                        "4 bombs at once",
                        time.perf_counter() - started,
                        _proc_status_kb(proc.pid, "VmHWM:"),
                        f"/aiuto answered after {help_after:.1f} s",
                    )
                )
        finally:
            await _stop(proc)
            log.close()
            await fake.stop()
        workers = re.findall(r"worker peak (\d+) MB", (work / "bot.log").read_text())
        if workers:
            rows.append(("worker processes", 0.0, 1024 * max(map(int, workers)), "peak of any"))
    return rows


async def main_async(repos: list[Path], four: bool) -> None:
    results = {repo: await measure(repo, four) for repo in repos}
    for repo, rows in results.items():
        print(f"\n{repo}")
        print(f"  {'step':<28} {'seconds':>8} {'peak RSS MB':>12}  answer")
        for step, seconds, kb, answer in rows:
            print(f"  {step:<28} {seconds:>8.2f} {kb / 1024:>12.0f}  {answer}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--repo", action="append", help="a checkout whose bot to run (repeatable)")
    parser.add_argument("--four", action="store_true", help="also four bombs at once and /aiuto")
    args = parser.parse_args()
    asyncio.run(main_async([Path(r).resolve() for r in (args.repo or [str(REPO)])], args.four))


if __name__ == "__main__":
    main()
