"""Uploads cannot sink the bot (issue 14, item 2), through the real bot and the fake Bot API:
a shared-strings bomb is refused at once with the bot's memory flat; other people are answered
while heavy (legal) files are being read; one import per Union at a time; a bounded number
across the instance; a worker that outlives its time or memory is stopped and the uploader told.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import import_worker
from bot.services.xlsx_reader import E_TOO_HEAVY, E_TOO_SLOW
from storage.models import Role, Union
from tests.e2e.harness import BotUnderTest
from tests.factories import add_comune, add_member, make_union
from tests.fakes.fake_world import FakeUser
from tests.import_files import heavy_legal_workbook, shared_strings_bomb

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BUSY = "C'è già un'importazione in corso per questa Unione"


async def coordinators(bot: BotUnderTest, count: int) -> list[FakeUser]:
    """`count` Unions, each with the Comune «Canossa» and its own coordinator."""
    users = []
    now = bot.clock.now()
    for n in range(count):
        user = bot.fake.add_user("Coordinatrice", f"{n}")
        async with bot.db.transaction() as session:
            world = await make_union(session, name=f"Unione {n}", now=now)
            await add_comune(session, world, "Canossa", now=now)
            await add_member(
                session,
                world,
                role=Role.STAFF,
                name=f"Coordinatrice {n}",
                coordinator=True,
                telegram_user_id=user.id,
                now=now,
            )
        users.append(user)
    return users


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise AssertionError(field)


class PeakRss:
    """This process's peak resident memory from now on: the kernel's high-water mark, reset
    (/proc/self/clear_refs), or failing that, samples every 5 ms."""

    def __init__(self) -> None:
        self.start = _status_kb("VmRSS:")
        self.sampled = self.start
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.reset = True
        except OSError:
            self.reset = False
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.sampled = max(self.sampled, _status_kb("VmRSS:"))
            await asyncio.sleep(0.005)

    def growth_mb(self) -> float:
        self._task.cancel()
        peak = _status_kb("VmHWM:") if self.reset else self.sampled
        return (max(peak, self.sampled) - self.start) / 1024


async def _answers(bot: BotUnderTest, user: FakeUser, seen: int) -> str:
    await bot.fake.wait_for(lambda: len(bot.fake.sent_to(user)) > seen, timeout=60)
    return bot.fake.sent_to(user)[seen].text or ""


def _previews(bot: BotUnderTest, users: list[FakeUser]) -> int:
    return sum(
        1 for u in users for m in bot.fake.sent_to(u) if "Conferma" in " ".join(m.button_texts)
    )


async def test_a_shared_strings_bomb_is_refused_at_once(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """The file of the issue: ~190 KB whose shared strings inflate to ~77 MB (the old limit was
    80 MB). On the old code: 21 s and +490 MB in the bot's process. Now it is refused by the
    zip's directory, before a worker starts."""
    caplog.set_level(logging.INFO, logger="bot.services.import_worker")
    (carla,) = await coordinators(bot, 1)
    bomb = shared_strings_bomb()
    assert len(bomb) < 250_000
    rss = PeakRss()
    started = time.monotonic()
    await carla.send_document("azioni.xlsx", bomb, mime_type=XLSX)
    answer = await _answers(bot, carla, 0)
    elapsed = time.monotonic() - started
    growth = rss.growth_mb()
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert growth < 40, f"the bot's memory grew by {growth:.0f} MB"
    assert "troppo pesante" in answer, answer
    assert "non ho importato nulla" in answer
    assert any("refused before parsing" in r.getMessage() for r in caplog.records)


