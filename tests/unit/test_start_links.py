"""bot.services.start_links: the one shape of a /start link's payload, per caller's kinds."""

from __future__ import annotations

import pytest

from bot.services.start_links import make_link, parse_link


def test_a_link_is_looked_up_only_in_its_own_kinds() -> None:
    kinds = ("mg", "pv")
    assert make_link("pv", 7, kinds) == "pv-7"
    assert parse_link("pv-7", kinds) == ("pv", 7)
    assert parse_link("exp-7", kinds) is None  # another area's link
    assert parse_link("exp-7", ("exp",)) == ("exp", 7)
    assert parse_link("m-7", kinds) is None  # a prefix of a kind is not the kind
    with pytest.raises(ValueError):
        make_link("exp", 7, kinds)
    with pytest.raises(ValueError):
        make_link("mg", 0, kinds)


def test_an_id_beyond_any_stored_id_is_not_a_link() -> None:
    """Ids fit PostgreSQL's INTEGER: `exp-99999999999` is not looked up (it would fail there)."""
    assert parse_link("exp-999999999", ("exp",)) == ("exp", 999_999_999)
    assert parse_link("exp-9999999999", ("exp",)) is None
    assert parse_link("exp-99999999999", ("exp",)) is None
