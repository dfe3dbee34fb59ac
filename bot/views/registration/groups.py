"""/collega and the bot's own membership of groups: linking a group as a Union's table."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.i18n import Translator
from bot.views.answer import Answer
from bot.views.keyboard import Button, Keyboard
from bot.views.registration.refusals import Refused, refusal
from bot.views.registration.shared import (
    LINK,
    TABLE_SHORT,
    button,
    esc,
    short,
    table_label,
    table_word,
)
from storage.models import TableKind


@dataclass(frozen=True)
class LinkChoice:
    """/collega by a coordinator: which of their Unions, which table."""

    unions: tuple[tuple[int, str], ...]  # (id, name) of the Unions they coordinate
    tables: tuple[TableKind, ...]  # what this group is now (of their own Union)
    linked_elsewhere: bool  # the group is another Union's: it cannot be theirs too


@dataclass(frozen=True)
class ReplaceAsked:
    union_id: int
    union_name: str
    table: TableKind
    title: str  # the group that is that table now


@dataclass(frozen=True)
class GroupLinked:
    union_name: str
    table: TableKind


class GroupText(enum.Enum):
    """What /collega answers when it cannot offer a choice."""

    IN_PRIVATE = "in_private"
    ANONYMOUS = "anonymous"
    NOT_COORDINATOR = "not_coordinator"
    CANCELLED = "cancelled"


def group_text(reason: GroupText, tr: Translator) -> str:
    _ = tr.gettext
    return {
        GroupText.IN_PRIVATE: _(
            "Scrivi /collega dentro il gruppo Telegram da collegare (aggiungimi prima al gruppo)."
        ),
        GroupText.ANONYMOUS: _(
            "Stai scrivendo come amministratore anonimo: per questo comando scrivi con il tuo profilo."
        ),
        GroupText.NOT_COORDINATOR: _("Solo chi coordina un'Unione può collegare questo gruppo."),
        GroupText.CANCELLED: _("Va bene, non ho collegato nulla."),
    }[reason]


def link_question(choice: LinkChoice, tr: Translator) -> Answer:
    _ = tr.gettext
    if choice.linked_elsewhere:
        return Answer(
            text=_(
                "Questo gruppo è già collegato a un'altra Unione: non posso collegarlo anche alla tua."
            )
        )
    rows: list[list[Button]] = []
    for union_id, name in choice.unions[:20]:
        prefix = short(name, 20) + ": " if len(choice.unions) > 1 else ""
        rows.append(
            [
                button(prefix + _("Tavolo politico"), LINK, "set", union_id, "p"),
                button(prefix + _("Tavolo tecnico"), LINK, "set", union_id, "t"),
            ]
        )
    rows.append([button(_("Annulla"), LINK, "cancel")])
    question = (
        _("Questo gruppo è il tavolo politico o il tavolo tecnico (<b>{union}</b>)?").format(
            union=esc(choice.unions[0][1])
        )
        if len(choice.unions) == 1
        else _("A quale Unione collego questo gruppo, e come?")
    )
    if choice.tables:
        question += "\n" + _("Ora è: {tables}.").format(
            tables=", ".join(table_label(t, tr) for t in choice.tables)
        )
    return Answer(text=question, keyboard=Keyboard.of(*rows))


def cancelled_answer(outcome: GroupText | Refused, tr: Translator) -> Answer:
    if isinstance(outcome, Refused):
        return refusal(outcome, tr)
    return Answer(toast=tr.gettext("Va bene."), text=group_text(outcome, tr))


def linked_answer(outcome: ReplaceAsked | GroupLinked | Refused, tr: Translator) -> Answer:
    if isinstance(outcome, Refused):
        return refusal(outcome, tr)
    _ = tr.gettext
    if isinstance(outcome, ReplaceAsked):
        return Answer(
            text=_(
                "Il {table} (<b>{union}</b>) è già il gruppo «{title}». Vuoi che sia questo gruppo al suo posto?"
            ).format(
                table=table_word(outcome.table, tr),
                union=esc(outcome.union_name),
                title=esc(outcome.title),
            ),
            keyboard=Keyboard.of(
                [
                    button(
                        _("Sì, usa questo gruppo"),
                        LINK,
                        "replace",
                        outcome.union_id,
                        TABLE_SHORT[outcome.table],
                    ),
                    button(_("No"), LINK, "cancel"),
                ]
            ),
        )
    what = (
        _(
            "Qui arriveranno i sondaggi per le riunioni, i riepiloghi mensili e le questioni da decidere. Scrivete /aiuto per vedere che cosa potete fare."
        )
        if outcome.table == TableKind.POLITICAL
        else _(
            "Qui arriveranno i sondaggi per le riunioni, l'aggiornamento mensile delle azioni e le decisioni del tavolo politico. Scrivete /aiuto per vedere che cosa potete fare."
        )
    )
    return Answer(
        toast=_("Collegato."),
        text=_("✅ Questo gruppo è ora il {table} (<b>{union}</b>).").format(
            table=table_word(outcome.table, tr), union=esc(outcome.union_name)
        )
        + "\n"
        + what,
    )


def unlinked_message(title: str, table: TableKind, union_name: str, tr: Translator) -> str:
    """To the coordinators, when the bot was removed from one of their Union's groups."""
    return tr.gettext(
        "⚠️ Mi hanno tolto dal gruppo «{title}», che era il {table} (<b>{union}</b>): l'ho scollegato. Per ricollegarlo aggiungimi di nuovo al gruppo e scrivi /collega."
    ).format(title=esc(title), table=table_word(table, tr), union=esc(union_name))


def greeting(tr: Translator, *, coordinator_name: str | None) -> str:
    """The bot added to a group linked to nothing: how to link it (to the one who added it,
    when they coordinate a Union)."""
    _ = tr.gettext
    if coordinator_name is not None:
        return _(
            "Ciao! Sono il bot del Team energia dell'Unione. {name}, per collegare questo gruppo "
            "scrivi /collega qui e scegli se è il tavolo politico o il tavolo tecnico."
        ).format(name=esc(coordinator_name))
    return _(
        "Ciao! Sono il bot del Team energia dell'Unione. Questo gruppo non è collegato a nessuna Unione: può collegarlo solo chi coordina un'Unione, scrivendo /collega qui. Finché non è collegato non mostro nessun dato."
    )
