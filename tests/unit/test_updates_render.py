"""Rendering helpers of the updates feature: long messages split cleanly, numbers read well."""

from __future__ import annotations

from decimal import Decimal

from bot.services.action_import import format_decimal_display, format_decimal_it
from bot.views.rounds import split_message


def test_split_message_keeps_lines_whole_and_under_the_limit() -> None:
    lines = [f"• <b>Tecnico {i}</b> (Comune {i}) — 3 di 6 azioni" for i in range(300)]
    chunks = split_message("\n".join(lines))
    assert len(chunks) > 1
    assert all(len(c) <= 4000 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines
    assert split_message("breve") == ["breve"]


def test_numbers_for_reading_and_for_files() -> None:
    assert format_decimal_display(Decimal("1250000.50")) == "1.250.000,5"
    assert format_decimal_display(Decimal("120000.00")) == "120.000"
    assert format_decimal_display(Decimal("0.125")) == "0,125"
    assert format_decimal_it(Decimal("1250000.50")) == "1250000,5"
