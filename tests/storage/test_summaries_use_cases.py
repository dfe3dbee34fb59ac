"""The summaries' and decisions' use cases (bot.services.summaries), without Telegram, on both
databases: each one's outcomes, what it wrote and what it queued."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.services import summaries
from bot.services.presses import Press
from bot.services.summaries.chart import Picture
from bot.services.summaries.covenant import COVENANT_CLAIM
from storage.db import Database
from storage.models import (
    ActionStatus,
    Decision,
    DecisionMessage,
    DecisionStatus,
    DecisionVoteChoice,
    OutboxMessage,
    Summary,
    TableKind,
)
from storage.repositories import core as core_repo
from storage.repositories import summaries as repo
from tests.factories import NOW, World, add_round, add_update, make_world

APPROVE, REJECT = DecisionVoteChoice.APPROVE, DecisionVoteChoice.REJECT


def _tg(world: World, key: str) -> int:
    telegram_id = world.people[key].telegram_user_id
    assert telegram_id is not None
    return telegram_id


async def _asked(db: Database, **kwargs: object) -> tuple[World, int]:
    """A world with one open question asked by Comune 0's technician."""
    async with db.transaction() as session:
        world = await make_world(session, **kwargs)  # type: ignore[arg-type]
        await add_update(
            session,
            world.actions[0],
            world.members["tecnico:0"],
            status=ActionStatus.ONGOING,
            progress=30,
            at=NOW,
            needs_decision=True,
            question="Anticipiamo i fondi?",
        )
        (decision_id,) = await summaries.sync_decisions(session, now=NOW)
    return world, decision_id


async def _keys(db: Database, prefix: str) -> list[str]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.startswith(prefix))
        )
        return sorted(rows.scalars())


async def test_votes_one_per_comune_the_sindaco_first(db: Database) -> None:
    world, did = await _asked(db)

    async def vote(key: str, choice: DecisionVoteChoice | None) -> object:
        async with db.transaction() as session:
            return await summaries.vote_on_decision(
                session,
                decision_id=did,
                telegram_user_id=_tg(world, key),
                choice=choice,
                press=None,
                now=NOW,
            )

    cast = await vote("sindaco:0", APPROVE)
    assert isinstance(cast, summaries.VoteCast) and cast.choice == APPROVE
    assert cast.dirty_chat_ids == ()  # no message of the decision posted yet
    # The Assessore stands in for the Sindaco, never over a vote the Sindaco cast.
    assert await vote("assessore:0", REJECT) == summaries.DecisionRefused("sindaco_voted")
    assert isinstance(await vote("assessore:1", REJECT), summaries.VoteCast)
    assert await vote("tecnico:0", APPROVE) == summaries.DecisionRefused("not_a_voter")
    assert await vote("sindaco:1", None) == summaries.DecisionRefused("invalid")
    async with db.transaction() as session:
        fact = await repo.decision_fact(session, await _decision(session, did))
    assert [(v.comune, v.choice) for v in fact.votes] == [
        ("Comune 00", "approve"),
        ("Comune 01", "reject"),
    ]
    async with db.transaction() as session:
        other = await make_world(session, name="Unione Altra", political_chat=None)
    async with db.transaction() as session:
        refused = await summaries.vote_on_decision(
            session,
            decision_id=did,
            telegram_user_id=_tg(other, "sindaco:0"),
            choice=APPROVE,
            press=None,
            now=NOW,
        )
    assert refused == summaries.DecisionRefused("not_member")


async def _decision(session: object, decision_id: int) -> Decision:
    decision = await session.get(Decision, decision_id)  # type: ignore[attr-defined]
    assert isinstance(decision, Decision)
    return decision


async def test_a_group_press_counts_on_the_decisions_own_message(db: Database) -> None:
    world, did = await _asked(db)
    group = world.links[TableKind.POLITICAL].chat_id
    async with db.transaction() as session:
        await repo.add_decision_message(session, decision_id=did, chat_id=group, message_id=50)

    async def vote(press: Press) -> object:
        async with db.transaction() as session:
            return await summaries.vote_on_decision(
                session,
                decision_id=did,
                telegram_user_id=_tg(world, "sindaco:0"),
                choice=APPROVE,
                press=press,
                now=NOW,
            )

    # Forged on another message of the group: refused, nothing adopted.
    elsewhere = Press(chat_id=group, message_id=51, carries_button=False)
    assert await vote(elsewhere) == summaries.DecisionRefused("not_its_message")
    cast = await vote(Press(chat_id=group, message_id=50, carries_button=True))
    assert isinstance(cast, summaries.VoteCast) and cast.dirty_chat_ids == (group,)
    # The bot's message carrying the very button (a send that ended uncertain): adopted.
    assert isinstance(
        await vote(Press(chat_id=group, message_id=52, carries_button=True)), summaries.VoteCast
    )
    async with db.transaction() as session:
        shown = await repo.decision_shown_at(session, did)
    assert sorted(shown) == [(group, 50), (group, 52)]
    # /decisione's list carries buttons of several decisions: checked, never adopted.
    async with db.transaction() as session:
        listed = await summaries.mark_done(
            session,
            decision_id=did,
            telegram_user_id=_tg(world, "Carla Coordinatrice"),
            press=Press(chat_id=group, message_id=53, carries_button=True),
            listed=True,
            now=NOW,
        )
        assert listed == summaries.DecisionRefused("still_open")
        assert len(await repo.decision_shown_at(session, did)) == 2


