"""What the bot says in Telegram about the dashboard: the button that opens it, the public
page's settings message, the press note message. Plain texts and keyboards (bot.views.keyboard)."""

from __future__ import annotations

import html

from bot import callback_data as cb
from bot.i18n import Translator
from bot.views.common import stale_button
from bot.views.dashboard.model import NotAllowed, PublicPageState
from bot.views.keyboard import Button, Keyboard

PUBLIC_AREA = "pub"  # the public page's buttons (bot/handlers/public_page.py)
SETTINGS_AREA = "set"  # /impostazioni's menu, where «Indietro» leads
TELEGRAM_MESSAGE_LIMIT = 4096


def start_param(union_id: int) -> str:
    """The Mini App's start parameter for a Union (A-Z a-z 0-9 _ -, Telegram's alphabet)."""
    return f"u{union_id}"


def union_of_start_param(value: str | None) -> int | None:
    if value and value.startswith("u") and value[1:].isdigit() and len(value) < 20:
        return int(value[1:])
    return None


def dashboard_button(
    tr: Translator,
    *,
    union_id: int,
    private: bool,
    webapp_url: str | None,
    bot_username: str | None,
) -> Button | None:
    """The button under a summary that opens the dashboard on its Union. Telegram allows a
    `web_app` button only in a private chat; in a group it is a link to the bot's main Mini
    App (t.me/<bot>?startapp=…, set up in @BotFather), which opens it inside Telegram with the
    Union as its start parameter. None when the dashboard is not configured."""
    if not webapp_url:
        return None
    label = "📊 " + tr.gettext("Apri il cruscotto")
    if private:
        return Button(label, web_app=webapp_url)
    if not bot_username:
        return None
    return Button(label, url=f"https://t.me/{bot_username}?startapp={start_param(union_id)}")


def menu_button_text(tr: Translator) -> str:
    return tr.gettext("Cruscotto")


def public_page_view(
    state: PublicPageState, tr: Translator, *, public_url: str | None, badge_url: str | None
) -> tuple[str, Keyboard | None]:
    """/impostazioni → «Pagina pubblica»: on or off, its address, the image for the website."""
    _ = tr.gettext
    u = state.union_id
    lines = [
        "🌐 " + _("<b>Pagina pubblica · {union}</b>").format(union=html.escape(state.union_name)),
        _(
            "Una pagina per i cittadini con le azioni completate e la CO₂ evitata, Comune per Comune. Non mostra nomi di persone né note."
        ),
        "",
    ]
    if state.enabled and public_url:
        lines.append(_("È <b>accesa</b>: {url}").format(url=html.escape(public_url)))
        if badge_url:
            lines.append(
                _("Immagine da mettere sul sito dell'Unione: {url}").format(
                    url=html.escape(badge_url)
                )
            )
        toggle = Button("⏹ " + _("Spegni"), data=cb.encode(PUBLIC_AREA, "off", u))
    else:
        lines.append(_("È <b>spenta</b>: chi apre il suo indirizzo non trova niente."))
        toggle = Button("▶️ " + _("Accendi"), data=cb.encode(PUBLIC_AREA, "on", u))
    keyboard = Keyboard.of(
        [toggle],
        [Button("📰 " + _("Bozza di comunicato stampa"), data=cb.encode(PUBLIC_AREA, "press", u))],
        [Button("↩️ " + _("Indietro"), data=cb.encode(SETTINGS_AREA, "menu", u))],
    )
    return "\n".join(lines), keyboard


def public_page_toast(state: PublicPageState, tr: Translator) -> str:
    if not state.changed:
        return ""
    return (
        tr.gettext("Pagina pubblica accesa.")
        if state.enabled
        else tr.gettext("Pagina pubblica spenta.")
    )


def press_note_message(text: str, tr: Translator) -> str:
    """The draft, ready to copy (a tap on a code block copies it in Telegram's apps)."""
    intro = tr.gettext(
        "📰 Ecco una bozza di comunicato in italiano, da adattare e girare all'ufficio stampa:"
    )
    body = html.escape(text)
    room = TELEGRAM_MESSAGE_LIMIT - len(intro) - 40
    if len(body) > room:
        body = body[: body.rfind("\n", 0, room)] + "\n…"
    return f"{intro}\n\n<pre>{body}</pre>"


def refusal_toast(refusal: NotAllowed, tr: Translator) -> str:
    _ = tr.gettext
    if refusal.reason == "coordinator_only":
        return _("Solo chi coordina l'Unione ne cambia le impostazioni.")
    return stale_button(tr)


def not_configured_toast(tr: Translator) -> str:
    return tr.gettext("Il cruscotto non è attivo su questo bot.")


def settings_menu_button(tr: Translator, union_id: int) -> Button:
    """The row /impostazioni's menu gets when the dashboard is configured."""
    return Button(
        "🌐 " + tr.gettext("Pagina pubblica"), data=cb.encode(PUBLIC_AREA, "show", union_id)
    )
