"""One world for the security suite: two Unions, every kind of caller, linked groups, and one
open thing of every kind (poll, round with actions, decision, document link, announcement,
invite) in each Union — built straight through the models, so a test starts in milliseconds.

Helpers: `snapshot` (every row of every table but the update log), `leaks` (the names of one
Union found in what the bot sent to someone outside it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.services.action_import import fold_name
from bot.views.minutes import MinutesContent, to_json
from storage.models import (
    Action,
    ActionStatus,
    AgendaItem,
    AgendaSource,
    AgendaStatus,
    Announcement,
    Base,
    Decision,
    DecisionStatus,
    DocumentLink,
    Invite,
    ItemOutcome,
    JobClaim,
    LinkedChat,
    Meeting,
    MeetingGuest,
    MeetingKind,
    MeetingMaterial,
    MeetingPoll,
    MeetingRecord,
    MeetingTask,
    Member,
    MemberMunicipality,
    MemberStatus,
    Minutes,
    MinutesStatus,
    Municipality,
    Person,
    PollStatus,
    PollTable,
    ProgressUpdate,
    Role,
    RoundStatus,
    Slot,
    TableKind,
    TaskStatus,
    Union,
    UpdateRound,
    UpdateSource,
)
from storage.repositories.minutes import POSTED_CLAIM, posted_period
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeChat, FakeMessage, FakeUser
from tests.fakes.telegram_server import FakeTelegram

# Callers of the matrix, in the order of the table in docs/AUTHORIZATION.md.
CALLERS = ("outsider", "pending", "assessore", "sindaco", "tecnico", "other_coord", "coord")
# Chats of the matrix: the caller's private chat, the Union's two linked groups, a group linked
# to nothing, Union B's group.
CHATS = ("private", "political", "technical", "unlinked", "other")

UNION_A = "Unione Val d'Enza"
COMUNI_A = ("Bibbiano", "Montecchio Emilia")
UNION_B = "Unione Terre di Pianura"
COMUNI_B = ("Crevalcore", "Sala Bolognese")

PEOPLE = {
    # caller: (first name, last name, username)
    "outsider": ("Otto", "Estraneo", "otto_estraneo"),
    "pending": ("Paola", "Pendolini", "paola_pendolini"),
    "assessore": ("Anita", "Ferrettini", "anita_ferrettini"),
    "sindaco": ("Sergio", "Manfredini", "sergio_manfredini"),
    "tecnico": ("Tiziano", "Guidettini", "tiziano_guidettini"),
    "other_coord": ("Bruno", "Zanardelli", "bruno_zanardelli"),
    "coord": ("Carla", "Rinaldini", "carla_rinaldini"),
}

# What only Union A's people may read: its name, Comuni, members, and the content of its data.
SECRET_A = (
    "Val d'Enza",
    "Val d&#x27;Enza",
    *COMUNI_A,
    "Ferrettini",
    "Manfredini",
    "Guidettini",
    "Rinaldini",
    "scuola Val",
    "municipio Val",
    "palestra Val",
    "fotovoltaico? Val",
    "fondi? Val",
    "Nota del tecnico Val",
    "Cartella condivisa Val",
    "drive.example.org/val",
    "dicembre Val",
    "Ordine del giorno Val",
    "Sala Val",
    "Avviso riservato Val",
)
# Union B's secrets: A's people and B's other coordinator must not see them either.
SECRET_B = (
    "Terre di Pianura",
    *COMUNI_B,
    "Pianura-segreta",
)


@dataclass
class UnionObjects:
    union_id: int
    municipality_ids: list[int]
    member_ids: dict[str, int] = field(default_factory=dict)
    poll_id: int = 0
    slot_ids: list[int] = field(default_factory=list)
    meeting_id: int = 0
    agenda_item_id: int = 0  # on the meeting's agenda
    proposal_id: int = 0  # proposed, waiting for the coordinator
    task_id: int = 0  # the Sindaco's, open
    round_id: int = 0
    action_ids: list[int] = field(default_factory=list)
    update_id: int = 0
    decision_id: int = 0
    document_id: int = 0
    announcement_id: int = 0
    invite_id: int = 0
    draft_meeting_id: int = 0  # a meeting held, its minutes a draft
    draft_item_id: int = 0  # an item of that meeting's agenda (its outcome is set in the draft)
    filed_meeting_id: int = 0  # a meeting held, its minutes approved and posted
    guest_id: int = 0  # a guest of the meeting (issue 19, attendance)
    material_id: int = 0  # a document of the meeting (issue 19, a workshop's materials)


@dataclass
class World:
    bot: BotUnderTest
    users: dict[str, FakeUser]
    chats: dict[str, FakeChat]
    a: UnionObjects
    b: UnionObjects
    b_group: FakeChat
    # A bot message in each chat (per caller for private chats), to hang forged presses on.
    anchors: dict[tuple[str, str], FakeMessage] = field(default_factory=dict)

    def chat_of(self, caller: str, chat: str) -> FakeChat:
        if chat == "private":
            return self.users[caller].private_chat
        if chat == "other":
            return self.b_group
        return self.chats[chat]


async def _union(
    session: Any,
    name: str,
    comuni: tuple[str, ...],
    *,
    now: datetime,
    secret: str,
    political_chat: int,
    technical_chat: int | None,
) -> UnionObjects:
    union = Union(name=name, timezone="Europe/Rome", created_at=now)
    session.add(union)
    await session.flush()
    rows = [
        Municipality(union_id=union.id, name=c, name_key=fold_name(c), created_at=now)
        for c in comuni
    ]
    session.add_all(rows)
    await session.flush()
    objects = UnionObjects(union_id=union.id, municipality_ids=[m.id for m in rows])
    session.add(
        LinkedChat(
            union_id=union.id,
            table_kind=TableKind.POLITICAL,
            chat_id=political_chat,
            title=f"Tavolo politico {name}",
            linked_at=now,
        )
    )
    if technical_chat is not None:
        session.add(
            LinkedChat(
                union_id=union.id,
                table_kind=TableKind.TECHNICAL,
                chat_id=technical_chat,
                title=f"Tavolo tecnico {name}",
                linked_at=now,
            )
        )
    poll = MeetingPoll(
        union_id=union.id,
        table=PollTable.BOTH,
        title=f"Riunione di dicembre {secret}",
        agenda=f"Ordine del giorno {secret}",
        place=f"Sala {secret}",
        status=PollStatus.OPEN,
        deadline_at=now + timedelta(days=3),
        created_at=now,
    )
    session.add(poll)
    await session.flush()
    slots = [
        Slot(
            poll_id=poll.id,
            starts_at=now + timedelta(days=7 + i),
            ends_at=now + timedelta(days=7 + i, hours=2),
        )
        for i in range(2)
    ]
    session.add_all(slots)
    meeting = Meeting(
        union_id=union.id,
        table=PollTable.BOTH,
        title=f"Team energia {secret}",
        starts_at=now + timedelta(days=20),
        ends_at=now + timedelta(days=20, hours=2),
        ics_uid=f"meeting-{union.id}@security.test",
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    objects.poll_id, objects.slot_ids, objects.meeting_id = (
        poll.id,
        [s.id for s in slots],
        meeting.id,
    )
    session.add(MeetingRecord(meeting_id=meeting.id))
    items = [
        AgendaItem(
            meeting_id=meeting.id,
            position=n,
            source=AgendaSource.PROPOSAL,
            text=f"Punto {n} {secret}",
            status=status,
            created_at=now,
        )
        for n, status in ((1, AgendaStatus.ACCEPTED), (2, AgendaStatus.PROPOSED))
    ]
    session.add_all(items)
    await session.flush()
    objects.agenda_item_id, objects.proposal_id = items[0].id, items[1].id
    titles = ("Fotovoltaico sulla scuola", "Relamping del municipio", "Cappotto della palestra")
    actions = [
        Action(
            union_id=union.id,
            code=f"{secret[:2].upper()}-{i + 1}",
            title=f"{title} {secret}",
            municipality_id=(rows[i].id if i < len(rows) else None),
            status=ActionStatus.ONGOING,
            progress=30,
            created_at=now,
            updated_at=now,
        )
        for i, title in enumerate(titles)
    ]
    session.add_all(actions)
    round_ = UpdateRound(
        union_id=union.id,
        period="2026-12",
        opened_at=now - timedelta(days=1),
        deadline_at=now + timedelta(days=4),
        status=RoundStatus.OPEN,
    )
    session.add(round_)
    await session.flush()
    objects.action_ids = [a.id for a in actions]
    objects.round_id = round_.id
    guest = MeetingGuest(
        meeting_id=meeting.id, name="Ospite", organisation=None, mode="in_person", created_at=now
    )
    session.add(guest)
    await session.flush()
    objects.guest_id = guest.id
    return objects


async def _person(session: Any, user: FakeUser, *, now: datetime) -> Person:
    person = Person(
        telegram_user_id=user.id,
        display_name=user.full_name,
        username=user.username,
        reachable=True,
        created_at=now,
    )
    session.add(person)
    await session.flush()
    return person


async def _member(
    session: Any,
    objects: UnionObjects,
    person: Person,
    *,
    role: Role,
    comuni: list[int],
    coordinator: bool = False,
    status: MemberStatus = MemberStatus.ACTIVE,
    now: datetime,
) -> Member:
    member = Member(
        union_id=objects.union_id,
        person_id=person.id,
        role=role,
        status=status,
        is_coordinator=coordinator,
        requested_at=now,
        decided_at=None if status == MemberStatus.PENDING else now,
    )
    session.add(member)
    await session.flush()
    for mid in comuni:
        session.add(MemberMunicipality(member_id=member.id, municipality_id=mid))
    await session.flush()
    return member


async def _contents(
    session: Any,
    objects: UnionObjects,
    *,
    secret: str,
    tecnico: Member,
    coord: Member,
    now: datetime,
) -> None:
    update = ProgressUpdate(
        action_id=objects.action_ids[0],
        member_id=tecnico.id,
        round_id=objects.round_id,
        source=UpdateSource.PRIVATE,
        previous_status=ActionStatus.NOT_STARTED,
        status=ActionStatus.ONGOING,
        previous_progress=0,
        progress=30,
        note=f"Nota del tecnico {secret}",
        needs_decision=True,
        decision_question=f"Anticipare i fondi? {secret}",
        created_at=now,
    )
    session.add(update)
    await session.flush()
    decision = Decision(
        union_id=objects.union_id,
        source_update_id=update.id,
        action_id=objects.action_ids[0],
        question=f"Anticipare i fondi per il fotovoltaico? {secret}",
        status=DecisionStatus.OPEN,
        asked_by_member_id=tecnico.id,
        created_at=now,
    )
    document = DocumentLink(
        union_id=objects.union_id,
        title=f"Cartella condivisa {secret}",
        url=f"https://drive.example.org/{secret.lower().replace(' ', '')}",
        created_by_member_id=coord.id,
        created_at=now,
    )
    announcement = Announcement(
        union_id=objects.union_id,
        audience="all",
        text=f"Avviso riservato {secret}",
        created_by_member_id=coord.id,
        created_at=now,
    )
    invite = Invite(
        union_id=objects.union_id,
        token_hash=hashlib.sha256(f"tok-{secret}".encode()).hexdigest(),
        created_by_member_id=coord.id,
        created_at=now,
        expires_at=now + timedelta(days=7),
    )
    session.add_all([decision, document, announcement, invite])
    await session.flush()
    objects.update_id = update.id
    objects.decision_id = decision.id
    objects.document_id = document.id
    objects.announcement_id = announcement.id
    await _minutes(session, objects, secret=secret, now=now)
    objects.invite_id = invite.id


async def _first_answer(fake: FakeTelegram, chat: FakeChat) -> FakeMessage:
    """The bot's last message in the chat, waiting for it if the machine is slow."""

    def sent() -> list[FakeMessage]:
        return fake.sent_to(chat)

    messages: list[FakeMessage] = await fake.wait_for(sent)
    return messages[-1]


