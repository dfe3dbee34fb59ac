"""`python -m bot` puts its start-up heap out of the cyclic collector's sight once started."""

from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any, cast

from bot.app import freeze_heap_after_start


async def test_the_heap_is_frozen_after_the_bot_started() -> None:
    started: list[object] = []

    async def on_startup(app: object) -> None:
        started.append(app)
        assert gc.get_freeze_count() == 0  # not before start-up is done

    application = SimpleNamespace(post_init=on_startup)
    gc.unfreeze()
    try:
        freeze_heap_after_start(cast(Any, application))
        await application.post_init(application)
        assert started == [application]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the test process builds many bots: give the collector its heap back
