"""Engine and sessions: one short transaction per update or job.

SQLite: SQLAlchemy's own aiosqlite dialect, set up as its documentation recommends
(docs/DESIGN.md, "SQLite"): WAL, foreign keys on, sqlite3's own transaction handling off and
every transaction opened with BEGIN IMMEDIATE by SQLAlchemy's "begin" event (a read-then-write
transaction in WAL otherwise fails with "database is locked"); a busy lock is waited for on
aiosqlite's thread, never on the event loop. PostgreSQL: asyncpg, default isolation; a pooled
connection is checked before use without a round trip when it was in use moments ago.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, inspect, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


# SQLite: how long a transaction's BEGIN IMMEDIATE waits for another writer's lock before it
# fails with "database is locked" (sqlite3's busy handler, on aiosqlite's thread).
SQLITE_BUSY_TIMEOUT_S = 15.0

# Run on every new SQLite connection, in this order. A pragma the whole bot needs goes here.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers never block the writer, nor it them
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",  # safe with WAL; no fsync at every COMMIT
    # What is deleted or overwritten is zeroed in the file, not left in free space: after
    # /cancellami no copy of the person's name survives in the database file (bench/README.md
    # has what it costs).
    "PRAGMA secure_delete=ON",
)


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """SQLAlchemy's recipe for SQLite transactions, with BEGIN IMMEDIATE, on the stock dialect.

    sqlite3's own transaction handling is off (`isolation_level=None`, create_engine) and
    SQLAlchemy's "begin" event opens every transaction with BEGIN IMMEDIATE: the write lock is
    taken first, so a transaction that reads and then writes never fails half-way with
    "database is locked". Another writer's lock is waited for by sqlite3's busy handler, for up
    to SQLITE_BUSY_TIMEOUT_S, on aiosqlite's thread: the event loop goes on meanwhile.
    """
    import sqlite3  # here: ~1 MB the PostgreSQL bot does without

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    writer = _Writer()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to aiosqlite (AdaptedConnection.run_async, SQLAlchemy's documented way to
        # await the driver from an event): one hand-off to its thread, where exec_driver_sql
        # would take three (cursor, execute, close). Runs for every transaction. The bot's own
        # writers queue first on `writer`, on the event loop (see _Writer).
        fairy = conn.connection
        entry = fairy.record_info  # one dict per pool entry, for its whole life: who holds
        try:
            fairy.dbapi_connection.run_async(lambda driver: writer.begin(entry, driver))
        except sqlite3.Error as error:  # e.g. still locked after SQLITE_BUSY_TIMEOUT_S
            # As SQLAlchemy raises a statement's error: sqlalchemy.exc.OperationalError.
            raise exc.DBAPIError.instance("BEGIN IMMEDIATE", None, error, sqlite3.Error) from error

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # After the "reset" below: a connection back in the pool holds no transaction, so the
        # next writer may begin. Also for a connection invalidated meanwhile (None here).
        writer.release(record.record_info)

    @event.listens_for(engine.sync_engine, "detach")
    def _on_detach(_dbapi_connection: Any, record: Any) -> None:
        # A connection dropped without returning (garbage-collected by SQLAlchemy, which
        # detaches it instead of checking it in, or detached on purpose): its turn ends too.
        writer.release(record.record_info)

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        # SQLAlchemy's own reset-on-return is off (pool_reset_on_return=None, create_engine):
        # it rolled back every connection the pool took back, also after a COMMIT, one more
        # hand-off per transaction for nothing. A connection returned inside a transaction (an
        # error, a cancelled task) is still rolled back here, so it never keeps the write lock.
        if reset_state.asyncio_safe and _sqlite_in_transaction(record.driver_connection):
            dbapi_connection.rollback()


class _Writer:
    """The bot's SQLite writers, one at a time, queued on the event loop.

    Every transaction begins with BEGIN IMMEDIATE, so two never run at once anyway; without
    this queue a writer that finds the write lock taken waits in sqlite3's busy handler, on its
    connection's aiosqlite thread, retrying at growing intervals (1, 2, 5, 10 … ms) instead of
    waking when the lock is freed. Under a burst of votes that waiting cost 0.3 ms of CPU a vote
    and the votes' order (bench/README.md, "Session 11 — SQLite's writers in one queue"). So a
    transaction first takes this asyncio lock (in the engine's "begin" event, when SQLAlchemy
    begins it: the same moment as the write lock) and gives it back when its connection returns
    to the pool (the "checkin" event, after COMMIT or the rollback of "reset"). Other processes
    on the same file (the import worker, a backup) still meet sqlite3's busy handler.

    A writer that waits longer than SQLITE_BUSY_TIMEOUT_S fails as a locked database does
    ("database is locked": the error handler answers it): also a transaction opened inside
    another in the same task, which could never begin.
    """

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop `_lock` belongs to
        # The `record_info` of the pool entry whose transaction holds the lock (SQLAlchemy keeps
        # one per entry, across reconnects: what began is found again at checkin).
        self._holder: object | None = None

    async def begin(self, entry: object | None, driver_connection: Any) -> None:
        # Not queued again for a second transaction on a connection not yet returned (it holds
        # the lock), nor for a connection outside the pool (never returned: sqlite3 waits).
        if entry is not None and self._holder is not entry:
            lock = self._lock_of(asyncio.get_running_loop())
            try:
                async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_S):
                    await lock.acquire()
            except TimeoutError:
                import sqlite3

                raise sqlite3.OperationalError("database is locked") from None
            self._holder = entry
        try:
            await driver_connection.execute("BEGIN IMMEDIATE")
        except asyncio.CancelledError:
            # Cancelling the task does not stop the BEGIN, already queued to aiosqlite's thread:
            # the connection would go back to the pool inside a transaction nobody sees ("reset"
            # reads sqlite3's flag, maybe before the BEGIN has run). The thread runs its queue in
            # order, so a rollback queued now undoes it, whenever it runs (and does nothing if the
            # BEGIN failed).
            try:
                await driver_connection.rollback()
            except BaseException:  # cancelled again: the first cancellation is raised below
                pass
            finally:
                self.release(entry)
            raise
        except BaseException:
            self.release(entry)
            raise

    def _lock_of(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        """The lock of the running loop: an engine used from another loop later (a script's
        second `asyncio.run`) gets a new one; a hold of the former loop is forgotten with it."""
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._holder = asyncio.Lock(), loop, None
        return self._lock

    def release(self, entry: object | None) -> None:
        """Give the turn back (the entry's connection returned to the pool, or was dropped
        from it). From another thread — the garbage collector detaching a connection never
        returned can run on aiosqlite's — on the lock's own loop."""
        if entry is None or self._holder is not entry:
            return
        loop = self._loop
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if not on_loop and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.release, entry)
            return
        self._holder = None
        if self._lock is not None and self._lock.locked():
            self._lock.release()


def _sqlite_in_transaction(driver_connection: Any) -> bool:
    """aiosqlite's `in_transaction` (sqlite3's flag, read without a hand-off); a connection
    already closed has nothing to roll back."""
    try:
        return bool(driver_connection.in_transaction)
    except ValueError:  # aiosqlite: "no active connection"
        return False


# How long a truncating checkpoint waits for the bot's own readers and writers to finish.
TRUNCATE_WAIT_S = 5.0


def sqlite_checkpoint_truncate(database: str) -> bool:
    """Copy the whole WAL into the database file and truncate the WAL to zero bytes (after an
    erasure: the WAL holds old images of the pages, with what was erased on them), from a
    connection of its own. Waits up to TRUNCATE_WAIT_S for readers and writers, so run it on a
    worker thread. True when done; a database removed meanwhile is not created anew."""
    import sqlite3
    import urllib.request

    uri = f"file:{urllib.request.pathname2url(database)}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=TRUNCATE_WAIT_S, isolation_level=None)
    try:
        busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy
    except sqlite3.OperationalError as error:
        if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        return False
    finally:
        connection.close()


def create_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by the bot's user only: 0600 in a 0700
    folder. SQLite gives its -wal, -shm and -journal files the database file's permissions.
    Personal data: nobody else on the machine needs to read it, whatever the umask says.
    An existing file or folder keeps the permissions its owner gave it."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is filtered by the umask; chmod is not
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.fchmod(fd, 0o600)
    os.close(fd)


# A pooled PostgreSQL connection idle for longer than this is pinged before use.
PING_IDLE_AFTER_S = 5.0


def _prepare_postgresql(engine: AsyncEngine) -> None:
    """Never hand out a dead connection (a server restart, a dropped link), cheaply.

    SQLAlchemy's `pool_pre_ping` asks the server on every checkout; with asyncpg that is three
    round trips (BEGIN, an empty query, ROLLBACK) before each transaction — as many as a
    vote's own statements. Instead: a connection whose socket the server closed (a restart,
    pg_terminate_backend) is known closed to asyncpg at no cost, and only a connection idle
    for more than PING_IDLE_AFTER_S is pinged (a link that died silently shows there). A
    DisconnectionError makes the pool replace the connection and try again.
    """
    idle_since = "storage.db.idle_since"

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[idle_since] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        is_closed = getattr(dbapi_connection.driver_connection, "is_closed", None)  # asyncpg
        if is_closed is not None and is_closed():
            raise exc.DisconnectionError("the server closed this connection")
        since = record.info.get(idle_since)
        if since is None or time.monotonic() - since < PING_IDLE_AFTER_S:
            return  # new, or in use moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"ping failed: {error}") from error


# Connections a PostgreSQL pool keeps, beyond the updates handled at once: the per-chat edit
# jobs, the scheduler's tick, the outbox.
POOL_SPARE = 4


def create_engine(
    database_url: str, *, echo: bool = False, concurrent_updates: int = 4
) -> AsyncEngine:
    """SQLite: the stock aiosqlite dialect (above). Both: a pool of a fixed size.

    The pool holds a connection for every update handled at once plus POOL_SPARE, and never
    opens more: a connection beyond the pool's size would be opened for one transaction and
    closed on its return whenever the pool already held its idle ones. With SQLAlchemy's default
    overflow a burst of votes opened and closed a connection (TCP, authentication, asyncpg's
    set-up) about every ten presses (bench/README.md, "Session 5"); now a transaction that finds
    every connection busy waits for one, as an update waits for its turn.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            create_private_file(Path(url.database).expanduser())
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"isolation_level": None, "timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_reset_on_return=None,  # _prepare_sqlite's "reset" event does it
            # As on PostgreSQL (below): a connection beyond the pool's size was opened (a thread,
            # the pragmas) for one transaction and closed on its return. (In memory: one shared
            # connection, SQLAlchemy's StaticPool.)
            **(
                {"pool_size": concurrent_updates + POOL_SPARE, "max_overflow": 0}
                if url.database and url.database != ":memory:"
                else {}
            ),
        )
        _prepare_sqlite(engine)
        return engine
    engine = create_async_engine(
        url, echo=echo, pool_size=concurrent_updates + POOL_SPARE, max_overflow=0
    )
    if url.get_backend_name() == "postgresql":
        _prepare_postgresql(engine)
    return engine


