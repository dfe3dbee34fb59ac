"""The dashboard's use cases on both databases: what each page reads, who may read it, and a
number of SQL statements that does not grow with the number of Comuni."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import dashboard as uc
from storage.db import Database
from storage.models import (
    ActionStatus,
    Decision,
    DecisionStatus,
    UpdateAttachment,
)
from storage.repositories import dashboard as repo
from tests.factories import NOW, World, add_update, make_meeting, make_world

UseCase = Callable[[AsyncSession, uc.Who, World], Awaitable[Any]]


def _who(world: World, key: str) -> uc.Who:
    person = world.people[key] if key != "coordinator" else world.persons[world.coordinator.id]  # type: ignore[union-attr]
    assert person.telegram_user_id is not None
    return uc.Who(person.telegram_user_id, None, "it")


async def _seed(db: Database, comuni: int, name: str = "Unione Reno Galliera") -> World:
    """make_world's Union, with a completion per Comune, a photo, a meeting, a question."""
    async with db.transaction() as s:
        world = await make_world(s, comuni=comuni, actions_per_comune=3, name=name, now=NOW)
        for i in range(comuni):
            tech = world.members[f"tecnico:{i}"]
            first = world.actions[i * 3]
            await add_update(
                s,
                first,
                tech,
                status=ActionStatus.COMPLETED,
                progress=100,
                at=NOW - timedelta(days=40 + i),
            )
            second = world.actions[i * 3 + 1]
            update = await add_update(
                s,
                second,
                tech,
                status=ActionStatus.ONGOING,
                progress=50,
                at=NOW - timedelta(days=5),
                note=f"nota {i}",
            )
            s.add(
                UpdateAttachment(
                    update_id=update.id, kind="photo", file_id=f"F{i}", file_unique_id=f"U{i}"
                )
            )
        await make_meeting(s, world, starts_at=NOW + timedelta(days=3))
        await make_meeting(s, world, starts_at=NOW - timedelta(days=30))
        s.add(
            Decision(
                union_id=world.union.id,
                question="Si fa?",
                status=DecisionStatus.OPEN,
                created_at=NOW - timedelta(days=2),
            )
        )
        s.add(
            Decision(
                union_id=world.union.id,
                question="Fatto",
                outcome_text="Fatto",
                status=DecisionStatus.APPROVED,
                created_at=NOW - timedelta(days=9),
                closed_at=NOW - timedelta(days=9),
            )
        )
        await s.flush()
    return world


async def _statements(db: Database, world: World, call: UseCase) -> tuple[int, Any]:
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.transaction() as s:
            result = await call(s, _who(world, "coordinator"), world)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return len(statements), result


PAGES: dict[str, UseCase] = {
    "overview": lambda s, who, w: uc.union_overview(s, who=who, union_id=w.union.id, now=NOW),
    "actions": lambda s, who, w: uc.action_list(
        s, who=who, union_id=w.union.id, comune="", status="", page=1
    ),
    "action": lambda s, who, w: uc.action_detail(
        s, who=who, union_id=w.union.id, action_id=w.actions[1].id
    ),
    "meetings": lambda s, who, w: uc.meeting_calendar(s, who=who, union_id=w.union.id, now=NOW),
    "decisions": lambda s, who, w: uc.decision_register(s, who=who, union_id=w.union.id),
    "press": lambda s, who, w: uc.press_note(s, who=who, union_id=w.union.id, now=NOW),
}


async def test_each_page_reads_a_fixed_number_of_statements(db: Database) -> None:
    small = await _seed(db, 2, "Piccola")
    large = await _seed(db, 7, "Grande")
    for name, call in PAGES.items():
        few, small_result = await _statements(db, small, call)
        many, large_result = await _statements(db, large, call)
        assert not isinstance(small_result, uc.NotAllowed), name
        assert not isinstance(large_result, uc.NotAllowed), name
        assert few == many, f"{name}: {few} statements for 2 Comuni, {many} for 7"
        assert many <= 8, (name, many)


async def test_the_overview_counts_and_curves(db: Database) -> None:
    world = await _seed(db, 3)
    async with db.transaction() as s:
        o = await uc.union_overview(
            s, who=_who(world, "coordinator"), union_id=world.union.id, now=NOW
        )
    assert isinstance(o, uc.Overview)
    assert o.figures.total == 9 and o.figures.count(ActionStatus.COMPLETED) == 3
    assert o.figures.co2_avoided_t == 3 * 10.5 and o.figures.co2_target_t == 9 * 10.5
    assert [c.comune.name for c in o.comuni] == ["Comune 00", "Comune 01", "Comune 02"]
    assert o.series[-1].avoided_t == 31.5
    assert o.open_questions == 1 and o.next_meeting is not None
    async with db.transaction() as s:
        changes = await repo.completion_changes(s, union_id=world.union.id)
    assert len(changes) == 3 and all(c.completed for c in changes)


