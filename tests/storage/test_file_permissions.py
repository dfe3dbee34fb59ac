"""The SQLite database holds personal data: its folder is created 0700, the file and its
-wal and -shm 0600, whatever the umask (022 makes them world-readable otherwise)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import normalize_database_url
from storage import migrate
from storage.db import Database

REPO = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def test_database_folder_and_files_are_private(tmp_path: Path, open_umask: None) -> None:
    folder = tmp_path / "data"
    db = Database(normalize_database_url(f"sqlite:///{folder / 'team_energia.db'}"))
    try:
        await migrate.upgrade(db)
        async with db.transaction() as session:  # a write: the WAL and its index exist now
            await session.execute(text("UPDATE alembic_version SET version_num = version_num"))
        assert (folder / "team_energia.db-wal").exists()
        assert (folder / "team_energia.db-shm").exists()
        assert mode(folder) == 0o700
        for name in ("team_energia.db", "team_energia.db-wal", "team_energia.db-shm"):
            assert mode(folder / name) == 0o600, name
    finally:
        await db.dispose()


def test_python_m_storage_migrate_creates_them_private_too(tmp_path: Path) -> None:
    """What `python -m bot` runs first, in a child process, with the operator's umask."""
    folder = tmp_path / "nested" / "data"
    result = subprocess.run(
        [sys.executable, "-m", "storage.migrate"],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(REPO),
            # The URL as `python -m bot` hands it to its child: with the async driver.
            "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bot.db'}",
        },
        preexec_fn=lambda: os.umask(0o022),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert mode(folder) == 0o700
    assert mode(folder / "bot.db") == 0o600


async def test_an_existing_folder_and_file_keep_the_owners_modes(
    tmp_path: Path, open_umask: None
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    path = folder / "bot.db"
    path.touch()
    path.chmod(0o640)
    db = Database(normalize_database_url(f"sqlite:///{path}"))
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()
    assert (mode(folder), mode(path)) == (0o750, 0o640)
