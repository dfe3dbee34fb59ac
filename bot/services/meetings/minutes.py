"""The minutes (verbale) of a meeting: drafted after it, corrected and approved by the coordinator,
frozen, posted to the table's group and filed; `/verbali` lists them (issue 19).

- `draft_due_minutes` (the tick, once the meeting ended): the minutes' draft row, and the draft to
  each coordinator in private through the outbox, with the buttons to correct it;
- `panel` and the corrections: each agenda item's outcome, who was present (attendance's own
  write, `attendance.record_presence`: the group's list follows), the notes (typed);
- `approve`: the number in the Union's year, the decisions recorded in the register, the content
  frozen as JSON (Minutes.frozen);
- `post_approved` (right after the approval, and by the tick after a crash): the .odt and the .pdf
  written in a thread from the frozen content, queued to the table's group (exactly once: their
  outbox keys);
- `filed` / `filed_files`: `/verbali`, the Union's approved minutes and their files again;
- `forget_member`: /cancellami's part here (docs/DESIGN.md, "The meeting itself: minutes").

Who may: a member of the meeting's Union reads the approved minutes; only a coordinator of that
Union edits and approves. A member of another Union sees nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator

# A module import: registration (its package) → leaving → minutes → attendance → registration.rules.
from bot.services.meetings import attendance, rules
from bot.services.meetings.access import member_for
from bot.services.meetings.polls import person_translator
from bot.services.summaries.decisions import close_decision
from bot.services.summaries.targets import key_suffix, table_targets
from bot.views import minutes as document
from bot.views import minutes_panel as views
from bot.views.keyboard import to_dict
from bot.views.minutes import (
    ComuneAttendance,
    MinutesContent,
    MinutesGuest,
    MinutesItem,
    MinutesPerson,
    MinutesTask,
)
from storage.models import (
    AgendaItem,
    AgendaSource,
    AttendanceMode,
    Decision,
    DecisionStatus,
    ItemOutcome,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Minutes,
    MinutesStatus,
    Role,
    Union,
)
from storage.repositories import agenda as agenda_repo
from storage.repositories import attendance as attendance_repo
from storage.repositories import core as core_repo
from storage.repositories import minutes as repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as summaries_repo
from storage.repositories.minutes import Someone
from storage.repositories.people import FORMER_MEMBER, shown_name

logger = logging.getLogger(__name__)

DRAFT_LOOKBACK = rules.MINUTES_DRAFT_LOOKBACK
NOTES_FLOW = "minutes_notes"  # the dialogue of «📝 Note»: the next private message
NOTES_LIMIT = 3000  # the notes' characters: the draft stays one message
# The dialogue of an item's «✏️»: the next private message is its outcome in the coordinator's
# words (for an item «Decisa», the decision the register records).
OUTCOME_NOTE_FLOW = "minutes_outcome_note"
OUTCOME_NOTE_LIMIT = 1000
OUTCOME_NOTE_TTL = timedelta(hours=1)
DRAFT_KEY = "minutes-draft:"  # minutes-draft:<meeting>:p<person>


@dataclass(frozen=True)
class Refused:
    """`reason`: gone (no such minutes, or another Union's), not_coordinator, approved (no
    longer a draft), not_member (of the Union: /verbali), stale (a button of another item)."""

    reason: str


# --- the content, from the database ---------------------------------------------------------


def _person(someone: Someone, present: dict[int, AttendanceMode]) -> MinutesPerson:
    name = shown_name(someone.person)
    form = someone.person.form if someone.person is not None else None
    return MinutesPerson(
        member_id=someone.member.id,
        name=None if name is FORMER_MEMBER else str(name),
        role=Role(someone.member.role),
        form=form if name is not FORMER_MEMBER else None,
        online=present.get(someone.member.id) == AttendanceMode.ONLINE,
    )


@dataclass(frozen=True)
class _Read:
    meeting: Meeting
    union: Union
    minutes: Minutes | None
    content: MinutesContent
    people: tuple[tuple[MinutesPerson, bool, str], ...]  # (person, present, their Comuni)
    item_ids: tuple[int, ...]  # the content's items' ids, in the same order
    named: tuple[int, ...]  # the person ids of the members it names (the outbox's mentions)
    # item id → the question of the register it stands for, still waiting for the political
    # table (open, or postponed at an earlier meeting), and its status: approval records the
    # item's outcome there.
    questions: dict[int, tuple[int, DecisionStatus]]


def sits(someone: Someone, meeting: Meeting) -> bool:
    """An active member expected at this meeting: who sits at its table (the coverage rule)."""
    return someone.member.status == MemberStatus.ACTIVE and rules.sits_at(
        meeting.table, role=Role(someone.member.role), is_coordinator=someone.member.is_coordinator
    )


async def _read(session: AsyncSession, meeting_id: int) -> _Read | None:
    found = await repo.meeting_and_union(session, meeting_id)
    if found is None:
        return None
    meeting, union = found
    record = await agenda_repo.record_of(session, meeting_id)
    minutes = await repo.minutes_of(session, meeting_id)
    present = await attendance_repo.present_of(session, meeting_id)
    expected = [s for s in await repo.members_of(session, union.id) if sits(s, meeting)]
    known = {s.member.id for s in expected}
    others = await repo.members_by_id(session, [m for m in present if m not in known])
    everyone = [*expected, *others]
    comuni = await repo.comuni_of(session, union.id)
    names = {c.id: c.name for c in comuni}
    lines = []
    for comune in (*comuni, None):
        # A Comune's members; the Union's staff (no Comune) last, when there are any.
        if comune is None:
            theirs = [s for s in everyone if not s.comune_ids]
            if not theirs:
                continue
        else:
            theirs = [s for s in everyone if comune.id in s.comune_ids]
        lines.append(
            ComuneAttendance(
                comune.name if comune is not None else None,
                tuple(_person(s, present) for s in theirs if s.member.id in present),
                tuple(_person(s, present) for s in theirs if s.member.id not in present),
            )
        )
    agenda = await repo.agenda_of(session, meeting_id)
    items = tuple(
        MinutesItem(
            position=n,
            text=item.text,
            outcome=_shown_outcome(item, decision),
            # A linked decision still open has no outcome yet: the coordinator's words say it.
            decision=(decision.outcome_text or (None if item.outcome_note else decision.question))
            if decision
            else None,
            note=item.outcome_note,
        )
        for n, (item, decision) in enumerate(agenda, start=1)
    )
    tasks = await repo.tasks_of(session, meeting_id)
    assignees = {
        s.member.id: s
        for s in await repo.members_by_id(session, [t.assignee_member_id for t in tasks])
    }
    content = MinutesContent(
        union=union.name,
        table=meeting.table,
        kind=record.kind if record is not None else MeetingKind.MEETING,
        theme=record.theme if record is not None else None,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        timezone=union.timezone,
        place=meeting.place,
        comuni=tuple(lines),
        guests=tuple(
            MinutesGuest(g.name, g.organisation, g.mode == AttendanceMode.ONLINE)
            for g in await attendance_repo.guests_of(session, meeting_id)
        ),
        items=items,
        tasks=tuple(
            MinutesTask(_person(assignees[t.assignee_member_id], {}), t.text, t.due_on)
            for t in tasks
            if t.assignee_member_id in assignees
        ),
        notes=minutes.notes if minutes is not None else None,
    )
    people = tuple(
        (
            _person(s, present),
            s.member.id in present,
            ", ".join(names[c] for c in s.comune_ids if c in names),
        )
        for s in sorted(everyone, key=lambda s: (_sort_name(s), s.member.id))
    )
    named = {s.person.id for s in (*everyone, *assignees.values()) if s.person is not None}
    item_ids = tuple(i.id for i, _d in agenda)
    questions = {i.id: (d.id, d.status) for i, d in agenda if d is not None and _waiting(i, d)}
    return _Read(
        meeting, union, minutes, content, people, item_ids, tuple(sorted(named)), questions
    )


# A question closed elsewhere (the group's outcome button) before the minutes were approved:
# the register's outcome is the one the minutes say.
_FROM_REGISTER = {
    DecisionStatus.APPROVED: ItemOutcome.APPROVED,
    DecisionStatus.DONE: ItemOutcome.APPROVED,
    DecisionStatus.REJECTED: ItemOutcome.REJECTED,
}


def _waiting(item: AgendaItem, decision: Decision) -> bool:
    """The item stands for a question of the register still waiting for the political table."""
    return item.source == AgendaSource.QUESTION and decision.status.waiting


def _shown_outcome(item: AgendaItem, decision: Decision | None) -> ItemOutcome | None:
    """The item's outcome as the minutes say it. For a question of the register: «Decisa», set
    before questions had their own cycle, is no outcome yet (the register must know which); once
    the register closed it elsewhere, its outcome there wins over the one set in the draft, so
    the minutes and the register never disagree."""
    if decision is None or item.source != AgendaSource.QUESTION or item.outcome is None:
        return item.outcome
    if _waiting(item, decision):
        return None if item.outcome == ItemOutcome.DECIDED else item.outcome
    if item.outcome in _REGISTER_OUTCOME:
        return _FROM_REGISTER.get(decision.status, item.outcome)
    return item.outcome


# What approval records in the register for a question the meeting decided, or postponed.
_REGISTER_OUTCOME = {
    ItemOutcome.APPROVED: DecisionStatus.APPROVED,
    ItemOutcome.REJECTED: DecisionStatus.REJECTED,
    ItemOutcome.POSTPONED: DecisionStatus.POSTPONED,
}


def _recorded(outcome: ItemOutcome | None, now: DecisionStatus) -> DecisionStatus | None:
    """What approving the minutes records in the register for a question waiting there (`now`
    its status) that the meeting gave `outcome`: None for «Per informazione», none yet, or a
    question postponed before and postponed again (nothing new to tell). The draft's
    confirmation says it (`PanelItem.closes_question`), the approval does it."""
    recorded = _REGISTER_OUTCOME.get(outcome) if outcome is not None else None
    return None if recorded is None or recorded == now or not now.waiting else recorded


def _sort_name(someone: Someone) -> str:
    name = shown_name(someone.person)
    return "~" if name is FORMER_MEMBER else str(name).casefold()


# --- the draft, after the meeting (the tick) --------------------------------------------------


async def meetings_owing_draft(session: AsyncSession, *, now: datetime) -> list[int]:
    found = await repo.meetings_owing_draft(session, now=now, since=now - DRAFT_LOOKBACK)
    return [m.id for m in found]


async def draft_minutes(
    session: AsyncSession, *, meeting_id: int, now: datetime, language: str
) -> bool:
    """The draft row, and the draft to each coordinator of the Union in private (in their
    language), with its buttons. Once: False when another tick made it."""
    read = await _read(session, meeting_id)
    if read is None or not await repo.start_draft(session, meeting=read.meeting, now=now):
        return False
    queued = False
    for member, person in await core_repo.coordinators(session, read.union.id):
        if person.telegram_user_id is None or person.erased_at is not None:
            continue
        tr = person_translator(person.language, person.telegram_language, language)
        text, keyboard = views.render_panel(_panel(read, member), views.MAIN, tr)
        queued |= await outbox_repo.enqueue(
            session,
            dedup_key=f"{DRAFT_KEY}{meeting_id}{key_suffix(person.id)}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
            now=now,
            union_id=read.union.id,
            person_id=person.id,
            names=read.named,
        )
    logger.info("Meeting %s: minutes drafted", meeting_id)
    return queued


# --- the coordinator's panel -----------------------------------------------------------------


def _panel(read: _Read, reader: Member) -> views.Panel:
    """The draft as the coordinator `reader` corrects it: told when the draft lists them absent
    (the usual case of the one who ran the meeting and did not check in)."""
    return views.Panel(
        meeting_id=read.meeting.id,
        content=read.content,
        items=tuple(
            _panel_item(read, item_id, item)
            for item_id, item in zip(read.item_ids, read.content.items, strict=True)
        ),
        people=tuple(views.PanelPerson(p, present, comuni) for p, present, comuni in read.people),
        reader_absent=any(
            p.member_id == reader.id and not present for p, present, _c in read.people
        ),
    )


def _panel_item(read: _Read, item_id: int, item: MinutesItem) -> views.PanelItem:
    question = read.questions.get(item_id)
    return views.PanelItem(
        item_id,
        item.position,
        item.text,
        item.outcome,
        item.note,
        question=question is not None,
        closes_question=question is not None and _recorded(item.outcome, question[1]) is not None,
    )


async def _coordinating(
    session: AsyncSession, meeting_id: int, telegram_user_id: int
) -> tuple[_Read, Member] | Refused:
    """The draft and the presser's membership, when they coordinate the meeting's Union."""
    found = await repo.meeting_and_union(session, meeting_id)
    if found is None:
        return Refused("gone")
    member = await member_for(
        session, union_id=found[1].id, telegram_user_id=telegram_user_id, coordinator=True
    )
    if member == "not_member":
        return Refused("gone")  # another Union's minutes: nothing to see
    if isinstance(member, str):
        return Refused(member)
    read = await _read(session, meeting_id)
    if read is None or read.minutes is None:
        return Refused("gone")
    if read.minutes.status != MinutesStatus.DRAFT:
        return Refused("approved")
    return read, member


async def panel(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int
) -> views.Panel | Refused:
    checked = await _coordinating(session, meeting_id, telegram_user_id)
    return checked if isinstance(checked, Refused) else _panel(*checked)


async def set_outcome(
    session: AsyncSession,
    *,
    meeting_id: int,
    item_id: int,
    outcome: ItemOutcome,
    telegram_user_id: int,
) -> views.Panel | Refused:
    """An agenda item's outcome. At approval «Decisa» records a decision in the register, and a
    question waiting in the register (`_Read.questions`) is closed with its outcome; an outcome
    outside the item's cycle (a button of an older draft, or forged) is refused."""
    checked = await _coordinating(session, meeting_id, telegram_user_id)
    if isinstance(checked, Refused):
        return checked
    read = checked[0]
    item = await repo.agenda_item(session, item_id)
    cycle = views.QUESTION_CYCLE if item_id in read.questions else views.ITEM_CYCLE
    if item is None or item_id not in read.item_ids or outcome not in cycle:
        return Refused("stale")
    item.outcome = outcome
    await session.flush()
    return await panel(session, meeting_id=meeting_id, telegram_user_id=telegram_user_id)


