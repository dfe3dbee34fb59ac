"""Summaries to the political group, the decisions loop, exports and the Covenant clock.

- After each update round's deadline the tick posts exactly one scheduled summary to the
  political group (through the outbox: text parts, chart, one vote message per open question).
- `/riepilogo` shows the same summary on demand; it never moves the "since the last summary"
  baseline, which is the last *scheduled* summary.
- A technician's "needs a political decision" becomes a Decision; the political table votes
  (one vote per Comune), the coordinator closes it, the outcome goes to the technical group and
  to the technician who asked. `/decisione <testo>` records a decision taken at the table.
- `/esporta`: XLSX or CSV for the Covenant monitoring. The Covenant clock warns ahead of reports.
"""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Chat, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callback_data as cb
from bot import delivery, message_refresh, telegram_edit
from bot.context import BotContext, Services
from bot.conversations import register_flow
from bot.i18n import Translator, format_datetime, format_month
from bot.markup import button as plain_button
from bot.scope import (
    Pressed,
    Refusal,
    UnionScope,
    button_refusal,
    caller,
    pressed_where,
    register_union_command,
    reply,
    resolve_union,
    tr_for,
    update_transaction,
)
from bot.services import export as export_service
from bot.services import repeats
from bot.services.html_split import split_sections
from bot.services.summary import (
    CHOICE_LABELS,
    OUTCOME_LABELS,
    QUESTION_MAX,
    Milestone,
    SummaryInput,
    clip,
    leads_reached,
    next_milestones,
    person_name,
    render_covenant_warning,
    render_decision,
    render_summary,
)
from bot.services.summary_build import build_summary_input, chart_bars, month_of, question_view
from bot.services.summary_chart import render_chart
from bot.views.dashboard.links import mini_app_url  # dashboard (issue 20)
from bot.views.dashboard.telegram import dashboard_button  # dashboard (issue 20)
from bot.views.keyboard import Button
from storage.models import (
    Conversation,
    Decision,
    DecisionMessage,
    DecisionStatus,
    DecisionVoteChoice,
    Member,
    OutboxMessage,
    Person,
    Role,
    SummaryKind,
    TableKind,
    Union,
    UpdateRound,
)
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as repo

logger = logging.getLogger(__name__)

# /decisione without text lists at most this many pending decisions (one button each).
PENDING_LISTED = 20

SUM_AREA, DEC_AREA, EXP_AREA = "sum", "dec", "exp"
# «Segna come attuata» in /decisione's list of pending decisions: the list is no message of
# any one decision (the other buttons are on the decision's own messages).
LISTED_DONE = "ld"
DECISION_PICK_FLOW = "decision_union"
LATE_AFTER = timedelta(minutes=15)
CHOICES = {
    "a": DecisionVoteChoice.APPROVE,
    "r": DecisionVoteChoice.REJECT,
    "p": DecisionVoteChoice.POSTPONE,
}
OUTCOMES = {
    "a": DecisionStatus.APPROVED,
    "r": DecisionStatus.REJECTED,
    "p": DecisionStatus.POSTPONED,
}

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def _period_of(now: datetime, tz: str) -> str:
    local = now.astimezone(ZoneInfo(tz))
    return f"{local.year}-{local.month:02d}"


# --- building ------------------------------------------------------------------------------


async def _render(
    services: Services,
    session: AsyncSession,
    *,
    union_id: int,
    round_: UpdateRound | None,
    baseline: datetime | None,
    period: str,
    now: datetime,
    late: bool,
    on_demand: bool,
    tr: Translator,
) -> tuple[SummaryInput, list[Any], str, set[int]] | None:
    """Read what the summary needs, in the caller's transaction. Returns its input, bars, title
    and the person ids it may name (its outbox rows record them: /cancellami).

    The text is rendered by the caller after the transaction (`render_summary` may try several
    levels of detail for a large Union: no reason to hold SQLite's write lock meanwhile)."""
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
    year, month = month_of(period, now, facts.union.timezone)
    title = f"{facts.union.name} · {format_month(year, month, tr.language)}"
    return data, chart_bars(data), title, facts.named_people


def _summary_keyboard(
    tr: Translator, union_id: int, dashboard: Button | None = None
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                "📤 " + tr.gettext("Foglio di calcolo"),
                callback_data=cb.encode(SUM_AREA, "xlsx", union_id),
            )
        ]
    ]
    if dashboard is not None:  # --- dashboard (issue 20): opens the Mini App on this Union
        rows.append([plain_button(dashboard)])
    return InlineKeyboardMarkup(rows)


def _dashboard(
    services: Services, tr: Translator, union_id: int, *, private: bool, bot_username: str | None
) -> Button | None:
    """The dashboard's button under a summary (issue 20; None when it is not configured)."""
    return dashboard_button(
        tr,
        union_id=union_id,
        private=private,
        webapp_url=mini_app_url(services.settings.webapp_url)
        if services.settings.webapp_url
        else None,
        bot_username=bot_username,
    )


