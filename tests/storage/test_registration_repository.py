"""The registration repository on SQLite and PostgreSQL: constraints, atomic redemption, erasure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.services.registration import rules
from bot.services.registration.joining import request_membership
from storage.db import Database
from storage.models import (
    Action,
    Conversation,
    Member,
    MemberStatus,
    Municipality,
    OutboxMessage,
    Person,
    Role,
    TableKind,
)
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import registration as reg_repo

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _person(db: Database, telegram_id: int, name: str) -> int:
    async with db.transaction() as s:
        person = await core_repo.upsert_person(
            s,
            telegram_user_id=telegram_id,
            display_name=name,
            username=None,
            telegram_language="it",
            now=NOW,
        )
        return person.id


async def _union_with_comuni(db: Database, names: list[str]) -> tuple[int, int, list[int]]:
    """A Union created by person 1001 with these Comuni: (union id, coordinator member id, Comuni)."""
    async with db.transaction() as s:
        creator = await core_repo.upsert_person(
            s,
            telegram_user_id=1001,
            display_name="Giulia",
            username=None,
            telegram_language="it",
            now=NOW,
        )
        union, member = await reg_repo.create_union(
            s, name="Unione Reno Galliera", creator=creator, now=NOW
        )
        muns = await reg_repo.add_municipalities(
            s, union_id=union.id, names=[(n, rules.fold_name(n)) for n in names], now=NOW
        )
        return union.id, member.id, [m.id for m in muns]


async def test_create_union_makes_the_creator_coordinator(db: Database) -> None:
    union_id, member_id, _ = await _union_with_comuni(db, [])
    async with db.transaction() as s:
        assert await reg_repo.is_coordinator(s, union_id=union_id, telegram_user_id=1001)
        assert [u.id for u in await reg_repo.coordinated_unions(s, telegram_user_id=1001)] == [
            union_id
        ]
        member = await s.get(Member, member_id)
        assert (
            member is not None
            and member.role == Role.STAFF
            and member.status == MemberStatus.ACTIVE
        )
        assert await reg_repo.coordinator_ids(s, union_id) == [member_id]


async def test_folded_names_are_unique_per_union_and_archived_come_back(db: Database) -> None:
    union_id, _, ids = await _union_with_comuni(db, ["Argelato", "Castel d'Argile"])
    async with db.transaction() as s:
        again = await reg_repo.add_municipalities(
            s,
            union_id=union_id,
            names=[("castel d’argile", rules.fold_name("castel d’argile"))],
            now=NOW,
        )
        assert again == []  # already there: nothing added
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            s.add(
                Municipality(
                    union_id=union_id, name="ARGELATO", name_key="argelato", created_at=NOW
                )
            )
            await s.flush()
    # Removing an unreferenced Comune deletes it; a referenced one is archived and can come back.
    async with db.transaction() as s:
        mun = await s.get(Municipality, ids[0])
        assert mun is not None
        s.add(
            Action(
                union_id=union_id,
                code="A1",
                title="LED",
                municipality_id=mun.id,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await s.flush()
        assert not await reg_repo.remove_municipality(s, municipality=mun, now=NOW)
        other = await s.get(Municipality, ids[1])
        assert other is not None
        assert await reg_repo.remove_municipality(s, municipality=other, now=NOW)
    async with db.transaction() as s:
        assert [m.name for m in await core_repo.municipalities(s, union_id)] == []
        back = await reg_repo.add_municipalities(
            s, union_id=union_id, names=[("Argelato", "argelato")], now=NOW
        )
        assert [m.id for m in back] == [ids[0]] and back[0].archived_at is None


async def test_one_membership_per_person_per_union(db: Database) -> None:
    union_id, _, (argelato,) = await _union_with_comuni(db, ["Argelato"])
    person_id = await _person(db, 2002, "Mario")
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            for _ in range(2):
                s.add(
                    Member(
                        union_id=union_id,
                        person_id=person_id,
                        role=Role.SINDACO,
                        status=MemberStatus.PENDING,
                        requested_at=NOW,
                    )
                )
                await s.flush()
    # Asking again after a rejection reopens the same row.
    async with db.transaction() as s:
        first = await request_membership(
            s,
            union_id=union_id,
            person_id=person_id,
            role=Role.SINDACO,
            municipality_ids=[argelato],
            invite_id=1,
            now=NOW,
        )
        first.status = MemberStatus.REJECTED
    async with db.transaction() as s:
        second = await request_membership(
            s,
            union_id=union_id,
            person_id=person_id,
            role=Role.ASSESSORE,
            municipality_ids=[argelato],
            invite_id=1,
            now=NOW,
        )
        assert second.id == first.id and second.status == MemberStatus.PENDING
        assert await core_repo.municipality_ids_of(s, second.id) == [argelato]


async def test_invite_redeemed_atomically_only_while_open(db: Database) -> None:
    union_id, coordinator, _ = await _union_with_comuni(db, [])
    token = rules.new_invite_token()
    async with db.transaction() as s:
        invite = await reg_repo.create_invite(
            s,
            union_id=union_id,
            token_hash=rules.hash_token(token),
            municipality_id=None,
            role=None,
            created_by_member_id=coordinator,
            now=NOW,
            expires_at=NOW + rules.INVITE_VALIDITY,
        )
        invite_id = invite.id

    async def redeem(at: datetime) -> bool:
        async with db.transaction() as s:
            return await reg_repo.redeem_invite(s, invite_id=invite_id, now=at)

    results = await asyncio.gather(*(redeem(NOW) for _ in range(5)))
    assert results == [True] * 5
    async with db.transaction() as s:
        found = await reg_repo.invite_by_hash(s, rules.hash_token(token))
        assert found is not None and found.uses == 5
        assert found.token_hash != token
        assert [i.id for i in await reg_repo.open_invites(s, union_id=union_id, now=NOW)] == [
            invite_id
        ]
    assert not await redeem(NOW + timedelta(days=15))  # expired
    async with db.transaction() as s:
        assert await reg_repo.revoke_invite(s, invite_id=invite_id, union_id=union_id, now=NOW)
        assert not await reg_repo.revoke_invite(s, invite_id=invite_id, union_id=union_id, now=NOW)
        assert not await reg_repo.revoke_invite(
            s, invite_id=invite_id, union_id=union_id + 1, now=NOW
        )
    assert not await redeem(NOW)  # revoked
    async with db.transaction() as s:
        found = await reg_repo.invite_by_hash(s, rules.hash_token(token))
        assert found is not None and found.uses == 5
        assert await reg_repo.open_invites(s, union_id=union_id, now=NOW) == []
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            await reg_repo.create_invite(
                s,
                union_id=union_id,
                token_hash=rules.hash_token(token),
                municipality_id=None,
                role=None,
                created_by_member_id=coordinator,
                now=NOW,
                expires_at=NOW,
            )


async def test_sindaco_map_roster_and_links(db: Database) -> None:
    union_id, coordinator, (argelato, bentivoglio) = await _union_with_comuni(
        db, ["Argelato", "Bentivoglio"]
    )
    mario = await _person(db, 2002, "Mario")
    luca = await _person(db, 2003, "Luca")
    async with db.transaction() as s:
        m1 = await request_membership(
            s,
            union_id=union_id,
            person_id=mario,
            role=Role.SINDACO,
            municipality_ids=[argelato],
            invite_id=1,
            now=NOW,
        )
        m2 = await request_membership(
            s,
            union_id=union_id,
            person_id=luca,
            role=Role.TECNICO,
            municipality_ids=[argelato, bentivoglio],
            invite_id=1,
            now=NOW,
        )
        assert (
            await reg_repo.sindaco_by_municipality(s, union_id=union_id) == {}
        )  # pending: not yet
        m1.status = m2.status = MemberStatus.ACTIVE
    async with db.transaction() as s:
        assert await reg_repo.sindaco_by_municipality(s, union_id=union_id) == {argelato: m1.id}
        rows = await reg_repo.roster(s, union_id=union_id)
        assert {r.person.display_name: r.municipality_ids for r in rows} == {
            "Giulia": (),
            "Mario": (argelato,),
            "Luca": tuple(sorted((argelato, bentivoglio))),
        }
        assert await reg_repo.active_member_count(s, union_id) == 3
        await reg_repo.link_chat(
            s,
            union_id=union_id,
            table=TableKind.POLITICAL,
            chat_id=-100,
            title="Sindaci",
            member_id=coordinator,
            now=NOW,
        )
        # Re-linking the same table moves it: still one link per table per Union.
        await reg_repo.link_chat(
            s,
            union_id=union_id,
            table=TableKind.POLITICAL,
            chat_id=-200,
            title="Sindaci 2",
            member_id=coordinator,
            now=NOW,
        )
        await reg_repo.link_chat(
            s,
            union_id=union_id,
            table=TableKind.TECHNICAL,
            chat_id=-300,
            title="Tecnici",
            member_id=coordinator,
            now=NOW,
        )
    async with db.transaction() as s:
        assert await core_repo.links_of_chat(s, -100) == []
        assert await core_repo.migrate_chat(s, old_chat_id=-300, new_chat_id=-1000000000300) >= 1
    async with db.transaction() as s:
        link = await core_repo.linked_chat(s, union_id=union_id, table=TableKind.TECHNICAL)
        assert link is not None and link.chat_id == -1000000000300
        dropped = await reg_repo.unlink_chat(s, chat_id=-200)
        assert [d.table_kind for d in dropped] == [TableKind.POLITICAL]
    async with db.transaction() as s:
        assert await core_repo.linked_chat(s, union_id=union_id, table=TableKind.POLITICAL) is None


async def test_erase_person_keeps_the_member_row_and_drops_identity(db: Database) -> None:
    union_id, _, (argelato,) = await _union_with_comuni(db, ["Argelato"])
    luca = await _person(db, 2003, "Luca")
    async with db.transaction() as s:
        member = await request_membership(
            s,
            union_id=union_id,
            person_id=luca,
            role=Role.TECNICO,
            municipality_ids=[argelato],
            invite_id=1,
            now=NOW,
        )
        member.status = MemberStatus.ACTIVE
        member_id = member.id
        await core_repo.set_conversation(
            s, telegram_user_id=2003, chat_id=2003, flow="x", step="y", data={}, now=NOW
        )
        await outbox_repo.enqueue(
            s,
            dedup_key="to-luca",
            chat_id=2003,
            method="sendMessage",
            payload={"text": "Ciao Luca"},
            person_id=luca,
            now=NOW,
        )
        await outbox_repo.enqueue(
            s,
            dedup_key=f"reg:req:{member_id}:1:1",
            chat_id=1001,
            method="sendMessage",
            payload={"text": "Luca chiede"},
            now=NOW,
        )
        await outbox_repo.enqueue(
            s,
            dedup_key="to-giulia",
            chat_id=1001,
            method="sendMessage",
            payload={"text": "altro"},
            now=NOW,
        )
    async with db.transaction() as s:
        person = await s.get(Person, luca)
        assert person is not None
        await reg_repo.erase_person(s, person=person, now=NOW)
    async with db.transaction() as s:
        person = await s.get(Person, luca)
        assert person is not None
        # No word stands in for the name: readers write «ex membro» in their own language.
        assert person.telegram_user_id is None and person.display_name is None
        assert person.username is None and person.language is None and person.erased_at == NOW
        member = await s.get(Member, member_id)
        assert (
            member is not None and member.status == MemberStatus.LEFT and member.person_id == luca
        )
        assert await s.get(Conversation, (2003, 2003)) is None
        rows = {r.dedup_key: r.payload for r in (await s.execute(select(OutboxMessage))).scalars()}
        assert "to-luca" not in rows
        # A request to approve them not yet sent is withdrawn (it was sent as {"erased": True}).
        assert f"reg:req:{member_id}:1:1" not in rows
        assert rows["to-giulia"] == {"text": "altro"}
        assert await core_repo.person_by_telegram_id(s, 2003) is None