async def build_world(bot: BotUnderTest) -> World:
    fake, now = bot.fake, bot.clock.now()
    users = {
        key: fake.add_user(first, last, username) for key, (first, last, username) in PEOPLE.items()
    }
    everyone = list(users.values())
    coord = users["coord"]
    chats = {
        "political": fake.create_group("Tavolo politico", coord, members=everyone),
        "technical": fake.create_group("Tavolo tecnico", coord, members=everyone),
        "unlinked": fake.create_group("Chiacchiere", coord, members=everyone),
    }
    b_group = fake.create_group("Tavolo B", users["other_coord"], members=everyone)
    for chat in (*chats.values(), b_group):
        chat.bot_status = "member"  # added before the test starts (no my_chat_member)
    async with bot.db.transaction() as s:
        a = await _union(
            s,
            UNION_A,
            COMUNI_A,
            now=now,
            secret="Val",
            political_chat=chats["political"].id,
            technical_chat=chats["technical"].id,
        )
        b = await _union(
            s,
            UNION_B,
            COMUNI_B,
            now=now,
            secret="Pianura-segreta",
            political_chat=b_group.id,
            technical_chat=None,
        )
        persons = {
            key: await _person(s, user, now=now) for key, user in users.items() if key != "outsider"
        }
        bib, mon = a.municipality_ids
        m = a.member_ids
        m["coord"] = (
            await _member(
                s, a, persons["coord"], role=Role.STAFF, comuni=[], coordinator=True, now=now
            )
        ).id
        m["sindaco"] = (
            await _member(s, a, persons["sindaco"], role=Role.SINDACO, comuni=[bib], now=now)
        ).id
        m["assessore"] = (
            await _member(s, a, persons["assessore"], role=Role.ASSESSORE, comuni=[mon], now=now)
        ).id
        tecnico = await _member(
            s, a, persons["tecnico"], role=Role.TECNICO, comuni=[bib, mon], now=now
        )
        m["tecnico"] = tecnico.id
        m["pending"] = (
            await _member(
                s,
                a,
                persons["pending"],
                role=Role.SINDACO,
                comuni=[mon],
                status=MemberStatus.PENDING,
                now=now,
            )
        ).id
        coord_b = await _member(
            s,
            b,
            persons["other_coord"],
            role=Role.TECNICO,
            comuni=[b.municipality_ids[0]],
            coordinator=True,
            now=now,
        )
        b.member_ids["other_coord"] = coord_b.id
        coord_a = await s.get(Member, m["coord"])
        assert coord_a is not None
        await _contents(s, a, secret="Val", tecnico=tecnico, coord=coord_a, now=now)
        await _contents(s, b, secret="Pianura-segreta", tecnico=coord_b, coord=coord_b, now=now)
        task = MeetingTask(
            union_id=a.union_id,
            meeting_id=a.meeting_id,
            assignee_member_id=m["sindaco"],
            text="Compito riservato Val",
            status=TaskStatus.OPEN,
            created_at=now,
        )
        s.add(task)
        await s.flush()
        a.task_id = task.id
        for objects in (a, b):  # a document the fake server knows, as if sent in the dialogue
            stored = fake._store_file("document", b"%PDF-1.4", "tema.pdf", "application/pdf")
            material = MeetingMaterial(
                meeting_id=objects.meeting_id,
                file_id=stored.file_id,
                file_name="tema.pdf",
                created_at=now,
            )
            s.add(material)
            await s.flush()
            objects.material_id = material.id
    world = World(bot=bot, users=users, chats=chats, a=a, b=b, b_group=b_group)
    # Every caller has started the bot; anchors for forged presses in every chat.
    for user in users.values():
        await user.send("/privacy")
    await bot.settle()
    for key, user in users.items():
        world.anchors[(key, "private")] = await _first_answer(fake, user.private_chat)
    for name, chat in chats.items():
        await coord.send("/aiuto", chat=chat)
        await bot.settle()
        anchor = await _first_answer(fake, chat)
        for key in users:
            world.anchors[(key, name)] = anchor
    # Union B's group: where Union A's buttons are forged to be pressed in another Union's group.
    await users["other_coord"].send("/aiuto", chat=b_group)
    await bot.settle()
    anchor = await _first_answer(fake, b_group)
    for key in users:
        world.anchors[(key, "other")] = anchor
    return world


