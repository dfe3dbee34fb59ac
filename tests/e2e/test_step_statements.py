"""What one step of a technician's update costs the database, through the real bot.

The update steps are the throughput lever of a round (bench/README.md): every technician taps
a dozen of them each month. A step reads its press in one query (`step_context`), reads the
Comuni names and the action list only when its answer shows them, and writes what it changed.
These counts are the statements each kind of step sends (SQLite, `before_cursor_execute`, the
update id and the dialogue's row included); a change that adds one fails here, not in a
benchmark nobody ran.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event

from storage.models import Action, ActionStatus, Role
from tests.e2e.harness import BotUnderTest
from tests.factories import add_member, add_round, make_union
from tests.fakes.fake_world import FakeMessage, FakeUser

# Statements per step (SQLite), measured on main before the move to bot/services/progress
# (issue 15): BEGIN, the update id, the press's one query, what the answer shows, the writes.
EXPECTED = {
    "status": 3,  # "In corso": the percentage question, nothing else read
    "percent": 3,  # "50%": the note question
    "typed note": 12,
    "save": 8,  # the update, the action, the next question (the Comuni, the list, the round)
    "list": 5,
    "pick": 4,  # an action from the list: the question names its Comune
    "skip": 5,
    "typed percent": 12,
    "question": 3,
    "typed question": 16,
    "done": 4,
}


async def _counted(
    bot: BotUnderTest, user: FakeUser, message: FakeMessage | None, button: str
) -> int:
    """Statements run while the bot handles one press of `button` (or, with no message, one
    private text `button`)."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = bot.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        if message is None:
            await user.send(button)
        else:
            await (await user.press(message, button)).answered()
        await bot.settle()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def _button(message: FakeMessage, start: str) -> str:
    return next(t for t in message.button_texts if t.startswith(start))


async def test_a_steps_statements(bot: BotUnderTest) -> None:
    fake, now = bot.fake, bot.clock.now()
    tina = fake.add_user("Tina", "Tecnica")
    async with bot.db.transaction() as s:
        world = await make_union(s, name="Unione Val d'Enza", comuni=["Bibbiano"], now=now)
        await add_member(
            s,
            world.union,
            role=Role.TECNICO,
            name="Tina",
            comuni=[world.comuni[0]],
            telegram_user_id=tina.id,
            now=now,
        )
        for n in range(3):
            s.add(
                Action(
                    union_id=world.union.id,
                    municipality_id=world.comuni[0].id,
                    code=f"BI-{n + 1}",
                    title=f"Azione {n + 1}",
                    status=ActionStatus.NOT_STARTED,
                    progress=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        await add_round(
            s, world, period="2026-12", opened_at=now, deadline_at=now + timedelta(days=5)
        )
    await tina.send("/start")
    await tina.send("/aggiornamento")
    await bot.settle()
    last = lambda: fake.last_sent(tina)  # noqa: E731
    counts = {"status": await _counted(bot, tina, last(), "🔄 In corso")}
    counts["percent"] = await _counted(bot, tina, last(), "50%")
    counts["typed note"] = await _counted(bot, tina, None, "Caldaia montata")
    counts["save"] = await _counted(bot, tina, last(), "💾 Salva")
    counts["list"] = await _counted(bot, tina, last(), "📋 Elenco")
    menu = last()
    counts["pick"] = await _counted(bot, tina, menu, _button(menu, "BI-3"))
    counts["skip"] = await _counted(bot, tina, last(), "⏭ Salta")
    await _counted(bot, tina, last(), "⏸ Rinviata")
    counts["typed percent"] = await _counted(bot, tina, None, "40")
    counts["question"] = await _counted(bot, tina, last(), "⚖️ Serve una decisione politica")
    counts["typed question"] = await _counted(bot, tina, None, "Serve il bando?")
    counts["done"] = await _counted(bot, tina, last(), "🏁 Ho finito")
    worse = {k: (v, EXPECTED[k]) for k, v in counts.items() if v > EXPECTED[k]}
    assert not worse, f"statements (now, before) of the steps that read or write more: {worse}"
