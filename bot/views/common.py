"""Texts and keyboards of /start, /aiuto, /privacy, /lingua, the fallbacks and errors."""

from __future__ import annotations

import enum
import html
from dataclasses import dataclass

from bot import callback_data as cb
from bot.commands import Command, describe
from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import Translator
from bot.views.keyboard import Button, Keyboard
from storage.models import Role

LANG_AREA = "lang"
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


# --- /start -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Welcome:
    name: str  # the name they chose, else their Telegram first name
    unions: tuple[str, ...]  # their Unions (in a group: only those linked to it)
    may_create_unions: bool


def welcome_text(welcome: Welcome, tr: Translator) -> str:
    _ = tr.gettext
    name = html.escape(welcome.name)
    if welcome.unions:
        return _(
            "Ciao {name}! Fai parte del Team energia di: {unions}.\n"
            "Scrivi /aiuto per vedere che cosa puoi fare."
        ).format(name=name, unions=", ".join(html.escape(u) for u in welcome.unions))
    if welcome.may_create_unions:
        return _(
            "Ciao {name}! Sono il bot del <b>Team energia di Unione</b>: aiuto sindaci, "
            "assessori e tecnici dei Comuni a portare avanti insieme il PAES.\n\n"
            "Per entrare nel team della tua Unione apri il link d'invito che ti ha mandato il "
            "coordinatore.\n"
            "Se sei tu a coordinare una nuova Unione, scrivi /crea_unione seguito dal nome."
        ).format(name=name)
    return _(
        "Ciao {name}! Sono il bot del <b>Team energia di Unione</b>: aiuto sindaci, "
        "assessori e tecnici dei Comuni a portare avanti insieme il PAES.\n\n"
        "Per entrare nel team della tua Unione apri il link d'invito che ti ha mandato il "
        "coordinatore."
    ).format(name=name)


# --- /aiuto -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HelpPage:
    """The commands a reader may use here: those of their role first, then everyone's."""

    role: Role | None  # None: not in any team (here)
    coordinator: bool
    for_role: tuple[Command, ...]
    for_all: tuple[Command, ...]
    private: bool


def _intro(page: HelpPage, tr: Translator) -> tuple[str, str]:
    """The first line and the heading of the role's commands."""
    _ = tr.gettext
    if page.role is None:
        return _("Non fai ancora parte di un Team energia. Ecco che cosa puoi fare:"), ""
    if page.coordinator:
        return _(
            "Sei coordinatore: oltre ai comandi di tutti, gestisci membri, riunioni e impostazioni."
        ), _("<b>Da coordinatore</b>")
    if page.role == Role.SINDACO:
        return _(
            "Sei Sindaco: proponi e voti le date delle riunioni, leggi i riepiloghi e voti le questioni del tavolo politico per il tuo Comune."
        ), _("<b>Da Sindaco</b>")
    if page.role == Role.ASSESSORE:
        return _(
            "Sei al tavolo politico: voti le date delle riunioni, leggi i riepiloghi e, se il Sindaco non l'ha fatto, voti le questioni per il tuo Comune."
        ), ""
    if page.role == Role.TECNICO:
        return _(
            "Sei al tavolo tecnico: voti le date delle riunioni e aggiorni le azioni del tuo Comune."
        ), _("<b>Da funzionario tecnico</b>")
    return _("Ecco che cosa puoi fare:"), ""


def help_text(page: HelpPage, tr: Translator) -> str:
    _ = tr.gettext
    intro, heading = _intro(page, tr)
    if not page.private:
        intro += "\n" + _("Altri comandi sono disponibili in chat privata con me.")

    def line(command: Command) -> str:
        return f"/{command.name} — {html.escape(describe(command, tr))}"

    lines = [line(c) for c in page.for_all]
    if page.for_role:
        lines = [
            heading or _("<b>Per il tuo ruolo</b>"),
            *(line(c) for c in page.for_role),
            "",
            _("<b>Per tutti</b>"),
            *lines,
        ]
    return intro + "\n\n" + "\n".join(lines)


# --- /lingua ----------------------------------------------------------------------------------


def language_question(tr: Translator) -> tuple[str, Keyboard | None]:
    keyboard = Keyboard.column(
        Button(LANGUAGE_NAMES[code], data=cb.encode(LANG_AREA, "set", code))
        for code in SUPPORTED_LANGUAGES
    )
    return tr.gettext("Scegli la lingua:"), keyboard


def language_set(tr: Translator) -> tuple[str, str]:
    """The toast and the text, in the language just chosen."""
    _ = tr.gettext
    return _("Lingua aggiornata."), _("D'ora in poi ti scrivo in italiano.")


# --- fallbacks and errors ---------------------------------------------------------------------


def not_understood(tr: Translator) -> str:
    return tr.gettext("Non ho capito. Scrivi /aiuto per vedere che cosa posso fare.")


def unknown_command(tr: Translator) -> str:
    return tr.gettext("Comando sconosciuto. Scrivi /aiuto per l'elenco dei comandi.")


def stale_button(tr: Translator) -> str:
    return tr.gettext("Questo pulsante non è più valido.")


class Saved(enum.Enum):
    """Whether an update that failed changed anything (bot.scope.update_transaction)."""

    YES = "yes"  # the transaction committed; what failed came after
    UNKNOWN = "unknown"  # the COMMIT itself failed: the server may have committed
    NO = "no"


def error_text(saved: Saved, tr: Translator) -> str:
    """What the user reads after an error: "saved" only when it was committed, "not recorded"
    only when it certainly was not, and "I don't know" when the COMMIT itself failed."""
    _ = tr.gettext
    if saved == Saved.YES:
        return _("La modifica è stata salvata, ma qualcosa è andato storto mentre ti rispondevo.")
    if saved == Saved.UNKNOWN:
        return _(
            "Qualcosa è andato storto proprio mentre salvavo: non so se è stato registrato. "
            "Controlla prima di riprovare."
        )
    return _("Qualcosa non ha funzionato e non ho registrato nulla: riprova tra qualche minuto.")
