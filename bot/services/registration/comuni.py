"""/comuni: the coordinator adds (a comma-separated list in one message), renames and removes
the Comuni of their Union. Adding and renaming are private dialogues whose state is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.registration import rules
from bot.services.registration.access import (
    acting_coordinator,
    coordinated_comune,
    coordinated_union,
)
from bot.views.registration.comuni import (
    AddingComuni,
    ComuneRemoved,
    ComuneRenamed,
    ComuniAdded,
    ComuniList,
    ComuniUnchanged,
    RemovalAsked,
    RenameRefused,
    RenamingComune,
)
from bot.views.registration.refusals import Refused
from storage.models import Union
from storage.repositories import core as core_repo
from storage.repositories import registration as reg_repo

COMUNI_ADD_FLOW = "comuni_add"
COMUNI_RENAME_FLOW = "comuni_rename"


async def _listing(session: AsyncSession, union: Union) -> ComuniList:
    muns = await core_repo.municipalities(session, union.id)
    return ComuniList(union.id, union.name, tuple((m.id, m.name) for m in muns))


async def _ask_for_names(
    session: AsyncSession, union: Union, *, telegram_user_id: int, chat_id: int, now: datetime
) -> None:
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=COMUNI_ADD_FLOW,
        step="names",
        data={"union_id": union.id},
        now=now,
    )


async def open_comuni(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, chat_id: int, now: datetime
) -> ComuniList | AddingComuni | Refused:
    """/comuni: the list; when the Union has no Comune yet, straight to adding them."""
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    listing = await _listing(session, found.union)
    if listing.comuni:
        return listing
    await _ask_for_names(
        session, found.union, telegram_user_id=telegram_user_id, chat_id=chat_id, now=now
    )
    return AddingComuni(found.union.id, found.union.name, first=True)


async def start_adding(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, chat_id: int, now: datetime
) -> AddingComuni | Refused:
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    await _ask_for_names(
        session, found.union, telegram_user_id=telegram_user_id, chat_id=chat_id, now=now
    )
    return AddingComuni(found.union.id, found.union.name)


async def show_comuni(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, chat_id: int
) -> ComuniList | Refused:
    """The list again (back, or Cancel): an open dialogue about Comuni ends."""
    found = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(found, Refused):
        return found
    await core_repo.clear_conversation(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
    return await _listing(session, found.union)


async def start_renaming(
    session: AsyncSession,
    *,
    municipality_id: int,
    telegram_user_id: int,
    chat_id: int,
    now: datetime,
) -> RenamingComune | Refused:
    found = await coordinated_comune(
        session, municipality_id=municipality_id, telegram_user_id=telegram_user_id
    )
    if isinstance(found, Refused):
        return found
    mun, union = found
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=COMUNI_RENAME_FLOW,
        step="name",
        data={"union_id": union.id, "municipality_id": mun.id},
        now=now,
    )
    return RenamingComune(union.id, mun.name)


async def ask_comune_removal(
    session: AsyncSession, *, municipality_id: int, telegram_user_id: int
) -> RemovalAsked | Refused:
    found = await coordinated_comune(
        session, municipality_id=municipality_id, telegram_user_id=telegram_user_id
    )
    if isinstance(found, Refused):
        return found
    mun, union = found
    return RemovalAsked(mun.id, mun.name, union.id, union.name)


async def remove_comune(
    session: AsyncSession, *, municipality_id: int, telegram_user_id: int, now: datetime
) -> ComuneRemoved | Refused:
    """Deleted when nothing refers to it; otherwise archived, its history kept (its people
    stay in the team)."""
    found = await coordinated_comune(
        session, municipality_id=municipality_id, telegram_user_id=telegram_user_id
    )
    if isinstance(found, Refused):
        return found
    mun, union = found
    deleted = await reg_repo.remove_municipality(session, municipality=mun, now=now)
    return ComuneRemoved(deleted, await _listing(session, union))


async def add_comuni(
    session: AsyncSession,
    *,
    union_id: int,
    telegram_user_id: int,
    chat_id: int,
    text: str,
    now: datetime,
) -> ComuniAdded | ComuniUnchanged:
    """The names of one message, all added in one transaction (an archived Comune of the same
    name comes back). The dialogue ends once something was added."""
    union = await session.get(Union, union_id)
    if (
        union is None
        or await acting_coordinator(session, union_id=union_id, telegram_user_id=telegram_user_id)
        is None
    ):
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        return ComuniUnchanged.NOT_COORDINATOR
    if not text.strip():
        return ComuniUnchanged.NO_TEXT
    active = {m.name_key: m.name for m in await core_repo.municipalities(session, union_id)}
    plan = rules.plan_name_list(text, active)
    added = await reg_repo.add_municipalities(
        session, union_id=union_id, names=plan.to_add, now=now
    )
    listing = None
    if added:
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        listing = await _listing(session, union)
    return ComuniAdded(
        union_id=union_id,
        added=tuple(m.name for m in added),
        already_present=tuple(plan.already_present),
        repeated=tuple(plan.repeated),
        invalid=tuple(plan.invalid),
        listing=listing,
    )


async def rename_comune(
    session: AsyncSession,
    *,
    union_id: int,
    municipality_id: int,
    telegram_user_id: int,
    chat_id: int,
    text: str,
) -> ComuneRenamed | RenameRefused | ComuniUnchanged:
    """The new name of a Comune: refused when it will not do or is another Comune's (an
    archived one too: it may come back)."""
    union = await session.get(Union, union_id)
    mun = await reg_repo.municipality_in_union(
        session, union_id=union_id, municipality_id=municipality_id
    )
    if (
        union is None
        or mun is None
        or await acting_coordinator(session, union_id=union_id, telegram_user_id=telegram_user_id)
        is None
    ):
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        return ComuniUnchanged.CANNOT_RENAME
    name, problem = rules.check_municipality_name(text)
    if problem is not None:
        return RenameRefused(union_id, problem)
    key = rules.fold_name(name)
    others = await reg_repo.municipality_keys(session, union_id)
    if key in others and others[key].id != mun.id:
        return RenameRefused(union_id, None, taken_by=others[key].name)
    old = mun.name
    mun.name, mun.name_key = name, key
    await core_repo.clear_conversation(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
    return ComuneRenamed(old, name, await _listing(session, union))
