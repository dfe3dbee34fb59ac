"""The person behind a Telegram user: stored on first need, their language, their reachability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.common.owing import owe_menu
from bot.services.display_text import TelegramUserName, telegram_display_name
from storage.models import Person
from storage.repositories import core as core_repo


class TelegramUser(TelegramUserName, Protocol):
    """What a Telegram user (telegram.User) tells of themselves."""

    @property
    def id(self) -> int: ...
    @property
    def language_code(self) -> str | None: ...


@dataclass(frozen=True)
class Profile:
    """What Telegram tells of the user behind an update, kept on their person row."""

    telegram_user_id: int
    display_name: str  # their Telegram name as shown (display_text.telegram_display_name)
    username: str | None
    telegram_language: str | None

    @classmethod
    def of(cls, user: TelegramUser, *, nameless: str) -> Profile:
        """`nameless`: the reader's word for a name that shows nothing (display_text.NAMELESS)."""
        return cls(
            telegram_user_id=user.id,
            display_name=telegram_display_name(user, nameless=nameless),
            username=user.username,
            telegram_language=user.language_code,
        )


async def person_for(session: AsyncSession, profile: Profile, *, now: datetime) -> Person:
    """Their person row, created on first need. Someone known keeps the name they chose;
    @username and the app's language follow Telegram."""
    return await core_repo.upsert_person(
        session,
        telegram_user_id=profile.telegram_user_id,
        display_name=profile.display_name,
        username=profile.username,
        telegram_language=profile.telegram_language,
        now=now,
    )


async def set_language(
    session: AsyncSession, *, profile: Profile, language: str, now: datetime
) -> None:
    """/lingua: the language the bot writes to them in, from now on."""
    person = await person_for(session, profile, now=now)
    person.language = language
    if await core_repo.memberships_of(session, telegram_user_id=profile.telegram_user_id):
        await owe_menu(session, telegram_user_id=profile.telegram_user_id, now=now)


async def set_reachable(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    reachable: bool,
    reason: str | None,
    now: datetime,
) -> None:
    """They blocked the bot (or left its chat), or started it again."""
    await core_repo.mark_reachable(
        session, telegram_user_id=telegram_user_id, reachable=reachable, reason=reason, now=now
    )


async def person_wrote(session: AsyncSession, *, telegram_user_id: int, now: datetime) -> None:
    """Whoever writes to the bot in private can be reached again (they pressed Start or
    unblocked it). Writes only when they were marked unreachable."""
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    if person is not None and not person.reachable:
        await core_repo.mark_reachable(
            session, telegram_user_id=telegram_user_id, reachable=True, reason=None, now=now
        )
