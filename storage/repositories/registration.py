"""Queries of registration: Unions, Comuni, invites, memberships, linked groups, erasure.

Never commits: the caller's transaction (one per update) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Base,
    Conversation,
    Invite,
    LinkedChat,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    OutboxMention,
    OutboxMessage,
    OutboxStatus,
    Person,
    PollMessage,
    Role,
    TableKind,
    Union,
)
from storage.repositories.outbox import key_starts_with

# --- Unions -----------------------------------------------------------------------------------


async def create_union(
    session: AsyncSession, *, name: str, creator: Person, now: datetime
) -> tuple[Union, Member]:
    """A new Union with its creator as active coordinator (Union staff until they say otherwise)."""
    union = Union(name=name, created_by_person_id=creator.id, created_at=now)
    session.add(union)
    await session.flush()
    member = Member(
        union_id=union.id,
        person_id=creator.id,
        role=Role.STAFF,
        status=MemberStatus.ACTIVE,
        is_coordinator=True,
        requested_at=now,
        decided_at=now,
    )
    session.add(member)
    await session.flush()
    return union, member


async def coordinated_unions(session: AsyncSession, *, telegram_user_id: int) -> list[Union]:
    rows = await session.execute(
        select(Union)
        .join(Member, Member.union_id == Union.id)
        .join(Person, Person.id == Member.person_id)
        .where(
            Person.telegram_user_id == telegram_user_id,
            Member.status == MemberStatus.ACTIVE,
            Member.is_coordinator.is_(True),
        )
        .order_by(Union.name, Union.id)
    )
    return list(rows.scalars())


async def is_coordinator(session: AsyncSession, *, union_id: int, telegram_user_id: int) -> bool:
    row = await session.execute(
        select(Member.id)
        .join(Person, Person.id == Member.person_id)
        .where(
            Member.union_id == union_id,
            Person.telegram_user_id == telegram_user_id,
            Member.status == MemberStatus.ACTIVE,
            Member.is_coordinator.is_(True),
        )
    )
    return row.first() is not None


# --- Comuni -----------------------------------------------------------------------------------


async def municipality_keys(session: AsyncSession, union_id: int) -> dict[str, Municipality]:
    """Every Comune of the Union (archived too) by folded name."""
    rows = await session.execute(select(Municipality).where(Municipality.union_id == union_id))
    return {m.name_key: m for m in rows.scalars()}


async def add_municipalities(
    session: AsyncSession, *, union_id: int, names: list[tuple[str, str]], now: datetime
) -> list[Municipality]:
    """Add (name, key) pairs; an archived Comune with the same key comes back instead."""
    known = await municipality_keys(session, union_id)
    added: list[Municipality] = []
    for name, key in names:
        existing = known.get(key)
        if existing is not None:
            if existing.archived_at is None:
                continue
            existing.archived_at = None
            existing.name = name
            added.append(existing)
            continue
        mun = Municipality(union_id=union_id, name=name, name_key=key, created_at=now)
        session.add(mun)
        known[key] = mun
        added.append(mun)
    await session.flush()
    return added


async def municipality_in_union(
    session: AsyncSession, *, union_id: int, municipality_id: int
) -> Municipality | None:
    """An active Comune of this Union (None for another Union's id or an archived one)."""
    mun = await session.get(Municipality, municipality_id)
    if mun is None or mun.union_id != union_id or mun.archived_at is not None:
        return None
    return mun


def _references_to(table_name: str) -> list[tuple[str, str]]:
    """(table, column) of every foreign key pointing at `table_name`, across all areas."""
    refs: list[tuple[str, str]] = []
    for table in Base.metadata.tables.values():
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name:
                refs.append((table.name, fk.parent.name))
    return refs


async def is_municipality_referenced(session: AsyncSession, municipality_id: int) -> bool:
    for table_name, column_name in _references_to("municipality"):
        table = Base.metadata.tables[table_name]
        row = await session.execute(
            select(func.count()).select_from(table).where(table.c[column_name] == municipality_id)
        )
        if row.scalar_one():
            return True
    return False


async def remove_municipality(
    session: AsyncSession, *, municipality: Municipality, now: datetime
) -> bool:
    """Delete it, or archive it when anything refers to it. True when deleted."""
    if await is_municipality_referenced(session, municipality.id):
        municipality.archived_at = now
        return False
    await session.delete(municipality)
    await session.flush()
    return True


# --- invites ----------------------------------------------------------------------------------


async def create_invite(
    session: AsyncSession,
    *,
    union_id: int,
    token_hash: str,
    municipality_id: int | None,
    role: Role | None,
    created_by_member_id: int,
    now: datetime,
    expires_at: datetime,
) -> Invite:
    invite = Invite(
        union_id=union_id,
        token_hash=token_hash,
        municipality_id=municipality_id,
        role=role,
        created_by_member_id=created_by_member_id,
        created_at=now,
        expires_at=expires_at,
        uses=0,
    )
    session.add(invite)
    await session.flush()
    return invite


async def invite_by_hash(session: AsyncSession, token_hash: str) -> Invite | None:
    return (
        await session.execute(select(Invite).where(Invite.token_hash == token_hash))
    ).scalar_one_or_none()


async def open_invites(session: AsyncSession, *, union_id: int, now: datetime) -> list[Invite]:
    rows = await session.execute(
        select(Invite)
        .where(Invite.union_id == union_id, Invite.revoked_at.is_(None), Invite.expires_at > now)
        .order_by(Invite.created_at, Invite.id)
    )
    return list(rows.scalars())


async def revoke_invite(
    session: AsyncSession, *, invite_id: int, union_id: int, now: datetime
) -> bool:
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.union_id == union_id, Invite.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def redeem_invite(session: AsyncSession, *, invite_id: int, now: datetime) -> bool:
    """Count one use, atomically, only while the invite is open. False if it no longer is."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.revoked_at.is_(None), Invite.expires_at > now)
        .values(uses=Invite.uses + 1)
    )
    return getattr(result, "rowcount", 0) == 1


# --- members ----------------------------------------------------------------------------------


async def membership(session: AsyncSession, *, union_id: int, person_id: int) -> Member | None:
    """The one membership row of a person in a Union, whatever its status."""
    return (
        await session.execute(
            select(Member).where(Member.union_id == union_id, Member.person_id == person_id)
        )
    ).scalar_one_or_none()


async def set_municipalities(
    session: AsyncSession, *, member_id: int, municipality_ids: list[int]
) -> None:
    await session.execute(
        delete(MemberMunicipality).where(MemberMunicipality.member_id == member_id)
    )
    for mid in dict.fromkeys(municipality_ids):
        session.add(MemberMunicipality(member_id=member_id, municipality_id=mid))
    await session.flush()


def new_membership(session: AsyncSession, *, union_id: int, person_id: int) -> Member:
    """A membership row of a person in a Union, added to the session; the caller fills it in
    (bot.services.registration.joining.request_membership: when one is opened or reopened)."""
    member = Member(union_id=union_id, person_id=person_id)
    session.add(member)
    return member


async def sindaco_by_municipality(
    session: AsyncSession, *, union_id: int, municipality_ids: list[int] | None = None
) -> dict[int, int]:
    """Comune id → member id of its active Sindaco."""
    stmt = (
        select(MemberMunicipality.municipality_id, Member.id)
        .join(Member, Member.id == MemberMunicipality.member_id)
        .where(
            Member.union_id == union_id,
            Member.status == MemberStatus.ACTIVE,
            Member.role == Role.SINDACO,
        )
    )
    if municipality_ids is not None:
        stmt = stmt.where(MemberMunicipality.municipality_id.in_(municipality_ids))
    rows = await session.execute(stmt)
    return {mid: member_id for mid, member_id in rows.all()}


async def member_with_person(session: AsyncSession, member_id: int) -> tuple[Member, Person] | None:
    row = (
        await session.execute(
            select(Member, Person)
            .join(Person, Person.id == Member.person_id)
            .where(Member.id == member_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def active_member_count(session: AsyncSession, union_id: int) -> int:
    row = await session.execute(
        select(func.count())
        .select_from(Member)
        .where(Member.union_id == union_id, Member.status == MemberStatus.ACTIVE)
    )
    return int(row.scalar_one())


async def coordinator_ids(session: AsyncSession, union_id: int) -> list[int]:
    rows = await session.execute(
        select(Member.id).where(
            Member.union_id == union_id,
            Member.status == MemberStatus.ACTIVE,
            Member.is_coordinator.is_(True),
        )
    )
    return list(rows.scalars())


@dataclass(frozen=True)
class RosterRow:
    member: Member
    person: Person
    municipality_ids: tuple[int, ...]


async def roster(
    session: AsyncSession,
    *,
    union_id: int,
    statuses: tuple[MemberStatus, ...] = (MemberStatus.ACTIVE,),
) -> list[RosterRow]:
    rows = list(
        (
            await session.execute(
                select(Member, Person)
                .join(Person, Person.id == Member.person_id)
                .where(Member.union_id == union_id, Member.status.in_(statuses))
                .order_by(Member.id)
            )
        ).all()
    )
    ids = [m.id for m, _p in rows]
    links: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for member_id, mid in (
            await session.execute(
                select(MemberMunicipality.member_id, MemberMunicipality.municipality_id).where(
                    MemberMunicipality.member_id.in_(ids)
                )
            )
        ).all():
            links[member_id].append(mid)
    return [
        RosterRow(member=m, person=p, municipality_ids=tuple(sorted(links[m.id]))) for m, p in rows
    ]


# --- linked groups ----------------------------------------------------------------------------


async def link_chat(
    session: AsyncSession,
    *,
    union_id: int,
    table: TableKind,
    chat_id: int,
    title: str,
    member_id: int,
    now: datetime,
) -> LinkedChat:
    """Link (or re-link) the Union's table to this chat: one chat per table per Union."""
    link = (
        await session.execute(
            select(LinkedChat).where(
                LinkedChat.union_id == union_id, LinkedChat.table_kind == table
            )
        )
    ).scalar_one_or_none()
    if link is None:
        link = LinkedChat(union_id=union_id, table_kind=table)
        session.add(link)
    link.chat_id, link.title = chat_id, title[:256]
    link.linked_by_member_id, link.linked_at = member_id, now
    await session.flush()
    return link


async def unlink_chat(session: AsyncSession, *, chat_id: int) -> list[LinkedChat]:
    """Drop every link to this chat (the bot left it); returns what was dropped."""
    links = list(
        (await session.execute(select(LinkedChat).where(LinkedChat.chat_id == chat_id))).scalars()
    )
    for link in links:
        await session.delete(link)
    await session.flush()
    return links


# --- erasure ---------------------------------------------------------------------------------

# Outbox rows whose text is about one member: the request to approve them.
_ABOUT_MEMBER_KEYS = ("reg:req:{member_id}:",)


async def erase_person(session: AsyncSession, *, person: Person, now: datetime) -> None:
    """/cancellami: the identity goes; the contributions stay, pointing at the anonymous row.

    Changed: the person row (name, Telegram id, username, languages, reachability cleared),
    their memberships (left, no longer coordinator), their dialogues and their private copies
    of polls (deleted: a copy's row holds their private chat's id), the outbox rows
    to them or about them (pending: withdrawn; already sent: text and address wiped), and the
    bot's own copies of texts that named them for someone else (`wipe_settled_copies`).
    Nothing else: a note, a vote, an update, a decision keeps its text and points at the member
    row, and every reader shows «ex membro» in their language for an erased person. Other
    people's texts that merely contain the same letters are theirs, and stay as they are.
    """
    telegram_user_id = person.telegram_user_id
    if telegram_user_id is not None:
        await session.execute(
            delete(Conversation).where(Conversation.telegram_user_id == telegram_user_id)
        )
    member_ids = list(
        (await session.execute(select(Member.id).where(Member.person_id == person.id))).scalars()
    )
    if member_ids:
        await session.execute(delete(PollMessage).where(PollMessage.member_id.in_(member_ids)))
    to_or_about: list[ColumnElement[bool]] = [OutboxMessage.person_id == person.id]
    if telegram_user_id is not None:
        to_or_about.append(OutboxMessage.chat_id == telegram_user_id)
    to_or_about += [
        key_starts_with(OutboxMessage.dedup_key, key.format(member_id=mid))
        for mid in member_ids
        for key in _ABOUT_MEMBER_KEYS
    ]
    await session.execute(
        delete(OutboxMessage).where(or_(*to_or_about), OutboxMessage.status == OutboxStatus.PENDING)
    )
    await session.execute(
        update(OutboxMessage).where(or_(*to_or_about)).values(payload=ERASED_PAYLOAD)
    )
    if telegram_user_id is not None:
        # Rows addressed to their private chat keep their status, not the address.
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.chat_id == telegram_user_id).values(chat_id=0)
        )
    await session.execute(
        update(Member)
        .where(
            Member.person_id == person.id,
            Member.status.in_([MemberStatus.ACTIVE, MemberStatus.PENDING]),
        )
        .values(status=MemberStatus.LEFT, is_coordinator=False, decided_at=now)
    )
    person.telegram_user_id = None
    person.display_name = None
    person.username = None
    person.language = None
    person.telegram_language = None
    person.reachable = False
    person.unreachable_reason = None
    person.unreachable_since = None
    person.erased_at = now
    await session.flush()
    await wipe_settled_copies(session)