@event.listens_for(Session, "before_flush")
def _drop_nul_characters(session: Session, _context: Any, _instances: Any) -> None:
    """PostgreSQL text cannot hold NUL (SQLite can): one typed by a client would fail the
    whole transaction there. Drop it from every string about to be written."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for key, value in list(state.dict.items()):  # loaded values only: never a lazy load
            if isinstance(value, str) and "\x00" in value:
                setattr(obj, key, value.replace("\x00", ""))


_CONNECTION = "storage.db.connection"  # session.info key: (transaction, AsyncConnection)


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """`await session.connection()`, asked once per transaction.

    Each call of AsyncSession.connection() is a trip through a new greenlet even when the
    session already holds its connection; the hot paths (a vote: the update id, the vote's
    context, the upsert) call it several times in one transaction. The connection is kept
    for the transaction it belongs to: a new transaction of the same session asks again.
    """
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_CONNECTION)
    if transaction is not None and cached is not None and cached[0] is transaction:
        conn: AsyncConnection = cached[1]
        return conn
    conn = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), conn)
    return conn


# --- a hot path's statements on SQLite: one hand-off each ----------------------------------


@dataclass(frozen=True)
class Prepared:
    """A Core statement compiled once for SQLite, with SQLAlchemy's own type processing of its
    parameters and columns (TypeEngine.bind_processor / result_processor, public API)."""

    statement: Any  # kept alive: the cache is keyed by its id
    sql: str
    names: tuple[str, ...]  # the bound parameters, in positional order
    constants: dict[str, Any]  # values bound in the statement itself (e.g. an enum literal)
    binds: tuple[Callable[[Any], Any] | None, ...]
    columns: tuple[tuple[int, Callable[[Any], Any]], ...]  # (index, processor) where one is needed


_PREPARED: dict[int, Prepared] = {}
_DRIVER = "storage.db.driver"  # AsyncConnection.info key: the driver connection


def prepare(statement: Any, dialect: Dialect, *, column_keys: Sequence[str] = ()) -> Prepared:
    """`statement` compiled for SQLite, once: pass only statements built once (at import, or
    by a cached builder). `column_keys`: an INSERT's columns when it is built without values."""
    found = _PREPARED.get(id(statement))
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) or None)
    names = tuple(compiled.positiontup or ())
    binds = {name: compiled.binds[name] for name in names}
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("an expanding IN parameter is rendered per call: not preparable")
    if compiled.insert_prefetch or compiled.update_prefetch:
        # A column's Python-side default (or onupdate) is computed by SQLAlchemy per call:
        # run here, it would be bound as NULL.
        raise ValueError("a column's Python-side default is computed per call: not preparable")
    columns = statement.selected_columns if hasattr(statement, "selected_columns") else ()
    if not columns:
        columns = getattr(statement, "_returning", ()) or ()
    result_processors = [
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    ]
    prepared = Prepared(
        statement=statement,
        sql=compiled.string,
        names=names,
        constants={name: bind.effective_value for name, bind in binds.items() if not bind.required},
        # One per position: a name bound twice in the statement is twice in `names`.
        binds=tuple(
            binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        ),
        columns=tuple((i, p) for i, p in enumerate(result_processors) if p is not None),
    )
    _PREPARED[id(statement)] = prepared
    return prepared