def _decision_keyboard(tr: Translator, decision: Decision) -> InlineKeyboardMarkup | None:
    _ = tr.gettext
    if decision.status == DecisionStatus.OPEN:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "✅ " + _(CHOICE_LABELS["approve"]),
                        callback_data=cb.encode(DEC_AREA, "v", decision.id, "a"),
                    ),
                    InlineKeyboardButton(
                        "❌ " + _(CHOICE_LABELS["reject"]),
                        callback_data=cb.encode(DEC_AREA, "v", decision.id, "r"),
                    ),
                    InlineKeyboardButton(
                        "⏸ " + _(CHOICE_LABELS["postpone"]),
                        callback_data=cb.encode(DEC_AREA, "v", decision.id, "p"),
                    ),
                ],
                [
                    InlineKeyboardButton(
                        "🔒 " + _("Chiudi (coordinatore)"),
                        callback_data=cb.encode(DEC_AREA, "close", decision.id),
                    )
                ],
            ]
        )
    if decision.status != DecisionStatus.DONE:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "✔️ " + _("Segna come attuata"),
                        callback_data=cb.encode(DEC_AREA, "done", decision.id),
                    )
                ]
            ]
        )
    return None


def _closing_keyboard(tr: Translator, decision_id: int) -> InlineKeyboardMarkup:
    _ = tr.gettext
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✅ " + _(OUTCOME_LABELS["approved"]),
                    callback_data=cb.encode(DEC_AREA, "out", decision_id, "a"),
                ),
                InlineKeyboardButton(
                    "❌ " + _(OUTCOME_LABELS["rejected"]),
                    callback_data=cb.encode(DEC_AREA, "out", decision_id, "r"),
                ),
                InlineKeyboardButton(
                    "⏸ " + _(OUTCOME_LABELS["postponed"]),
                    callback_data=cb.encode(DEC_AREA, "out", decision_id, "p"),
                ),
            ],
            [
                InlineKeyboardButton(
                    "↩️ " + _("Indietro"), callback_data=cb.encode(DEC_AREA, "back", decision_id)
                )
            ],
        ]
    )


