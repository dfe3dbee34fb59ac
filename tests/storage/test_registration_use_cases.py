"""Registration's use cases without Telegram, on SQLite and PostgreSQL: each one's main outcomes,
who may act, and what it queues for others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.services import common, registration
from bot.services.common import Profile
from bot.services.registration import rules
from bot.views.registration.comuni import (
    AddingComuni,
    ComuneRemoved,
    ComuneRenamed,
    ComuniAdded,
    ComuniList,
    RenameRefused,
)
from bot.views.registration.groups import GroupLinked, GroupText, LinkChoice, ReplaceAsked
from bot.views.registration.invites import InviteList, InviteMade, InviteRevoked
from bot.views.registration.joining import (
    ROLE_STEP,
    AlreadyDecided,
    AlreadyIn,
    InviteProblem,
    JoinRequested,
    JoinStarted,
    JoinStepAgain,
    RequestDecided,
)
from bot.views.registration.leaving import Leaving, MustHandOver
from bot.views.registration.refusals import (
    AssignmentProblem,
    AssignmentRefused,
    NameProblem,
    Refused,
)
from bot.views.registration.team import CardNote, ComuneMenu, MemberRemoved, MemberShown
from bot.views.registration.unions import UnionCreated, UnionExists
from storage.db import Database
from storage.models import (
    Conversation,
    Form,
    Invite,
    Member,
    MemberStatus,
    OutboxMessage,
    Person,
    Role,
    TableKind,
)
from storage.repositories import core as core_repo

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GIULIA, MARIO, ANNA, LUCA = 1001, 2002, 2003, 2004


def profile(telegram_user_id: int, name: str) -> Profile:
    return Profile(telegram_user_id, name, None, "it")


async def _union(db: Database, comuni: str = "Argelato, Bentivoglio") -> tuple[int, list[int]]:
    """Giulia's Union with these Comuni: (union id, Comune ids in name order)."""
    async with db.transaction() as s:
        created = await registration.create_union(
            s, profile=profile(GIULIA, "Giulia"), name="Unione Reno", admin_ids=(), now=NOW
        )
        assert isinstance(created, UnionCreated)
        union_id = (await core_repo.memberships_of(s, telegram_user_id=GIULIA))[0][1].id
        added = await registration.add_comuni(
            s, union_id=union_id, telegram_user_id=GIULIA, chat_id=GIULIA, text=comuni, now=NOW
        )
        assert isinstance(added, ComuniAdded) and added.listing is not None
        return union_id, [mun_id for mun_id, _name in added.listing.comuni]


async def _join(db: Database, union_id: int, user: int, name: str, mun_id: int, role: Role) -> int:
    """`user` asks to join through a fresh invite and the coordinator approves: member id."""
    async with db.transaction() as s:
        made = await registration.make_invite(
            s,
            union_id=union_id,
            municipality_id=0,
            role=None,
            telegram_user_id=GIULIA,
            bot_username="team_bot",
            now=NOW,
        )
        assert isinstance(made, InviteMade)
    token = made.link.rsplit("=", 1)[1]
    async with db.transaction() as s:
        started = await registration.open_invite(
            s, token=token, profile=profile(user, name), chat_id=user, now=NOW
        )
        assert isinstance(started, JoinStarted)
        invite_id = started.step.invite_id
        await registration.choose_comune(
            s,
            telegram_user_id=user,
            chat_id=user,
            invite_id=invite_id,
            municipality_id=mun_id,
            now=NOW,
        )
        requested = await registration.choose_role(
            s,
            profile=profile(user, name),
            chat_id=user,
            invite_id=invite_id,
            role=role,
            form=Form.MASCULINE,
            now=NOW,
            default_language="it",
        )
        assert isinstance(requested, JoinRequested)
        member_id = await _member_id(s, user)
        decided = await registration.decide_request(
            s,
            member_id=member_id,
            approve=True,
            telegram_user_id=GIULIA,
            now=NOW,
            default_language="it",
        )
        assert isinstance(decided, RequestDecided)
        return member_id


