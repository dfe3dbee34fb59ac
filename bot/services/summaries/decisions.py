"""Blockers go up, decisions come down: the loop between the two tables.

A technician's update marked "needs a political decision" becomes a Decision once
(`sync_decisions`); its question is the technician's own question, else their note, else the
action's title (`question_of`). The political table votes under the decision's messages
(bot.services.summaries.voting); once the coordinator chooses the outcome it is recorded with
its votes (`close_decision`) and posted to the technical table and to the technician who asked.
`/decisione <testo>` records a decision taken at the table (`record_decision`); without text it
lists the decisions not yet carried out (`decision_desk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services import repeats
from bot.services.readers import reader_translator
from bot.services.summaries.build import question_view
from bot.services.summaries.summary import render_decision
from bot.services.summaries.targets import key_suffix, table_targets
from bot.views.keyboard import Keyboard, to_dict
from bot.views.summaries import (
    CountedVote,
    PendingDecision,
    asker_notice,
    decision_keyboard,
    outcome_announcement,
    outcome_text,
)
from storage.models import (
    Decision,
    DecisionMessage,
    DecisionStatus,
    Member,
    OutboxMessage,
    Person,
    TableKind,
    Union,
)
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as repo
from storage.repositories.summaries import DecisionFact, DecisionRequest

MAX_DECISION = 2000  # characters of a decision written with /decisione


# --- from the technicians' updates ----------------------------------------------------------


def question_of(request: DecisionRequest) -> str:
    """What the political table is asked: the technician's question, else the note of their
    update, else the action's title."""
    return (request.decision_question or request.note or "").strip() or request.action_title


async def sync_decisions(session: AsyncSession, *, now: datetime) -> list[int]:
    """Every update that asks for a political decision becomes a Decision, once (the update is
    its source). Returns the ids of the decisions created now."""
    created: list[int] = []
    for request in await repo.decision_requests(session):
        decision_id = await repo.add_requested_decision(
            session, request=request, question=question_of(request), now=now
        )
        if decision_id is not None:
            created.append(decision_id)
    return created


# --- a decision's message -----------------------------------------------------------------


@dataclass(frozen=True)
class DecisionShown:
    """A decision's message: its text, its buttons, and the people its text names (its outbox
    rows record them, for /cancellami)."""

    text: str
    keyboard: Keyboard | None
    named: frozenset[int]


async def decision_message(
    session: AsyncSession, decision: Decision, *, language: str
) -> DecisionShown:
    """The message the political table votes on, as it stands now."""
    return (await decision_messages(session, [decision], language=language))[0]


async def decision_messages(
    session: AsyncSession, decisions: Sequence[Decision], *, language: str
) -> list[DecisionShown]:
    """The messages of several decisions of one Union (the questions under a summary), in the
    same few queries however many they are: one round of reads per decision made a 20-Comuni
    summary's queueing as long as its reading (bench/README.md)."""
    if not decisions:
        return []
    tr = translator(language)
    facts = await repo.decision_facts(session, decisions)
    comuni = [m.name for m in await repo.political_comuni(session, decisions[0].union_id)]
    return [
        DecisionShown(
            render_decision(
                tr, question=question_view(fact), comuni=comuni, asked_by=fact.asked_by
            ),
            decision_keyboard(tr, decision.id, decision.status),
            frozenset(fact.named_people),
        )
        for decision, fact in zip(decisions, facts, strict=True)
    ]


async def decision_message_now(
    session: AsyncSession, *, decision_id: int, language: str, kind: str = DecisionMessage.CARD
) -> DecisionShown | None:
    """For the owed edits of a decision's messages (bot.message_refresh), each as what it is:
    the political table's card, or the outcome announced to the technical table (`kind`);
    None once gone."""
    decision = await session.get(Decision, decision_id)
    if decision is None:
        return None
    if kind in (DecisionMessage.OUTCOME, DecisionMessage.RECORD):
        asked = kind == DecisionMessage.OUTCOME
        return await _outcome_shown(session, decision, language=language, asked=asked)
    return await decision_message(session, decision, language=language)


