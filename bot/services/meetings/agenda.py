"""A meeting's agenda (ordine del giorno): drafted when the meeting is fixed, completed by the
table's proposals, ordered and confirmed by the coordinator, sent with the convocation
(`CONVOCATION_DAYS` before, and in the .ics), again with the day-before reminder if it changed.

The rules are in docs/DESIGN.md, «The meeting itself: agenda». Pure rules first (unit tests:
tests/unit/test_agenda_rules.py), then the use cases (a session and plain values in, a frozen
dataclass or an `AgendaRefused` out; what goes to other people is queued in the outbox).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, translator
from bot.services.display_text import clean_display_text
from bot.services.meetings.access import member_for
from bot.services.meetings.invites import meeting_ics, meeting_union_id, queue_with_invite
from bot.services.meetings.polls import person_translator, table_chats
from bot.services.meetings.rules import sits_at
from bot.services.repeats import normalise
from bot.services.start_links import make_link, parse_link
from bot.services.summaries.summary import MONITORING, Milestone, next_milestones
from bot.views import agenda as views
from bot.views.keyboard import Keyboard, to_dict
from bot.views.meetings import render_updated_ics_caption
from bot.views.names import person_name
from storage.models import (
    AgendaItem,
    AgendaSource,
    AgendaStatus,
    Decision,
    DecisionStatus,
    Meeting,
    MeetingRecord,
    MeetingTask,
    Member,
    Person,
    PollTable,
    Union,
)
from storage.repositories import agenda as repo
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories.people import shown_name

logger = logging.getLogger(__name__)

# The convocation goes to the table's groups this many days before the meeting (DESIGN.md).
CONVOCATION_DAYS = 5
# A meeting fixed with fewer days left: the coordinator has this long to order and confirm
# the draft before the convocation goes anyway, and never less than `LAST_CALL` before it.
CONFIRM_GRACE = timedelta(hours=24)
LAST_CALL = timedelta(hours=36)
# Decisions taken this long before a first meeting are still passed on to it.
FIRST_LOOKBACK = timedelta(days=62)
# Covenant reports due within this many days of the meeting are put on its agenda.
DEADLINE_HORIZON_DAYS = 61
MAX_ITEMS = 15
ITEM_MAX_CHARS = 200
PROPOSAL_FLOW = "agenda_item"
# t.me/<bot>?start=ap-<meeting>: «📝 Proponi un punto» for someone the bot may not write to yet.
LINK_PROPOSE = "ap"
START_LINKS = (LINK_PROPOSE,)
_SHOWN = (AgendaStatus.ACCEPTED,)
_LIVE = (AgendaStatus.ACCEPTED, AgendaStatus.PROPOSED)


# --- pure rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Drafted:
    source: AgendaSource
    text: str
    decision_id: int | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class Pending:
    """What is pending for a Union when a meeting is fixed (read by `pending_for`)."""

    questions: tuple[Decision, ...]  # waiting for the political table (open or postponed)
    decided: tuple[Decision, ...]  # taken since the last meeting: to pass on
    tasks: tuple[MeetingTask, ...]  # still open
    milestones: tuple[Milestone, ...]  # Covenant reports due soon after the meeting
    typed: str | None = None  # the agenda the coordinator typed in /riunione, if any


def shorten(text: str, limit: int = ITEM_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def draft(pending: Pending, table: PollTable, tr: Translator) -> list[Drafted]:
    """The draft's items, in this order: the lines the coordinator typed in /riunione,
    Covenant deadlines, questions for the political table
    (political or joint meetings), decisions to pass on (technical or joint meetings), open
    tasks (the overdue ones first, as `pending.tasks` is sorted by date). At most MAX_ITEMS."""
    items = [Drafted(AgendaSource.COORDINATOR, line) for line in typed_lines(pending.typed)]
    items += [
        Drafted(AgendaSource.DEADLINE, views.deadline_item(m.kinds == (MONITORING,), m.due, tr))
        for m in pending.milestones
    ]
    if table in (PollTable.POLITICAL, PollTable.BOTH):
        items += [
            Drafted(AgendaSource.QUESTION, shorten(d.question), decision_id=d.id)
            for d in pending.questions
        ]
    if table in (PollTable.TECHNICAL, PollTable.BOTH):
        items += [
            Drafted(
                AgendaSource.DECISION,
                shorten(views.decision_item(d.status == DecisionStatus.APPROVED, d.question, tr)),
                decision_id=d.id,
            )
            for d in pending.decided
        ]
    items += [Drafted(AgendaSource.TASK, shorten(t.text), task_id=t.id) for t in pending.tasks]
    return items[:MAX_ITEMS]


_NUMBERING = re.compile(r"^\s*(?:\d{1,2}\s*[.)\-:]|[-•*])\s*")


def typed_lines(typed: str | None) -> list[str]:
    """The agenda typed in /riunione, one item a line, without the typed numbering."""
    lines = (_NUMBERING.sub("", line, count=1) for line in (typed or "").splitlines())
    return [shorten(line) for line in lines if line.strip()]


def start_link(meeting_id: int) -> str:
    return make_link(LINK_PROPOSE, meeting_id, START_LINKS)


def parse_start_link(payload: str | None) -> tuple[str, int] | None:
    return parse_link(payload, START_LINKS)


def agenda_hash(texts: Sequence[str]) -> str:
    """What the groups were sent, to tell whether the agenda changed since."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def convocation_at(starts_at: datetime, created_at: datetime) -> datetime:
    """When the convocation is due: `CONVOCATION_DAYS` before; for a meeting fixed later than
    that, once the coordinator confirmed or `CONFIRM_GRACE` after, but never later than
    `LAST_CALL` before the start (the tick's probe asks the same in SQL)."""
    window = starts_at - timedelta(days=CONVOCATION_DAYS)
    return max(window, min(created_at + CONFIRM_GRACE, starts_at - LAST_CALL))


