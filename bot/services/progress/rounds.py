"""The monthly round, as the tick runs it: open the rounds that are due (announced in the
technical group, an invitation to every technician with actions to report on, a word to the
coordinators), then each open round's duties (close it at its deadline, invite late joiners,
the reminders, the report on who could not be reached). Everything it says is queued in the
outbox, in its reader's language; the tick sends it.

Each piece runs in the caller's transaction, one Union or one round at a time
(bot.handlers.updates.scheduled): on SQLite a transaction holds the write lock, and a vote
pressed meanwhile waits for one round's duties at most.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, pick_language, translator
from bot.services.progress import rules
from bot.services.progress.status import (
    INVITE_PREFIX,
    invitation_failures,
    invite_key,
    technician_states,
)
from bot.views.rounds import (
    Invitation,
    Technician,
    round_announcement,
    round_opened,
    unreachable_report,
)
from bot.views.rounds import render_invitation as render
from bot.views.updates import union_tz
from storage.models import (
    OutboxMessage,
    Person,
    RoundStatus,
    TableKind,
    Union,
    UpdateRound,
    UpdateSettings,
)
from storage.repositories import actions as repo
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories.people import present_name

logger = logging.getLogger(__name__)

ANNOUNCE_PREFIX = "upd:ann:"
UNREACHABLE_CLAIM = "upd_unreachable"  # the report on who could not be reached, once a round


def reader_translator(person: Person, *, default_language: str) -> Translator:
    """The language of someone the round writes to: their chosen one, else their Telegram
    app's as last seen, else the instance default (bot.scope.tr_for's rule, without an update)."""
    return translator(
        pick_language(
            chosen=person.language, telegram_code=person.telegram_language, default=default_language
        )
    )


def settings_of_row(row: UpdateSettings | None) -> rules.RoundSettings:
    if row is None:
        return rules.DEFAULT_SETTINGS
    return rules.RoundSettings(
        enabled=row.enabled,
        fallback_day=row.fallback_day,
        fallback_hour=row.fallback_hour,
        fallback_deadline_days=row.fallback_deadline_days,
        deadline_days_before_meeting=row.deadline_days_before_meeting,
    )


# --- opening --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundsDue:
    union_id: int
    periods: list[str]  # the periods still to decide (a round neither opened nor skipped)


async def rounds_to_decide(session: AsyncSession, *, now: datetime) -> list[RoundsDue]:
    """The Unions with a round to open or skip, in one read (most ticks: none)."""
    unions = await repo.all_unions(session)
    checked = {p for u in unions for p in rules.periods_to_check(now, union_tz(u.timezone))}
    settled = await repo.settled_periods(session, periods=checked)
    # A skipped month is settled only until a meeting is fixed in it: that meeting still
    # earns its round if its deadline is ahead (docs/DESIGN.md, "The monthly cycle": the
    # round opens as soon as the meeting date is fixed). The plan below decides; a skip
    # stays claimed once.
    unions_by_id = {u.id: u for u in unions}
    for union_id, period, starts_at in await repo.skipped_with_meetings_ahead(
        session, periods=checked, after=now
    ):
        union = unions_by_id.get(union_id)
        if union is not None and rules.period_of(starts_at, union_tz(union.timezone)) == period:
            settled.discard((union_id, period))
    return [
        RoundsDue(union.id, periods)
        for union in unions
        if (
            periods := [
                p
                for p in rules.periods_to_check(now, union_tz(union.timezone))
                if (union.id, p) not in settled
            ]
        )
    ]


async def open_rounds(
    session: AsyncSession, *, due: RoundsDue, now: datetime, language: str
) -> int:
    """Open (or settle as skipped) the Union's rounds of `due.periods`, those not settled yet,
    and queue what an opening says. `language`: the technical group's. Returns the rounds
    opened."""
    union = await session.get(Union, due.union_id)
    if union is None:
        return 0
    tz = union_tz(union.timezone)
    settings = settings_of_row(await repo.settings_of(session, union.id))
    opened = 0
    for period in due.periods:
        if await repo.round_for_period(session, union_id=union.id, period=period) is not None:
            continue
        start, end = rules.month_bounds(period, tz)
        meetings = await repo.meetings_between(session, union_id=union.id, start=start, end=end)
        plan = rules.plan_round(
            period=period,
            now=now,
            tz=tz,
            settings=settings,
            meetings=[rules.MeetingInfo(id=m.id, starts_at=m.starts_at) for m in meetings],
        )
        if plan.decision == rules.Decision.SKIP:
            # A skipped month with a meeting too close for a round comes back here: claimed once.
            won = await core_repo.claim(
                session, kind=repo.ROUND_SKIP_CLAIM, union_id=union.id, period=period, now=now
            )
            # A Union created after that deadline missed nothing: no warning for it.
            if won and (plan.deadline_at is None or union.created_at < plan.deadline_at):
                logger.warning(
                    "Update round %s of Union %s skipped: its deadline passed while the bot was not running",
                    period,
                    union.id,
                )
            continue
        if plan.decision != rules.Decision.OPEN or plan.deadline_at is None:
            continue
        round_ = await repo.create_round(
            session,
            union_id=union.id,
            period=period,
            meeting_id=plan.meeting_id,
            deadline_at=plan.deadline_at,
            now=now,
        )
        if round_ is None:
            continue
        logger.info(
            "Update round %s opened for Union %s (deadline %s)", period, union.id, plan.deadline_at
        )
        await _enqueue_round_messages(session, union, round_, now, language)
        opened += 1
    return opened


@dataclass(frozen=True)
class _RoundActions:
    """A Union's open actions and the ones updated in the round, read once for all of a
    round's technicians (the opening and the reminders write to each of them: one read each
    made the opening tick hold the event loop for a whole Union's worth of queries)."""

    actions: list[repo.ListedAction]

    def of(self, t: repo.Technician) -> list[repo.ListedAction]:
        """What `repo.round_list` returns for the technician, in its order."""
        ids = set(t.municipality_ids)
        return [a for a in self.actions if a.municipality_id is None or a.municipality_id in ids]


