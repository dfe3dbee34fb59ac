"""/annuncio (and `/annuncio stato`) and /documenti: each reaches the caller's Union through
the picker (bot.scope.union_command) and asks one use case of bot.services.announcements."""

from __future__ import annotations

from functools import partial

from telegram import Chat, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.conversations import command_text, recall_text, remember_text
from bot.i18n import Translator
from bot.markup import markup
from bot.scope import (
    Refusal,
    UnionScope,
    caller,
    caller_tr,
    read_in_union,
    reply,
    resolve_union,
    tr_for,
    union_command,
    update_transaction,
)
from bot.services import announcements
from bot.views import announcements as views
from bot.views.html_split import split_sections
from bot.views.keyboard import Keyboard

DraftOutcome = announcements.Drafted | announcements.AlreadySent | announcements.AnnouncementRefused
PICK_FLOW = "announcement_union"  # /annuncio's text, kept while the picker asks


async def announce(update: Update, context: BotContext, union_id: int | None) -> None:
    """/annuncio <testo>, in private: the draft, with the audiences to choose from."""
    if union_id is None and [a.lower() for a in context.args or []] in (["stato"], ["status"]):
        await status_command(update, context)
        return
    chat = update.effective_chat
    if update.effective_user is None or chat is None:
        return
    if chat.type != Chat.PRIVATE:
        await _go_private(update, context)
        return
    services = context.services
    now = services.clock.now()
    text = command_text(update) if union_id is None else ""
    scope: UnionScope | Refusal | None = None
    drafted: DraftOutcome | None = None
    async with update_transaction(context, update) as session:  # one, whatever the answer
        who = await caller(session, services, update)
        tr = who.tr if who is not None else tr_for(services)
        if union_id is not None:  # back from the picker: the text was kept
            text = await recall_text(session, update, now=now, flow=PICK_FLOW)
        problem = announcements.text_problem(text)
        if problem is None:
            scope = await resolve_union(
                session, update, context, command="annuncio", chosen_union_id=union_id, who=who
            )
            if isinstance(scope, Refusal) and scope.markup is not None:
                await remember_text(session, update, now=now, flow=PICK_FLOW, text=text)
            if not isinstance(scope, Refusal):
                drafted = await announcements.draft_announcement(
                    session, member_id=scope.member.id, text=text, now=now
                )
    if problem is not None:
        await reply(update, _not_drafted(tr, problem))
    elif isinstance(scope, Refusal):
        await scope.send(update)
    elif drafted is not None:
        answer, keyboard = _drafted(tr, drafted)
        await reply(update, answer, markup(keyboard), parse_mode=ParseMode.HTML)


async def _go_private(update: Update, context: BotContext) -> None:
    """/annuncio (or /annuncio stato) in a group, whoever asks: a button to the private chat,
    in the caller's language (nothing else is read)."""
    services = context.services
    async with services.db.transaction() as session:
        tr = await caller_tr(session, services, update)
    text, keyboard = views.go_private(tr, context.bot.username)
    await reply(update, text, markup(keyboard))


def _not_drafted(tr: Translator, problem: str) -> str:
    if problem == "too_long":
        return views.announcement_too_long(tr, announcements.MAX_ANNOUNCEMENT)
    return views.announcement_howto(tr)


def _drafted(tr: Translator, outcome: DraftOutcome) -> tuple[str, Keyboard | None]:
    if isinstance(outcome, announcements.AlreadySent):
        text = views.already_sent(
            tr,
            audience=outcome.audience,
            comune=outcome.comune,
            created_at=outcome.created_at,
            timezone=outcome.timezone,
        )
        return text, None
    if isinstance(outcome, announcements.AnnouncementRefused):
        return views.coordinator_only(tr), None
    return (
        views.choice_text(tr, outcome.union_name, outcome.text),
        views.audience_keyboard(tr, outcome.announcement_id),
    )


async def status(update: Update, context: BotContext, union_id: int | None) -> None:
    """`/annuncio stato`, in private: how the coordinator's last announcements were delivered —
    the same facts as the delivery report, whenever asked (also when that report did not
    arrive)."""
    chat = update.effective_chat
    if update.effective_user is None or chat is None:
        return
    if chat.type != Chat.PRIVATE:  # as /annuncio: in private only, whoever asks
        await _go_private(update, context)
        return
    tr, scope, shown = await read_in_union(
        update, context, "annuncio_stato", union_id, announcements.delivery_status
    )
    if isinstance(scope, Refusal):
        await scope.send(update)
    elif not isinstance(shown, announcements.Deliveries):
        await reply(update, views.coordinator_only(tr))
    elif not shown.items:
        await reply(update, views.no_announcements(tr))
    else:
        sections = views.announcement_status(tr, shown.items, shown.timezone)
        for part in split_sections(sections):  # long lists of names: split at row boundaries
            await reply(update, part, parse_mode=ParseMode.HTML)


status_command = union_command("annuncio_stato", status)


async def documents(update: Update, context: BotContext, union_id: int | None) -> None:
    """/documenti: the Union's shared folders; the coordinator manages them in private."""
    chat = update.effective_chat
    private = chat is not None and chat.type == Chat.PRIVATE
    folders = partial(announcements.shared_folders, private=private)
    tr, scope, shown = await read_in_union(update, context, "documenti", union_id, folders)
    if update.effective_user is None or chat is None:
        return
    if isinstance(scope, Refusal):
        await scope.send(update)
    elif shown is not None:
        text, keyboard = views.folders(tr, shown)
        await reply(update, text, markup(keyboard), parse_mode=ParseMode.HTML)
