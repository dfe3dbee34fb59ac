"""At LOG_LEVEL=DEBUG the log holds no message text, no invite token, no update payload.

python-telegram-bot logs at DEBUG the parameters of every call (the texts we send, invite
links) and every update it processes (names, usernames, what people wrote); the database keeps
invites only as fingerprints, and a log must not keep more than the database. The real bot
lives a registration with an invite at DEBUG; every record, formatted as our handler formats
it (tracebacks included), is scanned.
"""

from __future__ import annotations

import logging

import pytest

from bot.logging_setup import RedactingFormatter, redact, shape
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_registration_story import invite_token, join, press, say


async def test_debug_log_holds_no_texts_invites_or_payloads(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = bot.fake
    giulia = fake.add_user("Giulia", "Riservatissima", username="giulia_segreta")
    mario = fake.add_user("Marcantonio", "Sconosciuti", username="marcantonio_x")
    await say(bot, giulia, "/crea_unione Unione Valle Nascosta")
    await say(bot, giulia, "/comuni")
    await say(bot, giulia, "Borgo Quieto, Pieve Silente")
    invites = await say(bot, giulia, "/invito")
    await press(bot, giulia, invites, "🔗 Nuovo link per chiunque")
    token = invite_token(fake.last_sent(giulia))
    await join(bot, mario, token, "Borgo Quieto", "Sindaco", "Marcantonio Sindaco")
    await say(bot, mario, "una frase privatissima scritta al bot")
    await bot.tick()

    formatter = RedactingFormatter("%(name)s %(levelname)s %(message)s")
    text = "\n".join(formatter.format(record) for record in caplog.records)
    assert any(r.name.startswith("telegram") and r.levelno == logging.DEBUG for r in caplog.records)
    assert "Calling Bot API endpoint `sendMessage`" in text  # the calls are logged, by shape
    for secret in (
        token,
        "privatissima",  # what a person wrote
        "Valle Nascosta",  # a command's argument
        "Borgo Quieto",  # a button's and a message's text
        "Riservatissima",
        "Sconosciuti",  # names, from the updates
        "giulia_segreta",
        "marcantonio_x",  # usernames
        "Marcantonio Sindaco",
    ):
        assert secret not in text, secret


def test_shapes_and_invite_redaction() -> None:
    assert redact("https://t.me/TeamBot?start=AbC_123-xyz") == "https://t.me/TeamBot?start=<invite>"
    assert redact("/start AbC_123-xyz") == "/start <invite>"
    assert shape("sendMessage") == "sendMessage"
    assert shape(12345) == 12345
    assert shape("Ciao Mario, benvenuto") == "<text, 21 characters>"
    assert shape({"chat_id": 1, "text": "segreto"}) == "<chat_id, text>"
    assert shape(b"payload") == "<7 bytes>"