async def _round_actions(session: AsyncSession, union_id: int, round_id: int) -> _RoundActions:
    return _RoundActions(
        await repo.round_list(session, union_id=union_id, municipality_ids=None, round_id=round_id)
    )


def _technician(t: repo.Technician, names: dict[int, str]) -> Technician:
    return Technician(
        name=present_name(t.person), comuni=tuple(names.get(i, "?") for i in t.municipality_ids)
    )


async def _enqueue_round_messages(
    session: AsyncSession, union: Union, round_: UpdateRound, now: datetime, language: str
) -> None:
    names = await core_repo.municipality_names(session, union.id, include_archived=True)
    techs = await repo.technicians(session, union.id)
    # A technician with no action to report on gets no message: there is nothing to ask.
    # The coordinator hears who was left out, and loading actions during the round reaches
    # them at the next tick (see _invite_late_joiners).
    known = await _round_actions(session, union.id, round_.id)
    with_actions = [bool(known.of(t)) for t in techs]
    asked = [t for t, yes in zip(techs, with_actions, strict=True) if yes]
    idle = [t for t, yes in zip(techs, with_actions, strict=True) if not yes]
    group = await core_repo.linked_chat(session, union_id=union.id, table=TableKind.TECHNICAL)
    if group is not None and asked:
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{ANNOUNCE_PREFIX}{round_.id}",
            chat_id=group.chat_id,
            method="sendMessage",
            payload={
                "text": round_announcement(
                    round_.period, round_.deadline_at, union.timezone, translator(language)
                )
            },
            union_id=union.id,
            now=now,
        )
    for t in asked:
        await _invite(session, union, round_, t, names, now=now, language=language, known=known)
    tech_ids = {t.member.id for t in techs}
    for member, person in await core_repo.coordinators(session, union.id):
        if member.id in tech_ids or person.telegram_user_id is None:
            continue
        text = round_opened(
            round_.period,
            round_.deadline_at,
            union.timezone,
            asked=len(asked),
            idle=[_technician(t, names) for t in idle],
            tr=reader_translator(person, default_language=language),
        )
        await outbox_repo.enqueue(
            session,
            dedup_key=f"upd:open:{round_.id}:{member.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": text},
            union_id=union.id,
            person_id=person.id,
            now=now,
            names=[t.person.id for t in idle],
        )


