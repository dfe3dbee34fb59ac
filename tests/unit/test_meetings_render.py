"""The poll message stays within Telegram's limits even at its largest, and escapes names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import translator
from bot.services.meetings.rules import SlotTally
from bot.views.meetings import PollView, SlotView, render_missing, render_poll, render_reminder
from storage.models import Answer, MeetingPoll, PollStatus, PollTable, Slot, Union


def _view(status: PollStatus = PollStatus.OPEN) -> PollView:
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    union = Union(id=1, name="Unione <Reno> & Galliera", timezone="Europe/Rome", created_at=now)
    poll = MeetingPoll(
        id=123456789,
        union_id=1,
        table=PollTable.BOTH,
        title="Titolo <lungo> & " + "x" * 180,
        agenda="Punto & <b>" * 300,
        place="Sala consiliare <primo piano>",
        status=status,
        deadline_at=now + timedelta(days=5),
        created_at=now,
    )
    slots = []
    for i in range(8):
        start = now + timedelta(days=8 + i)
        slot = Slot(
            id=987654321 + i, poll_id=poll.id, starts_at=start, ends_at=start + timedelta(hours=2)
        )
        slots.append(
            SlotView(
                slot=slot,
                tally=SlotTally(
                    slot_id=slot.id,
                    starts_at=start,
                    yes=30,
                    maybe=20,
                    no=10,
                    covered=frozenset(range(20)),
                ),
                names={a: [f"Nome{n}" for n in range(20)] for a in Answer},
            )
        )
    return PollView(
        poll=poll,
        union=union,
        tz=ZoneInfo("Europe/Rome"),
        slots=slots,
        voters={},
        answered=set(range(60)),
        answers={},
        comuni={i: f"Comune {i}" for i in range(20)},
        missing_by_comune=[("Castel <Maggiore>", False, ["Anna & Bruno"])],
    )


def test_largest_poll_fits_telegram_limits() -> None:
    for language in ("it", "en"):
        text, markup = render_poll(_view(), translator(language))
        assert len(text) < 4096
        assert markup is not None
        rows = markup.rows
        assert len(rows) == 10 and sum(len(r) for r in rows) <= 100
        assert all(len(r) <= 8 for r in rows)
        for row in rows:
            for button in row:
                assert len(str(button.data).encode()) <= 64
        assert "&lt;lungo&gt; &amp;" in text and "<lungo>" not in text


def test_closed_poll_has_no_keyboard_and_reminder_has_only_votes() -> None:
    text, markup = render_poll(_view(PollStatus.CANCELLED), translator("it"))
    assert markup is None and "Sondaggio annullato" in text
    text, reminder = render_reminder(_view(), translator("en"))
    assert "You have not answered" in text
    assert reminder is not None and len(reminder.rows) == 8


def test_missing_list_is_escaped() -> None:
    text = render_missing(_view(), translator("it"))
    assert "Castel &lt;Maggiore&gt;: Anna &amp; Bruno" in text
