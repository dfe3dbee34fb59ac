"""`python -m bot.restore path [--force]`: bring a backup back into the configured database.

Into DATABASE_URL (as the bot reads it, `.env` included), which must be empty — a new SQLite
file, or a PostgreSQL database without tables — unless `--force` is given: then what is there
is replaced. Stop the bot first: a restore under a running bot would mix two histories. A
backup goes back into the same kind of database it came from (an SQLite copy into SQLite, a
`pg_dump` file into PostgreSQL). The bot, started afterwards, migrates the schema if the
backup is older than the code, and carries on from the backup's moment: polls, rounds and
the outbox are as they were (what was due meanwhile is caught up by the usual rule).

- SQLite: the online backup API copies the file into the target database (created 0600);
- PostgreSQL: `pg_restore --single-transaction --exit-on-error --no-owner --no-privileges`
  (all or nothing); with `--force` the schema's tables are dropped first.

Exit status 0, or 1 with one line on stderr (2 for a wrong command line).
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from bot.backup import (
    PG_DUMP_MAGIC,
    SQLITE_MAGIC,
    BackupError,
    last_line,
    libpq_target,
    pg_tool,
    sqlite_path,
)
from bot.config import ConfigError, database_url_from
from storage.db import create_private_file


def kind_of(path: Path) -> str:
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as error:
        raise BackupError(f"non riesco a leggere {path}: {error.strerror}") from error
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} non è un backup del bot (né SQLite né pg_dump)")


def _sqlite_tables(path: Path) -> int:
    if not path.exists() or path.stat().st_size == 0:
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(
            conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        )
    finally:
        conn.close()


def restore_sqlite(backup: Path, url: URL, *, force: bool) -> None:
    target = sqlite_path(url)
    tables = _sqlite_tables(target)
    if tables and not force:
        raise BackupError(
            f"il database {target} contiene già dati ({tables} tabelle): ferma il bot e usa "
            f"--force per sostituirli"
        )
    create_private_file(target)
    try:
        src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target, timeout=30)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")  # as the bot runs it
                check = dst.execute("PRAGMA quick_check").fetchone()
                if not check or check[0] != "ok":
                    raise BackupError(f"il database ripristinato non è integro: {check}")
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as error:
        raise BackupError(f"ripristino SQLite non riuscito: {error}") from error


async def _pg_tables(url: URL, *, drop: bool) -> int:
    """Tables in the connection's schema; with `drop`, drop them (and their sequences) first."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url.set(drivername="postgresql+asyncpg"), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            names = [
                row[0]
                for row in await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            ]
            if drop and names:
                quoted = ", ".join(f'"{n}"' for n in names)
                await conn.execute(text(f"DROP TABLE IF EXISTS {quoted} CASCADE"))
                for (seq,) in await conn.execute(
                    text(
                        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
                    )
                ):
                    await conn.execute(text(f'DROP SEQUENCE IF EXISTS "{seq}" CASCADE'))
            return len(names)
    finally:
        await engine.dispose()


def restore_postgresql(backup: Path, url: URL, *, force: bool) -> None:
    dsn, env = libpq_target(url)
    pg_restore = pg_tool("pg_restore")
    listed = subprocess.run(
        [pg_restore, "--list", str(backup)], env=env, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        raise BackupError(f"{backup} non è leggibile da pg_restore: {last_line(listed.stderr)}")
    try:
        tables = asyncio.run(_pg_tables(url, drop=False))
        if tables and not force:
            raise BackupError(
                f"il database {url.database} contiene già dati ({tables} tabelle): ferma il "
                f"bot e usa --force per sostituirli"
            )
        if tables:
            asyncio.run(_pg_tables(url, drop=True))
    except BackupError:
        raise
    except Exception as error:
        raise BackupError(f"database non raggiungibile: {str(error).splitlines()[0]}") from error
    result = subprocess.run(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={dsn}",
            str(backup),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore non riuscito: {last_line(result.stderr)}")


def restore(backup: Path, database_url: str, *, force: bool = False) -> str:
    """Restore; the kind of database restored into."""
    url = make_url(database_url)
    kind = kind_of(backup)
    target = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    if kind != target:
        raise BackupError(
            f"{backup} è un backup {kind}, ma DATABASE_URL è {target}: si ripristina nello "
            f"stesso tipo di database"
        )
    if kind == "sqlite":
        restore_sqlite(backup, url, force=force)
    else:
        restore_postgresql(backup, url, force=force)
    return kind


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    force = "--force" in args
    paths = [a for a in args if a != "--force"]
    if len(paths) != 1 or paths[0].startswith("-"):
        print("Uso: python -m bot.restore FILE [--force]", file=sys.stderr)
        return 2
    try:
        url = database_url_from()
        restore(Path(paths[0]), url, force=force)
    except (BackupError, ConfigError, OSError) as error:  # OSError: the file, not the bot
        print(f"Ripristino non riuscito: {error}", file=sys.stderr)
        return 1
    shown = make_url(url).render_as_string(hide_password=True)
    print(f"Ripristinato {paths[0]} in {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
