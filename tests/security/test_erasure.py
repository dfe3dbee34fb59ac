"""/cancellami leaves no trace of the person: not in any table, not in a scheduled job, not in
the outbox — while what they contributed stays, under "ex membro"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.views.minutes import from_json
from storage.models import (
    AgendaItem,
    Attendance,
    AttendanceMode,
    Base,
    DecisionVote,
    LinkedChat,
    Meeting,
    MeetingGuest,
    MeetingTask,
    Member,
    MemberStatus,
    Minutes,
    PollTable,
    ProgressUpdate,
    TaskStatus,
    UpdateNote,
    Vote,
)
from tests.e2e.harness import BotUnderTest
from tests.security.world import PEOPLE, World, build_world


async def _press(world: World, caller: str, data: str) -> str | None:
    user = world.users[caller]
    press = await user.press_forged(world.bot.fake.last_sent(user), data)
    await world.bot.settle()
    return press.answer.text if press.answer else None


async def _contribute(world: World) -> None:
    """The technician votes, reports an update with a note, asks a political decision; the
    Sindaco votes on a decision; the coordinator sends an announcement to everyone."""
    bot, a = world.bot, world.a
    tecnico, coord = world.users["tecnico"], world.users["coord"]
    assert (await _press(world, "tecnico", f"vote:y:{a.slot_ids[0]}") or "").startswith(
        "Registrato"
    )
    await tecnico.send("/aggiornamento")
    await bot.settle()
    act = a.action_ids[1]
    await _press(world, "tecnico", f"upd:pick:{act}")
    # The status tap saves at once (issue 16); what is typed next is the saved update's note.
    assert await _press(world, "tecnico", f"upd:status:{act}:completed") == "Salvato"
    await tecnico.send("Collaudo fatto, lo conferma Tiziano Guidettini (@tiziano_guidettini)")
    await bot.settle()
    # A note in the technical group (#aggiornamento) that names the technician.
    async with bot.db.transaction() as session:
        await session.execute(
            update(LinkedChat)
            .where(LinkedChat.chat_id == world.chats["technical"].id)
            .values(hashtag_capture=True)
        )
    bot.fake.privacy_mode = False
    await tecnico.send(
        "#aggiornamento sopralluogo fatto da Tiziano Guidettini (@tiziano_guidettini)",
        chat=world.chats["technical"],
    )
    await bot.settle()
    assert "Nota registrata per" in (bot.fake.last_sent(world.chats["technical"]).text or "")
    assert (await _press(world, "sindaco", f"dec:vote:{a.decision_id}:approve") or "").startswith(
        "Voto registrato"
    )
    await coord.send("/annuncio Riunione giovedì: Tiziano Guidettini presenta il collaudo")
    await bot.settle()
    draft = bot.fake.last_sent(coord)
    label = next(text for text, _data in draft.buttons[0])
    await coord.press(draft, label)
    await bot.settle()
    await bot.tick()  # the outbox sends the announcement to every member
    await coord.send("/riepilogo", chat=world.chats["political"])
    await bot.settle()
    await _approved_minutes(world)
    await _at_the_next_meeting(world)


PROPOSED = "Sopralluogo alla palestra"
TASK = "Verificare il contatore della scuola"
GUEST = "Marta Esperta"


async def _at_the_next_meeting(world: World) -> None:
    """Issue 19's tables: the technician proposes an item for the next meeting's agenda (the
    coordinator is told who proposed it), is assigned a task (and told), and — given the
    coordinator's permission — adds a guest to the meeting's attendance."""
    bot, a = world.bot, world.a
    tecnico, coord = world.users["tecnico"], world.users["coord"]
    assert (await _press(world, "tecnico", f"agd:add:{a.meeting_id}") or "") == ""
    await tecnico.send(PROPOSED)
    await bot.settle()
    assert "Tiziano Guidettini" in (bot.fake.last_sent(coord).text or "")  # the proposal
    await _press(world, "coord", f"tsk:new:{a.meeting_id}")
    await _press(world, "coord", f"tsk:who:{a.meeting_id}:{a.member_ids['tecnico']}")
    await coord.send(TASK)
    await bot.settle()
    await _press(world, "coord", f"tsk:act:{a.meeting_id}:0")
    await _press(world, "coord", f"tsk:due:{a.meeting_id}:7")
    assert TASK in (bot.fake.last_sent(tecnico).text or "")  # told, with «✔️ Fatto»
    async with bot.db.transaction() as session:
        await session.execute(
            update(Member).where(Member.id == a.member_ids["tecnico"]).values(is_coordinator=True)
        )
    await _press(world, "tecnico", f"att:guest:{a.meeting_id}")
    await tecnico.send(GUEST)
    await bot.settle()
    await _press(world, "tecnico", f"att:nonorg:{a.meeting_id}")
    async with bot.db.transaction() as session:
        guest = (
            await session.execute(select(MeetingGuest).where(MeetingGuest.name == GUEST))
        ).scalar_one()
        assert guest.added_by_member_id == a.member_ids["tecnico"]


async def _approved_minutes(world: World) -> int:
    """A meeting the technician attended, its minutes drafted by the tick, approved by the
    coordinator and posted to the groups as .odt and .pdf: they name the technician."""
    bot, now = world.bot, world.bot.clock.now()
    async with bot.db.transaction() as session:
        meeting = Meeting(
            union_id=world.a.union_id,
            table=PollTable.BOTH,
            title="Riunione di novembre",
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=1),
            ics_uid="meeting-erasure-minutes@security.test",
            created_at=now,
        )
        session.add(meeting)
        await session.flush()
        session.add(
            Attendance(
                meeting_id=meeting.id,
                member_id=world.a.member_ids["tecnico"],
                mode=AttendanceMode.IN_PERSON,
                recorded_at=now,
            )
        )
        meeting_id = meeting.id
    await bot.tick()  # the draft, to the coordinator
    assert "Bozza di verbale" in (bot.fake.last_sent(world.users["coord"]).text or "")
    assert (await _press(world, "coord", f"min:ok:{meeting_id}") or "").startswith("✅ Verbale")
    async with bot.db.transaction() as session:
        minutes = await session.get(Minutes, meeting_id)
        assert minutes is not None and "Tiziano Guidettini" in (minutes.frozen or "")
    return meeting_id


async def _scan(bot: BotUnderTest, needles: list[str], user_id: int) -> list[str]:
    """Every cell of every table that holds the person's id, names or username."""
    found = []
    number = re.compile(rf"(?<!\d){user_id}(?!\d)")
    async with bot.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, int) and not isinstance(value, bool):
                        if value == user_id:
                            found.append(f"{table.name}.{column} = {value}")
                        continue
                    text = str(value)
                    hits = [n for n in needles if n.lower() in text.lower()]
                    if number.search(text):
                        hits.append(str(user_id))
                    if hits:
                        found.append(f"{table.name}.{column} ∋ {hits}: {text[:200]}")
    return found


