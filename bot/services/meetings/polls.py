"""A poll as plain data (read in one place), where its messages go, and where they landed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, pick_language, translator
from bot.services.meetings.rules import (
    SlotTally,
    Voter,
    best_slot,
    sits_at,
    table_kinds,
    tally,
    who_is_missing,
)
from bot.views.keyboard import to_dict
from bot.views.meetings import CopyView, PollView, SlotView, render_poll
from storage.models import (
    Answer,
    LinkedChat,
    Meeting,
    MeetingPoll,
    Member,
    MemberStatus,
    OutboxMessage,
    Person,
    PollTable,
    Role,
    Union,
)
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo
from storage.repositories import outbox as outbox_repo
from storage.repositories.meetings import TableMember

logger = logging.getLogger(__name__)


def person_translator(
    language: str | None, telegram_language: str | None, default: str
) -> Translator:
    """A stored person's translator: their chosen language, their Telegram one, `default`."""
    return translator(
        pick_language(chosen=language, telegram_code=telegram_language, default=default)
    )


def table_members(members: list[TableMember], table: PollTable) -> dict[int, TableMember]:
    return {
        m.member_id: m
        for m in members
        if sits_at(table, role=Role(m.role), is_coordinator=m.is_coordinator)
    }


def best_of(view: PollView) -> SlotView | None:
    """The date the poll would choose now (rules.best_slot: the coverage rule)."""
    # load_poll_view counted every date with rules.tally: the view types it by what it shows.
    choice = best_slot([cast(SlotTally, s.tally) for s in view.slots])
    if choice is None:
        return None
    return next(s for s in view.slots if s.slot.id == choice.slot_id)


async def load_poll_view(session: AsyncSession, poll_id: int) -> PollView | None:
    poll = await session.get(MeetingPoll, poll_id)
    if poll is None:
        return None
    union = await session.get(Union, poll.union_id)
    if union is None:
        return None
    slots = await repo.slots_of(session, poll.id)
    votes = await repo.votes_of(session, poll.id)
    voters = table_members(await repo.active_members(session, union.id), poll.table)
    comuni = await core_repo.municipality_names(session, union.id)
    plain = {
        mid: Voter(
            member_id=mid,
            municipality_ids=tuple(c for c in m.municipality_ids if c in comuni),
        )
        for mid, m in voters.items()
    }
    answers = {(v.slot_id, v.member_id): v.answer for v in votes if v.member_id in voters}
    views = []
    for slot in slots:
        slot_answers = {mid: a for (sid, mid), a in answers.items() if sid == slot.id}
        names: dict[Answer, list[str]] = {a: [] for a in Answer}
        for mid, answer in slot_answers.items():
            names[answer].append(voters[mid].name)
        views.append(
            SlotView(
                slot=slot,
                tally=tally(
                    slot_id=slot.id, starts_at=slot.starts_at, answers=slot_answers, voters=plain
                ),
                names={a: sorted(n) for a, n in names.items()},
            )
        )
    answered = {mid for (_sid, mid) in answers}
    missing, no_comune = who_is_missing(voters=plain, answered=answered)
    by_comune = [
        (
            comuni.get(m.municipality_id, "?"),
            m.represented,
            sorted(voters[mid].name for mid in m.missing_member_ids),
        )
        for m in missing
    ]
    chosen = next((s for s in views if s.slot.id == poll.chosen_slot_id), None)
    return PollView(
        poll=poll,
        union=union,
        tz=ZoneInfo(union.timezone),
        slots=views,
        voters=voters,
        answered=answered,
        answers=answers,
        comuni=comuni,
        chosen=chosen,
        missing_by_comune=sorted(by_comune),
        missing_without_comune=sorted(voters[mid].name for mid in no_comune),
    )


