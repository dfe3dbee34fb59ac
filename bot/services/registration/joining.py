"""Joining a Union through an invite: at most two questions (the Comune, unless the invite
names it; the role in the person's form, «Sindaca» or «Sindaco»), the request to the
coordinators, and the membership it opens (or reopens). The name is Telegram's (or the one
they chose before), changed later with /profilo: no question for it.

The dialogue's state (invite, Union, answers so far) is stored as a conversation of flow
JOIN_FLOW; every button re-reads it and is refused unless it belongs to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.common.people import Profile, person_for
from bot.services.registration import rules
from bot.services.registration.telling import tell
from bot.views.registration.joining import (
    COMUNE_STEP,
    ROLE_STEP,
    AlreadyIn,
    InviteProblem,
    JoinEnded,
    JoinRequested,
    JoinStarted,
    JoinStep,
    JoinStepAgain,
    Request,
    approval_keyboard,
    render_request,
)
from bot.views.registration.refusals import (
    AssignmentProblem,
    AssignmentRefused,
    InviteState,
    Refused,
)
from storage.models import (
    Conversation,
    Form,
    Member,
    MemberStatus,
    Municipality,
    Person,
    Role,
    Union,
)
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo
from storage.repositories.people import shown_name

JOIN_FLOW = "join"

# invite_id, union_id, name, role (None: not chosen), bound (the invite names the Comune),
# invite_role (the role the invite fixes, or None), municipality_id (once chosen; None: staff)
JoinState = dict[str, Any]


def next_step(state: JoinState) -> str:
    """The Comune first (unless the invite names it), then the role in their form: answering
    the role sends the request."""
    return COMUNE_STEP if "municipality_id" not in state else ROLE_STEP


def questions(state: JoinState) -> int:
    """How many questions this dialogue asks: the step counter counts only these."""
    return 1 if state.get("bound") else 2


def role_choices(state: JoinState) -> tuple[Role, ...]:
    """The roles offered at the role step: the invite's own, Union staff (only the form is
    asked), or any role a Comune's member may have."""
    if state.get("municipality_id") is None:
        return (Role.STAFF,)
    if state.get("invite_role"):
        return (Role(str(state["invite_role"])),)
    return rules.JOINABLE_ROLES


async def _step(session: AsyncSession, union_id: int, state: JoinState, step: str) -> JoinStep:
    """The question of `step`, with what its buttons offer."""
    invite_id = int(state["invite_id"])
    total = questions(state)
    name = str(state.get("name", ""))
    if step == COMUNE_STEP:
        muns = await core_repo.municipalities(session, union_id)
        return JoinStep(
            invite_id,
            COMUNE_STEP,
            comuni=tuple((m.id, m.name) for m in muns),
            staff_allowed=not state.get("invite_role"),
            number=1,
            total=total,
            name=name,
        )
    mun = await session.get(Municipality, int(state.get("municipality_id") or 0))
    return JoinStep(
        invite_id,
        ROLE_STEP,
        comune=mun.name if mun else "",
        roles=role_choices(state),
        number=total,
        total=total,
        name=name,
    )


async def _save(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, state: JoinState, now: datetime
) -> None:
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=JOIN_FLOW,
        step=next_step(state),
        data=state,
        now=now,
    )


async def _end(session: AsyncSession, *, telegram_user_id: int, chat_id: int) -> None:
    await core_repo.clear_conversation(session, telegram_user_id=telegram_user_id, chat_id=chat_id)


async def _sindaco_taken(session: AsyncSession, union_id: int, municipality_id: int) -> bool:
    return bool(
        await reg_repo.sindaco_by_municipality(
            session, union_id=union_id, municipality_ids=[municipality_id]
        )
    )


