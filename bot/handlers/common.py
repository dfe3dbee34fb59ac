"""Start, help, privacy, language, the error handler, chat-member tracking and the fallbacks."""

from __future__ import annotations

import contextlib
import html
import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Chat,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callback_data as cb
from bot import conversations, delivery, telegram_edit
from bot.commands import COMMANDS, Audience, Command, describe, menu, menu_description
from bot.config import SUPPORTED_LANGUAGES
from bot.context import BotContext, Services
from bot.i18n import Translator, translator
from bot.scope import (
    UNION_PICK_AREA,
    DuplicateUpdate,
    UpdateNotProcessed,
    caller,
    on_union_picked,
    reply,
    tr_for,
    update_transaction,
)
from bot.services.display_text import NAMELESS, telegram_display_name
from bot.telegram_link import link_of
from storage.models import Member, Role
from storage.repositories import core as core_repo

logger = logging.getLogger(__name__)

LANG_AREA = "lang"
START_PAYLOAD_HOOK = "start_payload"
GROUP_MEMBERSHIP_HOOK = "bot_group_membership"
LANGUAGE_NAMES = {"it": "🇮🇹 Italiano", "en": "🇬🇧 English"}


def privacy_notice(tr: Translator) -> str:
    _ = tr.gettext
    return _(
        "<b>Privacy</b>\n"
        "Per far funzionare il Team energia conservo solo: il tuo id Telegram, il nome che "
        "scegli di mostrare, il tuo ruolo e il tuo Comune, i voti sulle date delle riunioni "
        "e gli aggiornamenti che invii sulle azioni del PAES.\n"
        "Servono a organizzare le riunioni e a informare il tavolo politico; li vedono solo i "
        "membri della tua Unione.\n"
        "Restano finché fai parte del team. Con /cancellami cancelli i tuoi dati personali in "
        "qualsiasi momento: il tuo nome, il tuo id Telegram e le tue preferenze spariscono; voti, "
        "aggiornamenti, note e domande al tavolo politico restano nella storia del team come "
        "«ex membro». Il testo delle note e degli aggiornamenti resta come l'hai scritto: se "
        "dentro c'è il tuo nome, resta anche quello.\n"
        "I registri tecnici del bot (log) non contengono i tuoi messaggi né il tuo nome, solo "
        "numeri identificativi, e sono cancellati dopo 30 giorni."
    )


# --- /start, /aiuto, /privacy, /lingua ----------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    payload = context.args[0] if context.args else None
    hook = context.services.hooks.get(START_PAYLOAD_HOOK)
    if payload and hook is not None:
        await hook(update, context, payload)
        return
    services = context.services
    chat = update.effective_chat
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        memberships = (
            await core_repo.memberships_of(session, telegram_user_id=who.user.id) if who else []
        )
        if chat is not None and chat.type != Chat.PRIVATE:
            # In a group, name only the Unions of this group: the others are nobody's business
            # here (a group may hold people of other Unions, or none).
            linked = {link.union_id for link in await core_repo.links_of_chat(session, chat.id)}
            memberships = [(m, u) for m, u in memberships if u.id in linked]
    if who is None:
        return
    _ = who.tr.gettext
    name = html.escape((who.person and who.person.display_name) or who.user.first_name)
    if memberships:
        unions = ", ".join(html.escape(u.name) for _m, u in memberships)
        text = _(
            "Ciao {name}! Fai parte del Team energia di: {unions}.\n"
            "Scrivi /aiuto per vedere che cosa puoi fare."
        ).format(name=name, unions=unions)
    elif may_create_unions(services, who.user.id):
        text = _(
            "Ciao {name}! Sono il bot del <b>Team energia di Unione</b>: aiuto sindaci, "
            "assessori e tecnici dei Comuni a portare avanti insieme il PAES.\n\n"
            "Per entrare nel team della tua Unione apri il link d'invito che ti ha mandato il "
            "coordinatore.\n"
            "Se sei tu a coordinare una nuova Unione, scrivi /crea_unione seguito dal nome."
        ).format(name=name)
    else:
        text = _(
            "Ciao {name}! Sono il bot del <b>Team energia di Unione</b>: aiuto sindaci, "
            "assessori e tecnici dei Comuni a portare avanti insieme il PAES.\n\n"
            "Per entrare nel team della tua Unione apri il link d'invito che ti ha mandato il "
            "coordinatore."
        ).format(name=name)
    await reply(update, text, parse_mode=ParseMode.HTML)


