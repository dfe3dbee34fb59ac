"""The Covenant clock: the political table is warned ahead of each Covenant of Mayors report.

From the Union's PAES approval date, a monitoring report is due every 2 years and an emissions
inventory every 4 (`next_milestones`); the warning goes 60 and 14 days ahead (`LEAD_DAYS`,
`leads_reached`), once per lead time: a claim `(covenant, Union, "<due>:<lead>")`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services.summaries.summary import (
    Milestone,
    leads_reached,
    next_milestones,
    render_covenant_warning,
)
from bot.services.summaries.targets import key_suffix, table_targets
from storage.models import TableKind
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as repo

logger = logging.getLogger(__name__)

COVENANT_CLAIM = "covenant"


@dataclass(frozen=True)
class CovenantDue:
    """A Union's warning for a report, with the lead times reached and not yet claimed: (days
    ahead, the claim's period)."""

    union_id: int
    union_name: str
    milestone: Milestone
    today: date
    leads: tuple[tuple[int, str], ...]


async def covenant_warnings_due(session: AsyncSession, *, now: datetime) -> list[CovenantDue]:
    """The warnings due now. Reads only: on almost every tick nothing is due and nothing is
    written (the claims already made are read in one query)."""
    candidates: list[CovenantDue] = []
    for union in await repo.unions_with_paes_date(session):
        if union.paes_approved_on is None:
            continue
        today = now.astimezone(ZoneInfo(union.timezone)).date()
        for milestone in next_milestones(union.paes_approved_on, today):
            leads = tuple(
                (lead, f"{milestone.due.isoformat()}:{lead}")
                for lead in leads_reached(milestone, today)
            )
            if leads:
                candidates.append(CovenantDue(union.id, union.name, milestone, today, leads))
    if not candidates:
        return []
    claimed = await core_repo.claimed_keys(
        session,
        kinds=[COVENANT_CLAIM],
        periods={period for due in candidates for _lead, period in due.leads},
    )
    due: list[CovenantDue] = []
    for candidate in candidates:
        new = tuple(
            (lead, period)
            for lead, period in candidate.leads
            if (COVENANT_CLAIM, candidate.union_id, period) not in claimed
        )
        if new:
            due.append(
                CovenantDue(
                    candidate.union_id,
                    candidate.union_name,
                    candidate.milestone,
                    candidate.today,
                    new,
                )
            )
    return due


async def warn_covenant(
    session: AsyncSession, *, due: CovenantDue, now: datetime, language: str
) -> bool:
    """Claim the warning's lead times and queue one warning to the political table (its group,
    or else the coordinators in private). False when every lead time was claimed meanwhile
    (the claim decides, if two ticks ever race)."""
    newly = [
        lead
        for lead, period in due.leads
        if await core_repo.claim(
            session, kind=COVENANT_CLAIM, union_id=due.union_id, period=period, now=now
        )
    ]
    if not newly:
        return False
    text = render_covenant_warning(
        translator(language), union_name=due.union_name, milestone=due.milestone, today=due.today
    )
    milestone = due.milestone.due.isoformat()
    for chat_id, person_id in await table_targets(session, due.union_id, TableKind.POLITICAL):
        await outbox_repo.enqueue(
            session,
            dedup_key=f"cov:{due.union_id}:{milestone}:{min(newly)}{key_suffix(person_id)}",
            chat_id=chat_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML"},
            union_id=due.union_id,
            person_id=person_id,
            now=now,
        )
    logger.info(
        "Union %s: Covenant warning for %s (%s days ahead)",
        due.union_id,
        due.milestone.due,
        min(newly),
    )
    return True
