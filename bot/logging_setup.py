"""Logging: one format, httpx quiet, and the bot token redacted from every record.

Redaction happens when a record is created (a log-record factory), so it holds for every
handler, including ones added later by tests or libraries. Exception texts are redacted by
the formatter installed on our handler.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_TOKEN_LIKE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,100}")
_secrets: set[str] = set()
_installed = False
_EXC_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "<token>")
    return _TOKEN_LIKE.sub("<token>", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _install_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: leave it to logging's own reporting
            return record
        cleaned = redact(message)
        if cleaned != message or record.args:
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
    _install_factory()
    # httpx logs every request URL at INFO, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def setup_logging(level: str, token: str | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    install_redaction(token)
