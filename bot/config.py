"""Settings read from the environment (and `.env`), validated once at start."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_SQLITE_PATH = Path("data") / "team_energia.db"
DEFAULT_HEALTH_FILE = Path("data") / "health.json"
SUPPORTED_LANGUAGES = ("it", "en")
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8080
# Telegram's rule for setWebhook's secret_token: 1-256 characters of A-Z a-z 0-9 _ -.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

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
    # Webhook mode (WEBHOOK_URL set): the public URL Telegram posts updates to, the secret it
    # sends with each (required), and where python-telegram-bot's own server listens.
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    @property
    def webhook_path(self) -> str:
        """The path the webhook server answers on: the public URL's (a proxy passes it on)."""
        return urlsplit(self.webhook_url or "").path or "/"

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


def database_url_from(env: dict[str, str] | None = None) -> str:
    """DATABASE_URL (default: the SQLite file under ./data/), with its async driver; the
    process environment after `.env` when `env` is None (backup and restore need no token)."""
    if env is None:
        from dotenv import load_dotenv

        load_dotenv(override=False)
        env = dict(os.environ)
    raw = env.get("DATABASE_URL", "").strip() or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    return normalize_database_url(raw)


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

    database_url = database_url_from(env)

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
    webhook_url, webhook_secret, listen, port = _webhook_settings(env)
    if webhook_url and webapp_port == port:
        raise ConfigError(f"PORT e WEBAPP_PORT sono la stessa porta ({port}): servono due porte")

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
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=listen,
        webhook_port=port,
        webapp_port=webapp_port,
        webapp_url=webapp_url,
        webapp_host=webapp_host,
    )


def _webhook_settings(env: dict[str, str]) -> tuple[str | None, str | None, str, int]:
    """(WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN, PORT); no URL means polling."""
    raw_port = env.get("PORT", "").strip() or str(DEFAULT_WEBHOOK_PORT)
    if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
        raise ConfigError(f"PORT: «{raw_port}» non è una porta (1-65535)")
    listen = env.get("WEBHOOK_LISTEN", "").strip() or DEFAULT_WEBHOOK_LISTEN
    url = env.get("WEBHOOK_URL", "").strip()
    secret = env.get("WEBHOOK_SECRET", "").strip()
    if not url:
        return None, None, listen, int(raw_port)
    parts = urlsplit(url)
    loopback = parts.hostname in _LOOPBACK
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ConfigError(
            "WEBHOOK_URL deve essere un indirizzo https:// (Telegram non invia altrove)"
        )
    if not parts.hostname or parts.query or parts.fragment:
        raise ConfigError("WEBHOOK_URL: serve un indirizzo come https://bot.esempio.it/telegram")
    if not secret:
        raise ConfigError(
            "WEBHOOK_SECRET mancante: con WEBHOOK_URL serve un segreto (16-256 caratteri "
            "A-Z a-z 0-9 _ -), per esempio: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if not _SECRET_RE.match(secret):
        raise ConfigError("WEBHOOK_SECRET non valido: 16-256 caratteri tra A-Z a-z 0-9 _ -")
    return url, secret, listen, int(raw_port)
