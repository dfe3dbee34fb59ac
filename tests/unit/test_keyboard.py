"""Plain keyboards: what the outbox stores and what python-telegram-bot sends are the same."""

from __future__ import annotations

import pytest

from bot.markup import markup
from bot.views.keyboard import Button, Keyboard, to_dict


def test_no_button_is_no_keyboard() -> None:
    # Telegram refuses `reply_markup={"inline_keyboard": []}`: an empty keyboard is never built.
    assert Keyboard.of() is None
    assert Keyboard.of([], []) is None
    assert Keyboard.column([]) is None
    assert to_dict(None) is None
    assert markup(None) is None


def test_empty_rows_are_dropped() -> None:
    kb = Keyboard.of([], [Button("Sì", data="vote:y:1")], [])
    assert kb is not None
    assert kb.to_dict() == {"inline_keyboard": [[{"text": "Sì", "callback_data": "vote:y:1"}]]}


def test_markup_matches_the_outbox_json() -> None:
    kb = Keyboard.of(
        [Button("✅", data="vote:y:1"), Button("❌", data="vote:n:1")],
        [Button("Apri", url="https://t.me/team_energia_bot?start=abc")],
    )
    assert kb is not None
    assert markup(kb).to_dict() == kb.to_dict()  # type: ignore[union-attr]


def test_a_button_has_data_or_a_link() -> None:
    with pytest.raises(ValueError):
        Button("?")
    with pytest.raises(ValueError):
        Button("?", data="a:b", url="https://example.org")


def test_telegram_limits() -> None:
    with pytest.raises(ValueError):
        Keyboard.of([Button(str(i), data=f"a:b:{i}") for i in range(9)])
    with pytest.raises(ValueError):
        Keyboard.column(Button(str(i), data=f"a:b:{i}") for i in range(101))


def test_keyboards_add_up() -> None:
    a = Keyboard.of([Button("1", data="a:b:1")])
    b = Keyboard.of([Button("2", data="a:b:2")])
    assert a is not None and b is not None
    assert len((a + b).rows) == 2
    assert (a + None) is a
