"""The allowed cells of the matrix that change data, each on a fresh world: the caller gets an
answer that is not a refusal, and nothing of one Union reaches anyone outside it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import BotUnderTest
from tests.security.matrix import BUTTONS, COMMANDS, OK
from tests.security.shared import fill, run_cell
from tests.security.world import CALLERS, CHATS, build_world


def _allowed_buttons() -> list[Any]:
    return [
        pytest.param(template, id=template)
        for template, row in BUTTONS.items()
        if any(v == OK for cells in row.values() for v in cells.values())
    ]


@pytest.mark.parametrize("template", _allowed_buttons())
async def test_allowed_button(bot: BotUnderTest, template: str) -> None:
    world = await build_world(bot)
    row = BUTTONS[template]
    refusals = {v for cells in row.values() for v in cells.values() if v != OK}
    for chat in ("political", "private"):
        for caller in CALLERS:
            if row[chat][caller] != OK:
                continue
            outcome = await run_cell(world, caller, chat, data=fill(template, world))
            assert outcome.answered, f"{template} by {caller} in {chat}: no answer"
            assert not any(r in outcome.text for r in refusals), (
                f"{template} by {caller} in {chat} was refused: {outcome.text}"
            )
            assert not outcome.leaked, f"leaked {outcome.leaked} to {caller}: {outcome.text}"


async def test_anyone_may_create_a_union(bot: BotUnderTest) -> None:
    """BOT_ADMIN_IDS is empty: anyone may create a Union, and becomes its coordinator."""
    world = await build_world(bot)
    command = "/crea_unione Unione di Prova"
    for caller in CALLERS:
        for chat in CHATS:
            if COMMANDS[command][chat][caller] != OK:
                continue
            outcome = await run_cell(world, caller, chat, command=command)
            assert outcome.messages[0].text is not None
            assert outcome.messages[0].text.startswith("Fatto!"), outcome.text
            assert "municipal_union" in outcome.changed
            assert not outcome.leaked, outcome.leaked
