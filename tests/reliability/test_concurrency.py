"""CONCURRENT_UPDATES > 1: people are served at the same time, each person's updates in order."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data as cb
from bot.context import BotContext
from bot.updates import PerPersonProcessor
from storage.models import Person
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.reliability.conftest import BotFactory

events: list[tuple[str, int, str]] = []


async def _slow(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.from_user is not None and query.data is not None
    who, n = query.from_user.id, cb.decode(query.data)
    assert n is not None
    events.append(("start", who, n.args[0]))
    await asyncio.sleep(0.05)
    events.append(("end", who, n.args[0]))
    await query.answer()


def _menu(fake_user: FakeUser, n: int) -> FakeMessage:
    fake_user.has_started = True
    msg = fake_user.fake._new_message(fake_user.private_chat, None, text="Prova")
    msg.reply_markup = {
        "inline_keyboard": [
            [{"text": str(i), "callback_data": cb.encode("rslow", "go", i)} for i in range(n)]
        ]
    }
    return msg


async def test_each_person_in_order_several_people_at_once(make_bot: BotFactory) -> None:
    bot = await make_bot(concurrent_updates=4)
    assert isinstance(bot.application.update_processor, PerPersonProcessor)
    bot.application.handlers[0].insert(0, CallbackQueryHandler(_slow, pattern=cb.pattern("rslow")))
    events.clear()
    anna, bruno = bot.fake.add_user("Anna"), bot.fake.add_user("Bruno")
    menus = {anna.id: _menu(anna, 4), bruno.id: _menu(bruno, 4)}
    for i in range(4):
        for user in (anna, bruno):
            await user.press(menus[user.id], str(i))
    await bot.settle()
    for user in (anna, bruno):
        mine = [(kind, arg) for kind, who, arg in events if who == user.id]
        # One at a time, in the order pressed.
        assert mine == [(k, str(i)) for i in range(4) for k in ("start", "end")]
    # …while Anna and Bruno were served at the same time.
    running: set[int] = set()
    overlapped = False
    for kind, who, _arg in events:
        if kind == "start":
            running.add(who)
            overlapped |= len(running) > 1
        else:
            running.discard(who)
    assert overlapped


async def test_language_choices_under_concurrency_end_on_the_last_press(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(concurrent_updates=4)
    fake = bot.fake
    people = [fake.add_user(f"P{n}") for n in range(6)]
    menus = {}
    for user in people:
        await user.send("/lingua")
    await bot.settle()
    for user in people:
        menus[user.id] = fake.last_sent(user)
    for _ in range(3):
        for user in people:
            await user.press(menus[user.id], "🇬🇧 English")
            await user.press(menus[user.id], "🇮🇹 Italiano")
    await bot.settle()
    async with bot.db.transaction() as session:
        stored = {
            p.telegram_user_id: p.language
            for p in (await session.execute(select(Person))).scalars()
        }
    assert stored == {u.id: "it" for u in people}