async def _member_id(s: object, user: int) -> int:
    row = await s.execute(  # type: ignore[attr-defined]
        select(Member.id).join(Person).where(Person.telegram_user_id == user)
    )
    return int(row.scalar_one())


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_create_union(db: Database) -> None:
    union_id, _ = await _union(db)
    async with db.transaction() as s:
        same = await registration.create_union(
            s, profile=profile(GIULIA, "Giulia"), name="UNIONE  reno", admin_ids=(), now=NOW
        )
        assert same == UnionExists("Unione Reno")
        assert (
            await registration.create_union(
                s, profile=profile(GIULIA, "Giulia"), name="  ", admin_ids=(), now=NOW
            )
            == NameProblem.MISSING
        )
        assert (
            await registration.create_union(
                s, profile=profile(MARIO, "Mario"), name="Altra", admin_ids=(GIULIA,), now=NOW
            )
            == Refused.NOT_BOT_ADMIN
        )
        assert await core_repo.person_by_telegram_id(s, MARIO) is None  # refused: not stored
        assert [u.id for _m, u in await core_repo.memberships_of(s, telegram_user_id=GIULIA)] == [
            union_id
        ]


async def test_comuni(db: Database) -> None:
    async with db.transaction() as s:
        created = await registration.create_union(
            s, profile=profile(GIULIA, "Giulia"), name="Unione Reno", admin_ids=(), now=NOW
        )
        assert isinstance(created, UnionCreated)
        union_id = (await core_repo.memberships_of(s, telegram_user_id=GIULIA))[0][1].id
        opened = await registration.open_comuni(
            s, union_id=union_id, telegram_user_id=GIULIA, chat_id=GIULIA, now=NOW
        )
        assert opened == AddingComuni(union_id, "Unione Reno", first=True)
        conv = await core_repo.get_conversation(s, telegram_user_id=GIULIA, chat_id=GIULIA, now=NOW)
        assert conv is not None and conv.flow == registration.COMUNI_ADD_FLOW
        added = await registration.add_comuni(
            s,
            union_id=union_id,
            telegram_user_id=GIULIA,
            chat_id=GIULIA,
            text="Argelato, argelato, ㅤ, Castel d'Argile",
            now=NOW,
        )
        assert isinstance(added, ComuniAdded)
        assert added.added == ("Argelato", "Castel d'Argile")
        assert added.repeated == ("argelato",)
        assert [p for _n, p in added.invalid] == [NameProblem.INVISIBLE]
        assert added.listing is not None
        argelato, castel = (mun_id for mun_id, _n in added.listing.comuni)
        # Somebody else: refused, the dialogue untouched.
        assert (
            await registration.show_comuni(
                s, union_id=union_id, telegram_user_id=MARIO, chat_id=MARIO
            )
            == Refused.NOT_YOURS
        )
        taken = await registration.rename_comune(
            s,
            union_id=union_id,
            municipality_id=castel,
            telegram_user_id=GIULIA,
            chat_id=GIULIA,
            text="ARGELATO",
        )
        assert taken == RenameRefused(union_id, None, taken_by="Argelato")
        renamed = await registration.rename_comune(
            s,
            union_id=union_id,
            municipality_id=castel,
            telegram_user_id=GIULIA,
            chat_id=GIULIA,
            text="Castello d'Argile",
        )
        assert isinstance(renamed, ComuneRenamed) and renamed.old == "Castel d'Argile"
        removed = await registration.remove_comune(
            s, municipality_id=argelato, telegram_user_id=GIULIA, now=NOW
        )
        assert removed == ComuneRemoved(
            True, ComuniList(union_id, "Unione Reno", ((castel, "Castello d'Argile"),))
        )


