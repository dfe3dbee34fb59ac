"""The political table's votes and the coordinator's closing, under a decision's messages.

The political table votes, one vote per Comune (`vote_on_decision`): the Sindaco, or the
Assessore in their place, who never overrides a vote the Sindaco cast. The coordinator closes
the question (`ask_outcome`, then `close_with_outcome`, which records and announces the outcome:
bot.services.summaries.decisions.close_decision), or goes back to the votes (`back_to_votes`);
later marks it carried out (`mark_done`).

Every press is re-checked here from the database: who presses (an active member of the
decision's Union, the right role, the coordinator), the decision's state, and in a group that
the press landed on a message the decision was posted as (`Press.where`; the chat itself is
checked by the handler with `bot.scope.button_refusal`). A message of the decision whose id the
bot never learnt (a send that ended `uncertain`, a closing keyboard sent afresh) is adopted, so
the decision's edits reach it; /decisione's list carries buttons of several decisions, so it is
checked but never adopted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.presses import Press, Pressed
from bot.services.summaries.decisions import close_decision, decision_message
from storage.models import Decision, DecisionStatus, DecisionVote, DecisionVoteChoice, Member, Role
from storage.repositories import core as core_repo
from storage.repositories import summaries as repo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecisionRefused:
    """Nothing changed. `reason`: not_member, not_its_message, vote_closed, invalid,
    not_a_voter, sindaco_voted, not_coordinator, not_coordinator_done, already_closed,
    still_open, already_done (bot.views.summaries.decision_refused words each)."""

    reason: str


@dataclass(frozen=True)
class VoteCast:
    choice: DecisionVoteChoice
    dirty_chat_ids: tuple[int, ...]  # the chats whose decision message now owes an edit


@dataclass(frozen=True)
class OutcomeAsked:
    """«Chiudi» pressed: the decision's message is to show the outcomes instead of the votes."""

    decision_id: int
    text: str


@dataclass(frozen=True)
class DecisionChanged:
    """`change`: back (to the votes), closed (the outcome recorded and announced), done.
    The decision's messages owe an edit, which shows at once (a coordinator's action)."""

    change: str
    dirty_chat_ids: tuple[int, ...]


async def decision_union_id(session: AsyncSession, decision_id: int) -> int | None:
    """The Union of a decision (None when it does not exist): for the chat check."""
    decision = await session.get(Decision, decision_id)
    return decision.union_id if decision is not None else None


@dataclass(frozen=True)
class _Presser:
    decision: Decision
    member: Member


async def _presser(
    session: AsyncSession,
    decision_id: int,
    telegram_user_id: int,
    press: Press | None,
    button: str,
    *,
    adopt: bool = True,
    coordinator: bool = False,
) -> _Presser | DecisionRefused:
    """The decision and the member pressing its button, when the press counts (and, with
    `coordinator`, when the presser is the coordinator of the decision's Union)."""
    decision = await session.get(Decision, decision_id)
    if decision is not None and not await _on_its_message(
        session, decision.id, press, button=button, adopt=adopt
    ):
        return DecisionRefused("not_its_message")
    member = (
        await core_repo.member_of(
            session, union_id=decision.union_id, telegram_user_id=telegram_user_id
        )
        if decision is not None
        else None
    )
    if decision is None or member is None:
        return DecisionRefused("not_member")
    if coordinator and not member.is_coordinator:
        done = button.startswith("done")
        return DecisionRefused("not_coordinator_done" if done else "not_coordinator")
    return _Presser(decision, member)


async def _on_its_message(
    session: AsyncSession, decision_id: int, press: Press | None, *, button: str, adopt: bool
) -> bool:
    """Does a press count here? In private (no `press`) the membership decides; in a group
    only on a message the decision was posted as (adopted when the bot never learnt its id)."""
    if press is None:
        return True
    where = press.where(await repo.decision_shown_at(session, decision_id))
    if where is Pressed.SHOWN:
        return True
    if where is Pressed.CARRIED:
        if adopt:
            assert press.message_id is not None  # CARRIED: the pressed message is the bot's
            await repo.add_decision_message(
                session, decision_id=decision_id, chat_id=press.chat_id, message_id=press.message_id
            )
            logger.info(
                "Decision %s: adopted message %s in chat %s",
                decision_id,
                press.message_id,
                press.chat_id,
            )
        return True
    logger.info(
        "Button dec:%s on decision %s refused in group %s: not on a message of the decision",
        button,
        decision_id,
        press.chat_id,
    )
    return False


def sindaco_holds(existing: tuple[DecisionVote, Role | None] | None, voter: Member) -> bool:
    """An Assessore stands in for the Sindaco, never over them: the Comune's vote cast by its
    Sindaco stays when the Assessore presses."""
    return (
        existing is not None
        and voter.role == Role.ASSESSORE
        and existing[1] == Role.SINDACO
        and existing[0].member_id != voter.id
    )