@dataclass(frozen=True)
class PresenceSet:
    """The draft after a presence was corrected, and the chats whose attendance list now owes
    an edit (`message_refresh.request`)."""

    panel: views.Panel
    dirty_chat_ids: tuple[int, ...]


async def set_present(
    session: AsyncSession,
    *,
    meeting_id: int,
    member_id: int,
    present: bool | None,
    telegram_user_id: int,
    now: datetime,
) -> PresenceSet | Refused:
    """One tap (`present` None): the next of assente → in presenza → online, the roster's own
    cycle (`attendance.next_mode`), so the two screens never disagree on how someone attended.
    True / False: in presenza / assente, as a button of an older draft says (a second press of
    it changes nothing). Attendance's own write (`attendance.record_presence`), so the group's
    list follows."""
    checked = await _coordinating(session, meeting_id, telegram_user_id)
    if isinstance(checked, Refused):
        return checked
    read, coordinator = checked
    shown = {
        p.member_id: (AttendanceMode.ONLINE if p.online else AttendanceMode.IN_PERSON)
        if is_present
        else None
        for p, is_present, _c in read.people
    }
    if member_id not in shown:
        return Refused("stale")
    current = shown[member_id]
    if present is None:
        mode = attendance.next_mode(current)
    elif present == (current is not None):  # an older button: already as it says (online too)
        mode = current
    else:
        mode = AttendanceMode.IN_PERSON if present else None
    dirty = None
    if mode != current:
        dirty = await attendance.record_presence(
            session,
            meeting_id=meeting_id,
            member_id=member_id,
            mode=mode,
            by=coordinator.id,
            now=now,
        )
    after = await panel(session, meeting_id=meeting_id, telegram_user_id=telegram_user_id)
    return after if isinstance(after, Refused) else PresenceSet(after, dirty or ())


