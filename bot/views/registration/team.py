"""/team: the roster Comune by Comune, and the coordinator's member cards (role, Comuni,
coordinator, removal)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.i18n import Translator
from bot.views.answer import Answer
from bot.views.continuity import TableRecord, team_line
from bot.views.html_split import TELEGRAM_LIMIT, split_text
from bot.views.keyboard import Button, Keyboard
from bot.views.registration.refusals import (
    AssignmentRefused,
    Refused,
    assignment_refusal,
    refusal,
)
from bot.views.registration.shared import (
    APPR,
    MAX_LISTED_BUTTONS,
    MBR,
    ROLE_ICONS,
    ROLE_SHORT,
    TEAM,
    button,
    esc,
    name_of,
    role_label,
    rows_of,
    short,
    table_label,
)
from bot.views.roles import capitalised, coordinator_word
from storage.models import Form, MemberStatus, PollTable, Role, TableKind
from storage.repositories.people import ShownName


@dataclass(frozen=True)
class RosterEntry:
    member_id: int
    name: str
    role: Role
    is_coordinator: bool
    reachable: bool
    municipality_ids: tuple[int, ...]
    pending: bool = False
    form: Form | None = None  # how they want to be named (bot.views.roles)


@dataclass(frozen=True)
class RosterGroup:
    municipality_id: int | None  # None: Union staff with no Comune
    name: str | None
    entries: list[RosterEntry]
    archived: bool = False  # a Comune no longer in the Union, shown while someone stands for it


@dataclass(frozen=True)
class Roster:
    union_id: int
    union_name: str
    entries: tuple[RosterEntry, ...]  # the active members
    groups: tuple[RosterGroup, ...]  # bot.services.registration.rules.group_roster
    links: tuple[tuple[TableKind, str], ...]  # the linked groups' titles
    manage: bool = False  # the coordinator, in private: buttons to manage the team
    pending: tuple[tuple[int, str], ...] = ()  # (member id, name) of requests waiting
    people: tuple[tuple[int, str], ...] = ()  # (member id, name) of the active, by name
    # Comune id → its record at each table's meetings, last 12 months (bot.views.continuity)
    attendance: Mapping[int, Mapping[PollTable, TableRecord]] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberCard:
    member_id: int
    union_id: int
    union_name: str
    name: ShownName
    username: str | None
    role: Role
    comuni: tuple[str, ...]
    is_coordinator: bool
    reachable: bool
    status: MemberStatus
    form: Form | None = None


class CardNote(enum.Enum):
    """What the toast says above a member card shown again after a press."""

    DONE = "done"
    NOT_ACTIVE = "not_active"
    NOW_COORDINATOR = "now_coordinator"
    NO_LONGER_COORDINATOR = "no_longer_coordinator"


@dataclass(frozen=True)
class MemberShown:
    card: MemberCard
    note: CardNote | None = None


@dataclass(frozen=True)
class RoleMenu:
    member_id: int
    name: ShownName
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class ComuneForRole:
    """The role chosen needs one Comune: which?"""

    member_id: int
    role: Role
    comuni: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class ComuneMenu:
    member_id: int
    name: ShownName
    role: Role
    comuni: tuple[tuple[int, str], ...]
    current: frozenset[int]
    note: CardNote | None = None


@dataclass(frozen=True)
class MemberRemovalAsked:
    member_id: int
    name: ShownName
    union_name: str


@dataclass(frozen=True)
class MemberRemoved:
    roster: Roster


def split_lines(lines: Sequence[str], *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join lines into messages of at most `limit` characters as Telegram counts them, with
    the bot's one splitter (bot.views.html_split.split_text): a blank line separates
    paragraphs (a Comune each in the roster), kept whole when they fit; otherwise the cut
    falls between lines, and a single line longer than a message is cut between characters,
    never inside a tag or an entity."""
    return split_text("\n".join(lines), limit=limit)


def _entry_line(entry: RosterEntry, tr: Translator) -> str:
    line = f"{ROLE_ICONS[entry.role]} {esc(entry.name)}"
    if entry.role != Role.STAFF:  # the heading already says «Personale dell'Unione»
        line += f" — {role_label(entry.role, tr, entry.form)}"
    if entry.is_coordinator:
        line += " ⭐"
    if not entry.reachable:
        line += " ⚠️"
    return line


