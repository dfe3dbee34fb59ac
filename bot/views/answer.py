"""What an update is answered with, as plain data: decided in the transaction, sent after it.

A handler renders a use case's outcome into an `Answer` with a view and hands it to
`bot.telegram_edit.deliver`, which makes the Telegram calls: the toast of a pressed button,
the pressed message replaced (or a new message), then any further messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.views.keyboard import Keyboard


@dataclass(frozen=True)
class Answer:
    """`toast`: the answer to a pressed button (an alert when `alert`). `text` and `keyboard`
    replace the pressed message, or come as a new message when `new_message` or when the
    update is not a press. `then`: messages sent after it, in order, each with its keyboard."""

    toast: str | None = None
    alert: bool = False
    text: str | None = None
    keyboard: Keyboard | None = None
    new_message: bool = False
    then: tuple[tuple[str, Keyboard | None], ...] = ()
