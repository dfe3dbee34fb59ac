"""A meeting's attendance (presenze): check-ins in the table's group, the coordinator's roster
in private, guests who are not members.

From `CHECK_IN_OPENS_BEFORE` (30 minutes) before the start until the end of the meeting's day
in the Union's zone (`check_in_window`), the table's members check in with one button on the
message the tick posts to the table's group(s) when the window opens (`open_check_ins`,
through the outbox). The message shows who is present and which Comuni are represented as the
coverage rule counts them (`rules.tally`: a Comune is covered by anyone of it present). The
coordinator corrects the list in private, one tap per person (`next_mode`), from the moment the
window opens, and adds guests in a short dialogue kept in `conversation` (`GUEST_FLOW`). Rules:
docs/DESIGN.md, «The meeting itself: attendance».
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.localtime import local_to_utc
from bot.services.meetings import rules
from bot.services.meetings.access import member_for
from bot.services.meetings.invites import meeting_union_id
from bot.services.meetings.polls import table_chats, table_members
from bot.services.presses import Press, Pressed
from bot.services.registration.rules import check_name
from bot.services.start_links import make_link, parse_link
from bot.views import attendance as views
from bot.views.keyboard import Keyboard, to_dict
from bot.views.meetings import TABLE_NAMES
from bot.views.registration.refusals import NameProblem
from storage.models import (
    Answer,
    AttendanceMessage,
    AttendanceMode,
    Conversation,
    Meeting,
    MeetingGuest,
    MeetingMaterial,
    MinutesStatus,
    OutboxMessage,
    PollTable,
    Union,
)
from storage.repositories import attendance as repo
from storage.repositories import core as core_repo
from storage.repositories import meetings as meetings_repo
from storage.repositories import minutes as minutes_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories.meetings import TableMember

logger = logging.getLogger(__name__)

CHECK_IN_OPENS_BEFORE = timedelta(minutes=30)
# A meeting whose check-ins were due while the bot was down that long is settled unposted.
OPEN_LOOKBACK = timedelta(days=62)
OPEN_CLAIM = "meeting_attendance"  # claimed once per meeting when its list is posted (or skipped)
MESSAGE_PREFIX = "att:"  # the outbox's dedup key of the list: att:<meeting>:<chat>
GUEST_FLOW = "meeting_guest"  # the coordinator's dialogue that adds a guest
THEME_FLOW = "meeting_theme"  # the coordinator's dialogue that makes a meeting a workshop
MATERIAL_FLOW = "meeting_material"  # the coordinator sends a workshop's documents
MAX_MATERIALS = 10  # a workshop's documents (the roster's keyboard: one button each)
MAX_GUESTS = 30  # the roster's keyboard: two buttons a guest, Telegram's 100 in all
LINK_ROSTER = "pr"  # t.me/<bot>?start=pr-<meeting>: the roster in private
LINK_MATERIALS = "pm"  # t.me/<bot>?start=pm-<meeting>: a workshop's materials in private
START_LINKS = (LINK_ROSTER, LINK_MATERIALS)  # attendance's /start links: one hook reads them


# --- the rules (pure) -------------------------------------------------------------------------


def check_in_window(
    *, starts_at: datetime, ends_at: datetime, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """(opens, closes): from 30 minutes before the start to the end of the meeting's day in the
    Union's zone (midnight after it), or its end if it runs past midnight."""
    day_after = starts_at.astimezone(tz).date() + timedelta(days=1)
    return starts_at - CHECK_IN_OPENS_BEFORE, max(local_to_utc(day_after, time(0), tz), ends_at)


def represented(
    *, starts_at: datetime, present: Iterable[int], voters: Mapping[int, rules.Voter]
) -> frozenset[int]:
    """The Comuni represented by the members present: the coverage rule of the polls
    (`rules.tally`), a presence counting as a «Sì»."""
    answers = {member_id: Answer.YES for member_id in present}
    return rules.tally(slot_id=0, starts_at=starts_at, answers=answers, voters=voters).covered


