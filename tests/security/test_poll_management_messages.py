"""A poll's management row counts in a group only on a message of the poll.

«Chi manca?», «Aggiungi data», «Proroga», «Chiudi ora» and «Annulla sondaggio» sit under the
poll's message in its groups; their confirmations («Sì, chiudi», a new deadline) are sent to the
coordinator in private. The same data forged on any other message of a group linked to the Union
is refused and changes nothing, and a confirmation forged in a group is refused too; the real
buttons work (`bot/scope.py:pressed_where`, the check votes and decisions use).
"""

from __future__ import annotations

from bot.context import services_of
from bot.services.meetings import enqueue_poll_posts
from storage.models import MeetingPoll, PollStatus
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage
from tests.security.matrix import NOT_ITS_MESSAGE, PRIVATE_BUTTON
from tests.security.world import World, build_world, diff, snapshot


async def _poll_messages(world: World) -> dict[str, FakeMessage]:
    """The world's open poll (both tables) posted to the political and the technical group
    the real way: queued in the outbox, sent by the tick, its message ids recorded."""
    bot = world.bot
    async with bot.db.transaction() as session:
        poll = await session.get(MeetingPoll, world.a.poll_id)
        assert poll is not None
        await enqueue_poll_posts(
            session,
            poll=poll,
            now=bot.clock.now(),
            language=services_of(bot.application).settings.default_language,
        )
    await bot.tick()
    who = f"mtg:missing:{world.a.poll_id}"
    posted = {}
    for name in ("political", "technical"):
        (message,) = [
            m
            for m in bot.fake.sent_to(world.chats[name])
            if any(data == who for row in m.buttons for _text, data in row)
        ]
        posted[name] = message
    return posted


async def _status(bot: BotUnderTest, poll_id: int) -> PollStatus:
    async with bot.db.transaction() as session:
        poll = await session.get(MeetingPoll, poll_id)
        assert poll is not None
        return poll.status


async def test_the_row_counts_only_on_the_polls_messages(bot: BotUnderTest) -> None:
    world = await build_world(bot)
    posted = await _poll_messages(world)
    poll = world.a.poll_id
    coord = world.users["coord"]

    # Forged on other bot messages of the Union's groups: refused, nothing changes.
    for chat in ("political", "technical"):
        for data in (
            f"mtg:missing:{poll}",
            f"mtg:close:{poll}",
            f"mtg:cancel:{poll}",
            f"mtg:extend:{poll}",
            f"mtg:add_date:{poll}",
        ):
            before = await snapshot(bot)
            press = await coord.press_forged(world.anchors[("coord", chat)], data)
            toast = (await press.answered()).text or ""
            await bot.settle()
            assert toast.startswith(NOT_ITS_MESSAGE), (chat, data, toast)
            assert diff(before, await snapshot(bot)) == "", (chat, data)
    # The private confirmations, forged in a group (even on the poll's own message): refused.
    for data in (
        f"mtg:confirm_close:{poll}",
        f"mtg:confirm_cancel:{poll}",
        f"mtg:extend_by:{poll}:1",
    ):
        before = await snapshot(bot)
        press = await coord.press_forged(posted["technical"], data)
        toast = (await press.answered()).text or ""
        await bot.settle()
        assert toast.startswith(PRIVATE_BUTTON), (data, toast)
        assert diff(before, await snapshot(bot)) == "", data
    assert await _status(bot, poll) == PollStatus.OPEN

    # The real buttons: «Chi manca?» under the poll in the political group answers…
    press = await coord.press(posted["political"], f"mtg:missing:{poll}")
    assert "Bibbiano" in ((await press.answered()).text or ""), bot.fake.transcript()
    # … and «Chiudi ora» under the poll in the technical group asks in private, where
    # «Sì, chiudi» closes it.
    press = await coord.press(posted["technical"], f"mtg:close:{poll}")
    assert (await press.answered()).text == "Ti ho scritto in privato."
    await bot.settle()
    confirmation = bot.fake.last_sent(coord.private_chat)
    assert confirmation.buttons == [[("Sì, chiudi", f"mtg:confirm_close:{poll}")]]
    press = await coord.press(confirmation, f"mtg:confirm_close:{poll}")
    assert ((await press.answered()).text or "").startswith("Sondaggio chiuso")
    await bot.settle()
    assert await _status(bot, poll) == PollStatus.NO_DATE  # nobody had voted