async def test_invites(db: Database) -> None:
    union_id, (argelato, _bentivoglio) = await _union(db)
    await _join(db, union_id, MARIO, "Mario", argelato, Role.SINDACO)
    async with db.transaction() as s:
        taken = await registration.make_invite(
            s,
            union_id=union_id,
            municipality_id=argelato,
            role=Role.SINDACO,
            telegram_user_id=GIULIA,
            bot_username="team_bot",
            now=NOW,
        )
        assert taken == AssignmentRefused(AssignmentProblem.SINDACO_TAKEN, "Argelato")
        staff = await registration.make_invite(
            s,
            union_id=union_id,
            municipality_id=0,
            role=Role.STAFF,  # not a role anyone joins as
            telegram_user_id=GIULIA,
            bot_username="team_bot",
            now=NOW,
        )
        assert staff == Refused.STALE
        made = await registration.make_invite(
            s,
            union_id=union_id,
            municipality_id=argelato,
            role=Role.TECNICO,
            telegram_user_id=GIULIA,
            bot_username="team_bot",
            now=NOW,
        )
        assert isinstance(made, InviteMade)
        assert made.link.startswith("https://t.me/team_bot?start=")
        token = made.link.rsplit("=", 1)[1]
        stored = (
            await s.execute(select(Invite).where(Invite.token_hash == rules.hash_token(token)))
        ).scalar_one()
        assert stored.role == Role.TECNICO and stored.municipality_id == argelato
        listing = await registration.list_invites(
            s, union_id=union_id, telegram_user_id=GIULIA, now=NOW
        )
        assert isinstance(listing, InviteList)
        assert [(r.comune, r.role) for r in listing.invites][-1] == ("Argelato", Role.TECNICO)
        assert (
            await registration.revoke_invite(
                s, invite_id=stored.id, telegram_user_id=MARIO, now=NOW
            )
            == Refused.NOT_YOURS
        )
        revoked = await registration.revoke_invite(
            s, invite_id=stored.id, telegram_user_id=GIULIA, now=NOW
        )
        assert isinstance(revoked, InviteRevoked) and revoked.done
        again = await registration.revoke_invite(
            s, invite_id=stored.id, telegram_user_id=GIULIA, now=NOW
        )
        assert isinstance(again, InviteRevoked) and not again.done
        closed = await registration.open_invite(
            s, token=token, profile=profile(ANNA, "Anna"), chat_id=ANNA, now=NOW
        )
        assert closed == InviteProblem(rules.InviteState.REVOKED)
        assert await registration.open_invite(
            s, token="not a token", profile=profile(ANNA, "Anna"), chat_id=ANNA, now=NOW
        ) == InviteProblem(None)


async def test_joining_asks_three_questions_and_tells_the_coordinator(db: Database) -> None:
    union_id, (argelato, _bentivoglio) = await _union(db)
    async with db.transaction() as s:
        made = await registration.make_invite(
            s,
            union_id=union_id,
            municipality_id=argelato,
            role=None,
            telegram_user_id=GIULIA,
            bot_username="team_bot",
            now=NOW,
        )
        assert isinstance(made, InviteMade)
        token = made.link.rsplit("=", 1)[1]
        started = await registration.open_invite(
            s, token=token, profile=profile(ANNA, "Anna B."), chat_id=ANNA, now=NOW
        )
        assert isinstance(started, JoinStarted)
        assert started.step.step == ROLE_STEP and started.step.comune == "Argelato"
        invite_id = started.step.invite_id
        assert (started.step.number, started.step.total) == (1, 1)  # one question: no counter
        # A name typed first: it stands, and the role is asked again.
        renamed = await registration.type_answer(
            s,
            telegram_user_id=ANNA,
            chat_id=ANNA,
            step=ROLE_STEP,
            state={
                "invite_id": invite_id,
                "union_id": union_id,
                "role": None,
                "invite_role": None,
                "bound": True,
                "municipality_id": argelato,
                "name": "Anna B.",
            },
            text="Anna Bianchi",
            now=NOW,
        )
        assert isinstance(renamed, JoinStepAgain) and renamed.renamed
        assert renamed.step.name == "Anna Bianchi" and renamed.step.step == ROLE_STEP
        # Pressed on someone else's dialogue: nothing.
        assert (
            await registration.choose_role(
                s,
                profile=profile(MARIO, "Mario"),
                chat_id=MARIO,
                invite_id=invite_id,
                role=Role.ASSESSORE,
                form=Form.FEMININE,
                now=NOW,
                default_language="en",
            )
            == Refused.STALE
        )
        # The role in her form is the last answer: the request goes.
        requested = await registration.choose_role(
            s,
            profile=profile(ANNA, "Anna B."),
            chat_id=ANNA,
            invite_id=invite_id,
            role=Role.ASSESSORE,
            form=Form.FEMININE,
            now=NOW,
            default_language="en",
        )
        assert requested == JoinRequested("Unione Reno")
        assert await s.get(Conversation, (ANNA, ANNA)) is None
        again = await registration.open_invite(
            s, token=token, profile=profile(ANNA, "Anna"), chat_id=ANNA, now=NOW
        )
        assert again == AlreadyIn(False, "Unione Reno")
        anna = await core_repo.person_by_telegram_id(s, ANNA)
        assert anna is not None and anna.form == Form.FEMININE  # chosen with the role
    (request,) = [r for r in await _outbox(db) if r.dedup_key.startswith("reg:req:")]
    assert request.chat_id == GIULIA
    assert "Anna Bianchi" in request.payload["text"]  # the name she typed
    buttons = request.payload["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"].split(":")[1] for b in buttons] == ["approve", "reject"]