def convocation_bounds(now: datetime) -> dict[str, datetime]:
    """The probe's bounds at `now` (repo.convocations_owed)."""
    return {
        "window_end": now + timedelta(days=CONVOCATION_DAYS),
        "grace_since": now - CONFIRM_GRACE,
        "soon": now + LAST_CALL,
    }


def swapped(ids: Sequence[int], item_id: int, delta: int) -> list[int] | None:
    """The order after moving `item_id` by `delta` (-1 up, +1 down); None at an end."""
    order = list(ids)
    at = order.index(item_id)
    to = at + delta
    if not 0 <= to < len(order):
        return None
    order[at], order[to] = order[to], order[at]
    return order


def check_item_text(raw: str) -> str | tuple[str, int]:
    """The text to store, or a refusal (reason, its number) for an empty or too long one."""
    text = clean_display_text(raw)
    if not text:
        return ("empty", 0)
    if len(text) > ITEM_MAX_CHARS:
        return ("too_long", ITEM_MAX_CHARS)
    return text


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaRefused:
    """`reason`: a key of bot.views.agenda's refusals; `n` its number, if it has one."""

    reason: str
    n: int = 0


async def pending_for(session: AsyncSession, meeting: Meeting, union: Union) -> Pending:
    since = await repo.previous_meeting_start(session, meeting)
    since = since or meeting.created_at - FIRST_LOOKBACK
    today = meeting.created_at.astimezone(ZoneInfo(union.timezone)).date()
    meeting_day = meeting.starts_at.astimezone(ZoneInfo(union.timezone)).date()
    milestones: list[Milestone] = []
    if union.paes_approved_on is not None:
        horizon = (meeting_day - today).days + DEADLINE_HORIZON_DAYS
        milestones = next_milestones(union.paes_approved_on, today, horizon_days=horizon)
    return Pending(
        questions=tuple(
            await repo.decisions_in(
                session,
                union_id=union.id,
                statuses=(DecisionStatus.OPEN, DecisionStatus.POSTPONED),
            )
        ),
        decided=tuple(
            await repo.decisions_closed_since(
                session,
                union_id=union.id,
                since=since,
                statuses=(DecisionStatus.APPROVED, DecisionStatus.REJECTED),
            )
        ),
        tasks=tuple(await repo.open_tasks(session, union_id=union.id)),
        milestones=tuple(milestones),
        typed=meeting.agenda,
    )


