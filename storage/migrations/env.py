"""Alembic environment: used from code (storage.migrate) or from the `alembic` command."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things in place
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_env() -> None:
    from dotenv import load_dotenv

    from bot.config import normalize_database_url
    from storage.db import create_engine

    load_dotenv(override=False)
    url = normalize_database_url(os.environ.get("DATABASE_URL") or "sqlite:///data/team_energia.db")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_from_env())