def render_roster(roster: Roster, tr: Translator) -> list[str]:
    """The roster as HTML messages (split between lines when long); the coordinator's ends
    with what its buttons do, part of what is split so that no message passes the limit."""
    _ = tr.gettext
    entries = roster.entries
    legend = [tr.ngettext("{n} membro", "{n} membri", len(entries)).format(n=len(entries))]
    if any(e.is_coordinator for e in entries):
        legend.append(_("⭐ chi coordina"))
    if any(not e.reachable for e in entries):
        legend.append(_("⚠️ non raggiungibile: non ha avviato il bot o l'ha bloccato"))
    lines = [
        _("<b>Team energia · {union}</b>").format(union=esc(roster.union_name)),
        " · ".join(legend),
    ]
    archived = " " + _("(non più nell'Unione)")
    for group in roster.groups:
        lines.append("")
        if group.name is None:
            title = _("Personale dell'Unione")
        else:
            title = esc(group.name + (archived if group.archived else ""))
        lines.append(f"<b>{title}</b>")
        record = roster.attendance.get(group.municipality_id or 0)
        if record:
            lines.append(team_line(record, tr))
        if not group.entries:
            lines.append("<i>" + _("nessuno per ora") + "</i>")
        lines += [_entry_line(e, tr) for e in group.entries]
    lines.append("")
    links = dict(roster.links)
    for table in (TableKind.POLITICAL, TableKind.TECHNICAL):
        group_title = links.get(table)
        lines.append(
            _("{table}: {group}").format(
                table=table_label(table, tr),
                group=("«" + esc(group_title) + "»")
                if group_title is not None
                else _("gruppo non ancora collegato"),
            )
        )
    if roster.manage:
        lines += ["", _manage_note(roster, tr)]
    return split_lines(lines)


def _manage_note(roster: Roster, tr: Translator) -> str:
    note = tr.gettext("Tocca un nome per cambiare ruolo, Comune o permessi.")
    if not roster.pending:
        return note
    waiting = len(roster.pending)
    return (
        tr.ngettext("⏳ {n} richiesta in attesa.", "⏳ {n} richieste in attesa.", waiting).format(
            n=waiting
        )
        + " "
        + note
    )


def roster_keyboard(roster: Roster) -> Keyboard | None:
    buttons = [button("⏳ " + short(name, 24), MBR, "show", mid) for mid, name in roster.pending]
    buttons += [button("✏️ " + short(name, 24), MBR, "show", mid) for mid, name in roster.people]
    return Keyboard.of(*rows_of(buttons[:MAX_LISTED_BUTTONS]))


def roster_answer(roster: Roster | Refused, tr: Translator, *, toast: str | None = None) -> Answer:
    """The roster; for the coordinator in private, with a button per person. A long roster:
    the first part replaces the pressed message, the rest follow it, the buttons with the last."""
    if isinstance(roster, Refused):
        return refusal(roster, tr)
    texts = render_roster(roster, tr)
    keyboard = roster_keyboard(roster) if roster.manage else None
    if len(texts) == 1:
        return Answer(toast=toast, text=texts[0], keyboard=keyboard)
    then = (*((t, None) for t in texts[1:-1]), (texts[-1], keyboard))
    return Answer(toast=toast, text=texts[0], then=then)


# --- member cards -------------------------------------------------------------------------------


def render_card(card: MemberCard, tr: Translator) -> tuple[str, Keyboard | None]:
    _ = tr.gettext
    who = name_of(card.name, tr) + (f" (@{esc(card.username)})" if card.username else "")
    names = ", ".join(esc(n) for n in card.comuni)
    lines = [
        f"<b>{who}</b> · {esc(card.union_name)}",
        _("Ruolo: {role}").format(role=role_label(card.role, tr, card.form)),
        tr.ngettext("Comune: {names}", "Comuni: {names}", len(card.comuni)).format(names=names)
        if card.comuni
        else _("Comune: nessuno (personale dell'Unione)"),
    ]
    if card.is_coordinator:
        lines.append("⭐ " + capitalised(coordinator_word(tr, card.form)))
    if not card.reachable:
        lines.append(_("⚠️ Non raggiungibile: non ha avviato il bot o l'ha bloccato."))
    rows: list[list[Button]] = []
    if card.status == MemberStatus.PENDING:
        lines.append(_("⏳ In attesa di approvazione."))
        rows.append(
            [
                button(_("✅ Approva"), APPR, "approve", card.member_id),
                button(_("❌ Rifiuta"), APPR, "reject", card.member_id),
            ]
        )
    elif card.status == MemberStatus.ACTIVE:
        rows += _card_actions(card, tr)
    else:
        lines.append(_("Non fa più parte del team."))
    rows.append([button(_("↩️ Torna al team"), TEAM, "list", card.union_id)])
    return "\n".join(lines), Keyboard.of(*rows)


def _card_actions(card: MemberCard, tr: Translator) -> list[list[Button]]:
    _ = tr.gettext
    member_id = card.member_id
    rows = [[button(_("Cambia ruolo"), MBR, "roles", member_id)]]
    if card.role != Role.STAFF:
        label = _("Cambia i Comuni") if card.role == Role.TECNICO else _("Cambia Comune")
        rows.append([button(label, MBR, "comuni", member_id)])
    word = coordinator_word(tr, card.form)  # the person's own form, as on the card
    if card.is_coordinator:
        take = _("Togli il ruolo di {coordinator}").format(coordinator=word)
        rows.append([button(take, MBR, "coordinator", member_id, 0)])
    else:
        give = _("⭐ Rendi {coordinator}").format(coordinator=word)
        rows.append([button(give, MBR, "coordinator", member_id, 1)])
    rows.append([button(_("🚫 Togli dal team"), MBR, "remove", member_id)])
    return rows