async def agenda_view(session: AsyncSession, meeting: Meeting) -> views.AgendaView | None:
    union = await session.get(Union, meeting.union_id)
    record = await repo.record_of(session, meeting.id)
    if union is None or record is None:
        return None
    items = await repo.items_of(session, meeting.id, statuses=_SHOWN)
    return views.AgendaView(
        meeting_id=meeting.id,
        title=meeting.title,
        starts_at=meeting.starts_at,
        tz=ZoneInfo(union.timezone),
        place=meeting.place,
        items=tuple(views.ItemView(i.id, i.source, i.text) for i in items),
        confirmed=record.agenda_confirmed_at is not None,
        convoked=record.convocation_sent_at is not None,
        convocation_at=record.convocation_sent_at
        or convocation_at(meeting.starts_at, meeting.created_at),
    )


# --- drafting (closing.close_poll) --------------------------------------------------------


async def draft_agenda(
    session: AsyncSession, *, meeting: Meeting, now: datetime, language: str
) -> MeetingRecord:
    """Draft the agenda of a meeting just fixed, once (its record says it was), and send the
    draft to each coordinator in private, in their language, with the panel's buttons."""
    record = await repo.record_of(session, meeting.id)
    if record is not None:
        return record
    union = await session.get(Union, meeting.union_id)
    assert union is not None
    record = await repo.add_record(session, meeting.id)
    drafted = draft(await pending_for(session, meeting, union), meeting.table, translator(language))
    session.add_all(
        AgendaItem(
            meeting_id=meeting.id,
            position=n,
            source=d.source,
            text=d.text,
            status=AgendaStatus.ACCEPTED,
            decision_id=d.decision_id,
            task_id=d.task_id,
            created_at=now,
        )
        for n, d in enumerate(drafted, 1)
    )
    await session.flush()
    view = await agenda_view(session, meeting)
    assert view is not None
    await _to_coordinators(
        session,
        meeting,
        key=f"agddraft:{meeting.id}",
        render=lambda tr, _person: views.render_drafted(view, tr),
        now=now,
        language=language,
    )
    logger.info("Meeting %s: agenda drafted with %d items", meeting.id, len(drafted))
    return record


# --- the coordinator's panel --------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    view: views.AgendaView


def agenda_open(meeting: Meeting, now: datetime) -> bool:
    """The meeting's agenda can still change: the meeting neither cancelled nor begun."""
    return meeting.cancelled_at is None and meeting.starts_at > now


async def _open_meeting(session: AsyncSession, meeting_id: int, now: datetime) -> Meeting | None:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or not agenda_open(meeting, now):
        return None
    if await repo.record_of(session, meeting.id) is None:
        return None
    return meeting


async def _member_for(
    session: AsyncSession,
    meeting_id: int,
    telegram_user_id: int,
    now: datetime,
    *,
    coordinator: bool,
) -> tuple[Meeting, Member] | AgendaRefused:
    """The open meeting and the presser's membership: a coordinator of its Union when
    `coordinator`, else a member who sits at its table."""
    meeting = await _open_meeting(session, meeting_id, now)
    if meeting is None:
        return AgendaRefused("gone")
    member = await member_for(
        session,
        union_id=meeting.union_id,
        telegram_user_id=telegram_user_id,
        coordinator=coordinator,
    )
    if isinstance(member, str):
        return AgendaRefused(member)
    if not sits_at(meeting.table, role=member.role, is_coordinator=member.is_coordinator):
        return AgendaRefused("not_at_table")
    return meeting, member


