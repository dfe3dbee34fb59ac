"""/team: the roster; and what the coordinator changes on a member card (role, Comuni,
coordinator, removal). Every change is checked by the rules again, from the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.common.owing import owe_menu
from bot.services.meetings import continuity
from bot.services.registration import rules
from bot.services.registration.access import Managed, coordinated_member, coordinated_union
from bot.services.registration.telling import tell
from bot.views.registration.refusals import AssignmentRefused, Refused
from bot.views.registration.team import (
    CardNote,
    ComuneForRole,
    ComuneMenu,
    MemberCard,
    MemberRemovalAsked,
    MemberRemoved,
    MemberShown,
    RoleMenu,
    Roster,
    RosterEntry,
    now_coordinator_message,
    removed_message,
)
from storage.models import Member, MemberStatus, Municipality, Person, Role, TableKind, Union
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo
from storage.repositories.people import present_name, shown_name

# --- the roster -------------------------------------------------------------------------------


async def roster(session: AsyncSession, union: Union, *, manage: bool, now: datetime) -> Roster:
    """Who is in the team, Comune by Comune; `manage`: with the requests waiting, for the
    coordinator's buttons. An archived Comune still shows while someone stands for it."""
    statuses = (MemberStatus.ACTIVE, MemberStatus.PENDING) if manage else (MemberStatus.ACTIVE,)
    rows = await reg_repo.roster(session, union_id=union.id, statuses=statuses)
    active = [r for r in rows if r.member.status == MemberStatus.ACTIVE]
    used = {mid for r in active for mid in r.municipality_ids}
    muns = [
        m
        for m in await core_repo.municipalities(session, union.id, include_archived=True)
        if m.archived_at is None or m.id in used
    ]
    entries = [
        RosterEntry(
            member_id=r.member.id,
            name=present_name(r.person),
            role=r.member.role,
            is_coordinator=r.member.is_coordinator,
            reachable=r.person.reachable,
            municipality_ids=r.municipality_ids,
            form=r.person.form,
        )
        for r in active
    ]
    groups = rules.group_roster(
        entries,
        [(m.id, m.name) for m in muns],
        archived=[m.id for m in muns if m.archived_at is not None],
    )
    links = []
    for table in (TableKind.POLITICAL, TableKind.TECHNICAL):
        link = await core_repo.linked_chat(session, union_id=union.id, table=table)
        if link is not None:
            links.append((table, link.title))
    people = sorted(((e.member_id, e.name) for e in entries), key=lambda p: rules.fold_name(p[1]))
    return Roster(
        union_id=union.id,
        union_name=union.name,
        entries=tuple(entries),
        groups=tuple(groups),
        links=tuple(links),
        manage=manage,
        pending=tuple(
            (r.member.id, present_name(r.person))
            for r in rows
            if r.member.status == MemberStatus.PENDING
        ),
        people=tuple(people),
        attendance=await continuity.recent_records(session, union_id=union.id, now=now),
    )


async def show_team(
    session: AsyncSession, *, union_id: int, member_id: int, private: bool, now: datetime
) -> Roster | Refused:
    """/team for a member of the Union (bot.scope.resolve_union found them): its coordinator,
    in private, gets the buttons that manage it."""
    union = await session.get(Union, union_id)
    member = await session.get(Member, member_id)
    if union is None or member is None:
        return Refused.STALE
    return await roster(session, union, manage=private and member.is_coordinator, now=now)


async def list_team(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, now: datetime
) -> Roster | Refused:
    """Back to the roster from a member card: the coordinator's, with its buttons."""
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    return await roster(session, found.union, manage=True, now=now)


# --- member cards -----------------------------------------------------------------------------


async def _card(session: AsyncSession, managed: Managed) -> MemberCard:
    member, person = managed.member, managed.person
    mun_ids = await core_repo.municipality_ids_of(session, member.id)
    muns = await core_repo.municipalities(session, managed.union.id, include_archived=True)
    return MemberCard(
        member_id=member.id,
        union_id=managed.union.id,
        union_name=managed.union.name,
        name=shown_name(person),
        username=person.username,
        role=member.role,
        comuni=tuple(m.name for m in muns if m.id in mun_ids),
        is_coordinator=member.is_coordinator,
        reachable=person.reachable,
        status=member.status,
        form=person.form,
    )


