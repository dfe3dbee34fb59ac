"""bot.callback_data.pattern: one CallbackQueryHandler per area, or per button family; and
bot.markup.buttons, an area's handlers as one table."""

from __future__ import annotations

import re

from telegram import Update

from bot.callback_data import pattern
from bot.context import BotContext
from bot.markup import buttons


def test_an_area_matches_every_action() -> None:
    assert re.match(pattern("mtg"), "mtg:close:7")
    assert not re.match(pattern("mtg"), "mtgx:close:7")


def test_a_family_matches_its_actions_only() -> None:
    family = pattern("mtg", "close", "extend")
    assert re.match(family, "mtg:close:7")
    assert re.match(family, "mtg:extend:7")
    assert re.match(pattern("wiz", "next"), "wiz:next")
    assert not re.match(family, "mtg:confirm_close:7")
    assert not re.match(family, "mtg:closed:7")
    assert not re.match(family, "vote:close:7")


async def _close(update: Update, context: BotContext) -> None:
    return None


async def _vote(update: Update, context: BotContext) -> None:
    return None


async def _any(update: Update, context: BotContext) -> None:
    return None


def test_buttons_is_one_handler_per_family_in_the_table_order() -> None:
    handlers = buttons("mtg", {"close": _close, ("y", "n"): _vote, "": _any})
    assert [h.callback for h in handlers] == [_close, _vote, _any]
    close, vote, whole = (h.pattern for h in handlers)
    assert isinstance(close, re.Pattern) and isinstance(vote, re.Pattern)
    assert isinstance(whole, re.Pattern)
    assert close.match("mtg:close:7") and not close.match("mtg:confirm_close:7")
    assert vote.match("mtg:y:7") and vote.match("mtg:n:7") and not vote.match("mtg:m:7")
    assert whole.match("mtg:anything:7") and not whole.match("vote:y:7")