async def _coordinated(
    session: AsyncSession, meeting_id: int, telegram_user_id: int, now: datetime
) -> tuple[Meeting, Member] | AgendaRefused:
    return await _member_for(session, meeting_id, telegram_user_id, now, coordinator=True)


async def _item_coordinated(
    session: AsyncSession, item_id: int, telegram_user_id: int, now: datetime
) -> tuple[AgendaItem, Meeting] | AgendaRefused:
    """An item and its open meeting, for a coordinator of its Union."""
    item = await session.get(AgendaItem, item_id)
    if item is None:
        return AgendaRefused("item_gone")
    found = await _coordinated(session, item.meeting_id, telegram_user_id, now)
    return found if isinstance(found, AgendaRefused) else (item, found[0])


async def _panel(session: AsyncSession, meeting: Meeting) -> Panel:
    view = await agenda_view(session, meeting)
    assert view is not None
    return Panel(view)


async def meeting_of_item(session: AsyncSession, item_id: int | None) -> int | None:
    item = await session.get(AgendaItem, item_id) if item_id is not None else None
    return item.meeting_id if item is not None else None


async def union_of_item(session: AsyncSession, item_id: int | None) -> int | None:
    return await meeting_union_id(session, await meeting_of_item(session, item_id))


async def open_panel(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime
) -> Panel | AgendaRefused:
    found = await _coordinated(session, meeting_id, telegram_user_id, now)
    return found if isinstance(found, AgendaRefused) else await _panel(session, found[0])


async def move_item(
    session: AsyncSession, *, item_id: int, delta: int, telegram_user_id: int, now: datetime
) -> Panel | AgendaRefused:
    """↑ (-1), ↓ (+1) or ✖ (0: off the agenda) on one accepted item."""
    found = await _item_coordinated(session, item_id, telegram_user_id, now)
    if isinstance(found, AgendaRefused):
        return found
    item, meeting = found
    items = await repo.items_of(session, meeting.id, statuses=_SHOWN)
    if item not in items:
        return AgendaRefused("item_gone")
    if delta == 0:
        item.status = AgendaStatus.DECLINED
    elif (order := swapped([i.id for i in items], item.id, delta)) is not None:
        by_id = {i.id: i for i in items}
        for position, moved in enumerate(order, 1):
            by_id[moved].position = position
    await session.flush()
    return await _panel(session, meeting)


async def confirm_agenda(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime
) -> Panel | AgendaRefused:
    found = await _coordinated(session, meeting_id, telegram_user_id, now)
    if isinstance(found, AgendaRefused):
        return found
    record = await repo.record_of(session, meeting_id)
    assert record is not None
    if record.agenda_confirmed_at is None:
        record.agenda_confirmed_at = now
        await session.flush()
    return await _panel(session, found[0])


# --- proposals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """The dialogue is open: the person writes the item in private."""

    view: views.AgendaView
    coordinator: bool


async def ask_item(
    session: AsyncSession, *, meeting_id: int, telegram_user_id: int, now: datetime
) -> Asked | AgendaRefused:
    """«📝 Proponi un punto»: open the private dialogue (restart-safe: the database holds it)."""
    found = await _member_for(session, meeting_id, telegram_user_id, now, coordinator=False)
    if isinstance(found, AgendaRefused):
        return found
    meeting, member = found
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        flow=PROPOSAL_FLOW,
        step="text",
        data={"union_id": meeting.union_id, "meeting_id": meeting.id},
        now=now,
    )
    view = await agenda_view(session, meeting)
    assert view is not None
    return Asked(view=view, coordinator=member.is_coordinator)


@dataclass(frozen=True)
class ItemProposed:
    item_id: int


