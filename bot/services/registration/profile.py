"""/profilo: how the team sees me — the name, and the form I am named in («Sindaca» or
«Sindaco», «coordinatrice» or «coordinatore»), each changed by the person alone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.registration import rules
from bot.views.registration.profile import MyProfile, NameAsked, NameRefused
from bot.views.registration.refusals import Refused
from storage.models import Form, Person
from storage.repositories import core as core_repo

PROFILE_NAME_FLOW = "profile_name"


async def _me(session: AsyncSession, telegram_user_id: int) -> tuple[Person, MyProfile] | None:
    """Their person row and profile, while they are in a team (active or waiting)."""
    person = await core_repo.person_by_telegram_id(session, telegram_user_id)
    memberships = await core_repo.memberships_of(session, telegram_user_id=telegram_user_id)
    if person is None or not memberships:
        return None
    roles = tuple((u.name, m.role, m.is_coordinator) for m, u in memberships)
    return person, MyProfile(name=person.display_name or "", form=person.form, roles=roles)


async def show_profile(session: AsyncSession, *, telegram_user_id: int) -> MyProfile | Refused:
    found = await _me(session, telegram_user_id)
    return found[1] if found is not None else Refused.NOTHING_TO_ERASE


async def set_form(
    session: AsyncSession, *, telegram_user_id: int, form: Form
) -> MyProfile | Refused:
    """The form they want to be named in, from now on, everywhere the bot names them."""
    found = await _me(session, telegram_user_id)
    if found is None:
        return Refused.STALE
    person, profile = found
    person.form = form
    return MyProfile(name=profile.name, form=form, roles=profile.roles)


async def ask_name(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, now: datetime
) -> NameAsked | Refused:
    """«✏️ Cambia nome»: the next text they write is their new name."""
    found = await _me(session, telegram_user_id)
    if found is None:
        return Refused.STALE
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        flow=PROFILE_NAME_FLOW,
        step="name",
        data={},
        now=now,
    )
    return NameAsked(found[1].name)


async def cancel_name(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int
) -> MyProfile | Refused:
    await core_repo.clear_conversation(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
    found = await _me(session, telegram_user_id)
    return found[1] if found is not None else Refused.STALE


async def rename_me(
    session: AsyncSession, *, telegram_user_id: int, chat_id: int, text: str
) -> MyProfile | NameRefused | Refused:
    """The name typed: the team sees it from now on (checked like any name the bot keeps)."""
    found = await _me(session, telegram_user_id)
    if found is None:
        await core_repo.clear_conversation(
            session, telegram_user_id=telegram_user_id, chat_id=chat_id
        )
        return Refused.STALE
    name, problem = rules.check_display_name(text)
    if problem is not None:
        return NameRefused(problem)
    person, profile = found
    person.display_name = name
    await core_repo.clear_conversation(session, telegram_user_id=telegram_user_id, chat_id=chat_id)
    return MyProfile(name=name, form=profile.form, roles=profile.roles, renamed=True)