async def _decision_text(
    session: AsyncSession, decision: Decision, tr: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    text, markup, _named = await _decision_message(session, decision, tr)
    return text, markup


async def _decision_message(
    session: AsyncSession, decision: Decision, tr: Translator
) -> tuple[str, InlineKeyboardMarkup | None, set[int]]:
    """The decision's message, its buttons, and the person ids its text names."""
    fact = await repo.decision_fact(session, decision)
    comuni = [m.name for m in await repo.political_comuni(session, decision.union_id)]
    text = render_decision(
        tr,
        question=question_view(fact),
        comuni=comuni,
        asked_by=fact.asked_by,
    )
    return text, _decision_keyboard(tr, decision), fact.named_people


# --- the scheduled summary -----------------------------------------------------------------


async def _targets(
    session: AsyncSession, union_id: int, table: TableKind
) -> list[tuple[int, int | None]]:
    """(chat id, person id) to post to: the linked group, or else the coordinators privately."""
    link = await core_repo.linked_chat(session, union_id=union_id, table=table)
    if link is not None:
        return [(link.chat_id, None)]
    result: list[tuple[int, int | None]] = []
    for _member, person in await core_repo.coordinators(session, union_id):
        if person.telegram_user_id is not None and person.erased_at is None:
            result.append((person.telegram_user_id, person.id))
    return result


async def post_due_summaries(services: Services, bot: Bot, now: datetime) -> None:
    """Due work: one scheduled summary per round whose deadline has passed (caught up once)."""
    async with services.db.transaction() as session:
        await repo.sync_decisions_from_updates(session, now=now)
        rounds = await repo.rounds_due_without_summary(session, now=now)
        todo: list[UpdateRound] = []
        for round_ in rounds:
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
            todo.append(round_)
    for round_ in todo:
        # Dashboard (issue 20): the bot's username makes the group's t.me link to the Mini App.
        username = bot.username if services.settings.webapp_url else None
        await _post_summary(services, round_, now, bot_username=username)


async def _post_summary(
    services: Services, round_: UpdateRound, now: datetime, *, bot_username: str | None = None
) -> None:
    tr = tr_for(services)
    late = now - round_.deadline_at > LATE_AFTER
    async with services.db.transaction() as session:
        previous = await repo.last_scheduled_summary(
            session, union_id=round_.union_id, exclude_period=round_.period
        )
        baseline = previous.created_at if previous else None
        rendered = await _render(
            services,
            session,
            union_id=round_.union_id,
            round_=round_,
            baseline=baseline,
            period=round_.period,
            now=now,
            late=late,
            on_demand=False,
            tr=tr,
        )
    if rendered is None:
        return
    data, bars, title, named = rendered
    parts = render_summary(data, tr)
    chart = await asyncio.to_thread(render_chart, bars, tr, title=title)
    async with services.db.transaction() as session:
        summary = await repo.create_summary(
            session,
            union_id=round_.union_id,
            kind=SummaryKind.SCHEDULED,
            period=round_.period,
            round_id=round_.id,
            late=late,
            now=now,
        )
        if summary is None:
            return  # another tick (or instance) got there first
        decisions = await repo.decisions_not_done(session, union_id=round_.union_id)
        vote_messages = []
        for decision in decisions:
            if decision.status == DecisionStatus.OPEN:
                vote_messages.append((decision.id, *await _decision_message(session, decision, tr)))
        for chat_id, person_id in await _targets(session, round_.union_id, TableKind.POLITICAL):
            suffix = f":p{person_id}" if person_id else ""
            for index, text in enumerate(parts):
                payload: dict[str, Any] = {"text": text, "parse_mode": ParseMode.HTML}
                if index == len(parts) - 1:
                    dashboard = _dashboard(
                        services,
                        tr,
                        round_.union_id,
                        private=person_id is not None,
                        bot_username=bot_username,
                    )
                    payload["reply_markup"] = _summary_keyboard(
                        tr, round_.union_id, dashboard
                    ).to_dict()
                await outbox_repo.enqueue(
                    session,
                    dedup_key=f"sum:{summary.id}:{index}{suffix}",
                    chat_id=chat_id,
                    method="sendMessage",
                    payload=payload,
                    union_id=round_.union_id,
                    person_id=person_id,
                    now=now,
                    names=named,
                )
            await outbox_repo.enqueue(
                session,
                dedup_key=f"sum:{summary.id}:chart{suffix}",
                chat_id=chat_id,
                method="sendPhoto",
                payload={
                    "caption": tr.gettext("Azioni per stato e avanzamento medio, Comune per Comune")
                },
                file_name="riepilogo.png",
                file_data=chart,
                union_id=round_.union_id,
                person_id=person_id,
                now=now,
            )
            for decision_id, text, markup, voters in vote_messages:
                await outbox_repo.enqueue(
                    session,
                    dedup_key=f"decmsg:{decision_id}:{summary.id}{suffix}",
                    chat_id=chat_id,
                    method="sendMessage",
                    payload={
                        "text": text,
                        "parse_mode": ParseMode.HTML,
                        "reply_markup": markup.to_dict() if markup else None,
                    },
                    union_id=round_.union_id,
                    person_id=person_id,
                    now=now,
                    names=voters,
                )
    logger.info(
        "Union %s: summary %s queued (%d parts, %d questions%s)",
        round_.union_id,
        round_.period,
        len(parts),
        len(vote_messages),
        ", late" if late else "",
    )


async def _on_summary_sent(session: AsyncSession, row: OutboxMessage) -> None:
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


async def _on_decision_sent(session: AsyncSession, row: OutboxMessage) -> None:
    decision_id = int(row.dedup_key.split(":")[1])
    if row.message_id is not None:
        await repo.add_decision_message(
            session, decision_id=decision_id, chat_id=row.chat_id, message_id=row.message_id
        )


# --- /riepilogo ----------------------------------------------------------------------------


async def summary_command(update: Update, context: BotContext) -> None:
    await _summary_for(update, context, None)


async def _summary_for(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    now = services.clock.now()
    chat = update.effective_chat
    if chat is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        scope = await resolve_union(
            session, update, context, command="riepilogo", chosen_union_id=union_id
        )
        private = chat.type == Chat.PRIVATE
        tr = who.tr if who is not None and private else tr_for(services)
        rendered = None
        if not isinstance(scope, Refusal):
            await repo.sync_decisions_from_updates(session, now=now)
            previous = await repo.last_scheduled_summary(session, union_id=scope.union.id)
            round_ = await repo.latest_round(session, union_id=scope.union.id, now=now)
            rendered = await _render(
                services,
                session,
                union_id=scope.union.id,
                round_=round_,
                baseline=previous.created_at if previous else None,
                period=_period_of(now, scope.union.timezone),
                now=now,
                late=False,
                on_demand=True,
                tr=tr,
            )
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if rendered is None:
        return
    data, bars, title, _named = rendered
    parts = render_summary(data, tr)
    for index, text in enumerate(parts):
        dashboard = _dashboard(
            services,
            tr,
            scope.union.id,
            private=chat.type == Chat.PRIVATE,
            bot_username=context.bot.username,
        )
        markup = (
            _summary_keyboard(tr, scope.union.id, dashboard) if index == len(parts) - 1 else None
        )
        await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    chart = await asyncio.to_thread(render_chart, bars, tr, title=title)
    await chat.send_photo(
        InputFile(chart, filename="riepilogo.png"),
        caption=tr.gettext("Azioni per stato e avanzamento medio, Comune per Comune"),
    )


# --- exports -------------------------------------------------------------------------------


def _tables(data: repo.ExportData, tr: Translator) -> export_service.ExportTables:
    return export_service.ExportTables(
        union_name=data.union.name,
        timezone=data.union.timezone,
        actions=[
            export_service.ActionRow(
                code=a.code,
                title=a.title,
                sector=a.sector,
                comune=name,
                responsible=a.responsible,
                start_on=a.start_on,
                end_on=a.end_on,
                status=a.status.value,
                progress=a.progress,
                energy_saved_mwh=a.energy_saved_mwh,
                renewable_mwh=a.renewable_mwh,
                co2_avoided_t=a.co2_avoided_t,
                cost_eur=a.cost_eur,
            )
            for a, name in data.actions
        ],
        history=[
            export_service.HistoryRow(
                created_at=u.created_at,
                code=code,
                previous_status=u.previous_status.value if u.previous_status else None,
                status=u.status.value,
                previous_progress=u.previous_progress,
                progress=u.progress,
                note=u.note,
                needs_decision=u.needs_decision,
                author=person_name(author, tr) if author is not None else "",
            )
            for u, code, author in data.history
        ],
        meetings=[
            export_service.MeetingRow(
                starts_at=m.starts_at,
                ends_at=m.ends_at,
                title=m.title,
                place=m.place,
                table=m.table.value,
                cancelled=m.cancelled_at is not None,
            )
            for m in data.meetings
        ],
        notes=[
            export_service.NoteRow(
                created_at=n.created_at,
                comune=comune,
                period=period,
                author=person_name(n.author, tr) if n.member_id is not None else "",
                source=n.source,
                text=n.text,
            )
            for n, comune, period in data.notes
        ],
    )


NOTES_FILE_PART = "note-gruppo-tecnico"


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    name: str
    caption: str


async def build_export(
    services: Services, union_id: int, tr: Translator, kind: str
) -> list[ExportFile] | None:
    """The export's files: one XLSX; or the actions' CSV, followed by the technical group's
    notes in a CSV of their own when there are any."""
    _ = tr.gettext
    async with services.db.transaction() as session:
        data = await repo.export_data(session, union_id)
    if data is None:
        return None
    tables = _tables(data, tr)
    today = services.clock.now().astimezone(ZoneInfo(data.union.timezone)).date()
    name = data.union.name
    if kind != "csv":
        return [
            ExportFile(
                await asyncio.to_thread(export_service.export_xlsx, tables, tr),
                export_service.export_file_name(name, today, "xlsx"),
                _(
                    "Azioni (colonne del monitoraggio del Patto dei Sindaci), storico aggiornamenti, note dal gruppo tecnico e riunioni."
                ),
            )
        ]
    files = [
        ExportFile(
            await asyncio.to_thread(export_service.export_csv, tables, tr),
            export_service.export_file_name(name, today, "csv"),
            _("Azioni (colonne del monitoraggio del Patto dei Sindaci)."),
        )
    ]
    if tables.notes:
        files.append(
            ExportFile(
                await asyncio.to_thread(export_service.export_notes_csv, tables, tr),
                export_service.export_file_name(name, today, "csv", NOTES_FILE_PART),
                _(
                    "Note dal gruppo tecnico con il testo completo, una per riga (data, Comune, giro di aggiornamenti, autore, origine)."
                ),
            )
        )
    return files


def _may_export(scope: UnionScope) -> bool:
    return scope.is_coordinator or scope.role == Role.SINDACO


async def export_command(update: Update, context: BotContext) -> None:
    await _export_for(update, context, None)


async def _export_for(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    chat = update.effective_chat
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        scope = await resolve_union(
            session, update, context, command="esporta", chosen_union_id=union_id
        )
    if who is None:
        return
    _ = who.tr.gettext
    if chat is None or chat.type != Chat.PRIVATE:
        await reply(update, _("L'esportazione si chiede in chat privata con me."))
        return
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if not _may_export(scope):
        await reply(update, _("L'esportazione è riservata al coordinatore e ai Sindaci."))
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📤 Excel", callback_data=cb.encode(EXP_AREA, "xlsx", scope.union.id)
                ),
                InlineKeyboardButton(
                    "📤 CSV", callback_data=cb.encode(EXP_AREA, "csv", scope.union.id)
                ),
            ]
        ]
    )
    await reply(
        update,
        _(
            "Esporto i dati di <b>{union}</b>. In che formato?\n"
            "📤 Excel: azioni, storico degli aggiornamenti, note dal gruppo tecnico e riunioni.\n"
            "📤 CSV: le azioni, e in un secondo file le note dal gruppo tecnico (se ce ne sono)."
        ).format(union=html.escape(scope.union.name)),
        markup,
        parse_mode=ParseMode.HTML,
    )


