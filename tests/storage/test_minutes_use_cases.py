"""The minutes' use cases without Telegram, on both databases (bot.services.meetings.minutes):
the draft once per meeting, who may correct and approve, the number per Union and year, the
posting queued once (and again by the tick after a crash), /verbali's reach, the erasure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.services import summaries
from bot.services.meetings import minutes
from bot.views.minutes import MinutesContent, from_json
from storage.db import Database
from storage.models import (
    AgendaItem,
    AgendaSource,
    AgendaStatus,
    Attendance,
    AttendanceMessage,
    AttendanceMode,
    Decision,
    DecisionMessage,
    DecisionStatus,
    DecisionVoteChoice,
    ItemOutcome,
    Minutes,
    OutboxMessage,
    PollTable,
    Role,
    TableKind,
)
from storage.repositories import attendance as attendance_repo
from storage.repositories import registration as registration_repo
from tests.factories import World, add_member, make_meeting, make_world


def _user(world: World, key: str) -> int:
    user = world.people[key].telegram_user_id
    assert user is not None
    return user


async def _held(db: Database, world: World, starts_at: datetime) -> int:
    """A political meeting held at `starts_at`, Sindaco 0 present, its draft made."""
    async with db.transaction() as session:
        meeting = await make_meeting(
            session, world, starts_at=starts_at, table=PollTable.POLITICAL, now=starts_at
        )
        session.add(
            Attendance(
                meeting_id=meeting.id,
                member_id=world.members["sindaco:0"].id,
                mode=AttendanceMode.IN_PERSON,
                recorded_at=starts_at,
            )
        )
        await session.flush()
        assert await minutes.draft_minutes(
            session, meeting_id=meeting.id, now=meeting.ends_at, language="it"
        )
        assert not await minutes.draft_minutes(
            session, meeting_id=meeting.id, now=meeting.ends_at, language="it"
        )
        return meeting.id


def _item(meeting_id: int, text: str, now: datetime, **more: object) -> AgendaItem:
    """An accepted agenda item of the coordinator, first on the agenda unless said."""
    fields: dict[str, object] = {
        "position": 1,
        "source": AgendaSource.COORDINATOR,
        "status": AgendaStatus.ACCEPTED,
    }
    return AgendaItem(meeting_id=meeting_id, text=text, created_at=now, **(fields | more))


async def _approve(db: Database, world: World, meeting_id: int, now: datetime) -> object:
    async with db.transaction() as session:
        return await minutes.approve(
            session,
            meeting_id=meeting_id,
            telegram_user_id=_user(world, "Carla Coordinatrice"),
            now=now,
            language="it",
        )


async def test_drafts_are_owed_once_the_meeting_ended(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
        ended = await make_meeting(session, world, starts_at=now - timedelta(hours=3))
        await make_meeting(session, world, starts_at=now + timedelta(hours=1))  # not yet
        await make_meeting(session, world, starts_at=now - timedelta(days=9))  # too long ago
        assert await minutes.meetings_owing_draft(session, now=now) == [ended.id]
        assert await minutes.draft_minutes(session, meeting_id=ended.id, now=now, language="it")
        assert await minutes.meetings_owing_draft(session, now=now) == []
        keys = (await session.execute(select(OutboxMessage.dedup_key))).scalars().all()
    coordinator = world.people["Carla Coordinatrice"].id
    assert keys == [f"minutes-draft:{ended.id}:p{coordinator}"]


async def test_the_draft_speaks_the_coordinators_telegram_language(
    db: Database, clock: FakeClock
) -> None:
    """A coordinator who never chose a language gets the draft in their Telegram one, as every
    other private message (bot.services.meetings.polls.person_translator)."""
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
        world.people["Carla Coordinatrice"].telegram_language = "en"
        ended = await make_meeting(session, world, starts_at=now - timedelta(hours=3))
        assert await minutes.draft_minutes(session, meeting_id=ended.id, now=now, language="it")
        payload = (await session.execute(select(OutboxMessage.payload))).scalar_one()
    assert "Draft minutes" in payload["text"], payload["text"]


async def test_only_a_coordinator_of_the_union_corrects_and_approves(
    db: Database, clock: FakeClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
        other = await make_world(session, name="Unione Bassa", actions_per_comune=0, now=now)
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    async with db.transaction() as session:
        sindaco = await minutes.approve(
            session,
            meeting_id=meeting_id,
            telegram_user_id=_user(world, "sindaco:0"),
            now=now,
            language="it",
        )
        stranger = await minutes.approve(
            session,
            meeting_id=meeting_id,
            telegram_user_id=_user(other, "Carla Coordinatrice"),
            now=now,
            language="it",
        )
        # A member not at the political table (a technician) cannot be toggled: stale.
        stale = await minutes.set_present(
            session,
            meeting_id=meeting_id,
            member_id=world.members["tecnico:0"].id,
            present=True,
            telegram_user_id=_user(world, "Carla Coordinatrice"),
            now=now,
        )
    assert sindaco == minutes.Refused("not_coordinator")
    assert stranger == minutes.Refused("gone")
    assert stale == minutes.Refused("stale")
    approved = await _approve(db, world, meeting_id, now)
    assert isinstance(approved, minutes.Approved)
    assert await _approve(db, world, meeting_id, now) == minutes.Refused("approved")


async def test_a_presence_corrected_in_the_minutes_is_attendances_own_write(
    db: Database, clock: FakeClock
) -> None:
    """«👥 Presenze» writes through attendance's use case: the same row a check-in makes, who
    recorded it, and the group's attendance list owes an edit (it no longer goes stale)."""
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    chat_id = world.union.id * -1000  # any group chat: the list was posted there
    async with db.transaction() as session:
        await attendance_repo.add_message(
            session, meeting_id=meeting_id, chat_id=chat_id, message_id=7
        )
    carla, bruno = _user(world, "Carla Coordinatrice"), world.members["sindaco:1"].id
    async with db.transaction() as session:
        # The same button twice: the second press changes nothing.
        marked, again = [
            await minutes.set_present(
                session,
                meeting_id=meeting_id,
                member_id=bruno,
                present=True,
                telegram_user_id=carla,
                now=now,
            )
            for _press in range(2)
        ]
        row = (
            await session.execute(
                select(Attendance).where(
                    Attendance.meeting_id == meeting_id, Attendance.member_id == bruno
                )
            )
        ).scalar_one()
        dirty = (await session.execute(select(AttendanceMessage.dirty_since))).scalars().all()
    assert isinstance(marked, minutes.PresenceSet) and marked.dirty_chat_ids == (chat_id,)
    assert isinstance(again, minutes.PresenceSet) and again.dirty_chat_ids == ()  # no change
    assert (row.mode, row.recorded_by_member_id) == (
        AttendanceMode.IN_PERSON,
        world.members["Carla Coordinatrice"].id,
    )
    assert dirty == [now]
    assert [p.present for p in marked.panel.people if p.person.member_id == bruno] == [True]