# Tables whose rows are bookkeeping of the transport, not data: a refused update may add to them.
_IGNORED = {"processed_update", "alembic_version"}


async def snapshot(bot: BotUnderTest) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the update log), sorted, for before/after comparisons."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with bot.db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in _IGNORED:
                continue
            rows = (await s.execute(select(table))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def diff(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> str:
    changed = []
    for name in before:
        if before[name] != after[name]:
            added = [r for r in after[name] if r not in before[name]]
            removed = [r for r in before[name] if r not in after[name]]
            changed.append(f"{name}: +{added} -{removed}")
    return "; ".join(changed)


def leaks(text: str, secrets: tuple[str, ...]) -> list[str]:
    return [s for s in secrets if s.lower() in text.lower()]


async def _minutes(session: Any, objects: UnionObjects, *, secret: str, now: datetime) -> None:
    """Two meetings held: one with its minutes still a draft, one with them approved (frozen,
    and posted: its claim is there, so no tick posts them during a test)."""
    ids = []
    for days, status in ((3, MinutesStatus.DRAFT), (30, MinutesStatus.APPROVED)):
        meeting = Meeting(
            union_id=objects.union_id,
            table=PollTable.POLITICAL,
            title=f"Riunione tenuta {secret}",
            starts_at=now - timedelta(days=days),
            ends_at=now - timedelta(days=days) + timedelta(hours=2),
            ics_uid=f"meeting-held-{days}-{objects.union_id}@security.test",
            created_at=now,
        )
        session.add(meeting)
        await session.flush()
        minutes = Minutes(
            meeting_id=meeting.id,
            union_id=objects.union_id,
            status=status,
            notes=f"Note del verbale {secret}",
            created_at=now,
        )
        if status == MinutesStatus.APPROVED:
            content = MinutesContent(
                union=secret,
                table=PollTable.POLITICAL,
                kind=MeetingKind.MEETING,
                theme=None,
                title=meeting.title,
                starts_at=meeting.starts_at,
                ends_at=meeting.ends_at,
                timezone="Europe/Rome",
                place=None,
                comuni=(),
                guests=(),
                items=(),
                tasks=(),
                notes=minutes.notes,
                number=1,
                year=meeting.starts_at.year,
                approved_at=now,
            )
            minutes.year, minutes.number = content.year, content.number
            minutes.frozen, minutes.approved_at = to_json(content), now
            session.add(
                JobClaim(
                    kind=POSTED_CLAIM,
                    union_id=objects.union_id,
                    period=posted_period(meeting.id),
                    claimed_at=now,
                )
            )
        session.add(minutes)
        ids.append(meeting.id)
    item = AgendaItem(
        meeting_id=ids[0],
        position=1,
        source=AgendaSource.COORDINATOR,
        text=f"Punto discusso {secret}",
        status=AgendaStatus.ACCEPTED,
        outcome=ItemOutcome.DECIDED,  # «✏️» asks for the words of an item with an outcome
        created_at=now,
    )
    session.add(item)
    await session.flush()
    objects.draft_meeting_id, objects.filed_meeting_id = ids
    objects.draft_item_id = item.id
