"""A fake Telegram Bot API server for end-to-end tests with the real python-telegram-bot.

Start it, point PTB at it (``base_url`` / ``base_file_url``), drive users, then assert on what
the bot sent. See ``tests/fakes/test_fake_server.py`` for examples.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.fakes.fake_world import (
    BotIdentity,
    CallbackAnswer,
    FakeCall,
    FakeChat,
    FakeFile,
    FakeMessage,
    FakePress,
    FakeUser,
)
from tests.fakes.tg_html import HtmlParseError, parse_html, utf16_len
from tests.fakes.tg_spec import ApiError, UploadedFile, fill_required, load_spec, validate_params

__all__ = [
    "CallbackAnswer",
    "FakeCall",
    "FakeChat",
    "FakeFile",
    "FakeMessage",
    "FakePress",
    "FakeTelegram",
    "FakeUser",
    "RateLimits",
]

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME = "TeamEnergiaTestBot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
MAX_DOWNLOAD = 20 * 1024 * 1024
# Telegram's default when allowed_updates was never set: everything except these.
_NOT_DEFAULT_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_SEND_METHODS = {"sendMessage", "sendDocument", "sendPhoto"}
_EDIT_METHODS = {"editMessageText", "editMessageCaption", "editMessageReplyMarkup"}
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class _Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass
class RateLimits:
    """Flood limits enforced when ``FakeTelegram.enforce_rate_limits`` is on (shrink the windows
    to keep tests fast)."""

    overall: int = 30  # messages per second, all chats
    private: int = 3  # messages per private chat in ``private_window`` (a burst of ~1/s)
    private_window: float = 1.0
    group: int = 20  # messages per group in ``group_window``
    group_window: float = 60.0
    # Count edits against the per-chat and per-group limits too (Telegram does: a live tally
    # edited at every vote floods a group). Opt-in so the existing send-only checks stay as
    # they were.
    edits: bool = False


@dataclass
class _Pending:
    update: dict[str, Any]
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next(k for k in self.update if k != "update_id")


@dataclass
class _Fault:
    error_code: int
    description: str
    parameters: dict[str, Any] | None
    count: int


@dataclass
class _Stall:
    seconds: float
    deliver: bool
    count: int


def _human_size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def _reply_note(msg: FakeMessage) -> str:
    return f" (↩️ msg {msg.reply_to.message_id})" if msg.reply_to is not None else ""


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


class FakeTelegram:
    """In-process fake of the Telegram Bot API (aiohttp server on 127.0.0.1, random port)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = BOT_USERNAME,
        clock: _Clock | None = None,
    ) -> None:
        """``clock`` (anything with ``now() -> aware datetime``, e.g. ``bot.clock.FakeClock``)
        dates messages and updates; wall time otherwise."""
        self.token = token
        self.clock = clock
        self.bot = BotIdentity(
            id=int(token.split(":", 1)[0]), first_name="Team Energia", username=bot_username
        )
        self.privacy_mode = True
        # getMe.has_main_web_app: whether a main Mini App is set in @BotFather (t.me/<bot>?startapp=…).
        self.has_main_web_app = False
        self.enforce_rate_limits = False
        self.rate_limits = RateLimits()
        self.callback_answer_timeout = 15.0
        self.count_429 = 0
        # (monotonic time, method, chat id) of every call the rate limits let through.
        self.rate_log: list[tuple[float, str, int]] = []
        self.calls: list[FakeCall] = []
        self.updates: list[dict[str, Any]] = []  # every update ever enqueued
        self.allowed_updates: list[str] | None = None
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        # (unix time, message) of the latest failed webhook delivery, as getWebhookInfo says.
        self.webhook_last_error: tuple[int, str] | None = None
        # (update_id, HTTP status or 0 for no answer) of every webhook delivery attempt.
        self.webhook_posts: list[tuple[int, int]] = []
        self._webhook_task: asyncio.Task[None] | None = None
        self._idle_checks: list[Callable[[], bool]] = []
        self.bot_settings: dict[str, Any] = {}
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._files: dict[str, FakeFile] = {}
        self._presses: dict[str, FakePress] = {}
        self._commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self._pending: list[_Pending] = []
        self._next_update_id = secrets.randbelow(10_000_000) + 100_000
        self._user_ids = itertools.count(1001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._cond = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._poll_generation = 0
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._faults: dict[str, deque[_Fault]] = {}
        self._stalls: dict[str, deque[_Stall]] = {}
        self._transcript: list[str] = []
        self._sent_times: deque[float] = deque()
        self._chat_sent_times: dict[int, deque[float]] = {}
        self._handlers: dict[str, Handler] = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "deleteWebhook": self._m_delete_webhook,
            "setWebhook": self._m_set_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "setChatMenuButton": self._m_set_chat_menu_button,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendDocument": self._m_send_document,
            "sendPhoto": self._m_send_photo,
            "sendChatAction": self._m_send_chat_action,
            "pinChatMessage": self._m_pin_chat_message,
            "unpinChatMessage": self._m_unpin_chat_message,
            "getChat": self._m_get_chat,
            "getChatMember": self._m_get_chat_member,
            "getChatAdministrators": self._m_get_chat_administrators,
            "getFile": self._m_get_file,
            "leaveChat": self._m_leave_chat,
            "close": self._m_true,
            "logOut": self._m_true,
            "setMyDescription": self._m_store_setting,
            "setMyShortDescription": self._m_store_setting,
            "setMyName": self._m_store_setting,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self._listen(0)

    async def _listen(self, port: int) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def go_offline(self) -> None:
        """Stop listening: connections are refused until ``go_online`` (the world is kept)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def go_online(self) -> None:
        """Listen again on the same port after ``go_offline``."""
        if self._runner is None:
            await self._listen(self.port)

    async def stop(self) -> None:
        self._stopping.set()
        async with self._cond:
            self._cond.notify_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ world building

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "it",
    ) -> FakeUser:
        user = FakeUser(self, next(self._user_ids), first_name, last_name, username, language_code)
        self._users[user.id] = user
        self._chats[user.id] = FakeChat(id=user.id, type="private", user=user, bot_status="member")
        return user

    def user(self, user_id: int) -> FakeUser:
        return self._users[user_id]

    def chat(self, chat: FakeChat | FakeUser | int) -> FakeChat:
        """The chat object for a chat, a user (private chat) or an id."""
        if isinstance(chat, FakeChat):
            return chat
        chat_id = chat.id if isinstance(chat, FakeUser) else chat
        return self._chats[chat_id]

    def create_group(
        self,
        title: str,
        creator: FakeUser,
        members: Iterable[FakeUser] = (),
        admins: Iterable[FakeUser] = (),
        supergroup: bool = False,
    ) -> FakeChat:
        n = next(self._group_ids)
        chat_id = -(1_000_000_000_000 + 4_000_000 + n) if supergroup else -(4_000_000 + n)
        admin_list = list(admins)
        chat = FakeChat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            creator_id=creator.id,
            members={creator.id, *(u.id for u in members), *(u.id for u in admin_list)},
            admins={u.id for u in admin_list},
        )
        self._chats[chat_id] = chat
        return chat

    def add_member(self, chat: FakeChat, user: FakeUser) -> None:
        """Add a member silently (no update)."""
        chat.members.add(user.id)

    async def user_joins(
        self, chat: FakeChat, user: FakeUser, by: FakeUser | None = None
    ) -> FakeMessage:
        """A user joins (or is added by ``by``): service message with ``new_chat_members``."""
        chat.members.add(user.id)
        actor = by or user
        self._log(
            chat,
            f"{user.full_name} entra nel gruppo"
            if by is None
            else f"{by.full_name} aggiunge {user.full_name}",
        )
        msg = self._new_message(
            chat,
            actor,
            service={"new_chat_members": [user.to_api()], "new_chat_member": user.to_api()},
        )
        if chat.bot_is_member:
            await self._enqueue("message", msg.to_api())
        return msg

    async def user_leaves(self, chat: FakeChat, user: FakeUser) -> FakeMessage:
        """A user leaves: service message with ``left_chat_member``."""
        chat.members.discard(user.id)
        chat.admins.discard(user.id)
        self._log(chat, f"{user.full_name} lascia il gruppo")
        msg = self._new_message(
            chat,
            user,
            service={"left_chat_member": user.to_api(), "left_chat_participant": user.to_api()},
        )
        if chat.bot_is_member:
            await self._enqueue("message", msg.to_api())
        return msg

    def set_admin(self, chat: FakeChat, user: FakeUser, admin: bool = True) -> None:
        chat.members.add(user.id)
        if admin:
            chat.admins.add(user.id)
        else:
            chat.admins.discard(user.id)

    def set_bot_admin(
        self, chat: FakeChat, can_pin: bool = True, can_delete: bool = True, admin: bool = True
    ) -> None:
        """Make the bot an administrator (no update is enqueued)."""
        chat.bot_status = "administrator" if admin else "member"
        chat.bot_can_pin = can_pin and admin
        chat.bot_can_delete = can_delete and admin

    async def add_bot_to_group(
        self, chat: FakeChat, by: FakeUser, group_created: bool = False
    ) -> FakeMessage:
        """The bot is added: ``my_chat_member`` (left → member) and a service message."""
        old = chat.bot_status
        chat.bot_status = "member"
        self._log(chat, f"{by.full_name} aggiunge 🤖 Bot al gruppo")
        await self._enqueue("my_chat_member", self._chat_member_updated(chat, by, old, "member"))
        service: dict[str, Any] = (
            {"group_chat_created": True}
            if group_created
            else {"new_chat_members": [self.bot.to_api()], "new_chat_member": self.bot.to_api()}
        )
        msg = self._new_message(chat, by, service=service)
        await self._enqueue("message", msg.to_api())
        return msg

    async def remove_bot_from_group(self, chat: FakeChat, by: FakeUser) -> None:
        """The bot is removed: ``my_chat_member`` (member → kicked); later sends get 403."""
        old = chat.bot_status
        chat.bot_status = "kicked"
        chat.bot_can_pin = chat.bot_can_delete = False
        self._log(chat, f"{by.full_name} rimuove 🤖 Bot dal gruppo")
        await self._enqueue("my_chat_member", self._chat_member_updated(chat, by, old, "kicked"))

    async def migrate_to_supergroup(self, chat: FakeChat) -> int:
        """Upgrade a group; afterwards the old id answers 400 with ``migrate_to_chat_id``."""
        if chat.type != "group":
            raise ValueError("only basic groups can be migrated")
        new_id = -(1_000_000_000_000 + abs(chat.id))
        new = FakeChat(
            id=new_id,
            type="supergroup",
            title=chat.title,
            creator_id=chat.creator_id,
            members=set(chat.members),
            admins=set(chat.admins),
            bot_status=chat.bot_status,
            bot_can_pin=chat.bot_can_pin,
            bot_can_delete=chat.bot_can_delete,
            migrated_from=chat.id,
        )
        self._chats[new_id] = new
        creator = self._users[chat.creator_id] if chat.creator_id else None
        old_msg = self._new_message(chat, creator, service={"migrate_to_chat_id": new_id})
        chat.migrated_to = new_id
        new_msg = self._new_message(new, creator, service={"migrate_from_chat_id": chat.id})
        self._log(chat, f"gruppo trasformato in supergruppo (nuovo id {new_id})")
        if chat.bot_is_member:
            await self._enqueue("message", old_msg.to_api())
            await self._enqueue("message", new_msg.to_api())
        return new_id

    # ------------------------------------------------------------------ user actions

    async def user_sends(
        self,
        user: FakeUser,
        text: str,
        chat: FakeChat | None,
        reply_to: FakeMessage | None,
        mention_bot: bool,
    ) -> FakeMessage:
        chat = self._user_chat(user, chat)
        entities: list[dict[str, Any]] = []
        if text.startswith("/"):
            command, sep, rest = text.partition(" ")
            if not chat.is_private and mention_bot and "@" not in command:
                command = f"{command}@{self.bot.username}"
            text = f"{command}{sep}{rest}"
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        msg = self._new_message(chat, user, text=text, entities=entities, reply_to=reply_to)
        self._log(chat, f"{user.full_name}{_reply_note(msg)}: {_indent(text)}")
        await self._deliver_user_message(user, chat, msg)
        return msg

    async def user_sends_file(
        self,
        user: FakeUser,
        kind: str,
        content: bytes,
        chat: FakeChat | None,
        caption: str | None,
        filename: str | None,
        mime_type: str,
    ) -> FakeMessage:
        chat = self._user_chat(user, chat)
        stored = self._store_file(kind, content, filename, mime_type)
        msg = self._new_message(
            chat,
            user,
            caption=caption,
            document=stored if kind == "document" else None,
            photo=stored if kind == "photo" else None,
        )
        self._log(chat, f"{user.full_name}{_reply_note(msg)}: {_indent(self._describe_media(msg))}")
        await self._deliver_user_message(user, chat, msg)
        return msg

    async def user_presses(
        self, user: FakeUser, message: FakeMessage, button: str, inaccessible: bool = False
    ) -> FakePress:
        if message.deleted:
            raise ValueError(f"message {message.message_id} was deleted")
        chat = message.chat
        if not chat.is_private and user.id not in chat.members:
            raise ValueError(f"{user.full_name} is not a member of {chat.label}")
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            for b in row:
                if button in (b.get("text"), b.get("callback_data")) and "callback_data" in b:
                    data = str(b["callback_data"])
                    label = str(b.get("text"))
                    break
            else:
                continue
            break
        else:
            raise ValueError(f"no callback button {button!r} on message: {message.buttons}")
        return await self._press(user, message, data, f"preme «{label}»", inaccessible)

    async def user_presses_forged(
        self, user: FakeUser, message: FakeMessage, data: str, inaccessible: bool = False
    ) -> FakePress:
        """A modified client sends callback data that no button carries."""
        chat = message.chat
        if not chat.is_private and user.id not in chat.members:
            raise ValueError(f"{user.full_name} is not a member of {chat.label}")
        return await self._press(user, message, data, f"invia dati falsi «{data}»", inaccessible)

    async def _press(
        self, user: FakeUser, message: FakeMessage, data: str, action: str, inaccessible: bool
    ) -> FakePress:
        chat = message.chat
        if chat.is_private:
            user.has_started = True
        press = FakePress(id=str(secrets.randbits(62)), user=user, message=message, data=data)
        self._presses[press.id] = press
        self._log(chat, f"{user.full_name} {action}")
        await self._enqueue(
            "callback_query",
            {
                "id": press.id,
                "from": user.to_api(),
                "message": (
                    {"chat": chat.to_api(), "message_id": message.message_id, "date": 0}
                    if inaccessible
                    else message.to_api()
                ),
                "chat_instance": str(abs(hash((chat.id, "instance"))) % 10**18),
                "data": data,
            },
        )
        return press

    async def user_blocks(self, user: FakeUser) -> None:
        user.blocked = True
        chat = self._chats[user.id]
        self._log(chat, f"{user.full_name} blocca il bot")
        await self._enqueue(
            "my_chat_member", self._chat_member_updated(chat, user, "member", "kicked")
        )

    async def inject_update(self, update: dict[str, Any]) -> None:
        """Enqueue a raw update (``update_id`` is assigned if missing; duplicates allowed)."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._register_injected_press(update.get("callback_query"))
        await self._push(update)

    def _register_injected_press(self, query: Any) -> None:
        """An injected callback query can be answered like a real one (same 15 s rule)."""
        if not isinstance(query, dict) or str(query.get("id")) in self._presses:
            return
        user = self._users.get(int((query.get("from") or {}).get("id", 0)))
        message = query.get("message") or {}
        chat = self._chats.get(int((message.get("chat") or {}).get("id", 0)))
        found = chat.find(int(message.get("message_id", 0))) if chat is not None else None
        if user is not None and found is not None:
            press = FakePress(str(query["id"]), user, found, str(query.get("data", "")))
            self._presses[press.id] = press

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` answer this error (nothing is delivered)."""
        params = dict(parameters or {})
        if retry_after is not None:
            params["retry_after"] = retry_after
        self._faults.setdefault(method.lower(), deque()).append(
            _Fault(error_code, description, params or None, count)
        )

    def clear_faults(self) -> None:
        """The outage is over: the errors ``fail_next`` queued and not answered yet are dropped."""
        self._faults.clear()

    def stall_next(self, method: str, seconds: float, deliver: bool = True, count: int = 1) -> None:
        """Delay the answer of the next call(s); with ``deliver`` the call takes effect first
        (a client timeout then looks like a failure although the message was delivered)."""
        self._stalls.setdefault(method.lower(), deque()).append(_Stall(seconds, deliver, count))

    # ------------------------------------------------------------------ inspection

    def messages(self, chat: FakeChat | FakeUser | int) -> list[FakeMessage]:
        """All messages of a chat, in order (deleted ones excluded)."""
        return [m for m in self.chat(chat).messages if not m.deleted]

    def sent_to(self, chat: FakeChat | FakeUser | int) -> list[FakeMessage]:
        """Messages the bot sent to a chat."""
        return [m for m in self.messages(chat) if m.from_bot and not m.service]

    def last_sent(self, chat: FakeChat | FakeUser | int) -> FakeMessage:
        sent = self.sent_to(chat)
        if not sent:
            raise AssertionError(f"the bot sent nothing to {self.chat(chat).label}")
        return sent[-1]

    def commands(
        self,
        scope_type: str = "default",
        language_code: str | None = None,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[tuple[str, str]]:
        """Commands set with setMyCommands for exactly this scope and language."""
        key = (scope_type, chat_id, user_id, language_code or "")
        return [(c["command"], c["description"]) for c in self._commands.get(key, [])]

    def calls_of(self, method: str) -> list[FakeCall]:
        return [c for c in self.calls if c.method == method]

    def presses_by(self, user: FakeUser) -> list[FakePress]:
        """The buttons this user pressed, in order: the taps a story counts."""
        return [p for p in self._presses.values() if p.user.id == user.id]

    def note(self, text: str) -> None:
        """A line of the story's own in the transcript (e.g. the chapter a reader is at)."""
        self._transcript.append(text)

    def transcript(self) -> str:
        return "\n".join(self._transcript) + ("\n" if self._transcript else "")

    def write_transcript(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.transcript(), encoding="utf-8")
        return target

    # ------------------------------------------------------------------ synchronisation

    async def settle(self, quiet: float = 0.05, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until every update was fetched, no bot request is in flight and nothing
        happened for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = time.monotonic()
            if (
                all(p.delivered for p in self._pending)
                and all(check() for check in self._idle_checks)
                and self._in_flight == 0
                and now - self._last_activity >= quiet
            ):
                return
            if loop.time() > deadline:
                undelivered = [p.update_id for p in self._pending if not p.delivered]
                busy = [
                    getattr(check, "__qualname__", repr(check))
                    for check in self._idle_checks
                    if not check()
                ]
                raise TimeoutError(
                    f"fake Telegram did not settle in {timeout}s: undelivered updates "
                    f"{undelivered}, {self._in_flight} requests in flight, idle checks "
                    f"still false {busy}, last activity {now - self._last_activity:.2f}s ago"
                )
            await asyncio.sleep(0.01)

    def add_idle_check(self, check: Callable[[], bool]) -> Callable[[], bool]:
        """``settle`` also waits until ``check()`` is true (e.g. PTB has no update in progress).

        Returns ``check``, to pass to ``remove_idle_check`` later.
        """
        self._idle_checks.append(check)
        return check

    def remove_idle_check(self, check: Callable[[], bool]) -> None:
        with contextlib.suppress(ValueError):
            self._idle_checks.remove(check)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5) -> Any:  # noqa: ASYNC109
        """Poll ``predicate`` every 10 ms until it returns a truthy value, which is returned."""
        async with asyncio.timeout(timeout):
            while True:
                value = predicate()
                if value:
                    return value
                await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ internals: world

    def _now(self) -> int:
        return int(self.clock.now().timestamp()) if self.clock is not None else int(time.time())

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _log(self, chat: FakeChat | None, line: str) -> None:
        prefix = f"[{chat.label}] " if chat is not None else ""
        self._transcript.append(prefix + line)

    def _log_buttons(self, markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard") or []:
            self._transcript.append("    " + " ".join(f"[{b.get('text', '')}]" for b in row))

    def _user_chat(self, user: FakeUser, chat: FakeChat | None) -> FakeChat:
        if chat is None:
            return self._chats[user.id]
        if chat.migrated_to is not None:
            raise ValueError(f"{chat.label} was migrated to {chat.migrated_to}")
        if not chat.is_private and user.id not in chat.members:
            raise ValueError(f"{user.full_name} is not a member of {chat.label}")
        return chat

    def _new_message(
        self,
        chat: FakeChat,
        sender: FakeUser | None,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        caption: str | None = None,
        caption_entities: list[dict[str, Any]] | None = None,
        raw_text: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        document: FakeFile | None = None,
        photo: FakeFile | None = None,
        reply_to: FakeMessage | None = None,
        service: dict[str, Any] | None = None,
    ) -> FakeMessage:
        msg = FakeMessage(
            chat=chat,
            message_id=chat.next_message_id,
            date=self._now(),
            sender=sender,
            bot=self.bot,
            text=text,
            entities=entities or [],
            caption=caption,
            caption_entities=caption_entities or [],
            raw_text=raw_text,
            reply_markup=reply_markup,
            document=document,
            photo_file=photo,
            reply_to=reply_to,
            service=service or {},
        )
        chat.next_message_id += 1
        chat.messages.append(msg)
        self._touch()
        return msg

    def add_file(
        self,
        kind: str,
        content: bytes,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> FakeFile:
        """A file Telegram holds (as if someone had sent it earlier): getFile finds it by id."""
        return self._store_file(kind, content, filename, mime_type)

    def _store_file(
        self, kind: str, content: bytes, filename: str | None, mime_type: str | None
    ) -> FakeFile:
        n = next(self._file_ids)
        folder = "documents" if kind == "document" else "photos"
        ext = Path(filename).suffix if filename else ".jpg"
        stored = FakeFile(
            file_id=f"{'BQAC' if kind == 'document' else 'AgAC'}fake{n:06d}{secrets.token_hex(8)}",
            file_unique_id=f"AQAD{n:06d}",
            content=content,
            file_path=f"{folder}/file_{n}{ext}",
            file_name=filename,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    def _describe_media(self, msg: FakeMessage) -> str:
        parts: list[str] = []
        if msg.document is not None:
            parts.append(f"📎 {msg.document.file_name} ({_human_size(msg.document.size)})")
        if msg.photo_file is not None:
            parts.append(f"🖼️ foto ({_human_size(msg.photo_file.size)})")
        if msg.caption:
            parts.append(msg.caption)
        return "\n".join(parts)

    async def _deliver_user_message(self, user: FakeUser, chat: FakeChat, msg: FakeMessage) -> None:
        if chat.is_private:
            if user.blocked:  # writing to the bot again unblocks it
                user.blocked = False
                await self._enqueue(
                    "my_chat_member", self._chat_member_updated(chat, user, "kicked", "member")
                )
            user.has_started = True
            await self._enqueue("message", msg.to_api())
            return
        if not chat.bot_is_member:
            return
        sees_all = not self.privacy_mode or chat.bot_status == "administrator"
        is_command = any(e["type"] == "bot_command" and e["offset"] == 0 for e in msg.entities)
        replies_to_bot = msg.reply_to is not None and msg.reply_to.from_bot
        if sees_all or is_command or replies_to_bot:
            await self._enqueue("message", msg.to_api())

    def _member_api(self, chat: FakeChat, user: dict[str, Any], status: str) -> dict[str, Any]:
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            is_bot = user["id"] == self.bot.id
            return fill_required(
                "ChatMemberAdministrator",
                {
                    "status": "administrator",
                    "user": user,
                    "can_manage_chat": True,
                    "can_pin_messages": chat.bot_can_pin if is_bot else True,
                    "can_delete_messages": chat.bot_can_delete if is_bot else True,
                    "can_invite_users": True,
                },
            )
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def _user_status(self, chat: FakeChat, user_id: int) -> str:
        if user_id == self.bot.id:
            return chat.bot_status
        if chat.is_private:
            return "member" if user_id == chat.id else "left"
        if user_id == chat.creator_id:
            return "creator"
        if user_id in chat.admins:
            return "administrator"
        return "member" if user_id in chat.members else "left"

    def _chat_member_updated(
        self, chat: FakeChat, by: FakeUser, old: str, new: str
    ) -> dict[str, Any]:
        bot = self.bot.to_api()
        return {
            "chat": chat.to_api(),
            "from": by.to_api(),
            "date": self._now(),
            "old_chat_member": self._member_api(chat, bot, old),
            "new_chat_member": self._member_api(chat, bot, new),
        }

    # ------------------------------------------------------------------ internals: updates

    async def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        await self._push(update)

    async def _push(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._pending.append(_Pending(update))
        self._touch()
        async with self._cond:
            self._cond.notify_all()

    def _allowed(self, kind: str) -> bool:
        if self.allowed_updates is None or not self.allowed_updates:
            return kind not in _NOT_DEFAULT_UPDATES
        return kind in self.allowed_updates

    # ------------------------------------------------------------------ internals: HTTP

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if not request.body_exists:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError.bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise ApiError.bad_request("JSON body must be an object")
            params.update(body)
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(
                    value.filename, value.file.read(), value.content_type or ""
                )
            else:
                params[key] = value
        return params

    def _respond(self, body: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._respond(ApiError(401, "Unauthorized").envelope(), 401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return self._respond(ApiError(404, "Not Found").envelope(), 404)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._respond(ApiError(401, "Unauthorized").envelope(), 401)
        spec = load_spec().methods.get(request.match_info["method"].lower())
        if spec is None:
            return self._respond(ApiError(404, "Not Found").envelope(), 404)
        method = spec.name
        polling = method == "getUpdates"
        counted = not polling
        if counted:
            self._in_flight += 1
        self._touch()
        stall: _Stall | None = None
        params: dict[str, Any] = {}
        try:
            try:
                raw = await self._read_params(request)
                params = validate_params(spec, raw)
                fault = self._take(self._faults, method)
                if fault is not None:
                    raise ApiError(fault.error_code, fault.description, fault.parameters)
                stall = self._take(self._stalls, method)
                if stall is not None and not stall.deliver:
                    self._in_flight -= 1
                    counted = False
                    await self._sleep(stall.seconds)
                    raise ApiError(502, "Bad Gateway")
                if self.enforce_rate_limits and (
                    method in _SEND_METHODS or (self.rate_limits.edits and method in _EDIT_METHODS)
                ):
                    self._check_rate(params.get("chat_id"), method)
                handler = self._handlers.get(method)
                if handler is None:
                    raise ApiError.bad_request("method not implemented in fake")
                if polling:
                    result = await self._m_get_updates_http(params, request)
                else:
                    result = await handler(params)
            except ApiError as err:
                if err.error_code == 429:
                    self.count_429 += 1
                superseded = polling and (
                    request.transport is None or request.transport.is_closing()
                )
                if not superseded:
                    self.calls.append(FakeCall(method, _loggable(params), False, err.description))
                    self._log(
                        self._chat_for_params(params),
                        f"⚠️ {method} → {err.error_code} {err.description}",
                    )
                response = self._respond(err.envelope(), err.error_code)
            else:
                if not polling or result:
                    self.calls.append(FakeCall(method, _loggable(params), True, None))
                response = self._respond({"ok": True, "result": result})
            if stall is not None and stall.deliver:
                if counted:
                    self._in_flight -= 1
                    counted = False
                await self._sleep(stall.seconds)
            return response
        finally:
            if counted:
                self._in_flight -= 1
            if not polling:
                self._touch()

    @staticmethod
    def _take(table: dict[str, deque[Any]], method: str) -> Any:
        queue = table.get(method.lower())
        if not queue:
            return None
        item = queue[0]
        item.count -= 1
        if item.count <= 0:
            queue.popleft()
        return item

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    def _check_rate(self, chat_id: Any, method: str = "sendMessage") -> None:
        now = time.monotonic()
        while self._sent_times and now - self._sent_times[0] > 1.0:
            self._sent_times.popleft()
        limits = self.rate_limits
        if len(self._sent_times) >= limits.overall:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is not None:
            times = self._chat_sent_times.setdefault(chat.id, deque())
            window, limit = (
                (limits.private_window, limits.private)
                if chat.is_private
                else (limits.group_window, limits.group)
            )
            while times and now - times[0] > window:
                times.popleft()
            if len(times) >= limit:
                retry = max(1, int(window - (now - times[0])) + 1)
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
            times.append(now)
            self.rate_log.append((now, method, chat.id))
        self._sent_times.append(now)

    def _chat_for_params(self, params: dict[str, Any]) -> FakeChat | None:
        """The chat a call is about, for the transcript."""
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return self._chats.get(chat_id)
        press = self._presses.get(str(params.get("callback_query_id")))
        return press.message.chat if press is not None else None

    # ------------------------------------------------------------------ internals: checks

    def _resolve_chat(self, chat_id: Any) -> FakeChat:
        if isinstance(chat_id, str):
            raise ApiError.bad_request("chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError.bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError.bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def _check_reachable(self, chat: FakeChat) -> None:
        if chat.is_private:
            user = chat.user
            assert user is not None
            if user.deactivated:
                raise ApiError.forbidden("user is deactivated")
            if user.blocked:
                raise ApiError.forbidden("bot was blocked by the user")
            if not user.has_started:
                raise ApiError.forbidden("bot can't initiate conversation with a user")
            return
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.bot_status == "kicked":
            raise ApiError.forbidden(f"bot was kicked from the {kind}")
        if chat.bot_status == "left":
            raise ApiError.forbidden(f"bot is not a member of the {kind}")

    def _format(
        self, text: str, parse_mode: str | None, entities: list[Any] | None, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        if parse_mode:
            if parse_mode.lower() != "html":
                raise ApiError.bad_request(f"parse_mode {parse_mode} not implemented in fake")
            try:
                plain, ents = parse_html(text)
            except HtmlParseError as err:
                raise ApiError.bad_request(f"can't parse entities: {err}") from None
        else:
            plain, ents = text, [e for e in entities or [] if isinstance(e, dict)]
        size = utf16_len(plain)
        if caption:
            if size > MAX_CAPTION:
                raise ApiError.bad_request("message caption is too long")
        else:
            if not plain.strip():
                raise ApiError.bad_request("message text is empty")
            if size > MAX_TEXT:
                raise ApiError.bad_request("message is too long")
        return plain, ents

    def _check_markup(
        self, markup: dict[str, Any] | None, chat: FakeChat | None = None
    ) -> dict[str, Any] | None:
        if markup is None or "inline_keyboard" not in markup:
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError.bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        total = 0
        for row in rows:
            if len(row) > 8:
                raise ApiError.bad_request("REPLY_MARKUP_TOO_LONG")
            for button in row:
                total += 1
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError.bad_request("can't parse inline keyboard button: Text is empty")
                actions = [a for a in _BUTTON_ACTIONS if a in button]
                if len(actions) != 1:
                    raise ApiError.bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                        if not actions
                        else "can't parse inline keyboard button: only one of the optional "
                        "fields must be used"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                        raise ApiError.bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = button["url"]
                    if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url):
                        raise ApiError.bad_request("BUTTON_URL_INVALID")
                if "web_app" in button:
                    self._check_web_app_button(button["web_app"], chat)
        if total > 100:
            raise ApiError.bad_request("REPLY_MARKUP_TOO_LONG")
        return markup

    @staticmethod
    def _check_web_app(web_app: Any, where: str) -> None:
        """A WebAppInfo: Telegram opens Mini Apps over HTTPS only."""
        url = web_app.get("url") if isinstance(web_app, dict) else None
        if not isinstance(url, str) or not re.match(r"^https://[^/\s]+\S*$", url):
            raise ApiError.bad_request(
                f"{where} Web App URL '{url}' is invalid: Only HTTPS links are allowed"
            )

    def _check_web_app_button(self, web_app: Any, chat: FakeChat | None) -> None:
        """Real Telegram: a web_app inline button only in a private chat with the bot
        (BUTTON_TYPE_INVALID in groups and channels: in a group, a t.me link to the bot's
        Mini App is the way), and only to an HTTPS address."""
        if chat is not None and not chat.is_private:
            raise ApiError.bad_request("BUTTON_TYPE_INVALID")
        self._check_web_app(web_app, "inline keyboard button")

    def _reply_target(self, chat: FakeChat, params: dict[str, Any]) -> FakeMessage | None:
        reply = params.get("reply_parameters")
        if not reply:
            return None
        target = chat.find(int(reply.get("message_id", 0)))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise ApiError.bad_request("message to be replied not found")
        return target

    def _bot_message(self, chat: FakeChat, message_id: int, missing: str) -> FakeMessage:
        msg = chat.find(message_id)
        if msg is None:
            raise ApiError.bad_request(missing)
        return msg

    def _input_file(self, value: Any, kind: str) -> FakeFile:
        if isinstance(value, UploadedFile):
            mime = value.content_type or None
            return self._store_file(kind, value.content, value.filename or None, mime)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        raise ApiError.bad_request("wrong file identifier/HTTP URL specified")

    def _log_bot_message(self, msg: FakeMessage) -> None:
        body = msg.text if msg.text is not None else self._describe_media(msg)
        self._log(msg.chat, f"🤖 Bot{_reply_note(msg)}: {_indent(body)}")
        self._log_buttons(msg.reply_markup)

    # ------------------------------------------------------------------ methods

    async def _m_true(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": self.has_main_web_app,
        }

    async def _m_set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params["url"])
        if not url:
            return await self._m_delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(url)):
            raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _WEBHOOK_SECRET_RE.match(str(secret)):
            raise ApiError.bad_request("bad webhook: secret token contains unallowed characters")
        if "allowed_updates" in params:
            self.allowed_updates = [str(x) for x in params["allowed_updates"]]
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret is not None else None
        self.webhook_max_connections = int(params.get("max_connections") or 40)
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        async with self._cond:
            self._cond.notify_all()
        return True

    async def _m_delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        async with self._cond:
            self._cond.notify_all()
        return True

    async def _m_get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": sum(1 for p in self._pending if not p.delivered),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
        if self.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_last_error
        return info

    # ------------------------------------------------------------------ webhook delivery

    async def post_to_webhook(
        self, update: dict[str, Any], *, secret: str | None, url: str | None = None
    ) -> int:
        """POST an update to the webhook as anybody could (a forged request, say): the
        status the bot's server answered. Loopback addresses only."""
        target = url or self.webhook_url
        if not _loopback(target):
            raise ValueError(f"the fake posts only to 127.0.0.1/localhost, not {target!r}")
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with (
            ClientSession() as session,
            session.post(target, json=update, headers=headers) as response,
        ):
            return response.status

    async def _deliver_webhook(self) -> None:
        """Like Telegram: while a webhook is set, POST each pending update to it, in order,
        with the secret header; an answer other than 2xx (or none) is an error to retry."""
        wait = 0.05
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while not self._stopping.is_set() and self.webhook_url:
                url = self.webhook_url
                self._pending = [p for p in self._pending if self._allowed(p.kind)]
                item = next((p for p in self._pending if not p.delivered), None)
                if item is None:

                    def ready(current: str = url) -> bool:
                        return (
                            self._stopping.is_set()
                            or self.webhook_url != current
                            or any(not p.delivered for p in self._pending)
                        )

                    async with self._cond:
                        await self._cond.wait_for(ready)
                    continue
                if not _loopback(url):  # never traffic to another machine from a test
                    self.webhook_last_error = (self._now(), "fake: delivers to loopback only")
                    async with self._cond:
                        await self._cond.wait_for(lambda u=url: self.webhook_url != u)
                    continue
                headers = {"Content-Type": "application/json"}
                if self.webhook_secret is not None:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
                status, error = 0, ""
                try:
                    async with session.post(
                        url, data=json.dumps(item.update), headers=headers
                    ) as response:
                        status = response.status
                        error = f"Wrong response from the webhook: {status} {response.reason}"
                except (ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {type(exc).__name__}"
                self.webhook_posts.append((item.update_id, status))
                self._touch()
                if 200 <= status < 300:
                    item.delivered = True
                    self._pending = [p for p in self._pending if p is not item]
                    wait = 0.05
                    continue
                self.webhook_last_error = (self._now(), error)
                await self._sleep(wait)
                wait = min(wait * 2, 1.0)

    async def _m_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        raise AssertionError("handled by _m_get_updates_http")  # pragma: no cover

    async def _m_get_updates_http(
        self, params: dict[str, Any], request: web.Request
    ) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._cond:
            self._cond.notify_all()  # terminates an older long poll with 409
        offset = params.get("offset")
        if offset is not None:
            if offset < 0:
                self._pending = self._pending[offset:]
            else:
                self._pending = [p for p in self._pending if p.update_id >= offset]
        if "allowed_updates" in params:
            self.allowed_updates = [str(x) for x in params["allowed_updates"]]
        self._pending = [p for p in self._pending if self._allowed(p.kind)]
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)

        def ready() -> bool:
            return (
                any(self._allowed(p.kind) for p in self._pending)
                or self._stopping.is_set()
                or (self._poll_generation != generation)
            )

        if not ready() and timeout > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout), self._cond:
                    await self._cond.wait_for(ready)
        if self._poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
            )
        self._pending = [p for p in self._pending if self._allowed(p.kind)]
        batch = self._pending[:limit]
        for p in batch:
            p.delivered = True
        if batch:
            self._touch()
        return [p.update for p in batch]

    async def _m_set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise ApiError.bad_request("too many commands")
        clean: list[dict[str, str]] = []
        for c in commands:
            command = str(c.get("command", ""))
            description = str(c.get("description", ""))
            if not _COMMAND_RE.match(command.lower()):
                raise ApiError.bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError.bad_request("command description must be 1-256 characters")
            clean.append({"command": command.lower(), "description": description})
        self._commands[self._scope_key(params)] = clean
        return True

    async def _m_get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return list(self._commands.get(self._scope_key(params), []))

    async def _m_delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _scope_key(self, params: dict[str, Any]) -> tuple[str, int | None, int | None, str]:
        scope = params.get("scope") or {"type": "default"}
        scope_type = str(scope.get("type", "default"))
        chat_id = scope.get("chat_id")
        if chat_id is not None:
            chat_id = self._resolve_chat(int(chat_id)).id
        user_id = scope.get("user_id")
        return (scope_type, chat_id, user_id, str(params.get("language_code") or ""))

    async def _m_set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        button = params.get("menu_button")
        if button is not None:
            kind = button.get("type") if isinstance(button, dict) else None
            if kind not in ("commands", "web_app", "default"):
                raise ApiError.bad_request("can't parse menu button: unknown type")
            if kind == "web_app":
                if not button.get("text"):
                    raise ApiError.bad_request("can't parse menu button: text is empty")
                self._check_web_app(button.get("web_app"), "menu button")
        if "chat_id" in params:
            chat = self._resolve_chat(params["chat_id"])
            if not chat.is_private:  # the menu button belongs to private chats only
                raise ApiError.bad_request("chat not found")
            chat.menu_button = button
        else:
            self.bot_settings["menu_button"] = button
        return True

    async def _m_store_setting(self, params: dict[str, Any]) -> bool:
        for key, value in params.items():
            lang = params.get("language_code") or ""
            if key != "language_code":
                self.bot_settings[f"{key}:{lang}" if lang else key] = value
        return True

    async def _m_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params["chat_id"])
        self._check_reachable(chat)
        plain, ents = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._check_markup(params.get("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        msg = self._new_message(
            chat,
            None,
            text=plain,
            entities=ents,
            raw_text=params["text"],
            reply_markup=markup,
            reply_to=reply_to,
        )
        self._log_bot_message(msg)
        return msg.to_api()

    async def _send_media(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat = self._resolve_chat(params["chat_id"])
        self._check_reachable(chat)
        caption: str | None = params.get("caption")
        cap_plain: str | None = None
        cap_ents: list[dict[str, Any]] = []
        if caption:
            cap_plain, cap_ents = self._format(
                caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
            )
        markup = self._check_markup(params.get("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        stored = self._input_file(params[kind], kind)
        if stored.size > 50 * 1024 * 1024:
            raise ApiError(413, "Request Entity Too Large")
        msg = self._new_message(
            chat,
            None,
            caption=cap_plain,
            caption_entities=cap_ents,
            raw_text=caption,
            reply_markup=markup,
            reply_to=reply_to,
            document=stored if kind == "document" else None,
            photo=stored if kind == "photo" else None,
        )
        self._log_bot_message(msg)
        return msg.to_api()

    async def _m_send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(params, "document")

    async def _m_send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(params, "photo")

    async def _m_send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        self._check_reachable(chat)
        if params["action"] not in _CHAT_ACTIONS:
            raise ApiError.bad_request("wrong parameter action in request")
        return True

    def _edit_target(self, params: dict[str, Any]) -> FakeMessage:
        if "inline_message_id" in params:
            raise ApiError.bad_request("inline messages not implemented in fake")
        if "chat_id" not in params or "message_id" not in params:
            raise ApiError.bad_request("message identifier is not specified")
        chat = self._resolve_chat(params["chat_id"])
        self._check_reachable(chat)
        msg = self._bot_message(chat, params["message_id"], "message to edit not found")
        if not msg.from_bot or msg.service:
            raise ApiError.bad_request("message can't be edited")
        return msg

    async def _m_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._edit_target(params)
        if msg.text is None:
            raise ApiError.bad_request("there is no text in the message to edit")
        plain, ents = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._check_markup(params.get("reply_markup"), msg.chat)
        if plain == msg.text and ents == msg.entities and markup == msg.reply_markup:
            raise ApiError.bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.history.append(msg.text)
        had_buttons = bool(msg.buttons)
        msg.text, msg.entities, msg.raw_text = plain, ents, params["text"]
        msg.reply_markup = markup
        msg.edit_date = self._now()
        self._log(msg.chat, f"🤖 Bot ✏️ (modifica msg {msg.message_id}): {_indent(plain)}")
        self._log_buttons(markup)
        if had_buttons and not msg.buttons:
            self._transcript.append("    (pulsanti rimossi)")
        return msg.to_api()

    async def _m_edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._edit_target(params)
        if msg.document is None and msg.photo_file is None:
            raise ApiError.bad_request("there is no caption in the message to edit")
        caption: str = params.get("caption") or ""
        plain, ents = (
            self._format(
                caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
            )
            if caption
            else ("", [])
        )
        markup = self._check_markup(params.get("reply_markup"), msg.chat)
        if (
            (plain or None) == msg.caption
            and ents == msg.caption_entities
            and (markup == msg.reply_markup)
        ):
            raise ApiError.bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.history.append(msg.caption)
        msg.caption, msg.caption_entities, msg.raw_text = plain or None, ents, caption
        msg.reply_markup = markup
        msg.edit_date = self._now()
        self._log(msg.chat, f"🤖 Bot ✏️ (didascalia msg {msg.message_id}): {_indent(plain)}")
        self._log_buttons(markup)
        return msg.to_api()

    async def _m_edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._edit_target(params)
        markup = self._check_markup(params.get("reply_markup"), msg.chat)
        if markup == msg.reply_markup or (not markup and not msg.reply_markup):
            raise ApiError.bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.reply_markup = markup
        msg.edit_date = self._now()
        self._log(msg.chat, f"🤖 Bot ✏️ (pulsanti msg {msg.message_id})")
        if markup:
            self._log_buttons(markup)
        else:
            self._transcript.append("    (pulsanti rimossi)")
        return msg.to_api()

    async def _m_delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        msg = self._bot_message(chat, params["message_id"], "message to delete not found")
        if not msg.from_bot and not chat.is_private and not chat.bot_can_delete:
            raise ApiError.bad_request("message can't be deleted")
        msg.deleted = True
        self._log(chat, f"🤖 Bot 🗑️ (elimina msg {msg.message_id})")
        return True

    async def _m_answer_callback_query(self, params: dict[str, Any]) -> bool:
        press = self._presses.get(params["callback_query_id"])
        if (
            press is None
            or press.answer is not None
            or time.monotonic() - press.created_at > self.callback_answer_timeout
        ):
            raise ApiError.bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text: str | None = params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        show_alert = bool(params.get("show_alert", False))
        url = params.get("url")
        # Outside games Telegram opens only a link to the bot itself with a start parameter
        # (t.me/<bot>?start=<1-64 of A-Za-z0-9_->) from a callback answer.
        if url is not None and not re.fullmatch(
            rf"https://t\.me/{re.escape(self.bot.username or '')}\?start=[A-Za-z0-9_-]{{1,64}}",
            str(url),
        ):
            raise ApiError.bad_request("URL_INVALID")
        press.set_answer(CallbackAnswer(text=text, show_alert=show_alert, url=url))
        if text:
            self._transcript.append(f"    ↳ {'popup' if show_alert else 'avviso'}: «{text}»")
        return True

    def _pin_checks(self, chat: FakeChat) -> None:
        self._check_reachable(chat)
        if not chat.is_private and not (chat.bot_status == "administrator" and chat.bot_can_pin):
            raise ApiError.bad_request("not enough rights to manage pinned messages in the chat")

    async def _m_pin_chat_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        self._pin_checks(chat)
        msg = self._bot_message(chat, params["message_id"], "message to pin not found")
        msg.pinned = True
        if msg.message_id in chat.pinned_ids:
            chat.pinned_ids.remove(msg.message_id)
        chat.pinned_ids.append(msg.message_id)
        self._log(chat, f"🤖 Bot 📌 fissa msg {msg.message_id}")
        return True

    async def _m_unpin_chat_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        self._pin_checks(chat)
        message_id = params.get("message_id") or (chat.pinned_ids[-1] if chat.pinned_ids else None)
        if message_id is None:
            return True
        msg = self._bot_message(chat, message_id, "message to unpin not found")
        msg.pinned = False
        if message_id in chat.pinned_ids:
            chat.pinned_ids.remove(message_id)
        self._log(chat, f"🤖 Bot 📌 sblocca msg {msg.message_id}")
        return True

    async def _m_get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params["chat_id"])
        data = chat.to_api()
        if chat.pinned_ids:
            pinned = chat.find(chat.pinned_ids[-1])
            if pinned is not None:
                data["pinned_message"] = pinned.to_api(with_reply=False)
        return fill_required("ChatFullInfo", {**data, "max_reaction_count": 11})

    async def _m_get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params["chat_id"])
        user_id = params["user_id"]
        if user_id == self.bot.id:
            user = self.bot.to_api()
        elif user_id in self._users:
            user = self._users[user_id].to_api()
        else:
            raise ApiError.bad_request("PARTICIPANT_ID_INVALID")
        return self._member_api(chat, user, self._user_status(chat, user_id))

    async def _m_get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._resolve_chat(params["chat_id"])
        if chat.is_private:
            raise ApiError.bad_request("there are no administrators in the private chat")
        out = []
        for uid in sorted({*(chat.admins), *([chat.creator_id] if chat.creator_id else [])}):
            out.append(
                self._member_api(chat, self._users[uid].to_api(), self._user_status(chat, uid))
            )
        if chat.bot_status == "administrator":
            out.append(self._member_api(chat, self.bot.to_api(), "administrator"))
        return out

    async def _m_get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise ApiError.bad_request("invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise ApiError.bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _m_leave_chat(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        if chat.is_private:
            raise ApiError.bad_request("chat member status can't be changed in private chats")
        if not chat.bot_is_member:
            raise ApiError.forbidden("bot is not a member of the group chat")
        old = chat.bot_status
        chat.bot_status = "left"
        self._log(chat, "🤖 Bot lascia il gruppo")
        creator = self._users.get(chat.creator_id or 0)
        if creator is not None:
            await self._enqueue(
                "my_chat_member", self._chat_member_updated(chat, creator, old, "left")
            )
        return True


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    """Params for the call log: uploaded files are summarised."""
    return {
        k: (f"<file {v.filename} {len(v.content)} B>" if isinstance(v, UploadedFile) else v)
        for k, v in params.items()
    }
