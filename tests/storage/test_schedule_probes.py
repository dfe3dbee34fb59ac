"""The tick's probes ask the database the same question as the work they stand for, from one
rule: a probe that said "nothing to do" while the work would act would leave the work undone
(a report never sent); one that said "due" for nothing would cost a run at every tick.

- `reports_to_offer` and bot.delivery.reoffer_reports: `outbox.offerable_where`;
- `rounds_owing_report` and the round's duties (`_report_unreachable`):
  `actions.round_owes_unreachable_report`.

Each state below is asked to both and to what the rule says it should be."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot import delivery
from bot.services.progress.rounds import UNREACHABLE_CLAIM
from bot.services.progress.status import INVITE_PREFIX, invite_key
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, RoundStatus, UpdateRound
from storage.repositories import actions as actions_repo
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import schedule as schedule_repo
from tests.factories import NOW, add_round, make_world


async def _probe(db: Database, clause: object) -> bool:
    async with db.transaction() as s:
        return bool(await s.scalar(select(clause)))  # type: ignore[call-overload]


async def _queue(db: Database, key: str, *, union_id: int | None = None) -> int:
    async with db.transaction() as s:
        await outbox_repo.enqueue(
            s,
            dedup_key=key,
            chat_id=4242,
            method="sendMessage",
            payload={"text": "x"},
            now=NOW,
            union_id=union_id,
        )
        return int(
            (
                await s.execute(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key))
            ).scalar_one()
        )


async def _set(db: Database, row_id: int, status: OutboxStatus, error: str | None = None) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status=status, error=error, attempts=1)
        )


async def test_the_owed_reports_probe_and_the_reoffer_agree(db: Database) -> None:
    since = NOW - delivery.REPORT_OWED_FOR
    probe = schedule_repo.reports_to_offer(delivery.REPORT_PREFIXES, since)
    row_id = await _queue(db, f"{delivery.REPORT_KEY_PREFIX}7:1")
    states = [
        (OutboxStatus.PENDING, None, False),  # not tried yet: not owed
        (OutboxStatus.SENT, None, False),
        (OutboxStatus.UNCERTAIN, None, True),  # its fate unknown
        (OutboxStatus.FAILED, f"{outbox_repo.SERVER_ERROR} Bad Gateway", True),  # 5xx kept on
        (OutboxStatus.FAILED, "Forbidden: bot was blocked by the user", False),  # a refusal
        (OutboxStatus.FAILED, "Server error: Bad Gateway", False),  # the prefix, exactly
        (OutboxStatus.FAILED, None, False),
        (OutboxStatus.PENDING, f"{outbox_repo.SERVER_ERROR} x", False),  # offered already
    ]
    for status, error, expected in states:
        await _set(db, row_id, status, error)
        async with db.transaction() as s:
            owed = await outbox_repo.owed(s, prefixes=delivery.REPORT_PREFIXES, since=since)
        offered = any(again for _row, again in owed)
        assert (await _probe(db, probe), offered) == (expected, expected), (status, error)


async def test_the_unreachable_report_probe_and_the_rounds_duties_agree(db: Database) -> None:
    async with db.transaction() as s:
        world = await make_world(s, comuni=1)
        round_ = await add_round(
            s, world, period="2026-12", opened_at=NOW, deadline_at=NOW + timedelta(days=7)
        )
        round_id, union_id, tech = round_.id, world.union.id, world.members["tecnico:0"].id
    probe = schedule_repo.rounds_owing_report(INVITE_PREFIX, UNREACHABLE_CLAIM)

    async def owes() -> bool:
        async with db.transaction() as s:
            return await actions_repo.owes_unreachable_report(
                s, round_id=round_id, invite_prefix=INVITE_PREFIX, claim_kind=UNREACHABLE_CLAIM
            )

    async def agree(expected: bool, state: str) -> None:
        assert (await _probe(db, probe), await owes()) == (expected, expected), state

    await agree(False, "no invitation queued")
    # another round's invitation (id 1 and 10 share a prefix as text: the key's ':' tells)
    await _queue(db, f"{INVITE_PREFIX}{round_id}0:1", union_id=union_id)
    await agree(False, "only another round's invitation")
    first = await _queue(db, invite_key(round_id, tech), union_id=union_id)
    second = await _queue(db, invite_key(round_id, tech + 1000), union_id=union_id)
    await agree(False, "invitations pending")
    await _set(db, first, OutboxStatus.SENT)
    await _set(db, second, OutboxStatus.SENDING)
    await agree(False, "one being sent")
    await _set(db, second, OutboxStatus.FAILED, "Forbidden: bot was blocked by the user")
    await agree(True, "all tried")
    async with db.transaction() as s:
        assert await core_repo.claim(
            s, kind="upd_remind_first", union_id=union_id, period="2026-12", now=NOW
        )
    await agree(True, "another claim of the round")
    async with db.transaction() as s:
        await s.execute(
            update(UpdateRound).where(UpdateRound.id == round_id).values(status=RoundStatus.CLOSED)
        )
    await agree(False, "the round closed")
    async with db.transaction() as s:
        await s.execute(
            update(UpdateRound).where(UpdateRound.id == round_id).values(status=RoundStatus.OPEN)
        )
        assert await core_repo.claim(
            s, kind=UNREACHABLE_CLAIM, union_id=union_id, period="2026-12", now=NOW
        )
    await agree(False, "the report claimed")
