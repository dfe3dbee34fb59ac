"""Two Unions for the dashboard's tests, written straight through the models, and initData
signed the way Telegram signs it (an implementation of its documented algorithm that shares no
code with the bot's check).

Union A, *Unione Val d'Enza*: Bibbiano, Montecchio Emilia, Sant'Ilario d'Enza; a coordinator
(Union staff), a Sindaco of Bibbiano, a Funzionario tecnico of Montecchio Emilia; per Comune
three actions (one completed last spring, one in corso, one not started) plus an
intercommunal one; a history with a note, a photo and a question for the political table; the
technical group's notes; a past and an upcoming meeting; an open question with one vote and a
recorded decision. Union B, *Unione Terre di Pianura*: Argelato and Bentivoglio, its own
actions; the technician of Montecchio is also B's coordinator (a member of two Unions).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from bot.services.action_import import fold_name
from storage.db import Database
from storage.models import (
    Action,
    ActionStatus,
    Decision,
    DecisionStatus,
    DecisionVote,
    DecisionVoteChoice,
    Meeting,
    Member,
    MemberMunicipality,
    MemberStatus,
    Municipality,
    Person,
    PollTable,
    ProgressUpdate,
    Role,
    Union,
    UpdateAttachment,
    UpdateNote,
    UpdateSource,
)
from tests.fakes.telegram_server import FakeTelegram, FakeUser

# Names that must never reach the public page (people and what they wrote).
PRIVATE_WORDS = (
    "Carla",
    "Coordinatrice",
    "Marco",
    "Bianchi",
    "Luca",
    "Verdi",
    "Ufficio tecnico comunale",  # the responsible office
    "ditta",  # a note's text
    "Sopralluogo",  # the technical group's note
    "variante",  # the question for the political table
)


@dataclass
class People:
    coordinator: int  # Telegram user ids
    sindaco: int
    tecnico: int  # technician in A (Montecchio Emilia), coordinator of B
    b_coordinator: int
    outsider: int
    pending: int


@dataclass
class DashWorld:
    a: int
    b: int
    people: People
    comuni: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)  # by code
    photo_attachment: int = 0
    photo_bytes: bytes = b""
    users: dict[str, FakeUser] = field(default_factory=dict)  # the fake Telegram's, by key


def jpeg(
    width: int = 320, height: int = 200, colour: tuple[int, int, int] = (46, 125, 50)
) -> bytes:
    """A small real JPEG (a solar panel's green), so the browser has something to show."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    for x in range(10, width - 10, 40):
        for y in range(10, height - 10, 30):
            draw.rectangle([x, y, x + 34, y + 24], fill=(21, 67, 96), outline=(200, 200, 200))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


async def build(db: Database, fake: FakeTelegram, now: datetime) -> DashWorld:
    start = now - timedelta(days=400)
    async with db.transaction() as s:
        a = Union(name="Unione Val d'Enza", timezone="Europe/Rome", created_at=start)
        b = Union(name="Unione Terre di Pianura", timezone="Europe/Rome", created_at=start)
        s.add_all([a, b])
        await s.flush()
        comuni: dict[str, Municipality] = {}
        for union, names in (
            (a, ("Bibbiano", "Montecchio Emilia", "Sant'Ilario d'Enza")),
            (b, ("Argelato", "Bentivoglio")),
        ):
            for name in names:
                m = Municipality(
                    union_id=union.id, name=name, name_key=fold_name(name), created_at=start
                )
                s.add(m)
                comuni[name] = m
        await s.flush()

        people: dict[str, Person] = {}
        users: dict[str, FakeUser] = {}
        for key, name, lang in (
            ("coordinator", "Carla Coordinatrice", "it"),
            ("sindaco", "Marco Bianchi", "it"),
            ("tecnico", "Luca Verdi", "en"),
            ("b_coordinator", "Giulia Neri", "it"),
            ("outsider", "Paolo Estraneo", "it"),
            ("pending", "Rita In Attesa", "it"),
        ):
            first, last = name.split(" ", 1)
            users[key] = fake.add_user(first, last, language_code=lang)
            p = Person(
                telegram_user_id=users[key].id,
                display_name=name,
                reachable=True,
                telegram_language=lang,
                created_at=start,
            )
            s.add(p)
            people[key] = p
        await s.flush()

        def member(
            union: Union,
            person: Person,
            role: Role,
            *,
            coord: bool = False,
            status: MemberStatus = MemberStatus.ACTIVE,
        ) -> Member:
            m = Member(
                union_id=union.id,
                person_id=person.id,
                role=role,
                status=status,
                is_coordinator=coord,
                requested_at=start,
                decided_at=start,
            )
            s.add(m)
            return m

        coord = member(a, people["coordinator"], Role.STAFF, coord=True)
        sindaco = member(a, people["sindaco"], Role.SINDACO)
        tecnico = member(a, people["tecnico"], Role.TECNICO)
        member(b, people["tecnico"], Role.STAFF, coord=True)
        member(b, people["b_coordinator"], Role.SINDACO, coord=True)
        member(a, people["pending"], Role.TECNICO, status=MemberStatus.PENDING)
        await s.flush()
        s.add_all(
            [
                MemberMunicipality(member_id=sindaco.id, municipality_id=comuni["Bibbiano"].id),
                MemberMunicipality(
                    member_id=tecnico.id, municipality_id=comuni["Montecchio Emilia"].id
                ),
            ]
        )

        actions: dict[str, Action] = {}

        def action(union: Union, code: str, title: str, comune: str | None, co2: str) -> Action:
            act = Action(
                union_id=union.id,
                code=code,
                title=title,
                sector="Edifici pubblici",
                municipality_id=comuni[comune].id if comune else None,
                responsible="Ufficio tecnico comunale",
                co2_avoided_t=Decimal(co2),
                status=ActionStatus.NOT_STARTED,
                progress=0,
                created_at=start,
                updated_at=start,
            )
            s.add(act)
            actions[code] = act
            return act

        titles = (
            ("Fotovoltaico sul tetto della scuola", "42.5"),
            ("Illuminazione pubblica a LED", "18"),
            ("Cappotto termico del municipio", "9.5"),
        )
        for i, name in enumerate(("Bibbiano", "Montecchio Emilia", "Sant'Ilario d'Enza")):
            for j, (title, co2) in enumerate(titles):
                action(a, f"A{i + 1}.{j + 1}", f"{title} di {name}", name, co2)
        action(a, "U.1", "Sportello energia intercomunale", None, "12")
        action(b, "B1.1", "Biciclette elettriche condivise", "Argelato", "7")
        action(b, "B2.1", "Teleriscaldamento a biomassa", "Bentivoglio", "55")
        await s.flush()

        async def update(
            act: Action,
            who: Member | None,
            status: ActionStatus,
            progress: int,
            at: datetime,
            note: str | None = None,
            question: str | None = None,
        ) -> ProgressUpdate:
            u = ProgressUpdate(
                action_id=act.id,
                member_id=who.id if who else None,
                source=UpdateSource.PRIVATE,
                previous_status=act.status,
                status=status,
                previous_progress=act.progress,
                progress=progress,
                note=note,
                needs_decision=question is not None,
                decision_question=question,
                created_at=at,
            )
            act.status, act.progress, act.updated_at = status, progress, at
            s.add(u)
            await s.flush()
            return u

        # Each Comune: the first action completed (months ago), the second in corso.
        for i, m in enumerate((sindaco, tecnico, coord)):
            first, second = actions[f"A{i + 1}.1"], actions[f"A{i + 1}.2"]
            await update(first, m, ActionStatus.ONGOING, 40, now - timedelta(days=300 - 30 * i))
            await update(first, m, ActionStatus.COMPLETED, 100, now - timedelta(days=200 - 30 * i))
            await update(second, m, ActionStatus.ONGOING, 30, now - timedelta(days=60))
        montecchio = actions["A2.2"]
        photo_update = await update(
            montecchio,
            tecnico,
            ActionStatus.ONGOING,
            55,
            now - timedelta(days=10),
            note="La ditta ha montato metà dei corpi illuminanti.",
        )
        photo_bytes = jpeg()
        stored = fake.add_file("photo", photo_bytes)
        attachment = UpdateAttachment(
            update_id=photo_update.id,
            kind="photo",
            file_id=stored.file_id,
            file_unique_id=stored.file_unique_id,
        )
        s.add(attachment)
        asked = await update(
            actions["A2.3"],
            tecnico,
            ActionStatus.POSTPONED,
            0,
            now - timedelta(days=8),
            question="Serve una variante di bilancio per il cappotto?",
        )
        await update(actions["U.1"], coord, ActionStatus.ONGOING, 20, now - timedelta(days=20))
        await update(actions["B2.1"], None, ActionStatus.COMPLETED, 100, now - timedelta(days=90))
        s.add(
            UpdateNote(
                union_id=a.id,
                member_id=tecnico.id,
                municipality_id=comuni["Montecchio Emilia"].id,
                source=UpdateSource.GROUP_REPLY,
                text="Sopralluogo fatto in via Roma, si riparte lunedì.",
                chat_id=-100500,
                message_id=1,
                created_at=now - timedelta(days=5),
            )
        )
        s.add_all(
            [
                Meeting(
                    union_id=a.id,
                    table=PollTable.BOTH,
                    title="Team energia di novembre",
                    agenda="1. Stato delle azioni\n2. Bando per le scuole",
                    place="Sala consiliare, Bibbiano",
                    starts_at=now - timedelta(days=20),
                    ends_at=now - timedelta(days=20) + timedelta(hours=2),
                    ics_uid="dash-past@test",
                    created_at=start,
                ),
                Meeting(
                    union_id=a.id,
                    table=PollTable.POLITICAL,
                    title="Tavolo politico di dicembre",
                    starts_at=now + timedelta(days=6),
                    ends_at=now + timedelta(days=6, hours=2),
                    ics_uid="dash-next@test",
                    created_at=start,
                ),
            ]
        )
        question = Decision(
            union_id=a.id,
            source_update_id=asked.id,
            action_id=actions["A2.3"].id,
            question="Serve una variante di bilancio per il cappotto?",
            status=DecisionStatus.OPEN,
            asked_by_member_id=tecnico.id,
            created_at=now - timedelta(days=7),
        )
        recorded = Decision(
            union_id=a.id,
            question="Si parte con il bando per le scuole",
            outcome_text="Si parte con il bando per le scuole",
            status=DecisionStatus.APPROVED,
            closed_by_member_id=coord.id,
            created_at=now - timedelta(days=15),
            closed_at=now - timedelta(days=15),
        )
        s.add_all([question, recorded])
        await s.flush()
        s.add(
            DecisionVote(
                decision_id=question.id,
                municipality_id=comuni["Bibbiano"].id,
                member_id=sindaco.id,
                choice=DecisionVoteChoice.APPROVE,
                updated_at=now - timedelta(days=6),
            )
        )
        await s.flush()
        world = DashWorld(
            a=a.id,
            b=b.id,
            people=People(
                *(
                    users[k].id
                    for k in (
                        "coordinator",
                        "sindaco",
                        "tecnico",
                        "b_coordinator",
                        "outsider",
                        "pending",
                    )
                )
            ),
            users=users,
            comuni={name: m.id for name, m in comuni.items()},
            actions={code: act.id for code, act in actions.items()},
            photo_attachment=attachment.id,
            photo_bytes=photo_bytes,
        )
    return world


def sign_init_data(
    token: str,
    *,
    user_id: int,
    auth_date: datetime,
    language: str | None = "it",
    first_name: str = "Test",
    start_param: str | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    """initData as Telegram builds it: the fields, and `hash` = HMAC-SHA256 of the sorted
    "key=value" lines under HMAC-SHA256("WebAppData", token)."""
    user: dict[str, object] = {"id": user_id, "first_name": first_name, "allows_write_to_pm": True}
    if language:
        user["language_code"] = language
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int(auth_date.timestamp())),
        **({"start_param": start_param} if start_param else {}),
        **(extra or {}),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