async def decision_message_sent(session: AsyncSession, row: OutboxMessage) -> None:
    """A decision's message (`decmsg:<id>:…`, `decout:<id>:<status>…`) was sent: remember where, so its
    edits and its buttons' checks know the message."""
    parts = row.dedup_key.split(":")
    decision_id = int(parts[1])
    kind = DecisionMessage.CARD
    if parts[0] == "decout":
        kind = DecisionMessage.RECORD if parts[2:3] == [_RECORDED] else DecisionMessage.OUTCOME
    if row.message_id is not None:
        await repo.add_decision_message(
            session,
            decision_id=decision_id,
            chat_id=row.chat_id,
            message_id=row.message_id,
            kind=kind,
        )


# --- the outcome ----------------------------------------------------------------------------


async def close_decision(
    session: AsyncSession,
    *,
    decision_id: int,
    member_id: int,
    outcome: DecisionStatus,
    now: datetime,
    language: str,
    at_meeting: bool = False,
    words: str | None = None,
) -> list[int]:
    """Record the outcome with its votes (in `language`, the instance's) and tell the technical
    table and the technician who asked. Returns the chats whose decision message now owes an
    edit. `at_meeting`: the outcome a meeting's minutes record (`meetings.minutes.approve`),
    whose `words` on what was decided are the outcome's text instead of the votes; without
    words and without votes it has no text (not «Nessun Comune ha votato»: the table decided
    sitting)."""
    decision = await session.get(Decision, decision_id)
    assert decision is not None
    fact = await repo.decision_fact(session, decision)
    decision.status = outcome
    decision.closed_at = now
    decision.closed_by_member_id = member_id
    votes = [CountedVote(v.comune, v.choice) for v in fact.votes]
    if words:
        decision.outcome_text = words
    elif votes or not at_meeting:
        decision.outcome_text = outcome_text(translator(language), votes)
    else:
        decision.outcome_text = None
    dirty_chats = await repo.mark_decision_dirty(session, decision_id=decision.id, now=now)
    await _announce_outcome(session, decision, now=now, language=language, asked=True, fact=fact)
    return dirty_chats


async def _announce_outcome(
    session: AsyncSession,
    decision: Decision,
    *,
    now: datetime,
    language: str,
    asked: bool,
    fact: DecisionFact | None = None,
) -> None:
    """The decision to the technical table (its group, or else its coordinators in private)
    and, when `asked` (a question closed, not a decision recorded with /decisione), its outcome
    and a word to the technician who asked, in their language. `fact`: the decision's facts
    when the caller read them already (its Comune, action and people do not change with it)."""
    shown = await _outcome_shown(session, decision, language=language, asked=asked, fact=fact)
    text, keyboard = shown.text, shown.keyboard
    said = decision.status if asked else _RECORDED
    for chat_id, person_id in await table_targets(session, decision.union_id, TableKind.TECHNICAL):
        await outbox_repo.enqueue(
            session,
            # The outcome in the key: a question postponed, then decided, is told twice (and the
            # key says a decision recorded, whose message then says no outcome: `_outcome_shown`).
            dedup_key=f"decout:{decision.id}:{said}{key_suffix(person_id)}",
            chat_id=chat_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML", "reply_markup": to_dict(keyboard)},
            union_id=decision.union_id,
            person_id=person_id,
            now=now,
        )
    if asked and decision.asked_by_member_id is not None:
        await _tell_asker(session, decision, now=now, language=language)


_RECORDED = "recorded"  # a decout key's outcome part for a decision recorded with /decisione


async def _outcome_shown(
    session: AsyncSession,
    decision: Decision,
    *,
    language: str,
    asked: bool,
    fact: DecisionFact | None = None,
) -> DecisionShown:
    """The outcome as the technical table reads it, sent and later edited (marked «attuata»,
    decided after a postponement): a question closed (`asked`) says its outcome; a decision
    recorded with /decisione is one, and says nothing more."""
    tr = translator(language)
    if fact is None:
        fact = await repo.decision_fact(session, decision)
    done = decision.status == DecisionStatus.DONE  # only an approved decision is carried out
    text = outcome_announcement(
        tr,
        question=decision.question,
        where=[x for x in (fact.comune, fact.action_code) if x],
        outcome=(DecisionStatus.APPROVED if done else decision.status) if asked else None,
        outcome_text=decision.outcome_text,
    )
    if done:
        text += "\n✔️ " + tr.gettext("Attuata")
    return DecisionShown(
        text, decision_keyboard(tr, decision.id, decision.status), frozenset(fact.named_people)
    )