async def copy_view(
    session: AsyncSession,
    *,
    poll_id: int,
    member_id: int,
    default_language: str,
    reminder: bool = False,
) -> CopyView | None:
    """One member's private copy of a poll: their answers date by date, in their language.
    None when the poll is gone, or the member is no longer active at its table (a copy of
    theirs then shows nothing new)."""
    poll = await session.get(MeetingPoll, poll_id)
    member = await session.get(Member, member_id)
    if (
        poll is None
        or member is None
        or member.union_id != poll.union_id
        or member.status != MemberStatus.ACTIVE
        or not sits_at(poll.table, role=member.role, is_coordinator=member.is_coordinator)
    ):
        return None
    person = await session.get(Person, member.person_id)
    union = await session.get(Union, poll.union_id)
    if person is None or union is None:
        return None
    answers = await repo.answers_of_member(session, poll_id=poll.id, member_id=member.id)
    tr = person_translator(person.language, person.telegram_language, default_language)
    return CopyView(
        poll_id=poll.id,
        title=poll.title,
        table=poll.table,
        status=poll.status,
        deadline_at=poll.deadline_at,
        tz=ZoneInfo(union.timezone),
        answers=tuple(answers),
        language=tr.language,
        chosen_at=next((at for sid, at, _a in answers if sid == poll.chosen_slot_id), None),
        reminder=reminder,
    )


async def shown_on(
    session: AsyncSession, *, poll_id: int, member_id: int | None, default_language: str
) -> PollView | CopyView | None:
    """What a message of the poll shows now (bot.message_refresh renders it at edit time): the
    grid in a group (`member_id` None), a member's copy in private. None: nothing to show."""
    if member_id is None:
        return await load_poll_view(session, poll_id)
    return await copy_view(
        session, poll_id=poll_id, member_id=member_id, default_language=default_language
    )


async def table_chats(
    session: AsyncSession, *, union_id: int, table: PollTable
) -> list[LinkedChat]:
    """The linked groups where a poll for this table is posted (one chat once)."""
    chats: list[LinkedChat] = []
    for kind in table_kinds(table):
        link = await core_repo.linked_chat(session, union_id=union_id, table=kind)
        if link is not None and all(c.chat_id != link.chat_id for c in chats):
            chats.append(link)
    return chats


async def enqueue_poll_posts(
    session: AsyncSession, *, poll: MeetingPoll, now: datetime, language: str
) -> list[str]:
    """Queue the poll message for its table's group(s). Returns the group titles."""
    view = await load_poll_view(session, poll.id)
    if view is None:
        return []
    text, keyboard = render_poll(view, translator(language))
    chats = await table_chats(session, union_id=poll.union_id, table=poll.table)
    for link in chats:
        await outbox_repo.enqueue(
            session,
            dedup_key=f"poll:{poll.id}:{link.chat_id}",
            chat_id=link.chat_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
            union_id=poll.union_id,
            now=now,
        )
    return [link.title for link in chats]


async def on_poll_message_sent(session: AsyncSession, row: OutboxMessage) -> None:
    """Sent listener for `poll:<poll id>:<chat id>`: remember where the poll landed."""
    parts = row.dedup_key.split(":")
    if len(parts) < 3 or not parts[1].isdigit() or row.message_id is None:
        return
    poll_id = int(parts[1])
    await repo.add_poll_message(
        session, poll_id=poll_id, chat_id=row.chat_id, message_id=row.message_id
    )
    if await repo.votes_of(session, poll_id):  # votes arrived while it was being sent
        await repo.mark_dirty(session, poll_id=poll_id, now=row.sent_at or row.created_at)


async def on_reminder_sent(session: AsyncSession, row: OutboxMessage) -> None:
    """Sent listener for `pollrem:<poll>:<deadline>:<member>`: a reminder is the member's
    private copy of the poll, and follows their answers from now on."""
    parts = row.dedup_key.split(":")
    if len(parts) < 4 or not (parts[1].isdigit() and parts[3].isdigit()) or not row.message_id:
        return
    await repo.replace_copy(
        session,
        poll_id=int(parts[1]),
        member_id=int(parts[3]),
        chat_id=row.chat_id,
        message_id=row.message_id,
    )


async def poll_union_id(session: AsyncSession, poll_id: int | None) -> int | None:
    """The Union of a poll (None when it does not exist): for the chat check of its buttons."""
    poll = await session.get(MeetingPoll, poll_id) if poll_id is not None else None
    return poll.union_id if poll is not None else None


@dataclass(frozen=True)
class MeetingsAhead:
    """/riunioni: the Union's meetings ahead and its open polls."""

    meetings: list[Meeting]
    polls: list[MeetingPoll]


async def meetings_ahead(session: AsyncSession, *, union_id: int, now: datetime) -> MeetingsAhead:
    meetings = await repo.upcoming_meetings(session, union_id=union_id, now=now)
    polls = [p for p in await repo.open_polls(session) if p.union_id == union_id]
    return MeetingsAhead(meetings=meetings, polls=polls)
