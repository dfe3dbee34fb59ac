"""Members who joined before the per-person menus get theirs at deploy (migration
0009): a database at the revision before it, with members in it, is upgraded by
the bot's start, and the first tick sets each active member's own menu (BotCommandScopeChat)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.clock import FakeClock
from storage import migrate
from storage.db import Database
from tests.e2e.harness import BotUnderTest
from tests.fakes.telegram_server import FakeTelegram

REVISION = "0009"
CREATED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

# (name, role, status, coordinator, erased)
PEOPLE = (
    ("Giulia Neri", "staff", "active", True, False),
    ("Mario Rossi", "sindaco", "active", False, False),
    ("Luca Verdi", "tecnico", "active", False, False),
    ("Pia Attesa", "assessore", "pending", False, False),
    ("Ugo Uscito", "tecnico", "left", False, False),
    ("Eva Erased", "tecnico", "removed", False, True),
)


def _before_menus() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    down = script.get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


async def _members_before_menus(database_url: str, ids: list[int]) -> None:
    """A database as deployed before 0009: a Union and its people, no menu owed."""
    db = Database(database_url)
    try:
        await migrate.upgrade(db, _before_menus())
        async with db.engine.begin() as conn:
            when = {"at": CREATED.replace(tzinfo=None)}
            await conn.execute(
                text(
                    "INSERT INTO municipal_union (id, name, timezone, created_at) "
                    "VALUES (1, 'Unione Reno Galliera', 'Europe/Rome', :at)"
                ),
                when,
            )
            for n, (tg_id, (name, role, status, coordinator, erased)) in enumerate(
                zip(ids, PEOPLE, strict=True), 1
            ):
                await conn.execute(
                    text(
                        "INSERT INTO person (id, telegram_user_id, display_name, reachable, "
                        "erased_at, created_at) VALUES (:id, :tg, :name, :yes, :erased, :at)"
                    ),
                    {
                        **when,
                        "id": n,
                        "tg": None if erased else tg_id,
                        "name": name,
                        "yes": True,
                        "erased": when["at"] if erased else None,
                    },
                )
                await conn.execute(
                    text(
                        "INSERT INTO member (id, union_id, person_id, role, status, "
                        "is_coordinator, requested_at) "
                        "VALUES (:id, 1, :id, :role, :status, :coordinator, :at)"
                    ),
                    {**when, "id": n, "role": role, "status": status, "coordinator": coordinator},
                )
    finally:
        await db.dispose()


async def test_members_from_before_the_menus_get_theirs_after_the_deploy(
    fake_telegram: FakeTelegram, clock: FakeClock, database_url: str
) -> None:
    users = [fake_telegram.add_user(*name.split()) for name, *_rest in PEOPLE]
    await _members_before_menus(database_url, [u.id for u in users])
    fake_telegram.clock = clock
    bot = BotUnderTest(fake_telegram, clock, database_url)
    await bot.start()  # migrates to the head, as `python -m bot` does
    try:
        await bot.tick()
        giulia, mario, luca, *others = (
            [name for name, _d in fake_telegram.commands("chat", chat_id=u.id)] for u in users
        )
        assert luca[0] == "aggiornamento"  # the technician's round first
        assert {"riunione", "esporta"} <= set(mario) and "aggiornamento" not in mario
        assert {"invito", "decisione"} <= set(giulia)  # the coordinator's
        assert others == [[], [], []]  # pending, gone, erased: everyone's menu
        personal = [
            c for c in fake_telegram.calls_of("setMyCommands") if "chat_id" in str(c.params)
        ]
        assert len(personal) == 3
        # Set once: the next tick finds nothing owed.
        calls = len(fake_telegram.calls_of("setMyCommands"))
        await bot.advance(minutes=1)
        assert len(fake_telegram.calls_of("setMyCommands")) == calls
    finally:
        await bot.stop()