async def start_notes(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime
) -> views.Panel | Refused:
    """«📝 Note»: the coordinator's next private message is the notes (a day to write them)."""
    checked = await _coordinating(session, meeting_id, telegram_user_id)
    if isinstance(checked, Refused):
        return checked
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        flow=NOTES_FLOW,
        step="notes",
        data={"meeting_id": meeting_id},
        now=now,
        ttl=timedelta(days=1),
    )
    return _panel(*checked)


@dataclass(frozen=True)
class NotesTooLong:
    limit: int


@dataclass(frozen=True)
class NothingWritten:
    """A message without text (a photo, a sticker) where words were asked: still asked. Only
    «-» clears what was written."""


@dataclass(frozen=True)
class OutcomeNoteAsked:
    """«✏️ N»: the item whose outcome the coordinator writes next."""

    item: views.PanelItem


async def start_outcome_note(
    session: AsyncSession, *, meeting_id: int, item_id: int, telegram_user_id: int, now: datetime
) -> OutcomeNoteAsked | Refused:
    """An item's «✏️»: the coordinator's next private message is its outcome in their words
    (within OUTCOME_NOTE_TTL: a text typed much later is meant for something else). Only an
    item with an outcome: the words say what became of it."""
    checked = await _coordinating(session, meeting_id, telegram_user_id)
    if isinstance(checked, Refused):
        return checked
    item = next((i for i in _panel(*checked).items if i.item_id == item_id), None)
    if item is None or item.outcome is None:
        return Refused("stale")
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        flow=OUTCOME_NOTE_FLOW,
        step="note",
        data={"meeting_id": meeting_id, "item_id": item_id},
        now=now,
        ttl=OUTCOME_NOTE_TTL,
    )
    return OutcomeNoteAsked(item)


