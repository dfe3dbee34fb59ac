"""Who has answered a round: the use case behind /aggiornamento stato, reminders and summaries.

Other features (the political summary's "who has not reported") can call `technician_states`
with their own session. The coordinator's /aggiornamento stato is composed here, not in
bot.views.updates, because it ends with the technical group's notes as the summary renders them
(bot.services.summaries.summary.round_note_rows), which a view may not import.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services.progress import rules
from bot.services.summaries.build import note_view
from bot.services.summaries.summary import round_note_rows
from bot.views.rounds import RoundState, Technician, render_status
from storage.models import OutboxStatus, Union, UpdateRound
from storage.repositories import actions as repo
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as summaries_repo
from storage.repositories.people import present_name

INVITE_PREFIX = "upd:inv:"


def invite_key(round_id: int, member_id: int) -> str:
    return f"{INVITE_PREFIX}{round_id}:{member_id}"


@dataclass(frozen=True)
class TechnicianState:
    technician: repo.Technician
    required: frozenset[int]  # their Comuni's actions and the intercommunal ones
    updated: frozenset[int]  # of those, updated in this round (by anyone: the latest stands)
    changed: frozenset[int]  # of the updated, those whose state moved (not a confirmation)
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
    changed = await repo.changed_in_round(session, round_.id)
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
                changed=frozenset(required & changed),
                no_news=t.member.id in no_news,
                unreachable=(not t.person.reachable) or t.member.id in failed,
            )
        )
    return out


@dataclass(frozen=True)
class StatusShown:
    text: str


@dataclass(frozen=True)
class StatusRefused:
    """`reason`: coordinator_only, no_round."""

    reason: str


async def round_status(
    session: AsyncSession, *, union: Union, coordinator: bool, language: str
) -> StatusShown | StatusRefused:
    """/aggiornamento stato: the Union's latest round as its coordinator reads it — who answered,
    who not yet, who could not be reached, who has nothing to report on — then the technical
    group's notes of the round (a note counts as having reported, as in the summary)."""
    if not coordinator:
        return StatusRefused("coordinator_only")
    round_ = await repo.latest_round(session, union_id=union.id)
    if round_ is None:
        return StatusRefused("no_round")
    tr = translator(language)
    states = await technician_states(session, round_)
    names = await core_repo.municipality_names(session, union.id, include_archived=True)
    notes = await summaries_repo.group_notes(session, union_id=union.id, round_id=round_.id)
    noted = frozenset(n.member_id for n in notes if n.member_id is not None)
    rows = [
        RoundState(
            technician=Technician(
                name=present_name(s.technician.person),
                comuni=tuple(names.get(i, "?") for i in s.technician.municipality_ids),
            ),
            required=len(s.required),
            updated=len(s.updated),
            changed=len(s.changed),
            answered=s.answered,
            no_news=s.no_news and not s.required <= s.updated,
            noted=s.technician.member.id in noted,
            unreachable=s.unreachable,
        )
        for s in states
    ]
    text = render_status(round_.period, round_.deadline_at, union.timezone, rows, tr)
    note_rows = round_note_rows(
        tr,
        [
            (
                names.get(n.municipality_id, "?") if n.municipality_id is not None else None,
                note_view(n),
            )
            for n in notes
        ],
        timezone=union.timezone,
    )
    return StatusShown("\n".join([text, "", *note_rows]) if note_rows else text)