async def open_invite(
    session: AsyncSession, *, token: str, profile: Profile, chat_id: int, now: datetime
) -> JoinStarted | AlreadyIn | InviteProblem | JoinEnded | AssignmentRefused:
    """/start <token> in private: the dialogue starts, unless the link is not (or no longer)
    good, they are already in, or what the invite is bound to no longer holds. The token is
    checked for its shape before any lookup: anyone can type anything after /start."""
    if not rules.is_valid_token(token):
        return InviteProblem(None)
    invite = await reg_repo.invite_by_hash(session, rules.hash_token(token))
    union = await session.get(Union, invite.union_id) if invite else None
    if invite is None or union is None:
        return InviteProblem(None)
    state = rules.invite_state(expires_at=invite.expires_at, revoked_at=invite.revoked_at, now=now)
    if state != InviteState.OPEN:
        return InviteProblem(state)
    person = await person_for(session, profile, now=now)
    existing = await reg_repo.membership(session, union_id=union.id, person_id=person.id)
    if existing is not None and rules.holds_a_place(existing.status):
        return AlreadyIn(existing.status == MemberStatus.ACTIVE, union.name)
    bound = None
    if invite.municipality_id:
        bound = await reg_repo.municipality_in_union(
            session, union_id=union.id, municipality_id=invite.municipality_id
        )
        if bound is None:
            return JoinEnded.COMUNE_GONE
        if invite.role == Role.SINDACO and await _sindaco_taken(session, union.id, bound.id):
            return AssignmentRefused(AssignmentProblem.SINDACO_TAKEN, bound.name)
    data: JoinState = {
        "invite_id": invite.id,
        "union_id": union.id,
        # Someone already known keeps the name they chose; a newcomer gets Telegram's.
        "name": rules.shown_or_default(person.display_name, profile.display_name)[
            : rules.DISPLAY_NAME_MAX
        ],
        "role": None,
        "invite_role": invite.role.value if invite.role else None,
        "bound": bound is not None,
    }
    if bound is not None:
        data["municipality_id"] = bound.id
    await _save(
        session, telegram_user_id=profile.telegram_user_id, chat_id=chat_id, state=data, now=now
    )
    return JoinStarted(union.name, await _step(session, union.id, data, next_step(data)))


async def _stored(
    session: AsyncSession, telegram_user_id: int, chat_id: int, invite_id: int, now: datetime
) -> Conversation | None:
    """The dialogue a button belongs to. Someone else's buttons, an old message or forged data
    find none: the stored conversation decides."""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=chat_id, now=now
    )
    if conv is None or conv.flow != JOIN_FLOW or conv.data.get("invite_id") != invite_id:
        return None
    return conv


async def _at_step(
    session: AsyncSession,
    step: str,
    telegram_user_id: int,
    chat_id: int,
    invite_id: int,
    now: datetime,
) -> tuple[Union, JoinState] | Refused:
    """The dialogue a button belongs to, waiting for the answer to `step`."""
    conv = await _stored(session, telegram_user_id, chat_id, invite_id, now)
    if conv is None or conv.step != step:
        return Refused.STALE
    union = await session.get(Union, int(conv.data["union_id"]))
    if union is None:
        return Refused.STALE
    return union, dict(conv.data)