def next_mode(mode: AttendanceMode | None) -> AttendanceMode | None:
    """The coordinator's one tap: assente → in presenza → online → assente."""
    if mode is None:
        return AttendanceMode.IN_PERSON
    return AttendanceMode.ONLINE if mode == AttendanceMode.IN_PERSON else None


def may_be_workshop(table: PollTable) -> bool:
    """A thematic workshop is the technical table's (alone or with the political one)."""
    return table in (PollTable.TECHNICAL, PollTable.BOTH)


def start_link(kind: str, meeting_id: int) -> str:
    """`LINK_ROSTER` or `LINK_MATERIALS` of a meeting, for t.me/<bot>?start=…"""
    return make_link(kind, meeting_id, START_LINKS)


def parse_start_link(payload: str | None) -> tuple[str, int] | None:
    return parse_link(payload, START_LINKS)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRefused:
    """`reason`: gone, not_member, not_at_table, not_open, closed, not_coordinator,
    minutes_approved, elsewhere, too_many_guests, not_technical, not_workshop,
    too_many_materials, no_materials
    (bot.views.attendance.refusal_text)."""

    reason: str
    table: str | None = None
    opens_at: datetime | None = None
    tz: ZoneInfo | None = None

    def text(self, language: str) -> str:
        return views.refusal_text(
            self.reason,
            translator(language),
            table=self.table,
            opens_at=self.opens_at,
            tz=self.tz,
            limit=MAX_MATERIALS if self.reason == "too_many_materials" else MAX_GUESTS,
        )


@dataclass(frozen=True)
class _Loaded:
    meeting: Meeting
    union: Union
    tz: ZoneInfo
    members: dict[int, TableMember]  # at the meeting's table
    opens_at: datetime
    closes_at: datetime


async def _load(session: AsyncSession, meeting_id: int) -> _Loaded | None:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.cancelled_at is not None:
        return None
    union = await session.get(Union, meeting.union_id)
    if union is None:
        return None
    tz = ZoneInfo(union.timezone)
    opens, closes = check_in_window(starts_at=meeting.starts_at, ends_at=meeting.ends_at, tz=tz)
    members = table_members(await meetings_repo.active_members(session, union.id), meeting.table)
    return _Loaded(meeting, union, tz, members, opens, closes)


async def _view(session: AsyncSession, loaded: _Loaded) -> views.AttendanceView:
    present = await repo.present_of(session, loaded.meeting.id)
    comuni = await core_repo.municipality_names(session, loaded.union.id)
    voters = {
        mid: rules.Voter(mid, tuple(c for c in m.municipality_ids if c in comuni))
        for mid, m in loaded.members.items()
    }
    covered = represented(starts_at=loaded.meeting.starts_at, present=present, voters=voters)
    people = sorted(
        (
            views.Person(
                member_id=mid,
                name=m.name,
                comuni=tuple(sorted(comuni[c] for c in voters[mid].municipality_ids)),
                mode=present.get(mid),
            )
            for mid, m in loaded.members.items()
        ),
        key=lambda p: (p.comuni, p.name.casefold()),
    )
    guests = tuple(
        views.Guest(g.id, g.name, g.organisation, AttendanceMode(g.mode))
        for g in await repo.guests_of(session, loaded.meeting.id)
    )
    return views.AttendanceView(
        meeting=loaded.meeting,
        tz=loaded.tz,
        people=tuple(people),
        guests=guests,
        represented=tuple(sorted(comuni[c] for c in covered)),
        missing=tuple(sorted(name for c, name in comuni.items() if c not in covered)),
        closes_at=loaded.closes_at,
        theme=await repo.workshop_theme(session, loaded.meeting.id),
        workshop_allowed=may_be_workshop(loaded.meeting.table),
        materials=tuple(
            views.Material(m.id, m.file_name)
            for m in await repo.materials_of(session, loaded.meeting.id)
        ),
    )


async def guest_union_id(session: AsyncSession, guest_id: int | None) -> int | None:
    guest = await session.get(MeetingGuest, guest_id) if guest_id else None
    return await meeting_union_id(session, guest.meeting_id) if guest is not None else None


@dataclass(frozen=True)
class Shown:
    text: str
    keyboard: Keyboard | None


