"""Around the tables: announcements to the team (/annuncio, in place of the mailing list), their
delivery reports and /annuncio stato, and the links to the Union's shared folders (/documenti).

Use cases (async, a session and plain values in, a frozen dataclass out; they queue their
messages in the outbox and never send):

- `sending`    the draft, its audience, the copies queued once per person
- `reports`    the delivery report to the sender (due work), /annuncio stato
- `documents`  the shared folders' links

The handlers (bot.handlers.announcements) import what they need from here: never storage.
"""

from __future__ import annotations

from bot.services.announcements.documents import (
    ADD_LINK_FLOW,
    BadLink,
    Folders,
    FoldersRefused,
    LinkAdded,
    LinkAsked,
    LinkRemoved,
    add_link,
    ask_for_link,
    parse_link,
    remove_link,
    shared_folders,
)
from bot.services.announcements.reports import (
    REPORT_PREFIX,
    Deliveries,
    StatusRefused,
    copies_prefix,
    delivery_status,
    report_announcements,
)
from bot.services.announcements.sending import (
    MAX_ANNOUNCEMENT,
    AlreadySent,
    AnnouncementCancelled,
    AnnouncementMenu,
    AnnouncementRefused,
    AnnouncementSending,
    Drafted,
    announcement_menu,
    cancel_announcement,
    draft_announcement,
    send_announcement,
    text_problem,
)

__all__ = [
    "ADD_LINK_FLOW",
    "MAX_ANNOUNCEMENT",
    "REPORT_PREFIX",
    "AlreadySent",
    "AnnouncementCancelled",
    "AnnouncementMenu",
    "AnnouncementRefused",
    "AnnouncementSending",
    "BadLink",
    "Deliveries",
    "Drafted",
    "Folders",
    "FoldersRefused",
    "LinkAdded",
    "LinkAsked",
    "LinkRemoved",
    "StatusRefused",
    "add_link",
    "announcement_menu",
    "ask_for_link",
    "cancel_announcement",
    "copies_prefix",
    "delivery_status",
    "draft_announcement",
    "parse_link",
    "remove_link",
    "report_announcements",
    "send_announcement",
    "shared_folders",
    "text_problem",
]
