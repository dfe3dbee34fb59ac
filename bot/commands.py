"""The command catalog: one list feeds the BotFather menus (per scope and language) and /aiuto."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.i18n import N_, Translator


class Audience(enum.Enum):
    EVERYONE = "everyone"
    MEMBER = "member"
    COORDINATOR = "coordinator"
    POLITICAL = "political"  # Sindaci and Assessori (and coordinators)
    SINDACO = "sindaco"  # Sindaci (and coordinators)
    TECHNICAL = "technical"  # Funzionari tecnici (and coordinators)


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # Italian source text, translated at use
    audience: Audience
    private: bool = True
    group: bool = False
    in_menu: bool = True


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Inizia o entra con un invito"), Audience.EVERYONE),
    Command("aiuto", N_("Che cosa posso fare qui"), Audience.EVERYONE, group=True),
    Command("team", N_("Chi è chi, Comune per Comune"), Audience.MEMBER, group=True),
    Command(
        "riunione", N_("Proponi le date della prossima riunione"), Audience.SINDACO, group=True
    ),
    Command(
        "calendario",
        N_("Il calendario delle riunioni, da salvare in agenda"),
        Audience.MEMBER,
        group=True,
    ),
    Command("verbali", N_("I verbali approvati delle riunioni"), Audience.MEMBER, group=True),
    Command("aggiornamento", N_("Aggiorna lo stato delle azioni del PAES"), Audience.TECHNICAL),
    Command("azioni", N_("Le azioni del PAES e il loro stato"), Audience.MEMBER, group=True),
    Command(
        "riepilogo",
        N_("Il punto della situazione per il tavolo politico"),
        Audience.MEMBER,
        group=True,
    ),
    Command(
        "decisione",
        N_("Registra una decisione del tavolo politico"),
        Audience.COORDINATOR,
        group=True,
    ),
    Command("annuncio", N_("Manda un avviso a tutto il team"), Audience.COORDINATOR),
    Command("documenti", N_("Le cartelle condivise dell'Unione"), Audience.MEMBER, group=True),
    Command(
        "esporta", N_("Scarica azioni e aggiornamenti in un foglio di calcolo"), Audience.SINDACO
    ),
    Command("crea_unione", N_("Crea una nuova Unione (coordinatori)"), Audience.EVERYONE),
    Command("comuni", N_("Gestisci i Comuni dell'Unione"), Audience.COORDINATOR),
    Command("invito", N_("Crea un link d'invito per nuovi membri"), Audience.COORDINATOR),
    Command(
        "collega",
        N_("Collega questo gruppo come tavolo politico o tecnico"),
        Audience.COORDINATOR,
        private=False,
        group=True,
    ),
    Command(
        "impostazioni",
        N_("Giorni dei sondaggi, promemoria e altre impostazioni"),
        Audience.COORDINATOR,
    ),
    Command("profilo", N_("Il tuo nome nel team e come ti nomino"), Audience.MEMBER),
    Command("lingua", N_("Cambia lingua"), Audience.EVERYONE),
    Command("privacy", N_("Quali dati conserviamo e perché"), Audience.EVERYONE),
    Command("cancellami", N_("Cancella i tuoi dati personali"), Audience.MEMBER),
    Command("help", N_("Che cosa posso fare qui"), Audience.EVERYONE, group=True, in_menu=False),
    # The calendar's old name, kept working (a message or a habit may still say it).
    Command(
        "riunioni",
        N_("Il calendario delle riunioni, da salvare in agenda"),
        Audience.MEMBER,
        group=True,
        in_menu=False,
    ),
)


# Everyone's private menu: a newcomer's. A member's own menu (bot.services.common.menus)
# replaces it in their chat.
NEWCOMER_MENU = ("start", "aiuto")


def menu(*, private: bool, admins: bool) -> list[Command]:
    """Commands for a BotFather menu scope: private chats, group members, group admins."""
    if private:
        return [c for c in COMMANDS if c.name in NEWCOMER_MENU]
    return [
        c for c in COMMANDS if c.group and c.in_menu and (admins or c.audience not in RESTRICTED)
    ]


# Who may use a command that not every member may: said in the shared menus, where everyone
# sees every command (/aiuto lists only what the reader may use, without the hint).
RESTRICTED = {
    Audience.COORDINATOR: N_("coordinatore"),
    Audience.SINDACO: N_("coordinatore e Sindaci"),
    Audience.TECHNICAL: N_("tecnici e coordinatore"),
}


def describe(command: Command, tr: Translator) -> str:
    return tr.gettext(command.description)


def menu_description(command: Command, tr: Translator) -> str:
    """The description in a BotFather menu: with who may use it, when not every member may."""
    hint = RESTRICTED.get(command.audience)
    text = describe(command, tr)
    return f"{text} ({tr.gettext(hint)})" if hint else text
