"""Actions, history, rounds and answers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from storage.db import Database
from storage.models import ActionStatus, ProgressUpdate, Role, UpdateSource
from storage.repositories import actions as repo
from storage.repositories import core as core_repo
from tests import factories
from tests.sql_trace import statements_of
from tests.updates_factories import make_meeting, make_member, make_union

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def row(
    code: str, municipality_id: int | None, title: str = "Titolo", **extra: object
) -> dict[str, object]:
    values: dict[str, object] = {k: None for k in repo.ACTION_FIELDS}
    values.update(code=code, title=title, municipality_id=municipality_id, **extra)
    return values


async def test_import_creates_updates_and_never_deletes(db: Database) -> None:
    async with db.transaction() as s:
        union, comuni = await make_union(s, "Unione", ["Alfa", "Beta"], now=NOW)
        a, b = comuni["Alfa"].id, comuni["Beta"].id
        created, updated = await repo.upsert_actions(
            s,
            union_id=union.id,
            rows=[row("A1", a, cost_eur=Decimal("10.50")), row("B1", b), row("U1", None)],
            now=NOW,
        )
        assert (created, updated) == (3, 0)
        union_id = union.id
    async with db.transaction() as s:
        action = (await repo.actions_by_code(s, union_id))["a1"]
        await repo.record_update(
            s,
            action=action,
            member_id=None,
            round_id=None,
            source=UpdateSource.COORDINATOR,
            status=ActionStatus.ONGOING,
            progress=30,
            note="via",
            now=NOW,
        )
        action_b = (await repo.actions_by_code(s, union_id))["b1"]
        action_b.archived_at = NOW
    later = NOW + timedelta(days=1)
    async with db.transaction() as s:
        # "a1" in another case matches A1; B1 comes back from the archive; U1 untouched.
        created, updated = await repo.upsert_actions(
            s,
            union_id=union_id,
            rows=[row("a1", a, title="Nuovo titolo", cost_eur=Decimal("10.50")), row("B1", b)],
            now=later,
        )
        assert (created, updated) == (0, 2)
    async with db.transaction() as s:
        by_code = await repo.actions_by_code(s, union_id)
        assert set(by_code) == {"a1", "b1", "u1"}
        assert (
            by_code["a1"].title == "Nuovo titolo" and by_code["a1"].status == ActionStatus.ONGOING
        )
        assert by_code["a1"].cost_eur == Decimal("10.50")
        assert by_code["b1"].archived_at is None
        history = await repo.history(s, action_id=by_code["a1"].id)
        assert len(history) == 1 and history[0].update.progress == 30
        listed = await repo.list_actions(s, union_id=union_id, municipality_id=repo.UNION_WIDE)
        assert [x.code for x in listed] == ["U1"]


async def test_one_round_per_period_and_answers(db: Database) -> None:
    async with db.transaction() as s:
        union, comuni = await make_union(s, "Unione", ["Alfa"], now=NOW)
        tech = await make_member(
            s,
            union,
            telegram_user_id=101,
            name="Tina",
            role=Role.TECNICO,
            comuni=[comuni["Alfa"]],
            now=NOW,
        )
        await make_member(
            s,
            union,
            telegram_user_id=102,
            name="Sara",
            role=Role.SINDACO,
            comuni=[comuni["Alfa"]],
            now=NOW,
        )
        meeting = await make_meeting(s, union, starts_at=NOW + timedelta(days=10), now=NOW)
        first = await repo.create_round(
            s,
            union_id=union.id,
            period="2026-12",
            meeting_id=meeting.id,
            deadline_at=NOW + timedelta(days=8),
            now=NOW,
        )
        assert first is not None
        again = await repo.create_round(
            s, union_id=union.id, period="2026-12", meeting_id=None, deadline_at=NOW, now=NOW
        )
        assert again is None
        union_id, tech_id, round_id = union.id, tech.id, first.id
        await repo.upsert_actions(
            s, union_id=union_id, rows=[row("A1", comuni["Alfa"].id)], now=NOW
        )
    async with db.transaction() as s:
        techs = await repo.technicians(s, union_id)
        assert [(t.person.display_name, len(t.municipality_ids)) for t in techs] == [("Tina", 1)]
        assert await repo.set_no_news(s, round_id=round_id, member_id=tech_id, now=NOW)
        assert not await repo.set_no_news(s, round_id=round_id, member_id=tech_id, now=NOW)
        assert await repo.no_news_members(s, round_id) == {tech_id}
        action = (await repo.actions_by_code(s, union_id))["a1"]
        await repo.record_update(
            s,
            action=action,
            member_id=tech_id,
            round_id=round_id,
            source=UpdateSource.PRIVATE,
            status=ActionStatus.COMPLETED,
            progress=100,
            note=None,
            now=NOW,
            attachments=[repo.AttachmentIn(kind="photo", file_id="f", file_unique_id="u")],
        )
        assert await repo.updated_in_round(s, round_id) == {action.id}
        current = await repo.current_round(s, union_id=union_id, now=NOW + timedelta(days=1))
        assert current is not None and current.id == round_id
        assert await repo.current_round(s, union_id=union_id, now=NOW + timedelta(days=9)) is None
        current.announcement_chat_id, current.announcement_message_id = -100, 55
    async with db.transaction() as s:
        found = await repo.round_by_announcement(s, chat_id=-100, message_id=55)
        assert found is not None and found.id == round_id
        meetings = await repo.meetings_between(
            s, union_id=union_id, start=NOW, end=NOW + timedelta(days=31)
        )
        assert len(meetings) == 1
        updates = list((await s.execute(select(ProgressUpdate))).scalars())
        assert updates[0].previous_status == ActionStatus.NOT_STARTED
        history = await repo.history(s, action_id=updates[0].action_id)
        assert history[0].author == "Tina" and history[0].attachments == 1


async def test_settled_periods_count_rounds_and_skips(db: Database) -> None:

    async with db.transaction() as s:
        union, _comuni = await make_union(s, "Unione", ["Alfa"], now=NOW)
        other, _c = await make_union(s, "Altra", ["Beta"], now=NOW)
        await repo.create_round(
            s, union_id=union.id, period="2026-12", meeting_id=None, deadline_at=NOW, now=NOW
        )
        await core_repo.claim(
            s, kind=repo.ROUND_SKIP_CLAIM, union_id=other.id, period="2026-11", now=NOW
        )
        settled = await repo.settled_periods(s, periods=["2026-11", "2026-12"])
        assert settled == {(union.id, "2026-12"), (other.id, "2026-11")}
        assert await repo.settled_periods(s, periods=[]) == set()


async def test_skipped_with_meetings_ahead_lists_only_meetings_that_may_earn_a_round(
    db: Database,
) -> None:

    async with db.transaction() as s:
        skipped, _c = await make_union(s, "Saltata", ["Alfa"], now=NOW)
        opened, _c = await make_union(s, "Aperta", ["Beta"], now=NOW)
        quiet, _c = await make_union(s, "Quieta", ["Gamma"], now=NOW)
        for union in (skipped, opened, quiet):
            await core_repo.claim(
                s, kind=repo.ROUND_SKIP_CLAIM, union_id=union.id, period="2026-12", now=NOW
            )
        ahead = NOW + timedelta(days=5)
        await make_meeting(s, skipped, starts_at=ahead)
        await make_meeting(s, skipped, starts_at=NOW - timedelta(days=1))  # already over
        cancelled = await make_meeting(s, skipped, starts_at=ahead + timedelta(days=1))
        cancelled.cancelled_at = NOW
        await make_meeting(s, opened, starts_at=ahead)
        await repo.create_round(
            s, union_id=opened.id, period="2026-12", meeting_id=None, deadline_at=ahead, now=NOW
        )
        found = await repo.skipped_with_meetings_ahead(s, periods=["2026-12"], after=NOW)
        assert found == [(skipped.id, "2026-12", ahead)]
        assert await repo.skipped_with_meetings_ahead(s, periods=["2026-11"], after=NOW) == []
        assert await repo.skipped_with_meetings_ahead(s, periods=[], after=NOW) == []


async def test_step_context_reads_a_press_in_one_query(db: Database) -> None:
    """The update flow's press: presser, action, membership, Union, Comuni, dialogue."""
    async with db.transaction() as s:
        world = await factories.make_union(s, comuni=["Alfa", "Beta", "Gamma"])
        other = await factories.make_union(s, name="Altra Unione", comuni=["Delta"])
        tech = await factories.add_member(
            s, world, role=Role.TECNICO, name="Tina", comuni=world.comuni[:2]
        )
        person = world.people["Tina"]
        await repo.upsert_actions(
            s,
            union_id=world.union.id,
            rows=[row("A1", world.comuni[0].id)],
            now=NOW,
        )
        await repo.upsert_actions(
            s, union_id=other.union.id, rows=[row("X1", other.comuni[0].id)], now=NOW
        )
        mine = (await repo.actions_by_code(s, world.union.id))["a1"].id
        foreign = (await repo.actions_by_code(s, other.union.id))["x1"].id
        await core_repo.set_conversation(
            s,
            telegram_user_id=person.telegram_user_id,
            chat_id=person.telegram_user_id,
            flow="upd",
            step="status",
            data={"union_id": world.union.id},
            now=NOW,
        )
        await s.flush()  # the dialogue is written before we count the press's statements
        tg = person.telegram_user_id
        async with statements_of(s) as statements:
            ctx = await repo.step_context(
                s, telegram_user_id=tg, chat_id=tg, action_id=mine, union_id=None
            )
        assert len(statements) == 1
        assert ctx is not None
        assert (ctx.language, ctx.telegram_language) == (person.language, person.telegram_language)
        assert ctx.action is not None and (ctx.action.id, ctx.action.code) == (mine, "A1")
        assert ctx.member is not None and ctx.member.member_id == tech.id
        assert (ctx.member.union_id, ctx.member.role) == (world.union.id, Role.TECNICO)
        assert sorted(ctx.municipality_ids) == sorted(c.id for c in world.comuni[:2])
        assert ctx.conversation is not None and ctx.conversation.step == "status"
        assert ctx.conversation.data == {"union_id": world.union.id}

        # No action named: the membership in the Union the button names; another chat: no dialogue.
        ctx = await repo.step_context(
            s, telegram_user_id=tg, chat_id=-100, action_id=None, union_id=world.union.id
        )
        assert ctx is not None and ctx.action is None and ctx.conversation is None
        assert ctx.member is not None and ctx.member.member_id == tech.id

        # Another Union's action: found, but no membership there.
        ctx = await repo.step_context(
            s, telegram_user_id=tg, chat_id=tg, action_id=foreign, union_id=None
        )
        assert ctx is not None and ctx.action is not None and ctx.action.id == foreign
        assert ctx.member is None and ctx.municipality_ids == ()

        # An action that no longer exists; a stranger.
        ctx = await repo.step_context(
            s, telegram_user_id=tg, chat_id=tg, action_id=10**9, union_id=None
        )
        assert ctx is not None and ctx.action is None and ctx.member is None
        assert (
            await repo.step_context(
                s, telegram_user_id=tg + 1, chat_id=tg, action_id=mine, union_id=None
            )
            is None
        )
