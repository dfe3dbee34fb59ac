"""bot.services.edit_pacing: coalesced edits stay inside Telegram's per-chat limits."""

from __future__ import annotations

import heapq
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.edit_pacing import (
    COALESCE_SECONDS,
    GROUP_INTERVAL_SECONDS,
    PRIVATE_INTERVAL_SECONDS,
    TELEGRAM_GROUP_LIMIT_PER_MINUTE,
    EditPacer,
    interval_for,
    is_group,
    max_edits_in_window,
)

GROUP, PRIVATE = -1001234, 5678


def test_groups_and_private_chats() -> None:
    assert is_group(GROUP) and not is_group(PRIVATE)
    assert interval_for(GROUP) == GROUP_INTERVAL_SECONDS == 4.0
    assert interval_for(PRIVATE) == PRIVATE_INTERVAL_SECONDS == 1.0
    # 15 tally edits a minute at most, with room left in Telegram's 20 for other messages.
    assert max_edits_in_window(GROUP) <= TELEGRAM_GROUP_LIMIT_PER_MINUTE - 4


def test_first_change_waits_the_coalescing_window_then_the_interval() -> None:
    pacer = EditPacer()
    assert pacer.next_edit_at(GROUP, now=100.0) == 100.0 + COALESCE_SECONDS
    pacer.edited(GROUP, now=101.0)
    assert pacer.next_edit_at(GROUP, now=101.2) == 105.0
    assert pacer.next_edit_at(GROUP, now=110.0) == 111.0  # long quiet: just the window
    assert pacer.next_edit_at(GROUP, now=110.0, coalesce=False) == 110.0
    # Other chats are not held up by this one.
    assert pacer.next_edit_at(PRIVATE, now=101.2) == 101.2 + COALESCE_SECONDS


def test_a_retry_after_is_respected() -> None:
    pacer = EditPacer()
    pacer.edited(GROUP, now=0.0)
    pacer.told_to_wait(GROUP, now=1.0, seconds=30)
    assert pacer.next_edit_at(GROUP, now=2.0) == 31.0
    pacer.told_to_wait(GROUP, now=2.0, seconds=1)  # a shorter wait does not shorten it
    assert pacer.next_edit_at(GROUP, now=2.0) == 31.0


def _simulate(chat_id: int, votes: list[float]) -> list[tuple[float, float]]:
    """What bot.message_refresh does with these pacing rules: a vote schedules the chat's edit
    when none is waiting; the edit shows every vote up to its moment. Returns (edit time,
    last vote it shows)."""
    pacer = EditPacer()
    pending: float | None = None
    edits: list[tuple[float, float]] = []
    events = [(t, "vote") for t in votes]
    heapq.heapify(events)
    last_vote = None
    while events:
        t, kind = heapq.heappop(events)
        if kind == "vote":
            last_vote = t
            if pending is None:
                pending = pacer.next_edit_at(chat_id, now=t)
                heapq.heappush(events, (pending, "edit"))
        else:
            pending = None
            pacer.edited(chat_id, now=t)
            assert last_vote is not None
            edits.append((t, last_vote))
    return edits


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=600, allow_nan=False), min_size=1, max_size=400),
    st.sampled_from([GROUP, PRIVATE]),
)
def test_any_voting_pattern_stays_inside_the_limits(votes: list[float], chat_id: int) -> None:
    edits = _simulate(chat_id, sorted(votes))
    times = [t for t, _shown in edits]
    # Edits of a chat keep the chat's interval.
    assert all(b - a >= interval_for(chat_id) - 1e-9 for a, b in itertools.pairwise(times))
    if is_group(chat_id):  # any 60-second window: within Telegram's 20 a minute, with room
        for i, start in enumerate(times):
            in_window = sum(1 for t in times[i:] if t < start + 60)
            assert in_window <= max_edits_in_window(chat_id) <= TELEGRAM_GROUP_LIMIT_PER_MINUTE
    # The last edit shows the last vote: the final tally is right.
    assert edits[-1][1] == max(votes)
    # No vote waits longer than the coalescing window plus one interval to be shown.
    for vote in votes:
        shown_at = min(t for t, last in edits if last >= vote)
        assert shown_at - vote <= COALESCE_SECONDS + interval_for(chat_id) + 1e-9