async def test_numbers_run_per_union_and_year(db: Database, clock: FakeClock) -> None:
    now = clock.now()  # 1 December 2026
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
        other = await make_world(session, name="Unione Bassa", actions_per_comune=0, now=now)
    numbers = []
    for target, starts_at in (
        (world, now - timedelta(days=2)),
        (world, now - timedelta(hours=3)),
        (other, now - timedelta(hours=3)),
        (world, datetime(2027, 1, 12, 16, tzinfo=UTC)),
    ):
        meeting_id = await _held(db, target, starts_at)
        approved = await _approve(db, target, meeting_id, starts_at + timedelta(days=1))
        assert isinstance(approved, minutes.Approved)
        numbers.append((approved.number, approved.year))
    assert numbers == [(1, 2026), (2, 2026), (1, 2026), (1, 2027)]


async def test_two_approvals_at_once_approve_once(db: Database, clock: FakeClock) -> None:
    """Two coordinators press «Approva» together: the second transaction runs while the first
    is still open, and is told the minutes are approved once the first commits."""
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
        await add_member(
            session, world, role=Role.STAFF, name="Dario Vicecoordinatore", coordinator=True
        )
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    later = now + timedelta(hours=1)
    async with db.transaction() as first:
        approved = await minutes.approve(
            first,
            meeting_id=meeting_id,
            telegram_user_id=_user(world, "Carla Coordinatrice"),
            now=later,
            language="it",
        )
        assert isinstance(approved, minutes.Approved)

        async def second() -> object:
            async with db.transaction() as session:
                return await minutes.approve(
                    session,
                    meeting_id=meeting_id,
                    telegram_user_id=_user(world, "Dario Vicecoordinatore"),
                    now=later,
                    language="it",
                )

        pressed = asyncio.create_task(second())
        await asyncio.sleep(0.3)  # the second is waiting for the first's COMMIT
        assert not pressed.done()
    assert await pressed == minutes.Refused("approved")
    async with db.transaction() as session:
        rows = (await session.execute(select(Minutes.status, Minutes.number))).all()
    assert [(str(status), number) for status, number in rows] == [("approved", 1)]


