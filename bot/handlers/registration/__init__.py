"""Registration by role: Unions, Comuni, invites, joining, approval, /team, /collega, /cancellami.

Each module translates updates into one use case of bot.services.registration and its outcome
into an answer (bot.views.registration): `unions` (/crea_unione), `comuni`, `invites`,
`joining` (/start <token> and its dialogue), `team` (/team, requests, member cards), `groups`
(/collega, the bot added to or removed from a group), `leaving` (/cancellami), `scheduled`.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callback_data as cb
from bot.context import Services
from bot.conversations import register_flow
from bot.handlers.common import GROUP_MEMBERSHIP_HOOK, START_PAYLOAD_HOOK
from bot.scope import union_command
from bot.services.registration import (
    COMUNI_ADD_FLOW,
    COMUNI_RENAME_FLOW,
    JOIN_FLOW,
    PROFILE_NAME_FLOW,
)
from bot.views.registration.profile import ME
from bot.views.registration.shared import APPR, COM, DEL, INV, LINK, MBR, REG, TEAM

from . import comuni, groups, invites, joining, leaving, profile, scheduled, team, unions
from .answering import Callback

# One handler per button family (callback data `area:verb:ids`, bot.views.registration).
FAMILIES: tuple[tuple[Callback, str, tuple[str, ...]], ...] = (
    (joining.on_answer, REG, ("comune", "role", "cancel")),
    (team.on_decision, APPR, ("approve", "reject")),
    (comuni.on_button, COM, ("add", "list", "cancel", "rename", "remove", "remove_yes")),
    (invites.on_button, INV, ("list", "comuni", "roles", "make", "revoke")),
    (team.on_list, TEAM, ("list",)),
    (team.on_card, MBR, ("show", "roles", "comuni", "remove")),
    (
        team.on_change,
        MBR,
        ("set_role", "set_role_in", "set_comune", "coordinator", "remove_yes"),
    ),
    (groups.on_link, LINK, ("set", "replace")),
    (groups.on_link_cancel, LINK, ("cancel",)),
    (leaving.on_confirmation, DEL, ("confirm", "cancel")),
    (profile.on_profile, ME, ("form", "name", "cancel")),
)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    services.hooks[START_PAYLOAD_HOOK] = joining.on_start_payload
    services.hooks[GROUP_MEMBERSHIP_HOOK] = groups.on_bot_group_membership
    register_flow(JOIN_FLOW, joining.on_join_text)
    services.add_due_work("erasure_copies", scheduled.wipe_copies_of_erased)
    register_flow(COMUNI_ADD_FLOW, comuni.on_comuni_names)
    register_flow(COMUNI_RENAME_FLOW, comuni.on_comuni_rename)
    register_flow(PROFILE_NAME_FLOW, profile.on_name_text)
    application.add_handlers(
        [
            CommandHandler("crea_unione", unions.create_union),
            CommandHandler("comuni", union_command("comuni", comuni.comuni)),
            CommandHandler("invito", union_command("invito", invites.invito)),
            CommandHandler("team", union_command("team", team.team)),
            CommandHandler("collega", groups.collega),
            CommandHandler("cancellami", leaving.cancellami),
            CommandHandler("profilo", profile.profilo),
        ]
    )
    application.add_handlers(
        [CallbackQueryHandler(fn, pattern=cb.pattern(area, *verbs)) for fn, area, verbs in FAMILIES]
    )
