"""Summaries, decisions, announcements, documents, exports and settings on both databases."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import event, func, select

from bot.clock import FakeClock
from bot.config import Settings
from bot.context import Services
from bot.handlers import announcements as ann_handlers
from bot.handlers import summaries as sum_handlers
from bot.i18n import translator
from bot.services import summaries
from bot.services.summaries.build import build_summary_input
from bot.services.summaries.export import export_csv, export_xlsx
from bot.services.summaries.summary import render_summary
from storage.db import Database
from storage.models import (
    ActionStatus,
    Announcement,
    DecisionStatus,
    DecisionVoteChoice,
    OutboxMessage,
    OutboxStatus,
    Role,
    RoundResponse,
    Summary,
    SummaryKind,
)
from storage.repositories import summaries as repo
from tests.factories import NOW, add_comune, add_member, add_round, add_update, make_world

IT = translator("it")


def _services(db: Database, clock: FakeClock) -> Services:
    return Services(settings=Settings(token="123:abc", database_url=db.url), db=db, clock=clock)


async def _export(db: Database, union_id: int, kind: str) -> list[summaries.ExportFile] | None:
    """The export's files as the bot builds them (read in a transaction, written after it)."""
    async with db.transaction() as session:
        read = await summaries.read_export(session, union_id=union_id, now=NOW)
    return None if read is None else await summaries.export_files(read, kind=kind, language="it")


