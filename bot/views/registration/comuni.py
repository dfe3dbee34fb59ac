"""/comuni: the Comuni of a Union, adding them (a comma-separated list), renaming, removing."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from bot.i18n import Translator
from bot.views.answer import Answer
from bot.views.keyboard import Button, Keyboard
from bot.views.registration.refusals import (
    MUNICIPALITY_NAME_MAX,
    NameProblem,
    Refused,
    name_problem_text,
    refusal,
)
from bot.views.registration.shared import COM, MAX_LISTED_BUTTONS, button, esc, short


@dataclass(frozen=True)
class ComuniList:
    union_id: int
    union_name: str
    comuni: tuple[tuple[int, str], ...]  # (id, name) of the active Comuni, in name order
    cancelled: bool = False  # shown after Cancel in a dialogue


@dataclass(frozen=True)
class AddingComuni:
    """The dialogue that takes a list of names has started."""

    union_id: int
    union_name: str
    first: bool = False  # the Union has no Comune yet (said before the question)


@dataclass(frozen=True)
class RenamingComune:
    union_id: int
    name: str


@dataclass(frozen=True)
class RemovalAsked:
    municipality_id: int
    name: str
    union_id: int
    union_name: str


@dataclass(frozen=True)
class ComuneRemoved:
    deleted: bool  # False: archived, it has a history in the team
    listing: ComuniList


@dataclass(frozen=True)
class ComuniAdded:
    """What a list of names did: added, already there, repeated, refused (the Comune dialogue
    goes on, with a Cancel button, when nothing was added)."""

    union_id: int
    added: tuple[str, ...]
    already_present: tuple[str, ...]
    repeated: tuple[str, ...]
    invalid: tuple[tuple[str, NameProblem], ...]
    listing: ComuniList | None  # set when something was added: the dialogue is over


class ComuniUnchanged(enum.Enum):
    NOT_COORDINATOR = "not_coordinator"  # no longer coordinator (or the Union is gone)
    NO_TEXT = "no_text"  # a photo or a document instead of names
    CANNOT_RENAME = "cannot_rename"  # the Comune is gone, or the writer no longer coordinates


@dataclass(frozen=True)
class RenameRefused:
    union_id: int
    problem: NameProblem | None  # None: the name is another Comune's
    taken_by: str = ""


@dataclass(frozen=True)
class ComuneRenamed:
    old: str
    new: str
    listing: ComuniList


def render_comuni(listing: ComuniList, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    lines = [_("<b>Comuni · {union}</b>").format(union=esc(listing.union_name))]
    if listing.comuni:
        lines += [f"• {esc(name)}" for _id, name in listing.comuni]
        lines.append("")
        lines.append(_("Tocca ✏️ per rinominare un Comune, 🗑 per toglierlo."))
    else:
        lines.append(_("Non ci sono ancora Comuni."))
    rows: list[list[Button]] = [
        [button("✏️ " + short(name), COM, "rename", mun_id), button("🗑", COM, "remove", mun_id)]
        for mun_id, name in listing.comuni[: MAX_LISTED_BUTTONS // 2]
    ]
    rows.append([button(_("➕ Aggiungi Comuni"), COM, "add", listing.union_id)])
    return "\n".join(lines), Keyboard.of(*rows)


def cancel_keyboard(union_id: int, tr: Translator) -> Keyboard | None:
    return Keyboard.of([button(tr.gettext("Annulla"), COM, "cancel", union_id)])


def add_prompt(union_id: int, union_name: str, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    text = _(
        "Mandami in un solo messaggio i nomi dei Comuni dell'Unione (<b>{union}</b>), separati da virgola.\n"
        "Per esempio: <i>Argelato, Bentivoglio, Castel d'Argile</i>"
    ).format(union=esc(union_name))
    return text, cancel_keyboard(union_id, tr)


def cancelled(shown: ComuniList | Refused) -> ComuniList | Refused:
    """The list shown after Cancel in a dialogue (it says «Va bene»)."""
    return replace(shown, cancelled=True) if isinstance(shown, ComuniList) else shown


ComuniOutcome = ComuniList | AddingComuni | RenamingComune | RemovalAsked | ComuneRemoved | Refused


def comuni_answer(shown: ComuniOutcome, tr: Translator) -> Answer:
    """/comuni and the buttons of its list: the Comuni with their buttons, the question that
    adds or renames them, the one before removing one, what a removal did."""
    if isinstance(shown, Refused):
        return refusal(shown, tr)
    if isinstance(shown, ComuniList):
        text, keyboard = render_comuni(shown, tr)
        toast = tr.gettext("Va bene.") if shown.cancelled else None
        return Answer(toast=toast, text=text, keyboard=keyboard)
    if isinstance(shown, RenamingComune):
        return renaming_answer(shown, tr)
    if isinstance(shown, RemovalAsked):
        return removal_question(shown, tr)
    if isinstance(shown, ComuneRemoved):
        return removed_answer(shown, tr)
    text, keyboard = add_prompt(shown.union_id, shown.union_name, tr)
    if shown.first:
        text = tr.gettext("L'Unione non ha ancora Comuni.") + "\n" + text
    return Answer(text=text, keyboard=keyboard)


def renaming_answer(renaming: RenamingComune, tr: Translator) -> Answer:
    _ = tr.gettext
    return Answer(
        text=_("Scrivimi il nuovo nome per <b>{name}</b>.").format(name=esc(renaming.name)),
        keyboard=cancel_keyboard(renaming.union_id, tr),
    )


def removal_question(asked: RemovalAsked, tr: Translator) -> Answer:
    _ = tr.gettext
    return Answer(
        text=_(
            "Tolgo <b>{name}</b> dai Comuni dell'Unione? Chi ne fa parte resta nel team."
        ).format(name=esc(asked.name), union=esc(asked.union_name)),
        keyboard=Keyboard.of(
            [
                button(_("Sì, toglilo"), COM, "remove_yes", asked.municipality_id),
                button(_("No"), COM, "list", asked.union_id),
            ]
        ),
    )


def removed_answer(removed: ComuneRemoved, tr: Translator) -> Answer:
    _ = tr.gettext
    text, keyboard = render_comuni(removed.listing, tr)
    toast = (
        _("Tolto.")
        if removed.deleted
        else _("Archiviato: ha già una storia nel team, che resta com'era.")
    )
    return Answer(toast=toast, alert=not removed.deleted, text=text, keyboard=keyboard)


def unchanged_answer(unchanged: ComuniUnchanged, tr: Translator) -> Answer:
    _ = tr.gettext
    if unchanged == ComuniUnchanged.NOT_COORDINATOR:
        return Answer(text=_("Non sei più coordinatore di questa Unione: non ho aggiunto nulla."))
    if unchanged == ComuniUnchanged.NO_TEXT:
        return Answer(text=_("Mandami i nomi come testo, separati da virgola."))
    return Answer(text=_("Questo Comune non si può più rinominare: non ho cambiato nulla."))


def added_answer(result: ComuniAdded | ComuniUnchanged, tr: Translator) -> Answer:
    _ = tr.gettext
    if isinstance(result, ComuniUnchanged):
        return unchanged_answer(result, tr)
    lines = []
    if result.added:
        lines.append(
            tr.ngettext("✅ Aggiunto: {names}.", "✅ Aggiunti: {names}.", len(result.added)).format(
                names=", ".join(esc(n) for n in result.added)
            )
        )
    if result.already_present:
        lines.append(
            tr.ngettext(
                "Già presente: {names}.", "Già presenti: {names}.", len(result.already_present)
            ).format(names=", ".join(esc(n) for n in result.already_present))
        )
    if result.repeated:
        lines.append(
            tr.ngettext(
                "Ripetuto nel messaggio (l'ho contato una volta): {names}.",
                "Ripetuti nel messaggio (li ho contati una volta): {names}.",
                len(result.repeated),
            ).format(names=", ".join(esc(n) for n in result.repeated))
        )
    for name, problem in result.invalid:
        lines.append(
            _("Non aggiunto «{name}»: {problem}").format(
                name=esc(short(name, 40)),
                problem=name_problem_text(problem, tr, maximum=MUNICIPALITY_NAME_MAX),
            )
        )
    if result.listing is not None:
        listing, keyboard = render_comuni(result.listing, tr)
        lines += ["", listing]
    else:
        lines.append(_("Non ho aggiunto nulla. Mandami altri nomi, o premi Annulla."))
        keyboard = cancel_keyboard(result.union_id, tr)
    return Answer(text="\n".join(lines), keyboard=keyboard)


def rename_answer(
    result: ComuneRenamed | RenameRefused | ComuniUnchanged, tr: Translator
) -> Answer:
    _ = tr.gettext
    if isinstance(result, ComuniUnchanged):
        return unchanged_answer(result, tr)
    if isinstance(result, ComuneRenamed):
        listing, keyboard = render_comuni(result.listing, tr)
        text = _("✅ {old} ora si chiama {new}.").format(old=esc(result.old), new=esc(result.new))
        return Answer(text=text + "\n\n" + listing, keyboard=keyboard)
    if result.problem is not None:
        text = _("Nome non valido. {problem} Scrivimene un altro.").format(
            problem=name_problem_text(result.problem, tr, maximum=MUNICIPALITY_NAME_MAX)
        )
    else:
        text = _("{name} è già presente tra i Comuni: scegli un altro nome.").format(
            name=esc(result.taken_by)
        )
    return Answer(text=text, keyboard=cancel_keyboard(result.union_id, tr))
