"""/invito: the coordinator's invites, and the buttons that make and revoke them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scope import UnionScope
from bot.services import registration
from bot.views.registration import invites as views
from bot.views.registration.refusals import INVITES_PRIVATE, AssignmentRefused, Refused
from bot.views.registration.shared import ANY_ROLE, ROLE_FROM_SHORT

from .answering import Asked, Garbage, RegistrationPress, button, in_union


@in_union("invito", views.invites_answer, private=True)
async def invito(s: AsyncSession, scope: UnionScope, asked: Asked) -> views.InviteList | Refused:
    """/invito (private, the coordinator): the open invites, and buttons to make new ones."""
    return await registration.list_invites(
        s, union_id=scope.union.id, telegram_user_id=asked.user_id, now=asked.now
    )


@button(views.invites_answer, private_only=INVITES_PRIVATE)
async def on_button(s: AsyncSession, p: RegistrationPress) -> views.InvitesOutcome:
    """`inv:list:<union>` (back to the open invites), `inv:comuni:<union>` (which Comune the new
    link is for), `inv:roles:<union>:<comune>` (which role; Comune 0: any),
    `inv:make:<union>:<comune>:<role>` (a new link, sent as a message of its own to forward;
    Comune 0: any, role x: any), `inv:revoke:<invite>` (the link stops working)."""
    by = {"telegram_user_id": p.user_id}
    if p.verb == "list":
        return await registration.list_invites(s, union_id=p.id(0), now=p.now, **by)
    if p.verb == "comuni":
        return await registration.comune_choice(s, union_id=p.id(0), **by)
    if p.verb == "roles":
        comune = p.data.int_arg(1) or 0
        return await registration.role_choice(s, union_id=p.id(0), municipality_id=comune, **by)
    if p.verb == "revoke":
        return await registration.revoke_invite(s, invite_id=p.id(0), now=p.now, **by)
    return await _make(s, p)


async def _make(
    s: AsyncSession, p: RegistrationPress
) -> views.InviteMade | AssignmentRefused | Refused:
    code = p.data.str_arg(2)
    role = ROLE_FROM_SHORT.get(code or "")
    if role is None and code != ANY_ROLE:
        raise Garbage(p.data)
    return await registration.make_invite(
        s,
        union_id=p.id(0),
        municipality_id=p.id(1),  # not a number is garbage, not "any Comune"
        role=role,
        telegram_user_id=p.user_id,
        bot_username=p.bot_username,
        now=p.now,
    )
