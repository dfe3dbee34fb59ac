"""Joining through an invite: the questions (Comune, role in one's form), the request to the
coordinators, approval and the welcome that follows it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import Translator
from bot.views.answer import Answer
from bot.views.common import TASKS, privacy_notice
from bot.views.keyboard import Button, Keyboard
from bot.views.registration.refusals import (
    DISPLAY_NAME_MAX,
    AssignmentRefused,
    InviteState,
    NameProblem,
    Refused,
    assignment_problem_text,
    assignment_refusal,
    name_problem_text,
    refusal,
    refusal_text,
)
from bot.views.registration.shared import (
    APPR,
    MAX_LISTED_BUTTONS,
    REG,
    ROLE_SHORT,
    button,
    esc,
    name_of,
    role_label,
    rows_of,
    short,
)
from bot.views.roles import FORM_SHORT
from storage.models import Form, MemberStatus, Role
from storage.repositories.people import ShownName

# The steps of the dialogue, in order (the Comune is skipped when the invite names it).
COMUNE_STEP, ROLE_STEP = "comune", "role"


@dataclass(frozen=True)
class JoinStep:
    """One question of the joining dialogue, with what its buttons offer."""

    invite_id: int
    step: str  # COMUNE_STEP or ROLE_STEP
    comuni: tuple[tuple[int, str], ...] = ()  # COMUNE_STEP: the Union's Comuni
    staff_allowed: bool = False  # COMUNE_STEP: no role fixed yet, so "no Comune" may be chosen
    comune: str = ""  # ROLE_STEP: the Comune chosen ("" for Union staff)
    roles: tuple[Role, ...] = ()  # ROLE_STEP: each offered in both forms (staff: the form only)
    number: int = 1  # this question's number among those asked…
    total: int = 1  # …and how many are asked (the counter shows only when more than one)
    name: str = ""  # the name the team will see (Telegram's, or one they typed)


@dataclass(frozen=True)
class InviteProblem:
    state: InviteState | None  # None: no such invite (or not even the shape of one)


@dataclass(frozen=True)
class AlreadyIn:
    active: bool  # False: their request waits for the coordinator
    union_name: str


@dataclass(frozen=True)
class JoinStarted:
    union_name: str
    step: JoinStep


@dataclass(frozen=True)
class JoinStepAgain:
    """The same (or an earlier) question again, and why: a Comune that is gone, a role the
    rules refuse, or None for text where a button was expected."""

    step: JoinStep
    why: Refused | AssignmentRefused | NameProblem | None = None
    renamed: bool = False  # they typed a name, and it stands


@dataclass(frozen=True)
class JoinRequested:
    union_name: str


class JoinEnded(enum.Enum):
    CANCELLED = "cancelled"
    INVITE_CLOSED = "invite_closed"  # expired or revoked while they answered
    COMUNE_GONE = "comune_gone"  # the invite's own Comune left the Union


@dataclass(frozen=True)
class Request:
    """A request to join, as the coordinators read it."""

    member_id: int
    union_name: str
    name: ShownName
    username: str | None
    comuni: tuple[str, ...]
    role: Role
    form: Form | None = None


@dataclass(frozen=True)
class RequestDecided:
    request: Request
    approved: bool
    by: ShownName


@dataclass(frozen=True)
class AlreadyDecided:
    request: Request
    status: MemberStatus


def open_in_private(tr: Translator) -> Answer:
    return Answer(text=tr.gettext("Apri il link d'invito in chat privata con me."))


def _counted(step: JoinStep, question: str) -> str:
    """«<b>1/2</b> question»: the counter counts the questions asked, none for a single one."""
    if step.total <= 1:
        return question
    return f"<b>{step.number}/{step.total}</b> {question}"


def _role_buttons(step: JoinStep, tr: Translator) -> list[list[Button]]:
    """One row per role, «Sindaca | Sindaco»: the role and the form in one tap. Union staff
    choose only the form (their role's name has one)."""
    _ = tr.gettext
    invite_id = step.invite_id
    if step.roles == (Role.STAFF,):
        return [
            [
                button(_("Al femminile"), REG, "role", invite_id, ROLE_SHORT[Role.STAFF] + "f"),
                button(_("Al maschile"), REG, "role", invite_id, ROLE_SHORT[Role.STAFF] + "m"),
            ]
        ]
    rows = []
    for r in step.roles:
        labels = {form: role_label(r, tr, form) for form in FORM_SHORT}
        if labels[Form.FEMININE] == labels[Form.MASCULINE]:  # a language without the forms
            labels = {
                Form.FEMININE: _("{role} · lei").format(role=labels[Form.FEMININE]),
                Form.MASCULINE: _("{role} · lui").format(role=labels[Form.MASCULINE]),
            }
        rows.append(
            [
                button(labels[form], REG, "role", invite_id, ROLE_SHORT[r] + code)
                for form, code in FORM_SHORT.items()
            ]
        )
    return rows


def render_step(step: JoinStep, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    invite_id = step.invite_id
    cancel = button(_("Annulla"), REG, "cancel", invite_id)
    if step.step == COMUNE_STEP:
        buttons = [
            button(short(name), REG, "comune", invite_id, mun_id)
            for mun_id, name in step.comuni[:MAX_LISTED_BUTTONS]
        ]
        rows = rows_of(buttons)
        if step.staff_allowed:
            rows.append(
                [button(_("Nessun Comune (personale dell'Unione)"), REG, "comune", invite_id, 0)]
            )
        rows.append([cancel])
        text = _counted(step, _("Di quale Comune fai parte?"))
        if not step.comuni:
            text += "\n" + _(
                "(L'Unione non ha ancora inserito i suoi Comuni: se ne fai parte, chiedi a chi coordina l'Unione di aggiungerli e riapri il link.)"
            )
        return text, Keyboard.of(*rows)
    if step.roles == (Role.STAFF,):
        question = _(
            "Per il tuo ruolo preferisci il femminile o il maschile? "
            "(Per esempio «coordinatrice» o «coordinatore».)"
        )
    else:
        question = _("Qual è il tuo ruolo per {comune}?").format(comune=esc(step.comune))
    return _counted(step, question), Keyboard.of(*_role_buttons(step, tr), [cancel])


def invite_problem_text(state: InviteState | None, tr: Translator) -> str:
    _ = tr.gettext
    if state == InviteState.EXPIRED:
        return _(
            "Questo link d'invito è scaduto. Chiedi un link nuovo a chi coordina la tua Unione."
        )
    if state == InviteState.REVOKED:
        return _(
            "Questo link d'invito è stato revocato. Chiedi un link nuovo a chi coordina la tua Unione."
        )
    return _(
        "Questo link d'invito non è valido. Controlla di averlo aperto per intero, o chiedi un link nuovo a chi coordina la tua Unione."
    )


def already_text(already: AlreadyIn, tr: Translator) -> str:
    _ = tr.gettext
    if already.active:
        return _(
            "Fai già parte del Team energia (<b>{union}</b>). Scrivi /team per vedere chi c'è."
        ).format(union=esc(already.union_name))
    return _(
        "La tua richiesta di entrare nel Team energia (<b>{union}</b>) è già arrivata a chi coordina l'Unione: ti scrivo appena risponde."
    ).format(union=esc(already.union_name))


def _again(again: JoinStepAgain, tr: Translator) -> Answer:
    _ = tr.gettext
    text, keyboard = render_step(again.step, tr)
    why = again.why
    if isinstance(why, Refused):
        return Answer(toast=refusal_text(why, tr), alert=True, text=text, keyboard=keyboard)
    if isinstance(why, AssignmentRefused):
        problem = esc(assignment_problem_text(why.problem, tr, comune=why.comune))
        return Answer(text=problem + "\n\n" + text, keyboard=keyboard)
    if isinstance(why, NameProblem):
        first = _("Nome non valido. {problem} Scrivimene un altro.").format(
            problem=name_problem_text(why, tr, maximum=DISPLAY_NAME_MAX)
        )
    elif again.renamed:
        first = _("Va bene: nel team ti vedranno come <b>{name}</b>.").format(
            name=esc(again.step.name)
        )
    else:
        first = _("Rispondi con i pulsanti qui sotto.")
    return Answer(text=first, then=((text, keyboard),))


JoinOutcome = (
    JoinStep
    | JoinStepAgain
    | JoinStarted
    | JoinRequested
    | JoinEnded
    | AlreadyIn
    | InviteProblem
    | AssignmentRefused
    | Refused
)


def join_answer(outcome: JoinOutcome, tr: Translator) -> Answer:
    """Every step of joining: the opened invite, a question, what went wrong, the request."""
    _ = tr.gettext
    if isinstance(outcome, JoinStep):
        text, keyboard = render_step(outcome, tr)
        return Answer(text=text, keyboard=keyboard)
    if isinstance(outcome, JoinStepAgain):
        return _again(outcome, tr)
    if isinstance(outcome, JoinStarted):
        welcome = _(
            "Ciao! Ti hanno invitato nel <b>Team energia</b> (<b>{union}</b>).\n"
            "Rispondi qui sotto con pochi tocchi, poi chi coordina l'Unione approva la tua richiesta.\n"
            "Nel team ti vedranno come <b>{name}</b>: se preferisci un altro nome (per esempio nome e cognome), scrivimelo prima di rispondere."
        ).format(union=esc(outcome.union_name), name=esc(outcome.step.name))
        return Answer(
            text=welcome + "\n\n" + privacy_notice(tr), then=(render_step(outcome.step, tr),)
        )
    if isinstance(outcome, JoinRequested):
        return Answer(
            toast=_("Richiesta inviata."),
            text=_(
                "✅ Richiesta inviata a chi coordina l'Unione (<b>{union}</b>). Ti scrivo appena risponde."
            ).format(union=esc(outcome.union_name)),
        )
    if isinstance(outcome, AlreadyIn):
        return Answer(text=already_text(outcome, tr))
    if isinstance(outcome, InviteProblem):
        return Answer(text=invite_problem_text(outcome.state, tr))
    if isinstance(outcome, AssignmentRefused):
        return assignment_refusal(outcome, tr, coordinator=False)
    if isinstance(outcome, Refused):
        return refusal(outcome, tr)
    return _ended(outcome, tr)


def start_answer(outcome: JoinOutcome, tr: Translator) -> Answer:
    """/start with an invite: as `join_answer`, but a refused role is a message, not a toast."""
    if isinstance(outcome, AssignmentRefused):
        return Answer(text=esc(assignment_problem_text(outcome.problem, tr, comune=outcome.comune)))
    return join_answer(outcome, tr)


def _ended(ended: JoinEnded, tr: Translator) -> Answer:
    _ = tr.gettext
    if ended == JoinEnded.CANCELLED:
        return Answer(
            toast=_("Annullato."),
            text=_("Va bene, ho annullato. Se cambi idea, riapri il link d'invito."),
        )
    if ended == JoinEnded.INVITE_CLOSED:
        return Answer(
            text=_(
                "Nel frattempo il link d'invito è scaduto o è stato revocato. Chiedi un link nuovo a chi coordina l'Unione."
            )
        )
    return Answer(
        text=_(
            "Il Comune di questo invito non fa più parte dell'Unione. Chiedi un link nuovo a chi coordina l'Unione."
        )
    )


# --- the request and its approval ------------------------------------------------------------


def render_request(request: Request, tr: Translator) -> str:
    _ = tr.gettext
    who = name_of(request.name, tr)
    if request.username:
        who += f" (@{esc(request.username)})"
    comune = (
        ", ".join(esc(n) for n in request.comuni)
        if request.comuni
        else _("nessuno (personale dell'Unione)")
    )
    return _(
        "🙋 <b>Nuova richiesta</b> per entrare nel Team energia (<b>{union}</b>)\n"
        "Chi: {who}\n"
        "Comune: {comune}\n"
        "Ruolo: {role}"
    ).format(
        union=esc(request.union_name),
        who=who,
        comune=comune,
        role=role_label(request.role, tr, request.form),
    )


def approval_keyboard(member_id: int, tr: Translator) -> Keyboard | None:
    _ = tr.gettext
    return Keyboard.of(
        [
            button(_("✅ Approva"), APPR, "approve", member_id),
            button(_("❌ Rifiuta"), APPR, "reject", member_id),
        ]
    )


def decision_answer(
    outcome: RequestDecided | AlreadyDecided | AssignmentRefused | Refused, tr: Translator
) -> Answer:
    if isinstance(outcome, Refused):
        return refusal(outcome, tr)
    if isinstance(outcome, AssignmentRefused):
        return assignment_refusal(outcome, tr, coordinator=True)
    _ = tr.gettext
    request = render_request(outcome.request, tr)
    if isinstance(outcome, AlreadyDecided):
        if outcome.status == MemberStatus.ACTIVE:
            already = _("Questa richiesta è già stata approvata.")
        elif outcome.status == MemberStatus.REJECTED:
            already = _("Questa richiesta è già stata rifiutata.")
        else:
            already = _("Questa richiesta non è più in attesa.")
        return Answer(toast=already, text=request + "\n\n" + already)
    result = _("✅ Approvata da {by}.") if outcome.approved else _("❌ Rifiutata da {by}.")
    return Answer(
        toast=_("Approvata.") if outcome.approved else _("Rifiutata."),
        text=request + "\n\n" + result.format(by=name_of(outcome.by, tr)),
    )


def decision_message(
    union_name: str,
    approved: bool,
    tr: Translator,
    *,
    role: Role,
    by: ShownName,
    form: Form | None = None,
    tasks: Sequence[str] = (),
) -> str:
    """What the person who asked reads once the coordinator decided (`by`: named, so the
    reader knows whom to ask, in nobody's assumed form); approved, the 2–3
    things they will do here (`tasks`: bot.views.common.first_tasks, their buttons
    bot.views.common.task_keyboard)."""
    if approved:
        _ = tr.gettext
        things = "\n".join(_(TASKS[c].doing or "") for c in tasks)
        return _(
            "🎉 Ti diamo il benvenuto nel Team energia (<b>{union}</b>): {by} ha approvato la tua richiesta.\n"
            "\n"
            "Ecco che cosa farai qui, come {role}:\n"
            "{things}\n"
            "\n"
            "Premi un pulsante per cominciare; con /aiuto trovi tutto il resto."
        ).format(
            union=esc(union_name),
            by=name_of(by, tr),
            role=role_label(role, tr, form),
            things=things,
        )
    return tr.gettext(
        "La tua richiesta di entrare nel Team energia (<b>{union}</b>) non è stata accolta. Se pensi che sia un errore, parlane con {by}."
    ).format(union=esc(union_name), by=name_of(by, tr))