async def test_a_bomb_within_the_zip_limits_is_stopped_while_read(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """A smaller bomb whose parts stay under the directory's limits (1,000,000 texts, ~24 MB):
    the worker stops at the 200,000th shared string, and neither its memory nor the bot's grows
    much."""
    caplog.set_level(logging.INFO, logger="bot.services.import_worker")
    (carla,) = await coordinators(bot, 1)
    rss = PeakRss()
    started = time.monotonic()
    await carla.send_document("azioni.xlsx", shared_strings_bomb(1_000_000), mime_type=XLSX)
    answer = await _answers(bot, carla, 0)
    elapsed = time.monotonic() - started
    growth = rss.growth_mb()
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert growth < 40, f"the bot's memory grew by {growth:.0f} MB"
    assert "troppo pesante" in answer, answer
    (line,) = [m for m in caplog.messages if m.startswith("Import read in a worker")]
    match = re.search(r"worker peak (\d+) MB", line)
    assert match, line
    worker_peak_mb = int(match.group(1))
    assert 0 < worker_peak_mb < 100, worker_peak_mb


async def test_others_are_answered_while_heavy_files_are_read(bot: BotUnderTest) -> None:
    """Four coordinators of four Unions send a heavy but legal workbook at once (2,000 actions,
    120,000 shared strings); a bystander asks for /aiuto right after. Before, the four parses
    held the bot's four update slots and /aiuto waited for one of them to finish; now it is
    answered while the files are still being read, and the four previews follow."""
    users = await coordinators(bot, 4)
    heavy = heavy_legal_workbook()
    bystander = bot.fake.add_user("Passante", "Curioso")
    gate = import_worker.gate_of(bot.services.extras)
    await asyncio.gather(*(u.send_document("piano.xlsx", heavy, mime_type=XLSX) for u in users))
    # The four uploads have been taken (on the old code: their updates hold the four slots).
    await bot.fake.wait_for(lambda: len(gate.unions) == 4 or _previews(bot, users) > 0)
    asked = time.monotonic()
    await bystander.send("/aiuto")
    await bot.fake.wait_for(lambda: bool(bot.fake.sent_to(bystander)), timeout=60)
    waited = time.monotonic() - asked
    previews_then = _previews(bot, users)
    busy_then = len(gate.unions)
    await bot.settle()
    assert previews_then == 0 and busy_then >= 1, (previews_then, busy_then)
    assert waited < 2, f"/aiuto waited {waited:.1f} s"
    assert _previews(bot, users) == 4
    for u in users:
        assert "2000 azioni" in (bot.fake.last_sent(u).text or "")
    assert not gate.unions and gate.parsing == 0


async def test_one_import_per_union_at_a_time(bot: BotUnderTest) -> None:
    (carla,) = await coordinators(bot, 1)
    heavy = heavy_legal_workbook()
    await carla.send_document("piano.xlsx", heavy, mime_type=XLSX)
    await carla.send_document("piano-bis.xlsx", heavy, mime_type=XLSX)
    second = await _answers(bot, carla, 0)
    assert second.startswith(BUSY), second
    await bot.settle()
    texts = [m.text or "" for m in bot.fake.sent_to(carla)]
    assert len(texts) == 2 and "piano.xlsx" in texts[1] and "2000 azioni" in texts[1], texts
    # Once the preview is out, the Union may import again.
    await carla.send_document("piano-bis.xlsx", heavy, mime_type=XLSX)
    await bot.settle()
    assert "piano-bis.xlsx" in (bot.fake.last_sent(carla).text or "")


async def test_a_second_coordinator_of_the_union_is_told_too(bot: BotUnderTest) -> None:
    """The rule is per Union, not per person: a co-coordinator's upload while Carla's file is
    read is answered at once; another Union's upload goes ahead."""
    carla, other_union = await coordinators(bot, 2)
    bruno = bot.fake.add_user("Bruno", "Vice")
    async with bot.db.transaction() as session:
        union_id = (
            await session.execute(select(Union.id).where(Union.name == "Unione 0"))
        ).scalar_one()
        union = await session.get(Union, union_id)
        assert union is not None
        await add_member(
            session,
            union,
            role=Role.STAFF,
            name="Bruno",
            coordinator=True,
            telegram_user_id=bruno.id,
            now=bot.clock.now(),
        )
    heavy = heavy_legal_workbook()
    await carla.send_document("piano.xlsx", heavy, mime_type=XLSX)
    await bot.fake.wait_for(lambda: bool(import_worker.gate_of(bot.services.extras).unions))
    await bruno.send_document("piano-bruno.xlsx", heavy, mime_type=XLSX)
    await other_union.send_document("piano-altro.xlsx", heavy, mime_type=XLSX)
    told = await _answers(bot, bruno, 0)
    assert told.startswith(BUSY), told
    await bot.settle()
    assert "piano.xlsx" in (bot.fake.last_sent(carla).text or "")
    assert "piano-altro.xlsx" in (bot.fake.last_sent(other_union).text or "")
    assert len(bot.fake.sent_to(bruno)) == 1


async def test_the_instance_reads_a_bounded_number_of_files(bot: BotUnderTest) -> None:
    """With room for two imports (one reading, one waiting), a third Union is told to retry."""
    users = await coordinators(bot, 3)
    gate = import_worker.gate_of(bot.services.extras)
    gate.workers, gate.waiting = 1, 1
    heavy = heavy_legal_workbook()
    for admitted, u in enumerate(users[:2], 1):
        await u.send_document("piano.xlsx", heavy, mime_type=XLSX)
        await bot.fake.wait_for(lambda n=admitted: len(gate.unions) == n)
    await users[2].send_document("piano.xlsx", heavy, mime_type=XLSX)
    told = await _answers(bot, users[2], 0)
    assert "riprova tra qualche minuto" in told, told
    await bot.settle()
    assert _previews(bot, users[:2]) == 2


@pytest.mark.parametrize(
    ("tighten", "expected"),
    [
        (lambda gate: setattr(gate, "kill_after_s", 0.05), E_TOO_SLOW),
        (lambda gate: setattr(gate, "memory_bytes", 30 * 1024 * 1024), E_TOO_HEAVY),
    ],
    ids=["time", "memory"],
)
async def test_a_worker_past_its_limits_is_stopped(
    bot: BotUnderTest, tighten: Callable[[import_worker.ImportGate], None], expected: str
) -> None:
    """The worker's own ceilings, hit on purpose: killed after its wall-clock time, or out of
    memory (30 MB of address space: it fails as it loads the importer, exits without an answer,
    and the bot reads that as a file too heavy). The uploader is told, the Union is free again,
    and the bot goes on."""
    (carla,) = await coordinators(bot, 1)
    gate = import_worker.gate_of(bot.services.extras)
    tighten(gate)
    await carla.send_document("piano.xlsx", heavy_legal_workbook(), mime_type=XLSX)
    await bot.settle()
    assert expected in (bot.fake.last_sent(carla).text or "")
    assert not gate.unions
    await carla.send("/aiuto")
    await bot.settle()
    assert bot.fake.last_sent(carla).text
