"""/crea_unione: a new Union, coordinated by whoever creates it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Translator
from bot.views.answer import Answer
from bot.views.keyboard import Keyboard
from bot.views.registration.refusals import (
    UNION_NAME_MAX,
    NameProblem,
    Refused,
    name_problem_text,
    refusal_text,
)
from bot.views.registration.shared import MBR, button, esc


@dataclass(frozen=True)
class UnionCreated:
    union_name: str
    member_id: int  # the creator's membership: their card sets their role


@dataclass(frozen=True)
class UnionExists:
    union_name: str  # a Union of theirs with the same name, folded


def created_answer(
    outcome: UnionCreated | UnionExists | NameProblem | Refused, tr: Translator
) -> Answer:
    _ = tr.gettext
    if isinstance(outcome, Refused):
        return Answer(text=refusal_text(outcome, tr))
    if outcome == NameProblem.MISSING:
        return Answer(
            text=_(
                "Scrivi il nome dell'Unione dopo il comando, per esempio:\n/crea_unione Unione Reno Galliera"
            )
        )
    if isinstance(outcome, NameProblem):
        return Answer(
            text=_(
                "Nome non valido. {problem} Riprova, per esempio: /crea_unione Unione Reno Galliera"
            ).format(problem=name_problem_text(outcome, tr, maximum=UNION_NAME_MAX))
        )
    if isinstance(outcome, UnionExists):
        return Answer(
            text=_(
                "Coordini già un'Unione che si chiama <b>{name}</b>: non ne creo un'altra."
            ).format(name=esc(outcome.union_name))
        )
    text = _(
        "Fatto! Hai creato <b>{name}</b> e la coordini tu ⭐.\n\n"
        "Prossimi passi:\n"
        "1. /comuni — aggiungi i Comuni dell'Unione\n"
        "2. /invito — crea il link per sindaci, assessori e tecnici\n"
        "3. /collega — scrivilo nei due gruppi Telegram (tavolo politico e tavolo tecnico)\n\n"
        "Per ora risulti come personale dell'Unione. Se sei anche sindaco, assessore o tecnico "
        "di un Comune, indicalo con il pulsante qui sotto dopo aver aggiunto i Comuni."
    ).format(name=esc(outcome.union_name))
    keyboard = Keyboard.of([button(_("👤 Il mio ruolo"), MBR, "show", outcome.member_id)])
    return Answer(text=text, keyboard=keyboard)
