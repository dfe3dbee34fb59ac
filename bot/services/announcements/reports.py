"""An announcement's delivery: the report to its sender, and /annuncio stato.

Once every delivery of an announcement is settled (sent, failed, uncertain), its sender gets one
report with the names that could not be reached (`report_announcements`, due work). The report
is itself an outbox row keyed `annrep:<id>` (bot.delivery re-offers it until it arrives: a
report may come twice, never be lost). `/annuncio stato` shows the same facts whenever asked
(`delivery_status`), also when that report did not arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.readers import reader_translator
from bot.views.announcements import DeliveryStatus, delivery_report
from storage.models import Member, OutboxStatus, Person, Union
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as repo

# The report's key prefix: bot.delivery.ANNOUNCEMENT_REPORT_PREFIX (it re-offers such rows).
REPORT_PREFIX = "annrep:"
STATUS_SHOWN = 5  # the last announcements /annuncio stato shows


def copies_prefix(announcement_id: int) -> str:
    """The key prefix of an announcement's copies, one per person: `ann:<id>:`."""
    return f"ann:{announcement_id}:"


async def report_announcements(
    session: AsyncSession, *, now: datetime, default_language: str
) -> int:
    """Report each announcement whose deliveries are all settled to its sender, in their
    language, once (`reported_at`); the copies that failed are reported here, not again as a
    generic delivery problem. Returns the reports queued."""
    queued = 0
    for announcement in await repo.announcements_to_report(session):
        rows = await repo.outbox_rows(session, copies_prefix(announcement.id))
        if any(r.status not in repo.SETTLED for r, _n in rows):
            continue
        sender = (
            await session.get(Member, announcement.created_by_member_id)
            if announcement.created_by_member_id
            else None
        )
        person = await session.get(Person, sender.person_id) if sender else None
        announcement.reported_at = now
        for row, _name in rows:
            if row.status != OutboxStatus.SENT and row.reported_at is None:
                row.reported_at = now  # reported here, not again as a generic problem
        if person is None or person.telegram_user_id is None:
            continue
        text = delivery_report(
            reader_translator(person, default_language=default_language),
            delivered=sum(1 for r, _n in rows if r.status == OutboxStatus.SENT),
            total=len(rows),
            unreachable=[n for r, n in rows if r.status == OutboxStatus.FAILED],
            uncertain=[n for r, n in rows if r.status == OutboxStatus.UNCERTAIN],
        )
        await outbox_repo.enqueue(
            session,
            dedup_key=f"{REPORT_PREFIX}{announcement.id}",
            chat_id=person.telegram_user_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML"},
            union_id=None,  # a report, not a problem to report again
            person_id=person.id,
            now=now,
            names=[
                r.person_id
                for r, _n in rows
                if r.status != OutboxStatus.SENT and r.person_id is not None
            ],
        )
        queued += 1
    return queued


@dataclass(frozen=True)
class Deliveries:
    """/annuncio stato: the last announcements sent, newest first (none: nothing sent yet)."""

    timezone: str
    items: tuple[DeliveryStatus, ...]


@dataclass(frozen=True)
class StatusRefused:
    """Only the coordinator sends announcements, and sees how they went."""


async def delivery_status(
    session: AsyncSession, *, member_id: int, limit: int = STATUS_SHOWN
) -> Deliveries | StatusRefused:
    """The coordinator's view of the last announcements (`member_id` as found in this
    transaction): delivered, not reachable, uncertain, still going."""
    member = await session.get(Member, member_id)
    union = await session.get(Union, member.union_id) if member is not None else None
    if member is None or union is None or not member.is_coordinator:
        return StatusRefused()
    comuni = {m.id: m.name for m in await core_repo.municipalities(session, union.id)}
    items = []
    for announcement in await repo.last_announcements(session, union_id=union.id, limit=limit):
        rows = await repo.outbox_rows(session, copies_prefix(announcement.id))
        kind, _sep, arg = announcement.audience.partition(":")
        items.append(
            DeliveryStatus(
                created_at=announcement.created_at,
                audience=kind,
                comune=comuni.get(int(arg)) if arg.isdigit() else None,
                text=announcement.text,
                delivered=sum(1 for r, _n in rows if r.status == OutboxStatus.SENT),
                total=len(rows),
                going=sum(
                    1 for r, _n in rows if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
                ),
                unreachable=tuple(n for r, n in rows if r.status == OutboxStatus.FAILED),
                uncertain=tuple(n for r, n in rows if r.status == OutboxStatus.UNCERTAIN),
            )
        )
    return Deliveries(union.timezone, tuple(items))
