"""/impostazioni: the coordinator's settings of the Union, changed with buttons only.

Sections: the meetings' rhythm (MeetingSettings), the update rounds' (UpdateSettings), the PAES
approval date (for the Covenant clock) and the `#aggiornamento` capture of each technical group.
A missing settings row means the defaults; the row is created on the first press of its page.
Every press re-checks that the presser is the coordinator of the Union its data names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.coordinators import (
    Ask,
    ask_coordinator,
    coordinated_union,
    coordinator_answered,
)
from bot.services.settings.rules import (
    FIELD_CODES,
    MEETING_RANGES,
    MEETING_TOGGLES,
    UPDATE_RANGES,
    UPDATE_TOGGLES,
    paes_date,
    step_value,
    toggle_weekday,
)
from bot.views.settings import (
    CAPTURE,
    DOWN,
    HASHTAG,
    MEETING,
    MEETINGS,
    MENU,
    PAES,
    ROUND,
    ROUNDS,
    SHOW,
    TOGGLE,
    UP,
    WEEKDAY,
)
from storage.models import LinkedChat, MeetingSettings, Member, TableKind, Union, UpdateSettings
from storage.repositories import summaries as repo

PAES_FLOW = "paes_date"  # the dialogue after «Scrivi la data»
ASK_PAES_DATE = Ask(PAES_FLOW, "date")


@dataclass(frozen=True)
class SettingsPage:
    """A page of /impostazioni as stored now: `section` says which of the others is set.
    `toast`: saved, cleared, invalid, or None."""

    section: str
    union: Union
    meetings: MeetingSettings | None = None
    rounds: UpdateSettings | None = None
    links: tuple[LinkedChat, ...] = ()
    toast: str | None = None


@dataclass(frozen=True)
class SettingsRefused:
    """Only the coordinator of the Union changes its settings."""


@dataclass(frozen=True)
class Change:
    """A press that changes a setting. `kind`: meeting or round (`field`, a code of
    rules.FIELD_CODES, and `op`: up, down, toggle, show), weekday (`day`), capture (`link_id`),
    paes_clear."""

    kind: str
    field: str = ""
    op: str = ""
    day: int | None = None
    link_id: int | None = None


async def _page(
    session: AsyncSession, union: Union, section: str, toast: str | None = None
) -> SettingsPage:
    if section == MEETINGS:
        settings = await repo.meeting_settings(session, union.id)
        return SettingsPage(section, union, meetings=settings, toast=toast)
    if section == ROUNDS:
        rounds = await repo.update_settings(session, union.id)
        return SettingsPage(section, union, rounds=rounds, toast=toast)
    if section == HASHTAG:
        links = tuple(await repo.technical_links(session, union.id))
        return SettingsPage(section, union, links=links, toast=toast)
    return SettingsPage(section if section == PAES else MENU, union, toast=toast)


async def settings_menu(session: AsyncSession, *, member_id: int) -> SettingsPage | SettingsRefused:
    """/impostazioni, for the member found in this transaction."""
    member = await session.get(Member, member_id)
    union = await session.get(Union, member.union_id) if member is not None else None
    if member is None or union is None or not member.is_coordinator:
        return SettingsRefused()
    return SettingsPage(MENU, union)


async def open_section(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, section: str
) -> SettingsPage | SettingsRefused:
    union = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if union is None:
        return SettingsRefused()
    return await _page(session, union, section)


def _stepped(
    row: MeetingSettings | UpdateSettings,
    name: str,
    op: str,
    ranges: dict[str, tuple[int, int, int]],
) -> None:
    setattr(row, name, step_value(getattr(row, name), op, ranges[name]))


async def change_setting(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, change: Change
) -> SettingsPage | SettingsRefused:
    """Apply one press and show its page again. A field or an operation the page does not
    offer changes nothing."""
    union = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if union is None:
        return SettingsRefused()
    name = FIELD_CODES.get(change.field, "")
    saved = "saved" if change.op != SHOW else None
    if change.kind in (MEETING, WEEKDAY):
        meetings = await repo.meeting_settings(session, union_id)
        session.add(meetings)  # a row of defaults is created by its first press
        if change.kind == WEEKDAY and change.day is not None and 0 <= change.day < 7:
            meetings.weekdays = toggle_weekday(meetings.weekdays or "", change.day)
            saved = "saved"
        elif name in MEETING_TOGGLES and change.op == TOGGLE:
            setattr(meetings, name, not getattr(meetings, name))
        elif name in MEETING_RANGES and change.op in (UP, DOWN, SHOW):
            _stepped(meetings, name, change.op, MEETING_RANGES)
        section, toast = MEETINGS, saved
    elif change.kind == ROUND:
        rounds = await repo.update_settings(session, union_id)
        session.add(rounds)
        if name in UPDATE_TOGGLES and change.op == TOGGLE:
            setattr(rounds, name, not getattr(rounds, name))
        elif name in UPDATE_RANGES and change.op in (UP, DOWN, SHOW):
            _stepped(rounds, name, change.op, UPDATE_RANGES)
        section, toast = ROUNDS, saved
    elif change.kind == CAPTURE:
        section, toast = HASHTAG, await _toggle_capture(session, union_id, change.link_id)
    else:  # paes_clear
        union.paes_approved_on = None
        section, toast = PAES, "cleared"
    await session.flush()
    return await _page(session, union, section, toast)


async def _toggle_capture(session: AsyncSession, union_id: int, link_id: int | None) -> str:
    link = await session.get(LinkedChat, link_id) if link_id is not None else None
    if link is None or link.union_id != union_id or link.table_kind != TableKind.TECHNICAL:
        return "invalid"
    link.hashtag_capture = not link.hashtag_capture
    return "saved"


@dataclass(frozen=True)
class DateAsked:
    """The coordinator's next message is the PAES date (`PAES_FLOW`)."""


async def ask_paes_date(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, chat_id: int, now: datetime
) -> DateAsked | SettingsRefused:
    asked = await ask_coordinator(session, ASK_PAES_DATE, union_id, telegram_user_id, chat_id, now)
    return DateAsked() if asked else SettingsRefused()


@dataclass(frozen=True)
class BadDate:
    """Not a date, or one in the future: the coordinator may write it again."""


async def set_paes_date(
    session: AsyncSession,
    *,
    union_id: int,
    telegram_user_id: int,
    chat_id: int,
    text: str,
    now: datetime,
) -> SettingsPage | BadDate | SettingsRefused:
    """The date written after «Scrivi la data»: the dialogue ends, the PAES page shows it."""
    day = paes_date(text, now.date())
    if day is None:
        return BadDate()
    union = await coordinator_answered(
        session, union_id=union_id, telegram_user_id=telegram_user_id, chat_id=chat_id
    )
    if union is None:
        return SettingsRefused()
    union.paes_approved_on = day
    return SettingsPage(PAES, union)
