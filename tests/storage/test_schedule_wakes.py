"""The wake listener (storage.repositories.schedule): an UPDATE wakes the kinds watching a
column it sets, however the value is written, and only those."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, select, update

import bot.services.schedule  # noqa: F401  (installs the bot's wakes)
from storage.db import Database
from storage.models import Member, MemberStatus, Person, Role
from storage.repositories import schedule as repo
from tests.factories import NOW, add_member, make_union

DUTIES = "update_rounds_duties"  # watches member.status and member.role


async def _member(db: Database) -> int:
    async with db.transaction() as s:
        world = await make_union(s)
        member = await add_member(s, world, role=Role.TECNICO, name="Anna")
        member_id = member.id
    repo.take_woken()
    return member_id


async def test_a_set_column_wakes_whatever_its_value(db: Database) -> None:
    member_id = await _member(db)
    async with db.transaction() as s:  # a CASE, not a parameter: nothing named `status` binds
        await s.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(status=case((Member.id == member_id, MemberStatus.LEFT), else_=Member.status))
        )
    assert DUTIES in repo.take_woken()
    async with db.transaction() as s:
        await s.execute(update(Member).where(Member.id == member_id).values(role=Role.ASSESSORE))
    assert DUTIES in repo.take_woken()


async def test_an_orm_bulk_update_wakes_by_the_keys_of_its_rows(db: Database) -> None:
    member_id = await _member(db)
    async with db.transaction() as s:
        await s.execute(update(Member), [{"id": member_id, "status": MemberStatus.REMOVED}])
    assert DUTIES in repo.take_woken()
    async with db.transaction() as s:
        await s.execute(update(Member), [{"id": member_id, "decided_at": NOW}])
    assert DUTIES not in repo.take_woken()


async def test_a_where_on_a_watched_column_does_not_wake(db: Database) -> None:
    member_id = await _member(db)
    async with db.transaction() as s:
        await s.execute(
            update(Member)
            .where(Member.id == member_id, Member.status == MemberStatus.ACTIVE)
            .values(decided_at=NOW + timedelta(days=1))
        )
    assert DUTIES not in repo.take_woken()


async def test_a_person_given_a_telegram_id_wakes_the_rounds_late_joiners(db: Database) -> None:
    """A technician with no Telegram id is left out of the round's invitations
    (bot.services.progress.rounds: _invite_late_joiners); the id being set must bring the
    round's duties forward, not wait for their next stored moment (days away)."""
    member_id = await _member(db)
    async with db.transaction() as s:
        person = (
            await s.execute(select(Person).join(Member).where(Member.id == member_id))
        ).scalar_one()
        person.telegram_user_id = None
    repo.take_woken()
    async with db.transaction() as s:  # an ORM change of the id
        person = (
            await s.execute(select(Person).join(Member).where(Member.id == member_id))
        ).scalar_one()
        person.telegram_user_id = 424242
    assert DUTIES in repo.take_woken()
    async with db.transaction() as s:  # and a statement setting it
        await s.execute(update(Person).where(Person.id == person.id).values(telegram_user_id=None))
    assert DUTIES in repo.take_woken()
    async with db.transaction() as s:  # what Telegram says of the name alone does not
        await s.execute(update(Person).where(Person.id == person.id).values(username="anna"))
    assert DUTIES not in repo.take_woken()