async def run_hot(
    conn: AsyncConnection,
    statement: Any,
    params: dict[str, Any],
    *,
    column_keys: Sequence[str] = (),
) -> Sequence[Sequence[Any]]:
    """A hot path's statement in the transaction of `conn`: its rows, type-processed as
    SQLAlchemy does (`[]` for a statement without rows).

    SQLite: straight on the transaction's own aiosqlite connection, `execute_fetchall`, **one
    hand-off** to aiosqlite's thread where SQLAlchemy's cursor takes three or four (cursor,
    execute, fetchall, close; bench/README.md, "Session 10 — a vote's CPU"); compiled once
    (`prepare`); a driver error raised as SQLAlchemy raises it (`sqlalchemy.exc.DBAPIError`
    and its subclasses, IntegrityError, OperationalError). The transaction stays SQLAlchemy's
    (BEGIN IMMEDIATE from the "begin" event, COMMIT or ROLLBACK by the session). Statement
    events (`before_cursor_execute`) do not see these statements: count them with sqlite3's
    trace callback (tests/e2e/test_vote_statements.py). PostgreSQL: through SQLAlchemy, where
    the driver's own path saved nothing measurable.
    """
    dialect = conn.dialect
    if dialect.name != "sqlite":
        result = await conn.execute(statement, params)
        return result.all() if result.returns_rows else []
    prepared = prepare(statement, dialect, column_keys=column_keys)
    values = params | prepared.constants if prepared.constants else params
    args = tuple(
        values[name] if process is None else process(values[name])
        for name, process in zip(prepared.names, prepared.binds, strict=True)
    )
    # Connection.info lives as long as the DBAPI connection (cleared when it is invalidated).
    driver: Any = conn.info.get(_DRIVER)
    if driver is None:
        driver = conn.info[_DRIVER] = (await conn.get_raw_connection()).driver_connection
    try:
        rows: Any = await driver.execute_fetchall(prepared.sql, args)
    except Exception as error:
        raise exc.DBAPIError.instance(
            prepared.sql, args, error, dialect.loaded_dbapi.Error
        ) from error
    if not prepared.columns:
        return list(rows)
    processed = []
    for row in rows:
        values_out = list(row)
        for index, process in prepared.columns:
            values_out[index] = process(values_out[index])
        processed.append(values_out)
    return processed