async def save_outcome_note(
    session: AsyncSession, *, meeting_id: int, item_id: int, telegram_user_id: int, text: str
) -> views.Panel | Refused | NotesTooLong | NothingWritten:
    """The item's outcome in the coordinator's words (see `_save_typed`). An item «Decisa» goes
    into the register with these words at approval, its own text as the question."""

    async def store(read: _Read, words: str | None) -> bool:
        item = await repo.agenda_item(session, item_id) if item_id in read.item_ids else None
        if item is not None:
            item.outcome_note = words
        return item is not None

    return await _save_typed(
        session, meeting_id, telegram_user_id, text, limit=OUTCOME_NOTE_LIMIT, store=store
    )


async def save_notes(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, text: str
) -> views.Panel | Refused | NotesTooLong | NothingWritten:
    """The typed notes of the minutes (see `_save_typed`)."""

    async def store(read: _Read, words: str | None) -> bool:
        assert read.minutes is not None  # a draft: _coordinating
        read.minutes.notes = words
        return True

    return await _save_typed(
        session, meeting_id, telegram_user_id, text, limit=NOTES_LIMIT, store=store
    )


async def _save_typed(
    session: AsyncSession,
    meeting_id: int,
    telegram_user_id: int,
    text: str,
    *,
    limit: int,
    store: Callable[[_Read, str | None], Awaitable[bool]],
) -> views.Panel | Refused | NotesTooLong | NothingWritten:
    """A text typed into the draft, given to `store` (None for «-», which clears it; False
    back: what it was for is gone). The dialogue ends, unless the text is too long or missing
    (a photo): then it is asked again. The draft as it now reads comes back."""
    checked = await _coordinating(session, meeting_id, telegram_user_id)
    if not isinstance(checked, Refused):
        read, coordinator = checked
        words = text.strip()
        if not words:
            return NothingWritten()
        if len(words) > limit:
            return NotesTooLong(limit)
        if not await store(read, None if words == "-" else words):
            checked = Refused("stale")
    await core_repo.clear_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
    )
    if isinstance(checked, Refused):
        return checked
    await session.flush()
    after = await _read(session, meeting_id)
    assert after is not None  # read in this transaction a moment ago
    return _panel(after, coordinator)


