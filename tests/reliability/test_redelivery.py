"""The same update twice: one recorded change, and every button press answered."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data as cb
from bot.context import BotContext
from bot.scope import update_transaction
from storage.models import JobClaim, Person, ProcessedUpdate
from tests.e2e.harness import BotUnderTest
from tests.fakes.telegram_server import FakeMessage, FakeUser


async def _counting_handler(update: Update, context: BotContext) -> None:
    """A test-only write that is NOT idempotent by itself: one new row per handled update."""
    query = update.callback_query
    assert query is not None
    async with update_transaction(context, update) as session:
        session.add(
            JobClaim(
                kind="rtest",
                union_id=0,
                period=secrets.token_hex(8),
                claimed_at=context.services.clock.now(),
            )
        )
    await query.answer("Registrato")


def _install(bot: BotUnderTest) -> None:
    # First in group 0, before the spine's catch-all for stale buttons.
    bot.application.handlers[0].insert(
        0, CallbackQueryHandler(_counting_handler, pattern=cb.pattern("rtest"))
    )


async def _menu(bot: BotUnderTest, user: FakeUser) -> FakeMessage:
    chat = user.private_chat
    user.has_started = True
    msg = bot.fake._new_message(chat, None, text="Prova")  # a bot message with a button
    msg.reply_markup = {
        "inline_keyboard": [[{"text": "Conta", "callback_data": cb.encode("rtest", "add", 1)}]]
    }
    return msg


async def _rows(bot: BotUnderTest, model: Any, *where: Any) -> int:
    async with bot.db.transaction() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


def _last_update(bot: BotUnderTest) -> dict[str, Any]:
    return dict(bot.fake.updates[-1])


async def test_same_update_twice_records_one_change(
    any_bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    bot = any_bot
    caplog.set_level(logging.INFO)
    _install(bot)
    anna = bot.fake.add_user("Anna")
    press = await anna.press(await _menu(bot, anna), "Conta")
    await bot.settle()
    assert (await press.answered()).text == "Registrato"
    update = _last_update(bot)
    await bot.fake.inject_update(update)  # Telegram redelivers the same update
    await bot.settle()
    assert await _rows(bot, JobClaim, JobClaim.kind == "rtest") == 1
    assert await _rows(bot, ProcessedUpdate, ProcessedUpdate.update_id == update["update_id"]) == 1
    assert any("already handled" in r.getMessage() for r in caplog.records)
    # The redelivery tried to answer too (Telegram refuses a second answer; no crash, no alert).
    answers = [
        c
        for c in bot.fake.calls_of("answerCallbackQuery")
        if c.params["callback_query_id"] == press.id
    ]
    assert [c.ok for c in answers] == [True, False]


async def test_redelivery_after_a_restart_is_still_rejected(any_bot: BotUnderTest) -> None:
    bot = any_bot
    _install(bot)
    anna = bot.fake.add_user("Anna")
    await anna.press(await _menu(bot, anna), "Conta")
    await bot.settle()
    update = _last_update(bot)
    await bot.restart()  # PTB confirms updates before handling: a crash redelivers them
    _install(bot)
    await bot.fake.inject_update(update)
    await bot.settle()
    assert await _rows(bot, JobClaim, JobClaim.kind == "rtest") == 1


async def test_double_press_new_update_ids_each_answered(bot: BotUnderTest) -> None:
    _install(bot)
    anna = bot.fake.add_user("Anna")
    menu = await _menu(bot, anna)
    presses = [await anna.press(menu, "Conta") for _ in range(5)]
    await bot.settle()
    for press in presses:
        assert (await press.answered()).text == "Registrato"
    # Five distinct updates: the update id cannot tell them apart; business keys must.
    assert await _rows(bot, JobClaim, JobClaim.kind == "rtest") == 5


async def test_language_button_redelivered_is_recorded_once(bot: BotUnderTest) -> None:
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/lingua")
    await bot.settle()
    press = await anna.press(fake.last_sent(anna), "🇬🇧 English")
    await bot.settle()
    assert (await press.answered()).text == "Language updated."
    update = _last_update(bot)
    await fake.inject_update(update)
    await bot.settle()
    assert await _rows(bot, ProcessedUpdate, ProcessedUpdate.update_id == update["update_id"]) == 1
    assert await _rows(bot, Person, Person.language == "en") == 1
    # Only one edit of the menu: the redelivery changed nothing and said nothing.
    assert len(fake.calls_of("editMessageText")) == 1
