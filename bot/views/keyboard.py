"""Inline keyboards as plain data: built by views and use cases, sent by the Telegram kit.

A use case that queues a message in the outbox stores `keyboard.to_dict()` (Telegram's JSON);
a handler that answers at once turns it into python-telegram-bot's markup with
`bot.markup.markup(keyboard)`. Telegram refuses an empty inline keyboard, so `Keyboard.of`
gives None when there is no button: "no keyboard" is then simply not sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator

# Telegram: at most 8 buttons a row and 100 in all (docs/DESIGN.md, "Telegram's limits").
MAX_PER_ROW = 8
MAX_BUTTONS = 100


@dataclass(frozen=True)
class Button:
    """One button: callback data (encoded by bot.callback_data), a link, or a Mini App to open
    (`web_app`: its HTTPS address; Telegram allows these only in private chats) — exactly one."""

    text: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.data, self.url, self.web_app)) != 1:
            raise ValueError("a button has callback data, a url or a web app, exactly one")

    def to_dict(self) -> dict[str, Any]:
        if self.url is not None:
            return {"text": self.text, "url": self.url}
        if self.web_app is not None:
            return {"text": self.text, "web_app": {"url": self.web_app}}
        assert self.data is not None
        return {"text": self.text, "callback_data": self.data}


@dataclass(frozen=True)
class Keyboard:
    rows: tuple[tuple[Button, ...], ...]

    @classmethod
    def of(cls, *rows: Iterable[Button]) -> Keyboard | None:
        """A keyboard of the non-empty rows, or None when no button is left."""
        kept = tuple(row for row in (tuple(r) for r in rows) if row)
        if not kept:
            return None
        if any(len(row) > MAX_PER_ROW for row in kept):
            raise ValueError(f"more than {MAX_PER_ROW} buttons in a row")
        if sum(len(row) for row in kept) > MAX_BUTTONS:
            raise ValueError(f"more than {MAX_BUTTONS} buttons")
        return cls(kept)

    @classmethod
    def column(cls, buttons: Iterable[Button]) -> Keyboard | None:
        """One button a row."""
        return cls.of(*([b] for b in buttons))

    def __add__(self, other: Keyboard | None) -> Keyboard:
        return self if other is None else Keyboard(self.rows + other.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"inline_keyboard": [[b.to_dict() for b in row] for row in self.rows]}


def to_dict(keyboard: Keyboard | None) -> dict[str, Any] | None:
    """For an outbox payload's `reply_markup`."""
    return keyboard.to_dict() if keyboard is not None else None


def open_chat_button(
    bot_username: str, tr: Translator, payload: str | None = None
) -> Keyboard | None:
    """A button that opens the private chat with the bot (with `?start=<payload>`): what every
    area shows where the bot may not write to someone first."""
    url = f"https://t.me/{bot_username}" + (f"?start={payload}" if payload else "")
    return Keyboard.of([Button(tr.gettext("💬 Apri la chat con me"), url=url)])
