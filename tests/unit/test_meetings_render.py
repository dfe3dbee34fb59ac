"""The poll as people read it: the group's grid of Comuni stays within Telegram's 4096
characters for a 20-Comuni Union with 8 dates (names while they fit, then «+N altri»), a
member's private copy marks their own answers, and every toast or popup of a vote fits 200."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import translator
from bot.services.meetings.rules import SlotTally
from bot.views.meetings import (
    CopyView,
    PollView,
    SlotView,
    VoteRefusal,
    message_length,
    render_copy,
    render_managers,
    render_meeting_reminder,
    render_missing,
    render_poll,
    render_vote_recorded,
    render_vote_refused,
)
from storage.models import Answer, Meeting, MeetingPoll, PollStatus, PollTable, Slot, Union

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
# Twenty real Comuni names of the kind a Union has, some of them long.
COMUNI = [
    "Anzola dell'Emilia",
    "Argelato",
    "Bentivoglio",
    "Calderara di Reno",
    "Castel d'Argile",
    "Castel Maggiore",
    "Castello d'Argile",
    "Castenaso",
    "Crevalcore",
    "Galliera",
    "Granarolo dell'Emilia",
    "Malalbergo",
    "Minerbio",
    "Molinella",
    "Pieve di Cento",
    "Sala Bolognese",
    "San Giorgio di Piano",
    "San Giovanni in Persiceto",
    "San Pietro in Casale",
    "Sant'Agata Bolognese",
]


def _view(
    status: PollStatus = PollStatus.OPEN,
    *,
    comuni: list[str] = COMUNI,
    title: str = "Titolo <lungo> & " + "x" * 180,
    agenda: str | None = "Punto & <b>" * 300,
    place: str | None = "Sala consiliare <primo piano>",
) -> PollView:
    union = Union(id=1, name="Unione <Reno> & Galliera", timezone="Europe/Rome", created_at=NOW)
    poll = MeetingPoll(
        id=123456789,
        union_id=1,
        table=PollTable.BOTH,
        title=title,
        agenda=agenda,
        place=place,
        status=status,
        deadline_at=NOW + timedelta(days=5),
        created_at=NOW,
    )
    slots = []
    ids = range(len(comuni))
    for i in range(8):
        start = NOW + timedelta(days=8 + i)
        slot = Slot(
            id=987654321 + i, poll_id=poll.id, starts_at=start, ends_at=start + timedelta(hours=2)
        )
        # Every date splits the Comuni three ways: a Sì, a «Se necessario», missing.
        yes = frozenset(c for c in ids if (c + i) % 3 == 0)
        maybe = frozenset(c for c in ids if (c + i) % 3 == 1)
        slots.append(
            SlotView(
                slot=slot,
                tally=SlotTally(
                    slot_id=slot.id,
                    starts_at=start,
                    yes=30,
                    maybe=20,
                    no=10,
                    covered=yes | maybe,
                    covered_yes=yes,
                ),
                names={a: [f"Nome{n}" for n in range(20)] for a in Answer},
            )
        )
    return PollView(
        poll=poll,
        union=union,
        tz=ROME,
        slots=slots,
        voters={},
        answered=set(range(60)),
        answers={},
        comuni=dict(enumerate(comuni)),
        missing_by_comune=[("Castel <Maggiore>", False, ["Anna & Bruno"])],
    )


def _visible(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", text))


@pytest.mark.parametrize("language", ["it", "en"])
def test_twenty_comuni_and_eight_dates_fit_one_message(language: str) -> None:
    text, keyboard = render_poll(_view(), translator(language))
    assert message_length(text) <= 4096
    assert keyboard is not None
    rows = keyboard.rows
    assert len(rows) == 9 and sum(len(r) for r in rows) <= 100
    assert all(len(r) <= 8 for r in rows)
    for row in rows:
        for button in row:
            assert len(str(button.data).encode()) <= 64
    assert "&lt;lungo&gt; &amp;" in text and "<lungo>" not in text
    # With the longest title, place and agenda, the lists are cut: «+N altri».
    more = "altri" if language == "it" else "more"
    assert f" {more}" in text


def test_the_grid_names_every_comune_when_it_fits() -> None:
    text, _keyboard = render_poll(
        _view(title="Riunione", agenda=None, place=None), translator("it")
    )
    assert message_length(text) <= 4096
    assert "altri" not in text
    first = _visible(text).split("\n\n")[1].splitlines()
    assert first == [
        "mer 9 dic, 09:00 — 14 Comuni su 20",
        "✅ Anzola dell'Emilia, Calderara di Reno, Castello d'Argile, Galliera, Minerbio, "
        "Sala Bolognese, San Pietro in Casale",
        "❔ Argelato, Castel d'Argile, Castenaso, Granarolo dell'Emilia, Molinella, "
        "San Giorgio di Piano, Sant'Agata Bolognese",
        "Mancano: Bentivoglio, Castel Maggiore, Crevalcore, Malalbergo, Pieve di Cento, "
        "San Giovanni in Persiceto",
    ]
    # Every Comune is named under every date, once.
    for block in _visible(text).split("\n\n")[1:-1]:
        named = ", ".join(
            line.split(": ", 1)[-1].lstrip("✅❔ ") for line in block.splitlines()[1:]
        )
        assert sorted(named.split(", ")) == sorted(COMUNI)


def test_names_longer_than_a_message_degrade_to_counts() -> None:
    huge = [f"Comune {'x' * 120} {n}" for n in range(20)]
    text, _keyboard = render_poll(_view(comuni=huge), translator("it"))
    assert message_length(text) <= 4096
    assert "✅ 7 Comuni" in _visible(text) or "+" in text


def test_closed_poll_has_no_keyboard() -> None:
    text, keyboard = render_poll(_view(PollStatus.CANCELLED), translator("it"))
    assert keyboard is None and "Sondaggio annullato" in text


def _copy(*answers: Answer | None, status: PollStatus = PollStatus.OPEN) -> CopyView:
    return CopyView(
        poll_id=7,
        title="Riunione <di> dicembre",
        table=PollTable.POLITICAL,
        status=status,
        deadline_at=datetime(2026, 12, 6, 8, tzinfo=UTC),
        tz=ROME,
        answers=tuple(
            (i + 1, datetime(2026, 12, 10 + i, 16, tzinfo=UTC), a) for i, a in enumerate(answers)
        ),
        language="it",
        chosen_at=datetime(2026, 12, 11, 16, tzinfo=UTC) if status == PollStatus.CLOSED else None,
    )


def test_the_private_copy_marks_ones_own_answers() -> None:
    text, keyboard = render_copy(_copy(Answer.YES, None, Answer.MAYBE), translator("it"))
    assert "Riunione &lt;di&gt; dicembre" in text
    assert "gio 10 dic, 17:00 — ✅ Sì" in text
    assert "ven 11 dic, 17:00 — non hai ancora risposto" in text
    assert keyboard is not None
    labels = [[b.text for b in row] for row in keyboard.rows]
    assert labels[:2] == [["📅 gio 10 dic, 17:00"], ["✅ Sì ✓", "❔ Se necessario", "❌ No"]]
    assert labels[3] == ["✅ Sì", "❔ Se necessario", "❌ No"]
    assert labels[5] == ["✅ Sì", "❔ Se necessario ✓", "❌ No"]
    assert [b.data for b in keyboard.rows[1]] == ["vote:y:1", "vote:m:1", "vote:n:1"]
    closed, none = render_copy(_copy(Answer.YES, None, status=PollStatus.CLOSED), translator("it"))
    assert none is None
    assert "Data scelta: <b>ven 11 dic, 17:00</b>" in closed
    assert "ven 11 dic, 17:00 — nessuna risposta" in closed


def test_the_reminder_is_a_copy_with_every_date_to_answer() -> None:
    reminder = CopyView(**{**_copy(None, None, None).__dict__, "reminder": True})
    text, keyboard = render_copy(reminder, translator("en"))
    assert text.startswith("⏰ You have not answered")
    assert keyboard is not None and len(keyboard.rows) == 6


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_votes_toast_says_all_ones_answers_within_200(language: str) -> None:
    tr = translator(language)
    # Eight dates, two of them on the same day (then named with their hour).
    days = [datetime(2026, 12, 9 + d, 16, tzinfo=UTC) for d in range(7)]
    days.append(datetime(2026, 12, 15, 18, tzinfo=UTC))
    mine = [
        (at, a) for at, a in zip(days, [Answer.YES, Answer.MAYBE, Answer.NO, None] * 2, strict=True)
    ]
    text = render_vote_recorded(Answer.YES, days[0], ROME, tr, mine)
    assert len(text) <= 200
    assert "\n" in text  # the answers are said, not only the one just recorded
    if language == "it":
        assert text == (
            "Registrato: ✅ Sì per mer 9 dic, 17:00.\nLe tue risposte: ✅ 9 dic · ❔ 10 dic · "
            "❌ 11 dic · ✅ 13 dic · ❔ 14 dic · ❌ 15 dic, 17:00. Ancora da rispondere: 12 dic, "
            "15 dic, 19:00."
        )
    few = render_vote_recorded(Answer.NO, days[0], ROME, tr, mine[:3])
    assert few.endswith("✅ mer 9 dic · ❔ gio 10 dic · ❌ ven 11 dic.") or language == "en"


@pytest.mark.parametrize("language", ["it", "en"])
def test_every_refusal_fits_a_popup_and_names_a_next_step(language: str) -> None:
    tr = translator(language)
    at = datetime(2026, 12, 9, 16, tzinfo=UTC)
    for refusal in (
        VoteRefusal("gone"),
        VoteRefusal("closed", at=at, tz=ROME),
        VoteRefusal("no_date"),
        VoteRefusal("cancelled"),
        VoteRefusal("deadline_passed", at=at, tz=ROME),
        VoteRefusal("not_a_member"),
        *(VoteRefusal("not_at_table", table=t) for t in PollTable),
    ):
        text = render_vote_refused(refusal, tr)
        assert len(text) <= 200 and not text.endswith("…"), (refusal, text)
        if language == "it":  # the fact, then what to do instead
            assert any(
                step in text
                for step in ("usa i", "chiedi", "scrivi", "rispondi", "la trovi", "serve il link")
            ), text
    names = render_managers(["Carla Coordinatrice", "Dario Vice"], "Sara Argelato", tr)
    assert len(names) <= 200 and "Sara Argelato" in names


def test_missing_list_is_escaped() -> None:
    text = render_missing(_view(), translator("it"))
    assert "Castel &lt;Maggiore&gt;: Anna &amp; Bruno" in text


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        (timedelta(hours=1), "⏰ Tra un'ora, alle 17:00: Riunione."),
        (timedelta(minutes=56), "⏰ Tra un'ora, alle 17:00: Riunione."),  # a tick late
        (timedelta(minutes=30), "⏰ Tra 30 minuti, alle 17:00: Riunione."),  # caught up
        (timedelta(minutes=4, seconds=10), "⏰ Tra 5 minuti, alle 17:00: Riunione."),
        (timedelta(seconds=50), "⏰ Sta per iniziare, alle 17:00: Riunione."),
    ],
)
def test_the_hour_reminder_says_the_time_really_left(before: timedelta, expected: str) -> None:
    """A reminder caught up after the bot was stopped does not say «Tra un'ora» at 16:30."""
    starts = datetime(2026, 12, 16, 16, tzinfo=UTC)  # 17:00 in Rome
    meeting = Meeting(title="Riunione", starts_at=starts, place=None)
    text = render_meeting_reminder("hour", meeting, ROME, starts - before, translator("it"))
    assert text == expected
