"""A meeting's calendar invitation (.ics), for the groups and for a member who asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, translator
from bot.services.ics import CalendarEvent, build_ics, looks_like_url
from bot.views.agenda import ItemView, agenda_plain
from bot.views.keyboard import Keyboard, to_dict
from bot.views.meetings import ics_description, ics_name, render_invite_caption
from storage.models import AgendaStatus, Meeting, Union
from storage.repositories import agenda as agenda_repo
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo

ICS_DOMAIN = "team-energia.bot"


def meeting_ics(
    meeting: Meeting,
    union: Union,
    tr: Translator,
    now: datetime,
    *,
    agenda: str | None = None,
    sequence: int = 0,
) -> bytes:
    """`agenda`: the agenda's items as text, once drafted (else the agenda typed in the poll)."""
    url = meeting.place if meeting.place and looks_like_url(meeting.place) else None
    event = CalendarEvent(
        uid=meeting.ics_uid,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        timezone=union.timezone,
        description=ics_description(union.name, agenda or meeting.agenda, tr),
        location=meeting.place,
        url=url,
        cancelled=meeting.cancelled_at is not None,
        sequence=sequence,
    )
    return build_ics(event, stamp=now)


@dataclass(frozen=True)
class Invite:
    file_name: str
    data: bytes
    caption: str


@dataclass(frozen=True)
class NoInvite:
    """Only members of the meeting's Union get its invitation (or the meeting is gone)."""


async def meeting_union_id(session: AsyncSession, meeting_id: int | None) -> int | None:
    """The Union of a meeting (None when it does not exist): for the chat check."""
    meeting = await session.get(Meeting, meeting_id) if meeting_id is not None else None
    return meeting.union_id if meeting is not None else None


async def meeting_invite(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Invite | NoInvite:
    """The .ics of a meeting for an active member of its Union, in the asker's language."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        return NoInvite()
    member = await core_repo.member_of(
        session, union_id=meeting.union_id, telegram_user_id=telegram_user_id
    )
    union = await session.get(Union, meeting.union_id)
    if member is None or union is None:
        return NoInvite()
    tr = translator(language)
    tz = ZoneInfo(union.timezone)
    return Invite(
        file_name=ics_name(meeting, tz),
        data=meeting_ics(meeting, union, tr, now, agenda=await _agenda_text(session, meeting)),
        caption=render_invite_caption(meeting, tz, tr),
    )


async def _agenda_text(session: AsyncSession, meeting: Meeting) -> str | None:
    """The agenda's items as the .ics description carries them (None before it is drafted)."""
    items = await agenda_repo.items_of(session, meeting.id, statuses=(AgendaStatus.ACCEPTED,))
    return agenda_plain([ItemView(i.id, i.source, i.text) for i in items]) or None


async def queue_with_invite(
    session: AsyncSession,
    *,
    meeting: Meeting,
    chat_ids: list[int],
    keys: tuple[str, str],
    text: str,
    keyboard: Keyboard | None,
    invite: bytes,
    caption: str,
    tz: ZoneInfo,
    now: datetime,
    expires_at: datetime | None = None,
) -> None:
    """A meeting's message to each of `chat_ids` with its .ics right under it (the announcement
    when the date is fixed, the convocation): outbox keys `<keys[0]>:<meeting>:<chat>` for the
    message and `<keys[1]>:<meeting>:<chat>` for the invite."""
    message_key, invite_key = keys
    for chat_id in chat_ids:
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{message_key}:{meeting.id}:{chat_id}",
            chat_id=chat_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
            union_id=meeting.union_id,
            now=now,
            expires_at=expires_at,
        )
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{invite_key}:{meeting.id}:{chat_id}",
            chat_id=chat_id,
            method="sendDocument",
            payload={"caption": caption},
            union_id=meeting.union_id,
            file_name=ics_name(meeting, tz),
            file_data=invite,
            now=now,
            expires_at=expires_at,
        )
