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

# Statements per step (SQLite): BEGIN, the update id, the press's one query, the writes, the
# list when the answer shows it, the dialogue's row. Before issue 16 (main at 71746af) an
# answer was four presses — pick 4, status 3, percent 3, «💾 Salva» 8: 18 statements —, a typed
# note 12, a typed percentage 12, a typed question 16, list 5, skip 5, question 3, done 4.
# Now a state saves at once and the list comes back with it: pick, status, percent.
EXPECTED = {
    "pick": 4,  # the question: the press, the list (its position, its Comune)
    "status": 6,  # saved: the update, the action, the list, the dialogue
    "percent": 6,  # the same row completed, the action's percentage, the list, the dialogue
    "typed note": 7,  # the dialogue, the writer (one query), the row completed, the dialogue
    "question": 3,
    "question again": 2,  # the dialogue's row already says so: the press and its update id only
    "typed question": 7,
    "list": 4,
    "skip": 4,
    "same": 6,  # «Invariata»: the confirmation, the action's updated_at, the list, the dialogue
    "typed percent": 8,  # as a note, and the action's percentage
    "rest": 5,  # «Il resto è invariato»: the round, the presser, one INSERT … SELECT for all
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

    # Time passes between two presses, as it does for a person: a write that changes nothing
    # but a timestamp is counted as it runs in a real round (with a frozen clock the ORM used to
    # leave out the action's UPDATE of a confirmation, which a real «Invariata» sends).
    bot.clock.advance(seconds=5)
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
    menu = last()
    counts = {"pick": await _counted(bot, tina, menu, "BI-1")}
    counts["status"] = await _counted(bot, tina, menu, "🔄 In corso")
    counts["percent"] = await _counted(bot, tina, menu, "50%")
    counts["typed note"] = await _counted(bot, tina, None, "Caldaia montata")
    counts["question"] = await _counted(
        bot, tina, menu, "⚖️ Serve una decisione del tavolo politico"
    )
    counts["question again"] = await _counted(
        bot, tina, menu, "⚖️ Serve una decisione del tavolo politico"
    )
    counts["typed question"] = await _counted(bot, tina, None, "Serve il bando?")
    counts["list"] = (
        await _counted(bot, tina, menu, "📋 Elenco") if "📋 Elenco" in menu.button_texts else 0
    )
    await _counted(bot, tina, menu, "BI-2")
    counts["skip"] = await _counted(bot, tina, menu, "⏭ Salta")
    counts["same"] = await _counted(bot, tina, menu, "✔️ Invariata")
    await _counted(bot, tina, menu, "✔️ BI-3")
    await _counted(bot, tina, menu, "⏸ Rinviata")
    counts["typed percent"] = await _counted(bot, tina, None, "40")
    counts["list"] = await _counted(bot, tina, last(), "📋 Elenco")
    counts["rest"] = await _counted(bot, tina, menu, "✔️ Il resto è invariato")
    await tina.send("/aggiornamento")
    await bot.settle()
    counts["done"] = await _counted(bot, tina, last(), "🏁 Ho finito")
    worse = {k: (v, EXPECTED[k]) for k, v in counts.items() if v > EXPECTED[k]}
    assert not worse, f"statements (now, expected) of the steps that read or write more: {worse}"
