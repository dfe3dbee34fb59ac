"""Settings: clear errors and exit code 2 for what an operator can get wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, normalize_database_url

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


def test_defaults() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.database_url == "sqlite+aiosqlite:///data/team_energia.db"
    assert settings.base_url == "https://api.telegram.org/bot"
    assert settings.timezone == "Europe/Rome"
    assert settings.default_language == "it"
    assert settings.admin_ids == frozenset()
    assert TOKEN not in repr(settings)


def test_urls_as_users_write_them() -> None:
    assert normalize_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalize_database_url("postgresql://u:p@db/te") == "postgresql+asyncpg://u:p@db/te"
    assert normalize_database_url("postgres://u@db/te") == "postgresql+asyncpg://u@db/te"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({}, "TELEGRAM_BOT_TOKEN mancante"),
        ({"TELEGRAM_BOT_TOKEN": "abc"}, "TELEGRAM_BOT_TOKEN non valido"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://x/y"}, "non supportato"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "::::"}, "DATABASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_ADMIN_IDS": "12,abc"}, "BOT_ADMIN_IDS"),
    ],
)
def test_bad_settings(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(env)


def test_admin_ids() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_ADMIN_IDS": "12, 34,"})
    assert settings.admin_ids == frozenset({12, 34})


def _run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TELEGRAM_BOT_TOKEN": "not-a-token"},
        {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "sqlite:////proc/forbidden/x.db"},
    ],
)
def test_main_exits_2_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    result = _run_bot(env, tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Errore di configurazione:")
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr


def test_the_dashboard_is_off_unless_both_port_and_url_are_set() -> None:
    off = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert (off.webapp_port, off.webapp_url, off.webapp_host) == (None, None, "127.0.0.1")
    on = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "WEBAPP_PORT": "8081",
            "WEBAPP_URL": "https://energia.example.org/sub",
            "WEBAPP_HOST": "0.0.0.0",
        }
    )
    assert (on.webapp_port, on.webapp_url, on.webapp_host) == (
        8081,
        "https://energia.example.org/sub/",
        "0.0.0.0",
    )
    for env, fragment in (
        ({"WEBAPP_PORT": "8081"}, "vanno indicati insieme"),
        ({"WEBAPP_URL": "https://x.org/"}, "vanno indicati insieme"),
        ({"WEBAPP_PORT": "99999", "WEBAPP_URL": "https://x.org/"}, "WEBAPP_PORT"),
        ({"WEBAPP_PORT": "8081", "WEBAPP_URL": "http://x.org/"}, "HTTPS"),
        ({"WEBAPP_PORT": "8081", "WEBAPP_URL": "https://x.org/?a=1"}, "HTTPS"),
    ):
        with pytest.raises(ConfigError, match=fragment):
            load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, **env})
