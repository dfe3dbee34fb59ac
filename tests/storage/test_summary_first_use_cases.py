"""Issue 16's use cases on both databases: the private copies of a summary with the reader's own
Comuni first, /riepilogo in private, and the links that open a dialogue in private (who arrives
is checked again)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.services import summaries
from storage.db import Database
from storage.models import OutboxMessage, Role
from tests.factories import add_member
from tests.summaries_factories import NOW, add_round, make_world


def _comune_rows(text: str) -> list[str]:
    return [r for r in text.split("\n") if "<b>Comune " in r]


async def test_a_coordinators_private_copy_puts_their_comune_first(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=3, political_chat=None)  # no political group
        # A second coordinator who is also the Sindaca of Comune 02.
        await add_member(
            session,
            w,
            role=Role.SINDACO,
            name="Sara Sindaca",
            key="sara",
            comuni=[w.comuni[2]],
            coordinator=True,
            telegram_user_id=777_001,
        )
        round_ = await add_round(
            session,
            w,
            period="2026-12",
            opened_at=NOW - timedelta(days=5),
            deadline_at=NOW - timedelta(minutes=1),
        )
    due = summaries.DueSummary(round_)
    async with db.transaction() as session:
        draft = await summaries.read_scheduled_summary(session, due=due, now=NOW, language="it")
    assert draft is not None
    pictures = await summaries.summary_pictures(draft, language="it")
    assert [p.name for p in pictures] == ["riepilogo-1.png", "riepilogo-co2.png"]
    async with db.transaction() as session:
        queued = await summaries.queue_summary(
            session, due=due, draft=draft, now=NOW, language="it"
        )
        assert queued is not None and queued.parts == 1
        assert await summaries.queue_pictures(
            session, summary_id=queued.summary_id, due=due, pictures=pictures, now=NOW
        )
        rows = list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )
    texts = {
        r.chat_id: r.payload["text"]
        for r in rows
        if r.dedup_key.startswith(f"sum:{queued.summary_id}:0")
    }
    sara_id = w.people["sara"].telegram_user_id
    carla_id = w.people["Carla Coordinatrice"].telegram_user_id
    assert set(texts) == {sara_id, carla_id}
    assert _comune_rows(texts[sara_id])[0].startswith("📍 <b>Comune 02</b> · ")
    assert [r.split(" · ")[0] for r in _comune_rows(texts[carla_id])] == [
        "<b>Comune 00</b>",
        "<b>Comune 01</b>",
        "<b>Comune 02</b>",
    ]
    # Each copy's picture is queued for its reader, after the text.
    photos = [r for r in rows if r.method == "sendPhoto"]
    assert {r.chat_id for r in photos} == {sara_id, carla_id}
    assert all(p.file_data and p.file_data[:4] == b"\x89PNG" for p in photos)


async def test_riepilogo_in_private_reads_the_callers_comuni_first(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=3)
    own = frozenset({w.comuni[1].id})
    async with db.transaction() as session:
        draft = await summaries.read_summary_now(
            session, union_id=w.union.id, now=NOW, language="it", own=own
        )
    assert draft is not None and draft.own == own
    (private,) = summaries.summary_texts(draft, language="it", private=True)
    assert _comune_rows(private)[0].startswith("📍 <b>Comune 01</b>")
    (group,) = summaries.summary_texts(draft, language="it", own=frozenset())
    assert "📍" not in group


async def test_links_check_who_arrives(db: Database) -> None:
    async with db.transaction() as session:
        w = await make_world(session, comuni=2)
        other = await make_world(session, comuni=1, name="Unione Altrove")

    def tid(world: object, key: str) -> int:
        person = world.people[key]  # type: ignore[attr-defined]
        assert person.telegram_user_id is not None
        return int(person.telegram_user_id)

    async with db.transaction() as session:
        offer = await summaries.export_link(
            session, union_id=w.union.id, telegram_user_id=tid(w, "sindaco:0")
        )
        assert offer == summaries.ExportOffer(w.union.id, "Unione Reno Galliera")
        refused = await summaries.export_link(
            session, union_id=w.union.id, telegram_user_id=tid(w, "tecnico:0")
        )
        assert refused == summaries.ExportRefused("not_allowed")
        stranger = await summaries.export_link(
            session, union_id=w.union.id, telegram_user_id=tid(other, "sindaco:0")
        )
        assert stranger == summaries.ExportRefused("not_member")
        desk = await summaries.decision_link(
            session, union_id=w.union.id, telegram_user_id=tid(w, "Carla Coordinatrice")
        )
        assert isinstance(desk, summaries.DecisionDesk)
        not_coordinator = await summaries.decision_link(
            session, union_id=w.union.id, telegram_user_id=tid(w, "sindaco:1")
        )
        assert not_coordinator == summaries.DecisionNotRecorded("not_coordinator")
        elsewhere = await summaries.decision_link(
            session, union_id=other.union.id, telegram_user_id=tid(w, "Carla Coordinatrice")
        )
        assert elsewhere == summaries.DecisionNotRecorded("not_coordinator")


def test_link_payloads_are_strict() -> None:
    assert summaries.start_link(summaries.LINK_EXPORT, 12) == "exp-12"
    assert summaries.parse_start_link("sheet-7") == ("sheet", 7)
    for bad in ("exp-0", "exp-", "exp-12x", "EXP-12", "exp-1234567890123", "mg-5", "", None):
        assert summaries.parse_start_link(bad) is None
