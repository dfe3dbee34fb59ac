"""The summary to the political table: after each update round (scheduled) and on demand.

After a round's deadline the tick posts exactly one scheduled summary to the political group
(`summaries_due`, `read_scheduled_summary`, then `queue_summary`: the text parts, one vote
message per open question right under them, then the pictures, all through the outbox). A copy
sent to a coordinator in private puts their own Comuni first (marked 📍), as /riepilogo does in
private. `/riepilogo` shows the same summary
at once (`read_summary_now`); it never moves the "since the last summary" baseline, which is the
last *scheduled* summary.

Reading, rendering and queueing are steps with no transaction open while rendering: a Union's
pictures are drawn in a worker process (`summary_pictures`, bot.services.worker), with no reason
to hold SQLite's write lock meanwhile, nor the event loop (matplotlib keeps the GIL while it
draws text). The text goes out first: `queue_summary` records the summary and queues its text and
vote messages as soon as they are read and written (tens of milliseconds), and `queue_pictures`
follows once the pictures are drawn (a 20-Comuni Union: three pictures, about as long again
as the rest; bench/README.md). A process stopped in between leaves the summary without its
pictures claim: the next tick finds it (`pictures_owed`) and draws them then.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import format_month, translator
from bot.services import worker
from bot.services.meetings import continuity
from bot.services.summaries.build import build_summary_input, chart_bars, co2_of, month_of
from bot.services.summaries.chart import Co2Figures, ComuneBar, Picture, render_pictures
from bot.services.summaries.decisions import DecisionShown, decision_messages, sync_decisions
from bot.services.summaries.summary import SummaryInput, render_summary
from bot.services.summaries.targets import key_suffix, table_targets
from bot.views.keyboard import to_dict
from bot.views.summaries import dashboard_link, summary_messages
from storage.models import DecisionStatus, OutboxMessage, SummaryKind, TableKind, Union, UpdateRound
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as repo

logger = logging.getLogger(__name__)

# A scheduled summary posted this long after its round's deadline says it is late.
LATE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class DueSummary:
    """A round whose deadline has passed and that has no scheduled summary yet (the round as
    read by the tick: its summary is built from it in the next transactions)."""

    round: UpdateRound


@dataclass(frozen=True)
class SummaryDraft:
    """What a summary says, read in one transaction: its input, its pictures' figures, its
    title, the person ids it may name (its outbox rows record them, for /cancellami), and the
    reader's own Comuni (/riepilogo in private: first, marked)."""

    union_id: int
    data: SummaryInput
    bars: tuple[ComuneBar, ...]
    title: str
    named: frozenset[int]
    co2: Co2Figures
    own: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PicturesOwed:
    """A scheduled summary whose text is queued and whose pictures are not (yet)."""

    summary_id: int
    due: DueSummary


@dataclass(frozen=True)
class SummaryQueued:
    summary_id: int
    parts: int
    questions: int  # vote messages, one per open question


def is_late(deadline_at: datetime, now: datetime) -> bool:
    return now - deadline_at > LATE_AFTER


def period_of(now: datetime, timezone: str) -> str:
    """The month `now` falls in, in the Union's zone: '2026-12'."""
    local = now.astimezone(ZoneInfo(timezone))
    return f"{local.year}-{local.month:02d}"


async def summaries_due(session: AsyncSession, *, now: datetime) -> list[DueSummary]:
    """The rounds to post a summary for now. Updates asking for a decision become decisions
    first (the summary lists them). A round superseded by a newer one is skipped, once (a
    claim) and with a log line: the catch-up rule posts only the latest round's summary."""
    await sync_decisions(session, now=now)
    due: list[DueSummary] = []
    for round_ in await repo.rounds_due_without_summary(session, now=now):
        if await repo.newer_round_exists(session, round_):
            if await core_repo.claim(
                session,
                kind=repo.SKIPPED_CLAIM,
                union_id=round_.union_id,
                period=round_.period,
                now=now,
            ):
                logger.info(
                    "Union %s: summary for round %s skipped, a newer round exists",
                    round_.union_id,
                    round_.period,
                )
            continue
        due.append(DueSummary(round_))
    return due


