"""`python -m bot` / `team-energia`: check settings and database, migrate, then serve.

Exit status: 0 stopped by SIGTERM/SIGINT; 2 a configuration error (settings, database,
a token Telegram rejects, a webhook it refuses, a port in use), one line «Errore di
configurazione: …»; 3 another copy receives this token's updates (a persistent 409
Conflict); 1 anything unexpected (logged, redacted: no traceback ever shows the token).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from types import TracebackType

from bot.config import ConfigError, Settings, load_settings
from bot.logging_setup import redact, setup_logging

logger = logging.getLogger("bot")

EXIT_CONFIG = 2
# Test-only: a file holding the ISO instant the bot takes as "now" (bot.clock.FileClock).
TEST_CLOCK_ENV = "TEAM_ENERGIA_TEST_CLOCK_FILE"


def migrate_in_child(settings: Settings) -> None:
    """Migrate once before polling, so a bad DATABASE_URL fails early and clearly.

    In a child process (`python -m storage.migrate`): Alembic and the memory a migration takes
    stay out of the bot, whose peak RSS is ~12 MB lower for it (bench/README.md).
    """
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    result = subprocess.run(
        [sys.executable, "-m", "storage.migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {result.returncode}")


def _last_resort(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """Whatever escapes: through logging (redacted), never Python's raw traceback."""
    logger.critical("Unexpected error: the bot stops", exc_info=(kind, error, tb))


def _thread_last_resort(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _last_resort(args.exc_type, args.exc_value, args.exc_traceback)


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Errore di configurazione: {redact(str(exc))}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    os.umask(0o077)  # what the bot writes (database, health file, backups) is its user's only
    setup_logging(settings.log_level, settings.token)
    sys.excepthook = _last_resort
    threading.excepthook = _thread_last_resort
    logging.captureWarnings(True)  # warnings go through the redacting log too
    try:
        status = _run(settings)
    except Exception as error:
        _last_resort(type(error), error, error.__traceback__)
        status = 1
    logging.shutdown()
    sys.exit(status)


def _run(settings: Settings) -> int:
    try:
        migrate_in_child(settings)
    except Exception as exc:  # any driver error: say it in one line, no traceback
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(
            f"Errore di configurazione: database non utilizzabile ({redact(reason)})",
            file=sys.stderr,
        )
        return EXIT_CONFIG

    from bot.app import build_application, freeze_heap_after_start
    from bot.context import services_of
    from bot.runner import run

    clock = None
    clock_file = os.environ.get(TEST_CLOCK_ENV, "").strip()
    if clock_file:  # test-only (tests/reliability/crash_month.py): time read from a file
        from bot.clock import FileClock

        clock = FileClock(clock_file)
        logger.warning("Test clock in use: the time is read from %s", clock_file)
    application = build_application(settings, clock=clock)
    services_of(application).schema_ready = True
    freeze_heap_after_start(application)
    logger.info("Team Energia bot starting (%s mode); database schema up to date", settings.mode)
    return run(application, settings)


if __name__ == "__main__":
    main()