def may_create_unions(services: Services, telegram_user_id: int) -> bool:
    """/crea_unione is open to all unless BOT_ADMIN_IDS names who runs the bot."""
    admin_ids = services.settings.admin_ids
    return not admin_ids or telegram_user_id in admin_ids


def _allowed(command: Command, member: Member | None) -> bool:
    if command.audience == Audience.EVERYONE:
        return True
    if member is None:
        return False
    if member.is_coordinator or command.audience == Audience.MEMBER:
        return True
    if command.audience == Audience.POLITICAL:
        return member.role in (Role.SINDACO, Role.ASSESSORE)
    if command.audience == Audience.TECHNICAL:
        return member.role == Role.TECNICO
    if command.audience == Audience.SINDACO:
        return member.role == Role.SINDACO
    return False


async def help_command(update: Update, context: BotContext) -> None:
    services = context.services
    chat = update.effective_chat
    if chat is None:
        return
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
        if who is None:
            return
        memberships = await core_repo.memberships_of(session, telegram_user_id=who.user.id)
        if chat.type != Chat.PRIVATE:
            links = await core_repo.links_of_chat(session, chat.id)
            union_ids = {link.union_id for link in links}
            memberships = [(m, u) for m, u in memberships if u.id in union_ids]
    _ = who.tr.gettext
    private = chat.type == Chat.PRIVATE
    best: Member | None = None
    for member, _u in memberships:
        if best is None or member.is_coordinator:
            best = member
    # The commands of the reader's role first, under their own heading; then the rest.
    # A member needs neither /start nor, unless they coordinate, /crea_unione.
    role_lines: list[str] = []
    lines: list[str] = []
    for command in COMMANDS:
        if not command.in_menu or not _allowed(command, best):
            continue
        if (private and not command.private) or (not private and not command.group):
            continue
        if command.name == "crea_unione" and not may_create_unions(services, who.user.id):
            continue
        if best is not None and command.name == "start":
            continue
        if best is not None and command.name == "crea_unione" and not best.is_coordinator:
            continue
        line = f"/{command.name} — {html.escape(describe(command, who.tr))}"
        restricted = command.audience not in (Audience.EVERYONE, Audience.MEMBER)
        (role_lines if restricted and best is not None else lines).append(line)
    if best is None:
        intro = _("Non fai ancora parte di un Team energia. Ecco che cosa puoi fare:")
        heading = ""
    elif best.is_coordinator:
        intro = _(
            "Sei coordinatore: oltre ai comandi di tutti, gestisci membri, riunioni e impostazioni."
        )
        heading = _("<b>Da coordinatore</b>")
    elif best.role == Role.SINDACO:
        intro = _(
            "Sei Sindaco: proponi e voti le date delle riunioni, leggi i riepiloghi e voti le questioni del tavolo politico per il tuo Comune."
        )
        heading = _("<b>Da Sindaco</b>")
    elif best.role == Role.ASSESSORE:
        intro = _(
            "Sei al tavolo politico: voti le date delle riunioni, leggi i riepiloghi e, se il Sindaco non l'ha fatto, voti le questioni per il tuo Comune."
        )
        heading = ""
    elif best.role == Role.TECNICO:
        intro = _(
            "Sei al tavolo tecnico: voti le date delle riunioni e aggiorni le azioni del tuo Comune."
        )
        heading = _("<b>Da funzionario tecnico</b>")
    else:
        intro = _("Ecco che cosa puoi fare:")
        heading = ""
    if not private:
        intro += "\n" + _("Altri comandi sono disponibili in chat privata con me.")
    if role_lines:
        lines = [
            heading or _("<b>Per il tuo ruolo</b>"),
            *role_lines,
            "",
            _("<b>Per tutti</b>"),
            *lines,
        ]
    await reply(update, intro + "\n\n" + "\n".join(lines), parse_mode=ParseMode.HTML)


async def privacy(update: Update, context: BotContext) -> None:
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is not None:
        await reply(update, privacy_notice(who.tr), parse_mode=ParseMode.HTML)


