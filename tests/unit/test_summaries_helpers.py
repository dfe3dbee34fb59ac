"""Small pure helpers of the summaries area: links, settings steps, dates."""

from __future__ import annotations

from datetime import date

from bot.services.announcements import parse_link
from bot.services.settings import parse_italian_date, step_value, toggle_weekday
from bot.services.summaries.export import export_file_name


def test_parse_link_accepts_http_and_https_with_a_host() -> None:
    assert parse_link("Cartella PAES https://drive.example.it/paes?x=1&y=2") == (
        "Cartella PAES",
        "https://drive.example.it/paes?x=1&y=2",
    )
    assert parse_link("http://example.org") == ("example.org", "http://example.org")
    assert parse_link("Verbali — https://example.org/v") == ("Verbali", "https://example.org/v")


def test_parse_link_refuses_what_is_not_a_web_link() -> None:
    for bad in (
        "Cartella ftp://example.org/x",
        "Cartella https://",
        "Cartella https:///path",
        "javascript:alert(1)",
        "due link https://a.it https://b.it",
        "senza link",
        "Titolo https://example.org/" + "x" * 1000,
        "Titolo https://example.org/<script>",
        "T" * 201 + " https://example.org",
    ):
        assert parse_link(bad) is None, bad


def test_settings_steps_stay_in_bounds() -> None:
    assert step_value(17, "up", (7, 21, 1)) == 18
    assert step_value(21, "up", (7, 21, 1)) == 21
    assert step_value(30, "down", (30, 480, 30)) == 30
    assert step_value(120, "show", (30, 480, 30)) == 120
    assert toggle_weekday("1,3", 4) == "1,3,4"
    assert toggle_weekday("1,3", 1) == "3"
    assert toggle_weekday("3", 3) == "3"  # never zero days


def test_italian_dates() -> None:
    assert parse_italian_date("15/03/2024") == date(2024, 3, 15)
    assert parse_italian_date(" 5-3-2024 ") == date(2024, 3, 5)
    assert parse_italian_date("2024-03-15") == date(2024, 3, 15)
    assert parse_italian_date("30/02/2024") is None
    assert parse_italian_date("marzo 2024") is None


def test_export_file_name_is_safe() -> None:
    assert (
        export_file_name("Unione «Terre d'Acqua»/BO", date(2026, 12, 3), "xlsx")
        == "team-energia-unione-terre-d-acqua-bo-2026-12-03.xlsx"
    )


def test_month_of_a_period() -> None:
    from datetime import UTC, datetime

    from bot.services.summaries.build import month_of

    now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already January in Rome
    assert month_of("2026-11", now, "Europe/Rome") == (2026, 11)
    assert month_of("strano", now, "Europe/Rome") == (2027, 1)
