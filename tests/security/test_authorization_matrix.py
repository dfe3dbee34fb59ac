"""docs/AUTHORIZATION.md, cell by cell, against the real bot on the fake Telegram server.

Refused cells run on one world shared by the module (a refused cell changes nothing, which is
what each of them asserts, so sharing is safe and the suite stays fast). Allowed cells that
write run on a fresh world each (test_authorization_allowed.py). Every cell also checks that no
data of a Union reached anyone outside it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.clock import FakeClock
from bot.config import normalize_database_url
from tests.e2e.harness import BotUnderTest
from tests.fakes.telegram_server import FakeTelegram
from tests.security.matrix import BUTTON_CHATS, BUTTONS, COMMANDS, OK
from tests.security.shared import clear_dialogues, fill, run_cell
from tests.security.world import CALLERS, CHATS, World, build_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Allowed cells whose effect would change what later cells see (a new Union makes its creator
# a coordinator twice over): checked on a fresh world in test_authorization_allowed.py.
WRITES = {"/crea_unione Unione di Prova"}
# The coordinator asking to link a group of nobody's is told which Union it would join.
NAMES_ITS_UNION = {("/collega", "coord", "unlinked")}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    clock = FakeClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    fake = FakeTelegram(clock=clock)
    await fake.start()
    path: Path = tmp_path_factory.mktemp("matrix") / "bot.db"
    bot = BotUnderTest(fake, clock, normalize_database_url(f"sqlite:///{path}"))
    await bot.start()
    try:
        yield await build_world(bot)
    finally:
        await bot.stop()
        await fake.stop()
        fake.write_transcript(Path(".transcripts") / "authorization_matrix.txt")


COMMAND_CELLS = [
    pytest.param(command, caller, chat, id=f"{command}|{caller}|{chat}")
    for command, cells in COMMANDS.items()
    for chat in CHATS
    for caller in CALLERS
    if not (command in WRITES and cells[chat][caller] == OK)
]


@pytest.mark.parametrize(("command", "caller", "chat"), COMMAND_CELLS)
async def test_command(world: World, command: str, caller: str, chat: str) -> None:
    expected = COMMANDS[command][chat][caller]
    outcome = await run_cell(world, caller, chat, command=command)
    assert outcome.messages, f"{command} by {caller} in {chat}: no answer at all"
    first = outcome.messages[0].text or ""
    if (command, caller, chat) not in NAMES_ITS_UNION:
        assert not outcome.leaked, f"leaked {outcome.leaked} to {caller} in {chat}: {outcome.text}"
    if expected == OK:
        refusals = {v for row in COMMANDS[command].values() for v in row.values() if v != OK}
        assert not any(first.startswith(r) for r in refusals), first
    else:
        assert first.startswith(expected), f"expected «{expected}», got «{first}»"
        assert outcome.changed == "", f"refused, yet the database changed: {outcome.changed}"


def _refused_buttons() -> list[Any]:
    cells: list[Any] = []
    for template, row in BUTTONS.items():
        for chat in BUTTON_CHATS:
            for caller in CALLERS:
                if row[chat][caller] != OK:
                    cells.append(
                        pytest.param(template, caller, chat, id=f"{template}|{caller}|{chat}")
                    )
    return cells


@pytest.mark.parametrize(("template", "caller", "chat"), _refused_buttons())
async def test_refused_button(world: World, template: str, caller: str, chat: str) -> None:
    expected = BUTTONS[template][chat][caller]
    await clear_dialogues(world)  # an allowed command cell may have left one open
    outcome = await run_cell(world, caller, chat, data=fill(template, world))
    assert outcome.answered, "every press gets an answer"
    assert expected in outcome.text, f"expected «{expected}», got «{outcome.text}»"
    assert outcome.changed == "", f"refused, yet the database changed: {outcome.changed}"
    assert not outcome.leaked, f"leaked {outcome.leaked} to {caller} in {chat}: {outcome.text}"


@pytest.mark.parametrize(
    ("template", "owner"),
    [("appr:approve:{pending}", "a"), ("vote:y:{slot}", "a"), ("dec:vote:{dec}:approve", "a")],
)
async def test_ids_of_another_union(world: World, template: str, owner: str) -> None:
    """Union B's coordinator and Union A's people swap ids: each side is refused on the other's
    objects (the callback data names an id; the server decides whose it is)."""
    del owner
    b = world.b
    forged = template.format(
        pending=b.member_ids["other_coord"], slot=b.slot_ids[0], dec=b.decision_id
    )
    for caller in ("coord", "sindaco", "assessore", "tecnico"):
        outcome = await run_cell(world, caller, "private", data=forged)
        assert outcome.answered
        assert outcome.changed == "", f"{caller} changed Union B with {forged}: {outcome.changed}"
        assert not outcome.leaked, outcome.leaked


@pytest.mark.parametrize(
    "template",
    [
        "min:o:{draft}:{item_b}:d",
        "min:a:{draft}:{member_b}:1",
        "att:tap:{meeting}:{member_b}",
        "tsk:who:{meeting}:{member_b}",
        "tsk:act:{meeting}:{action_b}",
    ],
)
async def test_ids_of_another_union_inside_ones_own(world: World, template: str) -> None:
    """Union A's coordinator forges a button of A's own meeting that names an object of Union
    B's (an agenda item, a member, an action) as its second id: the use case checks that the
    object belongs to the meeting, so nothing of either Union changes and nothing of B shows."""
    a, b = world.a, world.b
    forged = template.format(
        draft=a.draft_meeting_id,
        meeting=a.meeting_id,
        item_b=b.draft_item_id,
        member_b=b.member_ids["other_coord"],
        action_b=b.action_ids[0],
    )
    await clear_dialogues(world)
    outcome = await run_cell(world, "coord", "private", data=forged)
    assert outcome.answered, forged
    assert outcome.changed == "", f"{forged} changed: {outcome.changed}"
    assert not outcome.leaked, outcome.leaked


async def test_no_message_ever_leaked(world: World) -> None:
    """After every cell: the whole history of the unlinked group and of the outsiders'
    private chats holds nothing of either Union, each Union's groups nothing of the other."""
    from tests.security.world import PEOPLE, SECRET_A, SECRET_B, leaks

    fake = world.bot.fake
    names = {last for _first, last, _user in PEOPLE.values()}
    for m in fake.sent_to(world.chats["unlinked"]):
        text = (m.text or m.caption or "") + str(m.buttons)
        if "Questo gruppo è il tavolo politico o il tavolo tecnico" in text:
            continue  # the coordinator's own /collega question
        # (people are greeted by their own name there; the rest is nobody's business)
        assert not leaks(text, tuple(s for s in SECRET_A + SECRET_B if s not in names)), text
    for group, foreign in (
        (world.b_group, SECRET_A),
        (world.chats["political"], SECRET_B),
        (world.chats["technical"], SECRET_B),
    ):
        for m in fake.sent_to(group):
            text = (m.text or m.caption or "") + str(m.buttons)
            # everyone there is greeted by their own name (all callers sit in every group)
            assert not leaks(text, tuple(s for s in foreign if s not in names)), text
    for m in fake.sent_to(world.users["outsider"].private_chat):
        text = (m.text or m.caption or "") + str(m.buttons)
        assert not leaks(text, SECRET_A + SECRET_B), text
    for m in fake.sent_to(world.users["other_coord"].private_chat):
        text = (m.text or m.caption or "") + str(m.buttons)
        assert not leaks(text, SECRET_A), text
