"""The token never reaches a log line, at any level, from our code or a library's."""

from __future__ import annotations

import logging

import pytest

from bot.logging_setup import RedactingFormatter, install_redaction, redact

TOKEN = "987654321:AAE-secretsecretsecretsecretsecret_xy"


def test_redacts_token_in_messages_args_and_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction(TOKEN)
    log = logging.getLogger("httpx.fake")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("telegram.ext").debug("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    log.warning("url=%s", f"https://api.telegram.org/bot{TOKEN}/sendMessage")
    try:
        raise RuntimeError(f"boom {TOKEN}")
    except RuntimeError:
        logging.getLogger("bot.x").exception("failed")
    assert caplog.records
    formatter = RedactingFormatter()
    for record in caplog.records:
        assert TOKEN not in formatter.format(record)
        assert TOKEN not in record.getMessage()


def test_token_shapes_are_redacted_even_if_unknown() -> None:
    assert "<token>" in redact("bot111111:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123/getMe")


def test_traceback_text_is_redacted_for_any_handler() -> None:
    install_redaction(TOKEN)
    captured: list[str] = []

    class Plain(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(logging.Formatter().format(record))

    log = logging.getLogger("test.plain")
    handler = Plain()
    log.addHandler(handler)
    try:
        try:
            raise ValueError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
        except ValueError:
            log.exception("request failed")
    finally:
        log.removeHandler(handler)
    assert captured and "<token>" in captured[0]
    assert TOKEN not in captured[0]