async def test_the_coordinator_closes_and_marks_done(db: Database) -> None:
    world, did = await _asked(db)
    coordinator, sindaco = _tg(world, "Carla Coordinatrice"), _tg(world, "sindaco:0")

    async def run(case: object, user: int, **kwargs: object) -> object:
        async with db.transaction() as session:
            return await case(  # type: ignore[operator]
                session, decision_id=did, telegram_user_id=user, press=None, **kwargs
            )

    assert await run(summaries.ask_outcome, sindaco, language="it") == summaries.DecisionRefused(
        "not_coordinator"
    )
    asked = await run(summaries.ask_outcome, coordinator, language="it")
    assert isinstance(asked, summaries.OutcomeAsked) and "Anticipiamo i fondi?" in asked.text
    back = await run(summaries.back_to_votes, coordinator, now=NOW)
    assert back == summaries.DecisionChanged("back", ())
    assert await run(
        summaries.mark_done, coordinator, listed=False, now=NOW
    ) == summaries.DecisionRefused("still_open")
    assert await run(
        summaries.close_with_outcome, coordinator, outcome=None, now=NOW, language="it"
    ) == summaries.DecisionRefused("invalid")
    closed = await run(
        summaries.close_with_outcome,
        coordinator,
        outcome=DecisionStatus.APPROVED,
        now=NOW,
        language="it",
    )
    assert closed == summaries.DecisionChanged("closed", ())
    assert await _keys(db, "dec") == [f"decask:{did}:approved", f"decout:{did}:approved"]
    assert await run(
        summaries.close_with_outcome,
        coordinator,
        outcome=DecisionStatus.REJECTED,
        now=NOW,
        language="it",
    ) == summaries.DecisionRefused("already_closed")
    assert await run(
        summaries.mark_done, sindaco, listed=False, now=NOW
    ) == summaries.DecisionRefused("not_coordinator_done")
    assert await run(summaries.mark_done, coordinator, listed=False, now=NOW) == (
        summaries.DecisionChanged("done", ())
    )
    assert await run(
        summaries.mark_done, coordinator, listed=True, now=NOW
    ) == summaries.DecisionRefused("already_done")
    async with db.transaction() as session:
        decision = await _decision(session, did)
        assert decision.status == DecisionStatus.DONE
        assert decision.outcome_text == "Nessun Comune ha votato."


@pytest.mark.parametrize("outcome", [DecisionStatus.REJECTED, DecisionStatus.POSTPONED])
async def test_only_an_approved_decision_is_carried_out(
    db: Database, outcome: DecisionStatus
) -> None:
    """A rejected question has nothing to carry out; a postponed one returns to the next
    meeting (whose minutes close it) or is closed by the coordinator from its card: neither
    offers «Segna come attuata», an older message's button is refused, and /decisione's list
    offers it for neither (a rejected one is not listed at all)."""
    world, did = await _asked(db)
    coordinator = _tg(world, "Carla Coordinatrice")
    async with db.transaction() as session:
        await summaries.close_with_outcome(
            session,
            decision_id=did,
            telegram_user_id=coordinator,
            outcome=outcome,
            press=None,
            now=NOW,
            language="it",
        )
        shown = await summaries.decision_message_now(session, decision_id=did, language="it")
    assert shown is not None
    if outcome == DecisionStatus.REJECTED:
        assert shown.keyboard is None
    else:
        assert shown.keyboard is not None
        assert [b.text for row in shown.keyboard.rows for b in row] == [
            "🔒 Chiudi la votazione (chi coordina)"
        ]
    for listed in (False, True):
        async with db.transaction() as session:
            refused = await summaries.mark_done(
                session,
                decision_id=did,
                telegram_user_id=coordinator,
                press=None,
                listed=listed,
                now=NOW,
            )
            assert refused == summaries.DecisionRefused("not_approved")
            assert (await _decision(session, did)).status == outcome
    async with db.transaction() as session:
        desk = await summaries.decision_desk(
            session, member_id=world.members["Carla Coordinatrice"].id, group_table=None
        )
    assert isinstance(desk, summaries.DecisionDesk)
    expected = [] if outcome == DecisionStatus.REJECTED else [("Anticipiamo i fondi?", True)]
    assert [(p.question, p.open) for p in desk.pending] == expected
    if outcome == DecisionStatus.POSTPONED:  # closed later by the coordinator: no dead end
        async with db.transaction() as session:
            closed = await summaries.close_with_outcome(
                session,
                decision_id=did,
                telegram_user_id=coordinator,
                outcome=DecisionStatus.APPROVED,
                press=None,
                now=NOW,
                language="it",
            )
            assert closed == summaries.DecisionChanged("closed", ())
            assert (await _decision(session, did)).status == DecisionStatus.APPROVED