async def test_approval_once_by_a_coordinator(db: Database) -> None:
    union_id, (argelato, _b) = await _union(db)
    mario = await _join(db, union_id, MARIO, "Mario", argelato, Role.SINDACO)
    async with db.transaction() as s:
        again = await registration.decide_request(
            s,
            member_id=mario,
            approve=False,
            telegram_user_id=GIULIA,
            now=NOW,
            default_language="it",
        )
        assert isinstance(again, AlreadyDecided) and again.status == MemberStatus.ACTIVE
        assert (
            await registration.decide_request(
                s,
                member_id=mario,
                approve=True,
                telegram_user_id=MARIO,
                now=NOW,
                default_language="it",
            )
            == Refused.NOT_DECIDER
        )
    told = [r for r in await _outbox(db) if r.dedup_key.startswith(f"reg:out:{mario}:")]
    assert [r.chat_id for r in told] == [MARIO]


async def test_a_second_sindaco_is_refused_at_approval(db: Database) -> None:
    union_id, (argelato, _b) = await _union(db)
    await _join(db, union_id, MARIO, "Mario", argelato, Role.TECNICO)
    async with db.transaction() as s:
        member_id = await _member_id(s, MARIO)
        assert isinstance(
            await registration.set_role(
                s,
                member_id=member_id,
                role=Role.SINDACO,
                municipality_id=argelato,
                telegram_user_id=GIULIA,
                now=NOW,
            ),
            MemberShown,
        )
        # Luca asked to be Sindaco of Argelato too, before Mario became it.
        person = await common.person_for(s, profile(LUCA, "Luca"), now=NOW)
        luca = await registration.request_membership(
            s,
            union_id=union_id,
            person_id=person.id,
            role=Role.SINDACO,
            municipality_ids=[argelato],
            invite_id=1,
            now=NOW,
        )
        refused = await registration.decide_request(
            s,
            member_id=luca.id,
            approve=True,
            telegram_user_id=GIULIA,
            now=NOW,
            default_language="it",
        )
        assert refused == AssignmentRefused(AssignmentProblem.SINDACO_TAKEN, "Argelato")
        assert luca.status == MemberStatus.PENDING


async def test_a_union_always_keeps_a_coordinator(db: Database) -> None:
    union_id, (argelato, _b) = await _union(db)
    mario = await _join(db, union_id, MARIO, "Mario", argelato, Role.SINDACO)
    async with db.transaction() as s:
        giulia = await _member_id(s, GIULIA)
        for use in (registration.set_coordinator, registration.remove_member):
            kwargs = {"coordinator": False} if use is registration.set_coordinator else {}
            refused = await use(  # type: ignore[operator]
                s,
                member_id=giulia,
                telegram_user_id=GIULIA,
                now=NOW,
                default_language="it",
                **kwargs,
            )
            assert refused == Refused.LAST_COORDINATOR
        made = await registration.set_coordinator(
            s,
            member_id=mario,
            coordinator=True,
            telegram_user_id=GIULIA,
            now=NOW,
            default_language="it",
        )
        assert isinstance(made, MemberShown) and made.note == CardNote.NOW_COORDINATOR
        gone = await registration.remove_member(
            s, member_id=giulia, telegram_user_id=GIULIA, now=NOW, default_language="it"
        )
        assert isinstance(gone, MemberRemoved)
        assert [e.name for e in gone.roster.entries] == ["Mario"]
    keys = [r.dedup_key for r in await _outbox(db)]
    assert any(k.startswith(f"reg:coord:{mario}:") for k in keys)
    assert not any(k.startswith("reg:rm:") for k in keys)  # she removed herself: not told


async def test_a_technician_ticks_several_comuni(db: Database) -> None:
    union_id, (argelato, bentivoglio) = await _union(db)
    luca = await _join(db, union_id, LUCA, "Luca", argelato, Role.TECNICO)
    async with db.transaction() as s:
        ticked = await registration.set_comune(
            s, member_id=luca, municipality_id=bentivoglio, telegram_user_id=GIULIA
        )
        assert isinstance(ticked, ComuneMenu) and ticked.note == CardNote.DONE
        assert ticked.current == {argelato, bentivoglio}
        emptied = await registration.set_comune(
            s, member_id=luca, municipality_id=argelato, telegram_user_id=GIULIA
        )
        assert isinstance(emptied, ComuneMenu) and emptied.current == {bentivoglio}
        refused = await registration.set_comune(
            s, member_id=luca, municipality_id=bentivoglio, telegram_user_id=GIULIA
        )
        assert refused == AssignmentRefused(AssignmentProblem.NEEDS_A_COMUNE, None)


