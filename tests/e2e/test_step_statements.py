"""What one step of a technician's update costs the database, through the real bot.

The update steps are the throughput lever of a round (bench/README.md): every technician taps
a dozen of them each month. A step reads its press in one query (`step_context`), reads the
Comuni names and the action list only when its answer shows them, and writes what it changed.
These counts are the statements each kind of step sends, as sqlite3 itself runs them (its trace
callback, tests/sql_trace.py: BEGIN IMMEDIATE and COMMIT, the update id and the dialogue's row
included — most of a step's statements run straight on aiosqlite, `storage.db.run_hot`, past
SQLAlchemy's statement events); a change that adds one fails here, not in a benchmark nobody
ran.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from storage.models import Action, ActionStatus, Role
from tests.e2e.harness import BotUnderTest
from tests.factories import add_member, add_round, make_union
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.sql_trace import traced

# Statements per step (SQLite), each transaction's BEGIN IMMEDIATE and COMMIT included: the
# update id, the press's one query, the writes, the list when the answer shows it, the dialogue's
# row. A typed answer is three transactions: the private chat's reachability (the person), the
# dialogue that takes the text, then the step (which reads the dialogue again with its press).
# Before issue 16 (main at 71746af, counted by SQLAlchemy's events: without BEGIN, COMMIT and the
# update id) an answer was four presses — pick 4, status 3, percent 3, «💾 Salva» 8: 18 — a typed
# note 12, a typed percentage 12, a typed question 16, list 5, skip 5, question 3, done 4. Now a
# state saves at once and the list comes back with it: pick, status, percent.
EXPECTED = {
    "pick": 6,  # the question: the press, the list (its position, its Comune), the dialogue
    "status": 8,  # saved: the press, the update, the action, the list, the dialogue
    "percent": 8,  # the same row completed, the action's percentage, the list, the dialogue
    "typed note": 13,  # 3 + 3 + the update id, the dialogue, the press, the row, the dialogue
    "question": 5,
    "question again": 4,  # the dialogue's row already says so: the press and its update id only
    "typed question": 13,
    "list": 6,
    "skip": 6,
    "same": 8,  # «Invariata»: the confirmation, the action's updated_at, the list, the dialogue
    "typed percent": 14,  # as a note, and the action's percentage
    "rest": 7,  # «Il resto è invariato»: the round, the presser, one INSERT … SELECT for all
    "done": 6,
}


async def _counted(
    bot: BotUnderTest,
    statements: list[str],
    user: FakeUser,
    message: FakeMessage | None,
    button: str,
) -> int:
    """Statements run while the bot handles one press of `button` (or, with no message, one
    private text `button`)."""
    # Time passes between two presses, as it does for a person: a write that changes nothing
    # but a timestamp is counted as it runs in a real round (with a frozen clock the ORM used to
    # leave out the action's UPDATE of a confirmation, which a real «Invariata» sends).
    bot.clock.advance(seconds=5)
    statements.clear()
    if message is None:
        await user.send(button)
    else:
        await (await user.press(message, button)).answered()
    await bot.settle()
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
    with traced(bot.db) as seen:
        counts = await _steps(bot, seen, tina, menu, last)
    worse = {k: (v, EXPECTED[k]) for k, v in counts.items() if v > EXPECTED[k]}
    assert not worse, f"statements (now, expected) of the steps that read or write more: {worse}"
    assert counts == EXPECTED  # fewer: lower EXPECTED, so that the gain is kept


async def _steps(
    bot: BotUnderTest,
    seen: list[str],
    tina: FakeUser,
    menu: FakeMessage,
    last: Callable[[], FakeMessage],
) -> dict[str, int]:
    counts = {"pick": await _counted(bot, seen, tina, menu, "BI-1")}
    counts["status"] = await _counted(bot, seen, tina, menu, "🔄 In corso")
    counts["percent"] = await _counted(bot, seen, tina, menu, "50%")
    counts["typed note"] = await _counted(bot, seen, tina, None, "Caldaia montata")
    counts["question"] = await _counted(
        bot, seen, tina, menu, "⚖️ Serve una decisione del tavolo politico"
    )
    counts["question again"] = await _counted(
        bot, seen, tina, menu, "⚖️ Serve una decisione del tavolo politico"
    )
    counts["typed question"] = await _counted(bot, seen, tina, None, "Serve il bando?")
    counts["list"] = (
        await _counted(bot, seen, tina, menu, "📋 Elenco")
        if "📋 Elenco" in menu.button_texts
        else 0
    )
    await _counted(bot, seen, tina, menu, "BI-2")
    counts["skip"] = await _counted(bot, seen, tina, menu, "⏭ Salta")
    counts["same"] = await _counted(bot, seen, tina, menu, "✔️ Invariata")
    await _counted(bot, seen, tina, menu, "✔️ BI-3")
    await _counted(bot, seen, tina, menu, "⏸ Rinviata")
    counts["typed percent"] = await _counted(bot, seen, tina, None, "40")
    counts["list"] = await _counted(bot, seen, tina, last(), "📋 Elenco")
    counts["rest"] = await _counted(bot, seen, tina, menu, "✔️ Il resto è invariato")
    await tina.send("/aggiornamento")
    await bot.settle()
    counts["done"] = await _counted(bot, seen, tina, last(), "🏁 Ho finito")
    return counts
