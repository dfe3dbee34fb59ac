"""`/annuncio` (in place of the mailing list) and `/documenti` (the Union's shared folders).

An announcement is stored, its audience chosen with buttons, then queued in the outbox once per
person (dedup key `ann:<id>:<person>`: never twice, whatever is pressed or redelivered). The
outbox flush sends through PTB's rate limiter; when every row is settled the coordinator gets
one delivery report with the names that could not be reached.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callback_data as cb
from bot import delivery, telegram_edit
from bot.context import BotContext, Services
from bot.conversations import register_flow
from bot.handlers.summaries import on_pick_pending, recall_text, remember_text
from bot.i18n import Translator, format_datetime
from bot.scope import (
    Refusal,
    button_refusal,
    caller,
    register_union_command,
    reply,
    resolve_union,
    tr_for,
    update_transaction,
)
from bot.services import repeats
from bot.services.export import parse_link
from bot.services.html_split import split_sections
from storage.models import (
    Announcement,
    Conversation,
    Member,
    Municipality,
    OutboxMessage,
    OutboxStatus,
    Person,
    Union,
)
from storage.repositories import core as core_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import summaries as repo

logger = logging.getLogger(__name__)

ANN_AREA, DOC_AREA = "ann", "doc"
DOC_FLOW = "doc_add"
PICK_FLOW = "announcement_union"
MAX_ANNOUNCEMENT = 3500  # leaves room for the heading within Telegram's 4096
AUDIENCES = ("all", "political", "technical")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def _audience_label(tr: Translator, audience: str, comune: str | None = None) -> str:
    _ = tr.gettext
    if audience == "all":
        return _("tutto il team")
    if audience == "political":
        return _("il tavolo politico")
    if audience == "technical":
        return _("il tavolo tecnico")
    return _("il Comune di {name}").format(name=comune or "?")


# --- /annuncio -----------------------------------------------------------------------------


async def announce_command(update: Update, context: BotContext) -> None:
    args = [a.lower() for a in (context.args or [])]
    if args in (["stato"], ["status"]):
        await announcement_status(update, context, None)
        return
    await _announce_for(update, context, None)


async def _announce_for(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    chat = update.effective_chat
    message = update.effective_message
    text = ""
    if union_id is None and message is not None and message.text:
        parts = message.text.split(maxsplit=1)
        text = parts[1].strip() if len(parts) > 1 else ""
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None or chat is None:
        return
    _ = who.tr.gettext
    if chat.type != Chat.PRIVATE:
        await reply(update, _("Gli avvisi si preparano in chat privata con me."))
        return
    if union_id is not None:
        # Back from the Union picker: the text was kept in a short conversation.
        async with services.db.transaction() as session:
            text = await recall_text(session, update, now=services.clock.now(), flow=PICK_FLOW)
    if not text:
        await reply(
            update,
            _(
                "Scrivi l'avviso dopo il comando, ad esempio:\n"
                "<code>/annuncio Giovedì la riunione si tiene in Sala consiliare</code>\n"
                "Poi scegli a chi mandarlo."
            ),
            parse_mode=ParseMode.HTML,
        )
        return
    if len(text) > MAX_ANNOUNCEMENT:
        await reply(
            update,
            _("L'avviso è troppo lungo: al massimo {n} caratteri.").format(n=MAX_ANNOUNCEMENT),
        )
        return
    async with update_transaction(context, update) as session:
        scope = await resolve_union(
            session, update, context, command="annuncio", chosen_union_id=union_id
        )
        announcement = None
        earlier: Announcement | None = None
        if isinstance(scope, Refusal) and scope.markup is not None:
            await remember_text(
                session, update, now=services.clock.now(), flow=PICK_FLOW, text=text
            )
        if not isinstance(scope, Refusal) and scope.is_coordinator:
            # A retry of the same text moments later is the same announcement
            # (bot.services.repeats): still a draft, its menu is shown again; sent, it is not
            # sent twice.
            now = services.clock.now()
            earlier = repeats.find_repeat(
                (
                    (a, a.text, a.created_at)
                    for a in await repo.recent_announcements_by(
                        session,
                        union_id=scope.union.id,
                        member_id=scope.member.id,
                        since=repeats.repeat_since(now),
                    )
                ),
                text=text,
                now=now,
            )
            if earlier is not None and not earlier.audience:
                announcement, earlier = earlier, None
        if not isinstance(scope, Refusal) and scope.is_coordinator and earlier is None:
            announcement = announcement or Announcement(
                union_id=scope.union.id,
                audience="",
                text=text,
                created_by_member_id=scope.member.id,
                created_at=services.clock.now(),
            )
            session.add(announcement)
            await session.flush()
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if earlier is not None:
        await reply(
            update,
            _(
                "Questo avviso per {audience} l'hai già mandato ({date}): non lo mando una "
                "seconda volta. Con /annuncio stato vedi a chi è arrivato."
            ).format(
                audience=html.escape(await _audience_name(services, who.tr, earlier.audience)),
                date=format_datetime(
                    earlier.created_at, ZoneInfo(scope.union.timezone), who.tr.language
                ),
            ),
            parse_mode=ParseMode.HTML,
        )
        return
    if announcement is None:
        await reply(update, _("Solo il coordinatore manda avvisi a tutto il team."))
        return
    await reply(
        update,
        _choice_text(who.tr, scope.union.name, text),
        _audience_keyboard(who.tr, announcement.id),
        parse_mode=ParseMode.HTML,
    )


async def _audience_name(services: Services, tr: Translator, audience: str) -> str:
    """The label of a stored audience (`comune:<id>` names the Comune)."""
    comune = None
    if audience.startswith("comune:") and audience[7:].isdigit():
        async with services.db.transaction() as session:
            found = await session.get(Municipality, int(audience[7:]))
            comune = found.name if found is not None else None
    return _audience_label(tr, audience.split(":")[0], comune)


def _choice_text(tr: Translator, union_name: str, text: str) -> str:
    return tr.gettext("<b>Avviso per {union}</b>\n\n{text}\n\nA chi lo mando?").format(
        union=html.escape(union_name), text=html.escape(text)
    )


def _audience_keyboard(tr: Translator, announcement_id: int) -> InlineKeyboardMarkup:
    _ = tr.gettext
    rows = [
        [
            InlineKeyboardButton(
                "👥 " + _("Tutti"), callback_data=cb.encode(ANN_AREA, "to", announcement_id, "all")
            )
        ],
        [
            InlineKeyboardButton(
                "🏛 " + _("Tavolo politico"),
                callback_data=cb.encode(ANN_AREA, "to", announcement_id, "political"),
            ),
            InlineKeyboardButton(
                "🛠 " + _("Tavolo tecnico"),
                callback_data=cb.encode(ANN_AREA, "to", announcement_id, "technical"),
            ),
        ],
        [
            InlineKeyboardButton(
                "🏘 " + _("Un Comune…"), callback_data=cb.encode(ANN_AREA, "com", announcement_id)
            ),
            InlineKeyboardButton(
                "✖️ " + _("Annulla"), callback_data=cb.encode(ANN_AREA, "no", announcement_id)
            ),
        ],
    ]
    return InlineKeyboardMarkup(rows)


async def on_announcement_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    announcement_id = data.int_arg(0) if data else None
    services = context.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None or data is None or announcement_id is None:
        await query.answer()
        return
    _ = who.tr.gettext
    toast, edit_text, edit_markup = "", None, None
    menu_text = ""
    queued = 0
    async with update_transaction(context, update) as session:
        refusal = await button_refusal(
            session,
            update,
            who.tr,
            union_id=None,
            private_only=_("Gli avvisi si preparano in chat privata con me."),
        )
        announcement = await session.get(Announcement, announcement_id)
        member = (
            await core_repo.member_of(
                session, union_id=announcement.union_id, telegram_user_id=query.from_user.id
            )
            if announcement is not None and refusal is None
            else None
        )
        if refusal is not None:
            toast = refusal
        elif announcement is None or member is None or not member.is_coordinator:
            toast = _("Solo il coordinatore manda avvisi a tutto il team.")
        elif announcement.audience:
            toast = _("Questo avviso è già stato inviato.")
        elif data.action == "no":
            announcement.audience = "cancelled"
            announcement.reported_at = now
            toast, edit_text = _("Avviso annullato."), _("Avviso annullato: non l'ho mandato.")
        elif data.action == "com":
            comuni = await core_repo.municipalities(session, announcement.union_id)
            buttons = [
                [
                    InlineKeyboardButton(
                        m.name, callback_data=cb.encode(ANN_AREA, "to", announcement.id, f"c{m.id}")
                    )
                ]
                for m in comuni[:90]
            ]
            buttons.append(
                [
                    InlineKeyboardButton(
                        "↩️ " + _("Indietro"),
                        callback_data=cb.encode(ANN_AREA, "back", announcement.id),
                    )
                ]
            )
            edit_markup = InlineKeyboardMarkup(buttons)
            union = await session.get(Union, announcement.union_id)
            menu_text = _choice_text(who.tr, union.name if union else "", announcement.text)
        elif data.action == "back":
            edit_markup = _audience_keyboard(who.tr, announcement.id)
            union = await session.get(Union, announcement.union_id)
            menu_text = _choice_text(who.tr, union.name if union else "", announcement.text)
        elif data.action == "to":
            target = data.str_arg(1) or ""
            audience = target if target in AUDIENCES else ""
            comune_name = None
            if target.startswith("c") and target[1:].isdigit():
                names = {
                    m.id: m.name
                    for m in await core_repo.municipalities(session, announcement.union_id)
                }
                if int(target[1:]) in names:
                    audience = f"comune:{target[1:]}"
                    comune_name = names[int(target[1:])]
            if not audience:
                toast = _("Questo pulsante non è più valido.")
            else:
                announcement.audience = audience
                union = await session.get(Union, announcement.union_id)
                recipients = [
                    r
                    for r in await repo.audience_members(
                        session, union_id=announcement.union_id, audience=audience
                    )
                    if r.person_id != member.person_id
                ]
                for r in recipients:
                    rtr = tr_for(services, language=r.language, default=who.language)
                    body = (
                        "📣 "
                        + rtr.gettext("<b>Avviso dal coordinamento · {union}</b>").format(
                            union=html.escape(union.name if union else "")
                        )
                        + "\n\n"
                        + html.escape(announcement.text)
                    )
                    if await outbox_repo.enqueue(
                        session,
                        dedup_key=f"ann:{announcement.id}:{r.person_id}",
                        chat_id=r.telegram_user_id,
                        method="sendMessage",
                        payload={"text": body, "parse_mode": ParseMode.HTML},
                        union_id=announcement.union_id,
                        person_id=r.person_id,
                        now=now,
                    ):
                        queued += 1
                label = _audience_label(who.tr, audience, comune_name)
                toast = _("In invio.")
                edit_text = who.tr.ngettext(
                    "<b>Avviso in invio a {audience}</b> ({n} persona).\n\n{text}\n\n"
                    "Ti mando il resoconto della consegna appena ho finito.",
                    "<b>Avviso in invio a {audience}</b> ({n} persone).\n\n{text}\n\n"
                    "Ti mando il resoconto della consegna appena ho finito.",
                    queued,
                ).format(audience=html.escape(label), n=queued, text=html.escape(announcement.text))
        else:
            toast = _("Questo pulsante non è più valido.")
    await query.answer(toast)
    if edit_text is not None:
        await telegram_edit.edit_or_send(update, context.bot, edit_text)
    elif edit_markup is not None:
        await telegram_edit.edit_or_send(update, context.bot, menu_text, edit_markup)
    if data.action == "to" and edit_text is not None:
        # A long send must not hold up other updates: deliver in the background.
        services.run_in_background(_deliver_and_report(services, context.bot))


async def _deliver_and_report(services: Services, bot: Bot) -> None:
    await delivery.flush(services, bot)
    await report_announcements(services, bot, services.clock.now())
    await delivery.flush(services, bot)


def delivery_report(
    tr: Translator, *, delivered: int, total: int, unreachable: list[str], uncertain: list[str]
) -> str:
    _ = tr.gettext
    text = "📬 " + _("<b>Avviso consegnato a {n} di {total}.</b>").format(n=delivered, total=total)
    if unreachable:
        text += "\n" + _("Non raggiungibili: {names}.").format(
            names=", ".join(html.escape(n) for n in unreachable)
        )
        text += "\n" + _(
            "Chi non ha mai avviato la chat con me (o mi ha bloccato) deve aprirla e premere Avvia."
        )
    if uncertain:
        text += "\n" + _("Consegna incerta (non lo rimando per non duplicarlo): {names}.").format(
            names=", ".join(html.escape(n) for n in uncertain)
        )
    return text


async def report_announcements(services: Services, bot: Bot, now: datetime) -> None:
    """Due work: once every delivery of an announcement is settled, report to its sender."""
    async with services.db.transaction() as session:
        for announcement in await repo.announcements_to_report(session):
            rows = await repo.outbox_rows(session, f"ann:{announcement.id}:")
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
            tr = tr_for(services, person=person)
            unknown = tr.gettext("ex membro")
            text = delivery_report(
                tr,
                delivered=sum(1 for r, _n in rows if r.status == OutboxStatus.SENT),
                total=len(rows),
                unreachable=[n or unknown for r, n in rows if r.status == OutboxStatus.FAILED],
                uncertain=[n or unknown for r, n in rows if r.status == OutboxStatus.UNCERTAIN],
            )
            await outbox_repo.enqueue(
                session,
                dedup_key=f"{delivery.ANNOUNCEMENT_REPORT_PREFIX}{announcement.id}",
                chat_id=person.telegram_user_id,
                method="sendMessage",
                payload={"text": text, "parse_mode": ParseMode.HTML},
                union_id=None,  # a report, not a problem to report again
                person_id=person.id,
                now=now,
                names=[
                    r.person_id
                    for r, _n in rows
                    if r.status != OutboxStatus.SENT and r.person_id is not None
                ],
            )


# --- /annuncio stato -----------------------------------------------------------------------

STATUS_SHOWN = 5  # the last announcements /annuncio stato shows


async def announcement_status(update: Update, context: BotContext, union_id: int | None) -> None:
    """The coordinator's view of the last announcements: delivered, not reachable, uncertain,
    still going — the same facts as the delivery report, readable whenever asked (also when
    that report itself did not arrive)."""
    services = context.services
    chat = update.effective_chat
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None or chat is None:
        return
    _ = who.tr.gettext
    if chat.type != Chat.PRIVATE:  # as /annuncio: in private only, whoever asks
        await reply(update, _("Gli avvisi si preparano in chat privata con me."))
        return
    async with services.db.transaction() as session:
        scope = await resolve_union(
            session, update, context, command="annuncio_stato", chosen_union_id=union_id
        )
        shown: list[tuple[Announcement, list[tuple[OutboxMessage, str | None]]]] = []
        comuni: dict[int, str] = {}
        if not isinstance(scope, Refusal) and scope.is_coordinator:
            for announcement in await repo.last_announcements(
                session, union_id=scope.union.id, limit=STATUS_SHOWN
            ):
                rows = await repo.outbox_rows(session, f"ann:{announcement.id}:")
                shown.append((announcement, rows))
            comuni = {m.id: m.name for m in await core_repo.municipalities(session, scope.union.id)}
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    if not scope.is_coordinator:
        await reply(update, _("Solo il coordinatore manda avvisi a tutto il team."))
        return
    if not shown:
        await reply(update, _("Non hai ancora mandato avvisi."))
        return
    tz = ZoneInfo(scope.union.timezone)
    sections = [["📬 " + _("<b>Gli ultimi avvisi</b>")]]
    sections += [_status_block(who.tr, a, rows, tz, comuni) for a, rows in shown]
    for part in split_sections(sections):  # long lists of names: split at row boundaries
        await reply(update, part, parse_mode=ParseMode.HTML)


def _status_block(
    tr: Translator,
    announcement: Announcement,
    rows: list[tuple[OutboxMessage, str | None]],
    tz: ZoneInfo,
    comuni: dict[int, str],
) -> list[str]:
    """One announcement's lines in /annuncio stato."""
    _ = tr.gettext
    unknown = _("ex membro")
    kind, _sep, arg = announcement.audience.partition(":")
    label = _audience_label(tr, kind, comuni.get(int(arg)) if arg.isdigit() else None)
    preview = " ".join(announcement.text.split())
    preview = preview if len(preview) <= 60 else preview[:59].rstrip() + "…"
    sent = sum(1 for r, _n in rows if r.status == OutboxStatus.SENT)
    unreachable = [n or unknown for r, n in rows if r.status == OutboxStatus.FAILED]
    uncertain = [n or unknown for r, n in rows if r.status == OutboxStatus.UNCERTAIN]
    going = sum(1 for r, _n in rows if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING))
    lines = [
        _("• {date} — per {audience}: «{text}»").format(
            date=format_datetime(announcement.created_at, tz, tr.language),
            audience=html.escape(label),
            text=html.escape(preview),
        ),
        "  ✅ " + _("consegnato a {n} di {total}").format(n=sent, total=len(rows)),
    ]
    if going:
        lines.append("  ⏳ " + _("ancora in invio: {n}").format(n=going))
    if unreachable:
        lines.append(
            "  ⚠️ "
            + _("non raggiungibili: {names}").format(
                names=", ".join(html.escape(n) for n in unreachable)
            )
        )
    if uncertain:
        lines.append(
            "  ❔ "
            + _("consegna incerta (non lo rimando per non duplicarlo): {names}").format(
                names=", ".join(html.escape(n) for n in uncertain)
            )
        )
    return lines


