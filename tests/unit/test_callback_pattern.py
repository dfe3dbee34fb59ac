"""bot.callback_data.pattern: one CallbackQueryHandler per area, or per button family."""

from __future__ import annotations

import re

from bot.callback_data import pattern


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
