"""A decision's buttons count in a group only on a message the decision was posted as.

The card of an open decision goes to the political group (with the summary); once closed, the
outcome goes to the technical group with «Segna come attuata». A press forged on any other
message of the same Union's groups (callback data can be forged, the pressed message cannot) is
refused and changes nothing; a press on the decision's own messages works. A card whose send
ended `uncertain` (the bot never learnt its id) is adopted by its first press, as a poll's
message is, and the decision's edits reach it from then on.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from storage.models import Decision, DecisionMessage, DecisionStatus, DecisionVote
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage
from tests.security.matrix import NOT_ITS_MESSAGE
from tests.security.world import World, build_world, diff, snapshot


async def _card(world: World) -> FakeMessage:
    """The round's deadline passes: the summary posts the open decision's card in the
    political group (the real path: outbox, then the message id recorded on delivery)."""
    await world.bot.advance(timedelta(days=5))
    await world.bot.settle()
    vote = f"dec:vote:{world.a.decision_id}:approve"
    cards = [
        m
        for m in world.bot.fake.sent_to(world.chats["political"])
        if any(data == vote for row in m.buttons for _text, data in row)
    ]
    assert len(cards) == 1, world.bot.fake.transcript()
    return cards[0]


async def _count(bot: BotUnderTest, model: type) -> int:
    async with bot.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _decision(bot: BotUnderTest, decision_id: int) -> Decision:
    async with bot.db.transaction() as session:
        decision = await session.get(Decision, decision_id)
        assert decision is not None
        return decision


async def test_a_forged_press_in_the_technical_group_is_refused(bot: BotUnderTest) -> None:
    """The Sindaco votes and the coordinator closes, by forged data, on bot messages of the
    technical group (the decision was never posted there): refused, nothing changes. The same
    presses on the card in the political group work, and its outcome card in the technical
    group takes «Segna come attuata»."""
    world = await build_world(bot)
    card = await _card(world)
    dec = world.a.decision_id
    technical = world.chats["technical"]
    anchor = world.anchors[("coord", "technical")]
    for caller, data in (
        ("sindaco", f"dec:vote:{dec}:approve"),
        ("assessore", f"dec:vote:{dec}:reject"),
        ("coord", f"dec:close:{dec}"),
        ("coord", f"dec:outcome:{dec}:approved"),
        ("coord", f"dec:done:{dec}"),
        ("coord", f"dec:done_listed:{dec}"),
    ):
        before = await snapshot(bot)
        press = await world.users[caller].press_forged(anchor, data)
        toast = (await press.answered()).text or ""
        await bot.settle()
        assert toast.startswith(NOT_ITS_MESSAGE), (caller, data, toast)
        assert diff(before, await snapshot(bot)) == "", (caller, data)
    # Nor does the card's own data work on another bot message of the political group.
    before = await snapshot(bot)
    press = await world.users["sindaco"].press_forged(
        world.anchors[("sindaco", "political")], f"dec:vote:{dec}:approve"
    )
    assert ((await press.answered()).text or "").startswith(NOT_ITS_MESSAGE)
    await bot.settle()
    assert diff(before, await snapshot(bot)) == ""

    # On the card itself: the Sindaco's vote counts, the coordinator closes with an outcome.
    press = await world.users["sindaco"].press(card, f"dec:vote:{dec}:approve")
    assert (await press.answered()).text == "Voto registrato: Approva."
    press = await world.users["coord"].press(card, f"dec:close:{dec}")
    assert (await press.answered()).text == "Scegli l'esito."
    await bot.settle()
    press = await world.users["coord"].press(card, f"dec:outcome:{dec}:approved")
    assert ((await press.answered()).text or "").startswith("Esito registrato")
    await bot.settle()
    await bot.tick()  # the outbox sends the outcome to the technical group
    assert (await _decision(bot, dec)).status == DecisionStatus.APPROVED
    outcome = bot.fake.last_sent(technical)
    assert "Decisione del tavolo politico" in (outcome.text or ""), bot.fake.transcript()
    assert outcome.buttons == [[("✔️ Segna come attuata", f"dec:done:{dec}")]]
    # A forged «attuata» on another message of the technical group is still refused…
    press = await world.users["coord"].press_forged(anchor, f"dec:done:{dec}")
    assert ((await press.answered()).text or "").startswith(NOT_ITS_MESSAGE)
    assert (await _decision(bot, dec)).status == DecisionStatus.APPROVED
    # … and works on the outcome the decision was posted as there.
    press = await world.users["coord"].press(outcome, f"dec:done:{dec}")
    assert ((await press.answered()).text or "").startswith("Segnata come attuata")
    await bot.settle()
    assert (await _decision(bot, dec)).status == DecisionStatus.DONE
    assert outcome.buttons == []  # the edit reached the outcome message


async def test_a_card_whose_send_ended_uncertain_is_adopted(bot: BotUnderTest) -> None:
    """The card reached the political group but its id was never recorded: the first press on
    it counts and adopts it, so the tally edit follows; the same data forged on another bot
    message of the group adopts nothing."""
    world = await build_world(bot)
    card = await _card(world)
    dec = world.a.decision_id
    async with bot.db.transaction() as session:
        await session.execute(delete(DecisionMessage))
    press = await world.users["sindaco"].press(card, f"dec:vote:{dec}:approve")
    assert (await press.answered()).text == "Voto registrato: Approva."
    await bot.settle()
    await bot.run_jobs()
    async with bot.db.transaction() as session:
        rows = (await session.execute(select(DecisionMessage))).scalars().all()
        assert [(r.chat_id, r.message_id) for r in rows] == [
            (world.chats["political"].id, card.message_id)
        ]
    assert await _count(bot, DecisionVote) == 1
    assert "✅" in (card.text or "") and "Approva" in (card.text or ""), card.text
    # Another bot message of the group (an /aiuto answer) is no card by forged data.
    press = await world.users["assessore"].press_forged(
        world.anchors[("assessore", "political")], f"dec:vote:{dec}:reject"
    )
    assert ((await press.answered()).text or "").startswith(NOT_ITS_MESSAGE)
    assert await _count(bot, DecisionMessage) == 1
    assert await _count(bot, DecisionVote) == 1


async def test_the_pending_list_works_where_it_is_shown_and_is_not_adopted(
    bot: BotUnderTest,
) -> None:
    """/decisione in the political group lists the decisions still to carry out, one button
    each: pressed on that list it marks the decision done; the list carries several decisions'
    buttons, so it never becomes one decision's message."""
    world = await build_world(bot)
    dec = world.a.decision_id
    async with bot.db.transaction() as session:
        decision = await session.get(Decision, dec)
        assert decision is not None
        decision.status = DecisionStatus.APPROVED
    political = world.chats["political"]
    await world.users["coord"].send("/decisione", chat=political)
    await bot.settle()
    listing = bot.fake.last_sent(political)
    assert [data for row in listing.buttons for _text, data in row] == [f"dec:done_listed:{dec}"]
    press = await world.users["coord"].press(listing, f"dec:done_listed:{dec}")
    assert ((await press.answered()).text or "").startswith("Segnata come attuata")
    await bot.settle()
    assert (await _decision(bot, dec)).status == DecisionStatus.DONE
    assert await _count(bot, DecisionMessage) == 0
