"""`python -m bot` / `team-energia`: check settings and database, migrate, then poll."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.logging_setup import setup_logging

logger = logging.getLogger("bot")

EXIT_CONFIG = 2


async def _check_database(settings: Settings) -> None:
    """Migrate once before polling, so a bad DATABASE_URL fails early and clearly."""
    from storage import migrate
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Errore di configurazione: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    setup_logging(settings.log_level, settings.token)
    try:
        asyncio.run(_check_database(settings))
    except Exception as exc:  # any driver error: say it in one line, no traceback
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"Errore di configurazione: database non utilizzabile ({reason})", file=sys.stderr)
        sys.exit(EXIT_CONFIG)

    from bot.app import ALLOWED_UPDATES, build_application

    application = build_application(settings)
    logger.info("Team Energia bot starting (timezone %s)", settings.timezone)
    application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)


if __name__ == "__main__":
    main()