async def cancel_joining(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, invite_id: int, now: datetime
) -> JoinEnded | Refused:
    if await _stored(session, telegram_user_id, chat_id, invite_id, now) is None:
        return Refused.STALE
    await _end(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
    return JoinEnded.CANCELLED


async def choose_comune(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    invite_id: int,
    municipality_id: int,
    now: datetime,
) -> JoinStep | AssignmentRefused | Refused:
    """Their Comune (0: none, Union staff — only while no role is fixed)."""
    found = await _at_step(session, COMUNE_STEP, telegram_user_id, chat_id, invite_id, now)
    if isinstance(found, Refused):
        return found
    union, state = found
    if municipality_id == 0:
        if state.get("invite_role"):
            return Refused.STALE
        state["municipality_id"] = None
    else:
        mun = await reg_repo.municipality_in_union(
            session, union_id=union.id, municipality_id=municipality_id
        )
        if mun is None:
            return Refused.COMUNE_GONE
        taken = state.get("invite_role") == Role.SINDACO.value
        if taken and await _sindaco_taken(session, union.id, mun.id):
            return AssignmentRefused(AssignmentProblem.SINDACO_TAKEN, mun.name)
        state["municipality_id"] = mun.id
    await _save(session, telegram_user_id=telegram_user_id, chat_id=chat_id, state=state, now=now)
    return await _step(session, union.id, state, next_step(state))


async def choose_role(
    session: AsyncSession,
    *,
    profile: Profile,
    chat_id: int,
    invite_id: int,
    role: Role,
    form: Form,
    now: datetime,
    default_language: str,
) -> JoinRequested | JoinStepAgain | AlreadyIn | JoinEnded | AssignmentRefused | Refused:
    """The last answer: their role in their form («Sindaca», «Funzionario tecnico»; for Union
    staff only the form). The request goes to the coordinators at once."""
    user_id = profile.telegram_user_id
    found = await _at_step(session, ROLE_STEP, user_id, chat_id, invite_id, now)
    if isinstance(found, Refused):
        return found
    union, state = found
    if role not in role_choices(state):
        return Refused.STALE
    mun_id = state.get("municipality_id")
    if role == Role.SINDACO and await _sindaco_taken(session, union.id, int(mun_id or 0)):
        mun = await session.get(Municipality, int(mun_id or 0))
        return AssignmentRefused(AssignmentProblem.SINDACO_TAKEN, mun.name if mun else "")
    state["role"], state["form"] = role.value, form.value
    return await _submit(
        session, profile, chat_id, union, state, now=now, default_language=default_language
    )


async def type_answer(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    step: str,
    state: JoinState,
    text: str,
    now: datetime,
) -> JoinStepAgain | InviteProblem:
    """Text typed during the dialogue: the name they want in the team (Telegram's stands
    otherwise), then the same question again, to answer with its buttons."""
    union = await session.get(Union, int(state.get("union_id", 0)))
    if union is None:
        await _end(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
        return InviteProblem(None)
    asked = await _step(session, union.id, state, step)
    if _answers_the_question(asked, text):
        return JoinStepAgain(asked)  # a button's words typed: the nudge, not a name
    name, problem = rules.check_display_name(text)
    if problem is not None:
        return JoinStepAgain(asked, problem)
    state = {**state, "name": name}
    await _save(session, telegram_user_id=telegram_user_id, chat_id=chat_id, state=state, now=now)
    return JoinStepAgain(await _step(session, union.id, state, step), renamed=True)


# Words someone may type instead of pressing the role's button (Italian and English).
_ROLE_WORDS = frozenset(
    rules.fold_name(w)
    for w in [
        "sindaco",
        "sindaca",
        "assessore",
        "assessora",
        "tecnico",
        "tecnica",
        "funzionario",
        "funzionaria",
        "mayor",
        "councillor",
        "technician",
        "staff",
    ]
) | {rules.fold_name("funzionario tecnico"), rules.fold_name("funzionaria tecnica")}


def _answers_the_question(step: JoinStep, text: str) -> bool:
    """Typed text that is an answer to the question (a Comune's name, a role), not a name."""
    folded = rules.fold_name(text)
    if step.step == COMUNE_STEP:
        return folded in {rules.fold_name(name) for _id, name in step.comuni}
    return folded in _ROLE_WORDS


async def _submit(
    session: AsyncSession,
    profile: Profile,
    chat_id: int,
    union: Union,
    state: JoinState,
    *,
    now: datetime,
    default_language: str,
) -> JoinRequested | JoinStepAgain | AlreadyIn | JoinEnded:
    """The request: checked again, the invite's use counted atomically, the coordinators told.
    A Comune gone or a role no longer free asks that question again (the dialogue goes on)."""
    user_id = profile.telegram_user_id
    person = await person_for(session, profile, now=now)
    existing = await reg_repo.membership(session, union_id=union.id, person_id=person.id)
    if existing is not None and rules.holds_a_place(existing.status):
        await _end(session, telegram_user_id=user_id, chat_id=chat_id)
        return AlreadyIn(existing.status == MemberStatus.ACTIVE, union.name)
    again = await _recheck(session, union, state)
    if again is not None:
        await _save(session, telegram_user_id=user_id, chat_id=chat_id, state=state, now=now)
        return again
    mun_ids = [int(state["municipality_id"])] if state.get("municipality_id") else []
    invite_id = int(state["invite_id"])
    if not await reg_repo.redeem_invite(session, invite_id=invite_id, now=now):
        await _end(session, telegram_user_id=user_id, chat_id=chat_id)
        return JoinEnded.INVITE_CLOSED
    person.display_name = str(state["name"])
    person.form = Form(str(state["form"]))
    member = await request_membership(
        session,
        union_id=union.id,
        person_id=person.id,
        role=Role(str(state["role"])),
        municipality_ids=mun_ids,
        invite_id=invite_id,
        now=now,
    )
    await _tell_coordinators(session, union, person, member, mun_ids, now, default_language)
    await _end(session, telegram_user_id=user_id, chat_id=chat_id)
    return JoinRequested(union.name)


async def _recheck(session: AsyncSession, union: Union, state: JoinState) -> JoinStepAgain | None:
    """The answers again, at the moment of the request; `state` goes back to the question to
    answer again."""
    role = Role(str(state["role"]))
    mun_ids = [int(state["municipality_id"])] if state.get("municipality_id") else []
    for mid in mun_ids:
        if (
            await reg_repo.municipality_in_union(session, union_id=union.id, municipality_id=mid)
            is None
        ):
            state.pop("municipality_id", None)
            return JoinStepAgain(
                await _step(session, union.id, state, COMUNE_STEP), Refused.COMUNE_GONE
            )
    sindaci = await reg_repo.sindaco_by_municipality(
        session, union_id=union.id, municipality_ids=mun_ids
    )
    problem = rules.check_assignment(
        role=role, municipality_ids=mun_ids, sindaco_by_municipality=sindaci, member_id=None
    )
    if problem is None:
        return None
    mun = await session.get(Municipality, mun_ids[0]) if mun_ids else None
    state["role"] = state["form"] = None
    refused = AssignmentRefused(problem, mun.name if mun else None)
    return JoinStepAgain(await _step(session, union.id, state, ROLE_STEP), refused)


async def request_membership(
    session: AsyncSession,
    *,
    union_id: int,
    person_id: int,
    role: Role,
    municipality_ids: list[int],
    invite_id: int,
    now: datetime,
) -> Member:
    """A pending membership. A person has one membership row per Union, so someone rejected,
    removed or gone who asks again reopens theirs: the role and Comuni asked now, pending, not
    a coordinator, the old decision forgotten (what they did before keeps pointing at it)."""
    member = await reg_repo.membership(session, union_id=union_id, person_id=person_id)
    if member is None:
        member = reg_repo.new_membership(session, union_id=union_id, person_id=person_id)
    member.role = role
    member.status = MemberStatus.PENDING
    member.is_coordinator = False
    member.invite_id = invite_id
    member.requested_at = now
    member.decided_at = None
    member.decided_by_member_id = None
    await session.flush()  # a new row gets its id
    await reg_repo.set_municipalities(
        session, member_id=member.id, municipality_ids=municipality_ids
    )
    return member


async def _tell_coordinators(
    session: AsyncSession,
    union: Union,
    person: Person,
    member: Member,
    mun_ids: Sequence[int],
    now: datetime,
    default_language: str,
) -> None:
    """Each coordinator gets the request in their language, with Approve and Reject."""
    names = []
    for mid in mun_ids:
        mun = await session.get(Municipality, mid)
        if mun is not None:
            names.append(mun.name)
    request = Request(
        member.id,
        union.name,
        shown_name(person),
        person.username,
        tuple(names),
        member.role,
        person.form,
    )
    stamp = int(member.requested_at.timestamp())
    for coordinator, coord_person in await core_repo.coordinators(session, union.id):
        await tell(
            session,
            coord_person,
            key=f"reg:req:{member.id}:{stamp}:{coordinator.id}",
            text=partial(render_request, request),
            keyboard=partial(approval_keyboard, member.id),
            union_id=union.id,
            now=now,
            default_language=default_language,
            names=[person.id],
        )
