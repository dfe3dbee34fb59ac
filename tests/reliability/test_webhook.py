"""Webhook mode: `python -m bot` with WEBHOOK_URL serves python-telegram-bot's own webhook
server; Telegram (the fake) POSTs updates to it with the secret header; anyone else's POST,
without the secret or with a wrong one, is refused with 403 and changes nothing."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy import select

from bot.config import load_settings, normalize_database_url
from storage.db import Database
from storage.models import ProcessedUpdate, Union
from tests.fakes.telegram_server import FakeTelegram
from tests.reliability.service import (
    STARTED,
    TOKEN,
    BotService,
    stopped_at_end,
    token_leaks,
    wait_until,
)

SECRET = "webhook-secret_0123456789abcdefXYZ"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_env(port: int, path: str = "/telegram") -> dict[str, str]:
    return {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}{path}",
        "WEBHOOK_SECRET": SECRET,
        "PORT": str(port),
        "WEBHOOK_LISTEN": "127.0.0.1",
    }


def _forged_update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": "Intruso", "language_code": "it"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 999,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Intruso"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def test_webhook_mode_serves_telegram_and_refuses_everyone_else(tmp_path: Path) -> None:
    url = normalize_database_url(f"sqlite:///{tmp_path / 'data' / 'bot.db'}")
    port = free_port()
    env = webhook_env(port) | {"LOG_LEVEL": "DEBUG"}
    async with FakeTelegram(token=TOKEN) as fake:
        bot = BotService.for_fake(tmp_path, fake, url, env=env)
        async with stopped_at_end(bot):
            await bot.start()
            [started] = await bot.wait_log(STARTED)
            assert f"webhook http://127.0.0.1:{port}/telegram" in started
            assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram"
            assert fake.webhook_secret == SECRET
            assert not fake.calls_of("getUpdates")  # nobody polls

            # Telegram delivers a person's /start by POST: the bot answers.
            mario = fake.add_user("Mario", "Rossi")
            await mario.send("/start")
            await wait_until(lambda: fake.sent_to(mario), timeout=20)
            assert any(status == 200 for _id, status in fake.webhook_posts)

            # A stranger's POSTs: no secret, a wrong one, the right path or not.
            intruder_user, other_user = fake.add_user("Intruso"), fake.add_user("Ospite")
            intruder_user.has_started = other_user.has_started = True
            intruder, other = intruder_user.id, other_user.id
            forged = _forged_update(77_000_001, intruder, "/crea_unione Unione Abusiva")
            assert await fake.post_to_webhook(forged, secret=None) == 403
            assert await fake.post_to_webhook(forged, secret="wrong-secret-0123456789") == 403
            assert await fake.post_to_webhook(forged, secret=SECRET[:-1]) == 403
            # The same update with the secret is accepted (what Telegram does): a control.
            control = _forged_update(77_000_002, other, "/aiuto")
            assert await fake.post_to_webhook(control, secret=SECRET) == 200
            await wait_until(lambda: fake.sent_to(other), timeout=20)
            assert fake.sent_to(intruder) == []
            assert await bot.stop() == 0
    db = Database(url)
    try:
        async with db.transaction() as session:
            unions = (await session.execute(select(Union.name))).scalars().all()
            seen = set((await session.execute(select(ProcessedUpdate.update_id))).scalars())
    finally:
        await db.dispose()
    assert "Unione Abusiva" not in unions
    assert 77_000_001 not in seen
    text = bot.output()
    assert token_leaks(text) == []
    assert SECRET not in text and SECRET[:-1] not in text
    assert "Traceback" not in text
    # DEBUG, yet no update payload: not the command's text, not the person's name.
    assert "Unione Abusiva" not in text and "Rossi" not in text, text


def test_webhook_settings() -> None:
    base = {"TELEGRAM_BOT_TOKEN": TOKEN}
    assert load_settings(base).mode == "polling"
    settings = load_settings(base | webhook_env(8443, "/tg/hook"))
    assert settings.mode == "webhook"
    assert settings.webhook_path == "/tg/hook"
    assert (settings.webhook_listen, settings.webhook_port) == ("127.0.0.1", 8443)
    assert SECRET not in repr(settings)
    public = {"WEBHOOK_URL": "https://bot.example.org/telegram", "WEBHOOK_SECRET": SECRET}
    assert load_settings(base | public).webhook_url == "https://bot.example.org/telegram"
    import pytest

    from bot.config import ConfigError

    for env, fragment in [
        ({"WEBHOOK_URL": "https://bot.example.org/telegram"}, "WEBHOOK_SECRET mancante"),
        ({"WEBHOOK_URL": "http://bot.example.org/t", "WEBHOOK_SECRET": SECRET}, "https://"),
        ({"WEBHOOK_URL": "https://bot.example.org/t", "WEBHOOK_SECRET": "short"}, "SECRET"),
        ({"WEBHOOK_URL": "https://b.org/t", "WEBHOOK_SECRET": "bad secret!" * 3}, "SECRET"),
        (
            webhook_env(8443) | {"WEBAPP_PORT": "8443", "WEBAPP_URL": "https://e.org/"},
            "WEBAPP_PORT",
        ),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
    ]:
        with pytest.raises(ConfigError, match=fragment):
            load_settings(base | env)


async def test_a_port_in_use_is_a_configuration_error(tmp_path: Path) -> None:
    url = normalize_database_url(f"sqlite:///{tmp_path / 'data' / 'bot.db'}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        async with FakeTelegram(token=TOKEN) as fake:
            bot = BotService.for_fake(tmp_path, fake, url, env=webhook_env(port))
            await bot.start()
            status = await bot.wait_exit(timeout=60)
    assert status == 2, bot.output()
    [line] = bot.lines("Errore di configurazione")
    assert f"127.0.0.1:{port}" in line and "PORT" in line
    assert "Traceback" not in bot.output()