async def _active(
    session: AsyncSession, member_id: int, telegram_user_id: int
) -> Managed | MemberShown | Refused:
    """The member to change; no longer active: their card again, saying so."""
    managed = await coordinated_member(
        session, member_id=member_id, telegram_user_id=telegram_user_id
    )
    if isinstance(managed, Refused) or managed.member.status == MemberStatus.ACTIVE:
        return managed
    return MemberShown(await _card(session, managed), CardNote.NOT_ACTIVE)


async def show_member(
    session: AsyncSession, *, member_id: int, telegram_user_id: int
) -> MemberShown | Refused:
    managed = await coordinated_member(
        session, member_id=member_id, telegram_user_id=telegram_user_id
    )
    if isinstance(managed, Refused):
        return managed
    return MemberShown(await _card(session, managed))


async def role_menu(
    session: AsyncSession, *, member_id: int, telegram_user_id: int
) -> RoleMenu | MemberShown | Refused:
    managed = await _active(session, member_id, telegram_user_id)
    if not isinstance(managed, Managed):
        return managed
    roles = (*rules.JOINABLE_ROLES, Role.STAFF)
    return RoleMenu(member_id, shown_name(managed.person), roles)


async def _active_comuni(session: AsyncSession, managed: Managed) -> list[Municipality]:
    return await core_repo.municipalities(session, managed.union.id)


async def set_role(
    session: AsyncSession,
    *,
    member_id: int,
    role: Role,
    municipality_id: int | None,
    telegram_user_id: int,
    now: datetime,
) -> MemberShown | ComuneForRole | AssignmentRefused | Refused:
    """A new role, in `municipality_id` when given. Otherwise the Comuni stay when they fit the
    role (a technician keeps theirs; a Sindaco or an Assessore their one); staff has none; a
    role that needs one Comune asks which. A new role owes the member's menu."""
    managed = await _active(session, member_id, telegram_user_id)
    if not isinstance(managed, Managed):
        return managed
    muns = await _active_comuni(session, managed)
    current = await core_repo.municipality_ids_of(session, member_id)
    if municipality_id is not None:
        if municipality_id not in {m.id for m in muns}:
            return Refused.STALE
        target = [municipality_id]
    elif role == Role.STAFF:
        target = []
    elif (role == Role.TECNICO and current) or (len(current) == 1 and role != Role.TECNICO):
        target = list(current)
    elif not muns:
        return Refused.NEEDS_COMUNI
    else:
        return ComuneForRole(member_id, role, tuple((m.id, m.name) for m in muns))
    before = managed.member.role
    outcome = await _assign(session, managed, role, target)
    if isinstance(outcome, MemberShown) and role != before:
        await owe_menu(session, telegram_user_id=managed.person.telegram_user_id, now=now)
    return outcome


async def comune_menu(
    session: AsyncSession, *, member_id: int, telegram_user_id: int
) -> ComuneMenu | MemberShown | Refused:
    managed = await _active(session, member_id, telegram_user_id)
    if not isinstance(managed, Managed):
        return managed
    return await _comune_menu(session, managed)


async def _comune_menu(
    session: AsyncSession, managed: Managed, note: CardNote | None = None
) -> ComuneMenu | Refused:
    if managed.member.role == Role.STAFF:
        return Refused.STALE
    muns = await _active_comuni(session, managed)
    current = await core_repo.municipality_ids_of(session, managed.member.id)
    return ComuneMenu(
        managed.member.id,
        shown_name(managed.person),
        managed.member.role,
        tuple((m.id, m.name) for m in muns),
        frozenset(current),
        note,
    )


async def set_comune(
    session: AsyncSession, *, member_id: int, municipality_id: int, telegram_user_id: int
) -> ComuneMenu | MemberShown | AssignmentRefused | Refused:
    """A technician's Comune ticked or unticked (the list stays, to tick several in a row);
    the one Comune of a Sindaco or an Assessore chosen."""
    managed = await _active(session, member_id, telegram_user_id)
    if not isinstance(managed, Managed):
        return managed
    if municipality_id not in {m.id for m in await _active_comuni(session, managed)}:
        return Refused.STALE
    role = managed.member.role
    current = await core_repo.municipality_ids_of(session, member_id)
    if role != Role.TECNICO:
        return await _assign(session, managed, role, [municipality_id])
    if municipality_id in current:
        target = [m for m in current if m != municipality_id]
    else:
        target = [*current, municipality_id]
    outcome = await _assign(session, managed, role, target)
    if not isinstance(outcome, MemberShown):
        return outcome
    return await _comune_menu(session, managed, CardNote.DONE)


