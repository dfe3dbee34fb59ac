"""The tick's order is one list: `bot.services.schedule.SCHEDULE`.

Every kind of scheduled work the bot registers has its place there exactly once, every place
there but the tick's own steps is taken by a registered kind, and the tick runs the due ones in
that order, whatever the order in which the areas registered them (bot.jobs).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from telegram import Bot

from bot.context import DueWork, Services
from bot.services import schedule
from tests.e2e.harness import BotUnderTest

FEATURES = [kind for kind in schedule.SCHEDULE if kind not in schedule.KIT_KINDS]


def test_the_tick_s_own_steps_come_last() -> None:
    assert list(schedule.SCHEDULE)[len(FEATURES) :] == list(schedule.KIT_KINDS)


async def test_every_registered_kind_has_one_place(bot: BotUnderTest) -> None:
    registered = [name for name, _work in bot.services.due_work]
    assert sorted(registered) == sorted(FEATURES)  # each once, none missing, none extra


async def test_the_tick_runs_in_the_schedule_s_order(bot: BotUnderTest) -> None:
    services = bot.services
    ran: list[str] = []

    def recorder(name: str) -> DueWork:
        async def work(_services: Services, _bot: Bot, _now: datetime) -> None:
            ran.append(name)

        return work

    # registered backwards: the order must still be SCHEDULE's
    services.due_work[:] = [(name, recorder(name)) for name, _ in reversed(services.due_work)]
    bot.clock.advance(minutes=1)
    await bot.tick()  # the first tick after a start runs every kind
    assert ran == FEATURES


async def test_a_kind_without_a_place_is_refused(bot: BotUnderTest) -> None:
    async def work(_services: Services, _bot: Bot, _now: datetime) -> None:
        return None

    with pytest.raises(ValueError, match="no place"):
        bot.services.add_due_work("reports.weekly", work)
    with pytest.raises(ValueError, match="no place"):
        bot.services.add_due_work(schedule.FLUSH, work)  # the tick's own step
    with pytest.raises(ValueError, match="twice"):
        bot.services.add_due_work(FEATURES[0], work)
