"""Notes from the technical group: a reply to the round's announcement, or a message tagged
#aggiornamento where the coordinator switched that on. A note is kept for each of the writer's
Comuni (the Union's own for staff with none) and read by the mayors in the next summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import repeats
from storage.models import MemberStatus, TableKind, Union, UpdateSource
from storage.repositories import actions as repo
from storage.repositories import core as core_repo

HASHTAG = "#aggiornamento"
MAX_NOTE = 4000


@dataclass(frozen=True)
class NotePlace:
    """Where a group message would be a note: the Union, its round if it replies to the round's
    announcement, and how it came."""

    union_id: int
    round_id: int | None
    source: UpdateSource


async def note_place(
    session: AsyncSession, *, chat_id: int, reply_to_message_id: int | None, tagged: bool
) -> NotePlace | None:
    """Whether a group message is a note at all (read only: most group messages are not)."""
    round_ = (
        await repo.round_by_announcement(session, chat_id=chat_id, message_id=reply_to_message_id)
        if reply_to_message_id is not None
        else None
    )
    links = await core_repo.links_of_chat(session, chat_id)
    link = next((lk for lk in links if lk.table_kind == TableKind.TECHNICAL), None)
    if round_ is not None:
        return NotePlace(round_.union_id, round_.id, UpdateSource.GROUP_REPLY)
    if tagged and link is not None and link.hashtag_capture:
        return NotePlace(link.union_id, None, UpdateSource.HASHTAG)
    return None


@dataclass(frozen=True)
class NoteRecorded:
    comuni: list[str]  # the writer's Comuni (none: the Union's own note)
    language: str | None
    telegram_language: str | None


@dataclass(frozen=True)
class NoteRepeated:
    """The same note again (bot.services.repeats): the first one's time."""

    first_at: datetime
    timezone: str
    language: str | None
    telegram_language: str | None


async def record_note(
    session: AsyncSession,
    *,
    place: NotePlace,
    telegram_user_id: int,
    text: str,
    chat_id: int,
    message_id: int,
    now: datetime,
) -> NoteRecorded | NoteRepeated | None:
    """Keep a group message as a note of its writer's Comuni. None (and nothing said) when the
    writer is not an active member of that Union."""
    member = await core_repo.member_of(
        session, union_id=place.union_id, telegram_user_id=telegram_user_id
    )
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        return None
    language = person.language if person else None
    telegram_language = person.telegram_language if person else None
    round_id = place.round_id
    if round_id is None:
        current = await repo.current_round(session, union_id=place.union_id, now=now)
        round_id = current.id if current else None
    ids = await core_repo.municipality_ids_of(session, member.id)
    names = await core_repo.municipality_names(session, place.union_id, include_archived=True)
    targets: list[int | None] = list(ids) or [None]
    earlier = repeats.find_repeat(
        (
            (n, n.text, n.created_at)
            for n in await repo.recent_notes_by(
                session,
                union_id=place.union_id,
                municipality_id=targets[0],
                member_id=member.id,
                since=repeats.repeat_since(now),
            )
        ),
        text=text[:MAX_NOTE],
        now=now,
    )
    if earlier is not None:
        union = await session.get(Union, place.union_id)
        if union is not None:
            return NoteRepeated(earlier.created_at, union.timezone, language, telegram_language)
    for municipality_id in targets:
        await repo.add_note(
            session,
            union_id=place.union_id,
            round_id=round_id,
            member_id=member.id,
            municipality_id=municipality_id,
            source=place.source,
            text=text[:MAX_NOTE],
            chat_id=chat_id,
            message_id=message_id,
            now=now,
        )
    return NoteRecorded([names.get(i, "?") for i in ids], language, telegram_language)