async def _draft(
    session: AsyncSession,
    *,
    union_id: int,
    round_: UpdateRound | None,
    baseline: datetime | None,
    period: str,
    now: datetime,
    late: bool,
    on_demand: bool,
    language: str,
    own: frozenset[int] = frozenset(),
) -> SummaryDraft | None:
    facts = await repo.summary_facts(
        session, union_id=union_id, baseline=baseline, round_=round_, now=now
    )
    if facts is None:
        return None
    data = build_summary_input(
        facts,
        since=baseline,
        now=now,
        period=period,
        late=late,
        on_demand=on_demand,
        round_deadline=round_.deadline_at if round_ else None,
    )
    absent = await continuity.recent_absences(session, union_id=union_id, now=now)
    data = replace(data, absences=tuple(absent))
    year, month = month_of(period, now, facts.union.timezone)
    title = f"{facts.union.name} · {format_month(year, month, language)}"
    union_label = translator(language).gettext("Unione")
    return SummaryDraft(
        union_id,
        data,
        tuple(chart_bars(data, union_label=union_label)),
        title,
        frozenset(facts.named_people),
        co2_of(data),
        own,
    )


async def read_scheduled_summary(
    session: AsyncSession, *, due: DueSummary, now: datetime, language: str
) -> SummaryDraft | None:
    """The round's summary: what changed since the previous scheduled summary."""
    round_ = due.round
    previous = await repo.last_scheduled_summary(
        session, union_id=round_.union_id, exclude_period=round_.period
    )
    return await _draft(
        session,
        union_id=round_.union_id,
        round_=round_,
        baseline=previous.created_at if previous else None,
        period=round_.period,
        now=now,
        late=is_late(round_.deadline_at, now),
        on_demand=False,
        language=language,
    )


async def read_summary_now(
    session: AsyncSession,
    *,
    union_id: int,
    now: datetime,
    language: str,
    own: frozenset[int] = frozenset(),
) -> SummaryDraft | None:
    """/riepilogo: the summary as it stands, since the last scheduled one, for this month;
    `own`: the reader's Comuni (in private), first in the text."""
    await sync_decisions(session, now=now)
    union = await session.get(Union, union_id)
    if union is None:
        return None
    previous = await repo.last_scheduled_summary(session, union_id=union_id)
    return await _draft(
        session,
        union_id=union_id,
        round_=await repo.latest_round(session, union_id=union_id, now=now),
        baseline=previous.created_at if previous else None,
        period=period_of(now, union.timezone),
        now=now,
        late=False,
        on_demand=True,
        language=language,
        own=own,
    )


def summary_texts(
    draft: SummaryDraft, *, language: str, private: bool = False, own: frozenset[int] | None = None
) -> list[str]:
    """The summary's text messages (bot.services.summaries.summary); in private the reader's
    own Comuni (`own`, by default the draft's) first."""
    mine = draft.own if own is None else own
    return render_summary(draft.data, translator(language), private=private, own=mine)


async def summary_pictures(draft: SummaryDraft, *, language: str) -> list[Picture]:
    """The summary's pictures (PNG), drawn in the worker process (bot.services.worker): in a
    thread, matplotlib and Pillow held the GIL, and so the event loop, for tenths of a second."""
    return await worker.run(_draw, draft.bars, draft.co2, language, draft.title)


def _draw(bars: Sequence[ComuneBar], co2: Co2Figures, language: str, title: str) -> list[Picture]:
    """In the worker process: the translator is made there (plain data crosses)."""
    return render_pictures(bars, co2, translator(language), title=title)