async def list_now(session: AsyncSession, *, meeting_id: int, language: str) -> Shown | None:
    """The group's list as it stands (bot.message_refresh renders it at edit time)."""
    loaded = await _load(session, meeting_id)
    if loaded is None:
        return None
    text, keyboard = views.render_list(await _view(session, loaded), translator(language))
    return Shown(text, keyboard)


# --- the tick: the list goes to the table's group(s) when check-ins open -----------------------


async def open_check_ins(session: AsyncSession, *, now: datetime, language: str) -> bool:
    """Post the list of every meeting whose check-in window has opened, once (a claim per
    meeting), to its table's group(s), expiring when the window closes. A window that closed
    while the bot was down is settled with a log line. True when something was queued."""
    due = await meetings_repo.meetings_missing_claims(
        session,
        after=now - OPEN_LOOKBACK,
        until=now + CHECK_IN_OPENS_BEFORE,
        kinds=(OPEN_CLAIM,),
    )
    queued = False
    tr = translator(language)
    for meeting in due:
        if not await core_repo.claim(
            session, kind=OPEN_CLAIM, union_id=meeting.union_id, period=str(meeting.id), now=now
        ):
            continue
        loaded = await _load(session, meeting.id)
        if loaded is None:
            continue
        if now >= loaded.closes_at:
            logger.info("Meeting %s: attendance list skipped (its day is over)", meeting.id)
            continue
        view = await _view(session, loaded)
        text, keyboard = views.render_list(view, tr)
        # Whom the list names (those already present: the roster may be corrected ahead), so
        # an erasure wipes the bot's copy of it (docs/DESIGN.md, «Privacy and erasure»).
        named = [loaded.members[p.member_id].person_id for p in view.people if p.mode]
        for link in await table_chats(session, union_id=meeting.union_id, table=meeting.table):
            await outbox_repo.enqueue(
                session,
                dedup_key=f"{MESSAGE_PREFIX}{meeting.id}:{link.chat_id}",
                chat_id=link.chat_id,
                method="sendMessage",
                payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
                union_id=meeting.union_id,
                now=now,
                expires_at=loaded.closes_at,
                names=named,
            )
            queued = True
    return queued


async def list_sent(session: AsyncSession, row: OutboxMessage) -> None:
    """The list (`att:<meeting>:<chat>`) was sent: remember where, for its edits and checks."""
    meeting_id = int(row.dedup_key.split(":")[1])
    if row.message_id is not None:
        await repo.add_message(
            session, meeting_id=meeting_id, chat_id=row.chat_id, message_id=row.message_id
        )


# --- a member checks in -----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedIn:
    mode: AttendanceMode
    changed: bool
    dirty_chat_ids: tuple[int, ...]


def _not_at_table(loaded: _Loaded) -> AttendanceRefused:
    return AttendanceRefused("not_at_table", table=TABLE_NAMES[loaded.meeting.table])


async def check_in(
    session: AsyncSession,
    *,
    meeting_id: int,
    telegram_user_id: int,
    mode: AttendanceMode | None,
    press: Press | None,
    now: datetime,
) -> CheckedIn | AttendanceRefused:
    """«✅ Sono presente» / «💻 Sono online»: a member at the meeting's table, in its window, on
    the list's own message (a group press elsewhere is refused; the bot's message carrying the
    button, whose id was never learnt, is adopted)."""
    loaded = await _load(session, meeting_id)
    if loaded is None or mode is None:
        return AttendanceRefused("gone")
    member = await member_for(session, union_id=loaded.union.id, telegram_user_id=telegram_user_id)
    if isinstance(member, str):
        return AttendanceRefused(member)
    if member.id not in loaded.members:
        return _not_at_table(loaded)
    if now < loaded.opens_at:
        return AttendanceRefused("not_open", opens_at=loaded.opens_at, tz=loaded.tz)
    if now >= loaded.closes_at:
        return AttendanceRefused("closed")
    if press is not None:
        where = press.where(await repo.shown_at(session, meeting_id))
        if where == Pressed.ELSEWHERE:
            return AttendanceRefused("elsewhere")
        if where == Pressed.CARRIED and press.message_id is not None:
            await repo.add_message(
                session, meeting_id=meeting_id, chat_id=press.chat_id, message_id=press.message_id
            )
    dirty = await record_presence(
        session, meeting_id=meeting_id, member_id=member.id, mode=mode, by=member.id, now=now
    )
    return CheckedIn(mode, dirty is not None, dirty or ())