async def on_export_button(update: Update, context: BotContext) -> None:
    """exp:xlsx|csv:<union> (private, coordinator or Sindaco) and sum:xlsx:<union> (any member)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    union_id = data.int_arg(0) if data else None
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        refusal = (
            await button_refusal(session, update, who.tr, union_id=union_id)
            if who is not None
            else None
        )
        member = (
            await core_repo.member_of(
                session, union_id=union_id, telegram_user_id=query.from_user.id
            )
            if union_id is not None and refusal is None
            else None
        )
    if who is None or data is None or union_id is None:
        await query.answer()
        return
    _ = who.tr.gettext
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return
    if member is None:
        await query.answer(
            _("Riservato ai membri del Team energia di questa Unione."), show_alert=True
        )
        return
    if data.area == EXP_AREA and not (member.is_coordinator or member.role == Role.SINDACO):
        await query.answer(
            _("L'esportazione è riservata al coordinatore e ai Sindaci."), show_alert=True
        )
        return
    kind = "csv" if data.action == "csv" else "xlsx"
    await query.answer(_("Preparo il file…"))
    built = await build_export(services, union_id, who.tr, kind)
    if built is None:
        return
    try:
        for file in built:
            await context.bot.send_document(
                chat_id=query.from_user.id,
                document=InputFile(file.content, filename=file.name),
                caption=file.caption,
            )
    except Forbidden:
        chat = update.effective_chat
        if chat is not None:
            await chat.send_message(
                _(
                    "Non riesco a scriverti in privato: apri la chat con me e premi Avvia, poi riprova."
                )
            )


# --- decisions -----------------------------------------------------------------------------


async def _render_decision_message(
    session: AsyncSession, services: Services, message: DecisionMessage
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """What a decision message shows now, rendered from the database at edit time."""
    decision = await session.get(Decision, message.decision_id)
    if decision is None:
        return None
    return await _decision_text(session, decision, tr_for(services))


DECISION_MESSAGES = message_refresh.MessageKind(
    name="decision", model=DecisionMessage, render=_render_decision_message
)


async def _voting_member(
    session: AsyncSession, union_id: int, telegram_user_id: int
) -> tuple[Member, list[int]] | None:
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    if member is None:
        return None
    return member, await core_repo.municipality_ids_of(session, member.id)


async def _not_on_its_message(
    session: AsyncSession, update: Update, tr: Translator, decision: Decision, action: str
) -> str | None:
    """In a group a decision's button counts only on a message the decision was posted as
    (`pressed_where`, like a poll's vote): None to go on, else the toast. In private the
    presser's membership decides, as for every button.

    A message of the decision whose id the bot never learnt (a send that ended `uncertain`, a
    closing keyboard sent afresh) is adopted, so the decision's edits reach it; the list of
    pending decisions carries buttons of several, so it is checked but never adopted.
    """
    chat, query = update.effective_chat, update.callback_query
    if chat is None or query is None or chat.type == Chat.PRIVATE:
        return None
    where = pressed_where(query, chat.id, await repo.decision_shown_at(session, decision.id))
    if where is Pressed.SHOWN:
        return None
    if where is Pressed.CARRIED:
        if action != LISTED_DONE:
            assert query.message is not None  # CARRIED: the pressed message is the bot's
            message_id = query.message.message_id
            await repo.add_decision_message(
                session, decision_id=decision.id, chat_id=chat.id, message_id=message_id
            )
            logger.info(
                "Decision %s: adopted message %s in chat %s", decision.id, message_id, chat.id
            )
        return None
    logger.info(
        "Button dec:%s on decision %s refused in group %s: not on a message of the decision",
        action,
        decision.id,
        chat.id,
    )
    return tr.gettext(
        "Qui questo pulsante non funziona: usa quelli sotto il messaggio della questione."
    )


async def on_decision_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    decision_id = data.int_arg(0) if data else None
    services = context.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None or data is None or decision_id is None:
        await query.answer()
        return
    _ = who.tr.gettext
    action = "done" if data.action == LISTED_DONE else data.action
    toast = ""
    alert = False
    changed = False
    announce = False
    closing_markup: InlineKeyboardMarkup | None = None
    closing_text = ""
    dirty_chats: list[int] = []  # chats whose decision message now owes an edit
    async with update_transaction(context, update) as session:
        decision = await session.get(Decision, decision_id)
        refusal = await button_refusal(
            session, update, who.tr, union_id=decision.union_id if decision else None
        )
        if refusal is None and decision is not None:
            refusal = await _not_on_its_message(session, update, who.tr, decision, data.action)
        found = (
            await _voting_member(session, decision.union_id, query.from_user.id)
            if decision is not None and refusal is None
            else None
        )
        if refusal is not None:
            toast, alert = refusal, True
        elif decision is None or found is None:
            toast, alert = _("Riservato ai membri del Team energia di questa Unione."), True
        else:
            member, comuni = found
            if action == "v":
                choice = CHOICES.get(data.str_arg(1) or "")
                if decision.status != DecisionStatus.OPEN:
                    toast = _("La votazione è chiusa.")
                elif choice is None:
                    toast = _("Questo pulsante non è più valido.")
                elif member.role not in (Role.SINDACO, Role.ASSESSORE) or not comuni:
                    toast, alert = (
                        _("Votano il Sindaco di ogni Comune o, al suo posto, l'Assessore."),
                        True,
                    )
                else:
                    voted = []
                    blocked = []
                    for municipality_id in comuni:
                        existing = await repo.vote_of_comune(
                            session, decision_id=decision.id, municipality_id=municipality_id
                        )
                        if (
                            existing is not None
                            and member.role == Role.ASSESSORE
                            and existing[1] == Role.SINDACO
                            and existing[0].member_id != member.id
                        ):
                            blocked.append(municipality_id)
                            continue
                        await repo.cast_vote(
                            session,
                            decision_id=decision.id,
                            municipality_id=municipality_id,
                            member_id=member.id,
                            choice=choice,
                            now=now,
                        )
                        voted.append(municipality_id)
                    if voted:
                        dirty_chats = await repo.mark_decision_dirty(
                            session, decision_id=decision.id, now=now
                        )
                        changed = True
                        toast = _("Voto registrato: {choice}.").format(
                            choice=_(CHOICE_LABELS[choice.value])
                        )
                    else:
                        toast, alert = _("Il Sindaco ha già votato per il tuo Comune."), True
            elif action in ("close", "back", "out", "done"):
                if not member.is_coordinator:
                    toast = (
                        _("Solo il coordinatore può segnare una decisione come attuata.")
                        if action == "done"
                        else _("Solo il coordinatore può chiudere una questione.")
                    )
                    alert = True
                elif action == "close":
                    if decision.status != DecisionStatus.OPEN:
                        toast = _("La questione è già chiusa.")
                    else:
                        closing_markup = _closing_keyboard(tr_for(services), decision.id)
                        closing_text, _markup = await _decision_text(
                            session, decision, tr_for(services)
                        )
                        toast = _("Scegli l'esito.")
                elif action == "back":
                    dirty_chats = await repo.mark_decision_dirty(
                        session, decision_id=decision.id, now=now
                    )
                    changed = True
                elif action == "out":
                    outcome = OUTCOMES.get(data.str_arg(1) or "")
                    if decision.status != DecisionStatus.OPEN:
                        toast = _("La questione è già chiusa.")
                    elif outcome is None:
                        toast = _("Questo pulsante non è più valido.")
                    else:
                        dirty_chats = await _close(
                            services, session, decision, member, outcome, now
                        )
                        changed = announce = True
                        toast = _("Esito registrato e inviato al tavolo tecnico.")
                else:  # done
                    if decision.status == DecisionStatus.OPEN:
                        toast = _("Prima va chiusa la votazione.")
                    elif decision.status == DecisionStatus.DONE:
                        toast = _("Già segnata come attuata.")
                    else:
                        decision.status, decision.done_at = DecisionStatus.DONE, now
                        dirty_chats = await repo.mark_decision_dirty(
                            session, decision_id=decision.id, now=now
                        )
                        changed = True
                        toast = _("Segnata come attuata: non comparirà più nei riepiloghi.")
            else:
                toast = _("Questo pulsante non è più valido.")
    await query.answer(toast, show_alert=alert)
    if closing_markup is not None:
        # By chat and message id: a decision message older than 48 hours comes as an
        # InaccessibleMessage, which PTB's query.edit_message_text refuses with TypeError.
        # editMessageText rather than editMessageReplyMarkup: PTB adds the default
        # parse_mode to the latter, which that method does not take.
        await telegram_edit.edit_or_send(update, context.bot, closing_text, closing_markup)
    if changed:
        if action in ("back", "out", "done"):  # the coordinator's action shows at once
            await message_refresh.refresh_now(services, context.bot, dirty_chats)
        else:
            message_refresh.request(services, dirty_chats)
    if announce:
        delivery.flush_soon(services, context.bot)


def _outcome_text(tr: Translator, votes: list[repo.VoteFact]) -> str:
    """The votes behind an outcome, as recorded with the decision."""
    _ = tr.gettext
    if not votes:
        return _("Nessun Comune ha votato.")
    detail = ", ".join(f"{v.comune}: {_(CHOICE_LABELS[v.choice])}" for v in votes)
    return _("Voti: {detail}").format(detail=detail)


async def _close(
    services: Services,
    session: AsyncSession,
    decision: Decision,
    member: Member,
    outcome: DecisionStatus,
    now: datetime,
) -> list[int]:
    """Record the outcome with its votes and tell the technical table and who asked.

    Returns the chats whose decision message now owes an edit."""
    tr = tr_for(services)
    fact = await repo.decision_fact(session, decision)
    decision.status = outcome
    decision.closed_at = now
    decision.closed_by_member_id = member.id
    decision.outcome_text = _outcome_text(tr, list(fact.votes))
    dirty_chats = await repo.mark_decision_dirty(session, decision_id=decision.id, now=now)
    await _announce_outcome(session, services, decision, now, tr, asked=True)
    return dirty_chats


async def _announce_outcome(
    session: AsyncSession,
    services: Services,
    decision: Decision,
    now: datetime,
    tr: Translator,
    *,
    asked: bool,
) -> None:
    _ = tr.gettext
    fact = await repo.decision_fact(session, decision)
    view = question_view(fact)
    text = "📣 " + _("<b>Decisione del tavolo politico</b>") + "\n" + html.escape(decision.question)
    where = ", ".join(html.escape(x) for x in (view.comune, view.action_code) if x)
    if where:
        text += f"\n<i>{where}</i>"
    if decision.source_update_id is not None:  # a question the table voted on
        text += "\n\n" + _("<b>Esito: {outcome}</b>").format(
            outcome=html.escape(_(OUTCOME_LABELS[decision.status.value]))
        )
        if decision.outcome_text:
            text += "\n" + html.escape(decision.outcome_text)
    markup = _decision_keyboard(tr, decision)
    for chat_id, person_id in await _targets(session, decision.union_id, TableKind.TECHNICAL):
        await outbox_repo.enqueue(
            session,
            dedup_key=f"decout:{decision.id}" + (f":p{person_id}" if person_id else ""),
            chat_id=chat_id,
            method="sendMessage",
            payload={
                "text": text,
                "parse_mode": ParseMode.HTML,
                "reply_markup": markup.to_dict() if markup else None,
            },
            union_id=decision.union_id,
            person_id=person_id,
            now=now,
        )
    if asked and decision.asked_by_member_id is not None:
        asker = await session.get(Member, decision.asked_by_member_id)
        person = await session.get(Person, asker.person_id) if asker else None
        if person is not None and person.telegram_user_id is not None and person.erased_at is None:
            ptr = tr_for(services, person=person, default=tr.language)
            ptext = "🗳 " + ptr.gettext(
                "Il tavolo politico ha deciso sulla tua richiesta «{question}»: <b>{outcome}</b>."
            ).format(
                question=html.escape(decision.question),
                outcome=html.escape(ptr.gettext(OUTCOME_LABELS[decision.status.value])),
            )
            if decision.outcome_text:
                ptext += "\n" + html.escape(decision.outcome_text)
            await outbox_repo.enqueue(
                session,
                dedup_key=f"decask:{decision.id}",
                chat_id=person.telegram_user_id,
                method="sendMessage",
                payload={"text": ptext, "parse_mode": ParseMode.HTML},
                union_id=decision.union_id,
                person_id=person.id,
                now=now,
            )


async def decision_command(update: Update, context: BotContext) -> None:
    await _decision_for(update, context, None)


async def _decision_for(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    now = services.clock.now()
    text = ""
    message = update.effective_message
    if union_id is None and message is not None and message.text:
        # Keep the coordinator's line breaks: take everything after the command itself.
        parts = message.text.split(maxsplit=1)
        text = parts[1].strip() if len(parts) > 1 else ""
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        if union_id is not None:
            text = await recall_text(session, update, now=now, flow=DECISION_PICK_FLOW)
        scope = await resolve_union(
            session, update, context, command="decisione", chosen_union_id=union_id
        )
        if isinstance(scope, Refusal) and scope.markup is not None and text:
            await remember_text(session, update, now=now, flow=DECISION_PICK_FLOW, text=text)
        pending = (
            await repo.decisions_not_done(session, union_id=scope.union.id)
            if not isinstance(scope, Refusal)
            else []
        )
    if who is None:
        return
    _ = who.tr.gettext
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if not scope.is_coordinator:
        await reply(update, _("Solo il coordinatore registra le decisioni del tavolo politico."))
        return
    if scope.link is not None and scope.link.table_kind == TableKind.TECHNICAL:
        await reply(
            update, _("Le decisioni si registrano nel gruppo del tavolo politico o in privato.")
        )
        return
    if not text:
        intro = [
            _(
                "Scrivi la decisione dopo il comando, ad esempio:\n<code>/decisione Si parte con il bando per le scuole</code>"
            )
        ]
        rows: list[str] = []
        buttons = []
        if pending:
            intro.append(
                _("<b>Decisioni non ancora attuate</b> (premi per segnarle come attuate):")
            )
            for d in pending[:PENDING_LISTED]:
                short = d.question if len(d.question) <= 40 else d.question[:39] + "…"
                rows.append(f"• {html.escape(clip(d.question, QUESTION_MAX))}")
                if d.status != DecisionStatus.OPEN:
                    buttons.append(
                        [
                            InlineKeyboardButton(
                                "✔️ " + short,
                                callback_data=cb.encode(DEC_AREA, LISTED_DONE, d.id),
                            )
                        ]
                    )
            if len(pending) > PENDING_LISTED:
                rows.append(_("…e altre {n}.").format(n=len(pending) - PENDING_LISTED))
        # Long questions: split at row boundaries; the buttons go with the last part.
        parts = split_sections([intro, rows])
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            await reply(
                update,
                part,
                InlineKeyboardMarkup(buttons) if buttons and last else None,
                parse_mode=ParseMode.HTML,
            )
        return
    if len(text) > 2000:
        await reply(update, _("Il testo è troppo lungo: al massimo 2000 caratteri."))
        return
    async with update_transaction(context, update) as session:
        earlier = repeats.find_repeat(
            (
                (d, d.question, d.created_at)
                for d in await repo.recent_decisions_by(
                    session,
                    union_id=scope.union.id,
                    member_id=scope.member.id,
                    since=repeats.repeat_since(now),
                )
            ),
            text=text,
            now=now,
        )
        if earlier is None:
            decision = Decision(
                union_id=scope.union.id,
                question=text,
                outcome_text=text,
                status=DecisionStatus.APPROVED,
                asked_by_member_id=None,
                closed_by_member_id=scope.member.id,
                created_at=now,
                closed_at=now,
            )
            session.add(decision)
            await session.flush()
            await _announce_outcome(session, services, decision, now, tr_for(services), asked=False)
        has_technical = (
            await core_repo.linked_chat(session, union_id=scope.union.id, table=TableKind.TECHNICAL)
            is not None
        )
    if earlier is not None:  # a retry: the same decision, moments ago (bot.services.repeats)
        await reply(
            update,
            _(
                "Questa decisione è già registrata ({date}): non la registro una seconda volta."
            ).format(
                date=format_datetime(
                    earlier.created_at, ZoneInfo(scope.union.timezone), who.tr.language
                )
            ),
        )
        return
    delivery.flush_soon(services, context.bot)
    if has_technical:
        answer = _("Decisione registrata e inviata al gruppo del tavolo tecnico.")
    else:
        answer = _(
            "Decisione registrata. Il gruppo del tavolo tecnico non è collegato: l'ho mandata ai coordinatori."
        )
    await reply(update, answer)


async def _on_outcome_sent(session: AsyncSession, row: OutboxMessage) -> None:
    decision_id = int(row.dedup_key.split(":")[1])
    if row.message_id is not None:
        await repo.add_decision_message(
            session, decision_id=decision_id, chat_id=row.chat_id, message_id=row.message_id
        )


async def remember_text(
    session: AsyncSession, update: Update, *, now: datetime, flow: str, text: str
) -> None:
    """Keep a command's text while the Union picker asks which Union (restart-safe)."""
    user, chat = update.effective_user, update.effective_chat
    if user is not None and chat is not None:
        await core_repo.set_conversation(
            session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            flow=flow,
            step="union",
            data={"text": text},
            now=now,
            ttl=timedelta(hours=1),
        )


async def recall_text(session: AsyncSession, update: Update, *, now: datetime, flow: str) -> str:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return ""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=user.id, chat_id=chat.id, now=now
    )
    if conv is None or conv.flow != flow:
        return ""
    await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
    return str(conv.data.get("text", ""))


