"""/profilo: the name the team sees and the form one is named in, with the buttons that change
them (`me:form:<f|m>`, `me:name`, `me:cancel`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Translator
from bot.views.answer import Answer
from bot.views.keyboard import Keyboard
from bot.views.registration.refusals import (
    DISPLAY_NAME_MAX,
    NameProblem,
    Refused,
    name_problem_text,
    refusal,
)
from bot.views.registration.shared import button, esc
from bot.views.roles import FORM_SHORT, capitalised, coordinator_word, role_label
from storage.models import Form, Role

ME = "me"


@dataclass(frozen=True)
class MyProfile:
    name: str
    form: Form | None
    roles: tuple[tuple[str, Role, bool], ...]  # (Union, role, coordinator) in each team
    renamed: bool = False


@dataclass(frozen=True)
class NameAsked:
    name: str  # the current one


@dataclass(frozen=True)
class NameRefused:
    problem: NameProblem


def _keyboard(profile: MyProfile, tr: Translator) -> Keyboard | None:
    _ = tr.gettext
    forms = [
        button(("✅ " if profile.form == form else "") + label, ME, "form", FORM_SHORT[form])
        for form, label in ((Form.FEMININE, _("Al femminile")), (Form.MASCULINE, _("Al maschile")))
    ]
    return Keyboard.of([button(_("✏️ Cambia nome"), ME, "name")], forms)


def render_profile(profile: MyProfile, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    lines = [_("Nel team ti vedono come <b>{name}</b>.").format(name=esc(profile.name))]
    for union, role, coordinator in profile.roles:
        what = role_label(role, tr, profile.form)
        if coordinator:
            what += ", " + coordinator_word(tr, profile.form)
        lines.append(f"• {esc(union)}: {esc(what)}")
    if profile.form is None:
        lines.append(_("Per il tuo ruolo preferisci il femminile o il maschile?"))
    else:
        example = capitalised(coordinator_word(tr, profile.form))
        lines.append(
            _("Il tuo ruolo è scritto al femminile (per esempio «{example}»).")
            if profile.form == Form.FEMININE
            else _("Il tuo ruolo è scritto al maschile (per esempio «{example}»).")
        )
        lines[-1] = lines[-1].format(example=esc(example))
    return "\n".join(lines), _keyboard(profile, tr)


ProfileOutcome = MyProfile | NameAsked | NameRefused | Refused


def profile_answer(outcome: ProfileOutcome, tr: Translator) -> Answer:
    _ = tr.gettext
    if isinstance(outcome, Refused):
        if outcome == Refused.NOTHING_TO_ERASE:
            return Answer(
                text=_(
                    "Non fai ancora parte di un Team energia: scrivi /aiuto per sapere come entrarci."
                )
            )
        return refusal(outcome, tr)
    if isinstance(outcome, NameAsked):
        return Answer(
            text=_(
                "Scrivimi il nome con cui vuoi che il team ti veda (per esempio nome e cognome). "
                "Ora è <b>{name}</b>."
            ).format(name=esc(outcome.name)),
            keyboard=Keyboard.of([button(_("Annulla"), ME, "cancel")]),
        )
    if isinstance(outcome, NameRefused):
        return Answer(
            text=_("Nome non valido. {problem} Scrivimene un altro.").format(
                problem=name_problem_text(outcome.problem, tr, maximum=DISPLAY_NAME_MAX)
            ),
            keyboard=Keyboard.of([button(_("Annulla"), ME, "cancel")]),
        )
    text, keyboard = render_profile(outcome, tr)
    return Answer(toast=_("Fatto."), text=text, keyboard=keyboard)
