"""/cancellami: the question, handing over first when one is the only coordinator, erasure."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.i18n import Translator
from bot.views.answer import Answer
from bot.views.keyboard import Keyboard
from bot.views.registration.refusals import Refused, refusal, refusal_text
from bot.views.registration.shared import DEL, button, esc


@dataclass(frozen=True)
class MustHandOver:
    """The only coordinator of Unions that others are still in."""

    unions: tuple[str, ...]


class Leaving(enum.Enum):
    MAY_LEAVE = "may_leave"  # nothing stands in the way: ask
    ERASED = "erased"
    KEPT = "kept"  # «No, resto»


def handover_text(blocked: MustHandOver, tr: Translator) -> str:
    return tr.gettext(
        "Nessun altro coordina l'Unione (<b>{unions}</b>): prima di andartene passa il testimone. Apri /team, tocca il nome di chi ti sostituisce e premi il pulsante ⭐; poi scrivi di nuovo /cancellami."
    ).format(unions=", ".join(esc(u) for u in blocked.unions))


def question_answer(outcome: Leaving | MustHandOver | Refused, tr: Translator) -> Answer:
    """/cancellami: the question with its buttons, or why not yet."""
    _ = tr.gettext
    if isinstance(outcome, Refused):
        return Answer(text=refusal_text(outcome, tr))
    if isinstance(outcome, MustHandOver):
        return Answer(text=handover_text(outcome, tr))
    return Answer(
        text=_(
            "Vuoi davvero cancellare i tuoi dati personali?\n"
            "Uscirai da tutti i team; il tuo nome, il tuo id Telegram e le tue preferenze spariscono. "
            "Voti e aggiornamenti che hai dato restano nella storia del team come «ex membro»; "
            "il testo delle tue note resta come l'hai scritto."
        ),
        keyboard=Keyboard.of(
            [
                button(_("Sì, cancella i miei dati"), DEL, "confirm"),
                button(_("No, resto"), DEL, "cancel"),
            ]
        ),
    )


def erasure_answer(outcome: Leaving | MustHandOver | Refused, tr: Translator) -> Answer:
    """The confirmation's buttons: erased, kept, or why not."""
    _ = tr.gettext
    if isinstance(outcome, Refused):
        return refusal(outcome, tr)
    if isinstance(outcome, MustHandOver):
        return Answer(text=handover_text(outcome, tr))
    if outcome == Leaving.KEPT:
        return Answer(toast=_("Va bene."), text=_("Va bene, non ho cancellato nulla."))
    return Answer(
        toast=_("Dati cancellati."),
        text=_(
            "Fatto: ho cancellato i tuoi dati personali e non fai più parte di nessun team. "
            "Se un giorno vorrai tornare, basterà un nuovo link d'invito."
        ),
    )