class Database:
    """Owns the engine and hands out transactions."""

    def __init__(self, database_url: str, *, concurrent_updates: int = 4) -> None:
        self.url = database_url
        self.engine = create_engine(database_url, concurrent_updates=concurrent_updates)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on error. Never await Telegram inside.

        After a commit the session holds no connection (it went back to the pool with the
        commit), so it is not closed: closing only empties its identity map, one more trip
        through a greenlet per transaction (≈ 0.05 ms, bench/README.md). On error it is closed.
        """
        session = self.sessionmaker()
        try:
            async with session.begin():
                yield session
        except BaseException:
            await session.close()
            raise

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def checkpoint_truncate(self) -> bool:
        """SQLite: move the WAL into the database file and truncate it (on a worker thread), so
        that old page images leave the -wal file; with secure_delete the file itself keeps no
        freed content. Called after an erasure. PostgreSQL: nothing to do here (False): dead
        row versions stay in its files until VACUUM (docs/AUTHORIZATION.md)."""
        url = make_url(self.url)
        if not self.is_sqlite or not url.database or url.database == ":memory:":
            return False
        done = await asyncio.to_thread(sqlite_checkpoint_truncate, url.database)
        if not done:
            logger.warning("WAL checkpoint (TRUNCATE) after an erasure could not complete")
        return done


# Session-level advisory lock keys: any constants, the same for every instance of the bot.
SCHEDULER_LOCK_KEY = 7_463_221_902
# How long a statement on the lock's connection may take before the connection counts as dead.
LOCK_STATEMENT_TIMEOUT_S = 10.0


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock, held on a connection of its own.

    The lock lives as long as that connection: when the process holding it dies, the server
    ends its session and the lock is free at once (a machine that vanishes without closing its
    socket is noticed by the server's TCP keepalives, asked here for ~25 s instead of the
    2 hours a server waits by default). The connection is not from the pool (a pool would hand
    it to a transaction, and the pool's size is the updates' own), it runs in autocommit (never
    "idle in transaction"), and it is kept between attempts: taking the lock costs one round
    trip, checking that it is still held one more. Not through a transaction-mode pooler
    (PgBouncer): a session lock needs a session.
    """

    def __init__(self, database_url: str, key: int) -> None:
        from sqlalchemy.pool import NullPool

        self.key = key
        self._engine = create_async_engine(
            make_url(database_url),
            poolclass=NullPool,
            connect_args={
                "server_settings": {
                    "application_name": "team-energia scheduler lock",
                    "tcp_keepalives_idle": "10",
                    "tcp_keepalives_interval": "5",
                    "tcp_keepalives_count": "3",
                }
            },
        )
        self._conn: AsyncConnection | None = None
        self.held = False

    async def try_hold(self) -> bool:
        """True if this process holds the lock now: checks that a held lock's connection is
        alive, or tries to take the lock (without waiting). Never raises for a database that
        cannot be reached: that is not holding it."""
        try:
            async with asyncio.timeout(LOCK_STATEMENT_TIMEOUT_S):
                if self._conn is None:
                    conn = await self._engine.connect()
                    self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    self.held = False
                if self.held:
                    await self._conn.execute(text("SELECT 1"))
                else:
                    result = await self._conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
                    )
                    self.held = bool(result.scalar())
        except Exception as error:
            logger.debug("Advisory lock %s: connection lost (%s)", self.key, error)
            await self._drop()
        return self.held

    async def _drop(self) -> None:
        conn, self._conn, self.held = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def release(self) -> None:
        """Let it go (at shutdown): closing the session frees the lock."""
        await self._drop()
        await self._engine.dispose()