async def test_linking_a_group(db: Database) -> None:
    union_id, _ = await _union(db)

    async def link(
        user: int, *, admin: bool = True, replace: bool = False, chat: int = -100
    ) -> object:
        async with db.transaction() as s:
            return await registration.link_group(
                s,
                union_id=union_id,
                table=TableKind.POLITICAL,
                chat_id=chat,
                chat_title="Sindaci",
                telegram_user_id=user,
                group_admin=admin,
                replace=replace,
                now=NOW,
            )

    assert await link(MARIO) == Refused.NOT_LINKER
    assert await link(GIULIA, admin=False) == Refused.NOT_GROUP_ADMIN
    assert await link(GIULIA) == GroupLinked("Unione Reno", TableKind.POLITICAL)
    assert await link(GIULIA, chat=-200) == ReplaceAsked(
        union_id, "Unione Reno", TableKind.POLITICAL, "Sindaci"
    )
    assert await link(GIULIA, chat=-200, replace=True) == GroupLinked(
        "Unione Reno", TableKind.POLITICAL
    )
    async with db.transaction() as s:
        choice = await registration.link_choice(s, telegram_user_id=GIULIA, chat_id=-200)
        assert choice == LinkChoice(((union_id, "Unione Reno"),), (TableKind.POLITICAL,), False)
        assert (
            await registration.link_choice(s, telegram_user_id=MARIO, chat_id=-200)
            == GroupText.NOT_COORDINATOR
        )
        dropped = await registration.bot_left_group(s, chat_id=-200, now=NOW, default_language="it")
        assert dropped == 1
    (warning,) = [r for r in await _outbox(db) if r.dedup_key.startswith("link:gone:")]
    assert warning.chat_id == GIULIA and "Sindaci" in warning.payload["text"]


async def test_leaving(db: Database) -> None:
    union_id, (argelato, _b) = await _union(db)
    await _join(db, union_id, MARIO, "Mario", argelato, Role.SINDACO)
    async with db.transaction() as s:
        assert await registration.may_leave(s, telegram_user_id=ANNA) == Refused.NOTHING_TO_ERASE
        assert await registration.may_leave(s, telegram_user_id=GIULIA) == MustHandOver(
            ("Unione Reno",)
        )
        assert await registration.erase_me(s, telegram_user_id=GIULIA, now=NOW) == MustHandOver(
            ("Unione Reno",)
        )
        assert await registration.may_leave(s, telegram_user_id=MARIO) == Leaving.MAY_LEAVE
        assert await registration.erase_me(s, telegram_user_id=MARIO, now=NOW) == Leaving.ERASED
        assert await core_repo.person_by_telegram_id(s, MARIO) is None


async def test_welcome_and_help_name_only_this_groups_unions(db: Database) -> None:
    union_id, (argelato, _b) = await _union(db)
    await _join(db, union_id, MARIO, "Mario", argelato, Role.SINDACO)

    def reader(group: int | None) -> common.Reader:
        return common.Reader(MARIO, "M", group, ())

    async with db.transaction() as s:
        private = await common.welcome(s, reader=reader(None))
        assert private.unions == ("Unione Reno",) and private.name == "Mario"
        elsewhere = await common.welcome(s, reader=reader(-999))
        assert elsewhere.unions == ()
        page = await common.help_page(s, reader=reader(None))
        assert page.role == Role.SINDACO and not page.coordinator
        assert "riunione" in [c.name for c in page.for_role]
        assert "crea_unione" not in [c.name for c in page.for_role + page.for_all]
        await common.set_language(s, profile=profile(MARIO, "Mario"), language="en", now=NOW)
    async with db.transaction() as s:
        person = await core_repo.person_by_telegram_id(s, MARIO)
        assert person is not None and person.language == "en"


async def test_an_expired_invite_is_said_so(db: Database) -> None:
    union_id, _ = await _union(db)
    async with db.transaction() as s:
        made = await registration.make_invite(
            s,
            union_id=union_id,
            municipality_id=0,
            role=None,
            telegram_user_id=GIULIA,
            bot_username="team_bot",
            now=NOW,
        )
        assert isinstance(made, InviteMade)
        later = NOW + rules.INVITE_VALIDITY + timedelta(seconds=1)
        expired = await registration.open_invite(
            s,
            token=made.link.rsplit("=", 1)[1],
            profile=profile(ANNA, "A"),
            chat_id=ANNA,
            now=later,
        )
        assert expired == InviteProblem(rules.InviteState.EXPIRED)
