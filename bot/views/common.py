"""Texts and keyboards of /start, /aiuto, /privacy, /lingua, the fallbacks and errors."""

from __future__ import annotations

import enum
import html
from collections.abc import Sequence
from dataclasses import dataclass

from bot import callback_data as cb
from bot.commands import Command, describe
from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import N_, Translator
from bot.views.keyboard import Button, Keyboard
from bot.views.roles import coordinator_word, role_label
from storage.models import Form, Role

LANG_AREA = "lang"
LANGUAGE_NAMES = {"it": "🇮🇹 Italiano", "en": "🇬🇧 English"}


def start_link_url(bot_username: str, payload: str) -> str:
    """t.me/<bot>?start=<payload>: opens the private chat, whose «Avvia» sends /start <payload>
    (a button's url, or answerCallbackQuery's: outside games the only url it takes)."""
    return f"https://t.me/{bot_username}?start={payload}"


def privacy_notice(tr: Translator) -> str:
    _ = tr.gettext
    return _(
        "<b>Privacy</b>\n"
        "Per far funzionare il Team energia conservo solo: il tuo id Telegram, il nome che scegli di mostrare, il tuo ruolo e il tuo Comune, le tue risposte sulle date delle riunioni, le tue presenze alle riunioni e gli aggiornamenti che invii sulle azioni del PAES.\n"
        "Servono a organizzare le riunioni e a informare il tavolo politico; li vedono solo i membri della tua Unione.\n"
        "Restano finché fai parte del team. Con /cancellami cancelli i tuoi dati personali in qualsiasi momento: il tuo nome, il tuo id Telegram e le tue preferenze spariscono; voti, presenze, aggiornamenti, note e questioni per il tavolo politico restano nella storia del team come «ex membro», anche nei verbali approvati. Il testo delle note e degli aggiornamenti resta come l'hai scritto: se dentro c'è il tuo nome, resta anche quello.\n"
        "I registri tecnici del bot (log) non contengono i tuoi messaggi né il tuo nome, solo numeri identificativi, e sono cancellati dopo 30 giorni."
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
            "Ciao {name}! Sei nel Team energia ({unions}).\n"
            "Scrivi /aiuto per vedere che cosa puoi fare."
        ).format(name=name, unions=", ".join(html.escape(u) for u in welcome.unions))
    if welcome.may_create_unions:
        return _(
            "Ciao {name}! Sono il bot del <b>Team energia dell'Unione</b>: aiuto sindaci, assessori e tecnici dei Comuni a portare avanti insieme il PAES.\n"
            "\n"
            "Per entrare nel team della tua Unione apri il link d'invito che ti ha mandato chi la coordina.\n"
            "Se sei tu a coordinare una nuova Unione, scrivi /crea_unione seguito dal nome."
        ).format(name=name)
    return _(
        "Ciao {name}! Sono il bot del <b>Team energia dell'Unione</b>: aiuto sindaci, assessori e tecnici dei Comuni a portare avanti insieme il PAES.\n"
        "\n"
        "Per entrare nel team della tua Unione apri il link d'invito che ti ha mandato chi la coordina."
    ).format(name=name)


# --- /aiuto -----------------------------------------------------------------------------------

HELP_AREA = "help"


@dataclass(frozen=True)
class HelpPage:
    """What a reader may do here: their role's commands first, then everyone's."""

    role: Role | None  # None: not in any team (here)
    coordinator: bool
    for_role: tuple[Command, ...]
    for_all: tuple[Command, ...]
    private: bool
    form: Form | None = None  # how they want to be named (bot.views.roles)


@dataclass(frozen=True)
class Task:
    """Something a person comes to do, asked as a question, and the command that starts it."""

    icon: str
    question: str  # N_: translated at use
    button: str | None = None  # N_: a button starts it (a command made with scope.union_command)
    doing: str | None = None  # N_: in the welcome's list «Ecco che cosa farai qui» (with a button)


