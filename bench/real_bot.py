"""The real bot for the benchmark: `bot.app.build_application` exactly as `python -m bot`
builds it, with PTB's AIORateLimiter off (BENCH_RATE_LIMITER=1 turns it on).

    TELEGRAM_BOT_TOKEN=… TELEGRAM_BASE_URL=… DATABASE_URL=… python -m bench.real_bot
"""

from __future__ import annotations

import os

from bot.__main__ import migrate_in_child
from bot.app import ALLOWED_UPDATES, build_application, freeze_heap_after_start
from bot.config import load_settings
from bot.context import services_of
from bot.logging_setup import setup_logging


def main() -> None:
    settings = load_settings()
    setup_logging(settings.log_level, settings.token)
    migrate_in_child(settings)  # as python -m bot does
    application = build_application(
        settings, rate_limiter=os.environ.get("BENCH_RATE_LIMITER") == "1"
    )
    services_of(application).schema_ready = True
    freeze_heap_after_start(application)  # as python -m bot does
    application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)


if __name__ == "__main__":
    if os.environ.get("BENCH_PROFILE"):  # where the time goes: BENCH_PROFILE=out.prof
        import cProfile

        cProfile.run("main()", os.environ["BENCH_PROFILE"])
    else:
        main()
