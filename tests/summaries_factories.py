"""Plain-data and database factories for the summaries tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.services.summary import (
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    MeetingView,
    QuestionView,
    SummaryInput,
    VoteView,
)

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


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


# --- database factories -------------------------------------------------------------------

from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402
from itertools import count  # noqa: E402

from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from storage.models import (  # noqa: E402
    Action,
    ActionStatus,
    LinkedChat,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    Person,
    ProgressUpdate,
    Role,
    RoundStatus,
    TableKind,
    Union,
    UpdateRound,
    UpdateSource,
)

_ids = count(1000)


@dataclass
class World:
    union: Union
    comuni: list[Municipality] = field(default_factory=list)
    coordinator: Member | None = None
    members: dict[str, Member] = field(default_factory=dict)  # "sindaco:<i>" etc.
    persons: dict[int, Person] = field(default_factory=dict)  # member id → person
    actions: list[Action] = field(default_factory=list)


async def add_person(session: AsyncSession, name: str, *, now: datetime = NOW) -> Person:
    person = Person(
        telegram_user_id=next(_ids) * 1000 + 7,
        display_name=name,
        reachable=True,
        created_at=now,
    )
    session.add(person)
    await session.flush()
    return person


async def add_member(
    session: AsyncSession,
    world: World,
    *,
    role: Role,
    name: str,
    comuni: list[Municipality] | None = None,
    coordinator: bool = False,
    person: Person | None = None,
    now: datetime = NOW,
) -> Member:
    person = person or await add_person(session, name, now=now)
    member = Member(
        union_id=world.union.id,
        person_id=person.id,
        role=role,
        status=MemberStatus.ACTIVE,
        is_coordinator=coordinator,
        requested_at=now,
        decided_at=now,
    )
    session.add(member)
    await session.flush()
    for m in comuni or []:
        session.add(MemberMunicipality(member_id=member.id, municipality_id=m.id))
    await session.flush()
    world.persons[member.id] = person
    return member


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
    union = Union(name=name, timezone="Europe/Rome", created_at=now)
    session.add(union)
    await session.flush()
    world = World(union=union)
    world.coordinator = await add_member(
        session, world, role=Role.STAFF, name="Carla Coordinatrice", coordinator=True, now=now
    )
    for i in range(comuni):
        m = Municipality(
            union_id=union.id, name=f"Comune {i:02d}", name_key=f"comune {i:02d}", created_at=now
        )
        session.add(m)
        await session.flush()
        world.comuni.append(m)
        world.members[f"sindaco:{i}"] = await add_member(
            session, world, role=Role.SINDACO, name=f"Sindaco {i}", comuni=[m], now=now
        )
        world.members[f"assessore:{i}"] = await add_member(
            session, world, role=Role.ASSESSORE, name=f"Assessore {i}", comuni=[m], now=now
        )
        world.members[f"tecnico:{i}"] = await add_member(
            session, world, role=Role.TECNICO, name=f"Tecnico {i}", comuni=[m], now=now
        )
        for a in range(actions_per_comune):
            action = Action(
                union_id=union.id,
                code=f"C{i:02d}.{a:02d}",
                title=f"Azione {a} del Comune {i}",
                sector="Edifici pubblici",
                municipality_id=m.id,
                responsible="Ufficio tecnico",
                co2_avoided_t=Decimal("10.5"),
                status=ActionStatus.ONGOING,
                progress=10,
                created_at=now - timedelta(days=400),
                updated_at=now - timedelta(days=400),
            )
            session.add(action)
            world.actions.append(action)
    for chat_id, kind in (
        (political_chat, TableKind.POLITICAL),
        (technical_chat, TableKind.TECHNICAL),
    ):
        if chat_id is not None:
            session.add(
                LinkedChat(
                    union_id=union.id,
                    table_kind=kind,
                    chat_id=chat_id - union.id,
                    title=f"{kind.value} {union.id}",
                    linked_at=now,
                )
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