class _NoBot:
    """Due work here only queues in the outbox; any Telegram call is a bug."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected Telegram call {name}")


async def test_facts_changes_stuck_and_silent(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=2, actions_per_comune=2)
        a0, a1, b0, _b1 = w.actions
        t0 = w.members["tecnico:0"]
        # A Comune with no actions yet: its technician was asked nothing, so is not silent.
        empty = await add_comune(session, w, "Comune senza azioni", now=NOW)
        await add_member(
            session, w, role=Role.TECNICO, name="Tecnico nuovo", comuni=[empty], now=NOW
        )
        r1 = await add_round(
            session,
            w,
            period="2026-10",
            opened_at=NOW - timedelta(days=70),
            deadline_at=NOW - timedelta(days=62),
        )
        await add_update(
            session,
            a0,
            t0,
            status=ActionStatus.ONGOING,
            progress=20,
            at=NOW - timedelta(days=65),
            round_=r1,
        )
        await add_update(
            session,
            a1,
            t0,
            status=ActionStatus.ONGOING,
            progress=20,
            at=NOW - timedelta(days=65),
            round_=r1,
        )
        await add_update(
            session,
            b0,
            w.members["tecnico:1"],
            status=ActionStatus.ONGOING,
            progress=30,
            at=NOW - timedelta(days=65),
            round_=r1,
        )
        await add_round(
            session,
            w,
            period="2026-11",
            opened_at=NOW - timedelta(days=40),
            deadline_at=NOW - timedelta(days=32),
        )
        r3 = await add_round(
            session,
            w,
            period="2026-12",
            opened_at=NOW - timedelta(days=10),
            deadline_at=NOW - timedelta(hours=1),
        )
        # Only Comune 0's technician reports in the last round: a0 completed with a note.
        await add_update(
            session,
            a0,
            t0,
            status=ActionStatus.COMPLETED,
            progress=100,
            at=NOW - timedelta(days=5),
            round_=r3,
            note="Collaudo <ok>",
        )
        baseline = NOW - timedelta(days=30)
        facts = await repo.summary_facts(
            session, union_id=w.union.id, baseline=baseline, round_=r3, now=NOW
        )
    assert facts is not None
    data = build_summary_input(
        facts, since=baseline, now=NOW, period="2026-12", round_deadline=r3.deadline_at
    )
    assert [c.action_id for c in data.changes] == [a0.id]
    change = data.changes[0]
    assert (change.old_status, change.new_status) == ("ongoing", "completed")
    assert (change.old_progress, change.new_progress) == (20, 100)
    assert change.notes == ("Collaudo <ok>",)
    stuck = {a.code: a.stuck_rounds for a in data.actions}
    # a1 and b0 moved in October, then nothing in November and December: stuck two rounds.
    assert stuck[a1.code] == 2 and stuck[b0.code] == 2
    assert stuck[a0.code] == 0  # completed
    silent = {c.name: c.silent for c in data.comuni}
    assert silent == {"Comune 00": (), "Comune 01": ("Tecnico 1",), "Comune senza azioni": ()}
    (text,) = render_summary(data, IT)
    # One line per Comune (issue 16): the note itself is in the spreadsheet.
    comune0 = next(r for r in text.split("\n") if r.startswith("<b>Comune 00</b>"))
    assert comune0 == (
        "<b>Comune 00</b> · 1/2 completate · 1 aggiornata · ✅ C00.00 completata · ⏳ 1 ferma"
    )
    assert (
        "<b>Comune 01</b> · 2 azioni · ⏳ 2 ferme · 🔕 non ha ancora aggiornato: Tecnico 1" in text
    )


async def test_no_news_counts_as_reported(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=1, actions_per_comune=1)
        r = await add_round(
            session,
            w,
            period="2026-12",
            opened_at=NOW - timedelta(days=3),
            deadline_at=NOW - timedelta(hours=1),
        )
        session.add(
            RoundResponse(
                round_id=r.id,
                member_id=w.members["tecnico:0"].id,
                no_news=True,
                created_at=NOW - timedelta(days=1),
            )
        )
        await session.flush()
        assert await repo.reported_member_ids(session, r) == {w.members["tecnico:0"].id}


async def test_scheduled_summary_once_per_round_and_skips_superseded(db: Database) -> None:
    clock = FakeClock(NOW)
    services = _services(db, clock)
    async with db.transaction() as session:
        w = await make_world(session, comuni=3, actions_per_comune=2)
        old = await add_round(
            session,
            w,
            period="2026-10",
            opened_at=NOW - timedelta(days=60),
            deadline_at=NOW - timedelta(days=55),
        )
        await add_round(
            session,
            w,
            period="2026-11",
            opened_at=NOW - timedelta(days=30),
            deadline_at=NOW - timedelta(days=25),
        )
        current = await add_round(
            session,
            w,
            period="2026-12",
            opened_at=NOW - timedelta(days=5),
            deadline_at=NOW + timedelta(hours=2),
        )
        await add_update(
            session,
            w.actions[0],
            w.members["tecnico:0"],
            status=ActionStatus.ONGOING,
            progress=50,
            at=NOW - timedelta(days=1),
            round_=current,
            needs_decision=True,
            question="Servono fondi per il cappotto?",
        )
    bot: Any = _NoBot()
    await sum_handlers.post_due_summaries(services, bot, clock.now())
    await sum_handlers.post_due_summaries(services, bot, clock.now())
    async with db.transaction() as session:
        summaries = await repo.summaries_of(session, w.union.id)
        # October and November are superseded by newer rounds: skipped, not posted.
        assert summaries == []
        # …and, claimed as skipped, they no longer come back to every tick.
        assert await repo.rounds_due_without_summary(session, now=clock.now()) == []
    clock.advance(hours=3)  # December's deadline passes
    await sum_handlers.post_due_summaries(services, bot, clock.now())
    await sum_handlers.post_due_summaries(services, bot, clock.now())
    async with db.transaction() as session:
        summaries = await repo.summaries_of(session, w.union.id)
        assert [(s.period, s.kind, s.late) for s in summaries] == [
            ("2026-12", SummaryKind.SCHEDULED, True)
        ]
        rows = list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )
        keys = [r.dedup_key for r in rows]
        sid = summaries[0].id
        assert keys[0] == f"sum:{sid}:0"
        assert f"sum:{sid}:picture0" in keys
        # The questions' vote messages come right under the text, the pictures last.
        assert keys.index(f"sum:{sid}:picture0") > max(
            i for i, k in enumerate(keys) if k.startswith("decmsg:")
        )
        decisions = await repo.decisions_not_done(session, union_id=w.union.id)
        assert [d.question for d in decisions] == ["Servono fondi per il cappotto?"]
        assert keys[1] == f"decmsg:{decisions[0].id}:{sid}"
        assert all(r.chat_id == -100111 - w.union.id for r in rows)
        chart = next(r for r in rows if r.method == "sendPhoto")
        assert chart.file_data is not None and chart.file_data[:4] == b"\x89PNG"
        text = rows[0].payload["text"]
        assert "Riepilogo inviato in ritardo per un problema tecnico." in text
        assert "bot era fermo" not in text
        assert "Servono fondi per il cappotto?" in "".join(r.payload.get("text", "") for r in rows)
        # An on-demand summary never becomes the baseline.
        await repo.create_summary(
            session,
            union_id=w.union.id,
            kind=SummaryKind.ON_DEMAND,
            period="od:1",
            round_id=None,
            late=False,
            now=clock.now(),
        )
        last = await repo.last_scheduled_summary(session, union_id=w.union.id)
        assert last is not None and last.period == "2026-12"
        assert old.id not in {s.round_id for s in summaries}


async def test_decision_votes_one_per_comune_and_close(db: Database) -> None:
    clock = FakeClock(NOW)
    services = _services(db, clock)
    async with db.transaction() as session:
        w = await make_world(session, comuni=2, actions_per_comune=1)
        upd = await add_update(
            session,
            w.actions[0],
            w.members["tecnico:0"],
            status=ActionStatus.ONGOING,
            progress=30,
            at=NOW,
            needs_decision=True,
            question="Anticipiamo i fondi?",
        )
        created = await summaries.sync_decisions(session, now=NOW)
        assert len(created) == 1
        assert await summaries.sync_decisions(session, now=NOW) == []
        did = created[0]
        comune0 = w.comuni[0].id
        await repo.cast_vote(
            session,
            decision_id=did,
            municipality_id=comune0,
            member_id=w.members["assessore:0"].id,
            choice=DecisionVoteChoice.REJECT,
            now=NOW,
        )
        await repo.cast_vote(
            session,
            decision_id=did,
            municipality_id=comune0,
            member_id=w.members["sindaco:0"].id,
            choice=DecisionVoteChoice.APPROVE,
            now=NOW,
        )
        found = await repo.vote_of_comune(session, decision_id=did, municipality_id=comune0)
        assert found is not None and found[1] == Role.SINDACO
        decision = (await repo.decisions_not_done(session, union_id=w.union.id))[0]
        assert decision.source_update_id == upd.id
        fact = await repo.decision_fact(session, decision)
        assert [(v.comune, v.choice, v.voter) for v in fact.votes] == [
            ("Comune 00", "approve", "Sindaco 0")
        ]
        assert fact.asked_by == "Tecnico 0" and fact.action_code == "C00.00"
        assert w.coordinator is not None
        await summaries.close_decision(
            session,
            decision_id=decision.id,
            member_id=w.coordinator.id,
            outcome=DecisionStatus.APPROVED,
            now=NOW,
            language=services.settings.default_language,
        )
    async with db.transaction() as session:
        rows = await repo.outbox_rows(session, "dec")
        keys = sorted(r.dedup_key for r, _n in rows)
        assert keys == [f"decask:{did}:approved", f"decout:{did}:approved"]
        ask = next(r for r, _n in rows if r.dedup_key.startswith("decask"))
        assert ask.chat_id == w.persons[w.members["tecnico:0"].id].telegram_user_id
        assert "ha <b>approvato</b> la questione che hai posto" in ask.payload["text"]
        out = next(r for r, _n in rows if r.dedup_key.startswith("decout"))
        assert out.chat_id == -100222 - w.union.id
        assert "Comune 00: Approva" in out.payload["text"]


async def test_announcement_report_lists_exactly_the_unreachable(db: Database) -> None:
    clock = FakeClock(NOW)
    services = _services(db, clock)
    async with db.transaction() as session:
        w = await make_world(session, comuni=40, actions_per_comune=0)
        recipients = await repo.audience_members(session, union_id=w.union.id, audience="all")
        assert len(recipients) == 121  # 40 × 3 + the coordinator
        assert (
            len(await repo.audience_members(session, union_id=w.union.id, audience="political"))
            == 81
        )
        one = await repo.audience_members(
            session, union_id=w.union.id, audience=f"comune:{w.comuni[3].id}"
        )
        assert sorted(r.name for r in one) == ["Assessore 3", "Sindaco 3", "Tecnico 3"]
        coordinator_person = w.persons[w.coordinator.id]  # type: ignore[union-attr]
        a = Announcement(
            union_id=w.union.id,
            audience="all",
            text="Riunione giovedì",
            created_by_member_id=w.coordinator.id,
            created_at=NOW,
        )  # type: ignore[union-attr]
        session.add(a)
        await session.flush()
        others = [r for r in recipients if r.person_id != coordinator_person.id]
        from storage.repositories import outbox as outbox_repo

        for r in others:
            await outbox_repo.enqueue(
                session,
                dedup_key=f"ann:{a.id}:{r.person_id}",
                chat_id=r.telegram_user_id,
                method="sendMessage",
                payload={"text": "x"},
                person_id=r.person_id,
                union_id=w.union.id,
                now=NOW,
            )
            # never twice: the same key again is refused
            assert not await outbox_repo.enqueue(
                session,
                dedup_key=f"ann:{a.id}:{r.person_id}",
                chat_id=r.telegram_user_id,
                method="sendMessage",
                payload={"text": "x"},
                now=NOW,
            )
    bot: Any = _NoBot()
    await ann_handlers.report_announcements(services, bot, NOW)  # nothing settled yet
    unreachable = sorted(r.name for r in others[:7])
    async with db.transaction() as session:
        rows = await repo.outbox_rows(session, f"ann:{a.id}:")
        assert len(rows) == 120
        for row, name in rows:
            row.status = OutboxStatus.FAILED if name in unreachable else OutboxStatus.SENT
        assert await repo.outbox_rows(session, f"annrep:{a.id}") == []
    await ann_handlers.report_announcements(services, bot, NOW)
    await ann_handlers.report_announcements(services, bot, NOW)
    async with db.transaction() as session:
        reports = await repo.outbox_rows(session, f"annrep:{a.id}")
        assert len(reports) == 1
        text = reports[0][0].payload["text"]
        assert "consegnato a 113 di 120" in text
        listed = text.split("Non raggiungibili: ")[1].split(".")[0].split(", ")
        assert sorted(listed) == unreachable
        assert reports[0][0].chat_id == coordinator_person.telegram_user_id
        stored = await session.get(Announcement, a.id)
        assert stored is not None and stored.reported_at is not None


async def test_documents_export_and_settings_defaults(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=2, actions_per_comune=2)
        assert await repo.add_document(
            session,
            union_id=w.union.id,
            title="PAES",
            url="https://example.org/paes",
            member_id=None,
            now=NOW,
        )
        assert not await repo.add_document(
            session,
            union_id=w.union.id,
            title="Doppio",
            url="https://example.org/paes",
            member_id=None,
            now=NOW,
        )
        docs = await repo.documents(session, w.union.id)
        assert [d.title for d in docs] == ["PAES"]
        assert await repo.remove_document(session, union_id=w.union.id, document_id=docs[0].id)
        assert not await repo.remove_document(session, union_id=w.union.id, document_id=docs[0].id)
        await add_update(
            session,
            w.actions[1],
            w.members["tecnico:0"],
            status=ActionStatus.COMPLETED,
            progress=100,
            at=NOW,
            note="=SUM(A1)",
        )
        meeting_settings = await repo.meeting_settings(session, w.union.id)
        assert (meeting_settings.slot_hour, meeting_settings.weekdays) == (17, "1,3")
        meeting_settings.slot_hour = 18
        session.add(meeting_settings)
        update_settings = await repo.update_settings(session, w.union.id)
        assert update_settings.fallback_day == 20
    async with db.transaction() as session:
        assert (await repo.meeting_settings(session, w.union.id)).slot_hour == 18
    built = await _export(db, w.union.id, "xlsx")
    assert built is not None
    ((content, name),) = [(f.content, f.name) for f in built]
    assert name.startswith("team-energia-unione-reno-galliera-") and name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == [
        "Azioni",
        "Storico aggiornamenti",
        "Note dal gruppo tecnico",
        "Riunioni",
        "Presenze per Comune",
    ]
    rows = list(book["Azioni"].iter_rows(values_only=True))
    assert rows[0][:4] == ("ID azione", "Titolo", "Settore", "Comune")
    async with db.transaction() as session:
        count = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar()
        assert count == 0
        data = await repo.export_data(session, w.union.id)
    assert data is not None
    assert [r[0] for r in rows[1:]] == [a.code for a, _n in data.actions]
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code["C00.01"][7] == "Completata" and by_code["C00.01"][8] == 100
    history = list(book["Storico aggiornamenti"].iter_rows(values_only=True))
    note_cell = book["Storico aggiornamenti"]["G2"]  # a text cell, shown as typed, never run
    assert (note_cell.data_type, note_cell.quotePrefix) == ("s", True)
    assert len(history) == 2 and history[1][6] == "=SUM(A1)" and history[1][8] == "Tecnico 0"
    csv_bytes = export_csv(summaries.export_tables(data, IT), IT)
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and b"C00.01;" in csv_bytes
    # No notes from the technical group yet: the CSV export is the actions' file alone.
    built = await _export(db, w.union.id, "csv")
    assert built is not None and [f.content for f in built] == [csv_bytes]
    assert built[0].name == name.removesuffix(".xlsx") + ".csv"
    assert (
        export_xlsx(summaries.export_tables(data, translator("en")), translator("en"))[:2] == b"PK"
    )


async def test_summary_rows_unique_per_period(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=1, actions_per_comune=0)
        first = await repo.create_summary(
            session,
            union_id=w.union.id,
            kind=SummaryKind.SCHEDULED,
            period="2026-12",
            round_id=None,
            late=False,
            now=NOW,
        )
        again = await repo.create_summary(
            session,
            union_id=w.union.id,
            kind=SummaryKind.SCHEDULED,
            period="2026-12",
            round_id=None,
            late=False,
            now=NOW,
        )
        assert first is not None and again is None
        n = (await session.execute(select(func.count()).select_from(Summary))).scalar()
        assert n == 1


async def test_summary_query_count_does_not_grow_with_the_comuni(db: Database) -> None:
    """One open decision per Comune, a vote from every Comune: the summary's reads stay the
    same number of statements for 2 and 6 Comuni (they used to be three per decision)."""
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
            for i, action in enumerate(w.actions):
                await add_update(
                    session,
                    action,
                    w.members[f"tecnico:{i}"],
                    status=ActionStatus.ONGOING,
                    progress=40,
                    at=NOW - timedelta(days=3),
                    needs_decision=True,
                    question=f"Domanda {i}?",
                )
            decisions = await summaries.sync_decisions(session, now=NOW)
            assert len(decisions) == n
            for did in decisions:
                for i, comune in enumerate(w.comuni):
                    await repo.cast_vote(
                        session,
                        decision_id=did,
                        municipality_id=comune.id,
                        member_id=w.members[f"sindaco:{i}"].id,
                        choice=DecisionVoteChoice.APPROVE,
                        now=NOW,
                    )
            round_ = await add_round(
                session,
                w,
                period="2026-11",
                opened_at=NOW - timedelta(days=10),
                deadline_at=NOW - timedelta(days=1),
            )
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            statements.clear()
            async with db.transaction() as session:
                facts = await repo.summary_facts(
                    session, union_id=w.union.id, baseline=None, round_=round_, now=NOW
                )
            counts[n] = len(statements)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert facts is not None and len(facts.decisions) == n
        for i, fact in enumerate(facts.decisions):
            assert fact.asked_by == f"Tecnico {i}" and fact.comune == f"Comune {i:02d}"
            assert [v.voter for v in fact.votes] == [f"Sindaco {j}" for j in range(n)]
    assert counts[2] == counts[6], counts
