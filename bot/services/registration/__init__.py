"""Registration's use cases: Unions, Comuni, invites, joining and approval, the team and its
member cards, linked groups, leaving. Each takes a session and plain values, re-checks who acts
from the database, queues what it tells others in the outbox, and returns what happened (the
outcome types, with their words, are in bot.views.registration). `rules` holds the pure rules.
"""

from bot.services.registration.approval import decide_request
from bot.services.registration.comuni import (
    COMUNI_ADD_FLOW,
    COMUNI_RENAME_FLOW,
    add_comuni,
    ask_comune_removal,
    open_comuni,
    remove_comune,
    rename_comune,
    show_comuni,
    start_adding,
    start_renaming,
)
from bot.services.registration.groups import (
    BotAdded,
    bot_added_to_group,
    bot_left_group,
    cancel_linking,
    link_choice,
    link_group,
)
from bot.services.registration.invites import (
    comune_choice,
    list_invites,
    make_invite,
    revoke_invite,
    role_choice,
)
from bot.services.registration.joining import (
    JOIN_FLOW,
    cancel_joining,
    choose_comune,
    choose_role,
    open_invite,
    request_membership,
    type_answer,
)
from bot.services.registration.leaving import erase_me, may_leave, wipe_copies
from bot.services.registration.profile import (
    PROFILE_NAME_FLOW,
    ask_name,
    cancel_name,
    rename_me,
    set_form,
    show_profile,
)
from bot.services.registration.rules import (
    AssignmentProblem,
    InviteState,
    NameProblem,
    RoleCode,
    RosterEntry,
)
from bot.services.registration.team import (
    ask_member_removal,
    comune_menu,
    list_team,
    remove_member,
    role_menu,
    set_comune,
    set_coordinator,
    set_role,
    show_member,
    show_team,
)
from bot.services.registration.unions import create_union
from storage.models import Form, Role, TableKind

__all__ = [
    "COMUNI_ADD_FLOW",
    "COMUNI_RENAME_FLOW",
    "JOIN_FLOW",
    "PROFILE_NAME_FLOW",
    "AssignmentProblem",
    "BotAdded",
    "Form",
    "InviteState",
    "NameProblem",
    "Role",
    "RoleCode",
    "RosterEntry",
    "TableKind",
    "add_comuni",
    "ask_comune_removal",
    "ask_member_removal",
    "ask_name",
    "bot_added_to_group",
    "bot_left_group",
    "cancel_joining",
    "cancel_linking",
    "cancel_name",
    "choose_comune",
    "choose_role",
    "comune_choice",
    "comune_menu",
    "create_union",
    "decide_request",
    "erase_me",
    "link_choice",
    "link_group",
    "list_invites",
    "list_team",
    "make_invite",
    "may_leave",
    "open_comuni",
    "open_invite",
    "remove_comune",
    "remove_member",
    "rename_comune",
    "rename_me",
    "request_membership",
    "revoke_invite",
    "role_choice",
    "role_menu",
    "set_comune",
    "set_coordinator",
    "set_form",
    "set_role",
    "show_comuni",
    "show_member",
    "show_profile",
    "show_team",
    "start_adding",
    "start_renaming",
    "type_answer",
    "wipe_copies",
]