# --- approval -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approved:
    meeting_id: int
    number: int
    year: int
    content: MinutesContent
    # The chats whose message of a question closed here owes an edit (its vote buttons go).
    dirty_chat_ids: tuple[int, ...] = ()


async def approve(
    session: AsyncSession,
    *,
    meeting_id: int,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> Approved | Refused:
    """The number in the Union's year (of the meeting's date), the decisions recorded in the
    register, the content frozen. An item «Decisa» gets a decision: the item's text its
    question, the coordinator's words on the outcome what was decided. A question waiting in
    the register that the meeting approved, rejected or postponed is closed so, with those words
    (`summaries.close_decision`: the political group's message of the question loses its vote
    buttons, the technical table and the technician who asked are told, in `language`).
    Posting follows (`post_approved`), from the frozen content. Two coordinators approving at
    once: the second waits for the first (the row's lock) and is told they are approved; without
    the lock both read a draft and the decisions went twice into the register."""
    await repo.lock_minutes(session, meeting_id)
    checked = await _coordinating(session, meeting_id, telegram_user_id)
    if isinstance(checked, Refused):
        return checked
    read, coordinator = checked
    dirty: list[int] = []
    for item_id, item in zip(read.item_ids, read.content.items, strict=True):
        row = await repo.agenda_item(session, item_id)
        if row is not None and item_id in read.questions:
            dirty += await _close_question(
                session,
                read.questions[item_id][0],
                item.outcome,
                words=row.outcome_note,
                member_id=coordinator.id,
                now=now,
                language=language,
            )
        elif row is not None and item.outcome == ItemOutcome.DECIDED and row.decision_id is None:
            decision = await summaries_repo.add_decision(
                session,
                union_id=read.union.id,
                text=row.text,
                outcome_text=row.outcome_note,
                member_id=coordinator.id,
                now=now,
            )
            row.decision_id = decision.id
    read = await _read(session, meeting_id) or read  # with the decisions just recorded
    year = read.meeting.starts_at.astimezone(read.content.tz).year
    number = await repo.next_number(session, union_id=read.union.id, year=year)
    approver = (await repo.members_by_id(session, [coordinator.id]))[0]
    content = replace(
        read.content,
        number=number,
        year=year,
        approved_at=now,
        approved_by=replace(_person(approver, {}), online=False),
    )
    minutes = read.minutes
    assert minutes is not None
    minutes.status = MinutesStatus.APPROVED
    minutes.year, minutes.number = year, number
    minutes.frozen = document.to_json(content)
    minutes.approved_by_member_id = coordinator.id
    minutes.approved_at = now
    await session.flush()
    logger.info("Meeting %s: minutes approved as %s/%s", meeting_id, number, year)
    return Approved(meeting_id, number, year, content, tuple(dict.fromkeys(dirty)))


async def _close_question(
    session: AsyncSession,
    decision_id: int,
    outcome: ItemOutcome | None,
    *,
    words: str | None,
    member_id: int,
    now: datetime,
    language: str,
) -> list[int]:
    """The meeting's `outcome` of a question of the register, as `_recorded` says it, on its row
    locked and read again (a question closed meanwhile by the group's outcome button is left as
    the register says it); the chats whose message of it owes an edit."""
    decision = await summaries_repo.lock_decision(session, decision_id)
    recorded = _recorded(outcome, decision.status) if decision is not None else None
    if recorded is None:
        return []
    return await close_decision(
        session,
        decision_id=decision_id,
        member_id=member_id,
        outcome=recorded,
        now=now,
        language=language,
        at_meeting=True,
        words=words,
    )


# --- posting and filing -----------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesFile:
    name: str
    content: bytes
    caption: str


async def minutes_files(content: MinutesContent, *, language: str) -> list[MinutesFile]:
    """The .odt and the .pdf, written in a thread (CPU work, never on the event loop)."""
    tr = translator(language)
    odt, pdf = await asyncio.gather(
        asyncio.to_thread(document.write_odt, content, tr),
        asyncio.to_thread(document.write_pdf, content, tr),
    )
    stem, caption = document.file_stem(content), views.file_caption(content, tr)
    return [
        MinutesFile(f"{stem}.odt", odt, caption),
        MinutesFile(f"{stem}.pdf", pdf, caption),
    ]


async def minutes_to_post(session: AsyncSession) -> list[int]:
    return await repo.minutes_to_post(session)


async def frozen_content(session: AsyncSession, meeting_id: int) -> MinutesContent | None:
    minutes = await repo.minutes_of(session, meeting_id)
    if minutes is None or minutes.frozen is None:
        return None
    return document.from_json(minutes.frozen)


async def queue_posting(
    session: AsyncSession, *, meeting_id: int, files: Sequence[MinutesFile], now: datetime
) -> bool:
    """The files to the table's group (both groups for a meeting of both tables; each
    coordinator in private where no group is linked), once: their outbox keys."""
    found = await repo.meeting_and_union(session, meeting_id)
    minutes = await repo.minutes_of(session, meeting_id)
    if found is None or minutes is None or minutes.status != MinutesStatus.APPROVED:
        return False
    meeting, union = found
    content = document.from_json(minutes.frozen or "")
    named = [
        s.person.id
        for s in await repo.members_by_id(session, sorted(content.member_ids()))
        if s.person is not None
    ]
    if not await core_repo.claim(
        session,
        kind=repo.POSTED_CLAIM,
        union_id=union.id,
        period=repo.posted_period(meeting_id),
        now=now,
    ):
        return False  # queued already (another tick, or the approval's own handler)
    queued = False
    for kind in rules.table_kinds(meeting.table):
        for chat_id, person_id in await table_targets(session, union.id, kind):
            for file in files:
                ext = file.name.rsplit(".", 1)[-1]
                queued |= await outbox_repo.enqueue(
                    session,
                    dedup_key=f"{repo.POSTED_PREFIX}{meeting_id}:{kind.value}:{ext}{key_suffix(person_id)}",
                    chat_id=chat_id,
                    method="sendDocument",
                    payload={"caption": file.caption},
                    now=now,
                    union_id=union.id,
                    person_id=person_id,
                    file_name=file.name,
                    file_data=file.content,
                    names=named,
                )
    return queued


# --- /verbali: the Union's approved minutes -----------------------------------------------------


@dataclass(frozen=True)
class Filed:
    union_id: int
    union_name: str
    timezone: str
    entries: tuple[views.FiledEntry, ...]  # newest first
    drafts: tuple[views.FiledEntry, ...] = ()  # for a coordinator: the drafts to correct

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


async def filed(session: AsyncSession, *, member_id: int) -> Filed | None:
    """The approved minutes of the member's Union (any active member reads them); for a
    coordinator also the drafts, to open again (the draft's own message may be long gone)."""
    member = await session.get(Member, member_id)
    union = await session.get(Union, member.union_id) if member is not None else None
    if member is None or union is None or member.status != MemberStatus.ACTIVE:
        return None
    entries = tuple(
        views.FiledEntry(m.meeting_id, m.number or 0, m.year or 0, meeting.starts_at, meeting.title)
        for m, meeting in await repo.approved_of(session, union.id)
    )
    drafts: tuple[views.FiledEntry, ...] = ()
    if member.is_coordinator:
        drafts = tuple(
            views.FiledEntry(m.meeting_id, 0, 0, meeting.starts_at, meeting.title)
            for m, meeting in await repo.drafts_of(session, union.id)
        )
    return Filed(union.id, union.name, union.timezone, entries, drafts)


async def filed_content(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int
) -> MinutesContent | Refused:
    """An approved minutes' content, for a member of its Union only («gone» for anyone else:
    a member of another Union learns nothing, not even that it exists)."""
    minutes = await repo.minutes_of(session, meeting_id)
    if minutes is None or minutes.frozen is None:
        return Refused("gone")
    member = await member_for(session, union_id=minutes.union_id, telegram_user_id=telegram_user_id)
    return Refused("gone") if isinstance(member, str) else document.from_json(minutes.frozen)


# --- /cancellami -------------------------------------------------------------------------------


async def forget_member(session: AsyncSession, *, person_id: int) -> int:
    """/cancellami: the person's name goes from the approved minutes' frozen content too (it
    reads «ex membro», as in a draft, which is read afresh from the rows). The record stays: who
    was there by role and Comune, what was decided; the files already posted to the group are
    the members' copies, and the bot's copies of them are wiped (the outbox's mentions).
    Returns how many minutes changed."""
    members = await repo.members_of_person(session, person_id)
    changed = 0
    for minutes in await repo.frozen_of_unions(session, sorted({m.union_id for m in members})):
        assert minutes.frozen is not None
        content = document.from_json(minutes.frozen)
        forgotten = content
        for member in members:
            forgotten = forgotten.without(member.id)
        if forgotten != content:
            minutes.frozen = document.to_json(forgotten)
            changed += 1
    return changed
