"""Who is looking at the dashboard, and which Union they may see: re-read from the database on
every request (the session only says which Telegram user signed in, and when)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import pick_language
from bot.views.dashboard.model import NotAllowed, UnionChoice, Viewer
from storage.repositories import dashboard as repo


@dataclass(frozen=True)
class SignedIn:
    """A person with at least one active membership. `start_union_id`: the Union to open first
    (the one asked for, if they are its member; the only one; else None: the picker)."""

    telegram_user_id: int
    language: str
    unions: tuple[UnionChoice, ...]
    start_union_id: int | None


def viewer_language(
    *, chosen: str | None, client_language: str | None, stored: str | None, default: str
) -> str:
    """/lingua first, then the language of the Telegram client that opened the app, then the
    one last seen on the person's messages, then the instance default."""
    return pick_language(chosen=chosen, telegram_code=client_language or stored, default=default)


def _language_of(person: repo.PersonRow | None, client_language: str | None, default: str) -> str:
    """The language of someone who may be no member (or nobody the bot knows)."""
    return viewer_language(
        chosen=person.language if person else None,
        client_language=client_language,
        stored=person.telegram_language if person else None,
        default=default,
    )


async def sign_in(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    client_language: str | None,
    default_language: str,
    wanted_union_id: int | None = None,
) -> SignedIn | NotAllowed:
    """The Unions this Telegram user may look at. Nobody, or nobody with an active membership:
    NotAllowed("not_member")."""
    person = await repo.person_memberships(session, telegram_user_id=telegram_user_id)
    language = _language_of(person, client_language, default_language)
    if person is None or not person.memberships:
        return NotAllowed("not_member", language)
    unions = tuple(
        UnionChoice(m.union_id, m.union_name, m.is_coordinator) for m in person.memberships
    )
    ids = [u.union_id for u in unions]
    start = wanted_union_id if wanted_union_id in ids else (ids[0] if len(ids) == 1 else None)
    return SignedIn(telegram_user_id, language, unions, start)


async def viewer(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    union_id: int,
    client_language: str | None,
    default_language: str,
) -> Viewer | NotAllowed:
    """The viewer's active membership of this Union, or NotAllowed("not_member")."""
    row = await repo.viewer(session, telegram_user_id=telegram_user_id, union_id=union_id)
    if row is None:
        person = await repo.person_memberships(session, telegram_user_id=telegram_user_id)
        return NotAllowed("not_member", _language_of(person, client_language, default_language))
    return Viewer(
        telegram_user_id=telegram_user_id,
        member_id=row.member_id,
        union_id=row.union_id,
        union_name=row.union_name,
        timezone=row.timezone,
        role=row.role,
        is_coordinator=row.is_coordinator,
        municipality_ids=row.municipality_ids,
        language=viewer_language(
            chosen=row.language,
            client_language=client_language,
            stored=row.telegram_language,
            default=default_language,
        ),
        unions=row.unions,
    )
