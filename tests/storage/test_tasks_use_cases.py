"""The tasks' dialogue without Telegram, on both databases (bot.services.meetings.tasks)."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.i18n import translator
from bot.services.meetings import tasks
from bot.services.meetings.attendance import GUEST_FLOW
from storage.db import Database
from storage.repositories import core as core_repo


async def test_an_old_annulla_ends_only_the_tasks_dialogue(db: Database, clock: FakeClock) -> None:
    """«Annulla» under a task's question ends that dialogue; pressed later, on an old message,
    it leaves alone the dialogue the coordinator opened since (here: adding a guest)."""
    now, user = clock.now(), 4242
    for flow, survives in ((tasks.TASK_FLOW, False), (GUEST_FLOW, True)):
        async with db.transaction() as session:
            await core_repo.set_conversation(
                session,
                telegram_user_id=user,
                chat_id=user,
                flow=flow,
                step="name",
                data={"meeting": 1},
                now=now,
            )
            stopped = await tasks.stop(
                session, meeting_id=1, telegram_user_id=user, now=now, tr=translator("it")
            )
            assert stopped.text == "Va bene, nessun compito registrato."
            assert stopped.keyboard is None  # no such meeting: no way back to its agenda
            left = await core_repo.get_conversation(
                session, telegram_user_id=user, chat_id=user, now=now
            )
        assert (left is not None) == survives, flow
