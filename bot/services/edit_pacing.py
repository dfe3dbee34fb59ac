"""When the next coalesced edit of a chat may go out: Telegram's flood limits as plain rules.

Telegram allows about 20 messages a minute in a group, edits included, and about one a second
in a private chat. A live tally (a meeting poll, a decision's votes) changes at every press; the
bot owes one edit showing the latest state, not one per press. The first edit waits a short
coalescing window after the first change; later ones keep at least the chat's interval after
the previous edit of that chat. Groups get one tally edit every 4 s (15 a minute), so a quarter
of Telegram's allowance stays free for announcements, reminders and replies in the same group,
which then never queue behind a long voting burst in PTB's rate limiter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COALESCE_SECONDS = 1.0  # after the first change: let the presses of a moment land together
PRIVATE_INTERVAL_SECONDS = 1.0
GROUP_INTERVAL_SECONDS = 4.0
TELEGRAM_GROUP_LIMIT_PER_MINUTE = 20


def is_group(chat_id: int) -> bool:
    """Telegram's group and supergroup (and channel) ids are negative, users' positive."""
    return chat_id < 0


def interval_for(chat_id: int) -> float:
    return GROUP_INTERVAL_SECONDS if is_group(chat_id) else PRIVATE_INTERVAL_SECONDS


@dataclass
class ChatPace:
    """What the bot knows about one chat's recent edits (monotonic seconds)."""

    last_edit: float | None = None
    not_before: float = 0.0  # Telegram said "retry after": nothing before this


@dataclass
class EditPacer:
    """Per-chat pacing of coalesced edits; times are monotonic seconds."""

    chats: dict[int, ChatPace] = field(default_factory=dict)

    def pace(self, chat_id: int) -> ChatPace:
        return self.chats.setdefault(chat_id, ChatPace())

    def next_edit_at(self, chat_id: int, *, now: float, coalesce: bool = True) -> float:
        """The earliest moment the next edit of this chat may go out.

        `coalesce` adds the short window after a change (a vote); the tick, re-driving an
        edit owed for a while, does not wait for it.
        """
        pace = self.chats.get(chat_id)
        earliest = now + (COALESCE_SECONDS if coalesce else 0.0)
        if pace is None:
            return earliest
        if pace.last_edit is not None:
            earliest = max(earliest, pace.last_edit + interval_for(chat_id))
        return max(earliest, pace.not_before)

    def edited(self, chat_id: int, *, now: float) -> None:
        self.pace(chat_id).last_edit = now

    def told_to_wait(self, chat_id: int, *, now: float, seconds: float) -> None:
        pace = self.pace(chat_id)
        pace.not_before = max(pace.not_before, now + seconds)


def max_edits_in_window(chat_id: int, window_seconds: float = 60.0) -> int:
    """The most coalesced edits a chat can receive in any window of this length."""
    return int(window_seconds // interval_for(chat_id)) + 1


__all__ = [
    "COALESCE_SECONDS",
    "GROUP_INTERVAL_SECONDS",
    "PRIVATE_INTERVAL_SECONDS",
    "TELEGRAM_GROUP_LIMIT_PER_MINUTE",
    "ChatPace",
    "EditPacer",
    "interval_for",
    "is_group",
    "max_edits_in_window",
]
