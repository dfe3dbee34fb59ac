"""Who is asking: Telegram's signed Mini App data on the first request, then our own short
signed session.

**initData.** Telegram opens the Mini App with `initData`, a query string signed with
HMAC-SHA256 under a key derived from the bot's token (core.telegram.org/bots/webapps,
"Validating data received via the Mini App"). It is checked with telegram-webapp-auth
(`TelegramAuthenticator.validate`: the data-check string, a constant-time comparison, strict
parsing that refuses duplicate keys), and its age against the bot's own clock: at most
INIT_DATA_MAX_AGE since `auth_date`, and not from the future. The library's own expiry check
reads the wall clock, which the tests cannot move, so it is not used.

**The session.** Then the server sets a cookie of its own, so that moving between pages does
not send initData again (it would expire within the hour anyway): the Telegram user id, the
moment of sign-in and the client's language, signed with HMAC-SHA256 under a key derived from
the bot token (changing the token signs everyone out; no second secret to configure). It lasts
SESSION_MAX_AGE; who may see what is re-read from the database on every request, so a member
removed from a Union loses it at once. A cookie rather than a header: pages are plain links
and GET forms that work without script. It is `HttpOnly; Secure; SameSite=None; Partitioned`:
Telegram's web client shows Mini Apps in an iframe of web.telegram.org, where only such a
cookie is sent (partitioned to that site). When a browser refuses it anyway, dash.js says so
after three attempts instead of looping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

INIT_DATA_MAX_AGE = timedelta(hours=1)
INIT_DATA_MAX_LENGTH = 8192
FUTURE_SKEW = timedelta(minutes=5)  # a client clock a little ahead of ours
SESSION_MAX_AGE = timedelta(hours=1)
SESSION_COOKIE = "te_session"
_SESSION_KEY_LABEL = b"team-energia/webapp-session/v1"
_SESSION_RE = re.compile(r"^(\d{1,20})\.(\d{1,12})\.([a-z]{2,3}|-)\.([A-Za-z0-9_-]{43})$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")


class InitDataRefused(Exception):
    """initData that does not sign someone in. `reason`: "invalid" (missing, malformed,
    forged, from the future), "expired", "no_user"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InitUser:
    """Who Telegram says opened the Mini App."""

    telegram_user_id: int
    language_code: str | None
    start_param: str | None
    auth_date: datetime


class InitDataChecker:
    """Checks initData for one bot token."""

    def __init__(self, token: str) -> None:
        # Imported here: the library (and `cryptography`, which it needs for third-party
        # validation) is loaded only by a bot that serves the dashboard.
        from telegram_webapp_auth.auth import TelegramAuthenticator, generate_secret_key

        self._authenticator: Any = TelegramAuthenticator(generate_secret_key(token))

    def check(self, raw: str, *, now: datetime, max_age: timedelta = INIT_DATA_MAX_AGE) -> InitUser:
        from telegram_webapp_auth.errors import BaseTWAError

        if not raw or len(raw) > INIT_DATA_MAX_LENGTH:
            raise InitDataRefused("invalid")
        try:
            data = self._authenticator.validate(raw, expr_in=None)
        except BaseTWAError as exc:
            raise InitDataRefused("invalid") from exc
        signed_at = datetime.fromtimestamp(data.auth_date, UTC)
        if signed_at - now > FUTURE_SKEW:
            raise InitDataRefused("invalid")
        if now - signed_at > max_age:
            raise InitDataRefused("expired")
        if data.user is None or not isinstance(data.user.id, int):
            raise InitDataRefused("no_user")
        language = data.user.language_code
        return InitUser(
            telegram_user_id=data.user.id,
            language_code=language if isinstance(language, str) else None,
            start_param=data.start_param,
            auth_date=signed_at,
        )


@dataclass(frozen=True)
class Session:
    telegram_user_id: int
    signed_in_at: datetime
    language: str | None  # the Telegram client's, at sign-in


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class SessionSigner:
    def __init__(self, token: str) -> None:
        self._key = hmac.new(_SESSION_KEY_LABEL, token.encode("utf-8"), hashlib.sha256).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, *, telegram_user_id: int, language: str | None, now: datetime) -> str:
        lang = language.replace("_", "-").split("-", 1)[0].lower() if language else ""
        lang = lang if _LANGUAGE_RE.match(lang) else "-"
        payload = f"{telegram_user_id}.{int(now.timestamp())}.{lang}"
        return f"{payload}.{self._sign(payload)}"

    def read(
        self, value: str | None, *, now: datetime, max_age: timedelta = SESSION_MAX_AGE
    ) -> Session | None:
        """The session in this cookie value; None when absent, forged, expired or odd."""
        if not value:
            return None
        match = _SESSION_RE.match(value)
        if match is None:
            return None
        user, issued, lang, signature = match.groups()
        if not hmac.compare_digest(self._sign(f"{user}.{issued}.{lang}"), signature):
            return None
        signed_in_at = datetime.fromtimestamp(int(issued), UTC)
        if now - signed_in_at > max_age or signed_in_at - now > FUTURE_SKEW:
            return None
        return Session(int(user), signed_in_at, None if lang == "-" else lang)


def session_cookie(value: str, *, path: str, max_age: timedelta = SESSION_MAX_AGE) -> str:
    """The Set-Cookie header value (written out: aiohttp's helper knows no `Partitioned`)."""
    return (
        f"{SESSION_COOKIE}={value}; Path={path}; Max-Age={int(max_age.total_seconds())}; "
        "HttpOnly; Secure; SameSite=None; Partitioned"
    )
