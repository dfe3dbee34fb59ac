"""`python -m bot.backup [path]`: a consistent copy of the bot's database, while the bot runs.

- SQLite: the online backup API of Python's sqlite3 module, in one step: the copy is the
  database as one read transaction saw it (the bot's writes go on meanwhile, in WAL mode
  readers and writers do not wait for each other), checked with `PRAGMA quick_check`, in one
  self-contained file (journal mode DELETE: no -wal beside it).
- PostgreSQL: `pg_dump` in its custom format (`-Fc`: compressed, restored by `pg_restore`),
  without owners and grants so that it restores into a database of another role. pg_dump
  runs in one snapshot transaction: consistent too. Its password travels in the child's
  environment (PGPASSWORD), never on a command line other users can read in `ps`. pg_dump's
  major version must be at least the server's; it is looked for on PATH, then in
  /usr/lib/postgresql/<version>/bin (newest first), or named by `PG_BIN_DIR`.

The file is written beside its final name and renamed when complete, readable by its owner
only (0600): it holds the same personal data as the database. Default path:
`backups/team_energia-<UTC time>.sqlite` or `.dump`. Restore with `python -m bot.restore`.
Exit status 0, or 1 with one line on stderr.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.config import ConfigError, database_url_from

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# How long the copy waits for a write lock held by the bot, in ms (a backup is not urgent).
BUSY_TIMEOUT_MS = 30_000


class BackupError(Exception):
    """One line for the operator."""


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL: un database SQLite in memoria non si può copiare")
    return Path(url.database).expanduser()


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: PG_BIN_DIR, PATH, then Debian's versioned folders, newest first."""
    folder = os.environ.get("PG_BIN_DIR", "").strip()
    if folder and (Path(folder) / name).exists():
        return str(Path(folder) / name)
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    if versions:
        return str(versions[0])
    raise BackupError(
        f"{name} non trovato: installa il client di PostgreSQL (pacchetto postgresql-client) "
        f"o indica la cartella con PG_BIN_DIR"
    )


def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """(a libpq connection URI without the password, the environment that carries it)."""
    query = {}
    for key, value in url.query.items():
        name = "sslmode" if key == "ssl" else key  # asyncpg's spelling, libpq's name
        query[name] = value if isinstance(value, str) else value[-1]
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=query,
    )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return bare.render_as_string(hide_password=False), env


def private_temp(target: Path) -> Path:
    """An empty 0600 file beside `target` to write into, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.partial")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    return temp


def backup_sqlite(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"il database {source} non esiste")
    temp = private_temp(target)
    try:
        # mode=rw: never create an empty database where the real one was expected.
        src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            dst = sqlite3.connect(temp)
            try:
                src.backup(dst)  # pages=-1: all in one step, one consistent snapshot
                dst.execute("PRAGMA journal_mode=DELETE")
                check = dst.execute("PRAGMA quick_check").fetchone()
                if not check or check[0] != "ok":
                    raise BackupError(f"la copia non supera il controllo di integrità: {check}")
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(temp, target)
    except sqlite3.Error as error:
        raise BackupError(f"copia SQLite non riuscita: {error}") from error
    finally:
        temp.unlink(missing_ok=True)


def backup_postgresql(url: URL, target: Path) -> None:
    dsn, env = libpq_target(url)
    temp = private_temp(target)
    try:
        result = subprocess.run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={temp}",
                f"--dbname={dsn}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump non riuscito: {last_line(result.stderr)}")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def last_line(text: str) -> str:
    """A tool's last word on stderr (pg_dump's, pg_restore's): what went wrong, for the error."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "nessun messaggio"


def default_target(url: URL, now: datetime) -> Path:
    suffix = "sqlite" if url.get_backend_name() == "sqlite" else "dump"
    return Path("backups") / f"team_energia-{now:%Y%m%d-%H%M%S}.{suffix}"


def backup(database_url: str, target: Path | None = None) -> Path:
    """Write the copy; its path."""
    url = make_url(database_url)
    path = default_target(url, datetime.now(UTC))
    if target is not None:  # a folder given: the dated file inside it
        path = target / path.name if target.is_dir() else target
    if url.get_backend_name() == "sqlite":
        backup_sqlite(sqlite_path(url), path)
    elif url.get_backend_name() == "postgresql":
        backup_postgresql(url, path)
    else:  # pragma: no cover - config admits only these two
        raise BackupError(f"database {url.get_backend_name()} non supportato")
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print("Uso: python -m bot.backup [file o cartella]", file=sys.stderr)
        return 2
    os.umask(0o077)
    try:
        url = database_url_from()
        path = backup(url, Path(args[0]) if args else None)
    except (BackupError, ConfigError, OSError) as error:  # OSError: the file, not the bot
        print(f"Backup non riuscito: {error}", file=sys.stderr)
        return 1
    size = path.stat().st_size
    print(f"Backup scritto: {path} ({size:,} byte)".replace(",", "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
