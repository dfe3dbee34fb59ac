"""/start and /aiuto: which Unions the reader is in here, and which commands they may use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.common.tasks import commands_for
from bot.services.registration.rules import may_create_unions
from bot.views.common import HelpPage, Welcome
from storage.models import Member, Union
from storage.repositories import core as core_repo


@dataclass(frozen=True)
class Reader:
    """Who asks /start or /aiuto, and where."""

    telegram_user_id: int
    first_name: str  # on Telegram: their name here until they choose one
    group_chat_id: int | None  # None: in private
    admin_ids: tuple[int, ...]  # BOT_ADMIN_IDS, who may create Unions (none: anyone)


async def _memberships_here(
    session: AsyncSession, *, telegram_user_id: int, group_chat_id: int | None
) -> list[tuple[Member, Union]]:
    """Their active memberships; in a group only those of the Unions linked to it: the others
    are nobody's business there (a group may hold people of other Unions, or none)."""
    memberships = await core_repo.memberships_of(session, telegram_user_id=telegram_user_id)
    if group_chat_id is None:
        return memberships
    linked = {link.union_id for link in await core_repo.links_of_chat(session, group_chat_id)}
    return [(m, u) for m, u in memberships if u.id in linked]


async def welcome(session: AsyncSession, *, reader: Reader) -> Welcome:
    """/start without an invite: hello, and their Unions (here)."""
    person = await core_repo.person_by_telegram_id(session, reader.telegram_user_id)
    memberships = await _memberships_here(
        session, telegram_user_id=reader.telegram_user_id, group_chat_id=reader.group_chat_id
    )
    return Welcome(
        name=(person and person.display_name) or reader.first_name,
        unions=tuple(u.name for _m, u in memberships),
        may_create_unions=may_create_unions(
            admin_ids=reader.admin_ids, telegram_user_id=reader.telegram_user_id
        ),
    )


async def may_start(session: AsyncSession, *, reader: Reader, command: str) -> bool:
    """Whether /aiuto offers `command` to this reader here: a task button of /aiuto or of the
    welcome is pressed by its own reader (the command then checks again, as when typed)."""
    page = await help_page(session, reader=reader)
    return any(c.name == command for c in (*page.for_role, *page.for_all))


async def help_page(session: AsyncSession, *, reader: Reader) -> HelpPage:
    """/aiuto: by the reader's role here (a coordinator's membership wins over the others)."""
    memberships = await _memberships_here(
        session, telegram_user_id=reader.telegram_user_id, group_chat_id=reader.group_chat_id
    )
    best: Member | None = None
    for member, _u in memberships:
        if best is None or member.is_coordinator:
            best = member
    private = reader.group_chat_id is None
    may_create = may_create_unions(
        admin_ids=reader.admin_ids, telegram_user_id=reader.telegram_user_id
    )
    for_role, for_all = commands_for(best, private=private, may_create=may_create)
    person = await core_repo.person_by_telegram_id(session, reader.telegram_user_id)
    return HelpPage(
        form=person.form if person is not None else None,
        role=best.role if best is not None else None,
        coordinator=best is not None and best.is_coordinator,
        for_role=tuple(for_role),
        for_all=tuple(for_all),
        private=private,
    )