async def record_presence(
    session: AsyncSession,
    *,
    meeting_id: int,
    member_id: int,
    mode: AttendanceMode | None,
    by: int,
    now: datetime,
) -> tuple[int, ...] | None:
    """The one write of a member's presence (`mode`, or absent: None), recorded by member `by`:
    a check-in, the roster's tap, the minutes' «👥 Presenze». The group lists showing the
    meeting then owe an edit: their chat ids, for `message_refresh.request`; None when nothing
    changed (no edit owed)."""
    changed = await repo.set_attendance(
        session, meeting_id=meeting_id, member_id=member_id, mode=mode, recorded_by=by, now=now
    )
    if not changed:
        return None
    return tuple(await repo.mark_dirty(session, meeting_id=meeting_id, now=now))


# --- the coordinator's roster -----------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    """The roster as it stands; `note` says what the tap did (for the toast), `dirty_chat_ids`
    the group messages owing an edit."""

    text: str
    keyboard: Keyboard | None
    note: str | None = None
    dirty_chat_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Coordinating:
    loaded: _Loaded
    member_id: int


async def _coordinating(
    session: AsyncSession,
    *,
    meeting_id: int,
    telegram_user_id: int,
    now: datetime,
    in_minutes: bool = True,
) -> _Coordinating | AttendanceRefused:
    """The presser coordinates the meeting's Union (at any time: guests may be known ahead).
    What the minutes record (who was present, the guests, the theme) is frozen once they are
    approved: `in_minutes` refuses then, so the filed minutes and the attendance (/team, the
    summary's Comuni missing) never disagree; the workshop's materials are not in them."""
    loaded = await _load(session, meeting_id)
    if loaded is None:
        return AttendanceRefused("gone")
    member = await member_for(
        session, union_id=loaded.union.id, telegram_user_id=telegram_user_id, coordinator=True
    )
    if isinstance(member, str):
        return AttendanceRefused(member)
    if in_minutes:
        filed = await minutes_repo.minutes_of(session, meeting_id)
        if filed is not None and filed.status == MinutesStatus.APPROVED:
            return AttendanceRefused("minutes_approved")
    return _Coordinating(loaded, member.id)


async def _roster(
    session: AsyncSession,
    loaded: _Loaded,
    language: str,
    *,
    note: str | None = None,
    dirty: Iterable[int] = (),
) -> Roster:
    text, keyboard = views.render_roster(await _view(session, loaded), translator(language))
    return Roster(text, keyboard, note, tuple(dirty))


async def open_roster(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Roster | AttendanceRefused:
    """«⚙️ Gestisci presenze» (or its link): the roster, for the coordinator."""
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused):
        return who
    return await _roster(session, who.loaded, language)


async def tap(
    session: AsyncSession,
    *,
    meeting_id: int,
    member_id: int | None,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> Roster | AttendanceRefused:
    """One tap on a person of the roster: the next of assente, in presenza, online."""
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused):
        return who
    person = who.loaded.members.get(member_id or 0)
    if person is None:  # no longer at the table (or a forged id): the roster as it is now
        return await _roster(session, who.loaded, language)
    present = await repo.present_of(session, meeting_id)
    mode = next_mode(present.get(person.member_id))
    dirty = await record_presence(
        session,
        meeting_id=meeting_id,
        member_id=person.member_id,
        mode=mode,
        by=who.member_id,
        now=now,
    )
    note = views.tapped(person.name, mode, translator(language))
    return await _roster(session, who.loaded, language, note=note, dirty=dirty or ())


# --- guests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """A question of the guest dialogue (the next private message answers it)."""

    text: str
    keyboard: Keyboard | None = None
    dirty_chat_ids: tuple[int, ...] = ()


async def start_guest(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Asked | AttendanceRefused:
    """«➕ Aggiungi un ospite»: the dialogue asks the name (kept in `conversation`)."""
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused):
        return who
    if len(await repo.guests_of(session, meeting_id)) >= MAX_GUESTS:
        return AttendanceRefused("too_many_guests")
    await _step(session, telegram_user_id, "name", {"meeting": meeting_id}, now)
    return Asked(views.ask_guest_name(who.loaded.meeting.title, translator(language)))


def _checked(raw: str, maximum: int) -> tuple[str, NameProblem | None]:
    """A guest's name or organisation, cleaned as every stored name is (one line)."""
    return check_name(raw, minimum=2, maximum=maximum)


async def guest_text(
    session: AsyncSession,
    *,
    conversation: Conversation,
    text: str | None,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> Asked | Roster | AttendanceRefused:
    """A written step of the guest dialogue (`text`), or «Nessuna organizzazione» (None)."""
    data: dict[str, Any] = dict(conversation.data or {})
    meeting_id = int(data.get("meeting", 0))
    tr = translator(language)
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused):
        await _end(session, telegram_user_id)
        return who
    if conversation.step == "name":
        if text is None:
            return Asked(views.ask_guest_name(who.loaded.meeting.title, tr))
        name, problem = _checked(text, views.GUEST_NAME_MAX)
        if problem is not None:
            return Asked(views.guest_text_problem(problem, maximum=views.GUEST_NAME_MAX, tr=tr))
        data = {"meeting": meeting_id, "name": name}
        await _step(session, telegram_user_id, "organisation", data, now)
        question, keyboard = views.ask_guest_organisation(name, meeting_id, tr)
        return Asked(question, keyboard)
    organisation = None
    if text is not None:
        organisation, problem = _checked(text, views.GUEST_ORGANISATION_MAX)
        if problem is not None:
            limit = views.GUEST_ORGANISATION_MAX
            return Asked(views.guest_text_problem(problem, maximum=limit, tr=tr))
    if len(await repo.guests_of(session, meeting_id)) >= MAX_GUESTS:
        await _end(session, telegram_user_id)
        return AttendanceRefused("too_many_guests")
    name = str(data.get("name", ""))
    await repo.add_guest(
        session,
        meeting_id=meeting_id,
        name=name,
        organisation=organisation,
        added_by=who.member_id,
        now=now,
    )
    await _end(session, telegram_user_id)
    dirty = await repo.mark_dirty(session, meeting_id=meeting_id, now=now)
    return await _roster(
        session, who.loaded, language, note=views.guest_added(name, tr), dirty=dirty
    )


async def skip_organisation(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Asked | Roster | AttendanceRefused:
    """«Nessuna organizzazione»: the guest is added without one, if the dialogue is at that
    step for this meeting; otherwise the button is stale."""
    conversation = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id, now=now
    )
    if (
        conversation is None
        or conversation.flow != GUEST_FLOW
        or conversation.step != "organisation"
        or int((conversation.data or {}).get("meeting", 0)) != meeting_id
    ):
        return await open_roster(
            session,
            meeting_id=meeting_id,
            telegram_user_id=telegram_user_id,
            now=now,
            language=language,
        )
    return await guest_text(
        session,
        conversation=conversation,
        text=None,
        telegram_user_id=telegram_user_id,
        now=now,
        language=language,
    )


async def _step(
    session: AsyncSession,
    telegram_user_id: int,
    step: str,
    data: dict[str, Any],
    now: datetime,
    flow: str = GUEST_FLOW,
) -> None:
    """The guest (or theme) dialogue waits for `step` (a day at most): kept in `conversation`."""
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        flow=flow,
        step=step,
        data=data,
        now=now,
        ttl=timedelta(days=1),
    )


