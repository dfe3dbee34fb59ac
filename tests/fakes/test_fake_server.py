"""The fake Bot API server against the real python-telegram-bot, and its validations."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.fixtures import application_builder, running_application
from tests.fakes.telegram_server import FakeTelegram, RateLimits

YES_NO = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("✅ Sì", callback_data="vote:1:yes"),
            InlineKeyboardButton("❌ No", callback_data="vote:1:no"),
        ]
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    name = html.escape(update.effective_user.full_name)
    args = " ".join(context.args or [])
    await update.effective_message.reply_text(
        f"Benvenuto <b>{name}</b>! <i>{html.escape(args)}</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=YES_NO,
    )


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    answer = "Sì" if query.data.endswith("yes") else "No"
    await query.answer(f"Registrato: {answer}")
    await query.edit_message_text(f"Hai risposto: {answer}", reply_markup=YES_NO)


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    file = await message.document.get_file()
    data = await file.download_as_bytearray()
    await message.reply_document(
        bytes(data).upper(), filename="copia.txt", caption=f"{len(data)} byte ricevuti"
    )


async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("pong")


async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await asyncio.sleep(0.3)  # work without any HTTP request: settle() must still wait
    await update.effective_message.reply_text("fatto")


def build_app(fake: FakeTelegram, events: list[Any] | None = None) -> Any:
    app = application_builder(fake).build()

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if events is None:
            return
        if update.my_chat_member is not None:
            cmu = update.my_chat_member
            events.append((cmu.chat.id, cmu.old_chat_member.status, cmu.new_chat_member.status))
        elif update.effective_message and update.effective_message.migrate_to_chat_id:
            events.append(("migrate", update.effective_message.migrate_to_chat_id))

    app.add_handler(ChatMemberHandler(record, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, record))
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("ping", ping))
    app.add_handler(CommandHandler("lento", slow))
    app.add_handler(CallbackQueryHandler(vote))
    app.add_handler(MessageHandler(filters.Document.ALL, document))
    return app


async def test_ptb_end_to_end(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    mario = fake.add_user("Mario", "Rossi", username="mrossi")
    events: list[Any] = []
    async with running_application(fake, build_app(fake, events)):
        await mario.send("/start abc")
        await fake.settle()
        [welcome] = fake.sent_to(mario)
        assert welcome.text == "Benvenuto Mario Rossi! abc"
        assert welcome.entities[0]["type"] == "bold"
        assert welcome.buttons == [[("✅ Sì", "vote:1:yes"), ("❌ No", "vote:1:no")]]

        press = await mario.press(welcome, "✅ Sì")
        answer = await press.answered()
        assert answer.text == "Registrato: Sì"
        await fake.settle()
        assert welcome.text == "Hai risposto: Sì"
        assert welcome.history == ["Benvenuto Mario Rossi! abc"]

        await mario.send_document("note.txt", b"ciao", "text/plain", caption="eccolo")
        await fake.settle()
        reply = fake.last_sent(mario)
        assert reply.document is not None
        assert reply.document.content == b"CIAO"
        assert reply.caption == "4 byte ricevuti"

        await mario.send("/lento")
        await fake.settle()
        assert fake.last_sent(mario).text == "fatto"

        group = fake.create_group("Tavolo politico", mario)
        await fake.add_bot_to_group(group, by=mario)
        await mario.send("/ping", chat=group)
        await mario.send("chiacchiere", chat=group)  # privacy mode: not delivered
        await fake.settle()
        assert [m.text for m in fake.sent_to(group)] == ["pong"]
        assert fake.messages(group)[1].text == "/ping@TeamEnergiaTestBot"

        new_id = await fake.migrate_to_supergroup(group)
        await mario.block_bot()
        await fake.settle()
        assert events == [
            (group.id, "left", "member"),
            ("migrate", new_id),
            (mario.id, "member", "kicked"),
        ]

    transcript = fake.transcript()
    assert "[privata · Mario Rossi] Mario Rossi: /start abc" in transcript
    assert "    [✅ Sì] [❌ No]" in transcript
    assert "Mario Rossi preme «✅ Sì»" in transcript
    assert "    ↳ avviso: «Registrato: Sì»" in transcript
    assert "🤖 Bot ✏️ (modifica msg 2): Hai risposto: Sì" in transcript
    assert "📎 note.txt (4 B)" in transcript
    assert "[Tavolo politico] 🤖 Bot (↩️ msg 2): pong" in transcript


async def test_updates_confirmed_and_allowed_updates_remembered(
    fake_telegram: FakeTelegram,
) -> None:
    fake = fake_telegram
    mario = fake.add_user("Mario")
    await mario.send("uno")
    async with httpx.AsyncClient(base_url=f"{fake.base_url}{fake.token}/") as client:
        body = (
            await client.post("getUpdates", json={"allowed_updates": ["callback_query"]})
        ).json()
        assert body == {"ok": True, "result": []}
        await mario.send("due")  # dropped: not allowed
        await fake.inject_update({"update_id": 5, "callback_query": {"id": "x"}})
        await fake.inject_update({"update_id": 5, "callback_query": {"id": "x"}})
        body = (await client.post("getUpdates", data={"timeout": "0"})).json()
        assert [u["update_id"] for u in body["result"]] == [5, 5]
        body = (await client.post("getUpdates", data={"offset": "6", "timeout": "0"})).json()
        assert body["result"] == []


async def test_long_poll_wakes_up_on_update(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    mario = fake.add_user("Mario")
    async with httpx.AsyncClient(base_url=f"{fake.base_url}{fake.token}/") as client:
        poll = asyncio.create_task(client.post("getUpdates", data={"timeout": "5"}))
        await asyncio.sleep(0.1)
        assert not poll.done()
        await mario.send("ciao")
        body = (await asyncio.wait_for(poll, 2)).json()
        assert body["result"][0]["message"]["text"] == "ciao"


async def api(fake: FakeTelegram, method: str, **params: Any) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.base_url}{fake.token}/{method}", json=params)
        body: dict[str, Any] = response.json()
        assert response.status_code == (200 if body["ok"] else body["error_code"])
        return body


async def started_user(fake: FakeTelegram) -> int:
    user = fake.add_user("Anna", "Bianchi")
    user.has_started = True
    return user.id


async def test_envelope_token_and_unknown_methods(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    me = await api(fake, "getMe")
    assert me["result"]["username"] == "TeamEnergiaTestBot"
    assert me["result"]["id"] == 123456
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{fake.base_url}999:wrong/getMe")
        assert (r.status_code, r.json()["description"]) == (401, "Unauthorized")
    assert (await api(fake, "noSuchMethod"))["error_code"] == 404
    body = await api(fake, "sendPoll", chat_id=1, question="q", options=[{"text": "a"}])
    assert body["description"] == "Bad Request: method not implemented in fake"


async def test_validation_errors(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    chat_id = await started_user(fake)

    body = await api(fake, "sendMessage", chat_id=chat_id, text="x" * 4097)
    assert body["description"] == "Bad Request: message is too long"
    assert (await api(fake, "sendMessage", chat_id=chat_id, text="x" * 4096))["ok"]
    # counted after entity parsing, in UTF-16 code units
    assert (
        await api(
            fake,
            "sendMessage",
            chat_id=chat_id,
            text="<b>" + "x" * 4096 + "</b>",
            parse_mode="HTML",
        )
    )["ok"]
    body = await api(fake, "sendMessage", chat_id=chat_id, text="😀" * 2049)
    assert body["description"] == "Bad Request: message is too long"

    for bad in ["a < b", "Tom & Jerry", "<b>x", "<b>x</i>", "<div>x</div>", "<span>x</span>"]:
        body = await api(fake, "sendMessage", chat_id=chat_id, text=bad, parse_mode="HTML")
        assert body["description"].startswith("Bad Request: can't parse entities: "), bad
    ok = await api(
        fake,
        "sendMessage",
        chat_id=chat_id,
        parse_mode="HTML",
        text='<a href="https://x.it/?a=1&amp;b=2">l</a> &lt;3 &#8364; <tg-spoiler>s</tg-spoiler>',
    )
    assert ok["result"]["text"] == "l <3 € s"

    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}
    body = await api(fake, "sendMessage", chat_id=chat_id, text="t", reply_markup=markup)
    assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"
    markup = {"inline_keyboard": [[{"text": str(i), "callback_data": str(i)} for i in range(9)]]}
    body = await api(fake, "sendMessage", chat_id=chat_id, text="t", reply_markup=markup)
    assert body["description"] == "Bad Request: REPLY_MARKUP_TOO_LONG"

    body = await api(fake, "sendMessage", chat_id=chat_id, text="t", parse_mod="HTML")
    assert body["description"] == "Bad Request: unknown parameter parse_mod"
    body = await api(fake, "sendMessage", chat_id=chat_id)
    assert body["description"] == "Bad Request: parameter text is required"
    body = await api(fake, "sendMessage", chat_id="abc", text="t")
    assert body["description"] == "Bad Request: chat not found"
    body = await api(fake, "sendMessage", chat_id=chat_id, text="t", disable_notification="x")
    assert body["error_code"] == 400


async def test_mini_app_buttons_as_telegram_allows_them(fake_telegram: FakeTelegram) -> None:
    """A web_app button only in a private chat, to an HTTPS address; in a group a t.me link to
    the bot's Mini App is the way. The menu button belongs to private chats too."""
    fake = fake_telegram
    chat_id = await started_user(fake)
    user = fake.user(chat_id)
    group = fake.create_group("Tavolo", user)
    await fake.add_bot_to_group(group, by=user)
    web_app = {"inline_keyboard": [[{"text": "📊", "web_app": {"url": "https://x.test/app/"}}]]}
    assert (await api(fake, "sendMessage", chat_id=chat_id, text="t", reply_markup=web_app))["ok"]
    body = await api(fake, "sendMessage", chat_id=group.id, text="t", reply_markup=web_app)
    assert body["description"] == "Bad Request: BUTTON_TYPE_INVALID"
    link = {"inline_keyboard": [[{"text": "📊", "url": "https://t.me/Bot?startapp=u1"}]]}
    assert (await api(fake, "sendMessage", chat_id=group.id, text="t", reply_markup=link))["ok"]
    plain = {"inline_keyboard": [[{"text": "📊", "web_app": {"url": "http://x.test/app/"}}]]}
    body = await api(fake, "sendMessage", chat_id=chat_id, text="t", reply_markup=plain)
    assert "Only HTTPS links are allowed" in body["description"]

    menu = {"type": "web_app", "text": "Cruscotto", "web_app": {"url": "https://x.test/app/"}}
    assert (await api(fake, "setChatMenuButton", menu_button=menu))["ok"]
    assert fake.bot_settings["menu_button"] == menu
    assert (await api(fake, "setChatMenuButton", chat_id=chat_id, menu_button=menu))["ok"]
    body = await api(fake, "setChatMenuButton", chat_id=group.id, menu_button=menu)
    assert body["description"] == "Bad Request: chat not found"
    insecure = {**menu, "web_app": {"url": "http://x.test/app/"}}
    body = await api(fake, "setChatMenuButton", menu_button=insecure)
    assert "Only HTTPS links are allowed" in body["description"]