async def test_posting_is_queued_once_and_the_tick_finds_what_a_crash_left(
    db: Database, clock: FakeClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    await _approve(db, world, meeting_id, now)
    # The approval committed; the files were never queued (the crash).
    async with db.transaction() as session:
        assert await minutes.minutes_to_post(session) == [meeting_id]
        content = await minutes.frozen_content(session, meeting_id)
    assert content is not None and content.number == 1
    files = await minutes.minutes_files(content, language="it")
    assert [f.name for f in files] == ["verbale-2026-1.odt", "verbale-2026-1.pdf"]
    async with db.transaction() as session:
        assert await minutes.queue_posting(session, meeting_id=meeting_id, files=files, now=now)
        assert not await minutes.queue_posting(session, meeting_id=meeting_id, files=files, now=now)
        assert await minutes.minutes_to_post(session) == []
        rows = (
            await session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.file_name).where(
                    OutboxMessage.method == "sendDocument"
                )
            )
        ).all()
    political = world.links[TableKind.POLITICAL].chat_id
    assert sorted(rows) == [
        (political, "verbale-2026-1.odt"),
        (political, "verbale-2026-1.pdf"),
    ]


async def test_verbali_reach_and_the_erasure(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
        other = await make_world(session, name="Unione Bassa", actions_per_comune=0, now=now)
        late = await add_member(session, world, role=Role.ASSESSORE, name="Ada Assessora")
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    await _approve(db, world, meeting_id, now)
    async with db.transaction() as session:
        filed = await minutes.filed(session, member_id=late.id)
        assert filed is not None and [e.meeting_id for e in filed.entries] == [meeting_id]
        shown = await minutes.filed_content(
            session, meeting_id=meeting_id, telegram_user_id=_user(world, "Ada Assessora")
        )
        assert isinstance(shown, MinutesContent) and shown.number == 1
        refused = await minutes.filed_content(
            session, meeting_id=meeting_id, telegram_user_id=_user(other, "sindaco:0")
        )
        assert refused == minutes.Refused("gone")
        sindaco = world.people["sindaco:0"]
        await minutes.forget_member(session, person_id=sindaco.id)
        await registration_repo.erase_person(session, person=sindaco, now=now)
    async with db.transaction() as session:
        frozen = (await session.execute(select(Minutes.frozen))).scalar_one()
        count = (await session.execute(select(func.count()).select_from(Minutes))).scalar_one()
    assert count == 1 and frozen is not None and "Sindaco 0" not in frozen
    content = from_json(frozen)
    present = [p for c in content.comuni for p in c.present]
    assert [(p.member_id, p.name) for p in present] == [(world.members["sindaco:0"].id, None)]


async def test_notes_and_outcomes_refuse_what_does_not_fit(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    other_meeting = await _held(db, world, now - timedelta(days=2))
    coordinator = _user(world, "Carla Coordinatrice")
    async with db.transaction() as session:
        item = _item(other_meeting, "Un punto di un'altra riunione", now)
        session.add(item)
        await session.flush()
        # An item of another meeting, through this meeting's button: stale, nothing changed.
        assert await minutes.set_outcome(
            session,
            meeting_id=meeting_id,
            item_id=item.id,
            outcome=ItemOutcome.DECIDED,
            telegram_user_id=coordinator,
        ) == minutes.Refused("stale")
        assert item.outcome is None
        too_long = await minutes.save_notes(
            session, meeting_id=meeting_id, telegram_user_id=coordinator, text="x" * 3001
        )
        assert too_long == minutes.NotesTooLong(minutes.NOTES_LIMIT)
        saved = await minutes.save_notes(
            session, meeting_id=meeting_id, telegram_user_id=coordinator, text="  Bene così.  "
        )
        assert isinstance(saved, minutes.views.Panel) and saved.content.notes == "Bene così."
        cleared = await minutes.save_notes(
            session, meeting_id=meeting_id, telegram_user_id=coordinator, text="-"
        )
        assert isinstance(cleared, minutes.views.Panel) and cleared.content.notes is None


async def test_an_items_outcome_in_words_and_the_decision_the_register_records(
    db: Database, clock: FakeClock
) -> None:
    """«✏️ N»: only an item of this meeting with an outcome, by a coordinator; «-» clears;
    at approval an item «Decisa» enters the register with its text as the question and the
    words as what was decided."""
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    other_meeting = await _held(db, world, now - timedelta(days=2))
    coordinator = _user(world, "Carla Coordinatrice")
    async with db.transaction() as session:
        items = [
            _item(meeting, words, now)
            for meeting, words in (
                (meeting_id, "Il bando per le scuole"),
                (other_meeting, "Un punto di un'altra riunione"),
            )
        ]
        session.add_all(items)
        await session.flush()
        mine, elsewhere = (i.id for i in items)

    async def ask(item_id: int, user: int = coordinator) -> object:
        async with db.transaction() as session:
            return await minutes.start_outcome_note(
                session, meeting_id=meeting_id, item_id=item_id, telegram_user_id=user, now=now
            )

    async def write(text: str, item_id: int = mine, user: int = coordinator) -> object:
        async with db.transaction() as session:
            return await minutes.save_outcome_note(
                session, meeting_id=meeting_id, item_id=item_id, telegram_user_id=user, text=text
            )

    async with db.transaction() as session:  # a third item, drafted from an open question
        question = Decision(
            union_id=world.union.id,
            question="Serve un bando per le palestre?",
            status=DecisionStatus.OPEN,
            created_at=now,
        )
        session.add(question)
        await session.flush()
        asked_item = _item(
            meeting_id,
            "Serve un bando per le palestre?",
            now,
            position=2,
            outcome=ItemOutcome.APPROVED,
            source=AgendaSource.QUESTION,
            decision_id=question.id,
        )
        session.add(asked_item)
        await session.flush()
        linked = asked_item.id
    assert await ask(mine) == minutes.Refused("stale")  # no outcome yet: nothing to put in words
    async with db.transaction() as session:
        await minutes.set_outcome(
            session,
            meeting_id=meeting_id,
            item_id=mine,
            outcome=ItemOutcome.DECIDED,
            telegram_user_id=coordinator,
        )
    asked = await ask(mine)
    assert (
        isinstance(asked, minutes.OutcomeNoteAsked) and asked.item.text == "Il bando per le scuole"
    )
    assert await ask(elsewhere) == minutes.Refused("stale")
    assert await ask(mine, _user(world, "sindaco:0")) == minutes.Refused("not_coordinator")
    assert await write("x" * 1001) == minutes.NotesTooLong(minutes.OUTCOME_NOTE_LIMIT)
    assert await write("Approvato.", item_id=elsewhere) == minutes.Refused("stale")
    assert await write("Approvato.", user=_user(world, "sindaco:0")) == minutes.Refused(
        "not_coordinator"
    )
    cleared = await write("-")
    assert isinstance(cleared, minutes.views.Panel) and cleared.items[0].note is None
    saved = await write("  Approvato: 120.000 € per tre scuole.  ")
    assert isinstance(saved, minutes.views.Panel)
    assert saved.items[0].note == "Approvato: 120.000 € per tre scuole."
    # A photo (no text): still asked, nothing cleared; the same for the notes.
    assert await write("") == minutes.NothingWritten()
    async with db.transaction() as session:
        assert (
            await minutes.save_notes(
                session, meeting_id=meeting_id, telegram_user_id=coordinator, text=" "
            )
            == minutes.NothingWritten()
        )
        still = await minutes.panel(session, meeting_id=meeting_id, telegram_user_id=coordinator)
    assert isinstance(still, minutes.views.Panel)
    assert still.items[0].note == "Approvato: 120.000 € per tre scuole."
    # The open question, approved at the meeting: the coordinator's words close it.
    await write("Sì, a marzo.", item_id=linked)
    approved = await _approve(db, world, meeting_id, now)
    assert isinstance(approved, minutes.Approved)
    assert [(i.decision, i.note) for i in approved.content.items] == [
        ("Approvato: 120.000 € per tre scuole.", "Approvato: 120.000 € per tre scuole."),
        ("Sì, a marzo.", "Sì, a marzo."),
    ]
    async with db.transaction() as session:
        recorded = (
            await session.execute(
                select(Decision.question, Decision.outcome_text, Decision.status)
                .where(Decision.union_id == world.union.id)
                .order_by(Decision.id)
            )
        ).all()
    assert [tuple(r) for r in recorded] == [
        ("Serve un bando per le palestre?", "Sì, a marzo.", DecisionStatus.APPROVED),
        (
            "Il bando per le scuole",
            "Approvato: 120.000 € per tre scuole.",
            DecisionStatus.APPROVED,
        ),
    ]


async def test_a_question_of_the_register_is_closed_by_the_minutes_that_decide_it(
    db: Database, clock: FakeClock
) -> None:
    """An item standing for a question still waiting in the register cycles through Approvata →
    Respinta → Rinviata → Per informazione (no «Decisa»: the register needs to know which); at
    approval the question is closed with the meeting's outcome and the coordinator's words, its
    political group message owes an edit (its vote buttons go) and the technical table and the
    technician who asked are told (again for a question postponed before: the outcome is in the
    outbox's key). An item «Per informazione» leaves it waiting; a question already postponed and
    postponed again is left as it was; one closed meanwhile by the group's button is said as the
    register says it; «Decisa», set on a question before it had its own cycle, is no outcome."""
    now = clock.now()
    async with db.transaction() as session:
        world = await make_world(session, actions_per_comune=0, now=now)
    meeting_id = await _held(db, world, now - timedelta(hours=3))
    coordinator = _user(world, "Carla Coordinatrice")
    asker = world.members["tecnico:0"]
    earlier = now - timedelta(days=40)
    questions = {
        "gyms": ("Serve un bando per le palestre?", DecisionStatus.OPEN),
        "lights": ("LED in tutte le scuole?", DecisionStatus.OPEN),
        "bikes": ("Piste ciclabili tra i Comuni?", DecisionStatus.POSTPONED),
        "solar": ("Fotovoltaico sui municipi?", DecisionStatus.OPEN),
        "info": ("Aderire al bando regionale?", DecisionStatus.OPEN),
        "again": ("Comunità energetica dell'Unione?", DecisionStatus.OPEN),
        "meanwhile": ("Un energy manager condiviso?", DecisionStatus.OPEN),
        "legacy": ("Audit energetici nelle scuole?", DecisionStatus.OPEN),
    }
    async with db.transaction() as session:
        decisions = {
            key: Decision(
                union_id=world.union.id,
                question=text,
                status=status,
                asked_by_member_id=asker.id,
                created_at=earlier,
            )
            for key, (text, status) in questions.items()
        }
        session.add_all(decisions.values())
        await session.flush()
        items = {
            key: _item(
                meeting_id,
                d.question,
                now,
                position=n,
                source=AgendaSource.QUESTION,
                decision_id=d.id,
            )
            for n, (key, d) in enumerate(decisions.items(), start=1)
        }
        plain = _item(meeting_id, "Il calendario dei tavoli", now, position=9)
        session.add_all([*items.values(), plain])
        await session.flush()
        message = DecisionMessage(decision_id=decisions["gyms"].id, chat_id=-100111, message_id=77)
        session.add(message)
        # Set by an older draft: «Decisa» on a question.
        items["legacy"].outcome = ItemOutcome.DECIDED

    async def close_in_group(key: str, outcome: DecisionStatus) -> None:
        async with db.transaction() as session:
            closed = await summaries.close_with_outcome(
                session,
                decision_id=decisions[key].id,
                telegram_user_id=coordinator,
                outcome=outcome,
                press=None,
                now=now,
                language="it",
            )
            assert isinstance(closed, summaries.DecisionChanged)

    # «LED» has a vote: rejected without words, the register keeps the votes.
    async with db.transaction() as session:
        assert isinstance(
            await summaries.vote_on_decision(
                session,
                decision_id=decisions["lights"].id,
                telegram_user_id=_user(world, "sindaco:0"),
                choice=DecisionVoteChoice.REJECT,
                press=None,
                now=now,
            ),
            summaries.VoteCast,
        )
    await close_in_group("again", DecisionStatus.POSTPONED)  # before the meeting

    async def tap(item: AgendaItem, outcome: ItemOutcome) -> object:
        async with db.transaction() as session:
            return await minutes.set_outcome(
                session,
                meeting_id=meeting_id,
                item_id=item.id,
                outcome=outcome,
                telegram_user_id=coordinator,
            )

    shown = await tap(items["gyms"], ItemOutcome.APPROVED)
    assert isinstance(shown, minutes.views.Panel)
    assert [(i.question, i.outcome, i.next_outcome) for i in shown.items] == [
        (True, ItemOutcome.APPROVED, ItemOutcome.REJECTED),  # the next tap rejects it
        *[(True, None, ItemOutcome.APPROVED)] * 7,  # «Decisa» on a question: no outcome yet
        (False, None, ItemOutcome.DECIDED),
    ]
    # «Decisa» is not a question's outcome, nor «Approvata» a plain item's: an older or forged
    # button, refused and nothing changed.
    assert await tap(items["lights"], ItemOutcome.DECIDED) == minutes.Refused("stale")
    assert await tap(plain, ItemOutcome.APPROVED) == minutes.Refused("stale")
    for key, outcome in (
        ("lights", ItemOutcome.REJECTED),
        ("bikes", ItemOutcome.POSTPONED),
        ("solar", ItemOutcome.POSTPONED),
        ("info", ItemOutcome.INFORMATION),
        ("again", ItemOutcome.APPROVED),
    ):
        assert isinstance(await tap(items[key], outcome), minutes.views.Panel)
    async with db.transaction() as session:
        await minutes.save_outcome_note(
            session,
            meeting_id=meeting_id,
            item_id=items["gyms"].id,
            telegram_user_id=coordinator,
            text="Sì: 80.000 € dal bilancio 2027.",
        )
    confirm = await tap(items["meanwhile"], ItemOutcome.APPROVED)
    assert isinstance(confirm, minutes.views.Panel)
    # «Piste ciclabili», postponed before and again: nothing to record.
    assert [i.position for i in confirm.items if i.closes_question] == [1, 2, 4, 6, 7]
    # Closed in the group between the draft and the approval: the register's outcome wins.
    await close_in_group("meanwhile", DecisionStatus.REJECTED)
    approved = await _approve(db, world, meeting_id, now)
    assert isinstance(approved, minutes.Approved)
    assert approved.dirty_chat_ids == (-100111,)
    async with db.transaction() as session:
        closed = {
            d.id: (d.status, d.outcome_text, d.closed_at is not None)
            for d in (await session.execute(select(Decision))).scalars()
        }
        told = sorted((await session.execute(select(OutboxMessage.dedup_key))).scalars())
        owed = await session.get(DecisionMessage, message.id)
        assert owed is not None and owed.dirty_since is not None
    voted = "Voti: Comune 00: Respingi"
    assert [closed[decisions[k].id] for k in questions] == [
        (DecisionStatus.APPROVED, "Sì: 80.000 € dal bilancio 2027.", True),
        (DecisionStatus.REJECTED, voted, True),  # no words: the votes cast
        (DecisionStatus.POSTPONED, None, False),  # postponed again: as it was
        (DecisionStatus.POSTPONED, None, True),  # decided sitting: no votes, no text
        (DecisionStatus.OPEN, None, False),  # for information: still waiting
        (DecisionStatus.APPROVED, None, True),  # postponed in the group, approved here
        (DecisionStatus.REJECTED, "Nessun Comune ha votato.", True),  # as the group closed it
        (DecisionStatus.OPEN, None, False),  # «Decisa» from an older draft: still waiting
    ]
    for key, outcomes in (
        ("gyms", ["approved"]),
        ("lights", ["rejected"]),
        ("solar", ["postponed"]),
        ("again", ["approved", "postponed"]),  # told again: the outcome is in the key
        ("meanwhile", ["rejected"]),  # told once, by the group's button
    ):
        d = decisions[key].id
        assert sorted(k.split(":")[2] for k in told if k.startswith(f"decask:{d}:")) == outcomes
        # … and the technical table
        assert sorted(k.split(":")[2] for k in told if k.startswith(f"decout:{d}:")) == outcomes
    for key in ("bikes", "info", "legacy"):
        assert not any(k.startswith(f"decout:{decisions[key].id}:") for k in told)
    # The minutes: the outcome, and the words or the question in the «Decisioni» table.
    assert [(i.outcome, i.decision) for i in approved.content.items] == [
        (ItemOutcome.APPROVED, "Sì: 80.000 € dal bilancio 2027."),
        (ItemOutcome.REJECTED, voted),
        (ItemOutcome.POSTPONED, "Piste ciclabili tra i Comuni?"),
        (ItemOutcome.POSTPONED, "Fotovoltaico sui municipi?"),
        (ItemOutcome.INFORMATION, "Aderire al bando regionale?"),
        (ItemOutcome.APPROVED, "Comunità energetica dell'Unione?"),
        (ItemOutcome.REJECTED, "Nessun Comune ha votato."),
        (None, "Audit energetici nelle scuole?"),
        (None, None),
    ]