def _job_traces(bot: BotUnderTest, needles: list[str], user_id: int) -> list[str]:
    job_queue = bot.application.job_queue
    assert job_queue is not None
    found = []
    for job in job_queue.jobs():
        described = f"{job.name} {job.data!r} {job.chat_id} {job.user_id}"
        if str(user_id) in described or any(n.lower() in described.lower() for n in needles):
            found.append(described)
    return found


async def test_cancellami_leaves_no_trace(bot: BotUnderTest) -> None:
    world = await build_world(bot)
    await _contribute(world)
    tecnico = world.users["tecnico"]
    first, last, username = PEOPLE["tecnico"]
    needles = [f"{first} {last}", last, username]
    before = await _scan(bot, needles, tecnico.id)
    assert before, "the world should know the technician before the erasure"

    await tecnico.send("/cancellami")
    await bot.settle()
    assert "Vuoi davvero cancellare" in (bot.fake.last_sent(tecnico).text or "")
    assert await _press(world, "tecnico", "del:confirm") == "Dati cancellati."
    await bot.tick()

    # What is left of the name is only in words people wrote: the coordinator's announcement
    # (and the copies sent to the others), and the technician's own note and update, which stay
    # as written (the privacy notice says so). Nothing of the identity, and no copy the bot made.
    traces = await _scan(bot, needles, tecnico.id)
    assert sorted(t.split(" ∋ ")[0] for t in traces) == [
        "announcement.text",
        *["outbox_message.payload"] * 2,  # the announcement, as delivered to the others
        "progress_update.note",
        "update_note.text",
        "update_note.text",  # one per Comune of the technician
    ], "\n".join(traces)
    assert all(
        "Riunione giovedì: Tiziano Guidettini presenta il collaudo" in t
        for t in traces
        if t.startswith(("announcement", "outbox_message"))
    ), traces
    assert _job_traces(bot, needles, tecnico.id) == []
    # Approved minutes keep the record: the technician's attendance, as «ex membro».
    async with bot.db.transaction() as session:
        frozen = [m.frozen for m in (await session.execute(select(Minutes))).scalars()]
    (content,) = [
        c for c in map(from_json, filter(None, frozen)) if c.title == "Riunione di novembre"
    ]
    named = {p.member_id: p.name for c in content.comuni for p in c.present}
    assert named == {world.a.member_ids["tecnico"]: None}

    # The contributions remain, under an anonymous member.
    async with bot.db.transaction() as session:
        member = await session.get(Member, world.a.member_ids["tecnico"])
        assert member is not None and member.status == MemberStatus.LEFT
        votes = (await session.execute(select(Vote).where(Vote.member_id == member.id))).all()
        updates = (
            await session.execute(
                select(ProgressUpdate).where(ProgressUpdate.member_id == member.id)
            )
        ).all()
        decision_votes = (await session.execute(select(DecisionVote))).all()
        notes = (
            (await session.execute(select(UpdateNote).where(UpdateNote.member_id == member.id)))
            .scalars()
            .all()
        )
    assert votes and len(updates) >= 2 and decision_votes
    note = "#aggiornamento sopralluogo fatto da Tiziano Guidettini (@tiziano_guidettini)"
    assert {n.text for n in notes} == {note}
    # What others read of the team never names the author: /team does not list them, and the
    # summary counts their note under its Comune (one line per Comune, issue 16: the note's
    # text, «ex membro» as its author, is in the spreadsheet).
    coord = world.users["coord"]
    await coord.send("/team")
    await coord.send("/riepilogo")
    await bot.settle()
    seen: list[Any] = [m.text or m.caption or "" for m in bot.fake.sent_to(coord)[-3:]]
    assert not any(last in text for text in seen[:1]), seen
    summary = "\n".join(seen[1:])
    assert "💬 1 nota" in summary, summary
    assert last not in summary and "tiziano_guidettini" not in summary, summary

    # Issue 19: the proposal, the task and the guest stay, by reference to the member; the
    # task, once overdue, is «ex membro»'s in the summary.
    async with bot.db.transaction() as session:
        proposal = (
            await session.execute(select(AgendaItem).where(AgendaItem.text == PROPOSED))
        ).scalar_one()
        task = (
            await session.execute(select(MeetingTask).where(MeetingTask.text == TASK))
        ).scalar_one()
        guest = (
            await session.execute(select(MeetingGuest).where(MeetingGuest.name == GUEST))
        ).scalar_one()
    assert proposal.proposed_by_member_id == member.id
    assert task.assignee_member_id == member.id and task.status == TaskStatus.OPEN
    assert guest.added_by_member_id == member.id
    bot.clock.advance(timedelta(days=8))
    await coord.send("/riepilogo")
    await bot.settle()
    summary = "\n".join(m.text or m.caption or "" for m in bot.fake.sent_to(coord)[-3:])
    assert f"ex membro: «{TASK}»" in summary, summary
    assert last not in summary, summary
