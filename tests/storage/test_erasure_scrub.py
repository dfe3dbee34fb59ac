"""/cancellami on both backends: texts of the team that name the person say "ex membro"."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.db import Database
from storage.models import Announcement, OutboxMessage, Person, Union
from storage.repositories import outbox as outbox_repo
from storage.repositories import registration as reg_repo

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_erase_person_rewrites_texts_that_name_them(db: Database) -> None:
    async with db.transaction() as s:
        union = Union(name="Unione Bassa Reggiana", created_at=NOW)
        person = Person(
            telegram_user_id=2004,
            display_name="Niccolò D'Amato",
            username="nicco_100%",
            created_at=NOW,
        )
        s.add_all([union, person])
        await s.flush()
        person_id = person.id
        s.add(
            Announcement(
                union_id=union.id,
                audience="all",
                text="Giovedì presenta Niccolò D'Amato (@nicco_100%)",
                created_at=NOW,
            )
        )
        await outbox_repo.enqueue(
            s,
            dedup_key="to-giulia",
            chat_id=1001,
            method="sendMessage",
            payload={"text": "Presenta Niccolò D&#x27;Amato", "parse_mode": "HTML"},
            now=NOW,
        )
        await outbox_repo.enqueue(
            s,
            dedup_key="unrelated",
            chat_id=1001,
            method="sendMessage",
            payload={"text": "100% fatto"},
            now=NOW,
        )
    async with db.transaction() as s:
        stored = await s.get(Person, person_id)
        assert stored is not None
        await reg_repo.erase_person(s, person=stored, now=NOW)
    async with db.transaction() as s:
        text = (await s.execute(select(Announcement.text))).scalar_one()
        assert text == "Giovedì presenta ex membro (ex membro)"
        rows = {r.dedup_key: r.payload for r in (await s.execute(select(OutboxMessage))).scalars()}
        assert rows["to-giulia"] == {"text": "Presenta ex membro", "parse_mode": "HTML"}
        assert rows["unrelated"] == {"text": "100% fatto"}