async def _end(session: AsyncSession, telegram_user_id: int) -> None:
    await core_repo.clear_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
    )


async def change_guest(
    session: AsyncSession,
    *,
    guest_id: int,
    remove: bool,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> Roster | AttendanceRefused:
    """A guest's line: in presenza ↔ online; «🗑»: removed."""
    guest = await session.get(MeetingGuest, guest_id)
    if guest is None:
        return AttendanceRefused("gone")
    meeting_id = guest.meeting_id
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused):
        return who
    tr = translator(language)
    if remove:
        await repo.remove_guest(session, guest)
        note = views.guest_removed(tr)
    else:
        online = guest.mode == AttendanceMode.IN_PERSON
        guest.mode = AttendanceMode.ONLINE if online else AttendanceMode.IN_PERSON
        note = views.guest_mode_toast(guest.mode, tr)
    dirty = await repo.mark_dirty(session, meeting_id=meeting_id, now=now)
    return await _roster(session, who.loaded, language, note=note, dirty=dirty)


# --- thematic workshops ------------------------------------------------------------------------


async def start_theme(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Asked | AttendanceRefused:
    """«🎓 Rendi workshop tematico» / «🎓 Cambia il tema»: the dialogue asks the theme."""
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused):
        return who
    if not may_be_workshop(who.loaded.meeting.table):
        return AttendanceRefused("not_technical")
    await _step(session, telegram_user_id, "theme", {"meeting": meeting_id}, now, THEME_FLOW)
    theme = await repo.workshop_theme(session, meeting_id)
    return Asked(views.ask_theme(who.loaded.meeting.title, theme, translator(language)))


