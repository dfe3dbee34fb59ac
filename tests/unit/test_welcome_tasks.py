"""The welcome after approval and /aiuto offer the same tasks (one catalogue:
bot.views.common.TASKS): every task the welcome offers is one /aiuto offers the role, with a
button that starts it and a line that says it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import translator
from bot.services.common.tasks import commands_for, welcome_tasks
from bot.views.common import TASKS, HelpPage, help_keyboard
from bot.views.registration.joining import decision_message
from storage.models import Member, MemberStatus, Role

SINCE = datetime(2026, 12, 1, tzinfo=UTC)


def _member(role: Role, *, coordinator: bool = False) -> Member:
    return Member(
        union_id=1,
        person_id=1,
        role=role,
        status=MemberStatus.ACTIVE,
        is_coordinator=coordinator,
        requested_at=SINCE,
    )


@pytest.mark.parametrize("role", list(Role))
def test_every_welcome_task_is_an_aiuto_task_of_the_role(role: Role) -> None:
    member = _member(role)
    for_role, for_all = commands_for(member, private=True, may_create=False)
    may = {c.name for c in (*for_role, *for_all)}
    tasks = welcome_tasks(member)
    assert 2 <= len(tasks) <= 3, role
    assert set(tasks) <= may, role
    # The same buttons as /aiuto's, in the same order.
    page = HelpPage(
        role=role, coordinator=False, for_role=tuple(for_role), for_all=tuple(for_all), private=True
    )
    tr = translator("it")
    keyboard = help_keyboard(page, tr)
    assert keyboard is not None
    assert [b.data for row in keyboard.rows for b in row] == [f"help:go:{t}" for t in tasks]
    text = decision_message(
        "Unione Reno Galliera", True, tr, role=role, by="Giulia Neri", tasks=tasks
    )
    for task in tasks:
        assert tr.gettext(TASKS[task].doing or "") in text


def test_each_role_is_welcomed_to_what_it_does_first() -> None:
    assert welcome_tasks(_member(Role.SINDACO)) == ("riunione", "calendario", "azioni")
    assert welcome_tasks(_member(Role.TECNICO)) == ("aggiornamento", "calendario", "azioni")
    assert welcome_tasks(_member(Role.ASSESSORE)) == ("calendario", "azioni", "team")
    assert welcome_tasks(_member(Role.STAFF)) == ("calendario", "azioni", "team")


def test_every_task_with_a_button_can_be_said_in_the_welcome() -> None:
    for name, task in TASKS.items():
        assert (task.button is None) == (task.doing is None), name