async def _tell_asker(
    session: AsyncSession, decision: Decision, *, now: datetime, language: str
) -> None:
    assert decision.asked_by_member_id is not None
    asker = await session.get(Member, decision.asked_by_member_id)
    person = await session.get(Person, asker.person_id) if asker else None
    if person is None or person.telegram_user_id is None or person.erased_at is not None:
        return
    text = asker_notice(
        reader_translator(person, default_language=language),
        question=decision.question,
        outcome=decision.status,
        outcome_text=decision.outcome_text,
    )
    await outbox_repo.enqueue(
        session,
        dedup_key=f"decask:{decision.id}:{decision.status}",
        chat_id=person.telegram_user_id,
        method="sendMessage",
        payload={"text": text, "parse_mode": "HTML"},
        union_id=decision.union_id,
        person_id=person.id,
        now=now,
    )


# --- /decisione -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionDesk:
    """/decisione without text: the decisions not yet carried out, oldest first."""

    pending: tuple[PendingDecision, ...]


@dataclass(frozen=True)
class DecisionNotRecorded:
    """`reason`: not_coordinator, technical_group (written in the technical table's group),
    too_long."""

    reason: str


@dataclass(frozen=True)
class DecisionRecorded:
    decision_id: int
    technical_group: bool  # False: the technical group is not linked, the coordinators got it


@dataclass(frozen=True)
class DecisionRepeated:
    """The same decision, moments ago by the same coordinator (bot.services.repeats)."""

    created_at: datetime
    timezone: str


def _desk_refusal(member: Member | None, group_table: TableKind | None) -> str | None:
    if member is None or not member.is_coordinator:
        return "not_coordinator"
    if group_table == TableKind.TECHNICAL:
        return "technical_group"
    return None


async def decision_desk(
    session: AsyncSession, *, member_id: int, group_table: TableKind | None
) -> DecisionDesk | DecisionNotRecorded:
    """What /decisione without text shows the coordinator. `group_table`: the table of the
    linked group it was written in (None in private); `member_id` as found in this
    transaction."""
    member = await session.get(Member, member_id)
    refusal = _desk_refusal(member, group_table)
    if refusal is not None or member is None:
        return DecisionNotRecorded(refusal or "not_coordinator")
    pending = await repo.decisions_not_done(session, union_id=member.union_id)
    return DecisionDesk(
        tuple(
            PendingDecision(
                d.id,
                d.question,
                open=d.status != DecisionStatus.APPROVED,
                postponed=d.status == DecisionStatus.POSTPONED,
            )
            for d in pending  # a rejected one is not pending: nothing to carry out
        )
    )


async def decision_link(
    session: AsyncSession, *, union_id: int, telegram_user_id: int
) -> DecisionDesk | DecisionNotRecorded:
    """/decisione's desk reached through a link (`?start=dec-<union>`), in private: for the
    coordinator of the Union the link names, checked now."""
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    if member is None:
        return DecisionNotRecorded("not_coordinator")
    return await decision_desk(session, member_id=member.id, group_table=None)


async def record_decision(
    session: AsyncSession,
    *,
    union_id: int,
    telegram_user_id: int,
    group_table: TableKind | None,
    text: str,
    now: datetime,
    language: str,
) -> DecisionRecorded | DecisionRepeated | DecisionNotRecorded:
    """A decision taken at the political table, written down by the coordinator: recorded as
    approved and sent to the technical table (in `language`, the instance's)."""
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    refusal = _desk_refusal(member, group_table)
    if refusal is not None or member is None:
        return DecisionNotRecorded(refusal or "not_coordinator")
    if len(text) > MAX_DECISION:
        return DecisionNotRecorded("too_long")
    recent = await repo.recent_decisions_by(
        session, union_id=union_id, member_id=member.id, since=repeats.repeat_since(now)
    )
    earlier = repeats.find_repeat(
        ((d, d.question, d.created_at) for d in recent), text=text, now=now
    )
    if earlier is not None:
        union = await session.get(Union, union_id)
        assert union is not None  # the member's
        return DecisionRepeated(earlier.created_at, union.timezone)
    decision = await repo.add_decision(
        session, union_id=union_id, text=text, member_id=member.id, now=now
    )
    await _announce_outcome(session, decision, now=now, language=language, asked=False)
    technical = await core_repo.linked_chat(session, union_id=union_id, table=TableKind.TECHNICAL)
    return DecisionRecorded(decision.id, technical_group=technical is not None)
