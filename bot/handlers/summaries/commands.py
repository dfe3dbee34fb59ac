"""/riepilogo, /esporta and /decisione: each reaches the caller's Union through the picker
(bot.scope.union_command) and asks one use case of bot.services.summaries."""

from __future__ import annotations

from telegram import Chat, InputFile, Update
from telegram.constants import ParseMode

from bot import delivery
from bot.context import BotContext
from bot.conversations import command_text, recall_text, remember_text
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import (
    Refusal,
    UnionScope,
    caller_tr,
    read_in_union,
    reply,
    resolve_union,
    tr_for,
    update_transaction,
)
from bot.services import summaries
from bot.views import summaries as views
from bot.views.html_split import split_sections

DECISION_PICK_FLOW = "decision_union"  # /decisione's text, kept while the picker asks


async def summary(update: Update, context: BotContext, union_id: int | None) -> None:
    """/riepilogo: the summary as it stands, with its chart (in a group, in the group's
    language: the instance's)."""
    services = context.services
    chat = update.effective_chat
    if chat is None:
        return
    async with services.db.transaction() as session:
        scope = await resolve_union(
            session, update, context, command="riepilogo", chosen_union_id=union_id
        )
        private = chat.type == Chat.PRIVATE
        tr = await caller_tr(session, services, update) if private else tr_for(services)
        draft = None
        if not isinstance(scope, Refusal):
            draft = await summaries.read_summary_now(
                session, union_id=scope.union.id, now=services.clock.now(), language=tr.language
            )
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if draft is None:
        return
    parts = summaries.summary_texts(draft, language=tr.language)
    dashboard = views.dashboard_link(  # issue 20: None unless the dashboard is configured
        tr,
        scope.union.id,
        private=private,
        webapp_url=services.settings.webapp_url,
        bot_username=context.bot.username,
    )
    for text, keyboard in views.summary_messages(tr, parts, scope.union.id, dashboard):
        await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))
    chart = await summaries.summary_chart(draft, language=tr.language)
    await chat.send_photo(
        InputFile(chart, filename="riepilogo.png"), caption=views.chart_caption(tr)
    )


async def export(update: Update, context: BotContext, union_id: int | None) -> None:
    """/esporta, in private: the formats, for the coordinator and the Sindaci."""
    chat = update.effective_chat
    tr, scope, offer = await read_in_union(
        update, context, "esporta", union_id, summaries.export_offer
    )
    if update.effective_user is None:
        return
    if chat is None or chat.type != Chat.PRIVATE:
        await reply(update, views.export_in_private(tr))
    elif isinstance(scope, Refusal):
        await scope.send(update)
    elif not isinstance(offer, summaries.ExportOffer):
        await reply(update, views.export_refused(tr, "not_allowed"))
    else:
        text, keyboard = views.export_question(tr, offer.union_name, offer.union_id)
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)


def _group_table(scope: UnionScope) -> summaries.TableKind | None:
    return scope.link.table_kind if scope.link is not None else None


async def decision(update: Update, context: BotContext, union_id: int | None) -> None:
    """/decisione <testo>: a decision of the political table, recorded by the coordinator and
    sent to the technical table. Without text: how to write one, and the pending ones."""
    services = context.services
    now = services.clock.now()
    text = command_text(update) if union_id is None else ""
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
        if union_id is not None:
            text = await recall_text(session, update, now=now, flow=DECISION_PICK_FLOW)
        scope = await resolve_union(
            session, update, context, command="decisione", chosen_union_id=union_id
        )
        if isinstance(scope, Refusal) and scope.markup is not None and text:
            await remember_text(session, update, now=now, flow=DECISION_PICK_FLOW, text=text)
        desk = None
        if not isinstance(scope, Refusal):
            desk = await summaries.decision_desk(
                session, member_id=scope.member.id, group_table=_group_table(scope)
            )
    if isinstance(scope, Refusal):
        await scope.send(update)
    elif isinstance(desk, summaries.DecisionNotRecorded):
        await reply(update, views.decision_not_recorded(tr, desk.reason))
    elif not text:
        assert desk is not None
        sections, keyboard = views.decision_desk(tr, desk.pending)
        parts = split_sections(sections)  # long questions: split at row boundaries
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            await reply(update, part, markup(keyboard) if last else None, parse_mode=ParseMode.HTML)
    elif update.effective_user is not None:
        await _record(update, context, scope, text, tr)


async def _record(
    update: Update, context: BotContext, scope: UnionScope, text: str, tr: Translator
) -> None:
    """/decisione with text: recorded (once: a retry is recognised) and announced."""
    services = context.services
    assert update.effective_user is not None
    async with update_transaction(context, update) as session:
        outcome = await summaries.record_decision(
            session,
            union_id=scope.union.id,
            telegram_user_id=update.effective_user.id,
            group_table=_group_table(scope),
            text=text,
            now=services.clock.now(),
            language=tr_for(services).language,
        )
    if isinstance(outcome, summaries.DecisionNotRecorded):
        await reply(update, views.decision_not_recorded(tr, outcome.reason))
    elif isinstance(outcome, summaries.DecisionRepeated):
        await reply(update, views.decision_repeated(tr, outcome.created_at, outcome.timezone))
    else:
        delivery.flush_soon(services, context.bot)
        await reply(update, views.decision_recorded(tr, technical_group=outcome.technical_group))
