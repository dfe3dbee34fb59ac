"""Where a button was pressed, as plain values: the rule behind `bot.scope.pressed_where`.

A button that counts only on the message showing its object (a poll's votes, a decision's
buttons) is checked against the messages the object was posted as. The kit reads the pressed
message from Telegram's update (`bot.scope.press_of`); the decision below needs no Telegram, so
a use case can take the press as plain values and decide in its own transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Pressed(enum.Enum):
    """Where a group press landed, for buttons that count only on the object's own messages."""

    SHOWN = "shown"  # a message stored as showing the object
    CARRIED = "carried"  # the bot's message carrying the pressed button, not stored (yet)
    ELSEWHERE = "elsewhere"  # any other message: a forged press, refused


@dataclass(frozen=True)
class Press:
    """A press in a group chat.

    `message_id` is None when Telegram sent no message with the press; `carries_button` says
    that the pressed message is the bot's and carries the very button pressed (Telegram vouches
    for the message and its keyboard; callback data alone can be forged).
    """

    chat_id: int
    message_id: int | None
    carries_button: bool

    def where(self, shown: Iterable[tuple[int, int]]) -> Pressed:
        """Was this press made on a message that shows the object?

        `shown` are the (chat id, message id) of the messages the object was posted as. A
        message not among them still counts when it is the bot's and carries the very button
        pressed: a message the object was posted as whose id the bot never learnt (a send that
        ended `uncertain`, an edit sent afresh). The caller then adopts it (stores its id, so
        the object's edits reach it) when it is one of the object's live messages. Everything
        else is refused: the same button forged on another message of the group.
        """
        if any(
            chat == self.chat_id and (self.message_id is None or message_id == self.message_id)
            for chat, message_id in shown
        ):
            return Pressed.SHOWN
        return Pressed.CARRIED if self.carries_button else Pressed.ELSEWHERE