# /aiuto by task: the lines in the order of bot.commands.COMMANDS (the role's first); the buttons
# (and the welcome's tasks) in this catalogue's order, the role's first. A command without a
# task here is listed at the end («Anche: /lingua · /privacy …»).
TASKS = {
    "riunione": Task(
        "📅",
        N_("Vuoi proporre le date della prossima riunione?"),
        N_("📅 Proponi le date"),
        N_("📅 proporre le date delle riunioni del tavolo politico"),
    ),
    "aggiornamento": Task(
        "✏️",
        N_("Vuoi aggiornare lo stato delle tue azioni del PAES?"),
        N_("✏️ Aggiorna le azioni"),
        N_("✏️ aggiornare ogni mese lo stato delle tue azioni del PAES"),
    ),
    "invito": Task(
        "🔗",
        N_("Vuoi invitare qualcuno nel team?"),
        N_("🔗 Invita"),
        N_("🔗 invitare nel team chi ancora manca"),
    ),
    "calendario": Task(
        "🗓",
        N_("Vuoi sapere quando sono le prossime riunioni e salvarle nella tua agenda?"),
        N_("🗓 Calendario"),
        N_("🗓 sapere quando sono le riunioni e salvarle nella tua agenda"),
    ),
    "azioni": Task(
        "📋",
        N_("Vuoi vedere le azioni del PAES e a che punto sono?"),
        N_("📋 Le azioni"),
        N_("📋 seguire le azioni del PAES e a che punto sono"),
    ),
    "riepilogo": Task("📊", N_("Vuoi il punto della situazione per il tavolo politico?")),
    "esporta": Task("📥", N_("Vuoi azioni e aggiornamenti in un foglio di calcolo?")),
    "team": Task(
        "👥",
        N_("Vuoi sapere chi è chi, Comune per Comune?"),
        N_("👥 Il team"),
        N_("👥 vedere chi è chi, Comune per Comune"),
    ),
    "decisione": Task("⚖️", N_("Vuoi registrare una decisione del tavolo politico?")),
    "annuncio": Task("📣", N_("Vuoi mandare un avviso a tutto il team?")),
    "comuni": Task("🏠", N_("Vuoi aggiungere o rinominare i Comuni dell'Unione?")),
    "impostazioni": Task(
        "⚙️", N_("Vuoi cambiare i giorni dei sondaggi, i promemoria e le altre impostazioni?")
    ),
    "documenti": Task("📁", N_("Vuoi aprire le cartelle condivise dell'Unione?")),
}
# Buttons under /aiuto: the first few of the reader's tasks that have one.
MAX_HELP_BUTTONS = 3


def _intro(page: HelpPage, tr: Translator) -> tuple[str, str]:
    """The first line, in the reader's form, and the heading of the role's commands (groups)."""
    _ = tr.gettext
    if page.role is None:
        return _("Non fai ancora parte di un Team energia. Ecco che cosa puoi fare:"), ""
    role = role_label(page.role, tr, page.form)
    if page.coordinator:
        word = coordinator_word(tr, page.form)
        return _(
            "Sei {coordinator}: oltre a quello che fanno tutti, gestisci il team, le riunioni e le impostazioni."
        ).format(coordinator=word), _("<b>Da {coordinator}</b>").format(coordinator=word)
    heading = _("<b>Da {role}</b>").format(role=role)
    if page.role == Role.SINDACO:
        return _(
            "Sei {role}: proponi e voti le date delle riunioni, leggi i riepiloghi e voti le questioni del tavolo politico per il tuo Comune."
        ).format(role=role), heading
    if page.role == Role.ASSESSORE:
        return _(
            "Sei {role}, al tavolo politico: voti le date delle riunioni, leggi i riepiloghi e, se il Sindaco non l'ha fatto, voti le questioni per il tuo Comune."
        ).format(role=role), ""
    if page.role == Role.TECNICO:
        return _(
            "Sei {role}, al tavolo tecnico: voti le date delle riunioni e ogni mese aggiorni lo stato delle tue azioni."
        ).format(role=role), heading
    return _("Ecco che cosa puoi fare:"), ""