async def theme_text(
    session: AsyncSession,
    *,
    conversation: Conversation,
    text: str,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> Asked | Roster | AttendanceRefused:
    """The theme written: the meeting is a thematic workshop on it (the lists follow)."""
    meeting_id = int((conversation.data or {}).get("meeting", 0))
    tr = translator(language)
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused) or not may_be_workshop(who.loaded.meeting.table):
        await _end(session, telegram_user_id)
        return who if isinstance(who, AttendanceRefused) else AttendanceRefused("not_technical")
    theme, problem = check_name(text, minimum=3, maximum=views.THEME_MAX)
    if problem is not None:
        return Asked(views.guest_text_problem(problem, maximum=views.THEME_MAX, tr=tr))
    await repo.set_workshop(session, meeting_id=meeting_id, theme=theme)
    await _end(session, telegram_user_id)
    dirty = await repo.mark_dirty(session, meeting_id=meeting_id, now=now)
    return await _roster(
        session, who.loaded, language, note=views.theme_set(theme, tr), dirty=dirty
    )


async def clear_workshop(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Roster | AttendanceRefused:
    """«↩️ Non è un workshop»: an ordinary meeting again (its guests stay)."""
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now
    )
    if isinstance(who, AttendanceRefused):
        return who
    if await repo.workshop_theme(session, meeting_id) is None:  # a stale button
        return await _roster(session, who.loaded, language)
    await repo.set_workshop(session, meeting_id=meeting_id, theme=None)
    dirty = await repo.mark_dirty(session, meeting_id=meeting_id, now=now)
    note = views.theme_cleared(translator(language))
    return await _roster(session, who.loaded, language, note=note, dirty=dirty)


# --- a workshop's materials -------------------------------------------------------------------


async def start_materials(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Asked | AttendanceRefused:
    """«📎 Aggiungi materiali» (a workshop): the dialogue waits for documents until «✅ Fine»."""
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now, in_minutes=False
    )
    if isinstance(who, AttendanceRefused):
        return who
    if await repo.workshop_theme(session, meeting_id) is None:
        return AttendanceRefused("not_workshop")
    await _step(session, telegram_user_id, "files", {"meeting": meeting_id}, now, MATERIAL_FLOW)
    text, keyboard = views.ask_materials(who.loaded.meeting.title, meeting_id, translator(language))
    return Asked(text, keyboard)


