"""Moved to bot.services.summaries.summary (issue 15). Kept only for the progress capability
(bot/handlers/actions.py and updates.py, their tests test_action_card_notes.py and
test_notes_storage.py, scripts/measure_card_notes.py), which import these from here, until it
moves to the new shape and imports from bot.services.summaries; then this module goes."""

from __future__ import annotations

from bot.services.summaries.summary import (
    CARD_NOTES_MAX,
    CARD_NOTES_READ,
    GROUP_NOTE_MAX,
    NoteView,
    card_note_rows,
    note_text,
    render_summary,
    round_note_rows,
)

__all__ = [
    "CARD_NOTES_MAX",
    "CARD_NOTES_READ",
    "GROUP_NOTE_MAX",
    "NoteView",
    "card_note_rows",
    "note_text",
    "render_summary",
    "round_note_rows",
]