async def language(update: Update, context: BotContext) -> None:
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is None:
        return
    buttons = [
        [
            InlineKeyboardButton(
                LANGUAGE_NAMES[code], callback_data=cb.encode(LANG_AREA, "set", code)
            )
        ]
        for code in SUPPORTED_LANGUAGES
    ]
    await reply(update, who.tr.gettext("Scegli la lingua:"), InlineKeyboardMarkup(buttons))


async def on_language(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    data = cb.decode(query.data)
    code = data.str_arg(0) if data else None
    if code not in SUPPORTED_LANGUAGES:
        await query.answer()
        return
    services = context.services
    user = query.from_user
    # A write: the update id is recorded with it, so a redelivered press changes nothing.
    async with update_transaction(context, update) as session:
        person = await core_repo.upsert_person(
            session,
            telegram_user_id=user.id,
            display_name=telegram_display_name(user, nameless=translator(code).gettext(NAMELESS)),
            username=user.username,
            telegram_language=user.language_code,
            now=services.clock.now(),
        )
        person.language = code
    tr = translator(code)
    await query.answer(tr.gettext("Lingua aggiornata."))
    if query.message is not None:
        await telegram_edit.edit_or_send(
            update, context.bot, tr.gettext("D'ora in poi ti scrivo in italiano.")
        )


# --- reachability, group membership, migration -------------------------------------------


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    services = context.services
    status = change.new_chat_member.status
    if change.chat.type == Chat.PRIVATE:
        blocked = status in (ChatMember.BANNED, ChatMember.LEFT)
        async with services.db.transaction() as session:
            await core_repo.mark_reachable(
                session,
                telegram_user_id=change.chat.id,
                reachable=not blocked,
                reason="bot was blocked by the user" if blocked else None,
                now=services.clock.now(),
            )
        logger.info("User %s %s the bot", change.chat.id, "blocked" if blocked else "unblocked")
        return
    hook = services.hooks.get(GROUP_MEMBERSHIP_HOOK)
    if hook is not None:
        await hook(update, context)


async def on_migrate(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    old_id = message.chat.id if message.migrate_to_chat_id else message.migrate_from_chat_id
    new_id = message.migrate_to_chat_id or message.chat.id
    if old_id is None or new_id is None or old_id == new_id:
        return
    async with context.services.db.transaction() as session:
        changed = await core_repo.migrate_chat(session, old_chat_id=old_id, new_chat_id=new_id)
    logger.info("Group %s became supergroup %s (%d rows follow it)", old_id, new_id, changed)


async def on_private_reachable(update: Update, context: BotContext) -> None:
    """Whoever writes to us in private can be reached again (they pressed Start or unblocked).

    It runs before every private message (group -1). When it cannot reach the database (the
    SQLite file locked past the busy timeout, PostgreSQL down), the command's own handler would
    meet the same wall after another wait, and PTB runs it anyway after an exception here: so
    the update stops here, with one honest message (`on_error`, UpdateNotProcessed).
    """
    user = update.effective_user
    if user is None:
        return
    services = context.services
    reports = 0
    try:
        async with services.db.transaction() as session:
            person = await core_repo.person_by_telegram_id(session, user.id)
            if person is not None and not person.reachable:
                await core_repo.mark_reachable(
                    session,
                    telegram_user_id=user.id,
                    reachable=True,
                    reason=None,
                    now=services.clock.now(),
                )
            if delivery.owes_report(services, user.id):
                # A coordinator owed a report that did not arrive: it goes now that they write.
                reports = await delivery.offer_reports_on_contact(session, services, user.id)
    except Exception as error:
        raise UpdateNotProcessed(str(error)) from error
    if reports:
        delivery.flush_soon(services, context.bot)


# --- fallbacks ----------------------------------------------------------------------------


async def on_private_input(update: Update, context: BotContext) -> None:
    if await conversations.route(update, context):
        return
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is not None:
        await reply(
            update, who.tr.gettext("Non ho capito. Scrivi /aiuto per vedere che cosa posso fare.")
        )


async def on_unknown_command(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    if chat is None or chat.type != Chat.PRIVATE:
        return  # in groups other bots' commands are none of our business
    services = context.services
    async with services.db.transaction() as session:
        who = await caller(session, services, update)
    if who is not None:
        await reply(
            update, who.tr.gettext("Comando sconosciuto. Scrivi /aiuto per l'elenco dei comandi.")
        )


async def on_stale_button(update: Update, context: BotContext) -> None:
    """A button nobody handles (old keyboard, forged data): answer so the spinner stops."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    tr = tr_for(services, person=None, user=query.from_user)
    await query.answer(tr.gettext("Questo pulsante non è più valido."), show_alert=False)


# --- errors -------------------------------------------------------------------------------


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if isinstance(update, Update) and isinstance(error, DuplicateUpdate):
        logger.info("Update %s was already handled; ignoring the redelivery", update.update_id)
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        return
    if not isinstance(update, Update):
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            # Telegram unreachable (a job's call): one line per outage, not a traceback each
            # time (bot/telegram_link.py).
            link_of(context.services).failed(error)
            return
        logger.error("Error outside an update", exc_info=error)
        return
    chat = update.effective_chat
    user = update.effective_user
    if isinstance(error, BadRequest) and "query is too old" in error.message.lower():
        # The press waited too long (e.g. while the bot restarted): its answer cannot be shown
        # any more, which is harmless; what the handler committed stays committed.
        logger.info(
            "Update %s: the button press was answered too late (%s)", update.update_id, error
        )
        return
    logger.error(
        "Error handling update %s (chat %s, user %s)",
        update.update_id,
        chat.id if chat else None,
        user.id if user else None,
        exc_info=error,
    )
    if isinstance(error, Forbidden):
        return
    services = context.services
    tr = tr_for(services, person=None, user=user)
    text = error_text(services, update.update_id, tr)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif chat is not None and chat.type == Chat.PRIVATE:
            await chat.send_message(text)
    except TelegramError:
        logger.warning("Could not tell the user about the error", exc_info=True)
    if isinstance(error, UpdateNotProcessed):
        # The pre-check failed: no handler of any group may run for this update.
        raise ApplicationHandlerStop


def error_text(services: Services, update_id: int, tr: Translator) -> str:
    """What the user reads after an error: "saved" only when it was committed, "not recorded"
    only when it certainly was not, and "I don't know" when the COMMIT itself failed."""
    _ = tr.gettext
    if update_id in services.committed_updates:
        return _("La modifica è stata salvata, ma qualcosa è andato storto mentre ti rispondevo.")
    if update_id in services.outcome_unknown_updates:
        return _(
            "Qualcosa è andato storto proprio mentre salvavo: non so se è stato registrato. "
            "Controlla prima di riprovare."
        )
    return _("Qualcosa non ha funzionato e non ho registrato nulla: riprova tra qualche minuto.")


# --- menus --------------------------------------------------------------------------------


async def set_command_menus(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The BotFather menus by scope and language: what makes sense where the user is."""
    bot = application.bot
    scopes = (
        (BotCommandScopeAllPrivateChats(), True, False),
        (BotCommandScopeAllGroupChats(), False, False),
        (BotCommandScopeAllChatAdministrators(), False, True),
    )
    for language in SUPPORTED_LANGUAGES:
        tr = translator(language)
        for scope, private, admins in scopes:
            commands = [
                BotCommand(c.name, menu_description(c, tr)[:256])
                for c in menu(private=private, admins=admins)
            ]
            # The Italian menu is the default for every client language.
            code = None if language == "it" else language
            await bot.set_my_commands(commands, scope=scope, language_code=code)


def register(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private, on_private_reachable), group=-1)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler(["aiuto", "help"], help_command))
    application.add_handler(CommandHandler("privacy", privacy))
    application.add_handler(CommandHandler("lingua", language))
    application.add_handler(CallbackQueryHandler(on_language, pattern=cb.pattern(LANG_AREA)))
    application.add_handler(
        CallbackQueryHandler(on_union_picked, pattern=cb.pattern(UNION_PICK_AREA))
    )
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    application.add_error_handler(on_error)


def register_fallbacks(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Registered after every feature: only what nobody else took reaches these."""
    private = filters.ChatType.PRIVATE
    application.add_handler(
        MessageHandler(
            private & ~filters.COMMAND & (filters.TEXT | filters.PHOTO | filters.Document.ALL),
            on_private_input,
        )
    )
    application.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    application.add_handler(CallbackQueryHandler(on_stale_button))
