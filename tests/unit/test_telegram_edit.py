"""bot.telegram_edit: Telegram's answers to an edit, sorted into what the caller decides."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from telegram import Bot, CallbackQuery, Chat, InaccessibleMessage, Message, User
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram_edit import EditStatus, edit_message, edit_pressed


class RecordingBot:
    """Stands in for PTB's Bot: records edits, or raises what Telegram would answer."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[dict[str, Any]] = []

    async def edit_message_text(self, text: str, **kwargs: Any) -> bool:
        self.calls.append({"text": text, **kwargs})
        if self.error is not None:
            raise self.error
        return True


async def _edit(error: Exception | None) -> tuple[EditStatus, float, RecordingBot]:
    bot = RecordingBot(error)
    result = await edit_message(
        cast(Bot, bot), chat_id=-100, message_id=7, text="<b>Tally</b>", reply_markup=None
    )
    return result.status, result.retry_after, bot


async def test_an_accepted_edit_goes_by_chat_and_message_id() -> None:
    status, _wait, bot = await _edit(None)
    assert status == EditStatus.EDITED
    assert bot.calls == [
        {
            "text": "<b>Tally</b>",
            "chat_id": -100,
            "message_id": 7,
            "reply_markup": None,
            "parse_mode": "HTML",
        }
    ]


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (
            "Message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message",
            EditStatus.UNCHANGED,
        ),
        ("Message to edit not found", EditStatus.GONE),
        ("Message can't be edited", EditStatus.GONE),
        ("Message_id_invalid", EditStatus.GONE),
        ("There is no text in the message to edit", EditStatus.GONE),
        ("Can't parse entities: unsupported start tag", EditStatus.FAILED),
    ],
)
async def test_bad_requests_are_sorted(description: str, expected: EditStatus) -> None:
    status, _wait, _bot = await _edit(BadRequest(description))
    assert status == expected


async def test_not_modified_counts_as_success() -> None:
    bot = RecordingBot(BadRequest("Message is not modified"))
    result = await edit_message(cast(Bot, bot), chat_id=1, message_id=2, text="x")
    assert result.ok and not result.gone


async def test_a_429_that_outlasted_the_rate_limiter_is_reported_with_its_wait(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    with caplog.at_level(logging.WARNING, logger="bot.telegram_edit"):
        status, wait, _bot = await _edit(RetryAfter(timedelta(seconds=17)))
    assert (status, wait) == (EditStatus.RETRY, 17.0)
    assert any("flood control" in r.getMessage() for r in caplog.records)  # never silent


@pytest.mark.parametrize("error", [TimedOut(), NetworkError("Bad Gateway")])
async def test_network_trouble_means_try_again(error: Exception) -> None:
    status, wait, _bot = await _edit(error)
    assert status == EditStatus.RETRY and wait > 0


async def test_refusals() -> None:
    assert (await _edit(Forbidden("bot was kicked from the group chat")))[0] == EditStatus.FAILED
    assert (await _edit(ChatMigrated(-1001)))[0] == EditStatus.GONE


def _query(message: Message | InaccessibleMessage | None) -> CallbackQuery:
    user = User(id=5, first_name="Carla", is_bot=False)
    return CallbackQuery(
        id="1", from_user=user, chat_instance="x", data="dec:close:1", message=message
    )


async def test_a_pressed_inaccessible_message_is_edited_by_its_ids() -> None:
    """PTB's query.edit_message_text raises TypeError here; the ids are still known."""
    chat = Chat(id=-300, type=Chat.SUPERGROUP)
    query = _query(InaccessibleMessage(chat=chat, message_id=42))
    with pytest.raises(TypeError):
        await query.edit_message_text("x")
    bot = RecordingBot()
    result = await edit_pressed(cast(Bot, bot), query, "Scegli l'esito.")
    assert result.status == EditStatus.EDITED
    assert (bot.calls[0]["chat_id"], bot.calls[0]["message_id"]) == (-300, 42)


async def test_a_press_without_a_message_cannot_be_edited() -> None:
    bot = RecordingBot()
    result = await edit_pressed(cast(Bot, bot), _query(None), "x")
    assert result.gone and bot.calls == []


async def test_an_accessible_message_too() -> None:
    chat = Chat(id=9, type=Chat.PRIVATE)
    message = Message(message_id=3, date=datetime(2026, 12, 1, tzinfo=UTC), chat=chat)
    bot = RecordingBot()
    await edit_pressed(cast(Bot, bot), _query(message), "ok")
    assert (bot.calls[0]["chat_id"], bot.calls[0]["message_id"]) == (9, 3)
