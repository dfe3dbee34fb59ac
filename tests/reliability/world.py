"""A Union in the database whose people are users of the fake Telegram, and outbox helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import Member, MemberStatus, OutboxMessage, Person, Role, Union
from storage.repositories import outbox as outbox_repo
from tests.fakes.telegram_server import FakeTelegram, FakeUser


@dataclass
class World:
    union_id: int
    coordinator: FakeUser
    members: list[FakeUser]
    person_ids: dict[int, int] = field(default_factory=dict)  # telegram id → person id

    def person_id(self, user: FakeUser) -> int:
        return self.person_ids[user.id]


async def seed_union(
    db: Database,
    fake: FakeTelegram,
    now: datetime,
    *,
    members: int = 3,
    started: bool = True,
    name: str = "Unione Bassa Romagna",
    coordinator_language: str = "it",
) -> World:
    """A Union with a coordinator and `members` technicians, all of whom pressed Start."""
    coordinator = fake.add_user("Carla", "Coordinatrice", language_code=coordinator_language)
    coordinator.has_started = True
    users = []
    for n in range(members):
        user = fake.add_user(f"Tecnico{n}", "Comunale")
        user.has_started = started
        users.append(user)
    async with db.transaction() as session:
        union = Union(name=name, timezone="Europe/Rome", created_at=now)
        session.add(union)
        await session.flush()
        world = World(union_id=union.id, coordinator=coordinator, members=users)
        for user, role, is_coord in [
            (coordinator, Role.STAFF, True),
            *((u, Role.TECNICO, False) for u in users),
        ]:
            person = Person(
                telegram_user_id=user.id,
                display_name=user.full_name,
                telegram_language=user.language_code,
                reachable=True,
                created_at=now,
            )
            session.add(person)
            await session.flush()
            world.person_ids[user.id] = person.id
            session.add(
                Member(
                    union_id=union.id,
                    person_id=person.id,
                    role=role,
                    status=MemberStatus.ACTIVE,
                    is_coordinator=is_coord,
                    requested_at=now,
                )
            )
    return world


async def enqueue_texts(
    db: Database,
    world: World,
    now: datetime,
    *,
    key: str = "t",
    users: list[FakeUser] | None = None,
    text: str = "Promemoria: riunione del Team energia",
) -> list[str]:
    """One private message to each member through the outbox; returns the dedup keys."""
    keys = []
    async with db.transaction() as session:
        for user in users if users is not None else world.members:
            dedup_key = f"{key}:{user.id}"
            await outbox_repo.enqueue(
                session,
                dedup_key=dedup_key,
                chat_id=user.id,
                method="sendMessage",
                payload={"text": f"{text} ({user.first_name}) [{dedup_key}]"},
                union_id=world.union_id,
                person_id=world.person_id(user),
                now=now,
            )
            keys.append(dedup_key)
    return keys


async def outbox_rows(db: Database, prefix: str = "") -> list[OutboxMessage]:
    async with db.transaction() as session:
        return await outbox_repo.status_by_key_prefix(session, prefix)


async def person(db: Database, telegram_user_id: int) -> Person:
    async with db.transaction() as session:
        row = (
            await session.execute(select(Person).where(Person.telegram_user_id == telegram_user_id))
        ).scalar_one()
        return row


def texts(fake: FakeTelegram, user: FakeUser) -> list[str | None]:
    return [m.text for m in fake.sent_to(user)]


def reports(fake: FakeTelegram, user: FakeUser) -> list[str | None]:
    """The delivery reports a coordinator received (features may write to them too)."""
    marks = ("Messaggi da controllare", "Messages to check")
    return [m.text for m in fake.sent_to(user) if any(k in (m.text or "") for k in marks)]


def rows_by_status(rows: list[OutboxMessage]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[str(row.status)] = out.get(str(row.status), 0) + 1
    return out


__all__: list[Any] = ["World", "enqueue_texts", "outbox_rows", "person", "seed_union", "texts"]