async def _invitation(
    session: AsyncSession,
    union: Union,
    round_: UpdateRound,
    t: repo.Technician,
    names: dict[int, str],
    tr: Translator,
    *,
    reminder: bool = False,
    known: _RoundActions | None = None,
) -> tuple[str, dict[str, object]]:
    actions = (
        known.of(t)
        if known is not None
        else await repo.round_list(
            session, union_id=union.id, municipality_ids=t.municipality_ids, round_id=round_.id
        )
    )
    text, keyboard = render(
        Invitation(
            union_id=union.id,
            union_name=union.name,
            round_id=round_.id,
            period=round_.period,
            deadline_at=round_.deadline_at,
            timezone=union.timezone,
            actions=actions,
            reminder=reminder,
        ),
        tr,
    )
    return text, keyboard.to_dict()


async def _invite(
    session: AsyncSession,
    union: Union,
    round_: UpdateRound,
    t: repo.Technician,
    names: dict[int, str],
    *,
    now: datetime,
    language: str,
    reminder: rules.ReminderKind | None = None,
    known: _RoundActions | None = None,
) -> bool:
    """Queue the round's invitation (or its reminder) to a technician; False when it was queued
    before (or they cannot be written to)."""
    if t.person.telegram_user_id is None:
        return False
    tr = reader_translator(t.person, default_language=language)
    text, markup = await _invitation(
        session, union, round_, t, names, tr, reminder=reminder is not None, known=known
    )
    key = (
        invite_key(round_.id, t.member.id)
        if reminder is None
        else f"upd:rem:{round_.id}:{t.member.id}:{reminder.value}"
    )
    return await outbox_repo.enqueue(
        session,
        dedup_key=key,
        chat_id=t.person.telegram_user_id,
        method="sendMessage",
        payload={"text": text, "reply_markup": markup},
        union_id=union.id,
        person_id=t.person.id,
        now=now,
        expires_at=round_.deadline_at,
    )


# --- an open round's duties -------------------------------------------------------------------


async def open_round_ids(session: AsyncSession) -> list[int]:
    return [r.id for r in await repo.open_rounds(session)]


