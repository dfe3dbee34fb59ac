"""Settings read from the environment (and `.env`), validated once at start."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_SQLITE_PATH = Path("data") / "team_energia.db"
DEFAULT_HEALTH_FILE = Path("data") / "health.json"
SUPPORTED_LANGUAGES = ("it", "en")

# BotFather tokens: a numeric bot id, a colon, then 30+ characters of [A-Za-z0-9_-].
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,100}$")


class ConfigError(Exception):
    """A setting is missing or unusable; the message is shown to the operator as is."""


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    database_url: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_BASE_FILE_URL
    timezone: str = "Europe/Rome"
    default_language: str = "it"
    log_level: str = "INFO"
    admin_ids: frozenset[int] = frozenset()
    # Seconds between two scheduler ticks (TICK_SECONDS); tests call the tick themselves.
    tick_seconds: float = 30.0
    # How long a Bot API call may wait for Telegram's answer before its fate is "uncertain".
    request_read_timeout: float = 20.0
    # Updates handled at once (CONCURRENT_UPDATES); one person's always in order (bot/updates.py).
    concurrent_updates: int = 4
    # Where each tick writes the health state (HEALTH_FILE); None writes nothing.
    health_file: str | None = None
    # The dashboard (issue 20): the Mini App and the public pages, served by this process on
    # WEBAPP_HOST:WEBAPP_PORT behind an HTTPS reverse proxy whose public address is
    # WEBAPP_URL. Off unless both are set (bot/web).
    webapp_port: int | None = None
    webapp_url: str | None = None
    webapp_host: str = "127.0.0.1"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def normalize_database_url(raw: str) -> str:
    """Turn the URL a user writes into one with an async driver.

    `sqlite:///x.db` → `sqlite+aiosqlite:///x.db`; `postgresql://…` → `postgresql+asyncpg://…`.
    """
    try:
        url: URL = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(f"DATABASE_URL non valido: {exc}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    else:
        raise ConfigError(
            f"DATABASE_URL: database «{backend}» non supportato (usare sqlite o postgresql)"
        )
    return url.render_as_string(hide_password=False)


def _parse_admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"BOT_ADMIN_IDS: «{part}» non è un id numerico di Telegram")
        ids.add(int(part))
    return frozenset(ids)


def _webapp(env: dict[str, str]) -> tuple[int | None, str | None, str]:
    """WEBAPP_PORT and WEBAPP_URL (both or neither), WEBAPP_HOST."""
    raw_port = env.get("WEBAPP_PORT", "").strip()
    url = env.get("WEBAPP_URL", "").strip()
    host = env.get("WEBAPP_HOST", "").strip() or "127.0.0.1"
    if not raw_port and not url:
        return None, None, host
    if not raw_port or not url:
        raise ConfigError(
            "WEBAPP_PORT e WEBAPP_URL vanno indicati insieme (la porta del cruscotto e il suo indirizzo HTTPS pubblico)"
        )
    if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
        raise ConfigError("WEBAPP_PORT: serve un numero di porta tra 1 e 65535")
    if not re.match(r"^https://[^/\s?#]+(/[^\s?#]*)?$", url):
        raise ConfigError(
            "WEBAPP_URL: serve l'indirizzo HTTPS pubblico del cruscotto, ad esempio https://energia.example.org/ (Telegram apre le Mini App solo in HTTPS)"
        )
    return int(raw_port), url if url.endswith("/") else url + "/", host


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build Settings from `env` (default: the process environment, after `.env`)."""
    if env is None:
        from dotenv import load_dotenv

        load_dotenv(override=False)
        env = dict(os.environ)

    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN mancante: crea il bot con @BotFather e scrivi il token in .env"
        )
    if not _TOKEN_RE.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN non valido: deve avere la forma 123456789:ABC… data da @BotFather"
        )

    raw_db = env.get("DATABASE_URL", "").strip()
    if not raw_db:
        raw_db = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    database_url = normalize_database_url(raw_db)

    timezone = env.get("TIMEZONE", "").strip() or "Europe/Rome"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"TIMEZONE: fuso orario «{timezone}» sconosciuto") from exc

    language = (env.get("DEFAULT_LANGUAGE", "").strip() or "it").lower()
    if language not in SUPPORTED_LANGUAGES:
        raise ConfigError(
            f"DEFAULT_LANGUAGE: «{language}» non supportata (lingue: {', '.join(SUPPORTED_LANGUAGES)})"
        )

    log_level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL: «{log_level}» non valido (DEBUG, INFO, WARNING, ERROR)")

    raw_tick = env.get("TICK_SECONDS", "").strip() or "30"
    try:
        tick_seconds = float(raw_tick)
    except ValueError as exc:
        raise ConfigError(f"TICK_SECONDS: «{raw_tick}» non è un numero di secondi") from exc
    if not 0.2 <= tick_seconds <= 3600:
        raise ConfigError("TICK_SECONDS: serve un valore tra 0.2 e 3600 secondi")

    raw_concurrency = env.get("CONCURRENT_UPDATES", "").strip() or "4"
    if not raw_concurrency.isdigit() or not 1 <= int(raw_concurrency) <= 32:
        raise ConfigError("CONCURRENT_UPDATES: serve un numero intero tra 1 e 32")
    webapp_port, webapp_url, webapp_host = _webapp(env)

    return Settings(
        token=token,
        database_url=database_url,
        base_url=env.get("TELEGRAM_BASE_URL", "").strip() or DEFAULT_BASE_URL,
        base_file_url=env.get("TELEGRAM_BASE_FILE_URL", "").strip() or DEFAULT_BASE_FILE_URL,
        timezone=timezone,
        default_language=language,
        log_level=log_level,
        admin_ids=_parse_admin_ids(env.get("BOT_ADMIN_IDS", "")),
        tick_seconds=tick_seconds,
        concurrent_updates=int(raw_concurrency),
        health_file=env.get("HEALTH_FILE", "").strip() or str(DEFAULT_HEALTH_FILE),
        webapp_port=webapp_port,
        webapp_url=webapp_url,
        webapp_host=webapp_host,
    )
