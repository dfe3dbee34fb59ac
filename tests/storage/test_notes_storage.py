"""The technical group's notes on both databases: what the summary, /aggiornamento stato and
the spreadsheet read, who counts as having reported, and what /cancellami leaves of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event

from bot.i18n import translator
from bot.services import progress
from bot.services.summaries.build import build_summary_input
from bot.services.summaries.summary import CARD_NOTES_READ, render_summary
from storage.db import Database
from storage.models import Action, Member, Person, UpdateRound, UpdateSource
from storage.repositories import actions as actions_repo
from storage.repositories import registration as registration_repo
from storage.repositories import summaries as repo
from storage.repositories.people import FORMER_MEMBER
from tests.summaries_factories import NOW, World, add_round, make_world

IT = translator("it")


async def _note(
    session: Any,
    w: World,
    member: Member,
    comune: int | None,
    text: str,
    *,
    at: Any,
    round_: UpdateRound | None,
    message_id: int,
) -> None:
    await actions_repo.add_note(
        session,
        union_id=w.union.id,
        round_id=round_.id if round_ else None,
        member_id=member.id,
        municipality_id=w.comuni[comune].id if comune is not None else None,
        source=UpdateSource.GROUP_REPLY,
        text=text,
        chat_id=-100222,
        message_id=message_id,
        now=at,
    )


async def test_notes_reach_the_summary_under_their_comune(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=3, actions_per_comune=1)
        round_ = await add_round(
            session,
            w,
            period="2026-12",
            opened_at=NOW - timedelta(days=10),
            deadline_at=NOW - timedelta(hours=1),
        )
        baseline = NOW - timedelta(days=30)
        t0, t2 = w.members["tecnico:0"], w.members["tecnico:2"]
        assert w.coordinator is not None
        await _note(
            session,
            w,
            t0,
            0,
            "vecchia nota",
            at=baseline - timedelta(days=1),
            round_=None,
            message_id=1,
        )
        await _note(
            session,
            w,
            t0,
            0,
            "Il cantiere <palestra> parte a gennaio & finisce a marzo",
            at=NOW - timedelta(days=5),
            round_=round_,
            message_id=2,
        )
        await _note(
            session,
            w,
            t2,
            2,
            "#aggiornamento caldaia sostituita",
            at=NOW - timedelta(days=4),
            round_=None,  # #aggiornamento outside the round: shown, but it is not a report
            message_id=3,
        )
        await _note(
            session,
            w,
            w.coordinator,
            None,
            "Bando regionale in uscita",
            at=NOW - timedelta(days=3),
            round_=round_,
            message_id=4,
        )
    async with db.transaction() as session:
        facts = await repo.summary_facts(
            session, union_id=w.union.id, baseline=baseline, round_=round_, now=NOW
        )
    assert facts is not None
    assert [(n.municipality_id, n.author) for n in facts.notes] == [
        (w.comuni[0].id, "Tecnico 0"),
        (w.comuni[2].id, "Tecnico 2"),
        (None, "Carla Coordinatrice"),
    ]
    # A reply to the round counts as reporting; the technician who wrote nothing did not.
    assert t0.id in facts.reported_member_ids
    assert w.members["tecnico:1"].id not in facts.reported_member_ids
    data = build_summary_input(
        facts, since=baseline, now=NOW, period="2026-12", round_deadline=round_.deadline_at
    )
    (text,) = render_summary(data, IT)
    comune0 = text.split("<b>Comune 00</b>")[1].split("\n\n")[0]
    assert (
        "💬 <i>«Il cantiere &lt;palestra&gt; parte a gennaio &amp; finisce a marzo»</i> — "
        "Tecnico 0, sab 28 nov"
    ) in comune0
    assert "Non ha riferito" not in comune0 and "vecchia nota" not in text
    comune1 = text.split("<b>Comune 01</b>")[1].split("\n\n")[0]
    assert "💬" not in comune1 and "Non ha riferito: Tecnico 1" in comune1
    comune2 = text.split("<b>Comune 02</b>")[1].split("\n\n")[0]
    assert (
        "«caldaia sostituita»</i> — Tecnico 2" in comune2
        and "Non ha riferito: Tecnico 2" in comune2
    )
    assert "<b>Unione</b>\n💬 <i>«Bando regionale in uscita»</i> — Carla Coordinatrice" in text

    # The coordinator's /aggiornamento stato reads the round's notes only.
    async with db.transaction() as session:
        in_round = await repo.group_notes(session, union_id=w.union.id, round_id=round_.id)
    assert [n.text for n in in_round] == [
        "Il cantiere <palestra> parte a gennaio & finisce a marzo",
        "Bando regionale in uscita",
    ]

    # The spreadsheet has every note, whole, with its Comune and round.
    async with db.transaction() as session:
        export = await repo.export_data(session, w.union.id)
    assert export is not None
    assert [(n.text, comune, period) for n, comune, period in export.notes] == [
        ("vecchia nota", "Comune 00", None),
        ("Il cantiere <palestra> parte a gennaio & finisce a marzo", "Comune 00", "2026-12"),
        ("#aggiornamento caldaia sostituita", "Comune 02", None),
        ("Bando regionale in uscita", None, "2026-12"),
    ]


async def test_an_erased_author_reads_as_ex_membro(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=1, actions_per_comune=1)
        t0 = w.members["tecnico:0"]
        await _note(
            session,
            w,
            t0,
            0,
            "Sopralluogo con Tecnico 0 e il Sindaco",
            at=NOW - timedelta(days=1),
            round_=None,
            message_id=7,
        )
    async with db.transaction() as session:
        person = await session.get(Person, w.persons[t0.id].id)
        assert person is not None
        await registration_repo.erase_person(session, person=person, now=NOW)
    async with db.transaction() as session:
        (note,) = await repo.group_notes(session, union_id=w.union.id)
        export = await repo.export_data(session, w.union.id)
    # The author is the erased person row: readers show «ex membro» in their language. The
    # note's words are the leaver's contribution and stay as written.
    assert note.author is FORMER_MEMBER
    assert note.text == "Sopralluogo con Tecnico 0 e il Sindaco"
    assert export is not None and export.notes[0][0].author is FORMER_MEMBER


async def test_notes_do_not_add_queries_per_comune(db: Database) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    counts = {}
    for n in (2, 6):
        async with db.transaction() as session:
            w = await make_world(
                session,
                comuni=n,
                actions_per_comune=1,
                name=f"Unione {n}",
                political_chat=None,
                technical_chat=None,
            )
            round_ = await add_round(
                session,
                w,
                period="2026-11",
                opened_at=NOW - timedelta(days=10),
                deadline_at=NOW - timedelta(days=1),
            )
            for i in range(n):
                for k in range(3):
                    await _note(
                        session,
                        w,
                        w.members[f"tecnico:{i}"],
                        i,
                        f"nota {k}",
                        at=NOW - timedelta(days=5, minutes=k),
                        round_=round_,
                        message_id=i * 10 + k,
                    )
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            statements.clear()
            async with db.transaction() as session:
                facts = await repo.summary_facts(
                    session, union_id=w.union.id, baseline=None, round_=round_, now=NOW
                )
                counts[n] = len(statements)
                statements.clear()
                export = await repo.export_data(session, w.union.id)
                counts[n, "export"] = len(statements)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert facts is not None and len(facts.notes) == 3 * n
        assert export is not None and len(export.notes) == 3 * n
    assert counts[2] == counts[6], counts
    assert counts[2, "export"] == counts[6, "export"], counts


async def test_an_actions_card_reads_the_latest_notes_of_its_comune(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=2, actions_per_comune=1)
        t0, t1 = w.members["tecnico:0"], w.members["tecnico:1"]
        assert w.coordinator is not None
        days_back = (10, 8, 6, 9, 7)  # written out of order: the card goes by time, not by id
        writes = [
            (t0, 0, f"Comune 00, nota {k}", timedelta(days=d)) for k, d in enumerate(days_back)
        ]
        writes += [
            (t1, 1, "Comune 01", timedelta(hours=1)),
            (w.coordinator, None, "Bando regionale", timedelta(hours=2)),
        ]
        for i, (member, comune, text, ago) in enumerate(writes):
            await _note(session, w, member, comune, text, at=NOW - ago, round_=None, message_id=i)
    async with db.transaction() as session:
        latest = await repo.group_notes(
            session, union_id=w.union.id, comune=w.comuni[0].id, latest=3
        )
        union_level = await repo.group_notes(
            session, union_id=w.union.id, comune=repo.UNION_NOTES, latest=3
        )
        every = await repo.group_notes(session, union_id=w.union.id, comune=w.comuni[0].id)
    assert [n.text[-1] for n in every] == ["0", "3", "1", "4", "2"]
    assert [n.text for n in latest] == [
        "Comune 00, nota 1",
        "Comune 00, nota 4",
        "Comune 00, nota 2",
    ]
    assert [n.author for n in latest] == ["Tecnico 0"] * 3
    assert [(n.text, n.author) for n in union_level] == [("Bando regionale", "Carla Coordinatrice")]


async def test_an_actions_card_reads_its_notes_in_order_off_one_index(db: Database) -> None:
    """The card's read (a Comune's latest notes, or the Union's own: `municipality_id IS NULL`)
    walks ix_update_note_union_id_municipality_id_created_at_id newest first and stops: no
    sort of all the Comune's notes (2.4 ms per card at 20,000 notes without it;
    scripts/measure_card_notes.py). PostgreSQL is told to avoid sorts and full scans (a small
    table's plan would otherwise go by size): a sort still shows if the index can't give the
    order."""
    async with db.transaction() as session:
        w = await make_world(session, comuni=1, actions_per_comune=1)
        assert w.coordinator is not None
        for i in range(4):
            await _note(
                session,
                w,
                w.members["tecnico:0"] if i % 2 else w.coordinator,
                0 if i % 2 else None,
                f"nota {i}",
                at=NOW - timedelta(days=i),
                round_=None,
                message_id=i,
            )
    postgres = db.engine.dialect.name == "postgresql"
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    for comune in (w.comuni[0].id, repo.UNION_NOTES):
        sent.clear()
        async with db.transaction() as session:
            event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
            try:
                notes = await repo.group_notes(
                    session, union_id=w.union.id, comune=comune, latest=CARD_NOTES_READ
                )
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
            assert len(notes) == 2
            statement, params = next((s, p) for s, p in sent if "update_note" in s)
            conn = await session.connection()
            if postgres:
                for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                    await conn.exec_driver_sql(f"SET LOCAL {setting} = off")
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = "\n".join(
                str(row[-1]) for row in await conn.exec_driver_sql(prefix + statement, params)
            )
        assert "ix_update_note_union_id_municipality_id_created_at_id" in plan, plan
        assert ("Sort" not in plan) if postgres else ("TEMP B-TREE" not in plan), plan


async def test_a_note_that_is_only_the_hashtag_does_not_take_a_place_on_the_card(
    db: Database,
) -> None:
    """The card shows the latest three notes that say something: a bare «#aggiornamento» (a
    photo's caption, say) is stored like any note but shows nothing, so it must not push a
    real note off the card."""
    async with db.transaction() as session:
        w = await make_world(session, comuni=1, actions_per_comune=1)
        t0 = w.members["tecnico:0"]
        writes = [("Caldaia sostituita", 5), ("Collaudo fatto", 4), ("Fattura pagata", 3)]
        writes += [("#aggiornamento", 2), ("  #Aggiornamento:  ", 1)]
        for i, (text, days) in enumerate(writes):
            await _note(
                session, w, t0, 0, text, at=NOW - timedelta(days=days), round_=None, message_id=i
            )
    async with db.transaction() as session:
        action = await session.get(Action, w.actions[0].id)
        assert action is not None
        text, _ = await progress.card(session, action, IT, coordinator=False, now=NOW)
    assert "💬 Ultime note dal gruppo tecnico per Comune 00:" in text
    for note in ("Caldaia sostituita", "Collaudo fatto", "Fattura pagata"):
        assert note in text