async def round_duties(
    session: AsyncSession, *, round_id: int, now: datetime, language: str
) -> None:
    """Close the round at its deadline; before it, invite late joiners, report who could not be
    reached, and queue the reminder due now (each once, by its claim)."""
    round_ = await session.get(UpdateRound, round_id)
    union = await session.get(Union, round_.union_id) if round_ is not None else None
    if round_ is None or union is None or round_.status != RoundStatus.OPEN:
        return
    for missed in rules.missed_reminders(
        now=now, opened_at=round_.opened_at, deadline_at=round_.deadline_at
    ):
        # Sent in time, it holds its claim already; missed while the bot was down: skipped.
        if await core_repo.claim(
            session,
            kind=f"upd_remind_{missed.value}",
            union_id=union.id,
            period=round_.period,
            now=now,
        ):
            logger.info(
                "Update round %s of Union %s: reminder %s skipped (its moment passed while the bot was not running)",
                round_.period,
                union.id,
                missed.value,
            )
    if now >= round_.deadline_at:
        round_.status, round_.closed_at = RoundStatus.CLOSED, now
        # Invitations and reminders still waiting in the outbox expire at the deadline.
        logger.info("Update round %s of Union %s closed", round_.period, union.id)
        return
    await _invite_late_joiners(session, union, round_, now, language)
    await _report_unreachable(session, union, round_, now, language)
    kind = rules.due_reminder(now=now, opened_at=round_.opened_at, deadline_at=round_.deadline_at)
    if kind is None:
        return
    if not await core_repo.claim(
        session, kind=f"upd_remind_{kind.value}", union_id=union.id, period=round_.period, now=now
    ):
        return
    names = await core_repo.municipality_names(session, union.id, include_archived=True)
    known = await _round_actions(session, union.id, round_.id)
    sent = 0
    for state in await technician_states(session, round_):
        if state.answered:
            continue
        if await _invite(
            session,
            union,
            round_,
            state.technician,
            names,
            now=now,
            language=language,
            reminder=kind,
            known=known,
        ):
            sent += 1
    logger.info(
        "Update round %s of Union %s: reminder %s to %d technicians",
        round_.period,
        union.id,
        kind.value,
        sent,
    )


async def _invite_late_joiners(
    session: AsyncSession, union: Union, round_: UpdateRound, now: datetime, language: str
) -> None:
    """A technician approved while the round is open gets the same invitation (once); so does one
    whose Comune had no actions when the round opened, once the coordinator loads some."""
    rows = await outbox_repo.status_by_key_prefix(session, f"{INVITE_PREFIX}{round_.id}:")
    invited = {r.dedup_key for r in rows}
    late = [
        t
        for t in await repo.technicians(session, union.id)
        if invite_key(round_.id, t.member.id) not in invited
        and t.person.telegram_user_id is not None
    ]
    if not late:
        return
    known = await _round_actions(session, union.id, round_.id)
    late = [t for t in late if known.of(t)]
    if not late:
        return
    names = await core_repo.municipality_names(session, union.id, include_archived=True)
    for t in late:
        await _invite(session, union, round_, t, names, now=now, language=language, known=known)


async def _report_unreachable(
    session: AsyncSession, union: Union, round_: UpdateRound, now: datetime, language: str
) -> None:
    """Once the invitations were all tried, list the technicians Telegram refused to the coordinators."""
    if not await repo.owes_unreachable_report(
        session, round_id=round_.id, invite_prefix=INVITE_PREFIX, claim_kind=UNREACHABLE_CLAIM
    ):
        return
    if not await core_repo.claim(
        session, kind=UNREACHABLE_CLAIM, union_id=union.id, period=round_.period, now=now
    ):
        return
    failed = await invitation_failures(session, round_.id)
    if not failed:
        return
    names = await core_repo.municipality_names(session, union.id, include_archived=True)
    techs = [t for t in await repo.technicians(session, union.id) if t.member.id in failed]
    named = [_technician(t, names) for t in techs]
    for member, person in await core_repo.coordinators(session, union.id):
        if person.telegram_user_id is None:
            continue
        tr = reader_translator(person, default_language=language)
        await outbox_repo.enqueue(
            session,
            dedup_key=f"upd:unr:{round_.id}:{member.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": unreachable_report(round_.period, named, tr)},
            union_id=union.id,
            person_id=person.id,
            now=now,
            names=[t.person.id for t in techs],
        )


async def on_announcement_sent(session: AsyncSession, row: OutboxMessage) -> None:
    """The round's announcement reached the technical group: remember where, so that a reply to
    it is a note for the round (bot.services.progress.notes)."""
    round_id = row.dedup_key[len(ANNOUNCE_PREFIX) :]
    if not round_id.isdigit():
        return
    round_ = await session.get(UpdateRound, int(round_id))
    if round_ is not None:
        round_.announcement_chat_id, round_.announcement_message_id = row.chat_id, row.message_id
