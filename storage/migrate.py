"""Run Alembic migrations from code (at start, and in tests)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every instance of the bot.
_ADVISORY_LOCK_KEY = 7_463_221_901


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Several instances starting together: one migrates, the others wait.
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
    logger.info("Database schema is up to date (%s)", revision)


async def downgrade(db: Database, revision: str) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)


def main() -> None:
    """`python -m storage.migrate`: upgrade the database named by DATABASE_URL to the head.

    `python -m bot` runs this in a child process, so Alembic (and the memory a migration takes)
    never weighs on the long-running bot. DATABASE_URL is the URL as the bot uses it, with its
    async driver (`sqlite+aiosqlite://…`, `postgresql+asyncpg://…`): the bot passes its own,
    already checked (bot.config). Exit status 1 with one line on stderr on failure.
    """
    import asyncio
    import os
    import sys

    try:
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            raise ValueError("DATABASE_URL is not set")

        async def run() -> None:
            db = Database(url)
            try:
                await upgrade(db)
            finally:
                await db.dispose()

        asyncio.run(run())
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(reason, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