async def test_filters_pages_and_another_unions_ids(db: Database) -> None:
    world = await _seed(db, 3)
    other = await _seed(db, 1, "Altra Unione")
    who = _who(world, "coordinator")
    comune = world.comuni[1].id
    async with db.transaction() as s:
        one = await uc.action_list(
            s, who=who, union_id=world.union.id, comune=str(comune), status="o", page=1
        )
        junk = await uc.action_list(
            s, who=who, union_id=world.union.id, comune="x'--", status="zz", page=-3
        )
        foreign = await uc.action_list(
            s, who=who, union_id=other.union.id, comune="", status="", page=1
        )
        stolen = await uc.action_detail(
            s, who=who, union_id=world.union.id, action_id=other.actions[0].id
        )
    assert isinstance(one, uc.ActionList)
    assert [i.code for i in one.items] == ["C01.01", "C01.02"] and one.comune == str(comune)
    assert isinstance(junk, uc.ActionList) and (junk.comune, junk.status, junk.page) == ("", "", 1)
    assert junk.total == 9
    assert isinstance(foreign, uc.NotAllowed) and foreign.reason == "not_member"
    assert isinstance(stolen, uc.NotAllowed) and stolen.reason == "not_found"


async def test_histories_and_files_follow_the_comune(db: Database) -> None:
    world = await _seed(db, 2)
    tech0 = _who(world, "tecnico:0")
    own, other = world.actions[1], world.actions[4]  # Comune 00's, Comune 01's
    async with db.transaction() as s:
        mine = await uc.action_detail(s, who=tech0, union_id=world.union.id, action_id=own.id)
        theirs = await uc.action_detail(s, who=tech0, union_id=world.union.id, action_id=other.id)
        photos = list(
            (
                await s.execute(UpdateAttachment.__table__.select().order_by(UpdateAttachment.id))
            ).all()
        )
        ok = await uc.attachment_file(
            s, who=tech0, union_id=world.union.id, attachment_id=photos[0].id
        )
        refused = await uc.attachment_file(
            s, who=tech0, union_id=world.union.id, attachment_id=photos[1].id
        )
    assert isinstance(mine, uc.ActionDetail) and mine.may_read_history
    assert mine.history[0].note == "nota 0" and mine.history[0].attachments[0].kind == "photo"
    assert mine.history[0].author == "Tecnico 0"
    assert isinstance(theirs, uc.ActionDetail) and not theirs.may_read_history
    assert theirs.history == () and theirs.notes == ()
    assert isinstance(ok, uc.FileToServe) and ok.file_id == "F0"
    assert isinstance(refused, uc.NotAllowed) and refused.reason == "history"


async def test_the_public_page_switch(db: Database) -> None:
    world = await _seed(db, 2)
    coord, sindaco = _who(world, "coordinator"), _who(world, "sindaco:0")
    async with db.transaction() as s:
        assert await uc.public_progress(s, slug="nothing-here-at-all", now=NOW) is None
        refused = await uc.switch_public_page(
            s, who=sindaco, union_id=world.union.id, enabled=True, now=NOW
        )
        on = await uc.switch_public_page(
            s, who=coord, union_id=world.union.id, enabled=True, now=NOW
        )
    assert isinstance(refused, uc.NotAllowed) and refused.reason == "coordinator_only"
    assert isinstance(on, uc.PublicPageState) and on.enabled and on.changed and on.slug
    async with db.transaction() as s:
        page = await uc.public_progress(s, slug=on.slug, now=NOW)
        again = await uc.switch_public_page(
            s, who=coord, union_id=world.union.id, enabled=True, now=NOW
        )
        off = await uc.switch_public_page(
            s, who=coord, union_id=world.union.id, enabled=False, now=NOW
        )
    assert isinstance(page, uc.PublicProgress) and page.union_name == "Unione Reno Galliera"
    assert [len(c.completed) for c in page.comuni] == [1, 1]
    assert isinstance(again, uc.PublicPageState) and not again.changed
    assert isinstance(off, uc.PublicPageState) and not off.enabled and off.slug == on.slug
    async with db.transaction() as s:
        assert await uc.public_progress(s, slug=on.slug, now=NOW) is None


async def test_switching_the_public_page_reads_its_row_once(db: Database) -> None:
    """Who is looking and the page's state, the page's row to change, its INSERT or UPDATE:
    the switch does not read back what it has just written."""
    world = await _seed(db, 2)
    for enabled in (True, False):

        def switch(s: AsyncSession, who: uc.Who, w: World, on: bool = enabled) -> Any:
            return uc.switch_public_page(s, who=who, union_id=w.union.id, enabled=on, now=NOW)

        statements, state = await _statements(db, world, switch)
        assert isinstance(state, uc.PublicPageState), state
        assert state.changed and state.enabled is enabled and state.slug
        assert state.union_name == "Unione Reno Galliera"
        assert statements == 4, statements


async def test_someone_who_left_reads_as_a_former_member(db: Database) -> None:
    """/cancellami clears the person's name: their updates and questions stay, and the
    dashboard names them «ex membro» in the reader's language."""
    from bot.i18n import translator
    from bot.views.dashboard import pages
    from bot.views.dashboard.links import AppLinks
    from storage.repositories.people import FORMER_MEMBER

    world = await _seed(db, 1)
    async with db.transaction() as s:
        person = world.people["tecnico:0"]
        await s.merge(person)
        row = await s.get(type(person), person.id)
        assert row is not None
        row.display_name, row.telegram_user_id, row.erased_at = None, None, NOW
    async with db.transaction() as s:
        detail = await uc.action_detail(
            s,
            who=_who(world, "coordinator"),
            union_id=world.union.id,
            action_id=world.actions[1].id,
        )
    assert isinstance(detail, uc.ActionDetail)
    assert detail.history[0].author is FORMER_MEMBER
    page = pages.action_page(detail, translator("en"), AppLinks("/"))
    assert "former member" in page and "Tecnico 0" not in page
