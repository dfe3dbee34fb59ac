"""Telegram's initData check (telegram-webapp-auth behind bot.web.auth) and the dashboard's own
session, without a server.

The published example is the one of the Telegram Mini Apps documentation
(docs.telegram-mini-apps.com, "Init data › Validating"): real initData of a real bot, signed by
Telegram in September 2022, and the token it was signed with. Telegram's own page describes the
algorithm but publishes no vector; tests/web/world.py signs with an independent implementation
of that description, and both must be accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.web.auth import (
    INIT_DATA_MAX_AGE,
    SESSION_MAX_AGE,
    InitDataChecker,
    InitDataRefused,
    SessionSigner,
    session_cookie,
)
from tests.web.world import sign_init_data

PUBLISHED_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
PUBLISHED_INIT_DATA = (
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc"
    "&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22"
    "%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C"
    "%22is_premium%22%3Atrue%7D"
    "&auth_date=1662771648"
    "&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
)
SIGNED_AT = datetime.fromtimestamp(1662771648, UTC)
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _refused(checker: InitDataChecker, raw: str, now: datetime) -> str:
    with pytest.raises(InitDataRefused) as caught:
        checker.check(raw, now=now)
    return caught.value.reason


def test_the_published_example_is_accepted_within_the_hour() -> None:
    checker = InitDataChecker(PUBLISHED_TOKEN)
    user = checker.check(PUBLISHED_INIT_DATA, now=SIGNED_AT + timedelta(minutes=59))
    assert user.telegram_user_id == 279058397
    assert user.language_code == "ru"
    assert user.auth_date == SIGNED_AT
    assert (
        _refused(checker, PUBLISHED_INIT_DATA, SIGNED_AT + INIT_DATA_MAX_AGE + timedelta(seconds=1))
        == "expired"
    )
    assert _refused(checker, PUBLISHED_INIT_DATA, SIGNED_AT - timedelta(minutes=10)) == "invalid"
    # Another bot's token: the same data is not signed for it.
    assert _refused(InitDataChecker(TOKEN), PUBLISHED_INIT_DATA, SIGNED_AT) == "invalid"


def test_any_change_to_the_published_example_breaks_its_signature() -> None:
    checker = InitDataChecker(PUBLISHED_TOKEN)
    fields = dict(parse_qsl(PUBLISHED_INIT_DATA))
    changed = {
        "user id": {"user": fields["user"].replace("279058397", "279058398")},
        "auth_date": {"auth_date": "1662771649"},
        "query_id": {"query_id": "AAHdF6IQAAAAAN0XohDhrOrd"},
        "hash": {"hash": fields["hash"][:-1] + "3"},
        "an added field": {"start_param": "u1"},
    }
    for label, change in changed.items():
        raw = urlencode({**fields, **change})
        assert _refused(checker, raw, SIGNED_AT) == "invalid", label
    no_hash = urlencode({k: v for k, v in fields.items() if k != "hash"})
    assert _refused(checker, no_hash, SIGNED_AT) == "invalid"
    # A second auth_date after a signed one: refused, never "the last one wins".
    assert _refused(checker, PUBLISHED_INIT_DATA + "&auth_date=9999999999", SIGNED_AT) == "invalid"
    for garbage in ("", "=", "hash", "a" * 10_000, "user=%7B&hash=00"):
        assert _refused(checker, garbage, SIGNED_AT) == "invalid"


def test_data_signed_by_the_documented_algorithm_is_accepted() -> None:
    checker = InitDataChecker(TOKEN)
    raw = sign_init_data(TOKEN, user_id=4242, auth_date=NOW, language="en", start_param="u7")
    user = checker.check(raw, now=NOW + timedelta(seconds=5))
    assert (user.telegram_user_id, user.language_code, user.start_param) == (4242, "en", "u7")
    # Names with accents, quotes and emoji are signed as sent.
    odd = sign_init_data(TOKEN, user_id=4243, auth_date=NOW, first_name="Zoë «Ünïcode» 🌱 & <b>")
    assert checker.check(odd, now=NOW).telegram_user_id == 4243


def test_data_without_a_user_signs_nobody_in() -> None:
    fields = {"auth_date": str(int(NOW.timestamp())), "chat_instance": "-1", "chat_type": "group"}
    import hashlib
    import hmac

    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert _refused(InitDataChecker(TOKEN), urlencode(fields), NOW) == "no_user"


def test_the_session_is_signed_and_short() -> None:
    signer = SessionSigner(TOKEN)
    value = signer.issue(telegram_user_id=4242, language="en-GB", now=NOW)
    session = signer.read(value, now=NOW + SESSION_MAX_AGE - timedelta(seconds=1))
    assert session is not None
    assert (session.telegram_user_id, session.language, session.signed_in_at) == (4242, "en", NOW)
    assert signer.read(value, now=NOW + SESSION_MAX_AGE + timedelta(seconds=1)) is None
    assert signer.read(value, now=NOW - timedelta(hours=1)) is None
    assert SessionSigner(TOKEN + "x").read(value, now=NOW) is None
    user, issued, lang, signature = value.split(".")
    for forged in (
        f"4243.{issued}.{lang}.{signature}",
        f"{user}.{int(issued) + 3600}.{lang}.{signature}",
        f"{user}.{issued}.it.{signature}",
        f"{user}.{issued}.{lang}.{signature[:-1]}A",
        value + ".x",
        "",
        None,
    ):
        assert signer.read(forged, now=NOW) is None, forged
    assert (
        signer.read(signer.issue(telegram_user_id=1, language=None, now=NOW), now=NOW) is not None
    )
    assert signer.issue(telegram_user_id=1, language="<script>", now=NOW).split(".")[2] == "-"


def test_the_cookie_works_in_telegrams_web_client_iframe() -> None:
    header = session_cookie("v", path="/app/")
    assert header.startswith("te_session=v; Path=/app/; Max-Age=3600;")
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned"):
        assert attribute in header
