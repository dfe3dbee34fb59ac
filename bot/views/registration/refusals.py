"""Why something changes nothing, and how it reads.

The rules (bot.services.registration.rules) say what is wrong with a name, an assignment or an
invite; the use cases say why a press or a message is refused. The kinds are defined here, with
their words, so that rules, use cases and texts share one vocabulary.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.i18n import N_, Translator
from bot.views.answer import Answer
from bot.views.common import stale_button

# The coordinator's buttons show people's details, post invite links or start a private
# dialogue: they work only in private, where they are offered (bot.scope.button_refusal with
# `private_only`). In a group everyone's press is refused with where the button works.
PRIVATE_BUTTON = N_("Questo pulsante funziona solo in chat privata con me.")
# /comuni is private: in a group a rename or an addition would start a dialogue that group
# messages never reach.
COMUNI_PRIVATE = N_("I Comuni si gestiscono in chat privata con me.")
# /invito is private: a forged press in a group would post a live invite link there.
INVITES_PRIVATE = N_("Gli inviti si preparano in chat privata con me.")
PRIVATE_COMMAND = N_("Questo comando funziona in chat privata con me: scrivimi lì.")


# How long a name may be (the texts that refuse one say it; the rules check it).
UNION_NAME_MIN, UNION_NAME_MAX = 2, 80
MUNICIPALITY_NAME_MIN, MUNICIPALITY_NAME_MAX = 2, 80
DISPLAY_NAME_MIN, DISPLAY_NAME_MAX = 2, 64


class NameProblem(enum.Enum):
    MISSING = "missing"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVISIBLE = "invisible"  # no letter or digit that shows (e.g. only «ㅤ», U+3164)


class AssignmentProblem(enum.Enum):
    NEEDS_ONE_COMUNE = "needs_one_comune"  # Sindaco and Assessore stand for exactly one Comune
    NEEDS_A_COMUNE = "needs_a_comune"  # a technician serves at least one
    STAFF_HAS_NO_COMUNE = "staff_has_no_comune"
    SINDACO_TAKEN = "sindaco_taken"


class InviteState(enum.Enum):
    OPEN = "open"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Refused(enum.Enum):
    """A press (or a message) that changes nothing, and why."""

    STALE = "stale"  # the thing is gone, closed, or the data is garbage
    NOT_YOURS = "not_yours"  # not the coordinator of the Union the button is about
    NOT_DECIDER = "not_decider"  # a request, decided by someone not its Union's coordinator
    NOT_COORDINATOR = "not_coordinator"  # a coordinator's command
    NOT_BOT_ADMIN = "not_bot_admin"  # /crea_unione where BOT_ADMIN_IDS names others
    NOT_LINKER = "not_linker"  # a group linked by someone not the Union's coordinator
    NOT_GROUP_ADMIN = "not_group_admin"
    LINKED_ELSEWHERE = "linked_elsewhere"
    NEEDS_COMUNI = "needs_comuni"  # the Union has no Comune yet
    COMUNE_GONE = "comune_gone"
    LAST_COORDINATOR = "last_coordinator"
    NOTHING_TO_ERASE = "nothing_to_erase"


# Refusals shown as an alert (a toast that stays until closed): something to read.
_ALERTS = frozenset(Refused) - {Refused.STALE, Refused.NOTHING_TO_ERASE}


def refusal_text(reason: Refused, tr: Translator) -> str:
    _ = tr.gettext
    texts = {
        Refused.STALE: stale_button(tr),
        Refused.NOT_YOURS: _("Questo pulsante non è per te: non ho cambiato nulla."),
        Refused.NOT_DECIDER: _("Solo chi coordina l'Unione può decidere sulle richieste."),
        Refused.NOT_COORDINATOR: _("Questo comando è riservato a chi coordina l'Unione."),
        Refused.NOT_BOT_ADMIN: _(
            "Su questo bot le nuove Unioni le crea solo chi lo gestisce. "
            "Se coordini un'Unione, chiedi a loro di crearla e di invitarti."
        ),
        Refused.NOT_LINKER: _("Solo chi coordina l'Unione può collegare il gruppo."),
        Refused.NOT_GROUP_ADMIN: _("Per collegare il gruppo devi esserne amministratore."),
        Refused.LINKED_ELSEWHERE: _("Questo gruppo è già collegato a un'altra Unione."),
        Refused.NEEDS_COMUNI: _("Aggiungi prima i Comuni con /comuni."),
        Refused.COMUNE_GONE: _("Questo Comune non c'è più: scegline un altro."),
        Refused.LAST_COORDINATOR: _(
            "Un'Unione ha sempre almeno un coordinatore: prima rendi coordinatore qualcun altro."
        ),
        Refused.NOTHING_TO_ERASE: _("Non ho nessun tuo dato personale da cancellare."),
    }
    return texts[reason]


def refusal(reason: Refused, tr: Translator) -> Answer:
    """The answer to a refused press: a toast (an alert when there is something to read)."""
    return Answer(toast=refusal_text(reason, tr), alert=reason in _ALERTS)


def name_problem_text(
    problem: NameProblem, tr: Translator, *, maximum: int, minimum: int = 2
) -> str:
    _ = tr.gettext
    if problem == NameProblem.TOO_LONG:
        return _("È troppo lungo: al massimo {n} caratteri.").format(n=maximum)
    if problem == NameProblem.TOO_SHORT:
        return _("È troppo corto: almeno {n} caratteri.").format(n=minimum)
    if problem == NameProblem.INVISIBLE:
        return _(
            "Non contiene lettere o cifre che si vedono (solo spazi o caratteri invisibili): "
            "scrivilo con lettere normali."
        )
    return _("Manca il nome.")


@dataclass(frozen=True)
class AssignmentRefused:
    """A role and Comuni the rules refuse (bot.services.registration.rules.check_assignment)."""

    problem: AssignmentProblem
    comune: str | None = None


def assignment_problem_text(
    problem: AssignmentProblem,
    tr: Translator,
    *,
    comune: str | None = None,
    coordinator: bool = False,
) -> str:
    """`coordinator`: the reader is the one who can fix it (so: "togli", not "il coordinatore")."""
    _ = tr.gettext
    if problem == AssignmentProblem.SINDACO_TAKEN and coordinator:
        return _(
            "{comune} ha già un Sindaco nel team: un Comune ne ha uno solo. "
            "Se il Sindaco è cambiato, togli prima il precedente da /team."
        ).format(comune=comune or "")
    if problem == AssignmentProblem.SINDACO_TAKEN:
        return _(
            "{comune} ha già un Sindaco nel team: un Comune ne ha uno solo. Se il Sindaco è cambiato, chi coordina l'Unione deve prima togliere il precedente da /team."
        ).format(comune=comune or "")
    if problem == AssignmentProblem.NEEDS_ONE_COMUNE:
        return _("Sindaco e Assessore rappresentano un solo Comune: scegline uno.")
    if problem == AssignmentProblem.NEEDS_A_COMUNE:
        return _("Un Funzionario tecnico lavora per almeno un Comune: scegline uno.")
    return _("Il personale dell'Unione non rappresenta un Comune.")


def assignment_refusal(refused: AssignmentRefused, tr: Translator, *, coordinator: bool) -> Answer:
    return Answer(
        toast=assignment_problem_text(
            refused.problem, tr, comune=refused.comune, coordinator=coordinator
        ),
        alert=True,
    )


def command_refusal(reason: Refused, tr: Translator) -> Answer:
    """A refused command: a message. A coordinator's command by someone else says whose it is."""
    if reason == Refused.NOT_YOURS:
        reason = Refused.NOT_COORDINATOR
    return Answer(text=refusal_text(reason, tr))
