"""Who has answered a round: the use case behind /aggiornamento stato, reminders and summaries.

No `telegram` import: other features (the political summary's "who has not reported") can
call `technician_states` with their own session.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import update_rounds as rules
from storage.models import OutboxStatus, UpdateRound
from storage.repositories import actions as repo
from storage.repositories import outbox as outbox_repo

INVITE_PREFIX = "upd:inv:"


def invite_key(round_id: int, member_id: int) -> str:
    return f"{INVITE_PREFIX}{round_id}:{member_id}"


@dataclass(frozen=True)
class TechnicianState:
    technician: repo.Technician
    required: frozenset[int]  # their Comuni's actions and the intercommunal ones
    updated: frozenset[int]  # of those, updated in this round (by anyone: the latest stands)
    no_news: bool
    unreachable: bool

    @property
    def answered(self) -> bool:
        return rules.has_answered(
            required=self.required, updated=self.updated, no_news=self.no_news
        )


async def invitation_failures(session: AsyncSession, round_id: int) -> set[int]:
    """Member ids whose round invitation Telegram refused (403: never started, blocked)."""
    rows = await outbox_repo.status_by_key_prefix(session, f"{INVITE_PREFIX}{round_id}:")
    return {
        int(r.dedup_key.rsplit(":", 1)[1])
        for r in rows
        if r.status == OutboxStatus.FAILED and (r.error or "").startswith("Forbidden")
    }


async def technician_states(session: AsyncSession, round_: UpdateRound) -> list[TechnicianState]:
    techs = await repo.technicians(session, round_.union_id)
    updated = await repo.updated_in_round(session, round_.id)
    no_news = await repo.no_news_members(session, round_.id)
    failed = await invitation_failures(session, round_.id)
    actions = await repo.list_actions(session, union_id=round_.union_id)
    out = []
    for t in techs:
        mine = set(t.municipality_ids)
        required = frozenset(
            a.id for a in actions if a.municipality_id is None or a.municipality_id in mine
        )
        out.append(
            TechnicianState(
                technician=t,
                required=required,
                updated=frozenset(required & updated),
                no_news=t.member.id in no_news,
                unreachable=(not t.person.reachable) or t.member.id in failed,
            )
        )
    return out
