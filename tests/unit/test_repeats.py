"""The rule that tells a retry from a new decision, note or announcement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.services.repeats import REPEAT_WINDOW, find_repeat, normalise, repeat_since

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_normalise_ignores_case_spacing_and_compatibility_forms() -> None:
    assert normalise("  Si parte con il BANDO\n per le scuole ") == (
        "si parte con il bando per le scuole"
    )
    assert normalise("ﬁne lavori") == normalise("fine lavori")  # NFKC: the ligature
    assert normalise("Città") == normalise("Citta\u0300")  # composed or not
    assert normalise("bando scuole") != normalise("bando scuole!")  # punctuation counts


def test_find_repeat_within_the_window_only() -> None:
    items = [
        ("old", "Si parte con il bando", NOW - REPEAT_WINDOW - timedelta(seconds=1)),
        ("edge", "si parte con il bando", NOW - REPEAT_WINDOW),
        ("other", "Si rinvia la gara", NOW - timedelta(seconds=5)),
    ]
    assert find_repeat(items, text="Si parte con  il bando", now=NOW) == "edge"
    assert find_repeat(items[:1], text="Si parte con il bando", now=NOW) is None
    assert find_repeat(items, text="Tutt'altro", now=NOW) is None
    assert find_repeat([], text="x", now=NOW) is None
    assert repeat_since(NOW) == NOW - REPEAT_WINDOW


def test_find_repeat_points_at_the_latest() -> None:
    items = [
        (1, "Bando", NOW - timedelta(minutes=8)),
        (3, "bando", NOW - timedelta(minutes=1)),
        (2, "BANDO", NOW - timedelta(minutes=4)),
    ]
    assert find_repeat(items, text="bando", now=NOW) == 3


def test_something_stored_after_now_is_not_a_repeat() -> None:
    # A clock set back (tests, a corrected server clock) never matches the future.
    assert find_repeat([(1, "x", NOW + timedelta(seconds=1))], text="x", now=NOW) is None


@given(st.text(max_size=60), st.sampled_from([" ", "  ", "\n", "\t"]))
def test_a_text_is_a_repeat_of_itself_however_spaced(text: str, space: str) -> None:
    spaced = space + space.join(text.split()) + space
    assert find_repeat([("it", text, NOW)], text=spaced, now=NOW) == "it"
