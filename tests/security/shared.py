"""What the matrix tests share: running one cell (a command sent or a button pressed) and
reading what came of it — the answer, what changed in the database, what leaked."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from tests.fakes.fake_world import FakeChat, FakeMessage
from tests.security.world import PEOPLE, SECRET_A, SECRET_B, World, diff, leaks, snapshot

Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass
class Outcome:
    toast: str | None
    answered: bool
    messages: list[
        FakeMessage
    ]  # sent or edited by the bot in the chat and the caller's private chat
    changed: str  # "" when nothing changed in the database
    leaked: list[str]

    @property
    def text(self) -> str:
        parts = [self.toast or ""]
        for m in self.messages:
            parts.append(m.text or m.caption or "")
            parts.append(str(m.buttons))
        return "\n".join(parts)


def fill(template: str, world: World) -> str:
    a = world.a
    return template.format(
        A=a.union_id,
        inv=a.invite_id,
        mun=a.municipality_ids[0],
        pending=a.member_ids["pending"],
        sindaco=a.member_ids["sindaco"],
        slot=a.slot_ids[0],
        poll=a.poll_id,
        meeting=a.meeting_id,
        item=a.agenda_item_id,
        proposal=a.proposal_id,
        task=a.task_id,
        draft=a.draft_meeting_id,
        draft_item=a.draft_item_id,
        filed=a.filed_meeting_id,
        act=a.action_ids[0],
        round=a.round_id,
        dec=a.decision_id,
        ann=a.announcement_id,
        doc=a.document_id,
        guest=a.guest_id,
        material=a.material_id,
    )


def secrets_for(caller: str, chat: str) -> tuple[str, ...]:
    """What must not appear in what this caller sees in this chat."""
    if chat == "unlinked":
        return SECRET_A + SECRET_B  # a group of nobody's: no Union's data at all
    if chat in ("political", "technical"):
        return SECRET_B  # Union A's groups: nothing of Union B
    if chat == "other":
        return SECRET_A  # Union B's group: nothing of Union A
    if caller in ("outsider", "pending"):
        return SECRET_A + SECRET_B
    if caller == "other_coord":
        return SECRET_A
    return SECRET_B


def _state(chats: list[FakeChat]) -> dict[int, tuple[str | None, str | None, Any]]:
    return {id(m): (m.text, m.caption, m.reply_markup) for chat in chats for m in chat.messages}


async def run_cell(
    world: World,
    caller: str,
    chat: str,
    *,
    command: str | None = None,
    data: str | None = None,
) -> Outcome:
    bot, fake = world.bot, world.bot.fake
    user = world.users[caller]
    target = world.chat_of(caller, chat)
    chats = list({c.id: c for c in (target, user.private_chat)}.values())
    before_msgs = _state(chats)
    before = await snapshot(bot)
    toast: str | None = None
    answered = True
    if command is not None:
        sent_before = sum(len(fake.sent_to(c)) for c in chats)
        await user.send(command, chat=None if chat == "private" else target)
        await fake.settle(quiet=0.01)
        if sum(len(fake.sent_to(c)) for c in chats) == sent_before:
            # settle() can return before PTB has queued the update (a loaded machine): give
            # the answer a few seconds before calling the command unanswered.
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(
                    lambda: sum(len(fake.sent_to(c)) for c in chats) > sent_before, timeout=5
                )
            await fake.settle(quiet=0.01)
    else:
        assert data is not None
        press = await user.press_forged(world.anchors[(caller, chat)], data)
        await fake.settle(quiet=0.01)
        if press.answer is None:  # the same race as for commands
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(lambda: press.answer is not None, timeout=5)
            await fake.settle(quiet=0.01)
        answered = press.answer is not None
        toast = press.answer.text if press.answer else None
    after = await snapshot(bot)
    touched = [
        m
        for c in chats
        for m in c.messages
        if m.from_bot
        and not m.service
        and (id(m) not in before_msgs or before_msgs[id(m)] != (m.text, m.caption, m.reply_markup))
    ]
    outcome = Outcome(
        toast=toast, answered=answered, messages=touched, changed=diff(before, after), leaked=[]
    )
    # The caller's own name is theirs to see (a greeting), wherever they are.
    own = PEOPLE[caller][1]
    outcome.leaked = leaks(outcome.text, tuple(s for s in secrets_for(caller, chat) if s != own))
    return outcome


async def unchanged(world: World, before: Snapshot) -> str:
    return diff(before, await snapshot(world.bot))


async def clear_dialogues(world: World) -> None:
    """Forget every open private dialogue (a test's precondition, not a bot action)."""
    from sqlalchemy import delete

    from storage.models import Conversation

    async with world.bot.db.transaction() as session:
        await session.execute(delete(Conversation))
