"""Objects of the fake Telegram world: users, chats, messages, files, button presses."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tests.fakes.telegram_server import FakeTelegram

__all__ = [
    "BotIdentity",
    "CallbackAnswer",
    "FakeCall",
    "FakeChat",
    "FakeFile",
    "FakeMessage",
    "FakePress",
    "FakeUser",
]


class FakeCall(NamedTuple):
    """One Bot API request received by the fake."""

    method: str
    params: dict[str, Any]
    ok: bool
    error: str | None


@dataclass
class BotIdentity:
    """The bot's own user."""

    id: int
    first_name: str
    username: str
    is_bot: bool = True

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass(eq=False)
class FakeUser:
    """A Telegram user. Each has a private chat with the bot (chat id == user id)."""

    fake: FakeTelegram = field(repr=False)
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "it"
    has_started: bool = False
    blocked: bool = False
    deactivated: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    @property
    def private_chat(self) -> FakeChat:
        return self.fake.chat(self.id)

    def to_api(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d

    async def send(
        self,
        text: str,
        chat: FakeChat | None = None,
        reply_to: FakeMessage | None = None,
        mention_bot: bool = True,
    ) -> FakeMessage:
        """Send a text message (private chat with the bot when ``chat`` is None)."""
        return await self.fake.user_sends(self, text, chat, reply_to, mention_bot)

    async def press(
        self, message: FakeMessage, button: str, inaccessible: bool = False
    ) -> FakePress:
        """Press the inline button whose text or callback_data is ``button``.

        With ``inaccessible`` the update carries an InaccessibleMessage (``date`` 0), as Telegram
        does for old messages.
        """
        return await self.fake.user_presses(self, message, button, inaccessible)

    async def press_forged(
        self, message: FakeMessage, data: str, inaccessible: bool = False
    ) -> FakePress:
        """Send a callback query with arbitrary ``data`` (a tampered client) for ``message``."""
        return await self.fake.user_presses_forged(self, message, data, inaccessible)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        chat: FakeChat | None = None,
        caption: str | None = None,
    ) -> FakeMessage:
        return await self.fake.user_sends_file(
            self, "document", content, chat, caption, filename=filename, mime_type=mime_type
        )

    async def send_photo(
        self, content: bytes, chat: FakeChat | None = None, caption: str | None = None
    ) -> FakeMessage:
        return await self.fake.user_sends_file(
            self, "photo", content, chat, caption, filename=None, mime_type="image/jpeg"
        )

    async def block_bot(self) -> None:
        """Block the bot: sends fail with 403 and a ``my_chat_member`` update is enqueued."""
        await self.fake.user_blocks(self)

    def unblock_bot(self) -> None:
        self.blocked = False


@dataclass(eq=False)
class FakeChat:
    """A private chat, group or supergroup."""

    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    user: FakeUser | None = None  # the other side of a private chat
    creator_id: int | None = None
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    bot_status: str = "left"  # "member" | "administrator" | "left" | "kicked"
    bot_can_pin: bool = False
    bot_can_delete: bool = False
    migrated_to: int | None = None
    migrated_from: int | None = None
    messages: list[FakeMessage] = field(default_factory=list)
    next_message_id: int = 1
    pinned_ids: list[int] = field(default_factory=list)
    menu_button: dict[str, Any] | None = None

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    @property
    def label(self) -> str:
        """How the chat is named in transcripts."""
        if self.user is not None:
            return f"privata · {self.user.full_name}"
        return self.title or str(self.id)

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in {"member", "administrator"}

    def to_api(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.user is not None:
            d["first_name"] = self.user.first_name
            if self.user.last_name:
                d["last_name"] = self.user.last_name
            if self.user.username:
                d["username"] = self.user.username
        else:
            d["title"] = self.title
        return d

    def find(self, message_id: int) -> FakeMessage | None:
        for m in self.messages:
            if m.message_id == message_id and not m.deleted:
                return m
        return None


@dataclass(eq=False)
class FakeFile:
    """A file stored server-side (sent by a user or uploaded by the bot)."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 800
    height: int = 600

    @property
    def size(self) -> int:
        return len(self.content)

    def document_api(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            d["file_name"] = self.file_name
        if self.mime_type:
            d["mime_type"] = self.mime_type
        return d

    def photo_api(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "width": self.width,
                "height": self.height,
            }
        ]


@dataclass(eq=False)
class FakeMessage:
    """A message as stored by the fake (current state, plus edit history)."""

    chat: FakeChat
    message_id: int
    date: int
    sender: FakeUser | None  # None: the bot
    bot: BotIdentity = field(repr=False)
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    raw_text: str | None = None  # text or caption as the bot sent it (e.g. with HTML tags)
    reply_markup: dict[str, Any] | None = None
    document: FakeFile | None = None
    photo_file: FakeFile | None = None
    reply_to: FakeMessage | None = None
    history: list[str | None] = field(default_factory=list)  # previous texts, oldest first
    edit_date: int | None = None
    pinned: bool = False
    deleted: bool = False
    service: dict[str, Any] = field(default_factory=dict)  # new_chat_members, migrate_*, ...

    @property
    def from_bot(self) -> bool:
        return self.sender is None

    @property
    def photo(self) -> bytes | None:
        return self.photo_file.content if self.photo_file else None

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows as (text, callback_data, url or a Mini App's url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [
                (
                    b.get("text", ""),
                    b.get("callback_data") or b.get("url") or (b.get("web_app") or {}).get("url"),
                )
                for b in row
            ]
            for row in rows
        ]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    @property
    def edited(self) -> bool:
        return self.edit_date is not None

    def to_api(self, with_reply: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_api(),
            "from": self.bot.to_api() if self.sender is None else self.sender.to_api(),
        }
        if self.text is not None:
            d["text"] = self.text
            if self.entities:
                d["entities"] = self.entities
        if self.caption is not None:
            d["caption"] = self.caption
            if self.caption_entities:
                d["caption_entities"] = self.caption_entities
        if self.document is not None:
            d["document"] = self.document.document_api()
        if self.photo_file is not None:
            d["photo"] = self.photo_file.photo_api()
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            d["reply_markup"] = self.reply_markup
        if self.reply_to is not None and with_reply:
            d["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.edit_date is not None:
            d["edit_date"] = self.edit_date
        d.update(self.service)
        return d


@dataclass
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(eq=False)
class FakePress:
    """A press of an inline button; ``answer`` is filled in by answerCallbackQuery."""

    id: str
    user: FakeUser
    message: FakeMessage
    data: str
    created_at: float = field(default_factory=time.monotonic)
    answer: CallbackAnswer | None = None
    _event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def answered(self, timeout: float = 5) -> CallbackAnswer:  # noqa: ASYNC109
        """Wait until the bot answers this callback query."""
        async with asyncio.timeout(timeout):
            await self._event.wait()
        assert self.answer is not None
        return self.answer

    @property
    def toast(self) -> str | None:
        return self.answer.text if self.answer else None

    def set_answer(self, answer: CallbackAnswer) -> None:
        self.answer = answer
        self._event.set()