def _newcomer_tasks(page: HelpPage, tr: Translator) -> list[str]:
    _ = tr.gettext
    lines = [
        "🔗 "
        + _(
            "Vuoi entrare nel Team energia della tua Unione? Apri il link d'invito che ti ha mandato chi coordina: bastano pochi tocchi."
        )
    ]
    if any(c.name == "crea_unione" for c in page.for_all):
        lines.append("🆕 " + _("Coordini una nuova Unione? Scrivi /crea_unione seguito dal nome."))
    return lines


def _help_by_task(page: HelpPage, tr: Translator) -> str:
    """In private: a question per task («Vuoi proporre le date…?») with its command."""
    _ = tr.gettext
    intro, _heading = _intro(page, tr)
    commands = [*page.for_role, *page.for_all]
    lines = [
        f"{TASKS[c.name].icon} {_(TASKS[c.name].question)} /{c.name}"
        for c in commands
        if c.name in TASKS
    ]
    if page.role is None:
        lines = _newcomer_tasks(page, tr)
    others = [c for c in commands if c.name not in TASKS and c.name not in ("crea_unione", "start")]
    if page.role is None:
        others = [c for c in commands if c.name in ("lingua", "privacy")]
    if others:
        lines += [
            "",
            _("Anche: {commands}").format(commands=" · ".join(f"/{c.name}" for c in others)),
        ]
    return intro + "\n\n" + "\n".join(lines)


def first_tasks(for_role: Sequence[Command], for_all: Sequence[Command]) -> tuple[str, ...]:
    """The reader's first tasks that a button starts: the role's first, each part in TASKS'
    order. /aiuto's buttons and the welcome after approval are both these: one list."""
    names: list[str] = []
    for commands in (for_role, for_all):
        mine = {c.name for c in commands}
        names += [n for n, task in TASKS.items() if n in mine and task.button and n not in names]
    return tuple(names[:MAX_HELP_BUTTONS])


def task_keyboard(tasks: Sequence[str], tr: Translator) -> Keyboard | None:
    """Tasks (of `first_tasks`) as buttons that start them (`help:go:<command>`)."""
    return Keyboard.column(
        Button(tr.gettext(TASKS[name].button or ""), data=cb.encode(HELP_AREA, "go", name))
        for name in tasks
    )


def help_keyboard(page: HelpPage, tr: Translator) -> Keyboard | None:
    """The reader's first tasks as buttons, in private."""
    if not page.private:
        return None
    return task_keyboard(first_tasks(page.for_role, page.for_all), tr)


def help_text(page: HelpPage, tr: Translator) -> str:
    _ = tr.gettext
    if page.private:
        return _help_by_task(page, tr)
    intro, heading = _intro(page, tr)
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


def help_answer(page: HelpPage, tr: Translator) -> tuple[str, Keyboard | None]:
    return help_text(page, tr), help_keyboard(page, tr)


def task_refused(tr: Translator) -> str:
    return tr.gettext(
        "Questo non è tra le cose che puoi fare qui. Scrivi /aiuto per vedere che cosa puoi fare."
    )


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
    return tr.gettext("Non ho capito. Scrivi /aiuto per vedere che cosa puoi fare.")


def unknown_command(tr: Translator) -> str:
    return tr.gettext("Comando sconosciuto. Scrivi /aiuto per vedere che cosa puoi fare.")


# A press on a button whose object is gone or whose data is not understood: what to do instead.
STALE_BUTTON = N_("Questo pulsante non è più valido: usa i pulsanti del messaggio più recente.")


def stale_button(tr: Translator) -> str:
    return tr.gettext(STALE_BUTTON)


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


UNION_PICK_AREA = "pick"  # `pick:<command>:<union>`: bot.scope.on_union_picked


def union_picker(
    tr: Translator, command: str, unions: Sequence[tuple[int, str]]
) -> tuple[str, Keyboard | None]:
    """A command typed by a member of several Unions: which one? (a button each, by name; the
    chosen button re-runs the command for it)."""
    buttons = [
        Button(name, data=cb.encode(UNION_PICK_AREA, command, union_id))
        for union_id, name in unions
    ]
    return tr.gettext("Fai parte di più Unioni: per quale?"), Keyboard.column(buttons)
