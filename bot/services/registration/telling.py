"""Messages registration queues for people (bot.delivery sends them): each in its reader's
language, to their private chat."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.readers import reader_translator
from bot.views.keyboard import Keyboard, to_dict
from storage.models import Person
from storage.repositories import outbox as outbox_repo


async def tell(
    session: AsyncSession,
    person: Person,
    *,
    key: str,
    text: Callable[[Translator], str],
    union_id: int,
    now: datetime,
    default_language: str,
    keyboard: Callable[[Translator], Keyboard | None] | None = None,
    names: Collection[int] = (),
) -> None:
    """Queue `text` (rendered in the person's language) once under `key`; nothing for someone
    the bot has no chat with (erased). `names`: the people the text names (outbox.enqueue)."""
    if person.telegram_user_id is None:
        return
    tr = reader_translator(person, default_language=default_language)
    payload: dict[str, Any] = {"text": text(tr)}
    if keyboard is not None:
        payload["reply_markup"] = to_dict(keyboard(tr))
    await outbox_repo.enqueue(
        session,
        dedup_key=key,
        chat_id=person.telegram_user_id,
        method="sendMessage",
        payload=payload,
        union_id=union_id,
        person_id=person.id,
        now=now,
        names=names,
    )
