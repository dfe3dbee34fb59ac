"""CONCURRENT_UPDATES > 1: people are served at the same time, each person's updates in order."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data as cb
from bot.app import UPDATE_QUEUE_SIZE, UPDATES_PER_POLL
from bot.context import BotContext
from bot.scope import update_transaction
from bot.updates import PerPersonProcessor
from storage.models import Person, ProcessedUpdate
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
    make_any_bot: BotFactory,
) -> None:
    bot = await make_any_bot(concurrent_updates=4)
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


async def test_one_persons_queued_presses_do_not_hold_every_slot(make_bot: BotFactory) -> None:
    """Anna presses six slow buttons, then Bruno one: Bruno is served while Anna's first is
    still running. (Taking a slot before the person's turn let Anna's waiting presses hold all
    four slots, and Bruno waited for three of hers to finish.)"""
    bot = await make_bot(concurrent_updates=4)
    bot.application.handlers[0].insert(0, CallbackQueryHandler(_slow, pattern=cb.pattern("rslow")))
    events.clear()
    anna, bruno = bot.fake.add_user("Anna"), bot.fake.add_user("Bruno")
    anna_menu, bruno_menu = _menu(anna, 6), _menu(bruno, 1)
    for i in range(6):
        await anna.press(anna_menu, str(i))
    await bruno.press(bruno_menu, "0")
    await bot.settle()
    order = [(kind, who) for kind, who, _arg in events]
    assert len(order) == 14
    assert order.index(("start", bruno.id)) < order.index(("end", anna.id))
    mine = [(kind, arg) for kind, who, arg in events if who == anna.id]
    assert mine == [(k, str(i)) for i in range(6) for k in ("start", "end")]
    processor = bot.application.update_processor
    assert processor.max_concurrent_updates == 4
    assert processor.current_concurrent_updates == 0


@pytest.mark.parametrize("concurrent_updates", [1, 4])
async def test_a_burst_waits_at_telegram_not_in_memory(
    make_any_bot: BotFactory, concurrent_updates: int
) -> None:
    """250 presses at once: getUpdates asks for at most UPDATES_PER_POLL (32) at a time, at
    most UPDATE_QUEUE_SIZE (16) wait in the bot's queue and at most as many are taken out of it
    and not finished (with CONCURRENT_UPDATES PTB would make all of them tasks at once); every
    press is still handled, each person's in order, and recorded in its own transaction as a
    vote is (on PostgreSQL: the update id riding with BEGIN, up to four at once on the fixed
    pool)."""
    bot = await make_any_bot(concurrent_updates=concurrent_updates)
    queue = bot.application.update_queue
    processor = bot.application.update_processor
    assert queue.maxsize == UPDATE_QUEUE_SIZE == 16
    handled: list[tuple[int, int]] = []
    longest, most_taken = 0, 0

    async def count(update: Update, context: BotContext) -> None:
        nonlocal longest, most_taken
        query = update.callback_query
        assert query is not None and query.data is not None
        data = cb.decode(query.data)
        assert data is not None
        longest = max(longest, queue.qsize())
        most_taken = max(most_taken, processor.current_concurrent_updates)
        async with update_transaction(context, update):
            pass
        handled.append((query.from_user.id, int(data.args[0])))
        await query.answer()

    bot.application.handlers[0].insert(0, CallbackQueryHandler(count, pattern=cb.pattern("rcnt")))
    users = [bot.fake.add_user(f"P{n}") for n in range(5)]
    menus = {}
    for user in users:
        user.has_started = True
        menus[user.id] = user.fake._new_message(user.private_chat, None, text="Prova")
        menus[user.id].reply_markup = {
            "inline_keyboard": [
                [{"text": str(i), "callback_data": cb.encode("rcnt", "go", i)} for i in range(50)]
            ]
        }
    for i in range(50):
        for user in users:
            await user.press(menus[user.id], str(i))
    await bot.settle()
    assert len(handled) == 250
    async with bot.db.transaction() as session:
        recorded = (await session.execute(select(func.count(ProcessedUpdate.update_id)))).scalar()
    assert recorded == 250
    assert len(bot.fake.calls_of("answerCallbackQuery")) == 250
    for user in users:
        assert [n for who, n in handled if who == user.id] == list(range(50))
    assert 0 < longest <= UPDATE_QUEUE_SIZE
    assert most_taken <= UPDATE_QUEUE_SIZE
    batches = [call.params for call in bot.fake.calls_of("getUpdates")]
    assert len(batches) >= 250 // UPDATES_PER_POLL
    assert all(params["limit"] == UPDATES_PER_POLL == 32 for params in batches)
    if concurrent_updates > 1:
        assert most_taken > 4  # tasks beyond the running four exist, but bounded


async def test_never_more_than_the_limit_at_once(make_bot: BotFactory) -> None:
    bot = await make_bot(concurrent_updates=4)
    bot.application.handlers[0].insert(0, CallbackQueryHandler(_slow, pattern=cb.pattern("rslow")))
    events.clear()
    people = [bot.fake.add_user(f"P{n}") for n in range(8)]
    menus = {u.id: _menu(u, 2) for u in people}
    for i in range(2):
        for user in people:
            await user.press(menus[user.id], str(i))
    await bot.settle()
    running, most = 0, 0
    for kind, _who, _arg in events:
        running += 1 if kind == "start" else -1
        most = max(most, running)
    assert len(events) == 32
    assert most == 4
