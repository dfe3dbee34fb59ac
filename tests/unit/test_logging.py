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


def test_the_secret_half_alone_and_the_webhook_secret_are_redacted() -> None:
    from bot.logging_setup import add_secret

    install_redaction(TOKEN)
    add_secret("webhook-secret-0123456789abcdef")
    secret_half = TOKEN.split(":")[1]
    assert secret_half not in redact(f"token={secret_half}&x=1")
    assert redact("X-Telegram-Bot-Api-Secret-Token: webhook-secret-0123456789abcdef") == (
        "X-Telegram-Bot-Api-Secret-Token: <token>"
    )


def _record_of(error: BaseException, caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    caplog.clear()
    try:
        raise error
    except BaseException:
        logging.getLogger("bot.test").error("Polling failed", exc_info=True)
    [record] = caplog.records
    return record


def test_expected_telegram_errors_are_one_line_bugs_keep_their_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import httpx
    from telegram.error import BadRequest, Conflict, NetworkError, TimedOut

    install_redaction(TOKEN)
    caplog.set_level(logging.DEBUG)
    try:
        try:
            raise httpx.ConnectError("All connection attempts failed")
        except httpx.ConnectError as cause:
            raise NetworkError(f"httpx.ConnectError: {cause}") from cause
    except NetworkError as error:
        network = error
    for error in (network, TimedOut(), Conflict("terminated by other getUpdates request")):
        record = _record_of(error, caplog)
        formatted = RedactingFormatter().format(record)
        assert "\n" not in formatted and "Traceback" not in formatted, formatted
        assert formatted.startswith("Polling failed: " + type(error).__name__)
    record = _record_of(BadRequest("Can't parse entities"), caplog)
    assert "Traceback" in RedactingFormatter().format(record)
