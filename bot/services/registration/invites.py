"""/invito: links that let people ask to join a Union, for anyone, a Comune or a role.

Only a token's hash is stored: the link is shown once, to the coordinator who made it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.registration import rules
from bot.services.registration.access import coordinated_union
from bot.views.registration.invites import (
    ComuneChoice,
    InviteList,
    InviteMade,
    InviteRevoked,
    InviteRow,
    RoleChoice,
)
from bot.views.registration.refusals import AssignmentProblem, AssignmentRefused, Refused
from storage.models import Invite, Role, Union
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo


async def _listing(session: AsyncSession, union: Union, now: datetime) -> InviteList:
    invites = await reg_repo.open_invites(session, union_id=union.id, now=now)
    names = await core_repo.municipality_names(session, union.id, include_archived=True)
    rows = tuple(
        InviteRow(
            invite_id=invite.id,
            comune=names.get(invite.municipality_id, "?") if invite.municipality_id else None,
            role=invite.role,
            uses=invite.uses,
            expires_at=invite.expires_at,
        )
        for invite in invites
    )
    return InviteList(union.id, union.name, union.timezone, rows)


async def list_invites(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, now: datetime
) -> InviteList | Refused:
    """The open invites of a Union its coordinator asks for (/invito, or back to the list)."""
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    return await _listing(session, found.union, now)


async def comune_choice(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> ComuneChoice | Refused:
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    muns = await core_repo.municipalities(session, union_id)
    if not muns:
        return Refused.NEEDS_COMUNI
    return ComuneChoice(union_id, tuple((m.id, m.name) for m in muns))


async def role_choice(
    session: AsyncSession, *, union_id: int, municipality_id: int, telegram_user_id: int
) -> RoleChoice | Refused:
    """The roles an invite may be for; `municipality_id` 0: for any Comune."""
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    mun = None
    if municipality_id:
        mun = await reg_repo.municipality_in_union(
            session, union_id=union_id, municipality_id=municipality_id
        )
        if mun is None:
            return Refused.STALE
    return RoleChoice(
        union_id, municipality_id, mun.name if mun is not None else None, rules.JOINABLE_ROLES
    )


async def revoke_invite(
    session: AsyncSession, *, invite_id: int, telegram_user_id: int, now: datetime
) -> InviteRevoked | Refused:
    invite = await session.get(Invite, invite_id)
    if invite is None:
        return Refused.STALE
    found = await coordinated_union(
        session, union_id=invite.union_id, telegram_user_id=telegram_user_id
    )
    if isinstance(found, Refused):
        return found
    done = await reg_repo.revoke_invite(
        session, invite_id=invite.id, union_id=found.union.id, now=now
    )
    return InviteRevoked(done, await _listing(session, found.union, now))


async def make_invite(
    session: AsyncSession,
    *,
    union_id: int,
    municipality_id: int,
    role: Role | None,
    telegram_user_id: int,
    bot_username: str,
    now: datetime,
) -> InviteMade | AssignmentRefused | Refused:
    """A new link, valid INVITE_VALIDITY, for several people; bound to a Comune (0: any) and a
    joinable role (None: any). Not for the Sindaco of a Comune that has one."""
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    if role is not None and role not in rules.JOINABLE_ROLES:
        return Refused.STALE
    mun = None
    if municipality_id:
        mun = await reg_repo.municipality_in_union(
            session, union_id=union_id, municipality_id=municipality_id
        )
        if mun is None:
            return Refused.STALE
    if mun is not None and role == Role.SINDACO:
        taken = await reg_repo.sindaco_by_municipality(
            session, union_id=union_id, municipality_ids=[mun.id]
        )
        if taken:
            return AssignmentRefused(AssignmentProblem.SINDACO_TAKEN, mun.name)
    token = rules.new_invite_token()
    expires = now + rules.INVITE_VALIDITY
    await reg_repo.create_invite(
        session,
        union_id=union_id,
        token_hash=rules.hash_token(token),
        municipality_id=mun.id if mun else None,
        role=role,
        created_by_member_id=found.coordinator.id,
        now=now,
        expires_at=expires,
    )
    return InviteMade(
        union_name=found.union.name,
        timezone=found.union.timezone,
        link=rules.invite_link(bot_username, token),
        comune=mun.name if mun is not None else None,
        role=role,
        expires_at=expires,
    )
