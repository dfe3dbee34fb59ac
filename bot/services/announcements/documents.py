"""/documenti: links to the Union's shared folders, kept by the coordinator.

Anyone in the team reads the list (`shared_folders`); the coordinator, in private, adds a link
(`ask_for_link`, then the message «Titolo https://…», `add_link`) and removes one
(`remove_link`). A link is an http(s) address with a host (`parse_link`), once per Union.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.coordinators import (
    Ask,
    ask_coordinator,
    coordinated_union,
    coordinator_answered,
)
from bot.views.announcements import FolderLink, Folders
from storage.models import Member, Union
from storage.repositories import core as core_repo
from storage.repositories import summaries as repo

ADD_LINK_FLOW = "doc_add"  # the dialogue after «Aggiungi un link»
ADD_LINK = Ask(ADD_LINK_FLOW, "link")
MAX_URL = 1000
MAX_TITLE = 200


def parse_link(text: str) -> tuple[str, str] | None:
    """ "Cartella PAES https://…" → (title, url); None when no valid http(s) URL with a host."""
    words = text.split()
    urls = [w for w in words if w.lower().startswith(("http://", "https://"))]
    if len(urls) != 1:
        return None
    url = urls[0]
    if len(url) > MAX_URL:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ord(c) < 33 for c in url) or "<" in url or ">" in url or '"' in url:
        return None
    title = " ".join(w for w in words if w is not url).strip(" -—:")
    title = title or parts.hostname
    if len(title) > MAX_TITLE:
        return None
    return title, url


@dataclass(frozen=True)
class FoldersRefused:
    """Only the coordinator of the Union manages its links."""


async def _folders(session: AsyncSession, union: Union, *, manage: bool) -> Folders:
    links = await repo.documents(session, union.id)
    return Folders(
        union.id,
        union.name,
        tuple(FolderLink(link.id, link.title, link.url) for link in links),
        manage,
    )


async def shared_folders(session: AsyncSession, *, member_id: int, private: bool) -> Folders:
    """/documenti for the member found in this transaction: the coordinator manages the links
    in a private chat."""
    member = await session.get(Member, member_id)
    assert member is not None  # found by the caller in this transaction
    union = await session.get(Union, member.union_id)
    assert union is not None
    return await _folders(session, union, manage=member.is_coordinator and private)


@dataclass(frozen=True)
class LinkAsked:
    """The coordinator's next message is the link (`ADD_LINK_FLOW`)."""


async def ask_for_link(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, chat_id: int, now: datetime
) -> LinkAsked | FoldersRefused:
    asked = await ask_coordinator(session, ADD_LINK, union_id, telegram_user_id, chat_id, now)
    return LinkAsked() if asked else FoldersRefused()


@dataclass(frozen=True)
class LinkRemoved:
    removed: bool  # False: it was already gone
    folders: Folders


async def remove_link(
    session: AsyncSession, *, union_id: int, telegram_user_id: int, link_id: int | None
) -> LinkRemoved | FoldersRefused:
    union = await coordinated_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if union is None:
        return FoldersRefused()
    removed = link_id is not None and await repo.remove_document(
        session, union_id=union_id, document_id=link_id
    )
    return LinkRemoved(removed, await _folders(session, union, manage=True))


@dataclass(frozen=True)
class LinkAdded:
    added: bool  # False: the Union already had this address
    title: str
    folders: Folders


@dataclass(frozen=True)
class BadLink:
    """No valid address in the message: the coordinator may write it again."""


async def add_link(
    session: AsyncSession,
    *,
    union_id: int,
    telegram_user_id: int,
    chat_id: int,
    text: str,
    now: datetime,
) -> LinkAdded | BadLink | FoldersRefused:
    """The coordinator's «Titolo https://…» after «Aggiungi un link»: the dialogue ends."""
    parsed = parse_link(text)
    if parsed is None:
        return BadLink()
    title, url = parsed
    union = await coordinator_answered(
        session, union_id=union_id, telegram_user_id=telegram_user_id, chat_id=chat_id
    )
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    if union is None or member is None:
        return FoldersRefused()
    added = await repo.add_document(
        session, union_id=union_id, title=title, url=url, member_id=member.id, now=now
    )
    return LinkAdded(added, title, await _folders(session, union, manage=True))