async def vote_on_decision(
    session: AsyncSession,
    *,
    decision_id: int,
    telegram_user_id: int,
    choice: DecisionVoteChoice | None,
    press: Press | None,
    now: datetime,
) -> VoteCast | DecisionRefused:
    """One vote for each of the voter's Comuni, replacing the Comune's earlier vote. `choice`
    is None when the button's data named none (forged)."""
    found = await _presser(session, decision_id, telegram_user_id, press, "vote")
    if isinstance(found, DecisionRefused):
        return found
    decision, member = found.decision, found.member
    comuni = await core_repo.municipality_ids_of(session, member.id)
    if decision.status != DecisionStatus.OPEN:
        return DecisionRefused("vote_closed")
    if choice is None:
        return DecisionRefused("invalid")
    if member.role not in (Role.SINDACO, Role.ASSESSORE) or not comuni:
        return DecisionRefused("not_a_voter")
    voted = 0
    for municipality_id in comuni:
        existing = await repo.vote_of_comune(
            session, decision_id=decision.id, municipality_id=municipality_id
        )
        if sindaco_holds(existing, member):
            continue
        await repo.cast_vote(
            session,
            decision_id=decision.id,
            municipality_id=municipality_id,
            member_id=member.id,
            choice=choice,
            now=now,
        )
        voted += 1
    if not voted:
        return DecisionRefused("sindaco_voted")
    dirty = await repo.mark_decision_dirty(session, decision_id=decision.id, now=now)
    return VoteCast(choice, tuple(dirty))


async def ask_outcome(
    session: AsyncSession,
    *,
    decision_id: int,
    telegram_user_id: int,
    press: Press | None,
    language: str,
) -> OutcomeAsked | DecisionRefused:
    """«Chiudi la votazione (chi coordina)»: the outcomes to choose from, on the decision's message."""
    found = await _presser(session, decision_id, telegram_user_id, press, "close", coordinator=True)
    if isinstance(found, DecisionRefused):
        return found
    decision = found.decision
    if not decision.status.waiting:  # open, or postponed: the coordinator closes it
        return DecisionRefused("already_closed")
    shown = await decision_message(session, decision, language=language)
    return OutcomeAsked(decision.id, shown.text)


async def back_to_votes(
    session: AsyncSession,
    *,
    decision_id: int,
    telegram_user_id: int,
    press: Press | None,
    now: datetime,
) -> DecisionChanged | DecisionRefused:
    """«Indietro» from the outcomes: the decision's messages show it as it stands again."""
    found = await _presser(session, decision_id, telegram_user_id, press, "back", coordinator=True)
    if isinstance(found, DecisionRefused):
        return found
    dirty = await repo.mark_decision_dirty(session, decision_id=found.decision.id, now=now)
    return DecisionChanged("back", tuple(dirty))


async def close_with_outcome(
    session: AsyncSession,
    *,
    decision_id: int,
    telegram_user_id: int,
    outcome: DecisionStatus | None,
    press: Press | None,
    now: datetime,
    language: str,
) -> DecisionChanged | DecisionRefused:
    """The coordinator's outcome: recorded with its votes, announced (`close_decision`).
    `outcome` is None when the button's data named none (forged)."""
    found = await _presser(
        session, decision_id, telegram_user_id, press, "outcome", coordinator=True
    )
    if isinstance(found, DecisionRefused):
        return found
    if outcome is None:
        return DecisionRefused("invalid")
    locked = await repo.lock_decision(session, found.decision.id)
    if locked is None or not locked.status.waiting:
        return DecisionRefused("already_closed")
    dirty = await close_decision(
        session,
        decision_id=found.decision.id,
        member_id=found.member.id,
        outcome=outcome,
        now=now,
        language=language,
    )
    return DecisionChanged("closed", tuple(dirty))


async def mark_done(
    session: AsyncSession,
    *,
    decision_id: int,
    telegram_user_id: int,
    press: Press | None,
    listed: bool,
    now: datetime,
) -> DecisionChanged | DecisionRefused:
    """«Segna come attuata»: an approved decision leaves the summaries. `listed`: pressed on
    /decisione's list, a message of no one decision (checked, never adopted)."""
    button = "done_listed" if listed else "done"
    found = await _presser(
        session, decision_id, telegram_user_id, press, button, adopt=not listed, coordinator=True
    )
    if isinstance(found, DecisionRefused):
        return found
    decision = found.decision
    if decision.status == DecisionStatus.OPEN:
        return DecisionRefused("still_open")
    if decision.status == DecisionStatus.DONE:
        return DecisionRefused("already_done")
    if decision.status != DecisionStatus.APPROVED:  # an older message's button
        return DecisionRefused("not_approved")
    decision.status, decision.done_at = DecisionStatus.DONE, now
    dirty = await repo.mark_decision_dirty(session, decision_id=decision.id, now=now)
    return DecisionChanged("done", tuple(dirty))
