"""Each person's own menu, owed in the transaction of the change and settled once set, on
SQLite and PostgreSQL (bot.services.common.menus; storage.repositories.menus)."""

from __future__ import annotations

from datetime import timedelta

from bot.services import common, registration
from bot.views.registration.leaving import Leaving
from bot.views.registration.team import MemberShown
from storage.db import Database
from storage.models import Role
from tests.storage.test_registration_use_cases import GIULIA, MARIO, NOW, _join, _union


async def _owed(db: Database) -> dict[int, common.PersonalMenu]:
    async with db.transaction() as s:
        return {m.chat_id: m for m in await common.owed_menus(s, admin_ids=())}


def _names(menu: common.PersonalMenu) -> list[str]:
    assert menu.commands is not None
    return [c.name for c in menu.commands]


async def test_menus_are_owed_by_changes_and_settled_once_set(db: Database) -> None:
    union_id, (argelato, _b) = await _union(db)
    member_id = await _join(db, union_id, MARIO, "Mario", argelato, Role.SINDACO)
    owed = await _owed(db)
    assert set(owed) == {GIULIA, MARIO}  # the creator (coordinator) and the approved Sindaco
    assert "riunione" in _names(owed[MARIO]) and "invito" not in _names(owed[MARIO])
    assert {"invito", "crea_unione"} <= set(_names(owed[GIULIA]))
    async with db.transaction() as s:
        await common.menu_set(s, chat_id=GIULIA, owed_since=owed[GIULIA].owed_since)
        # A change made while Mario's menu was being set: the older send does not settle it.
        made = await registration.set_coordinator(
            s,
            member_id=member_id,
            coordinator=True,
            telegram_user_id=GIULIA,
            now=NOW + timedelta(seconds=5),
            default_language="it",
        )
        assert isinstance(made, MemberShown)
        await common.menu_set(s, chat_id=MARIO, owed_since=owed[MARIO].owed_since)
    owed = await _owed(db)
    assert set(owed) == {MARIO} and "invito" in _names(owed[MARIO])
    async with db.transaction() as s:
        await common.menu_set(s, chat_id=MARIO, owed_since=owed[MARIO].owed_since)
        erased = await registration.erase_me(s, telegram_user_id=MARIO, now=NOW)
        assert erased == Leaving.ERASED
    owed = await _owed(db)
    assert set(owed) == {MARIO} and owed[MARIO].commands is None  # back to everyone's menu
