"""Back up a running bot mid-month, restore into a fresh database, and the month carries on.

The bot runs with an open poll (Union B's), an open update round (Union A's: one technician
answered), a message pending in the outbox, and people voting while `python -m bot.backup`
copies the database. Then the bot stops, `python -m bot.restore` fills a fresh database of the
same kind, a new bot starts on it: the pending message goes out once, the round goes on
(reminders, answers, its summary, once), the poll closes once. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import stat
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from bot.config import normalize_database_url
from storage.models import (
    MeetingPoll,
    MeetingSettings,
    OutboxMessage,
    OutboxStatus,
    PollStatus,
    RoundResponse,
    RoundStatus,
    Summary,
    SummaryKind,
    Union,
    UpdateRound,
    Vote,
)
from storage.repositories import outbox as outbox_repo
from tests import pg_server
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_catch_up import polls_in, texts_to, vote_yes
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.reliability.conftest import BotFactory
from tests.reliability.crash_month import seed_team
from tests.reliability.service import REPO

ROME = ZoneInfo("Europe/Rome")


def rome(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ROME)


async def run_tool(module: str, *args: str, database_url: str, cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": database_url},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def fresh_database(database_url: str, tmp_path: Path, pg: pg_server.PgServer | None) -> str:
    if make_url(database_url).get_backend_name() == "sqlite":
        return normalize_database_url(f"sqlite:///{tmp_path / 'restored' / 'bot.db'}")
    assert pg is not None
    return await pg_server.create_database(pg.admin_url, prefix="te_restored")


def nn_button(message: FakeMessage) -> str | None:
    return next(
        (d for row in message.buttons for _t, d in row if d and d.startswith("upd:no_news:")), None
    )


async def answer_no_news(bot: BotUnderTest, user: FakeUser) -> None:
    message = next(m for m in reversed(bot.fake.sent_to(user)) if nn_button(m))
    data = nn_button(message)
    assert data is not None
    answer = await (await user.press(message, data)).answered()
    assert answer.text == "Registrato: nessuna novità."
    await bot.settle()


async def test_backup_of_a_running_bot_restores_and_the_month_carries_on(
    make_any_bot: BotFactory,
    database_url: str,
    tmp_path: Path,
    pg: pg_server.PgServer | None,
) -> None:
    bot = await make_any_bot()
    fake, clock = bot.fake, bot.clock
    clock.set(rome(1, 8, 0))
    a = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=3)
    b = await seed_team(bot.db, fake, clock.now() - timedelta(days=2), comuni=2)
    async with bot.db.transaction() as session:
        await session.execute(update(Union).where(Union.id == b.union_id).values(name="Unione B"))
        session.add(MeetingSettings(union_id=b.union_id, auto_poll_day=8))

    # A: the monthly poll, everyone's Sì, the deadline: a meeting and the round open.
    clock.set(rome(1, 9, 1))
    await bot.tick()
    [poll_a] = polls_in(bot, a.political)
    await vote_yes(bot, [a.users[f"sindaco:{i}"] for i in range(3)], poll_a)
    clock.set(rome(6, 9, 1))
    await bot.tick()
    technicians = a.technicians()
    assert all(texts_to(bot, t, "Aggiornamento di dicembre 2026") for t in technicians)
    await answer_no_news(bot, technicians[0])
    # B: its poll opens on the 8th; two mayors answer.
    clock.set(rome(8, 9, 1))
    await bot.tick()
    [poll_b] = polls_in(bot, b.political)
    await vote_yes(bot, [b.users["sindaco:0"]], poll_b)
    # A message waiting in the outbox (the tick that would send it has not come yet).
    async with bot.db.transaction() as session:
        await outbox_repo.enqueue(
            session,
            dedup_key="backup:pending:1",
            chat_id=a.coordinator.id,
            method="sendMessage",
            payload={"text": "In coda al momento del backup [backup:pending:1]"},
            union_id=a.union_id,
            now=clock.now(),
        )

    # The backup, while people vote.
    target = tmp_path / "copies" / "mid-month.backup"
    backup = asyncio.create_task(
        run_tool("bot.backup", str(target), database_url=database_url, cwd=tmp_path)
    )
    await vote_yes(bot, [b.users["sindaco:1"]], poll_b)
    status, output = await backup
    assert status == 0, output
    assert output.startswith(f"Backup scritto: {target}"), output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    await bot.stop()

    # Restore into a fresh database; a second restore over it is refused without --force.
    restored_url = await fresh_database(database_url, tmp_path, pg)
    status, output = await run_tool(
        "bot.restore", str(target), database_url=restored_url, cwd=tmp_path
    )
    assert status == 0, output
    status, output = await run_tool(
        "bot.restore", str(target), database_url=restored_url, cwd=tmp_path
    )
    assert status == 1 and "contiene già dati" in output and "--force" in output, output
    status, output = await run_tool(
        "bot.restore", str(target), "--force", database_url=restored_url, cwd=tmp_path
    )
    assert status == 0, output

    restored = BotUnderTest(fake, clock, restored_url)
    restored.settings = dataclasses.replace(
        restored.settings, health_file=str(tmp_path / "health.json")
    )
    await restored.start()
    try:
        async with restored.db.transaction() as session:
            polls = {p.union_id: p for p in (await session.execute(select(MeetingPoll))).scalars()}
            assert polls[b.union_id].status == PollStatus.OPEN
            [round_a] = (await session.execute(select(UpdateRound))).scalars().all()
            assert round_a.status == RoundStatus.OPEN
            answered = (
                await session.execute(select(func.count()).select_from(RoundResponse))
            ).scalar_one()
            assert answered == 1
            votes = (await session.execute(select(func.count()).select_from(Vote))).scalar_one()
            assert votes >= 3 + 1  # A's three mayors, B's first (the second may be after the copy)

        # The pending message goes out, once.
        await restored.tick()
        await restored.tick()
        assert len(texts_to(restored, a.coordinator, "[backup:pending:1]")) == 1

        # The round goes on: its first reminder (3 days after opening), the answers, its end.
        clock.set(rome(9, 9, 5))
        await restored.tick()
        for t in technicians[1:]:
            assert len(texts_to(restored, t, "⏰ Promemoria")) == 1
            await answer_no_news(restored, t)
        assert texts_to(restored, technicians[0], "⏰ Promemoria") == []

        # B's poll closes at its deadline, once; A's round closes and its summary is posted.
        clock.set(rome(13, 9, 5))
        await restored.tick()
        await restored.tick()
        for chat in (b.political, b.technical):
            assert len(polls_in(restored, chat)) == 1  # never posted again
            assert len(texts_to(restored, chat, "📣 Riunione")) == 1
        clock.set(rome(13, 17, 5))
        await restored.tick()
        await restored.tick()
        async with restored.db.transaction() as session:
            assert (await session.get(UpdateRound, round_a.id)).status == RoundStatus.CLOSED  # type: ignore[union-attr]
            summaries = (await session.execute(select(Summary))).scalars().all()
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
        # (B's poll fixed a meeting: B's own round opened after the restore, which is B's.)
        assert [(s.kind, s.period) for s in summaries if s.round_id == round_a.id] == [
            (SummaryKind.SCHEDULED, "2026-12")
        ]
        assert len(texts_to(restored, a.political, "Riepilogo di dicembre")) == 1
        assert all(r.status == OutboxStatus.SENT for r in rows), [
            (r.dedup_key, r.status) for r in rows if r.status != OutboxStatus.SENT
        ]
    finally:
        await restored.stop()


@pytest.mark.parametrize("wrong", ["garbage", "other-kind"])
async def test_restore_refuses_what_is_not_a_backup_of_this_kind(
    tmp_path: Path, wrong: str
) -> None:
    url = normalize_database_url(f"sqlite:///{tmp_path / 'data' / 'bot.db'}")
    path = tmp_path / "file.backup"
    path.write_bytes(b"not a database" if wrong == "garbage" else b"PGDMP\x01\x0e\x00")
    status, output = await run_tool("bot.restore", str(path), database_url=url, cwd=tmp_path)
    assert status == 1, output
    expected = "non è un backup del bot" if wrong == "garbage" else "stesso tipo di database"
    assert expected in output and "Traceback" not in output
    assert not (tmp_path / "data" / "bot.db").exists()


async def test_backup_into_a_folder_or_a_path_it_cannot_write(tmp_path: Path) -> None:
    """A folder given: the dated copy inside it. A path under a file: a line, not a traceback."""
    import sqlite3

    source = tmp_path / "bot.db"
    with contextlib.closing(sqlite3.connect(source)) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.commit()
    url = normalize_database_url(f"sqlite:///{source}")
    folder = tmp_path / "backups"
    folder.mkdir()
    status, output = await run_tool("bot.backup", str(folder), database_url=url, cwd=tmp_path)
    assert status == 0, output
    (copy,) = folder.glob("team_energia-*.sqlite")
    assert f"Backup scritto: {copy}" in output
    status, output = await run_tool(
        "bot.backup", str(source / "inside-a-file.sqlite"), database_url=url, cwd=tmp_path
    )
    assert status == 1 and "Backup non riuscito:" in output and "Traceback" not in output, output
