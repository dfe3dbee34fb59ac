"""A throwaway PostgreSQL server for the test session, or the one named by TEST_DATABASE_URL.

The binaries are on the machine but no server runs: start one as the `postgres` user (initdb
refuses root) from a temporary data directory, on a free port on 127.0.0.1, with its socket in
that directory; stop and remove it at the end.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_DIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


_FAST_STOP = ("-m", "fast", "-w", "stop")


@dataclass
class PgServer:
    admin_url: str  # postgresql://… to the maintenance database, sync-driver style (no +driver)
    data_dir: Path | None = None
    pg_ctl: str | None = None
    run_as: list[str] | None = None
    options: str | None = None  # what `pg_ctl start -o` was given: port, socket, fsync

    def halt(self) -> None:
        """Stop the server as an outage would (its data stays): connections are refused until
        `resume()`. Only for a server this process started."""
        assert self.data_dir is not None and self.pg_ctl is not None, "not ours to stop"
        subprocess.run(
            [*(self.run_as or []), self.pg_ctl, "-D", str(self.data_dir), *_FAST_STOP],
            capture_output=True,
            check=True,
        )

    def resume(self) -> None:
        """Start a halted server again, on the same port."""
        assert self.data_dir is not None and self.pg_ctl is not None and self.options
        _pg_ctl_start(self.run_as or [], self.pg_ctl, self.data_dir, self.options)

    def stop(self) -> None:
        if self.data_dir is None or self.pg_ctl is None:
            return
        subprocess.run(
            [
                *(self.run_as or []),
                self.pg_ctl,
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _find_binary(name: str) -> str | None:
    for folder in PG_DIRS:
        path = Path(folder) / name
        if path.exists():
            return str(path)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable_reason() -> str | None:
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    if _find_binary("initdb") is None or _find_binary("pg_ctl") is None:
        return "PostgreSQL binaries (initdb, pg_ctl) not found and TEST_DATABASE_URL not set"
    return None


def start() -> PgServer:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return PgServer(admin_url=url)
    initdb, pg_ctl = _find_binary("initdb"), _find_binary("pg_ctl")
    assert initdb and pg_ctl
    run_as: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="te-pg-"))
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, user="postgres")
        base.chmod(0o700)
    data = base / "data"
    subprocess.run(
        [
            *run_as,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _pg_ctl_start(run_as, pg_ctl, data, options)
    server = PgServer(
        admin_url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        data_dir=data,
        pg_ctl=pg_ctl,
        run_as=run_as,
        options=options,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("PostgreSQL did not start")


def _pg_ctl_start(run_as: list[str], pg_ctl: str, data: Path, options: str) -> None:
    subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(data.parent / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        capture_output=True,
    )


async def connect(url: str) -> Any:
    """A plain asyncpg connection to the database a SQLAlchemy URL names (any driver suffix)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
    )


_databases = itertools.count(1)


async def create_database(admin_url: str, prefix: str = "te_test") -> str:
    """A new, empty database on the server of `admin_url` (`<prefix>_<pid>_<n>`): its URL with
    the bot's async driver, as DATABASE_URL would be given."""
    from sqlalchemy.engine import make_url

    from bot.config import normalize_database_url

    name = f"{prefix}_{os.getpid()}_{next(_databases)}"
    conn = await connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return normalize_database_url(url)


async def terminate_backend(url: str, pid: int) -> None:
    """What a server restart does to one connection of ours: the server ends backend `pid`."""
    conn = await connect(url)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
