"""bot.services.schedule: which kinds of the tick's work are due (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services import schedule
from bot.services.progress.rules import DEFAULT_SETTINGS, RoundSettings
from bot.services.schedule import Hint, WhenDue, due_kinds
from storage.repositories.schedule import Snapshot

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ROME = ZoneInfo("Europe/Rome")


async def _never(_session: object, _now: datetime) -> datetime | None:
    return None


HINTED = WhenDue(next_due=_never)  # type: ignore[arg-type]
PROBED = WhenDue(probe=lambda _now: None)  # type: ignore[arg-type, return-value]
SENDS = WhenDue(after_sends=True)
RULES = {"hinted": HINTED, "probed": PROBED, "sends": SENDS}


def _due(
    *,
    hints: dict[str, Hint] | None = None,
    probed: frozenset[str] = frozenset(),
    sent: bool = False,
    now: datetime = NOW,
    last_tick: datetime | None = NOW - timedelta(minutes=1),
    kinds: tuple[str, ...] = ("hinted", "probed", "sends"),
) -> set[str]:
    quiet = {"hinted": Hint("hinted", NOW + timedelta(days=1), awake=False, woken=3)}
    return set(
        due_kinds(
            kinds,
            when=RULES,
            hints=quiet if hints is None else hints,
            probed=probed,
            sent=sent,
            now=now,
            last_tick=last_tick,
        )
    )


def test_a_quiet_tick_runs_nothing() -> None:
    assert _due() == set()


def test_the_first_tick_after_a_start_runs_everything() -> None:
    assert _due(last_tick=None) == {"hinted", "probed", "sends"}


def test_a_clock_gone_back_runs_everything() -> None:
    assert _due(now=NOW, last_tick=NOW + timedelta(hours=2)) == {"hinted", "probed", "sends"}


def test_a_hint_whose_moment_came_or_passed_is_due() -> None:
    hint = {"hinted": Hint("hinted", NOW, awake=False, woken=0)}
    assert _due(hints=hint) == {"hinted"}
    # the moment passed long ago (the bot was down, the clock jumped): caught up
    assert _due(hints=hint, now=NOW + timedelta(days=40), last_tick=NOW) == {"hinted"}
    assert (
        _due(hints=hint, now=NOW - timedelta(seconds=1), last_tick=NOW - timedelta(minutes=1))
        == set()
    )


def test_a_woken_hint_is_due_and_one_with_no_row_too() -> None:
    assert _due(hints={"hinted": Hint("hinted", None, awake=True, woken=4)}) == {"hinted"}
    assert _due(hints={}) == {"hinted"}
    assert _due(hints={"hinted": Hint("hinted", None, awake=False, woken=4)}) == set()


def test_probes_and_sends() -> None:
    assert _due(probed=frozenset({"probed"})) == {"probed"}
    assert _due(sent=True) == {"sends"}


def test_a_kind_without_rules_runs_at_every_tick() -> None:
    assert _due(kinds=("hinted", "new.kind")) == {"new.kind"}


def test_earliest_is_strictly_after_now() -> None:
    later = NOW + timedelta(hours=3)
    assert schedule.earliest([NOW - timedelta(days=1), NOW, later, None], after=NOW) == later
    assert schedule.earliest([NOW], after=NOW) is None


def test_monthly_poll_moments_in_the_unions_zone() -> None:
    # 1 December, day 1 at 09:00 in Rome = 08:00 UTC; then 1 January
    assert schedule.monthly_poll_moments(NOW, ROME, day=1, hour=9) == [
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 8, 0, tzinfo=UTC),
    ]
    # a day the month does not have: its last; 31 in February 2027 → 28th
    feb = datetime(2027, 2, 10, tzinfo=UTC)
    assert schedule.monthly_poll_moments(feb, ROME, day=31, hour=9)[0] == datetime(
        2027, 2, 28, 8, 0, tzinfo=UTC
    )
    # summer time: 09:00 in Rome is 07:00 UTC
    june = datetime(2027, 6, 2, tzinfo=UTC)
    assert schedule.monthly_poll_moments(june, ROME, day=1, hour=9)[1] == datetime(
        2027, 7, 1, 7, 0, tzinfo=UTC
    )


def test_round_opening_moments() -> None:
    moments = schedule.round_opening_moments(NOW, ROME, DEFAULT_SETTINGS)
    # the 20th at 10:00 in Rome, its fallback deadline 5 days later, the 1st of January
    assert moments == [
        datetime(2026, 12, 20, 10, tzinfo=ROME),
        datetime(2026, 12, 25, 10, tzinfo=ROME),
        datetime(2027, 1, 1, tzinfo=ROME),
    ]
    off = RoundSettings(enabled=False)
    assert schedule.round_opening_moments(NOW, ROME, off) == [datetime(2027, 1, 1, tzinfo=ROME)]


def test_round_duty_and_meeting_moments() -> None:
    opened, deadline = NOW, NOW + timedelta(days=10)
    assert schedule.round_duty_moments(opened, deadline) == [
        NOW + timedelta(days=3),
        NOW + timedelta(days=9),
        deadline,
    ]
    start = NOW + timedelta(days=2)
    assert schedule.meeting_moments(start) == [
        start - timedelta(hours=24),
        start - timedelta(hours=1),
        start,
    ]
    assert schedule.poll_reminder_moment(deadline) == deadline - timedelta(hours=24)


def test_midnights() -> None:
    assert schedule.next_utc_midnight(NOW) == datetime(2026, 12, 2, tzinfo=UTC)
    # 23:30 UTC on 1 December is 00:30 on the 2nd in Rome: its next midnight is the 3rd's
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert schedule.next_local_midnight(late, ROME) == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)


def test_snapshot_is_plain_data() -> None:
    snap = Snapshot(hints={}, probed=frozenset(), outbox={"pending": 2}, reports_owed=0)
    assert snap.outbox["pending"] == 2


def test_no_kind_watches_what_a_round_answer_writes() -> None:
    """A round answer writes on the transaction's connection, around the Session
    (storage.repositories.actions: record_update, amend_update; core: set_conversation at once),
    so the wake listener never sees those writes: a kind woken by them would wait for its next
    stored moment. Such a kind needs those writes moved back to the Session first."""
    written = {
        "progress_update": None,  # every column: the answer's row, inserted or completed
        "conversation": None,
        "paes_action": {"status", "progress", "updated_at"},
    }
    for kind, due in schedule.SCHEDULE.items():
        for wake in due.wakes:
            if wake.table not in written:
                continue
            columns = written[wake.table]
            watched = set(wake.columns) if wake.columns is not None else None
            assert columns is not None and watched is not None and not columns & watched, (
                f"{kind} watches {wake}, which a round answer writes unseen"
            )
