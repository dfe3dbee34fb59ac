"""What each member may do, by command and by task: the rules behind /aiuto, the private menus
and the welcome after approval. A leaf module (no use case, no repository), so that
registration's use cases can welcome someone without importing /aiuto's."""

from __future__ import annotations

from bot.commands import COMMANDS, Audience, Command
from bot.views.common import first_tasks
from storage.models import Member, Role


def _allowed(command: Command, member: Member | None) -> bool:
    if command.audience == Audience.EVERYONE:
        return True
    if member is None:
        return False
    if member.is_coordinator or command.audience == Audience.MEMBER:
        return True
    if command.audience == Audience.POLITICAL:
        return member.role in (Role.SINDACO, Role.ASSESSORE)
    if command.audience == Audience.TECHNICAL:
        return member.role == Role.TECNICO
    if command.audience == Audience.SINDACO:
        return member.role == Role.SINDACO
    return False


def commands_for(
    member: Member | None, *, private: bool, may_create: bool
) -> tuple[list[Command], list[Command]]:
    """The commands of the reader's role (restricted to some roles), and everyone's, that work
    in this kind of chat. A member needs neither /start nor, unless they coordinate,
    /crea_unione."""
    for_role: list[Command] = []
    for_all: list[Command] = []
    for command in COMMANDS:
        if not command.in_menu or not _allowed(command, member):
            continue
        if (private and not command.private) or (not private and not command.group):
            continue
        if command.name == "crea_unione" and not may_create:
            continue
        if member is not None and command.name == "start":
            continue
        if member is not None and command.name == "crea_unione" and not member.is_coordinator:
            continue
        restricted = command.audience not in (Audience.EVERYONE, Audience.MEMBER)
        (for_role if restricted and member is not None else for_all).append(command)
    return for_role, for_all


def welcome_tasks(member: Member) -> tuple[str, ...]:
    """The tasks the welcome after approval offers: /aiuto's first tasks for this member in
    private (bot.views.common.first_tasks), so the two never say different things."""
    return first_tasks(*commands_for(member, private=True, may_create=False))