async def write_item(
    session: AsyncSession,
    *,
    meeting_id: int,
    telegram_user_id: int,
    chat_id: int,
    text: str,
    now: datetime,
    language: str,
) -> Panel | ItemProposed | AgendaRefused:
    """The item written: a coordinator's goes on the agenda (the panel again); a member's is
    proposed to the coordinators, each with «✅ Accetta» «❌ Rifiuta». A bad text keeps the
    dialogue open; anything else ends it."""
    checked = check_item_text(text)
    if isinstance(checked, tuple):
        return AgendaRefused(*checked)
    # A text was written: whatever follows, the dialogue ends here.
    await core_repo.clear_conversation(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
    found = await _member_for(session, meeting_id, telegram_user_id, now, coordinator=False)
    if isinstance(found, AgendaRefused):
        return found
    meeting, member = found
    live = await repo.items_of(session, meeting.id, statuses=_LIVE)
    if any(normalise(i.text) == normalise(checked) for i in live):
        return AgendaRefused("repeat")
    if len(live) >= MAX_ITEMS:
        return AgendaRefused("full", MAX_ITEMS)
    item = AgendaItem(
        meeting_id=meeting.id,
        position=await repo.next_position(session, meeting.id),
        source=AgendaSource.COORDINATOR if member.is_coordinator else AgendaSource.PROPOSAL,
        text=checked,
        status=AgendaStatus.ACCEPTED if member.is_coordinator else AgendaStatus.PROPOSED,
        proposed_by_member_id=member.id,
        created_at=now,
    )
    session.add(item)
    await session.flush()
    if member.is_coordinator:
        return await _panel(session, meeting)
    await _offer_to_coordinators(session, meeting, item, member, now=now, language=language)
    return ItemProposed(item.id)


async def _offer_to_coordinators(
    session: AsyncSession,
    meeting: Meeting,
    item: AgendaItem,
    member: Member,
    *,
    now: datetime,
    language: str,
) -> None:
    view = await agenda_view(session, meeting)
    assert view is not None
    name = shown_name(await session.get(Person, member.person_id))
    await _to_coordinators(
        session,
        meeting,
        key=f"agdprop:{item.id}",
        render=lambda tr, _person: views.render_proposal(
            view, item.id, person_name(name, tr), item.text, tr
        ),
        now=now,
        language=language,
        names=(member.person_id,),
    )


async def _to_coordinators(
    session: AsyncSession,
    meeting: Meeting,
    *,
    key: str,
    render: Callable[[Translator, Person], tuple[str, Keyboard | None]],
    now: datetime,
    language: str,
    names: tuple[int, ...] = (),
) -> None:
    """Queue a message with its buttons to each coordinator of the meeting's Union, in private,
    in their language (`names`: the people other than them whom the text names)."""
    for _coordinator, person in await core_repo.coordinators(session, meeting.union_id):
        if person.telegram_user_id is None:
            continue
        text, keyboard = render(
            person_translator(person.language, person.telegram_language, language), person
        )
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{key}:{person.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
            union_id=meeting.union_id,
            person_id=person.id,
            now=now,
            names=names,
        )


@dataclass(frozen=True)
class ProposalAnswered:
    accepted: bool
    text: str
    view: views.AgendaView  # the agenda after the answer (the panel, shown in its place)


async def answer_proposal(
    session: AsyncSession,
    *,
    item_id: int,
    accept: bool,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> ProposalAnswered | AgendaRefused:
    """One tap: the proposal goes on the agenda (last) or not, once; the proposer is told."""
    found = await _item_coordinated(session, item_id, telegram_user_id, now)
    if isinstance(found, AgendaRefused):
        return found
    item, meeting = found
    if accept and len(await repo.items_of(session, meeting.id, statuses=_SHOWN)) >= MAX_ITEMS:
        return AgendaRefused("full", MAX_ITEMS)
    position = await repo.next_position(session, meeting.id) if accept else None
    to = AgendaStatus.ACCEPTED if accept else AgendaStatus.DECLINED
    if not await repo.decide_item(session, item_id=item.id, to=to, position=position):
        return AgendaRefused("decided")
    await session.refresh(item)
    await _tell_proposer(session, meeting, item, accepted=accept, now=now, language=language)
    panel = await _panel(session, meeting)
    return ProposalAnswered(accepted=accept, text=item.text, view=panel.view)


async def _tell_proposer(
    session: AsyncSession,
    meeting: Meeting,
    item: AgendaItem,
    *,
    accepted: bool,
    now: datetime,
    language: str,
) -> None:
    member = (
        await session.get(Member, item.proposed_by_member_id)
        if item.proposed_by_member_id
        else None
    )
    person = await session.get(Person, member.person_id) if member else None
    view = await agenda_view(session, meeting)
    if person is None or person.telegram_user_id is None or view is None:
        return
    tr = person_translator(person.language, person.telegram_language, language)
    await outbox_repo.enqueue(
        session,
        dedup_key=f"agdans:{item.id}",
        chat_id=person.telegram_user_id,
        method="sendMessage",
        payload={
            "text": views.render_proposer_told(accepted, item.text, view, tr),
            "parse_mode": "HTML",
        },
        union_id=meeting.union_id,
        person_id=person.id,
        now=now,
    )


# --- the convocation (the tick) -----------------------------------------------------------


async def meetings_to_convoke(session: AsyncSession, *, now: datetime) -> list[int]:
    return await repo.meetings_to_convoke(session, now, **convocation_bounds(now))


async def convoke(session: AsyncSession, *, meeting_id: int, now: datetime, language: str) -> bool:
    """Send the convocation once (its status transition): the agenda to the table's groups,
    with «📝 Proponi un punto», and the .ics whose description carries it. A meeting fixed
    before the agenda existed gets its draft first. True when queued now."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.cancelled_at is not None:
        return False
    await draft_agenda(session, meeting=meeting, now=now, language=language)
    view = await agenda_view(session, meeting)
    union = await session.get(Union, meeting.union_id)
    assert view is not None and union is not None
    texts = [i.text for i in view.items]
    if not await repo.mark_convoked(
        session, meeting_id=meeting.id, agenda_hash=agenda_hash(texts), now=now
    ):
        return False
    tr = translator(language)
    # The same event again (its UID), newer (SEQUENCE): calendars update it with the agenda.
    chats = await table_chats(session, union_id=meeting.union_id, table=meeting.table)
    await queue_with_invite(
        session,
        meeting=meeting,
        chat_ids=[link.chat_id for link in chats],
        keys=("agdconv", "agdics"),
        text=views.render_convocation(view, tr),
        keyboard=views.propose_keyboard(meeting.id, tr),
        invite=meeting_ics(
            meeting, union, tr, now, agenda=views.agenda_plain(view.items), sequence=1
        ),
        caption=render_updated_ics_caption(tr),
        tz=view.tz,
        now=now,
        expires_at=meeting.starts_at,
    )
    logger.info("Meeting %s: convocation queued with %d items", meeting.id, len(texts))
    return True


async def changed_since_convocation(
    session: AsyncSession, *, meeting: Meeting, tr: Translator
) -> str:
    """For the day-before reminder: the agenda again when it changed since the convocation
    (and the hash of what now went out is kept); '' otherwise."""
    record = await repo.record_of(session, meeting.id)
    if record is None or record.convocation_sent_at is None:
        return ""
    view = await agenda_view(session, meeting)
    assert view is not None
    now_hash = agenda_hash([i.text for i in view.items])
    if now_hash == record.agenda_sent_hash:
        return ""
    record.agenda_sent_hash = now_hash
    return views.render_agenda_changed(view.items, tr)
