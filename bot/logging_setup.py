"""Logging: one format, httpx quiet, secrets redacted, no personal data from libraries.

Every record is cleaned when it is created (a log-record factory), so the rules hold for
every handler, including ones added later by tests or libraries:

- **Secrets**: the bot token (and its secret half alone), the webhook secret and anything
  shaped like a bot token become `<token>`; an invite link's or `/start`'s payload becomes
  `<invite>`, at every level. Tracebacks are formatted then, redacted.
- **No payloads from python-telegram-bot**: at DEBUG it logs the parameters of every API call
  (message texts, invite links), every answer and every update (names, usernames, texts); at
  CRITICAL a whole update it could not read. The arguments of records from the `telegram`
  and `tornado` loggers are reduced to their shape: an update to its id and kind, a dict to its
  keys, free text to its length. Identifiers (a method name, a number) stay.
- **Expected Telegram conditions in one line**: a network error, a time-out, flood control,
  a 409 Conflict, a rejected token or a refused webhook request are conditions of the world,
  not bugs; their records keep the message and the error's one-line summary, without the
  traceback (a 95-line traceback every few seconds during an outage hid the one useful line).
  A `BadRequest` keeps its traceback: it means we sent something wrong.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

_TOKEN_LIKE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,100}")
# t.me/<bot>?start=<payload>, /start <payload>: invite tokens are stored only as fingerprints.
_INVITE = re.compile(r"(start=|/start(?:@\w+)?[ \t]+)[A-Za-z0-9_-]{1,64}")
# What a library's string argument may show: a word (a method name) or a number/address.
_IDENTIFIER = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]{0,63}|[0-9.:]{1,45})$")
_LIBRARIES = ("telegram", "tornado")
_secrets: set[str] = set()
_installed = False
_EXC_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # the token before its half
        text = text.replace(secret, "<token>")
    text = _TOKEN_LIKE.sub("<token>", text)
    return _INVITE.sub(r"\1<invite>", text)


def add_secret(secret: str | None) -> None:
    """Never let `secret` reach a log line (the webhook secret, say)."""
    if secret and len(secret) >= 8:  # a shorter one would redact ordinary words
        _secrets.add(secret)


def shape(value: Any) -> Any:
    """What a library's log argument may show: identifiers as they are, payloads by shape."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, BaseException):
        return value
    if isinstance(value, str):
        return value if _IDENTIFIER.match(value) else f"<text, {len(value)} characters>"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return "<" + ", ".join(str(k) for k in list(value)[:20]) + ">"
    if isinstance(value, list | tuple | set | frozenset):
        return f"<{type(value).__name__} of {len(value)}>"
    update_id = getattr(value, "update_id", None)
    if isinstance(update_id, int):  # an Update: its id and what it carries
        kinds = [k for k, v in vars_of(value).items() if v is not None and k[0] != "_"]
        kinds = [k for k in kinds if k != "update_id"]
        return f"<update {update_id}: {', '.join(kinds[:3])}>"
    return f"<{type(value).__name__}>"


def vars_of(obj: Any) -> dict[str, Any]:
    try:
        return {k: getattr(obj, k) for k in getattr(obj, "__slots__", ()) if hasattr(obj, k)}
    except Exception:  # pragma: no cover - a shape is best effort
        return {}


def _expected(exc: BaseException) -> bool:
    """A Telegram condition of the world (one line), not a bug in the bot (a traceback)."""
    from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter

    if isinstance(exc, BadRequest):
        return False
    if type(exc).__name__ == "HTTPError" and type(exc).__module__.startswith("tornado"):
        return True  # the webhook server refusing a request (403 without the secret)
    return isinstance(exc, NetworkError | RetryAfter | Conflict | InvalidToken)


def one_line(exc: BaseException) -> str:
    """`TimedOut: Timed out (ReadTimeout)`: the error and what caused it, on one line."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text += f" ({type(cause).__name__}: {cause})"
    return " ".join(text.split())


def _install_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.args and record.name.startswith(_LIBRARIES):
            if "secret" in str(record.msg).lower():  # a secret tried at the webhook, say
                record.args = tuple("<hidden>" for _ in record.args)
            elif isinstance(record.args, Mapping):
                record.args = {k: shape(v) for k, v in record.args.items()}
            else:
                record.args = tuple(shape(v) for v in record.args)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: leave it to logging's own reporting
            return record
        original = message
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _expected(exc):
            message = f"{message}: {one_line(exc)}"
            record.exc_info = None
            record.exc_text = None
        cleaned = redact(message)
        if cleaned != original or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[0] is not None:
            # Tracebacks carry request URLs (with the token): format them now, redacted, so
            # every handler (ours, a file, an error tracker) gets the clean text.
            record.exc_text = redact(_EXC_FORMATTER.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def install_redaction(token: str | None) -> None:
    if token:
        _secrets.add(token)
        secret_half = token.partition(":")[2]
        if secret_half:
            _secrets.add(secret_half)
    _install_factory()
    # httpx logs every request URL at INFO, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # SQL parameters carry what people wrote (SQLAlchemy keeps itself at WARNING too).
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    # Tornado (the webhook server) logs each request at INFO with the client's address.
    logging.getLogger("tornado.access").setLevel(logging.WARNING)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(level: str, token: str | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    install_redaction(token)
