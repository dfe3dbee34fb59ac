"""The dashboard (issue 20): the Telegram Mini App's pages and the public progress page, as
read-only use cases (a session and plain values in, frozen dataclasses out); plus switching the
public page on and off. Entry points: bot/web (the pages), bot/handlers/public_page.py (the
coordinator's buttons). The pages' data types live in bot/views/dashboard/model.py; here are
re-exported only the outcomes callers tell apart."""

from bot.services.dashboard.access import sign_in
from bot.services.dashboard.pages import (
    FileToServe,
    Who,
    action_detail,
    action_list,
    attachment_file,
    decision_register,
    meeting_calendar,
    union_overview,
)
from bot.services.dashboard.public import (
    press_note,
    public_page_state,
    public_progress,
    switch_public_page,
)
from bot.views.dashboard.model import (
    ActionDetail,
    ActionList,
    NotAllowed,
    Overview,
    PressNote,
    PublicPageState,
    PublicProgress,
)

__all__ = [
    "ActionDetail",
    "ActionList",
    "FileToServe",
    "NotAllowed",
    "Overview",
    "PressNote",
    "PublicPageState",
    "PublicProgress",
    "Who",
    "action_detail",
    "action_list",
    "attachment_file",
    "decision_register",
    "meeting_calendar",
    "press_note",
    "public_page_state",
    "public_progress",
    "sign_in",
    "switch_public_page",
    "union_overview",
]