async def queue_summary(
    session: AsyncSession,
    *,
    due: DueSummary,
    draft: SummaryDraft,
    now: datetime,
    language: str,
    webapp_url: str | None = None,
    bot_username: str | None = None,
) -> SummaryQueued | None:
    """Record the round's summary (once per Union and period: None when another tick, or
    another instance, got there first) and queue it to the political table: the text parts
    (the spreadsheet's button under the last, and the dashboard's when `webapp_url` is
    configured: a Mini App in private, a t.me link to it through `bot_username` in a group),
    then each open question's vote message; the pictures follow (`queue_pictures`). A
    coordinator's private copy is rendered for them: their own Comuni first."""
    round_ = due.round
    tr = translator(language)
    summary = await repo.create_summary(
        session,
        union_id=round_.union_id,
        kind=SummaryKind.SCHEDULED,
        period=round_.period,
        round_id=round_.id,
        late=draft.data.late,
        now=now,
    )
    if summary is None:
        return None
    questions = await _open_questions(session, round_.union_id, language)
    parts = 0
    messages: list[outbox_repo.Queued] = []
    for chat_id, person_id in await table_targets(session, round_.union_id, TableKind.POLITICAL):
        to = _Copy(chat_id, person_id, round_.union_id)
        private = person_id is not None
        own: frozenset[int] = frozenset()
        if person_id is not None:
            own = await repo.own_comuni(session, union_id=round_.union_id, person_id=person_id)
        texts = summary_texts(draft, language=language, private=private, own=own)
        parts = max(parts, len(texts))
        dashboard = dashboard_link(
            tr,
            round_.union_id,
            private=private,
            webapp_url=webapp_url,
            bot_username=bot_username,
        )
        for index, (text, keyboard) in enumerate(
            summary_messages(tr, texts, round_.union_id, dashboard)
        ):
            payload: dict[str, object] = {"text": text, "parse_mode": "HTML"}
            if keyboard is not None:
                payload["reply_markup"] = keyboard.to_dict()
            messages.append(to.message(f"sum:{summary.id}:{index}", payload, names=draft.named))
        for decision_id, shown in questions:
            payload = {"text": shown.text, "parse_mode": "HTML"}
            payload["reply_markup"] = to_dict(shown.keyboard)
            messages.append(
                to.message(f"decmsg:{decision_id}:{summary.id}", payload, names=shown.named)
            )
    # One INSERT for every copy's parts and vote messages, in this order (the outbox sends by
    # id), and one for their mentions: one each per message was most of the queueing's time.
    await outbox_repo.enqueue_many(session, messages, now=now)
    logger.info(
        "Union %s: summary %s queued (%d parts, %d questions%s)",
        round_.union_id,
        round_.period,
        parts,
        len(questions),
        ", late" if draft.data.late else "",
    )
    return SummaryQueued(summary.id, parts, len(questions))


async def queue_pictures(
    session: AsyncSession,
    *,
    summary_id: int,
    due: DueSummary,
    pictures: Sequence[Picture],
    now: datetime,
) -> bool:
    """Queue a scheduled summary's pictures to every copy of its text, once (a claim, also
    when there is nothing to draw): False when they were queued already."""
    union_id, period = due.round.union_id, due.round.period
    if not await core_repo.claim(
        session, kind=repo.PICTURES_CLAIM, union_id=union_id, period=period, now=now
    ):
        return False
    messages = [
        _Copy(chat_id, person_id, union_id).message(
            f"sum:{summary_id}:picture{n}",
            {"caption": picture.caption},
            method="sendPhoto",
            file=(picture.name, picture.png),
        )
        for chat_id, person_id in await table_targets(session, union_id, TableKind.POLITICAL)
        for n, picture in enumerate(pictures)
    ]
    await outbox_repo.enqueue_many(session, messages, now=now)
    return True


async def pictures_owed(session: AsyncSession, *, now: datetime) -> list[PicturesOwed]:
    """The recent scheduled summaries whose text went out and whose pictures were never
    queued (the process stopped while drawing them)."""
    return [
        PicturesOwed(summary_id, DueSummary(round_))
        for summary_id, round_ in await repo.summaries_owing_pictures(session, now=now)
    ]


async def _open_questions(
    session: AsyncSession, union_id: int, language: str
) -> list[tuple[int, DecisionShown]]:
    """The vote message of each question still open, under the summary."""
    open_ = [
        decision
        for decision in await repo.decisions_not_done(session, union_id=union_id)
        if decision.status == DecisionStatus.OPEN
    ]
    shown = await decision_messages(session, open_, language=language)
    return [(decision.id, message) for decision, message in zip(open_, shown, strict=True)]


@dataclass(frozen=True)
class _Copy:
    """One copy of a summary: to the political group, or to one coordinator in private (then
    the person's id ends each key and marks each row)."""

    chat_id: int
    person_id: int | None
    union_id: int

    def message(
        self,
        key: str,
        payload: dict[str, object],
        *,
        method: str = "sendMessage",
        file: tuple[str, bytes] | None = None,
        names: frozenset[int] = frozenset(),
    ) -> outbox_repo.Queued:
        return outbox_repo.Queued(
            dedup_key=key + key_suffix(self.person_id),
            chat_id=self.chat_id,
            method=method,
            payload=payload,
            union_id=self.union_id,
            person_id=self.person_id,
            file_name=file[0] if file else None,
            file_data=file[1] if file else None,
            names=names,
        )


async def summary_message_sent(session: AsyncSession, row: OutboxMessage) -> None:
    """A part of a scheduled summary (`sum:<id>:…`) was sent: remember where it was posted."""
    summary_id = int(row.dedup_key.split(":")[1])
    if row.message_id is not None:
        await repo.record_posted(
            session,
            summary_id=summary_id,
            chat_id=row.chat_id,
            message_id=row.message_id,
            note=row.dedup_key,
            now=row.sent_at or row.created_at,
        )