async def _status_picked(update: Update, context: BotContext, union_id: int) -> None:
    await announcement_status(update, context, union_id)


# --- /documenti ----------------------------------------------------------------------------


async def documents_command(update: Update, context: BotContext) -> None:
    await _documents_for(update, context, None)


async def _documents_for(update: Update, context: BotContext, union_id: int | None) -> None:
    services = context.services
    chat = update.effective_chat
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        scope = await resolve_union(
            session, update, context, command="documenti", chosen_union_id=union_id
        )
        links = (
            await repo.documents(session, scope.union.id) if not isinstance(scope, Refusal) else []
        )
    if who is None or chat is None:
        return
    if isinstance(scope, Refusal):
        await scope.send(update)
        return
    manage = scope.is_coordinator and chat.type == Chat.PRIVATE
    text, markup = _documents_view(who.tr, scope.union.name, scope.union.id, links, manage)
    await reply(update, text, markup, parse_mode=ParseMode.HTML)


def _documents_view(
    tr: Translator, union_name: str, union_id: int, links: list[Any], manage: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    _ = tr.gettext
    lines = ["📁 " + _("<b>Cartelle condivise · {union}</b>").format(union=html.escape(union_name))]
    if links:
        for link in links:
            lines.append(
                f'• <a href="{html.escape(link.url, quote=True)}">{html.escape(link.title)}</a>'
            )
    else:
        lines.append(_("Nessun link ancora."))
        if not manage:
            lines.append(_("Il coordinatore li aggiunge con /documenti in chat privata."))
    if not manage:
        return "\n".join(lines), None
    buttons = [
        [
            InlineKeyboardButton(
                "➕ " + _("Aggiungi un link"), callback_data=cb.encode(DOC_AREA, "add", union_id)
            )
        ]
    ]
    for link in links[:40]:
        title = link.title if len(link.title) <= 30 else link.title[:29] + "…"
        buttons.append(
            [
                InlineKeyboardButton(
                    "🗑 " + title, callback_data=cb.encode(DOC_AREA, "rm", union_id, link.id)
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def on_document_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or query.from_user is None or chat is None:
        return
    data = cb.decode(query.data)
    union_id = data.int_arg(0) if data else None
    services = context.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None or data is None or union_id is None:
        await query.answer()
        return
    _ = who.tr.gettext
    toast, view = "", None
    async with update_transaction(context, update) as session:
        only_in_private = _("I link si gestiscono in chat privata con me.")
        refusal = await button_refusal(
            session, update, who.tr, union_id=union_id, private_only=only_in_private
        )
        member = await core_repo.member_of(
            session, union_id=union_id, telegram_user_id=query.from_user.id
        )
        union = await session.get(Union, union_id)
        if refusal is not None:
            toast = refusal
        elif member is None or union is None or not member.is_coordinator:
            toast = _("Solo il coordinatore gestisce i link.")
        elif data.action == "add":
            await core_repo.set_conversation(
                session,
                telegram_user_id=query.from_user.id,
                chat_id=chat.id,
                flow=DOC_FLOW,
                step="link",
                data={"union_id": union_id},
                now=now,
            )
            toast = _("Mandami titolo e link.")
        elif data.action == "rm":
            document_id = data.int_arg(1)
            removed = document_id is not None and await repo.remove_document(
                session, union_id=union_id, document_id=document_id
            )
            toast = _("Link tolto.") if removed else _("Il link era già stato tolto.")
            links = await repo.documents(session, union_id)
            view = _documents_view(who.tr, union.name, union_id, links, True)
        else:
            toast = _("Questo pulsante non è più valido.")
    await query.answer(toast)
    if data.action == "add" and toast == _("Mandami titolo e link."):
        await chat.send_message(
            _(
                "Mandami in un messaggio il titolo e l'indirizzo della cartella, ad esempio:\n"
                "<code>Cartella PAES https://drive.example.it/paes</code>"
            ),
            parse_mode=ParseMode.HTML,
        )
    if view is not None:
        await telegram_edit.edit_or_send(update, context.bot, view[0], view[1])


async def on_document_text(update: Update, context: BotContext, conversation: Conversation) -> None:
    """The coordinator's "Titolo https://…" after pressing Aggiungi."""
    message = update.effective_message
    user = update.effective_user
    chat = update.effective_chat
    if message is None or user is None or chat is None:
        return
    services = context.services
    now = services.clock.now()
    union_id = int(conversation.data.get("union_id", 0))
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None:
        return
    _ = who.tr.gettext
    parsed = parse_link(message.text or "")
    if parsed is None:
        await reply(
            update,
            _(
                "Non trovo un indirizzo valido: serve un link che inizi con https:// (o http://), "
                "al massimo 1000 caratteri, con un titolo di al massimo 200. Riprova."
            ),
        )
        return
    title, url = parsed
    async with update_transaction(context, update) as session:
        member = await core_repo.member_of(session, union_id=union_id, telegram_user_id=user.id)
        union = await session.get(Union, union_id)
        await core_repo.clear_conversation(session, telegram_user_id=user.id, chat_id=chat.id)
        added = False
        links = []
        if member is not None and member.is_coordinator and union is not None:
            added = await repo.add_document(
                session, union_id=union_id, title=title, url=url, member_id=member.id, now=now
            )
            links = await repo.documents(session, union_id)
    if member is None or not member.is_coordinator or union is None:
        await reply(update, _("Solo il coordinatore gestisce i link."))
        return
    answer = (
        _("Aggiunto: {title}").format(title=html.escape(title))
        if added
        else _("Questo link c'è già.")
    )
    text, markup = _documents_view(who.tr, union.name, union_id, links, True)
    await reply(update, answer + "\n\n" + text, markup, parse_mode=ParseMode.HTML)


# --- wiring --------------------------------------------------------------------------------


async def _announce_picked(update: Update, context: BotContext, union_id: int) -> None:
    await _announce_for(update, context, union_id)


async def _documents_picked(update: Update, context: BotContext, union_id: int) -> None:
    await _documents_for(update, context, union_id)


def register(application: AnyApplication, services: Services) -> None:
    application.add_handler(CommandHandler("annuncio", announce_command))
    application.add_handler(CommandHandler("documenti", documents_command))
    application.add_handler(
        CallbackQueryHandler(on_announcement_button, pattern=cb.pattern(ANN_AREA))
    )
    application.add_handler(CallbackQueryHandler(on_document_button, pattern=cb.pattern(DOC_AREA)))
    register_union_command("annuncio", _announce_picked)
    register_union_command("annuncio_stato", _status_picked)
    register_union_command("documenti", _documents_picked)
    register_flow(DOC_FLOW, on_document_text)
    register_flow(PICK_FLOW, on_pick_pending)
    services.add_due_work("summaries.announcement_reports", report_announcements)
    services.report_elsewhere("ann:")  # report_announcements tells the sender
