"""A poll's controls work in private only, behind «⚙️ Gestisci».

Under the poll's message in its groups there is one control, «⚙️ Gestisci»: it sends the panel
(«Chi manca?», «Aggiungi data», «Proroga», «Chiudi ora», «Annulla sondaggio») to the coordinator
in private, and their questions and confirmations are answered there. Forged in any group — on
the poll's own message or another — every control of the panel and every confirmation is
refused and changes nothing; «⚙️ Gestisci» itself only ever writes to the presser, after the
server re-checked who they are.
"""

from __future__ import annotations

from bot.context import services_of
from bot.services.meetings import enqueue_poll_posts
from storage.models import MeetingPoll, PollStatus
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage
from tests.security.matrix import COORD_OR_PROPOSER, PRIVATE_BUTTON
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
    manage = f"mtg:manage:{world.a.poll_id}"
    posted = {}
    for name in ("political", "technical"):
        (message,) = [
            m
            for m in bot.fake.sent_to(world.chats[name])
            if any(data == manage for row in m.buttons for _text, data in row)
        ]
        posted[name] = message
    return posted


async def _status(bot: BotUnderTest, poll_id: int) -> PollStatus:
    async with bot.db.transaction() as session:
        poll = await session.get(MeetingPoll, poll_id)
        assert poll is not None
        return poll.status


async def test_the_controls_work_only_in_private(bot: BotUnderTest) -> None:
    world = await build_world(bot)
    posted = await _poll_messages(world)
    poll = world.a.poll_id
    coord = world.users["coord"]
    assert not any(
        (data or "").startswith(f"mtg:{verb}:")
        for row in posted["political"].buttons
        for _text, data in row
        for verb in ("missing", "close", "cancel", "extend", "add_date")
    )

    # Forged in the groups — on the poll's own message and on another — refused, nothing
    # changes.
    for chat in ("political", "technical"):
        for anchor in (posted[chat], world.anchors[("coord", chat)]):
            for data in (
                f"mtg:missing:{poll}",
                f"mtg:close:{poll}",
                f"mtg:cancel:{poll}",
                f"mtg:extend:{poll}",
                f"mtg:add_date:{poll}",
                f"mtg:confirm_close:{poll}",
                f"mtg:confirm_cancel:{poll}",
                f"mtg:extend_by:{poll}:1",
            ):
                before = await snapshot(bot)
                answer = await (await coord.press_forged(anchor, data)).answered()
                await bot.settle()
                assert answer.show_alert and (answer.text or "").startswith(PRIVATE_BUTTON), (
                    chat,
                    data,
                    answer,
                )
                assert diff(before, await snapshot(bot)) == "", (chat, data)
    assert await _status(bot, poll) == PollStatus.OPEN

    # A mayor's «⚙️ Gestisci» is refused with who may, and nothing reaches their private chat.
    sindaco = world.users["sindaco"]
    sent_before = len(bot.fake.sent_to(sindaco.private_chat))
    answer = await (await sindaco.press(posted["political"], f"mtg:manage:{poll}")).answered()
    assert answer.show_alert and (answer.text or "").startswith(COORD_OR_PROPOSER)
    await bot.settle()
    assert len(bot.fake.sent_to(sindaco.private_chat)) == sent_before

    # The real way: «⚙️ Gestisci» under the poll in the technical group sends the panel in
    # private, where «Chiudi ora» asks and «Sì, chiudi» closes it.
    press = await coord.press(posted["technical"], f"mtg:manage:{poll}")
    assert (
        await press.answered()
    ).text == "Ti ho scritto in privato: lì trovi i pulsanti per gestire il sondaggio."
    await bot.settle()
    panel = bot.fake.last_sent(coord.private_chat)
    await (await coord.press(panel, f"mtg:close:{poll}")).answered()
    await bot.settle()
    confirmation = bot.fake.last_sent(coord.private_chat)
    assert confirmation.buttons == [[("Sì, chiudi", f"mtg:confirm_close:{poll}")]]
    press = await coord.press(confirmation, f"mtg:confirm_close:{poll}")
    assert ((await press.answered()).text or "").startswith("Sondaggio chiuso")
    await bot.settle()
    assert await _status(bot, poll) == PollStatus.NO_DATE  # nobody had voted
