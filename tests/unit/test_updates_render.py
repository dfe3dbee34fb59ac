"""Rendering helpers of the updates feature: long messages split cleanly (bot.views.html_split,
the bot's one splitter), numbers read well."""

from __future__ import annotations

import re
from decimal import Decimal

from bot.services.action_import import format_decimal_display, format_decimal_it
from bot.views.html_split import TELEGRAM_LIMIT, plain_text, split_text, telegram_length


def _balanced(fragment: str) -> bool:
    """Every tag opened in the fragment is closed in it, in order, and no tag or entity is cut."""
    stack: list[str] = []
    for token in re.findall(r"<[^>]*>|<[^>]*$|&[^;\s]*;?", fragment):
        if token.startswith("&"):
            if not re.fullmatch(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);", token):
                return False  # an entity cut in two
        elif not token.endswith(">"):
            return False  # a tag cut in two
        elif token.startswith("</"):
            if not stack or stack.pop() != token[2:-1]:
                return False
        else:
            stack.append(token[1:-1].split()[0])
    return not stack


def test_the_status_text_is_split_between_lines_under_telegrams_limit() -> None:
    lines = [f"• <b>Tecnico {i}</b> (Comune {i}) — 3 di 6 azioni" for i in range(300)]
    text = "📋 <b>Giro di dicembre</b>\n\n" + "\n".join(lines)
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(telegram_length(c) <= TELEGRAM_LIMIT for c in chunks)
    # Lines whole and in order, none lost (a blank line where a message ends is not repeated).
    assert [x for c in chunks for x in c.split("\n") if x] == [x for x in text.split("\n") if x]
    assert split_text("breve") == ["breve"]


def test_an_over_long_line_is_cut_between_characters_never_inside_a_tag_or_entity() -> None:
    """A note of 9,000 characters on one line (a technician's pasted report): the line is cut
    into balanced pieces, every tag closed at a cut and reopened after it, every character
    kept. (The handlers' own splitter cut such a line at 3,999 characters, inside whatever
    tag or entity fell there, and dropped the rest.)"""
    note = "<b>Nota:</b> <i>" + "caldaia &amp; cappotto " * 400 + "</i> <b>fine</b>"
    text = "📋 Stato del giro\n" + note + "\nUltima riga"
    chunks = split_text(text)
    assert len(chunks) >= 3
    for chunk in chunks:
        assert telegram_length(chunk) <= TELEGRAM_LIMIT
        assert _balanced(chunk), chunk[-80:]
    assert "".join(plain_text(c) for c in chunks).replace("\n", "") == plain_text(text).replace(
        "\n", ""
    )
    assert chunks[0].startswith("📋 Stato del giro") and chunks[-1].endswith("Ultima riga")


def test_numbers_for_reading_and_for_files() -> None:
    assert format_decimal_display(Decimal("1250000.50")) == "1.250.000,5"
    assert format_decimal_display(Decimal("120000.00")) == "120.000"
    assert format_decimal_display(Decimal("0.125")) == "0,125"
    assert format_decimal_it(Decimal("1250000.50")) == "1250000,5"


def test_the_rounds_list_with_a_long_answer_on_top_fits_one_message() -> None:
    """90 actions with long titles, the answer on top with a long note and question: one
    message Telegram takes (4,096 characters), the list ending with «…e altre N»."""
    from bot.i18n import translator
    from bot.views.updates import Menu, SavedAnswer, menu_view
    from storage.models import ActionStatus
    from storage.repositories.actions import ListedAction

    actions = [
        ListedAction(
            id=n,
            code=f"SGP-{n:03d}",
            title="Riqualificazione energetica dell'edificio scolastico " + "x" * 40,
            municipality_id=7,
            status=ActionStatus.ONGOING,
            progress=40,
            comune="San Giovanni in Persiceto",
            done=n % 3 == 0,
        )
        for n in range(90)
    ]
    saved = SavedAnswer(
        action_id=3,
        code="SGP-003",
        status=ActionStatus.ONGOING,
        progress=40,
        note="n" * 2000,
        attachments=2,
        question="q" * 300,
    )
    text, keyboard = menu_view(
        Menu(actions=actions, round_id=1, union_id=1, saved=saved), translator("it")
    )
    assert len(text) <= 4096 and "…e altre" in text
    assert keyboard is not None
    assert sum(len(row) for row in keyboard.rows) <= 100  # Telegram's buttons a message


def test_a_status_says_its_percentage_only_where_it_adds_something() -> None:
    """«Rinviata 0%», «Non avviata 0%», «Completata 100%» repeat the status; «Rinviata, 30%» does
    not: an action postponed half-way keeps what was done."""
    from bot.i18n import translator
    from bot.views.updates import action_line
    from storage.models import ActionStatus
    from storage.repositories.actions import ListedAction

    def line(status: ActionStatus, progress: int) -> str:
        listed = ListedAction(
            id=1,
            code="A1",
            title="Fotovoltaico sul municipio",
            municipality_id=7,
            status=status,
            progress=progress,
            comune="Anzola",
            done=False,
        )
        return plain_text(action_line(listed, translator("it"), home=7))

    assert line(ActionStatus.POSTPONED, 0) == "A1 Fotovoltaico sul municipio: ⏸ Rinviata"
    assert line(ActionStatus.POSTPONED, 30) == "A1 Fotovoltaico sul municipio: ⏸ Rinviata 30%"
    assert line(ActionStatus.ONGOING, 0).endswith("In corso 0%")
    assert line(ActionStatus.NOT_STARTED, 0).endswith("Non avviata")
    assert line(ActionStatus.COMPLETED, 100).endswith("Completata")
