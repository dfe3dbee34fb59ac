"""/annuncio: an announcement to the team in place of the mailing list.

The coordinator writes it (`draft_announcement`: stored as a draft, or recognised as a retry of
one written moments ago), chooses the audience with buttons (`announcement_menu`), and it is
queued in the outbox once per person (`send_announcement`, dedup key `ann:<id>:<person>`: never
twice, whatever is pressed or redelivered), each in their language; or it is cancelled
(`cancel_announcement`). The sender gets a delivery report once every row is settled
(bot.services.announcements.reports).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import pick_language, translator
from bot.services import repeats
from bot.views.announcements import AnnouncementMenu, AnnouncementSending, announcement_body
from storage.models import Announcement, Member, Municipality, Union
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as repo

MAX_ANNOUNCEMENT = 3500  # leaves room for the heading within Telegram's 4096
AUDIENCES = ("all", "political", "technical")
CANCELLED = "cancelled"  # the audience of an announcement that was not sent


def text_problem(text: str) -> str | None:
    """`empty` or `too_long` for an announcement that cannot be drafted; None when it can."""
    if not text:
        return "empty"
    if len(text) > MAX_ANNOUNCEMENT:
        return "too_long"
    return None


@dataclass(frozen=True)
class Drafted:
    """The draft, its audience to be chosen (a retry of a draft shows the same draft, with the
    text as written this time)."""

    announcement_id: int
    union_name: str
    text: str


@dataclass(frozen=True)
class AlreadySent:
    """The same text, sent moments ago (bot.services.repeats): not sent a second time."""

    audience: str  # all | political | technical | comune
    comune: str | None
    created_at: datetime
    timezone: str


@dataclass(frozen=True)
class AnnouncementRefused:
    """`reason`: not_coordinator, already_sent (or cancelled), invalid (a forged audience)."""

    reason: str


async def draft_announcement(
    session: AsyncSession, *, member_id: int, text: str, now: datetime
) -> Drafted | AlreadySent | AnnouncementRefused:
    """Store the coordinator's announcement as a draft (`member_id` as found in this
    transaction). A retry of the same text moments later is the same announcement: still a
    draft, its menu is shown again; sent, it is not sent twice."""
    member = await session.get(Member, member_id)
    union = await session.get(Union, member.union_id) if member is not None else None
    if member is None or union is None or not member.is_coordinator:
        return AnnouncementRefused("not_coordinator")
    recent = await repo.recent_announcements_by(
        session, union_id=union.id, member_id=member.id, since=repeats.repeat_since(now)
    )
    earlier = repeats.find_repeat(((a, a.text, a.created_at) for a in recent), text=text, now=now)
    if earlier is not None and earlier.audience:
        kind, comune = await _audience_of(session, earlier.audience)
        return AlreadySent(kind, comune, earlier.created_at, union.timezone)
    announcement = earlier or Announcement(
        union_id=union.id,
        audience="",
        text=text,
        created_by_member_id=member.id,
        created_at=now,
    )
    session.add(announcement)
    await session.flush()
    return Drafted(announcement.id, union.name, text)


async def _audience_of(session: AsyncSession, audience: str) -> tuple[str, str | None]:
    """A stored audience as (kind, the Comune's name): `comune:<id>` names the Comune."""
    kind, _sep, arg = audience.partition(":")
    if kind != "comune" or not arg.isdigit():
        return kind, None
    found = await session.get(Municipality, int(arg))
    return kind, found.name if found is not None else None


async def _draft_of_coordinator(
    session: AsyncSession, *, announcement_id: int, telegram_user_id: int
) -> tuple[Announcement, Member] | AnnouncementRefused:
    """The draft, when the coordinator of its Union presses one of its buttons."""
    announcement = await session.get(Announcement, announcement_id)
    member = (
        await core_repo.member_of(
            session, union_id=announcement.union_id, telegram_user_id=telegram_user_id
        )
        if announcement is not None
        else None
    )
    if announcement is None or member is None or not member.is_coordinator:
        return AnnouncementRefused("not_coordinator")
    if announcement.audience:
        return AnnouncementRefused("already_sent")
    return announcement, member


async def announcement_menu(
    session: AsyncSession, *, announcement_id: int, telegram_user_id: int, comuni: bool
) -> AnnouncementMenu | AnnouncementRefused:
    """«Un Comune…» (`comuni`) or back to the audiences."""
    found = await _draft_of_coordinator(
        session, announcement_id=announcement_id, telegram_user_id=telegram_user_id
    )
    if isinstance(found, AnnouncementRefused):
        return found
    announcement, _member = found
    union = await session.get(Union, announcement.union_id)
    listed = (
        tuple((m.id, m.name) for m in await core_repo.municipalities(session, union.id))
        if comuni and union is not None
        else None
    )
    return AnnouncementMenu(announcement.id, union.name if union else "", announcement.text, listed)


@dataclass(frozen=True)
class AnnouncementCancelled:
    announcement_id: int


async def cancel_announcement(
    session: AsyncSession, *, announcement_id: int, telegram_user_id: int, now: datetime
) -> AnnouncementCancelled | AnnouncementRefused:
    found = await _draft_of_coordinator(
        session, announcement_id=announcement_id, telegram_user_id=telegram_user_id
    )
    if isinstance(found, AnnouncementRefused):
        return found
    announcement, _member = found
    announcement.audience = CANCELLED
    announcement.reported_at = now  # nothing to report
    return AnnouncementCancelled(announcement.id)


async def _audience(
    session: AsyncSession, union_id: int, target: str
) -> tuple[str, str | None] | None:
    """A button's target as (stored audience, the Comune's name); None when forged."""
    if target in AUDIENCES:
        return target, None
    if target.startswith("c") and target[1:].isdigit():
        names = {m.id: m.name for m in await core_repo.municipalities(session, union_id)}
        if int(target[1:]) in names:
            return f"comune:{target[1:]}", names[int(target[1:])]
    return None


async def send_announcement(
    session: AsyncSession,
    *,
    announcement_id: int,
    telegram_user_id: int,
    target: str,
    now: datetime,
    language: str,
) -> AnnouncementSending | AnnouncementRefused:
    """Queue the draft to its audience (`target`: all, political, technical, or c<Comune id>),
    everyone but the sender, each in their language (else the sender's, `language`)."""
    found = await _draft_of_coordinator(
        session, announcement_id=announcement_id, telegram_user_id=telegram_user_id
    )
    if isinstance(found, AnnouncementRefused):
        return found
    announcement, member = found
    audience = await _audience(session, announcement.union_id, target)
    if audience is None:
        return AnnouncementRefused("invalid")
    announcement.audience = audience[0]
    union = await session.get(Union, announcement.union_id)
    queued = 0
    for r in await repo.audience_members(
        session, union_id=announcement.union_id, audience=announcement.audience
    ):
        if r.person_id == member.person_id:
            continue
        tr = translator(pick_language(chosen=r.language, telegram_code=None, default=language))
        if await outbox_repo.enqueue(
            session,
            dedup_key=f"ann:{announcement.id}:{r.person_id}",
            chat_id=r.telegram_user_id,
            method="sendMessage",
            payload={
                "text": announcement_body(tr, union.name if union else "", announcement.text),
                "parse_mode": "HTML",
            },
            union_id=announcement.union_id,
            person_id=r.person_id,
            now=now,
        ):
            queued += 1
    kind = "comune" if audience[1] is not None else audience[0]
    return AnnouncementSending(kind, audience[1], queued, announcement.text)
