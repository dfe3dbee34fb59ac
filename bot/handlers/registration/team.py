"""/team, requests to approve, and the coordinator's member cards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scope import UnionScope
from bot.services import registration
from bot.views.registration import joining as joining_views
from bot.views.registration import team as views
from bot.views.registration.refusals import AssignmentRefused, Refused

from .answering import Asked, RegistrationPress, button, in_union


@in_union("team", views.roster_answer)
async def team(s: AsyncSession, scope: UnionScope, asked: Asked) -> views.Roster | Refused:
    """/team: the roster; the coordinator, in private, gets a button per person."""
    return await registration.show_team(
        s,
        union_id=scope.union.id,
        member_id=scope.member.id,
        private=asked.private,
        now=asked.now,
    )


@button(views.roster_answer, write=False)
async def on_list(s: AsyncSession, p: RegistrationPress) -> views.Roster | Refused:
    """`team:list:<union>` — back to the roster from a member card."""
    return await registration.list_team(s, union_id=p.id(0), telegram_user_id=p.user_id, now=p.now)


@button(joining_views.decision_answer, flush=True)
async def on_decision(
    s: AsyncSession, p: RegistrationPress
) -> joining_views.RequestDecided | joining_views.AlreadyDecided | AssignmentRefused | Refused:
    """`appr:approve:<member>`, `appr:reject:<member>` — a request decided (the person is told)."""
    return await registration.decide_request(
        s,
        member_id=p.id(0),
        approve=p.verb == "approve",
        telegram_user_id=p.user_id,
        now=p.now,
        default_language=p.default_language,
    )


# A member card, and the menus it opens: nothing changes.
_SHOWN: dict[str, Callable[..., Awaitable[views.MemberOutcome]]] = {
    "show": registration.show_member,
    "roles": registration.role_menu,
    "comuni": registration.comune_menu,
    "remove": registration.ask_member_removal,
}


@button(views.member_answer, flush=True)
async def on_card(s: AsyncSession, p: RegistrationPress) -> views.MemberOutcome:
    """`mbr:show|roles|comuni|remove:<member>` — the member's card, the roles or the Comuni to
    choose from, «Tolgo …?»"""
    return await _SHOWN[p.verb](s, member_id=p.id(0), telegram_user_id=p.user_id)


@button(views.member_answer, flush=True)
async def on_change(s: AsyncSession, p: RegistrationPress) -> views.MemberOutcome:
    """`mbr:set_role:<member>:<role>` (asks for the Comune when the role needs one),
    `mbr:set_role_in:<member>:<role>:<comune>`, `mbr:set_comune:<member>:<comune>` (ticked,
    unticked or chosen), `mbr:coordinator:<member>:<1|0>` (made coordinator, told; or no longer),
    `mbr:remove_yes:<member>` (out of the team, told; the roster again)."""
    member = {"member_id": p.id(0), "telegram_user_id": p.user_id}
    if p.verb in ("set_role", "set_role_in"):
        comune = p.id(2) if p.verb == "set_role_in" else None
        return await registration.set_role(
            s, role=p.role(1), municipality_id=comune, now=p.now, **member
        )
    if p.verb == "set_comune":
        return await registration.set_comune(s, municipality_id=p.id(1), **member)
    if p.verb == "coordinator":
        made = p.data.int_arg(1) == 1
        return await registration.set_coordinator(
            s, coordinator=made, now=p.now, default_language=p.default_language, **member
        )
    return await registration.remove_member(
        s, now=p.now, default_language=p.default_language, **member
    )