# What is left of an outbox row's payload once its text named someone who left.
ERASED_PAYLOAD: dict[str, Any] = {"erased": True}
_SETTLED = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNCERTAIN)


def copy_to_wipe() -> list[ColumnElement[bool]]:
    """An OutboxMention of an erased person on a settled row: the conditions of
    `wipe_settled_copies` and of the tick's probe (storage.repositories.schedule)."""
    return [
        Person.id == OutboxMention.person_id,
        OutboxMessage.id == OutboxMention.outbox_id,
        Person.erased_at.is_not(None),
        OutboxMessage.status.in_(_SETTLED),
    ]


async def wipe_settled_copies(session: AsyncSession) -> int:
    """The bot's copies of sent texts that named someone who left: their payload wiped.

    An outbox row records the people its text names (OutboxMention). Once a named person is
    erased and the row is settled (sent, failed or uncertain), its text is replaced by
    ERASED_PAYLOAD and its mentions dropped. A row still pending is a message composed before
    they left: it is delivered as composed and wiped here at the next tick after it settles.
    Reads one indexed query when there is nothing to do. Returns the rows wiped.
    """
    rows = (await session.execute(select(OutboxMention.outbox_id).where(*copy_to_wipe()))).scalars()
    ids = sorted(set(rows))
    if not ids:
        return 0
    # A document's bytes too (the minutes' .odt and .pdf name those present).
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(payload=ERASED_PAYLOAD, file_data=None)
    )
    await session.execute(delete(OutboxMention).where(OutboxMention.outbox_id.in_(ids)))
    return len(ids)
