"""Announcements and shared folders as people read them: /annuncio's menu, the announcement
itself, its delivery report and /annuncio stato; /documenti's list and its buttons.

Plain functions of plain data (no Telegram, no session). The use cases in
bot.services.announcements call them for what they queue (the announcement, its report); the
handlers in bot.handlers.announcements for what they answer at once.

Buttons (callback data `area:verb:id[:arg]`, ids only; the handlers re-check everything):

    ann:send:<announcement>:<to>    to all | political | technical | c<Comune id>
    ann:comuni:<announcement>       «Un Comune…»: the Comuni to choose from
    ann:back:<announcement>         back to the audiences
    ann:cancel:<announcement>       «Annulla»: not sent
    doc:add:<union>                 «Aggiungi un link» (title and link are then written)
    doc:remove:<union>:<link>       🗑 a link
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import callback_data as cb
from bot.i18n import N_, Translator, format_datetime
from bot.views.answer import Answer
from bot.views.common import STALE_BUTTON
from bot.views.keyboard import Button, Keyboard, open_chat_button

ANN_AREA, DOC_AREA = "ann", "doc"
SEND, COMUNI, BACK, CANCEL = "send", "comuni", "back", "cancel"
ADD, REMOVE = "add", "remove"
COMUNI_LISTED = 90  # «Un Comune…»: one button each, within Telegram's 100

Keyboarded = tuple[str, Keyboard | None]


def audience_label(tr: Translator, audience: str, comune: str | None = None) -> str:
    """Who an announcement goes to: all, political, technical, or one Comune (`comune`)."""
    _ = tr.gettext
    if audience == "all":
        return _("tutto il team")
    if audience == "political":
        return _("il tavolo politico")
    if audience == "technical":
        return _("il tavolo tecnico")
    return _("il Comune di {name}").format(name=comune or "?")


# --- /annuncio ----------------------------------------------------------------------------


def announcement_howto(tr: Translator) -> str:
    return tr.gettext(
        "Scrivi l'avviso dopo il comando, ad esempio:\n"
        "<code>/annuncio Giovedì la riunione si tiene in Sala consiliare</code>\n"
        "Poi scegli a chi mandarlo."
    )


def announcement_too_long(tr: Translator, limit: int) -> str:
    return tr.gettext("L'avviso è troppo lungo: al massimo {n} caratteri.").format(n=limit)


def announcements_in_private(tr: Translator) -> str:
    """A button of an announcement pressed in a group (a toast: no room for a button)."""
    return tr.gettext("Gli avvisi si preparano in chat privata con me.")


def go_private(tr: Translator, bot_username: str | None) -> tuple[str, Keyboard | None]:
    """/annuncio written in a group: where it works, with a button that opens the private chat
    (without the bot's username, the text alone says where to go)."""
    text = tr.gettext(
        "Gli avvisi si preparano in chat privata con me: aprila con il pulsante qui sotto."
    )
    return text, open_chat_button(bot_username, tr) if bot_username else None


def coordinator_only(tr: Translator) -> str:
    return tr.gettext("Solo il coordinatore manda avvisi a tutto il team.")


def already_sent(
    tr: Translator, *, audience: str, comune: str | None, created_at: datetime, timezone: str
) -> str:
    """A retry of an announcement already sent (bot.services.repeats): not sent twice."""
    return tr.gettext(
        "Questo avviso per {audience} l'hai già mandato ({date}): non lo mando una "
        "seconda volta. Con /annuncio stato vedi a chi è arrivato."
    ).format(
        audience=html.escape(audience_label(tr, audience, comune)),
        date=format_datetime(created_at, ZoneInfo(timezone), tr.language),
    )


def choice_text(tr: Translator, union_name: str, text: str) -> str:
    return tr.gettext("<b>Avviso per {union}</b>\n\n{text}\n\nA chi lo mando?").format(
        union=html.escape(union_name), text=html.escape(text)
    )


def audience_keyboard(tr: Translator, announcement_id: int) -> Keyboard:
    _ = tr.gettext

    def to(label: str, audience: str) -> Button:
        return Button(label, cb.encode(ANN_AREA, SEND, announcement_id, audience))

    return Keyboard(
        (
            (to("👥 " + _("Tutti"), "all"),),
            (
                to("🏛 " + _("Tavolo politico"), "political"),
                to("🛠 " + _("Tavolo tecnico"), "technical"),
            ),
            (
                Button("🏘 " + _("Un Comune…"), cb.encode(ANN_AREA, COMUNI, announcement_id)),
                Button("✖️ " + _("Annulla"), cb.encode(ANN_AREA, CANCEL, announcement_id)),
            ),
        )
    )


def comuni_keyboard(
    tr: Translator, announcement_id: int, comuni: Sequence[tuple[int, str]]
) -> Keyboard:
    """«Un Comune…»: one button per Comune, and back to the audiences."""
    rows = [
        (Button(name, cb.encode(ANN_AREA, SEND, announcement_id, f"c{comune_id}")),)
        for comune_id, name in comuni[:COMUNI_LISTED]
    ]
    back = Button("↩️ " + tr.gettext("Indietro"), cb.encode(ANN_AREA, BACK, announcement_id))
    return Keyboard((*rows, (back,)))


@dataclass(frozen=True)
class AnnouncementMenu:
    """A draft with its audiences to choose from; `comuni` (id, name) when asked for them."""

    announcement_id: int
    union_name: str
    text: str
    comuni: tuple[tuple[int, str], ...] | None


def audience_menu(tr: Translator, menu: AnnouncementMenu) -> Answer:
    """The draft with its audiences, or (`comuni` given) with its Comuni to choose from."""
    keyboard = (
        audience_keyboard(tr, menu.announcement_id)
        if menu.comuni is None
        else comuni_keyboard(tr, menu.announcement_id, menu.comuni)
    )
    return Answer(toast="", text=choice_text(tr, menu.union_name, menu.text), keyboard=keyboard)


def announcement_body(tr: Translator, union_name: str, text: str) -> str:
    """The announcement as each recipient reads it, in their language."""
    heading = tr.gettext("<b>Avviso dal coordinamento · {union}</b>").format(
        union=html.escape(union_name)
    )
    return "📣 " + heading + "\n\n" + html.escape(text)


@dataclass(frozen=True)
class AnnouncementSending:
    """Queued, one message per person; the outbox sends them (and the report follows)."""

    audience: str  # all | political | technical | comune
    comune: str | None
    queued: int
    text: str


def sending(tr: Translator, sent: AnnouncementSending) -> Answer:
    label = audience_label(tr, sent.audience, sent.comune)
    return Answer(
        toast=tr.gettext("In invio."),
        text=tr.ngettext(
            "<b>Avviso in invio a {audience}</b> ({n} persona).\n\n{text}\n\n"
            "Ti mando il resoconto della consegna appena ho finito.",
            "<b>Avviso in invio a {audience}</b> ({n} persone).\n\n{text}\n\n"
            "Ti mando il resoconto della consegna appena ho finito.",
            sent.queued,
        ).format(audience=html.escape(label), n=sent.queued, text=html.escape(sent.text)),
    )


def cancelled(tr: Translator) -> Answer:
    _ = tr.gettext
    return Answer(toast=_("Avviso annullato."), text=_("Avviso annullato: non l'ho mandato."))


_REFUSALS = {
    "not_coordinator": N_("Solo il coordinatore manda avvisi a tutto il team."),
    "already_sent": N_("Questo avviso è già stato inviato."),
    "invalid": STALE_BUTTON,
}


def announcement_refused(tr: Translator, reason: str) -> Answer:
    return Answer(toast=tr.gettext(_REFUSALS[reason]))


# --- delivery -----------------------------------------------------------------------------


def delivery_report(
    tr: Translator,
    *,
    delivered: int,
    total: int,
    unreachable: Sequence[str | None],
    uncertain: Sequence[str | None],
) -> str:
    """To the sender once every delivery is settled. A name is None once its person left."""
    _ = tr.gettext
    text = "📬 " + _("<b>Avviso consegnato a {n} di {total}.</b>").format(n=delivered, total=total)
    if unreachable:
        text += "\n" + _("Non raggiungibili: {names}.").format(names=_names(tr, unreachable))
        text += "\n" + _(
            "Chi non ha mai avviato la chat con me (o mi ha bloccato) deve aprirla e premere Avvia."
        )
    if uncertain:
        text += "\n" + _("Consegna incerta (non lo rimando per non duplicarlo): {names}.").format(
            names=_names(tr, uncertain)
        )
    return text


def _names(tr: Translator, names: Sequence[str | None]) -> str:
    unknown = tr.gettext("ex membro")
    return ", ".join(html.escape(n or unknown) for n in names)


@dataclass(frozen=True)
class DeliveryStatus:
    """One announcement in /annuncio stato: where it went and how its deliveries stand."""

    created_at: datetime
    audience: str  # all | political | technical | comune
    comune: str | None
    text: str
    delivered: int
    total: int
    going: int  # still pending or being sent
    unreachable: tuple[str | None, ...]
    uncertain: tuple[str | None, ...]


def announcement_status(
    tr: Translator, items: Sequence[DeliveryStatus], timezone: str
) -> list[list[str]]:
    """/annuncio stato's sections (split at row boundaries by the caller: long lists of names)."""
    tz = ZoneInfo(timezone)
    sections = [["📬 " + tr.gettext("<b>Gli ultimi avvisi</b>")]]
    return sections + [_status_block(tr, item, tz) for item in items]


def _status_block(tr: Translator, item: DeliveryStatus, tz: ZoneInfo) -> list[str]:
    _ = tr.gettext
    preview = " ".join(item.text.split())
    preview = preview if len(preview) <= 60 else preview[:59].rstrip() + "…"
    lines = [
        _("• {date} — per {audience}: «{text}»").format(
            date=format_datetime(item.created_at, tz, tr.language),
            audience=html.escape(audience_label(tr, item.audience, item.comune)),
            text=html.escape(preview),
        ),
        "  ✅ " + _("consegnato a {n} di {total}").format(n=item.delivered, total=item.total),
    ]
    if item.going:
        lines.append("  ⏳ " + _("ancora in invio: {n}").format(n=item.going))
    if item.unreachable:
        lines.append(
            "  ⚠️ " + _("non raggiungibili: {names}").format(names=_names(tr, item.unreachable))
        )
    if item.uncertain:
        lines.append(
            "  ❔ "
            + _("consegna incerta (non lo rimando per non duplicarlo): {names}").format(
                names=_names(tr, item.uncertain)
            )
        )
    return lines


def no_announcements(tr: Translator) -> str:
    return tr.gettext("Non hai ancora mandato avvisi.")


# --- /documenti ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FolderLink:
    link_id: int
    title: str
    url: str


@dataclass(frozen=True)
class Folders:
    """The Union's links; `manage`: shown with the buttons to add and remove them (the
    coordinator, in private)."""

    union_id: int
    union_name: str
    links: tuple[FolderLink, ...]
    manage: bool


def folders(tr: Translator, shown: Folders) -> Keyboarded:
    """/documenti's list, with its buttons when `shown.manage`."""
    _ = tr.gettext
    name = html.escape(shown.union_name)
    lines = ["📁 " + _("<b>Cartelle condivise · {union}</b>").format(union=name)]
    for link in shown.links:
        lines.append(
            f'• <a href="{html.escape(link.url, quote=True)}">{html.escape(link.title)}</a>'
        )
    if not shown.links:
        lines.append(_("Nessun link ancora."))
        if not shown.manage:
            lines.append(_("Il coordinatore li aggiunge con /documenti in chat privata."))
    if not shown.manage:
        return "\n".join(lines), None
    add = Button("➕ " + _("Aggiungi un link"), cb.encode(DOC_AREA, ADD, shown.union_id))
    removes = [
        Button(
            "🗑 " + (link.title if len(link.title) <= 30 else link.title[:29] + "…"),
            cb.encode(DOC_AREA, REMOVE, shown.union_id, link.link_id),
        )
        for link in shown.links[:40]
    ]
    return "\n".join(lines), Keyboard.column([add, *removes])


def folders_in_private(tr: Translator) -> str:
    return tr.gettext("I link si gestiscono in chat privata con me.")


def folders_coordinator_only(tr: Translator) -> str:
    return tr.gettext("Solo il coordinatore gestisce i link.")


def link_asked(tr: Translator) -> Answer:
    """«Aggiungi un link»: what to write next."""
    _ = tr.gettext
    howto = _(
        "Mandami in un messaggio il titolo e l'indirizzo della cartella, ad esempio:\n"
        "<code>Cartella PAES https://drive.example.it/paes</code>"
    )
    return Answer(toast=_("Mandami titolo e link."), then=((howto, None),))


def link_removed(tr: Translator, removed: bool, shown: Folders) -> Answer:
    _ = tr.gettext
    toast = _("Link tolto.") if removed else _("Il link era già stato tolto.")
    text, keyboard = folders(tr, shown)
    return Answer(toast=toast, text=text, keyboard=keyboard)


def bad_link(tr: Translator) -> str:
    return tr.gettext(
        "Non trovo un indirizzo valido: serve un link che inizi con https:// (o http://), "
        "al massimo 1000 caratteri, con un titolo di al massimo 200. Riprova."
    )


def link_added(tr: Translator, *, added: bool, title: str, shown: Folders) -> Keyboarded:
    _ = tr.gettext
    answer = (
        _("Aggiunto: {title}").format(title=html.escape(title))
        if added
        else _("Questo link c'è già.")
    )
    text, keyboard = folders(tr, shown)
    return answer + "\n\n" + text, keyboard
