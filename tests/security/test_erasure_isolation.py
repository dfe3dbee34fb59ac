"""/cancellami changes the leaver's identity and nothing else, in any Union; and no copy of the
name is left in the database files.

Issue 14, item 1: a pending member named «Monte» erased himself and another Union's Comune
«Montecchio» became «ex membrocchio» (the name was replaced as a substring in every text
column). Here the leaver's name is part of other people's names, Comuni, action titles, notes,
decisions, announcements, meeting titles and places, in both Unions; every row of every table
is compared before and after, and the rows that may change are listed one by one.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.services.action_import import fold_name
from bot.services.registration import rules
from storage.models import (
    Action,
    ActionStatus,
    Announcement,
    Base,
    Decision,
    DecisionStatus,
    DecisionVote,
    DecisionVoteChoice,
    DocumentLink,
    Invite,
    Meeting,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    Person,
    PollTable,
    ProgressUpdate,
    Role,
    UpdateNote,
    UpdateSource,
    Vote,
)
from storage.models.meetings import Answer
from storage.repositories.registration import ERASED_PAYLOAD
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_registration_story import join, press, request_for, say
from tests.fakes.fake_world import FakeUser
from tests.security.world import World, build_world

TOKEN_A = "Aa" * 16  # an invite of Union A, stored hashed like the bot's own

Row = dict[str, Any]


async def rows_by_key(bot: BotUnderTest) -> dict[str, dict[tuple[Any, ...], Row]]:
    """Every row of every table (but the update log and the tick's due work: ids and counters,
    no one's data), by primary key."""
    out: dict[str, dict[tuple[Any, ...], Row]] = {}
    async with bot.db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in ("processed_update", "alembic_version", "due_work"):
                continue
            keys = [c.name for c in table.primary_key.columns]
            out[table.name] = {
                tuple(row[k] for k in keys): dict(row)
                for row in (await s.execute(select(table))).mappings()
            }
    return out


def changes(
    before: dict[str, dict[tuple[Any, ...], Row]], after: dict[str, dict[tuple[Any, ...], Row]]
) -> dict[tuple[str, tuple[Any, ...]], set[str] | str]:
    """(table, key) → the columns that changed, or "added" / "removed"."""
    out: dict[tuple[str, tuple[Any, ...]], set[str] | str] = {}
    for table, rows in before.items():
        for key, row in rows.items():
            new = after[table].get(key)
            if new is None:
                out[(table, key)] = "removed"
            elif new != row:
                out[(table, key)] = {c for c in row if row[c] != new[c]}
        for key in after[table].keys() - rows.keys():
            out[(table, key)] = "added"
    return out


async def _monte_world(bot: BotUnderTest) -> tuple[World, FakeUser, int]:
    """The security world, plus «Monte»: a technician with a record in Union B, and a pending
    member of Union A (he asks to join through the real bot); and everywhere, texts of other
    people and names of places that contain «Monte»."""
    world = await build_world(bot)
    fake, now = bot.fake, bot.clock.now()
    monte = fake.add_user("Monte", None, "monte")
    giulia = fake.add_user("Giulia", "Montefiori", "giulia_montefiori")
    a, b = world.a, world.b
    async with bot.db.transaction() as s:
        people = {}
        for user in (monte, giulia):
            person = Person(
                telegram_user_id=user.id,
                display_name=user.full_name,
                username=user.username,
                reachable=True,
                created_at=now,
            )
            s.add(person)
            people[user.id] = person
        montese = Municipality(
            union_id=b.union_id, name="Montese", name_key=fold_name("Montese"), created_at=now
        )
        s.add(montese)
        await s.flush()
        monte_id = people[monte.id].id
        # Giulia Montefiori: an assessore of Union A (her name contains his).
        giulia_member = Member(
            union_id=a.union_id,
            person_id=people[giulia.id].id,
            role=Role.ASSESSORE,
            status=MemberStatus.ACTIVE,
            requested_at=now,
            decided_at=now,
        )
        # Monte: the technician of Montese in Union B, with a record of contributions.
        member_b = Member(
            union_id=b.union_id,
            person_id=monte_id,
            role=Role.TECNICO,
            status=MemberStatus.ACTIVE,
            requested_at=now,
            decided_at=now,
        )
        s.add_all([giulia_member, member_b])
        await s.flush()
        s.add(MemberMunicipality(member_id=member_b.id, municipality_id=montese.id))
        s.add(MemberMunicipality(member_id=giulia_member.id, municipality_id=a.municipality_ids[1]))
        action_b = Action(
            union_id=b.union_id,
            code="MO-1",
            title="Illuminazione pubblica di Montese",
            municipality_id=montese.id,
            status=ActionStatus.ONGOING,
            progress=40,
            created_at=now,
            updated_at=now,
        )
        action_a = Action(
            union_id=a.union_id,
            code="VA-9",
            title="Piano mobilità Montecchio",
            municipality_id=a.municipality_ids[1],
            created_at=now,
            updated_at=now,
        )
        s.add_all([action_a, action_b])
        await s.flush()
        update = ProgressUpdate(
            action_id=action_b.id,
            member_id=member_b.id,
            round_id=b.round_id,
            source=UpdateSource.PRIVATE,
            previous_status=ActionStatus.NOT_STARTED,
            status=ActionStatus.ONGOING,
            previous_progress=0,
            progress=40,
            note="Lampioni a LED montati in via Roma",
            needs_decision=True,
            decision_question="Estendere ai parcheggi?",
            created_at=now,
        )
        s.add(update)
        await s.flush()
        decision = Decision(
            union_id=b.union_id,
            source_update_id=update.id,
            action_id=action_b.id,
            question="Estendere ai parcheggi?",
            status=DecisionStatus.OPEN,
            asked_by_member_id=member_b.id,
            created_at=now,
        )
        s.add(decision)
        await s.flush()
        s.add_all(
            [
                Vote(
                    slot_id=b.slot_ids[0],
                    member_id=member_b.id,
                    answer=Answer.YES,
                    updated_at=now,
                ),
                DecisionVote(
                    decision_id=decision.id,
                    municipality_id=montese.id,
                    member_id=member_b.id,
                    choice=DecisionVoteChoice.APPROVE,
                    updated_at=now,
                ),
                UpdateNote(
                    union_id=b.union_id,
                    round_id=b.round_id,
                    member_id=member_b.id,
                    municipality_id=montese.id,
                    source=UpdateSource.HASHTAG,
                    text="#aggiornamento quadro elettrico sostituito",
                    chat_id=world.b_group.id,
                    message_id=900,
                    created_at=now,
                ),
                # Other people's words with «Monte» in them, in both Unions.
                UpdateNote(
                    union_id=a.union_id,
                    round_id=a.round_id,
                    member_id=a.member_ids["tecnico"],
                    municipality_id=a.municipality_ids[1],
                    source=UpdateSource.HASHTAG,
                    text="#aggiornamento sopralluogo a Montecchio con Monte dei Paschi",
                    chat_id=world.chats["technical"].id,
                    message_id=901,
                    created_at=now,
                ),
                Decision(
                    union_id=a.union_id,
                    question="Fondi per la ciclabile verso Monte San Pietro?",
                    status=DecisionStatus.OPEN,
                    asked_by_member_id=a.member_ids["tecnico"],
                    created_at=now,
                ),
                Announcement(
                    union_id=a.union_id,
                    audience="all",
                    text="Riunione a Montecchio: porta il Monte ore del mese",
                    created_by_member_id=a.member_ids["coord"],
                    created_at=now,
                ),
                Announcement(
                    union_id=b.union_id,
                    audience="all",
                    text="Sopralluogo a Montese giovedì",
                    created_by_member_id=b.member_ids["other_coord"],
                    created_at=now,
                ),
                Meeting(
                    union_id=a.union_id,
                    table=PollTable.BOTH,
                    title="Incontro a Monteveglio",
                    place="Sala Monte Grappa, Montecchio",
                    starts_at=now + timedelta(days=30),
                    ends_at=now + timedelta(days=30, hours=2),
                    ics_uid="monte@security.test",
                    created_at=now,
                ),
                DocumentLink(
                    union_id=b.union_id,
                    title="Cartella Montese",
                    url="https://drive.example.org/montese",
                    created_by_member_id=b.member_ids["other_coord"],
                    created_at=now,
                ),
                Invite(
                    union_id=a.union_id,
                    token_hash=rules.hash_token(TOKEN_A),
                    created_by_member_id=a.member_ids["coord"],
                    created_at=now,
                    expires_at=now + timedelta(days=14),
                ),
            ]
        )
    # Monte asks to join Union A through the bot: the coordinator gets the request (by name).
    await monte.send("/start")
    await bot.settle()
    await join(bot, monte, TOKEN_A, "Montecchio Emilia", "Funzionario tecnico", None)
    request_for(fake, world.users["coord"], "Monte")
    # The rounds' deadlines pass: each Union's political group gets its summary, Union B's
    # counting Monte's note and, under it, the question's vote message naming him.
    await bot.advance(timedelta(days=5))
    await bot.tick()
    b_summary = "\n".join(m.text or "" for m in fake.sent_to(world.b_group))
    assert "Montese · 1 azione · 1 aggiornata · 💬 1 nota" in b_summary, b_summary  # his note
    assert "✅ Montese: Approva (Monte)" in b_summary, b_summary  # his vote, by name
    return world, monte, monte_id


async def test_cancellami_changes_only_the_leavers_identity(bot: BotUnderTest) -> None:
    world, monte, monte_id = await _monte_world(bot)
    before = await rows_by_key(bot)
    # What may change, listed before the erasure from the rows as they are.
    member_ids = {k[0] for k, r in before["member"].items() if r["person_id"] == monte_id}
    assert len(member_ids) == 2  # active in B, pending in A
    outbox = before["outbox_message"]
    to_or_about = {
        k[0]
        for k, r in outbox.items()
        if r["person_id"] == monte_id
        or r["chat_id"] == monte.id
        or any(r["dedup_key"].startswith(f"reg:req:{m}:") for m in member_ids)
    }
    naming = {k[0] for k in before["outbox_mention"] if k[1] == monte_id}
    assert naming - to_or_about, "the summary that names him should be among the copies"
    assert any(outbox[(i,)]["dedup_key"].startswith("reg:req:") for i in to_or_about)
    assert all(outbox[(i,)]["status"] != "pending" for i in to_or_about | naming)

    await say(bot, monte, "/cancellami")
    assert await press(bot, monte, bot.fake.last_sent(monte), "Sì, cancella i miei dati") == (
        "Dati cancellati."
    )
    await bot.tick()
    after = await rows_by_key(bot)
    now = bot.clock.now()

    expected: dict[tuple[str, tuple[Any, ...]], set[str] | str] = {
        ("person", (monte_id,)): {
            "telegram_user_id",
            "display_name",
            "username",
            "telegram_language",  # his Telegram client's, recorded when he wrote to the bot
            "reachable",
            "erased_at",
        },
    }
    for member_id in member_ids:
        expected[("member", (member_id,))] = {"status", "decided_at"}
    for outbox_id in to_or_about | naming:
        row = outbox[(outbox_id,)]
        columns = {"payload"} | ({"chat_id"} if row["chat_id"] == monte.id else set())
        expected[("outbox_message", (outbox_id,))] = columns
    # The wiped copies name nobody any more: their mentions go (his and the others' on them).
    for outbox_id, person_id in before["outbox_mention"]:
        if outbox_id in naming | to_or_about:
            expected[("outbox_mention", (outbox_id, person_id))] = "removed"
    assert changes(before, after) == expected

    person = after["person"][(monte_id,)]
    assert person["display_name"] is None  # no word stands in for the name
    assert person["telegram_user_id"] is None and person["username"] is None
    assert person["reachable"] is False and person["erased_at"] == now
    for member_id in member_ids:
        assert after["member"][(member_id,)]["status"] == MemberStatus.LEFT
    for outbox_id in to_or_about | naming:
        assert after["outbox_message"][(outbox_id,)]["payload"] == ERASED_PAYLOAD
        assert after["outbox_message"][(outbox_id,)]["chat_id"] != monte.id

    # Union B's summary, asked now: Montese is still Montese, his question reads «ex membro».
    other = world.users["other_coord"]
    await other.send("/riepilogo", chat=world.b_group)
    await bot.settle()
    summary = next(
        m.text or "" for m in reversed(bot.fake.sent_to(world.b_group)) if "📊" in (m.text or "")
    )
    assert "Montese · 1 azione" in summary and "Monte," not in summary, summary


def _files(bot: BotUnderTest) -> dict[str, bytes]:
    url = bot.db.url
    database = Path(url.split("///", 1)[1])
    return {
        name: (database.parent / name).read_bytes()
        for name in (database.name, database.name + "-wal", database.name + "-shm")
        if (database.parent / name).exists()
    }


async def test_no_copy_of_the_name_survives_in_the_database_files(bot: BotUnderTest) -> None:
    """SQLite keeps old row versions in the WAL and in free space inside the file: with
    secure_delete and a truncating checkpoint after the erasure, the name is gone from all."""
    world = await build_world(bot)
    fake, now = bot.fake, bot.clock.now()
    zed = fake.add_user("Zzyzxbert", "Quillfeather", "zzyzxbert_q")
    async with bot.db.transaction() as s:
        s.add(
            Invite(
                union_id=world.a.union_id,
                token_hash=rules.hash_token(TOKEN_A),
                created_by_member_id=world.a.member_ids["coord"],
                created_at=now,
                expires_at=now + timedelta(days=14),
            )
        )
    # He joins through the bot (his name in the dialogue, then in the request to the
    # coordinator), is approved, votes on the poll, reads /team.
    await zed.send("/start")
    await bot.settle()
    await join(bot, zed, TOKEN_A, "Montecchio Emilia", "Funzionario tecnico", None)
    coord = world.users["coord"]
    await press(bot, coord, request_for(fake, coord, "Zzyzxbert"), "✅ Approva")
    await bot.tick()
    await say(bot, zed, "/team")
    found = [name for name, data in _files(bot).items() if b"zzyzxbert" in data.lower()]
    assert found, "the name should be in the database files before the erasure"

    await say(bot, zed, "/cancellami")
    assert await press(bot, zed, fake.last_sent(zed), "Sì, cancella i miei dati") == (
        "Dati cancellati."
    )
    await bot.tick()
    files = _files(bot)
    assert files, "the database files should exist"
    left = {name: data.lower().count(b"zzyzxbert") for name, data in files.items()}
    assert not any(left.values()), left
    left = {name: data.lower().count(b"quillfeather") for name, data in files.items()}
    assert not any(left.values()), left
    async with bot.db.transaction() as s:
        erased = (await s.execute(select(Person).where(Person.erased_at.is_not(None)))).scalar_one()
        assert erased.display_name is None and erased.telegram_user_id is None
