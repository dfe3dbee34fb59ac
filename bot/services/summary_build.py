"""Moved to bot.services.summaries.build (issue 15). Kept only for the progress capability
(bot/handlers/actions.py and updates.py, their tests test_action_card_notes.py and
test_notes_storage.py) until it moves to the new shape; then this module goes."""

from __future__ import annotations

from bot.services.summaries.build import build_summary_input, note_view

__all__ = ["build_summary_input", "note_view"]
