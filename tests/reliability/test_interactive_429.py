"""Flood control on interactive calls (toasts and edits): the bot waits as told, the change is
saved once, and the press is answered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import Person, ProcessedUpdate
from tests.reliability.conftest import BotFactory


@pytest.mark.parametrize("method", ["answerCallbackQuery", "editMessageText"])
async def test_429_on_a_button_answer_or_edit_with_the_rate_limiter(
    make_bot: BotFactory, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    bot = await make_bot(rate_limiter=True)
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/lingua")
    await bot.settle()
    menu = fake.last_sent(anna)
    fake.fail_next(method, 429, "Too Many Requests: retry after 1", retry_after=1)
    press = await anna.press(menu, "🇬🇧 English")
    assert (await press.answered(timeout=10)).text == "Language updated."
    await bot.settle()
    calls = fake.calls_of(method)
    assert [c.ok for c in calls] == [False, True]  # refused once, done once after the wait
    assert menu.text == "From now on I will write to you in English."
    async with bot.db.transaction() as session:
        people = list((await session.execute(select(Person))).scalars())
        recorded = (
            await session.execute(select(func.count()).select_from(ProcessedUpdate))
        ).scalar_one()
    assert [p.language for p in people] == ["en"] and recorded == 1


async def test_429_on_an_edit_without_the_rate_limiter_keeps_the_change(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No retry layer: the edit is lost, but the choice was saved and confirmed by the toast,
    and nothing is applied twice."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    bot = await make_bot(rate_limiter=False)
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/lingua")
    await bot.settle()
    menu = fake.last_sent(anna)
    fake.fail_next("editMessageText", 429, "Too Many Requests: retry after 1", retry_after=1)
    press = await anna.press(menu, "🇬🇧 English")
    assert (await press.answered()).text == "Language updated."
    await bot.settle()
    assert menu.text == "Scegli la lingua:"
    async with bot.db.transaction() as session:
        people = list((await session.execute(select(Person))).scalars())
    assert [p.language for p in people] == ["en"]