async def test_the_question_is_the_technicians_own_else_the_note_else_the_title(
    db: Database,
) -> None:
    async with db.transaction() as session:
        world = await make_world(session, comuni=1, actions_per_comune=3)
        tecnico = world.members["tecnico:0"]
        for action, question, note in (
            (world.actions[0], "Serve un bando?", "nota"),
            (world.actions[1], None, "Manca il progetto esecutivo"),
            (world.actions[2], "   ", "ignorata: la domanda c'è ma è vuota"),
        ):
            await add_update(
                session,
                action,
                tecnico,
                status=ActionStatus.ONGOING,
                progress=20,
                at=NOW,
                needs_decision=True,
                question=question,
                note=note,
            )
        created = await summaries.sync_decisions(session, now=NOW)
        assert await summaries.sync_decisions(session, now=NOW) == []  # once per update
        questions = [(await _decision(session, d)).question for d in created]
    assert questions == [
        "Serve un bando?",
        "Manca il progetto esecutivo",
        world.actions[2].title,
    ]


async def test_decisione_records_once_and_tells_the_technical_table(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session, technical_chat=None)
    union, coordinator = world.union.id, _tg(world, "Carla Coordinatrice")

    async def record(user: int, text: str, table: TableKind | None = None) -> object:
        async with db.transaction() as session:
            return await summaries.record_decision(
                session,
                union_id=union,
                telegram_user_id=user,
                group_table=table,
                text=text,
                now=NOW,
                language="it",
            )

    assert await record(_tg(world, "sindaco:0"), "Si parte") == summaries.DecisionNotRecorded(
        "not_coordinator"
    )
    assert await record(coordinator, "Si parte", TableKind.TECHNICAL) == (
        summaries.DecisionNotRecorded("technical_group")
    )
    assert await record(coordinator, "x" * 2001) == summaries.DecisionNotRecorded("too_long")
    recorded = await record(coordinator, "Si parte con il bando")
    assert isinstance(recorded, summaries.DecisionRecorded)
    assert recorded.technical_group is False  # not linked: the coordinators got it
    repeated = await record(coordinator, "  si PARTE con il bando ")
    assert repeated == summaries.DecisionRepeated(NOW, "Europe/Rome")
    assert await _keys(db, "decout:") == [
        f"decout:{recorded.decision_id}:recorded:p{world.people['Carla Coordinatrice'].id}"
    ]
    async with db.transaction() as session:
        desk = await summaries.decision_desk(
            session, member_id=world.members["Carla Coordinatrice"].id, group_table=None
        )
    assert isinstance(desk, summaries.DecisionDesk)
    assert [(p.question, p.open) for p in desk.pending] == [("Si parte con il bando", False)]


