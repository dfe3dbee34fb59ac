"""The use cases around the tables — announcements and their delivery (bot.services
.announcements), the shared folders, the settings (bot.services.settings) — without Telegram,
on both databases."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot import delivery
from bot.services import announcements, settings
from storage.db import Database
from storage.models import Conversation, OutboxMessage, OutboxStatus, TableKind, Union
from storage.repositories import summaries as repo
from tests.factories import NOW, World, make_world


def _tg(world: World, key: str) -> int:
    telegram_id = world.people[key].telegram_user_id
    assert telegram_id is not None
    return telegram_id


COORD = "Carla Coordinatrice"


async def _copies(db: Database, prefix: str) -> list[OutboxMessage]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.dedup_key.startswith(prefix))
            .order_by(OutboxMessage.id)
        )
        return list(rows.scalars())


def test_the_report_prefix_is_the_one_delivery_offers_again() -> None:
    assert announcements.REPORT_PREFIX == delivery.ANNOUNCEMENT_REPORT_PREFIX
    assert announcements.REPORT_PREFIX in delivery.REPORT_PREFIXES


def test_what_cannot_be_drafted() -> None:
    assert announcements.text_problem("") == "empty"
    assert announcements.text_problem("x" * (announcements.MAX_ANNOUNCEMENT + 1)) == "too_long"
    assert announcements.text_problem("x" * announcements.MAX_ANNOUNCEMENT) is None


async def test_an_announcement_from_draft_to_report(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session, comuni=2)
        coordinator = world.members[COORD].id
        refused = await announcements.draft_announcement(
            session, member_id=world.members["sindaco:0"].id, text="Ciao", now=NOW
        )
        assert refused == announcements.AnnouncementRefused("not_coordinator")
        drafted = await announcements.draft_announcement(
            session, member_id=coordinator, text="Riunione giovedì", now=NOW
        )
        assert isinstance(drafted, announcements.Drafted)
        # A retry of the draft moments later shows the same draft.
        again = await announcements.draft_announcement(
            session, member_id=coordinator, text="riunione  GIOVEDÌ", now=NOW
        )
        assert isinstance(again, announcements.Drafted)
        assert again.announcement_id == drafted.announcement_id
    aid, user = drafted.announcement_id, _tg(world, COORD)
    async with db.transaction() as session:
        menu = await announcements.announcement_menu(
            session, announcement_id=aid, telegram_user_id=user, comuni=True
        )
        assert isinstance(menu, announcements.AnnouncementMenu)
        assert [name for _id, name in menu.comuni or ()] == ["Comune 00", "Comune 01"]
        not_yours = await announcements.send_announcement(
            session,
            announcement_id=aid,
            telegram_user_id=_tg(world, "sindaco:0"),
            target="all",
            now=NOW,
            language="it",
        )
        assert not_yours == announcements.AnnouncementRefused("not_coordinator")
        forged = await announcements.send_announcement(
            session,
            announcement_id=aid,
            telegram_user_id=user,
            target="c999",
            now=NOW,
            language="it",
        )
        assert forged == announcements.AnnouncementRefused("invalid")
        comune = world.comuni[1].id
        sending = await announcements.send_announcement(
            session,
            announcement_id=aid,
            telegram_user_id=user,
            target=f"c{comune}",
            now=NOW,
            language="it",
        )
    assert sending == announcements.AnnouncementSending(
        "comune", "Comune 01", 3, "Riunione giovedì"
    )
    copies = await _copies(db, announcements.copies_prefix(aid))
    assert sorted(c.person_id or 0 for c in copies) == sorted(
        world.people[f"{k}:1"].id for k in ("sindaco", "assessore", "tecnico")
    )
    assert "Avviso dal coordinamento" in copies[0].payload["text"]
    async with db.transaction() as session:
        sent_twice = await announcements.send_announcement(
            session,
            announcement_id=aid,
            telegram_user_id=user,
            target="all",
            now=NOW,
            language="it",
        )
        assert sent_twice == announcements.AnnouncementRefused("already_sent")
        repeated = await announcements.draft_announcement(
            session, member_id=coordinator, text="Riunione giovedì", now=NOW
        )
        assert repeated == announcements.AlreadySent("comune", "Comune 01", NOW, "Europe/Rome")
        # Nothing settled yet: no report; then one copy fails and the sender is told who.
        assert (
            await announcements.report_announcements(session, now=NOW, default_language="it") == 0
        )
        for row, _name in await repo.outbox_rows(session, announcements.copies_prefix(aid)):
            failed = row.person_id == world.people["tecnico:1"].id
            row.status = OutboxStatus.FAILED if failed else OutboxStatus.SENT
    async with db.transaction() as session:
        assert (
            await announcements.report_announcements(session, now=NOW, default_language="it") == 1
        )
        assert (
            await announcements.report_announcements(session, now=NOW, default_language="it") == 0
        )
        status = await announcements.delivery_status(session, member_id=coordinator)
        refused_status = await announcements.delivery_status(
            session, member_id=world.members["sindaco:0"].id
        )
    (report,) = await _copies(db, f"{announcements.REPORT_PREFIX}{aid}")
    assert "Avviso consegnato a 2 di 3." in report.payload["text"]
    assert "Non raggiungibili: Tecnico 1." in report.payload["text"]
    assert refused_status == announcements.StatusRefused()
    assert isinstance(status, announcements.Deliveries)
    (item,) = status.items
    assert (item.audience, item.comune, item.delivered, item.total, item.unreachable) == (
        "comune",
        "Comune 01",
        2,
        3,
        ("Tecnico 1",),
    )


async def test_a_draft_cancelled_is_not_sent(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session, comuni=1)
        drafted = await announcements.draft_announcement(
            session, member_id=world.members[COORD].id, text="Prova", now=NOW
        )
        assert isinstance(drafted, announcements.Drafted)
        aid, user = drafted.announcement_id, _tg(world, COORD)
        cancelled = await announcements.cancel_announcement(
            session, announcement_id=aid, telegram_user_id=user, now=NOW
        )
        assert cancelled == announcements.AnnouncementCancelled(aid)
        assert await announcements.cancel_announcement(
            session, announcement_id=aid, telegram_user_id=user, now=NOW
        ) == announcements.AnnouncementRefused("already_sent")
        status = await announcements.delivery_status(session, member_id=world.members[COORD].id)
    assert status == announcements.Deliveries("Europe/Rome", ())
    assert await _copies(db, "ann:") == []
    # The political table includes the coordinators: all of it but the sender.
    async with db.transaction() as session:
        drafted = await announcements.draft_announcement(
            session, member_id=world.members[COORD].id, text="Seconda prova", now=NOW
        )
        assert isinstance(drafted, announcements.Drafted)
        sending = await announcements.send_announcement(
            session,
            announcement_id=drafted.announcement_id,
            telegram_user_id=user,
            target="political",
            now=NOW,
            language="it",
        )
    assert isinstance(sending, announcements.AnnouncementSending) and sending.queued == 2
    copies = await _copies(db, announcements.copies_prefix(drafted.announcement_id))
    assert sorted(c.chat_id for c in copies) == sorted(
        _tg(world, key) for key in ("sindaco:0", "assessore:0")
    )


async def test_shared_folders_are_the_coordinators_to_change(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session, comuni=1)
    union, user, chat = world.union.id, _tg(world, COORD), _tg(world, COORD)
    async with db.transaction() as session:
        refused = await announcements.ask_for_link(
            session, union_id=union, telegram_user_id=_tg(world, "sindaco:0"), chat_id=1, now=NOW
        )
        assert refused == announcements.FoldersRefused()
        asked = await announcements.ask_for_link(
            session, union_id=union, telegram_user_id=user, chat_id=chat, now=NOW
        )
        assert asked == announcements.LinkAsked()
    async with db.transaction() as session:
        (conversation,) = (await session.execute(select(Conversation))).scalars()
        assert (conversation.flow, conversation.data) == (
            announcements.ADD_LINK_FLOW,
            {"union_id": union},
        )

    async def add(text: str) -> object:
        async with db.transaction() as session:
            return await announcements.add_link(
                session, union_id=union, telegram_user_id=user, chat_id=chat, text=text, now=NOW
            )

    assert await add("Cartella ftp://example.org") == announcements.BadLink()
    added = await add("Cartella PAES https://example.org/paes")
    assert isinstance(added, announcements.LinkAdded) and added.added
    assert [(link.title, link.url) for link in added.folders.links] == [
        ("Cartella PAES", "https://example.org/paes")
    ]
    again = await add("Doppio https://example.org/paes")
    assert isinstance(again, announcements.LinkAdded) and not again.added
    async with db.transaction() as session:
        assert list((await session.execute(select(Conversation))).scalars()) == []
        shown = await announcements.shared_folders(
            session, member_id=world.members["sindaco:0"].id, private=True
        )
        assert shown.manage is False and len(shown.links) == 1
        link_id = shown.links[0].link_id
        removed = await announcements.remove_link(
            session, union_id=union, telegram_user_id=user, link_id=link_id
        )
        assert isinstance(removed, announcements.LinkRemoved) and removed.removed
        assert removed.folders.links == () and removed.folders.manage
        gone = await announcements.remove_link(
            session, union_id=union, telegram_user_id=user, link_id=link_id
        )
        assert isinstance(gone, announcements.LinkRemoved) and not gone.removed


async def test_settings_change_within_their_bounds(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session, comuni=1)
        technical = world.links[TableKind.TECHNICAL].id
        political = world.links[TableKind.POLITICAL].id
    union, user = world.union.id, _tg(world, COORD)

    async def change(**kwargs: object) -> settings.SettingsPage:
        async with db.transaction() as session:
            page = await settings.change_setting(
                session,
                union_id=union,
                telegram_user_id=user,
                change=settings.Change(**kwargs),  # type: ignore[arg-type]
            )
        assert isinstance(page, settings.SettingsPage)
        return page

    async with db.transaction() as session:
        assert (
            await settings.settings_menu(session, member_id=world.members["sindaco:0"].id)
            == settings.SettingsRefused()
        )
        refused = await settings.change_setting(
            session,
            union_id=union,
            telegram_user_id=_tg(world, "sindaco:0"),
            change=settings.Change("meeting", field="sh", op="up"),
        )
        assert refused == settings.SettingsRefused()
    page = await change(kind="meeting", field="sh", op="up")
    assert (page.section, page.toast, page.meetings and page.meetings.slot_hour) == (
        "meetings",
        "saved",
        18,
    )
    page = await change(kind="meeting", field="sh", op="show")
    assert page.toast is None and page.meetings and page.meetings.slot_hour == 18
    page = await change(kind="meeting", field="du", op="down")
    assert page.meetings and page.meetings.duration_minutes == 90
    page = await change(kind="weekday", day=4)
    assert page.meetings and page.meetings.weekdays == "1,3,4"
    page = await change(kind="round", field="ue", op="toggle")
    assert (page.section, page.rounds and page.rounds.enabled) == ("rounds", False)
    page = await change(kind="round", field="fd", op="up")
    assert page.rounds and page.rounds.fallback_day == 21
    page = await change(kind="capture", link_id=political)
    assert (page.section, page.toast) == ("hashtag", "invalid")
    page = await change(kind="capture", link_id=technical)
    assert page.toast == "saved"
    assert [link.hashtag_capture for link in page.links if link.id == technical] == [True]
    async with db.transaction() as session:
        shown = await settings.open_section(
            session, union_id=union, telegram_user_id=user, section="meetings"
        )
        assert isinstance(shown, settings.SettingsPage) and shown.meetings
        assert (shown.meetings.slot_hour, shown.meetings.duration_minutes) == (18, 90)


async def test_the_paes_date_is_written_then_cleared(db: Database) -> None:
    async with db.transaction() as session:
        world = await make_world(session, comuni=1)
    union, user = world.union.id, _tg(world, COORD)
    async with db.transaction() as session:
        asked = await settings.ask_paes_date(
            session, union_id=union, telegram_user_id=user, chat_id=user, now=NOW
        )
        assert asked == settings.DateAsked()

    async def write(text: str, who: int = user) -> object:
        async with db.transaction() as session:
            return await settings.set_paes_date(
                session, union_id=union, telegram_user_id=who, chat_id=who, text=text, now=NOW
            )

    assert await write("marzo 2024") == settings.BadDate()
    tomorrow = (NOW + timedelta(days=1)).strftime("%d/%m/%Y")
    assert await write(tomorrow) == settings.BadDate()
    assert await write("15/03/1989") == settings.BadDate()
    assert await write("15/03/2024", _tg(world, "sindaco:0")) == settings.SettingsRefused()
    page = await write("15/03/2024")
    assert isinstance(page, settings.SettingsPage) and page.section == "paes"
    async with db.transaction() as session:
        stored = await session.get(Union, union)
        assert stored is not None and stored.paes_approved_on == date(2024, 3, 15)
        assert list((await session.execute(select(Conversation))).scalars()) == []
        cleared = await settings.change_setting(
            session, union_id=union, telegram_user_id=user, change=settings.Change("paes_clear")
        )
        assert isinstance(cleared, settings.SettingsPage) and cleared.toast == "cleared"
        assert cleared.union.paes_approved_on is None