def note_text(note: CardNote | None, tr: Translator, form: Form | None = None) -> str | None:
    """The toast after a change on a card; `form`: the person's, who is named."""
    _ = tr.gettext
    if note is None:
        return None
    word = coordinator_word(tr, form)
    return {
        CardNote.DONE: _("Fatto."),
        CardNote.NOT_ACTIVE: _("Non fa più parte del team."),
        CardNote.NOW_COORDINATOR: _("Ora è {coordinator}.").format(coordinator=word),
        CardNote.NO_LONGER_COORDINATOR: _("Non è più {coordinator}.").format(coordinator=word),
    }[note]


def _back(member_id: int, tr: Translator) -> list[Button]:
    return [button(tr.gettext("↩️ Indietro"), MBR, "show", member_id)]


MemberOutcome = (
    MemberShown
    | RoleMenu
    | ComuneForRole
    | ComuneMenu
    | MemberRemovalAsked
    | MemberRemoved
    | AssignmentRefused
    | Refused
)


def member_answer(outcome: MemberOutcome, tr: Translator) -> Answer:
    """A press on a member card, or on one of the menus it opens."""
    if isinstance(outcome, Refused):
        return refusal(outcome, tr)
    if isinstance(outcome, AssignmentRefused):
        return assignment_refusal(outcome, tr, coordinator=True)
    _ = tr.gettext
    if isinstance(outcome, MemberShown):
        text, keyboard = render_card(outcome.card, tr)
        return Answer(
            toast=note_text(outcome.note, tr, outcome.card.form), text=text, keyboard=keyboard
        )
    if isinstance(outcome, RoleMenu):
        choices = [
            button(role_label(r, tr), MBR, "set_role", outcome.member_id, ROLE_SHORT[r])
            for r in outcome.roles
        ]
        return Answer(
            text=_("Nuovo ruolo per <b>{name}</b>:").format(name=name_of(outcome.name, tr)),
            keyboard=Keyboard.of(*([c] for c in choices), _back(outcome.member_id, tr)),
        )
    if isinstance(outcome, ComuneForRole):
        return _comune_for_role(outcome, tr)
    if isinstance(outcome, ComuneMenu):
        return _comune_menu(outcome, tr)
    if isinstance(outcome, MemberRemovalAsked):
        return _removal_question(outcome, tr)
    return roster_answer(outcome.roster, tr, toast=_("Tolto dal team."))


def _comune_for_role(outcome: ComuneForRole, tr: Translator) -> Answer:
    code = ROLE_SHORT[outcome.role]
    buttons = [
        button(short(name), MBR, "set_role_in", outcome.member_id, code, mun_id)
        for mun_id, name in outcome.comuni[:MAX_LISTED_BUTTONS]
    ]
    return Answer(
        text=tr.gettext("{role}: di quale Comune?").format(role=role_label(outcome.role, tr)),
        keyboard=Keyboard.of(*rows_of(buttons), _back(outcome.member_id, tr)),
    )


def _comune_menu(menu: ComuneMenu, tr: Translator) -> Answer:
    _ = tr.gettext
    marks = [
        button(
            ("✅ " if mun_id in menu.current else "▫️ ") + short(name),
            MBR,
            "set_comune",
            menu.member_id,
            mun_id,
        )
        for mun_id, name in menu.comuni[:MAX_LISTED_BUTTONS]
    ]
    hint = (
        _("Tocca i Comuni per cui lavora (almeno uno).")
        if menu.role == Role.TECNICO
        else _("Scegli il Comune che rappresenta.")
    )
    return Answer(
        toast=note_text(menu.note, tr),
        text=f"<b>{name_of(menu.name, tr)}</b>\n{hint}",
        keyboard=Keyboard.of(*rows_of(marks), _back(menu.member_id, tr)),
    )


def _removal_question(asked: MemberRemovalAsked, tr: Translator) -> Answer:
    _ = tr.gettext
    return Answer(
        text=_(
            "Tolgo <b>{name}</b> dal Team energia ({union})? Quello che ha fatto resta nella storia del team."
        ).format(name=name_of(asked.name, tr), union=esc(asked.union_name)),
        keyboard=Keyboard.of(
            [
                button(_("Sì, toglilo"), MBR, "remove_yes", asked.member_id),
                button(_("No"), MBR, "show", asked.member_id),
            ]
        ),
    )


def now_coordinator_message(union_name: str, form: Form | None, tr: Translator) -> str:
    if form == Form.FEMININE:
        text = tr.gettext(
            "⭐ Ora sei coordinatrice del Team energia (<b>{union}</b>). Scrivi /aiuto per vedere che cosa puoi fare."
        )
    else:
        text = tr.gettext(
            "⭐ Ora sei coordinatore del Team energia (<b>{union}</b>). Scrivi /aiuto per vedere che cosa puoi fare."
        )
    return text.format(union=esc(union_name))


def removed_message(union_name: str, by: ShownName, tr: Translator) -> str:
    """To whom a coordinator removed, naming the coordinator: the one to talk to."""
    return tr.gettext(
        "Non fai più parte del Team energia (<b>{union}</b>): ti ha tolto {by}. Se pensi che sia un errore, parlane con {by}."
    ).format(union=esc(union_name), by=name_of(by, tr))