async def _assign(
    session: AsyncSession, managed: Managed, role: Role, municipality_ids: list[int]
) -> MemberShown | AssignmentRefused:
    member = managed.member
    sindaci = await reg_repo.sindaco_by_municipality(
        session, union_id=managed.union.id, municipality_ids=municipality_ids
    )
    problem = rules.check_assignment(
        role=role,
        municipality_ids=municipality_ids,
        sindaco_by_municipality=sindaci,
        member_id=member.id,
    )
    if problem is not None:
        mun = await session.get(Municipality, municipality_ids[0]) if municipality_ids else None
        return AssignmentRefused(problem, mun.name if mun else None)
    member.role = role
    await reg_repo.set_municipalities(
        session, member_id=member.id, municipality_ids=municipality_ids
    )
    return MemberShown(await _card(session, managed), CardNote.DONE)


async def _keeps_a_coordinator(session: AsyncSession, member: Member) -> bool:
    """A Union always keeps at least one coordinator: may this member stop being one?"""
    if not member.is_coordinator:
        return True
    ids = await reg_repo.coordinator_ids(session, member.union_id)
    return rules.can_drop_coordinator(coordinator_ids=ids, member_id=member.id)


async def set_coordinator(
    session: AsyncSession,
    *,
    member_id: int,
    coordinator: bool,
    telegram_user_id: int,
    now: datetime,
    default_language: str,
) -> MemberShown | Refused:
    """Make a member coordinator (they are told), or no longer — never the last one."""
    managed = await _active(session, member_id, telegram_user_id)
    if not isinstance(managed, Managed):
        return managed
    member, person = managed.member, managed.person
    if not coordinator:
        if not await _keeps_a_coordinator(session, member):
            return Refused.LAST_COORDINATOR
        member.is_coordinator = False
        await owe_menu(session, telegram_user_id=person.telegram_user_id, now=now)
        return MemberShown(await _card(session, managed), CardNote.NO_LONGER_COORDINATOR)
    member.is_coordinator = True
    await owe_menu(session, telegram_user_id=person.telegram_user_id, now=now)
    await tell(
        session,
        person,
        key=f"reg:coord:{member.id}:{int(now.timestamp())}",
        text=lambda tr: now_coordinator_message(managed.union.name, person.form, tr),
        union_id=managed.union.id,
        now=now,
        default_language=default_language,
    )
    return MemberShown(await _card(session, managed), CardNote.NOW_COORDINATOR)


async def ask_member_removal(
    session: AsyncSession, *, member_id: int, telegram_user_id: int
) -> MemberRemovalAsked | MemberShown | Refused:
    managed = await _active(session, member_id, telegram_user_id)
    if not isinstance(managed, Managed):
        return managed
    return MemberRemovalAsked(member_id, shown_name(managed.person), managed.union.name)


async def remove_member(
    session: AsyncSession,
    *,
    member_id: int,
    telegram_user_id: int,
    now: datetime,
    default_language: str,
) -> MemberRemoved | MemberShown | Refused:
    """Out of the team (what they did stays in its history); told, unless they removed
    themselves. Never the last coordinator."""
    managed = await _active(session, member_id, telegram_user_id)
    if not isinstance(managed, Managed):
        return managed
    member, person = managed.member, managed.person
    if not await _keeps_a_coordinator(session, member):
        return Refused.LAST_COORDINATOR
    member.status = MemberStatus.REMOVED
    member.is_coordinator = False
    await owe_menu(session, telegram_user_id=person.telegram_user_id, now=now)
    member.decided_at, member.decided_by_member_id = now, managed.coordinator.id
    if member.id != managed.coordinator.id:  # who removes themselves needs no word of it
        by = shown_name(await session.get(Person, managed.coordinator.person_id))
        await tell(
            session,
            person,
            key=f"reg:rm:{member.id}:{int(now.timestamp())}",
            text=lambda tr: removed_message(managed.union.name, by, tr),
            union_id=managed.union.id,
            now=now,
            default_language=default_language,
        )
    return MemberRemoved(await roster(session, managed.union, manage=True, now=now))