async def test_the_scheduled_summary_is_read_then_queued_once(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session)
        await add_round(
            session,
            world,
            period="2026-12",
            opened_at=NOW - timedelta(days=10),
            deadline_at=NOW - timedelta(hours=1),
        )
    async with db.transaction() as session:
        (due,) = await summaries.summaries_due(session, now=NOW)
        draft = await summaries.read_scheduled_summary(session, due=due, now=NOW, language="it")
    assert draft is not None and draft.union_id == world.union.id
    assert draft.data.late is True and not draft.data.on_demand  # an hour after the deadline
    parts = summaries.summary_texts(draft, language="it")
    pictures = [Picture("riepilogo-1.png", "Azioni per stato", b"png")]
    for _attempt in range(2):
        async with db.transaction() as session:
            queued = await summaries.queue_summary(
                session, due=due, draft=draft, now=NOW, language="it"
            )
        if _attempt:
            assert queued is None  # another tick got there first
        else:
            assert queued is not None and queued.parts == len(parts) and queued.questions == 0
    async with db.transaction() as session:
        (summary,) = (await session.execute(select(Summary))).scalars()
        assert await summaries.summaries_due(session, now=NOW) == []
        # The text is queued, the pictures are owed until they are drawn and queued.
        (owed,) = await summaries.pictures_owed(session, now=NOW)
        assert (owed.summary_id, owed.due.round.id) == (summary.id, due.round.id)
    assert await _keys(db, "sum:") == [f"sum:{summary.id}:{i}" for i in range(len(parts))]
    for attempt in range(2):
        async with db.transaction() as session:
            assert await summaries.queue_pictures(
                session, summary_id=summary.id, due=due, pictures=pictures, now=NOW
            ) == (attempt == 0)  # once
    async with db.transaction() as session:
        assert await summaries.pictures_owed(session, now=NOW) == []
    assert await _keys(db, "sum:") == sorted(
        [f"sum:{summary.id}:{i}" for i in range(len(parts))] + [f"sum:{summary.id}:picture0"]
    )
    async with db.transaction() as session:
        now_draft = await summaries.read_summary_now(
            session, union_id=world.union.id, now=NOW, language="en"
        )
    assert now_draft is not None and now_draft.data.on_demand
    assert now_draft.title == "Unione Reno Galliera · December 2026"


async def test_who_may_have_the_files(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session)
        union = world.union.id

        async def access(key: str, restricted: bool) -> object:
            return await summaries.export_access(
                session, union_id=union, telegram_user_id=_tg(world, key), restricted=restricted
            )

        assert await access("tecnico:0", False) == summaries.ExportAllowed(union)
        assert await access("tecnico:0", True) == summaries.ExportRefused("not_allowed")
        assert await access("sindaco:0", True) == summaries.ExportAllowed(union)
        assert await access("Carla Coordinatrice", True) == summaries.ExportAllowed(union)
        other = await make_world(session, name="Unione Altra", political_chat=None)
        refused = await summaries.export_access(
            session, union_id=union, telegram_user_id=_tg(other, "sindaco:0"), restricted=False
        )
        assert refused == summaries.ExportRefused("not_member")
        offer = await summaries.export_offer(session, member_id=world.members["sindaco:0"].id)
        assert offer == summaries.ExportOffer(union, "Unione Reno Galliera")
        no_offer = await summaries.export_offer(session, member_id=world.members["assessore:0"].id)
        assert no_offer == summaries.ExportRefused("not_allowed")
        read = await summaries.read_export(session, union_id=union, now=NOW)
    assert read is not None and read.today == date(2026, 12, 3)
    files = await summaries.export_files(read, kind="csv", language="it")
    assert [f.name for f in files] == ["team-energia-unione-reno-galliera-2026-12-03.csv"]


async def test_the_covenant_clock_warns_once_per_lead_time(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session, technical_chat=None)
        world.union.paes_approved_on = date(2025, 2, 1)  # the report is due on 1 Feb 2027
        assert await summaries.covenant_warnings_due(session, now=NOW - timedelta(days=1)) == []
    async with db.transaction() as session:
        (due,) = await summaries.covenant_warnings_due(session, now=NOW)
    assert (due.union_id, due.milestone.due, due.leads) == (
        world.union.id,
        date(2027, 2, 1),
        ((60, "2027-02-01:60"),),
    )
    async with db.transaction() as session:
        assert await summaries.warn_covenant(session, due=due, now=NOW, language="it")
    async with db.transaction() as session:
        assert not await summaries.warn_covenant(session, due=due, now=NOW, language="it")
        assert await summaries.covenant_warnings_due(session, now=NOW) == []
        claimed = await core_repo.claimed_keys(
            session, kinds=[COVENANT_CLAIM], periods=["2027-02-01:60"]
        )
    assert claimed == {(COVENANT_CLAIM, world.union.id, "2027-02-01:60")}
    assert await _keys(db, "cov:") == [f"cov:{world.union.id}:2027-02-01:60"]


async def test_a_sent_decision_message_is_remembered(db: Database) -> None:
    _world, did = await _asked(db)
    async with db.transaction() as session:
        row = OutboxMessage(
            dedup_key=f"decmsg:{did}:1",
            chat_id=-100,
            method="sendMessage",
            payload={},
            created_at=NOW,
            message_id=77,
        )
        await summaries.decision_message_sent(session, row)
        shown = (await session.execute(select(DecisionMessage.message_id))).scalars().all()
    assert list(shown) == [77]
