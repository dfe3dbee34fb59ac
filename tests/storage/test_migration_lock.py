"""Several instances start at once on one fresh PostgreSQL database: one migrates, the others
wait for its advisory lock and find the schema at the head (storage/migrate.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_instances_starting_together_migrate_once(database_url: str) -> None:
    async def migrate_in_child() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "storage.migrate",
            env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": database_url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    results = await asyncio.gather(*(migrate_in_child() for _ in range(4)))
    assert [status for status, _ in results] == [0, 0, 0, 0], results
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            versions = (
                await session.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
    finally:
        await db.dispose()
    assert len(versions) == 1
