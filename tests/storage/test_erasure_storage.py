"""/cancellami on both backends: no text is rewritten; the bot's copies of sent messages that
named the person are wiped, once settled; nothing of anyone else changes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.db import Database
from storage.models import (
    Announcement,
    Municipality,
    OutboxMention,
    OutboxMessage,
    OutboxStatus,
    Person,
    Union,
)
from storage.repositories import outbox as outbox_repo
from storage.repositories import registration as reg_repo

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SENT = {"text": "🔕 Non ha riferito: Niccolò D&#x27;Amato", "parse_mode": "HTML"}


async def _payloads(db: Database) -> dict[str, dict[str, object]]:
    async with db.transaction() as s:
        rows = (await s.execute(select(OutboxMessage))).scalars()
        return {r.dedup_key: r.payload for r in rows}


async def test_erase_person_rewrites_no_text_and_wipes_copies_that_name_them(db: Database) -> None:
    async with db.transaction() as s:
        union = Union(name="Unione Bassa Reggiana", created_at=NOW)
        person = Person(
            telegram_user_id=2004,
            display_name="Niccolò D'Amato",
            username="nicco_100%",
            created_at=NOW,
        )
        namesake = Person(telegram_user_id=2005, display_name="Niccolò D'Amatori", created_at=NOW)
        s.add_all([union, person, namesake])
        await s.flush()
        person_id, namesake_id = person.id, namesake.id
        s.add(
            Municipality(
                union_id=union.id, name="D'Amato Terme", name_key="d'amato terme", created_at=NOW
            )
        )
        s.add(
            Announcement(
                union_id=union.id,
                audience="all",
                text="Giovedì presenta Niccolò D'Amato (@nicco_100%)",
                created_at=NOW,
            )
        )
        # A summary sent to the group that names them, one still waiting, one that names only
        # the namesake, and a message that merely contains the same letters.
        for key, names in (("sum:1:0", [person_id, namesake_id]), ("sum:2:0", [person_id])):
            await outbox_repo.enqueue(
                s,
                dedup_key=key,
                chat_id=-100,
                method="sendMessage",
                payload=SENT,
                now=NOW,
                names=names,
            )
        await outbox_repo.enqueue(
            s,
            dedup_key="sum:3:0",
            chat_id=-100,
            method="sendMessage",
            payload={"text": "Niccolò D'Amatori"},
            now=NOW,
            names=[namesake_id],
        )
        await outbox_repo.enqueue(
            s,
            dedup_key="to-giulia",
            chat_id=1001,
            method="sendMessage",
            payload={"text": "Presenta Niccolò D&#x27;Amato", "parse_mode": "HTML"},
            now=NOW,
        )
    async with db.transaction() as s:
        for key in ("sum:1:0", "sum:3:0", "to-giulia"):
            row_id = (
                await s.execute(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key))
            ).scalar_one()
            await outbox_repo.finish(s, message_id=row_id, status=OutboxStatus.SENT, now=NOW)
    async with db.transaction() as s:
        stored = await s.get(Person, person_id)
        assert stored is not None
        await reg_repo.erase_person(s, person=stored, now=NOW)
    async with db.transaction() as s:
        assert (await s.execute(select(Announcement.text))).scalar_one() == (
            "Giovedì presenta Niccolò D'Amato (@nicco_100%)"
        )
        assert (await s.execute(select(Municipality.name))).scalar_one() == "D'Amato Terme"
        namesake_row = await s.get(Person, namesake_id)
        assert namesake_row is not None and namesake_row.display_name == "Niccolò D'Amatori"
    rows = await _payloads(db)
    assert rows["sum:1:0"] == reg_repo.ERASED_PAYLOAD  # sent, named them: the copy goes
    assert rows["sum:2:0"] == SENT  # still to be sent: delivered as composed, wiped after
    assert rows["sum:3:0"] == {"text": "Niccolò D'Amatori"}  # names the namesake only
    # Someone else's text that contains the name is not recorded as naming them: it stays.
    assert rows["to-giulia"] == {"text": "Presenta Niccolò D&#x27;Amato", "parse_mode": "HTML"}

    async with db.transaction() as s:
        assert await reg_repo.wipe_settled_copies(s) == 0  # nothing settled is left to wipe
        row_id = (
            await s.execute(select(OutboxMessage.id).where(OutboxMessage.dedup_key == "sum:2:0"))
        ).scalar_one()
        await outbox_repo.finish(s, message_id=row_id, status=OutboxStatus.SENT, now=NOW)
    async with db.transaction() as s:
        assert await reg_repo.wipe_settled_copies(s) == 1
    assert (await _payloads(db))["sum:2:0"] == reg_repo.ERASED_PAYLOAD
    async with db.transaction() as s:
        mentions = sorted(
            (m.outbox_id, m.person_id) for m in (await s.execute(select(OutboxMention))).scalars()
        )
        keys = dict((await s.execute(select(OutboxMessage.id, OutboxMessage.dedup_key))).all())
    # The erased person's mentions are gone with the copies; the namesake's stay.
    assert [(keys[o], p) for o, p in mentions] == [("sum:3:0", namesake_id)]


async def test_outbox_mentions_go_with_their_message(db: Database) -> None:
    """A purged or withdrawn message takes its mentions with it (ON DELETE CASCADE)."""
    async with db.transaction() as s:
        person = Person(telegram_user_id=2006, display_name="Ada", created_at=NOW)
        s.add(person)
        await s.flush()
        await outbox_repo.enqueue(
            s,
            dedup_key="drop:1",
            chat_id=-1,
            method="sendMessage",
            payload={},
            now=NOW,
            names=[person.id],
        )
    async with db.transaction() as s:
        assert await outbox_repo.drop_pending(s, "drop:") == 1
    async with db.transaction() as s:
        assert (await s.execute(select(OutboxMention))).first() is None