async def on_pick_pending(update: Update, context: BotContext, conversation: Conversation) -> None:
    """Text typed while the Union picker is waiting: point at the buttons."""
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is not None:
        await reply(update, who.tr.gettext("Scegli prima l'Unione con i pulsanti qui sopra."))


# --- Covenant clock ------------------------------------------------------------------------


COVENANT_CLAIM = "covenant"


async def covenant_clock_due(services: Services, bot: Bot, now: datetime) -> None:
    """Warn the political table ahead of each Covenant report, once per lead time.

    Reads first and claims only what is due and not yet claimed: on almost every tick nothing
    is, and nothing is written. Each Union's warning is claimed and queued in its own short
    transaction (the claim decides, if two ticks ever race).
    """
    due: list[tuple[int, str, Milestone, date, list[tuple[int, str]]]] = []
    async with services.db.transaction() as session:
        candidates: list[tuple[Union, Milestone, date, list[tuple[int, str]]]] = []
        for union in await repo.unions_with_paes_date(session):
            if union.paes_approved_on is None:
                continue
            today = now.astimezone(ZoneInfo(union.timezone)).date()
            for milestone in next_milestones(union.paes_approved_on, today):
                leads = [
                    (lead, f"{milestone.due.isoformat()}:{lead}")
                    for lead in leads_reached(milestone, today)
                ]
                if leads:
                    candidates.append((union, milestone, today, leads))
        if not candidates:
            return
        claimed = await core_repo.claimed_keys(
            session,
            kinds=[COVENANT_CLAIM],
            periods={period for _u, _m, _t, leads in candidates for _lead, period in leads},
        )
        for union, milestone, today, leads in candidates:
            new = [
                (lead, period)
                for lead, period in leads
                if (COVENANT_CLAIM, union.id, period) not in claimed
            ]
            if new:
                due.append((union.id, union.name, milestone, today, new))
    tr = tr_for(services)
    for union_id, union_name, milestone, today, leads in due:
        async with services.db.transaction() as session:
            newly = [
                lead
                for lead, period in leads
                if await core_repo.claim(
                    session, kind=COVENANT_CLAIM, union_id=union_id, period=period, now=now
                )
            ]
            if not newly:
                continue
            text = render_covenant_warning(
                tr, union_name=union_name, milestone=milestone, today=today
            )
            for chat_id, person_id in await _targets(session, union_id, TableKind.POLITICAL):
                await outbox_repo.enqueue(
                    session,
                    dedup_key=f"cov:{union_id}:{milestone.due.isoformat()}:{min(newly)}"
                    + (f":p{person_id}" if person_id else ""),
                    chat_id=chat_id,
                    method="sendMessage",
                    payload={"text": text, "parse_mode": ParseMode.HTML},
                    union_id=union_id,
                    person_id=person_id,
                    now=now,
                )
        logger.info(
            "Union %s: Covenant warning for %s (%s days ahead)", union_id, milestone.due, min(newly)
        )


