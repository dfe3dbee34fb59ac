"""`python -m bot` as an operator runs it: a child process, its stdout and stderr kept apart.

For the tests of start-up, outages, conflicts, webhook mode, backups and several instances:
the child talks to the fake Telegram served by the test process, its time may be a file the
test moves (`TEAM_ENERGIA_TEST_CLOCK_FILE`, see crash_month.MonthClock), and everything it
printed can be read and scanned (`output()`: stdout and stderr, whole).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from tests.fakes.telegram_server import FakeTelegram

REPO = Path(__file__).resolve().parents[2]
TOKEN = "987654321:AAE-service-test-token_abcdefghijklmnop"
CLOCK_ENV = "TEAM_ENERGIA_TEST_CLOCK_FILE"
STARTED = "Team Energia bot @"
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def token_leaks(text: str, token: str = TOKEN) -> list[str]:
    """The token, or its secret half, wherever it appears in `text`."""
    secret = token.partition(":")[2]
    return [line for line in text.splitlines() if token in line or secret in line]


class FileClock:
    """The child's "now": an ISO instant in a file (bot.clock.FileClock reads it)."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.now = start
        self.set(start)

    def set(self, when: datetime) -> None:
        self.now = when
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(when.astimezone(UTC).isoformat(), encoding="utf-8")
        os.replace(tmp, self.path)

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self.set(self.now + timedelta(**kwargs))


class BotService:
    """One `python -m bot` child. `start()`, `wait_log(...)`, `stop()` or `kill()`."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str,
        base_url: str,
        name: str = "bot",
        token: str = TOKEN,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.name = name
        self.stdout_path = workdir / f"{name}.out"
        self.stderr_path = workdir / f"{name}.err"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(REPO),
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_BASE_URL": base_url,
            "TELEGRAM_BASE_FILE_URL": base_url.replace("/bot", "/file/bot"),
            "DATABASE_URL": database_url,
            "TICK_SECONDS": "0.2",
            "HEALTH_FILE": str(workdir / f"{name}-health.json"),
            "LOG_LEVEL": "INFO",
            "PTB_TIMEDELTA": "1",
            **(env or {}),
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.killed_at: datetime | None = None

    @classmethod
    def for_fake(
        cls, workdir: Path, fake: FakeTelegram, database_url: str, **kw: object
    ) -> BotService:
        return cls(workdir, database_url=database_url, base_url=fake.base_url, **kw)  # type: ignore[arg-type]

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def stop(self, timeout: float = 20) -> int:  # noqa: ASYNC109
        """SIGTERM, as systemd or docker stop would; the exit status."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await self.proc.wait()
            except TimeoutError:
                await self.kill()
                raise
        return self.proc.returncode if self.proc.returncode is not None else -1

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            self.killed_at = datetime.now()
            await self.proc.wait()

    async def wait_exit(self, timeout: float = 30) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        async with asyncio.timeout(timeout):
            return await self.proc.wait()

    def output(self) -> str:
        """Everything the child printed, stdout then stderr."""
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            if path.exists():
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)

    def lines(self, containing: str = "") -> list[str]:
        return [line for line in self.output().splitlines() if containing in line]

    async def wait_log(self, text: str, *, count: int = 1, timeout: float = 30) -> list[str]:  # noqa: ASYNC109
        """Until `count` lines contain `text`; those lines. Fails early if the child exits."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    found = self.lines(text)
                    if len(found) >= count:
                        return found
                    if self.proc is not None and self.proc.returncode is not None:
                        raise AssertionError(
                            f"{self.name} exited ({self.proc.returncode}) before {text!r}:\n"
                            + self.output()[-3000:]
                        )
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no {count}× {text!r} in {timeout} s:\n" + self.output()[-3000:]
            ) from None

    def logged_at(self, line: str) -> datetime:
        """When a log line was written (its own timestamp, local time)."""
        match = _STAMP.match(line)
        assert match, line
        return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")


async def wait_until(predicate: Callable[[], object], timeout: float = 10) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def stopped_at_end(*services: BotService) -> AsyncIterator[None]:
    """Whatever happens in the block, no child is left running."""
    try:
        yield
    finally:
        for service in services:
            if service.running:
                with contextlib.suppress(Exception):
                    await service.stop(timeout=10)
            await service.kill()