async def material_sent(
    session: AsyncSession,
    *,
    conversation: Conversation,
    file_id: str | None,
    file_name: str | None,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> Asked | AttendanceRefused:
    """A message during the materials' dialogue: a document is kept (by its Telegram file id);
    anything else is asked again."""
    meeting_id = int((conversation.data or {}).get("meeting", 0))
    tr = translator(language)
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now, in_minutes=False
    )
    if isinstance(who, AttendanceRefused):
        await _end(session, telegram_user_id)
        return who
    if file_id is None:
        return Asked(*views.material_expected(meeting_id, tr))
    if len(await repo.materials_of(session, meeting_id)) >= MAX_MATERIALS:
        await _end(session, telegram_user_id)
        return AttendanceRefused("too_many_materials")
    name = views.material_name(file_name, tr)
    await repo.add_material(
        session,
        meeting_id=meeting_id,
        file_id=file_id,
        file_name=name,
        added_by=who.member_id,
        now=now,
    )
    await _step(session, telegram_user_id, "files", {"meeting": meeting_id}, now, MATERIAL_FLOW)
    count = len(await repo.materials_of(session, meeting_id))
    dirty = await repo.mark_dirty(session, meeting_id=meeting_id, now=now)
    return Asked(*views.material_saved(name, count, meeting_id, tr), dirty_chat_ids=tuple(dirty))


async def end_materials(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime, language: str
) -> Roster | AttendanceRefused:
    """«✅ Fine»: the materials' dialogue ends; the roster."""
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now, in_minutes=False
    )
    if isinstance(who, AttendanceRefused):
        return who
    conversation = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id, now=now
    )
    if conversation is not None and conversation.flow == MATERIAL_FLOW:
        await _end(session, telegram_user_id)
    return await _roster(session, who.loaded, language)


async def material_union_id(session: AsyncSession, material_id: int | None) -> int | None:
    material = await session.get(MeetingMaterial, material_id) if material_id else None
    return await meeting_union_id(session, material.meeting_id) if material else None


async def remove_material(
    session: AsyncSession, *, material_id: int, telegram_user_id: int, now: datetime, language: str
) -> Roster | AttendanceRefused:
    """«🗑 <file>» on the roster: the document is no longer among the materials."""
    material = await session.get(MeetingMaterial, material_id)
    if material is None:
        return AttendanceRefused("gone")
    meeting_id = material.meeting_id
    who = await _coordinating(
        session, meeting_id=meeting_id, telegram_user_id=telegram_user_id, now=now, in_minutes=False
    )
    if isinstance(who, AttendanceRefused):
        return who
    await repo.remove_material(session, material)
    dirty = await repo.mark_dirty(session, meeting_id=meeting_id, now=now)
    note = views.material_removed(translator(language))
    return await _roster(session, who.loaded, language, note=note, dirty=dirty)


@dataclass(frozen=True)
class Materials:
    """The documents to send (file id, name), in the order they were added."""

    files: tuple[tuple[str, str], ...]


async def materials_for(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int
) -> Materials | AttendanceRefused:
    """«📎 Ricevi i materiali» (or its link): a member at the meeting's table, or the
    coordinator, receives the workshop's documents in private."""
    loaded = await _load(session, meeting_id)
    if loaded is None:
        return AttendanceRefused("gone")
    member = await member_for(session, union_id=loaded.union.id, telegram_user_id=telegram_user_id)
    if isinstance(member, str):
        return AttendanceRefused(member)
    if member.id not in loaded.members and not member.is_coordinator:
        return _not_at_table(loaded)
    if await repo.workshop_theme(session, meeting_id) is None:  # «↩️ Non è un workshop»
        return AttendanceRefused("no_materials")
    files = tuple((m.file_id, m.file_name) for m in await repo.materials_of(session, meeting_id))
    return Materials(files) if files else AttendanceRefused("no_materials")


__all__ = [
    "CHECK_IN_OPENS_BEFORE",
    "GUEST_FLOW",
    "MATERIAL_FLOW",
    "MESSAGE_PREFIX",
    "THEME_FLOW",
    "Asked",
    "AttendanceMessage",
    "AttendanceRefused",
    "CheckedIn",
    "Materials",
    "Roster",
    "Shown",
    "change_guest",
    "check_in",
    "check_in_window",
    "clear_workshop",
    "end_materials",
    "guest_text",
    "guest_union_id",
    "list_now",
    "list_sent",
    "material_sent",
    "material_union_id",
    "materials_for",
    "may_be_workshop",
    "next_mode",
    "open_check_ins",
    "open_roster",
    "parse_start_link",
    "record_presence",
    "remove_material",
    "represented",
    "skip_organisation",
    "start_guest",
    "start_link",
    "start_materials",
    "start_theme",
    "tap",
    "theme_text",
]
