"""Bad input against the spine: no crash, a clear answer, nothing half-saved."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from telegram import Update

from bot import callback_data as cb
from bot import conversations
from bot.context import BotContext
from bot.handlers.common import START_PAYLOAD_HOOK
from storage.models import Conversation, Member, OutboxStatus, Person
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakePress
from tests.fakes.tg_html import parse_html, utf16_len
from tests.reliability.world import outbox_rows, reports, seed_union

NASTY = [
    "<b>Sindaco</b> & Co",
    "a < b && c > d",
    "&amp; &lt; &#x27; &#60; & ; <",
    "Ünïcödé 🇮🇹⚡️👩‍👩‍👧‍👦 中文",
    "שלום עליכם مرحبا",  # right to left
    "\u202etxet desrever\u202c",
    "'; DROP TABLE person; --",
    "x" * 5000,
    "   ",
    "<a href='javascript:alert(1)'>qui</a>",
]

PAYLOADS = [
    "a" * 65,
    "a" * 64,
    "città-è-più",
    "🙂🙂",
    "abc def ghi",
    "'; DROP TABLE invite; --",
    "1 OR 1=1",
    "%00%0a",
    "<script>",
]


async def _count(bot: BotUnderTest, model: type) -> int:
    async with bot.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_start_with_any_payload_answers_and_writes_nothing(
    bot: BotUnderTest, payload: str
) -> None:
    """Registration validates the payload before any lookup: a clear answer, nothing saved."""
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send(f"/start {payload}")
    await bot.settle()
    assert "Questo link d'invito non è valido" in (fake.last_sent(anna).text or "")
    assert await _count(bot, Person) == 0
    assert await _count(bot, Member) == 0


async def test_start_payload_reaches_the_hook_verbatim(bot: BotUnderTest) -> None:
    """The hook gets exactly the first word; validating it is the hook's job (registration:
    `rules.is_valid_token` before any lookup)."""
    seen: list[str] = []

    async def hook(update: Update, context: BotContext, payload: str) -> None:
        seen.append(payload)

    bot.services.hooks[START_PAYLOAD_HOOK] = hook
    anna = bot.fake.add_user("Anna")
    for payload in PAYLOADS:
        await anna.send(f"/start {payload}")
    await bot.settle()
    assert seen == [p.split(" ")[0] for p in PAYLOADS]


@pytest.mark.parametrize("name", [*NASTY[:7], "N" * 64])
async def test_nasty_names_are_escaped_in_the_greeting(bot: BotUnderTest, name: str) -> None:
    fake = bot.fake
    user = fake.add_user(name[:64])
    await user.send("/start")
    await bot.settle()
    # The fake parses HTML as strictly as Telegram: a stray < or & would have been a 400.
    assert all(c.ok for c in fake.calls_of("sendMessage"))
    assert (fake.last_sent(user).text or "").startswith(f"Ciao {name[:64]}!")


@pytest.mark.parametrize("text", NASTY)
async def test_nasty_private_texts_get_a_clear_answer(bot: BotUnderTest, text: str) -> None:
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send(text)
    await bot.settle()
    assert (
        fake.last_sent(anna).text == "Non ho capito. Scrivi /aiuto per vedere che cosa puoi fare."
    )
    assert await _count(bot, Person) == 0


async def test_conversation_router_hands_nasty_text_over_intact(bot: BotUnderTest) -> None:
    received: list[str] = []

    async def echo(update: Update, context: BotContext, conv: Conversation) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        received.append(update.effective_message.text)
        shown = html.escape(update.effective_message.text[:200])
        await update.effective_message.reply_text(f"Ricevuto: <i>{shown}</i>")

    conversations.register_flow("rtest_echo", echo)
    anna = bot.fake.add_user("Anna")
    async with bot.db.transaction() as session:
        await core_repo.set_conversation(
            session,
            telegram_user_id=anna.id,
            chat_id=anna.id,
            flow="rtest_echo",
            step="any",
            data={},
            now=bot.clock.now(),
        )
    for text in NASTY:
        await anna.send(text)
        await bot.settle()
    assert received == NASTY
    assert len(bot.fake.sent_to(anna)) == len(NASTY)
    assert all(c.ok for c in bot.fake.calls_of("sendMessage"))


@pytest.mark.parametrize(
    "data",
    [
        "",
        ":",
        "lang:",
        "lang:set",
        "lang:set:",
        "lang:set:EN",
        "lang:set:\u00e8",
        "pick:x:1",
        "pick:team:-1",
        "pick:team:99999999999999",
        "a" * 64,
        "::::",
        "lang:set:it\n",
    ],
)
async def test_garbage_callback_data_is_answered_and_changes_nothing(
    bot: BotUnderTest, data: str
) -> None:
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/lingua")
    await bot.settle()
    menu = fake.last_sent(anna)
    # A press the fake knows (so it can be answered), carrying data no client would send.
    press = FakePress(id="garbage", user=anna, message=menu, data=data)
    fake._presses[press.id] = press
    await fake.inject_update(
        {
            "callback_query": {
                "id": press.id,
                "from": anna.to_api(),
                "message": menu.to_api(),
                "chat_instance": "1",
                "data": data,
            }
        }
    )
    await bot.settle()
    answer = await press.answered()
    assert (
        answer.text == "Questo pulsante non è più valido: usa i pulsanti del messaggio più recente."
        or answer.text is None
    )
    answers = [
        c
        for c in fake.calls_of("answerCallbackQuery")
        if c.params["callback_query_id"] == "garbage"
    ]
    assert [c.ok for c in answers] == [True]  # answered exactly once, the spinner stops
    assert await _count(bot, Person) == 0


async def test_report_with_nasty_names_and_many_rows_is_valid_and_short(
    bot: BotUnderTest,
) -> None:
    fake, clock = bot.fake, bot.clock
    world = await seed_union(bot.db, fake, clock.now(), members=0)
    async with bot.db.transaction() as session:
        for n in range(40):
            person = Person(
                telegram_user_id=10**9 + n,
                display_name=("<&> שלום 🇮🇹" * 20)[:128],
                reachable=False,
                created_at=clock.now(),
            )
            session.add(person)
            await session.flush()
            await outbox_repo.enqueue(
                session,
                dedup_key=f"x:{n}",
                chat_id=10**9 + n,
                method="sendMessage",
                payload={"text": "<b>Riunione</b> &amp; " + "😀" * 300},
                union_id=world.union_id,
                person_id=person.id,
                now=clock.now(),
            )
            row = (await outbox_repo.status_by_key_prefix(session, f"x:{n}"))[0]
            row.status = OutboxStatus.UNCERTAIN if n % 2 else OutboxStatus.FAILED
            row.error = "Forbidden: bot was blocked by the user" if n % 2 == 0 else "uncertain"
    await bot.tick()
    (report,) = reports(fake, world.coordinator)
    assert report is not None and utf16_len(report) < 4096
    assert "…e altri 10." in report
    assert all(r.reported_at is not None for r in await outbox_rows(bot.db, "x:"))


# --- property-based -----------------------------------------------------------------------


@given(
    st.one_of(
        st.none(), st.text(max_size=100), st.binary(max_size=80).map(lambda b: b.decode("latin-1"))
    )
)
def test_decode_never_raises_and_is_strict(data: str | None) -> None:
    decoded = cb.decode(data)
    if decoded is not None:
        assert data is not None and len(data.encode()) <= cb.MAX_BYTES
        # Only ASCII letters, digits, _ . - and colons: no newline, space or quote slips in.
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+(:[A-Za-z0-9_.\-]+)+", data)
        assert cb.encode(decoded.area, decoded.action, *decoded.args) == data
        for n, arg in enumerate(decoded.args):
            value = decoded.int_arg(n)
            assert value is None or int(arg) == value >= 0


@given(st.text(alphabet="ab:\n \t'\"", max_size=20))
def test_decode_rejects_whitespace_and_quotes(data: str) -> None:
    decoded = cb.decode(data)
    assert decoded is None or not any(c in data for c in "\n \t'\"")


_PART = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_.-", min_size=1, max_size=12)


@given(_PART, _PART, st.lists(st.one_of(_PART, st.integers(0, 10**12)), max_size=3))
def test_encode_decode_round_trip(area: str, action: str, args: list[object]) -> None:
    try:
        data = cb.encode(area, action, *args)
    except cb.CallbackDataError:
        assert len(":".join([area, action, *map(str, args)]).encode()) > cb.MAX_BYTES
        return
    decoded = cb.decode(data)
    assert decoded is not None
    assert (decoded.area, decoded.action, decoded.args) == (area, action, tuple(map(str, args)))


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_escaped_user_text_survives_telegrams_html_parser(name: str) -> None:
    """Any name, escaped as the bot does, is shown verbatim and never breaks the message."""
    rendered = f"Ciao {html.escape(name)}! <b>Team</b>"
    plain, _entities = parse_html(rendered)
    assert plain == f"Ciao {name}! Team"