# --- wiring --------------------------------------------------------------------------------


async def _summary_picked(update: Update, context: BotContext, union_id: int) -> None:
    await _summary_for(update, context, union_id)


async def _export_picked(update: Update, context: BotContext, union_id: int) -> None:
    await _export_for(update, context, union_id)


async def _decision_picked(update: Update, context: BotContext, union_id: int) -> None:
    await _decision_for(update, context, union_id)


def register(application: AnyApplication, services: Services) -> None:
    application.add_handler(CommandHandler("riepilogo", summary_command))
    application.add_handler(CommandHandler("esporta", export_command))
    application.add_handler(CommandHandler("decisione", decision_command))
    application.add_handler(CallbackQueryHandler(on_export_button, pattern=cb.pattern(EXP_AREA)))
    application.add_handler(CallbackQueryHandler(on_export_button, pattern=cb.pattern(SUM_AREA)))
    application.add_handler(CallbackQueryHandler(on_decision_button, pattern=cb.pattern(DEC_AREA)))
    register_union_command("riepilogo", _summary_picked)
    register_union_command("esporta", _export_picked)
    register_union_command("decisione", _decision_picked)
    register_flow(DECISION_PICK_FLOW, on_pick_pending)
    services.add_due_work("summaries.scheduled", post_due_summaries)
    services.add_due_work("summaries.covenant_clock", covenant_clock_due)
    services.add_sent_listener("sum:", _on_summary_sent)
    services.add_sent_listener("decmsg:", _on_decision_sent)
    services.add_sent_listener("decout:", _on_outcome_sent)
    message_refresh.install(application, services, DECISION_MESSAGES)
