"""Test factories, one implementation of each: Unions and their Comuni, people, members, linked
groups, meetings, update rounds and progress updates written straight to the models (the
registration and wizard tests build them through the bot instead), plus the summaries' plain
input data.

New tests import from here. `tests/meetings_factories.py`, `tests/updates_factories.py` and
`tests/summaries_factories.py` remain as thin shims over these, for the call shapes older tests
use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.action_import import fold_name
from bot.services.summaries.summary import (
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    MeetingView,
    QuestionView,
    SummaryInput,
    VoteView,
)
from storage.models import (
    Action,
    ActionStatus,
    JobClaim,
    LinkedChat,
    Meeting,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    Person,
    PollTable,
    ProgressUpdate,
    Role,
    RoundStatus,
    TableKind,
    Union,
    UpdateRound,
    UpdateSource,
)
from storage.repositories import core as core_repo

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)

_ids = count(1000)


def new_telegram_user_id() -> int:
    """A Telegram user id no fake-server user has (those count up from 1001)."""
    return next(_ids) * 1000 + 7


@dataclass
class World:
    """A Union as the tests build it, with what was added to it by key."""

    union: Union
    comuni: list[Municipality] = field(default_factory=list)
    coordinator: Member | None = None
    members: dict[str, Member] = field(default_factory=dict)  # by the key given to add_member
    people: dict[str, Person] = field(default_factory=dict)  # by the same key
    persons: dict[int, Person] = field(default_factory=dict)  # by member id
    links: dict[TableKind, LinkedChat] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)

    def comune(self, name: str) -> Municipality:
        return next(m for m in self.comuni if m.name == name)


def _union_of(target: World | Union) -> Union:
    return target.union if isinstance(target, World) else target


# --- Unions, people, members, groups --------------------------------------------------------


async def make_union(
    session: AsyncSession,
    *,
    name: str = "Unione Reno Galliera",
    comuni: Sequence[str] = (),
    now: datetime = NOW,
    timezone: str = "Europe/Rome",
) -> World:
    union = Union(name=name, timezone=timezone, created_at=now)
    session.add(union)
    await session.flush()
    world = World(union=union)
    for comune in comuni:
        await add_comune(session, world, comune, now=now)
    return world


async def add_comune(
    session: AsyncSession, world: World, name: str, *, now: datetime = NOW
) -> Municipality:
    comune = Municipality(
        union_id=world.union.id, name=name, name_key=fold_name(name), created_at=now
    )
    session.add(comune)
    await session.flush()
    world.comuni.append(comune)
    return comune


async def add_person(
    session: AsyncSession,
    name: str,
    *,
    now: datetime = NOW,
    telegram_user_id: int | None = None,
    language: str | None = None,
    telegram_language: str | None = None,
) -> Person:
    person = Person(
        telegram_user_id=(
            telegram_user_id if telegram_user_id is not None else new_telegram_user_id()
        ),
        display_name=name,
        reachable=True,
        language=language,
        telegram_language=telegram_language,
        created_at=now,
    )
    session.add(person)
    await session.flush()
    return person


async def add_member(
    session: AsyncSession,
    target: World | Union,
    *,
    role: Role,
    name: str,
    key: str | None = None,
    comuni: Sequence[Municipality] = (),
    coordinator: bool = False,
    person: Person | None = None,
    telegram_user_id: int | None = None,
    language: str | None = None,
    telegram_language: str | None = None,
    status: MemberStatus = MemberStatus.ACTIVE,
    now: datetime = NOW,
) -> Member:
    """A member (a new person unless `person` is given), recorded in the World under `key`
    (default: `name`)."""
    person = person or await add_person(
        session,
        name,
        now=now,
        telegram_user_id=telegram_user_id,
        language=language,
        telegram_language=telegram_language,
    )
    member = Member(
        union_id=_union_of(target).id,
        person_id=person.id,
        role=role,
        status=status,
        is_coordinator=coordinator,
        requested_at=now,
        decided_at=now,
    )
    session.add(member)
    await session.flush()
    for comune in comuni:
        session.add(MemberMunicipality(member_id=member.id, municipality_id=comune.id))
    await session.flush()
    if isinstance(target, World):
        target.members[key or name] = member
        target.people[key or name] = person
        target.persons[member.id] = person
    return member


async def link_group(
    session: AsyncSession,
    target: World | Union,
    *,
    table: TableKind,
    chat_id: int,
    now: datetime = NOW,
    title: str | None = None,
    hashtag_capture: bool = False,
) -> LinkedChat:
    union = _union_of(target)
    link = LinkedChat(
        union_id=union.id,
        table_kind=table,
        chat_id=chat_id,
        title=title or f"{union.name} {table.value}",
        hashtag_capture=hashtag_capture,
        linked_at=now,
    )
    session.add(link)
    await session.flush()
    if isinstance(target, World):
        target.links[table] = link
    return link


async def make_meeting(
    session: AsyncSession,
    target: World | Union,
    *,
    starts_at: datetime,
    now: datetime = NOW,
    table: PollTable = PollTable.BOTH,
    title: str = "Team energia",
    duration: timedelta = timedelta(hours=2),
) -> Meeting:
    union = _union_of(target)
    meeting = Meeting(
        union_id=union.id,
        table=table,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + duration,
        ics_uid=f"meeting-{union.id}-{starts_at.isoformat()}@test",
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    return meeting


# --- a whole Union with actions, rounds and updates -----------------------------------------


async def make_world(
    session: AsyncSession,
    *,
    comuni: int = 2,
    actions_per_comune: int = 2,
    name: str = "Unione Reno Galliera",
    political_chat: int | None = -100111,
    technical_chat: int | None = -100222,
    now: datetime = NOW,
) -> World:
    """A coordinator; per Comune a Sindaco, an Assessore, a Funzionario tecnico (keys
    "sindaco:<i>", "assessore:<i>", "tecnico:<i>") and its actions; both groups linked (their
    chat ids offset by the Union id, so several worlds never share a chat)."""
    world = await make_union(session, name=name, now=now)
    world.coordinator = await add_member(
        session, world, role=Role.STAFF, name="Carla Coordinatrice", coordinator=True, now=now
    )
    for i in range(comuni):
        comune = await add_comune(session, world, f"Comune {i:02d}", now=now)
        for key, role, label in (
            ("sindaco", Role.SINDACO, "Sindaco"),
            ("assessore", Role.ASSESSORE, "Assessore"),
            ("tecnico", Role.TECNICO, "Tecnico"),
        ):
            await add_member(
                session,
                world,
                role=role,
                name=f"{label} {i}",
                key=f"{key}:{i}",
                comuni=[comune],
                now=now,
            )
        for a in range(actions_per_comune):
            action = Action(
                union_id=world.union.id,
                code=f"C{i:02d}.{a:02d}",
                title=f"Azione {a} del Comune {i}",
                sector="Edifici pubblici",
                municipality_id=comune.id,
                responsible="Ufficio tecnico",
                co2_avoided_t=Decimal("10.5"),
                status=ActionStatus.ONGOING,
                progress=10,
                created_at=now - timedelta(days=400),
                updated_at=now - timedelta(days=400),
            )
            session.add(action)
            world.actions.append(action)
    for chat_id, table in (
        (political_chat, TableKind.POLITICAL),
        (technical_chat, TableKind.TECHNICAL),
    ):
        if chat_id is not None:
            await link_group(
                session,
                world,
                table=table,
                chat_id=chat_id - world.union.id,
                title=f"{table.value} {world.union.id}",
                now=now,
            )
    await session.flush()
    return world


async def add_round(
    session: AsyncSession,
    world: World,
    *,
    period: str,
    opened_at: datetime,
    deadline_at: datetime,
) -> UpdateRound:
    round_ = UpdateRound(
        union_id=world.union.id,
        period=period,
        opened_at=opened_at,
        deadline_at=deadline_at,
        status=RoundStatus.OPEN,
    )
    session.add(round_)
    await session.flush()
    return round_


async def add_update(
    session: AsyncSession,
    action: Action,
    member: Member | None,
    *,
    status: ActionStatus,
    progress: int,
    at: datetime,
    round_: UpdateRound | None = None,
    note: str | None = None,
    needs_decision: bool = False,
    question: str | None = None,
) -> ProgressUpdate:
    update = ProgressUpdate(
        action_id=action.id,
        member_id=member.id if member else None,
        round_id=round_.id if round_ else None,
        source=UpdateSource.PRIVATE,
        previous_status=action.status,
        status=status,
        previous_progress=action.progress,
        progress=progress,
        note=note,
        needs_decision=needs_decision,
        decision_question=question,
        created_at=at,
    )
    action.status, action.progress, action.updated_at = status, progress, at
    session.add(update)
    await session.flush()
    return update


# --- the summaries' plain data --------------------------------------------------------------


def small_union() -> SummaryInput:
    """Two Comuni, four actions, one intercommunal; the expectation is written by hand."""
    actions = [
        ActionSnapshot(
            1, "A1", "Illuminazione pubblica a LED", 10, "completed", 100, Decimal("120.5")
        ),
        ActionSnapshot(
            2,
            "A2",
            "Cappotto scuola <media> & palestra",
            10,
            "ongoing",
            40,
            Decimal("80"),
            stuck_rounds=2,
        ),
        ActionSnapshot(3, "B1", "Fotovoltaico municipio", 20, "not_started", 0, Decimal("50")),
        ActionSnapshot(4, "U1", "Sportello energia", None, "ongoing", 60, None),
    ]
    changes = [
        ActionChange(
            1, "ongoing", "completed", 70, 100, notes=("Collaudo fatto il 28/11",), photos=2
        ),
        ActionChange(4, "ongoing", "ongoing", 50, 60, documents=1),
    ]
    return SummaryInput(
        union_name="Unione Reno & Galliera",
        timezone="Europe/Rome",
        year=2026,
        month=12,
        generated_at=NOW,
        since=datetime(2026, 11, 4, 16, 0, tzinfo=UTC),
        comuni=[
            ComuneInfo(10, "Argelato"),
            ComuneInfo(20, "Bentivoglio", silent=("Luca <Bianchi>",)),
        ],
        actions=actions,
        changes=changes,
        next_meeting=MeetingView(
            datetime(2026, 12, 9, 16, 0, tzinfo=UTC), "Team energia", "Sala consiliare"
        ),
        questions=[
            QuestionView(
                7,
                "Anticipare i fondi per il cappotto?",
                "open",
                "Argelato",
                "A2",
                votes=(VoteView("Argelato", "approve", "Anna"),),
            ),
        ],
    )


def record_claims(monkeypatch: pytest.MonkeyPatch, field: str = "kind") -> list[str]:
    """Every claim the bot tries to write from now on (its `kind`, or another keyword such as
    `period`), won or lost to a concurrent writer; a claim found already made writes nothing
    and is not listed. What a tick writes, for tests of quiet ticks."""
    attempts: list[str] = []
    real_claim = core_repo.claim

    async def counting_claim(session: AsyncSession, **kwargs: Any) -> bool:
        key = (kwargs["kind"], kwargs["union_id"], kwargs["period"])
        if await session.get(JobClaim, key) is None:
            attempts.append(kwargs[field])
        return bool(await real_claim(session, **kwargs))

    monkeypatch.setattr(core_repo, "claim", counting_claim)
    return attempts