async def test_forbidden_and_blocked(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    luca = fake.add_user("Luca")
    body = await api(fake, "sendMessage", chat_id=luca.id, text="ciao")
    assert (body["error_code"], body["description"]) == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await luca.send("/start")
    assert (await api(fake, "sendMessage", chat_id=luca.id, text="ciao"))["ok"]
    await luca.block_bot()
    body = await api(fake, "sendMessage", chat_id=luca.id, text="ciao")
    assert body["description"] == "Forbidden: bot was blocked by the user"
    kinds = [next(k for k in u if k != "update_id") for u in fake.updates]
    assert kinds == ["message", "my_chat_member"]
    assert fake.updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert "⚠️ sendMessage → 403 Forbidden: bot was blocked by the user" in fake.transcript()

    group = fake.create_group("Tavolo tecnico", luca)
    await fake.add_bot_to_group(group, by=luca)
    assert (await api(fake, "sendMessage", chat_id=group.id, text="ciao"))["ok"]
    await fake.remove_bot_from_group(group, by=luca)
    body = await api(fake, "sendMessage", chat_id=group.id, text="ciao")
    assert body["description"] == "Forbidden: bot was kicked from the group chat"


async def test_edits_callbacks_pins(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    chat_id = await started_user(fake)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await api(fake, "sendMessage", chat_id=chat_id, text="uno", reply_markup=markup)
    mid = sent["result"]["message_id"]
    body = await api(
        fake, "editMessageText", chat_id=chat_id, message_id=mid, text="uno", reply_markup=markup
    )
    assert body["description"].startswith("Bad Request: message is not modified: specified new")
    assert (await api(fake, "editMessageText", chat_id=chat_id, message_id=mid, text="uno"))["ok"]
    body = await api(fake, "editMessageText", chat_id=chat_id, message_id=999, text="x")
    assert body["description"] == "Bad Request: message to edit not found"

    msg = fake.messages(chat_id)[0]
    await api(fake, "editMessageReplyMarkup", chat_id=chat_id, message_id=mid, reply_markup=markup)
    press = await fake.user(chat_id).press(msg, "a")
    assert (await api(fake, "answerCallbackQuery", callback_query_id=press.id, text="ok"))["ok"]
    assert press.toast == "ok"
    forged = await fake.user(chat_id).press_forged(msg, "admin:delete:1")
    assert fake.updates[-1]["callback_query"]["data"] == "admin:delete:1"
    assert (await api(fake, "answerCallbackQuery", callback_query_id=forged.id, text="no"))["ok"]
    assert "Anna Bianchi invia dati falsi «admin:delete:1»" in fake.transcript()
    injected = {"id": "inj1", "from": fake.user(chat_id).to_api(), "message": msg.to_api()}
    await fake.inject_update({"callback_query": {**injected, "chat_instance": "1", "data": "z"}})
    assert (await api(fake, "answerCallbackQuery", callback_query_id="inj1"))["ok"]
    old = await fake.user(chat_id).press(msg, "A", inaccessible=True)
    cq = fake.updates[-1]["callback_query"]
    assert (cq["id"], cq["message"]["date"], cq["data"]) == (old.id, 0, "a")
    body = await api(fake, "answerCallbackQuery", callback_query_id=press.id)
    assert body["description"] == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )

    user = fake.user(chat_id)
    group = fake.create_group("G", user)
    await fake.add_bot_to_group(group, by=user)
    gsent = await api(fake, "sendMessage", chat_id=group.id, text="fissami")
    gid = gsent["result"]["message_id"]
    body = await api(fake, "pinChatMessage", chat_id=group.id, message_id=gid)
    assert (
        body["description"]
        == "Bad Request: not enough rights to manage pinned messages in the chat"
    )
    fake.set_bot_admin(group, can_pin=True)
    assert (await api(fake, "pinChatMessage", chat_id=group.id, message_id=gid))["ok"]
    assert fake.sent_to(group)[0].pinned


async def test_migration(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    mario = fake.add_user("Mario")
    group = fake.create_group("Tavolo politico", mario)
    await fake.add_bot_to_group(group, by=mario)
    new_id = await fake.migrate_to_supergroup(group)
    assert str(new_id).startswith("-100")
    body = await api(fake, "sendMessage", chat_id=group.id, text="ciao")
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": new_id},
    }
    assert (await api(fake, "sendMessage", chat_id=new_id, text="ciao"))["ok"]
    messages = [u["message"] for u in fake.updates if "message" in u]
    assert messages[-2]["migrate_to_chat_id"] == new_id
    assert messages[-1]["migrate_from_chat_id"] == group.id


async def test_fault_injection_and_rate_limits(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    chat_id = await started_user(fake)
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    body = await api(fake, "sendMessage", chat_id=chat_id, text="x")
    assert body["parameters"] == {"retry_after": 3}
    assert fake.count_429 == 1
    assert fake.messages(chat_id) == []
    assert (await api(fake, "sendMessage", chat_id=chat_id, text="x"))["ok"]

    fake.stall_next("sendMessage", 5)
    async with httpx.AsyncClient() as client:
        try:
            await client.post(
                f"{fake.base_url}{fake.token}/sendMessage",
                data={"chat_id": str(chat_id), "text": "dopo il timeout"},
                timeout=0.2,
            )
        except httpx.ReadTimeout:
            pass
        else:  # pragma: no cover
            raise AssertionError("expected a timeout")
    assert fake.sent_to(chat_id)[-1].text == "dopo il timeout"

    fake.enforce_rate_limits = True
    results = [(await api(fake, "sendMessage", chat_id=chat_id, text="x"))["ok"] for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert fake.count_429 == 3


async def test_files_and_commands(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    mario = fake.add_user("Mario")
    small = await mario.send_document("a.ics", b"BEGIN:VCALENDAR", "text/calendar")
    big = await mario.send_document("big.bin", b"0" * (20 * 1024 * 1024 + 1))
    assert small.document is not None and big.document is not None
    got = await api(fake, "getFile", file_id=small.document.file_id)
    async with httpx.AsyncClient() as client:
        r = await client.get(f"{fake.base_file_url}{fake.token}/{got['result']['file_path']}")
        assert r.content == b"BEGIN:VCALENDAR"
    body = await api(fake, "getFile", file_id=big.document.file_id)
    assert body["description"] == "Bad Request: file is too big"

    commands = [{"command": "start", "description": "Inizia"}]
    scope = {"type": "all_private_chats"}
    assert (await api(fake, "setMyCommands", commands=commands, scope=scope, language_code="it"))[
        "ok"
    ]
    assert fake.commands("all_private_chats", "it") == [("start", "Inizia")]
    assert fake.commands("default") == []
    got = await api(fake, "getMyCommands", scope=scope, language_code="it")
    assert got["result"] == commands


async def test_ptb_exceptions(fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without PTB_TIMEDELTA, PTB 22.8 warns (an error here) whenever it builds a RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake = fake_telegram
    mario = fake.add_user("Mario")
    group = fake.create_group("Tavolo", mario)
    await fake.add_bot_to_group(group, by=mario)
    new_id = await fake.migrate_to_supergroup(group)
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await bot.send_message(mario.id, "ciao")
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(group.id, "ciao")
        assert migrated.value.new_chat_id == new_id
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(new_id, "ciao")
        assert retry.value.retry_after == dtm.timedelta(seconds=7)
        sent = await bot.send_message(new_id, "<b>ciao</b>", parse_mode=ParseMode.HTML)
        assert sent.text_html == "<b>ciao</b>"
        with pytest.raises(BadRequest, match="Message is not modified"):
            await sent.edit_text("<b>ciao</b>", parse_mode=ParseMode.HTML)
        member = await bot.get_chat_member(new_id, bot.id)
        assert member.status == "member"
        fake.set_bot_admin(fake.chat(new_id), can_pin=True)
        admins = await bot.get_chat_administrators(new_id)
        assert [a.user.id for a in admins] == [mario.id, bot.id]
        chat = await bot.get_chat(new_id)
        assert chat.title == "Tavolo"
        fake.stall_next("sendMessage", 30)
        with pytest.raises(TimedOut):
            await bot.send_message(new_id, "consegnato?", read_timeout=0.2)
        assert fake.last_sent(new_id).text == "consegnato?"  # delivered despite the timeout
        await bot.set_webhook("https://example.org/hook")
        with pytest.raises(Conflict):
            await bot.get_updates()
        await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == ()


async def test_group_service_messages_and_privacy(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    mario = fake.add_user("Mario")
    anna = fake.add_user("Anna")
    group = fake.create_group("Tavolo", mario)
    await fake.add_bot_to_group(group, by=mario)
    await fake.user_joins(group, anna, by=mario)
    await anna.send("ciao a tutti", chat=group)  # not seen: privacy mode
    bot_msg_id = (await api(fake, "sendMessage", chat_id=group.id, text="domanda?"))["result"]
    reply_to = fake.chat(group).find(bot_msg_id["message_id"])
    await anna.send("risposta", chat=group, reply_to=reply_to)  # replies to the bot are seen
    await fake.user_leaves(group, anna)
    seen = [u["message"] for u in fake.updates if "message" in u]
    assert [
        m.get("text") or next(k for k in m if k.endswith("_member") or k.endswith("members"))
        for m in seen
    ] == ["new_chat_members", "new_chat_members", "risposta", "left_chat_member"]
    assert seen[2]["reply_to_message"]["text"] == "domanda?"


async def test_photos_deletes_actions_and_settle_timeout(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    chat_id = await started_user(fake)
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{fake.base_url}{fake.token}/sendPhoto",
            data={"chat_id": str(chat_id), "caption": "<b>grafico</b>", "parse_mode": "HTML"},
            files={"photo": ("chart.png", b"\x89PNG....", "image/png")},
        )
        body = r.json()
    assert body["ok"], body
    assert body["result"]["caption"] == "grafico"
    [photo] = fake.sent_to(chat_id)
    assert photo.photo == b"\x89PNG...."
    assert photo.photo_file is not None
    body = await api(fake, "sendPhoto", chat_id=chat_id, photo="https://example.org/x.png")
    assert body["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    body = await api(fake, "sendPhoto", chat_id=chat_id, photo=photo.photo_file.file_id,
                     caption="x" * 1025)  # fmt: skip
    assert body["description"] == "Bad Request: message caption is too long"
    assert (await api(fake, "sendChatAction", chat_id=chat_id, action="typing"))["ok"]
    mid = photo.message_id
    assert (await api(fake, "deleteMessage", chat_id=chat_id, message_id=mid))["ok"]
    body = await api(fake, "deleteMessage", chat_id=chat_id, message_id=mid)
    assert body["description"] == "Bad Request: message to delete not found"
    assert fake.sent_to(chat_id) == []
    assert "🖼️ foto (8 B)" in fake.transcript()

    await fake.user(chat_id).send("nessuno legge")  # nobody polls: settle must time out
    with pytest.raises(TimeoutError, match="undelivered updates"):
        await fake.settle(timeout=0.2)


async def test_second_poller_gets_409(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    async with httpx.AsyncClient(base_url=f"{fake.base_url}{fake.token}/") as client:
        first = asyncio.create_task(client.post("getUpdates", data={"timeout": "5"}))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(client.post("getUpdates", data={"timeout": "0"}))
        r1, r2 = await asyncio.wait_for(asyncio.gather(first, second), 2)
    assert r1.status_code == 409
    assert r1.json()["description"].startswith("Conflict: terminated by other getUpdates")
    assert r2.json() == {"ok": True, "result": []}


async def test_clock_dates_messages() -> None:
    when = dtm.datetime(2026, 12, 1, 8, 0, tzinfo=dtm.UTC)

    class Clock:
        def now(self) -> dtm.datetime:
            return when

    fake = FakeTelegram(clock=Clock())
    mario = fake.add_user("Mario")
    msg = await mario.send("ciao")
    assert msg.date == int(when.timestamp())


async def test_many_users_at_once(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    users = [fake.add_user(f"Utente{i}") for i in range(20)]
    async with running_application(fake, build_app(fake)):
        await asyncio.gather(*(u.send("/start") for u in users))
        await fake.settle()
        presses = await asyncio.gather(*(u.press(fake.last_sent(u), "vote:1:no") for u in users))
        answers = await asyncio.gather(*(p.answered() for p in presses))
        await fake.settle()
    assert {a.text for a in answers} == {"Registrato: No"}
    assert all(fake.last_sent(u).text == "Hai risposto: No" for u in users)
    assert all(ok for _, _, ok, _ in fake.calls)


async def test_rate_limits_with_ptb_rate_limiter(
    fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake = fake_telegram
    mario = fake.add_user("Mario")
    group = fake.create_group("Tavolo", mario)
    await fake.add_bot_to_group(group, by=mario)
    fake.enforce_rate_limits = True
    fake.rate_limits = RateLimits(group=3, group_window=0.5)
    app = application_builder(fake).rate_limiter(AIORateLimiter(max_retries=3)).build()
    async with running_application(fake, app):
        await fake.settle()
        await asyncio.gather(*(app.bot.send_message(group.id, f"n. {i}") for i in range(5)))
    assert sorted(m.text or "" for m in fake.sent_to(group)) == [f"n. {i}" for i in range(5)]
    assert fake.count_429 >= 1
    assert "⚠️ sendMessage → 429 Too Many Requests: retry after 1" in fake.transcript()


async def test_webhook_delivery_with_the_secret_and_retries(fake_telegram: FakeTelegram) -> None:
    """setWebhook: pending updates are POSTed in order with the secret header; an answer that
    is not 2xx is retried and reported by getWebhookInfo; getUpdates is then a 409."""
    from aiohttp import web

    fake = fake_telegram
    received: list[tuple[str | None, dict[str, Any]]] = []
    refuse = {"left": 2}

    async def hook(request: web.Request) -> web.Response:
        if refuse["left"] > 0:
            refuse["left"] -= 1
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            with pytest.raises(BadRequest, match=r"(?i)https url"):
                await bot.set_webhook("http://example.org/hook")
            with pytest.raises(BadRequest, match="secret token"):
                await bot.set_webhook(url, secret_token="no spaces allowed")
            mario = fake.add_user("Mario")
            await mario.send("/start uno")
            await mario.send("/start due")
            assert await bot.set_webhook(url, secret_token="s3cret_token-x")
            await fake.wait_for(lambda: len(received) == 2)
            assert [secret for secret, _u in received] == ["s3cret_token-x"] * 2
            assert [u["message"]["text"] for _s, u in received] == ["/start uno", "/start due"]
            assert [status for _id, status in fake.webhook_posts] == [500, 500, 200, 200]
            info = await bot.get_webhook_info()
            assert info.url == url and info.pending_update_count == 0
            assert (
                info.last_error_message
                == "Wrong response from the webhook: 500 Internal Server Error"
            )
            with pytest.raises(Conflict, match="webhook is active"):
                await bot.get_updates()
            await bot.delete_webhook()
            await mario.send("/start tre")
            assert [u.message.text for u in await bot.get_updates() if u.message] == ["/start tre"]
    finally:
        await runner.cleanup()


async def test_a_callback_answer_opens_only_a_start_link_to_the_bot(
    fake_telegram: FakeTelegram,
) -> None:
    """answerCallbackQuery's url: outside games Telegram takes only t.me/<the bot>?start=…"""
    fake = fake_telegram
    anna = fake.add_user("Anna")
    anna.has_started = True
    message = fake._new_message(
        anna.private_chat,
        None,
        text="?",
        reply_markup={"inline_keyboard": [[{"text": "x", "callback_data": "a:b"}]]},
    )
    refused = []
    for url in (
        "https://example.org/",
        "https://t.me/AltroBot?start=mg-1",
        "https://t.me/TeamEnergiaTestBot?start=mg 1",
        f"https://t.me/TeamEnergiaTestBot?start={'a' * 65}",
    ):
        press = await anna.press(message, "a:b")
        body = await api(fake, "answerCallbackQuery", callback_query_id=press.id, url=url)
        refused.append(body.get("description"))
    assert refused == ["Bad Request: URL_INVALID"] * 4
    press = await anna.press(message, "a:b")
    url = "https://t.me/TeamEnergiaTestBot?start=mg-1"
    assert (await api(fake, "answerCallbackQuery", callback_query_id=press.id, url=url))["ok"]
    assert (await press.answered()).url == url
