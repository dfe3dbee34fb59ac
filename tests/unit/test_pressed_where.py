"""bot.scope.pressed_where: a group press counts only on a message that shows the object."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import (
    CallbackQuery,
    Chat,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    User,
)

from bot.scope import Pressed, pressed_where

GROUP = Chat(id=-300, type=Chat.SUPERGROUP)
BOT = User(id=1, first_name="Team energia", is_bot=True)
PERSON = User(id=5, first_name="Sara", is_bot=False)
DATA = "dec:v:7:a"


def _message(message_id: int, *, buttons: tuple[str, ...] = (), sender: User = BOT) -> Message:
    markup = (
        InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in buttons]])
        if buttons
        else None
    )
    return Message(
        message_id=message_id,
        date=datetime(2026, 12, 1, tzinfo=UTC),
        chat=GROUP,
        from_user=sender,
        text="…",
        reply_markup=markup,
    )


def _query(message: Message | InaccessibleMessage | None, data: str = DATA) -> CallbackQuery:
    return CallbackQuery(id="1", from_user=PERSON, chat_instance="x", data=data, message=message)


def test_a_stored_message_counts_even_when_too_old_to_show_its_keyboard() -> None:
    shown = [(GROUP.id, 42), (-999, 43)]
    assert pressed_where(_query(_message(42)), GROUP.id, shown) is Pressed.SHOWN
    old = InaccessibleMessage(chat=GROUP, message_id=42)
    assert pressed_where(_query(old), GROUP.id, shown) is Pressed.SHOWN
    # The same message id in another chat is another message.
    assert pressed_where(_query(_message(43)), GROUP.id, shown) is Pressed.ELSEWHERE


def test_the_bots_message_carrying_the_button_is_carried() -> None:
    """An uncertain send: not stored, but Telegram vouches for the message and its keyboard."""
    message = _message(50, buttons=("dec:v:7:r", DATA))
    assert pressed_where(_query(message), GROUP.id, []) is Pressed.CARRIED


def test_anything_else_is_elsewhere() -> None:
    # Forged data on a message of the bot that carries other buttons, or none.
    assert pressed_where(_query(_message(51, buttons=("dec:v:8:a",))), GROUP.id, []) is (
        Pressed.ELSEWHERE
    )
    assert pressed_where(_query(_message(52)), GROUP.id, []) is Pressed.ELSEWHERE
    # A message not the bot's, whatever it carries.
    foreign = _message(53, buttons=(DATA,), sender=PERSON)
    assert pressed_where(_query(foreign), GROUP.id, []) is Pressed.ELSEWHERE
    # An old (inaccessible) message shows no keyboard: it must be a stored one.
    old = InaccessibleMessage(chat=GROUP, message_id=54)
    assert pressed_where(_query(old), GROUP.id, [(GROUP.id, 1)]) is Pressed.ELSEWHERE
