"""/azioni's use cases: who reads, the list and its filters, an action's card and history, the
files (template, export), archiving. Every button names an id: the presser's membership of
that id's Union is re-read here, and the coordinator's verbs re-check the permission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services import action_import as importer
from bot.services.display_text import person_name
from bot.services.progress import rules
from bot.services.progress.cards import card
from bot.views.actions import (
    UNION_WIDE,
    ActionList,
    HistoryLine,
    ListFilter,
    render_history,
    status_label,
)
from bot.views.keyboard import Keyboard
from storage.models import Action, ActionStatus, Member, Union
from storage.repositories import actions as repo
from storage.repositories import core as core_repo


@dataclass(frozen=True)
class Reader:
    """The presser's (or writer's) active membership of the Union a button is about, re-read:
    what they may read, report and change follows from it (bot.services.progress.rules)."""

    union: Union
    member: Member
    municipality_ids: tuple[int, ...]

    @property
    def coordinator(self) -> bool:
        return self.member.is_coordinator

    @property
    def may_report(self) -> bool:
        return rules.may_report(role=self.member.role, coordinator=self.member.is_coordinator)

    def may_update(self, action: Action) -> bool:
        return rules.may_update(
            role=self.member.role,
            coordinator=self.member.is_coordinator,
            union_id=self.union.id,
            municipality_ids=self.municipality_ids,
            action=action,
        )


@dataclass(frozen=True)
class Actor:
    """Who presses a button or writes, in which chat, when: the update's plain values."""

    telegram_user_id: int
    chat_id: int
    now: datetime
    private: bool = True


@dataclass(frozen=True)
class NotAllowed:
    """`reason`: not_for_you (not an active member of that Union, or no such object),
    coordinator_only, history (another Comune's action), no_longer_valid, in_private (the
    coordinator's edits happen in private)."""

    reason: str


async def reader(session: AsyncSession, *, union_id: int, telegram_user_id: int) -> Reader | None:
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    union = await session.get(Union, union_id)
    if member is None or union is None:
        return None
    ids = await core_repo.municipality_ids_of(session, member.id)
    return Reader(union=union, member=member, municipality_ids=tuple(ids))


async def member_of_union(
    session: AsyncSession, *, union_id: int | None, telegram_user_id: int
) -> Reader | NotAllowed:
    """The presser as an active member of that Union, or why not."""
    who = (
        await reader(session, union_id=union_id, telegram_user_id=telegram_user_id)
        if union_id is not None
        else None
    )
    return who if who is not None else NotAllowed("not_for_you")


async def coordinator(
    session: AsyncSession, *, union_id: int | None, telegram_user_id: int
) -> Reader | NotAllowed:
    """The presser as the coordinator of that Union, or why not."""
    who = await member_of_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(who, NotAllowed):
        return who
    if not who.coordinator:
        return NotAllowed("coordinator_only")
    return who


async def on_action(
    session: AsyncSession,
    *,
    action_id: int | None,
    telegram_user_id: int,
    coordinator_only: bool = False,
) -> tuple[Action, Reader] | NotAllowed:
    """The action a button names and the presser as a member (or, `coordinator_only`, the
    coordinator) of its Union, re-read; no such action reads as not_for_you."""
    action = await session.get(Action, action_id) if action_id is not None else None
    if action is None:
        return NotAllowed("not_for_you")
    check = coordinator if coordinator_only else member_of_union
    who = await check(session, union_id=action.union_id, telegram_user_id=telegram_user_id)
    return who if isinstance(who, NotAllowed) else (action, who)


async def action_union_id(session: AsyncSession, action_id: int | None) -> int | None:
    """The Union an action belongs to (None: no such action), for the chat check of its buttons."""
    action = await session.get(Action, action_id) if action_id is not None else None
    return action.union_id if action is not None else None


async def _names(session: AsyncSession, union_id: int) -> dict[int, str]:
    return {
        m.id: m.name
        for m in await core_repo.municipalities(session, union_id, include_archived=True)
    }


async def active_comuni(session: AsyncSession, union_id: int) -> list[tuple[int, str]]:
    """The Union's Comuni an action may belong to (not archived), by name."""
    return [(m.id, m.name) for m in await core_repo.municipalities(session, union_id)]


# --- the list -----------------------------------------------------------------------------


async def action_list(
    session: AsyncSession, *, union: Union, coordinator: bool, filter: ListFilter
) -> ActionList:
    """The actions the filter keeps, with what the list shows of them (/azioni, its pages)."""
    names = await _names(session, union.id)
    comune_id: int | None = None
    union_wide = filter.comune == UNION_WIDE
    if filter.comune.isdigit() and int(filter.comune) in names:
        comune_id = int(filter.comune)
    status = ActionStatus(filter.status) if filter.status in set(ActionStatus) else None
    actions = await repo.list_actions(
        session,
        union_id=union.id,
        municipality_id=repo.UNION_WIDE if union_wide else comune_id,
        status=status,
    )
    return ActionList(
        union_id=union.id,
        union_name=union.name,
        coordinator=coordinator,
        filter=filter,
        comune_id=comune_id,
        union_wide=union_wide,
        status=status,
        names=names,
        actions=actions,
    )


async def list_page(
    session: AsyncSession, *, union_id: int | None, telegram_user_id: int, filter: ListFilter
) -> ActionList | NotAllowed:
    """A page of the list, pressed: for the Union's members."""
    who = await member_of_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(who, NotAllowed):
        return who
    return await action_list(session, union=who.union, coordinator=who.coordinator, filter=filter)


@dataclass(frozen=True)
class ComuneChoices:
    union_id: int
    comuni: list[tuple[int, str]]


async def comune_choices(
    session: AsyncSession, *, union_id: int | None, telegram_user_id: int
) -> ComuneChoices | NotAllowed:
    """The Comuni to filter the list by, for the Union's members."""
    who = await member_of_union(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(who, NotAllowed):
        return who
    return ComuneChoices(union_id=who.union.id, comuni=await active_comuni(session, who.union.id))


# --- one action ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CardShown:
    text: str
    keyboard: Keyboard | None
    archived_now: bool = False  # «Archiviata.» (the card shows it archived)


async def show_action(
    session: AsyncSession,
    *,
    action_id: int | None,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> CardShown | NotAllowed:
    """An action's card, as it stands, with the technical group's latest notes on its Comune."""
    found = await on_action(session, action_id=action_id, telegram_user_id=telegram_user_id)
    if isinstance(found, NotAllowed):
        return found
    action, who = found
    text, keyboard = await card(
        session, action, translator(language), coordinator=who.coordinator, now=now
    )
    return CardShown(text, keyboard)


@dataclass(frozen=True)
class History:
    text: str
    union_id: int
    action_id: int


async def action_history(
    session: AsyncSession, *, action_id: int | None, telegram_user_id: int, language: str
) -> History | NotAllowed:
    """An action's updates, newest first: for the coordinator and its Comune's people (every
    member for an intercommunal one)."""
    found = await on_action(session, action_id=action_id, telegram_user_id=telegram_user_id)
    if isinstance(found, NotAllowed):
        return found
    action, who = found
    if not rules.may_read_history(
        coordinator=who.coordinator,
        role=who.member.role,
        municipality_ids=who.municipality_ids,
        action_comune=action.municipality_id,
    ):
        return NotAllowed("history")
    tr = translator(language)
    lines = [
        HistoryLine(
            at=e.update.created_at,
            author=person_name(e.author, tr),
            previous_status=e.update.previous_status,
            previous_progress=e.update.previous_progress,
            status=e.update.status,
            progress=e.update.progress,
            note=e.update.note,
            attachments=e.attachments,
            question=(e.update.decision_question or "") if e.update.needs_decision else None,
        )
        for e in await repo.history(session, action_id=action.id, limit=30)
    ]
    text = render_history(action, lines, ZoneInfo(who.union.timezone), tr)
    return History(text=text, union_id=action.union_id, action_id=action.id)


@dataclass(frozen=True)
class ArchiveAsked:
    action: Action


async def ask_to_archive(
    session: AsyncSession, *, action_id: int | None, telegram_user_id: int
) -> ArchiveAsked | NotAllowed:
    found = await on_action(
        session, action_id=action_id, telegram_user_id=telegram_user_id, coordinator_only=True
    )
    if isinstance(found, NotAllowed):
        return found
    action, _ = found
    return ArchiveAsked(action)


async def archive_action(
    session: AsyncSession,
    *,
    action_id: int | None,
    telegram_user_id: int,
    now: datetime,
    language: str,
) -> CardShown | NotAllowed:
    """Archive an action (once: a second press changes nothing); its history stays."""
    found = await on_action(
        session, action_id=action_id, telegram_user_id=telegram_user_id, coordinator_only=True
    )
    if isinstance(found, NotAllowed):
        return found
    action, _ = found
    if action.archived_at is None:
        action.archived_at = now
    text, keyboard = await card(session, action, translator(language), coordinator=True, now=now)
    return CardShown(text, keyboard, archived_now=True)


# --- files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileMade:
    file_name: str
    data: bytes
    kind: str  # "template", "csv", "xlsx"


async def template_file(
    session: AsyncSession, *, union_id: int | None, telegram_user_id: int
) -> FileMade | NotAllowed:
    """The empty spreadsheet a coordinator fills in and sends back."""
    who = await coordinator(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(who, NotAllowed):
        return who
    return FileMade("modello_azioni_paes.xlsx", importer.template_xlsx(), "template")


@dataclass(frozen=True)
class ExportAsked:
    """The rows of an export: the file is written after the transaction (an .xlsx in a thread)."""

    kind: str  # "csv" or "xlsx"
    rows: list[importer.ExportRow]


async def export_actions(
    session: AsyncSession, *, union_id: int | None, telegram_user_id: int, kind: str, language: str
) -> ExportAsked | NotAllowed:
    who = await coordinator(session, union_id=union_id, telegram_user_id=telegram_user_id)
    if isinstance(who, NotAllowed):
        return who
    tr = translator(language)
    names = await _names(session, who.union.id)
    rows = [
        importer.ExportRow(
            action=action_row(a),
            municipality_name=names.get(a.municipality_id) if a.municipality_id else None,
            status_label=status_label(a.status, tr),
            progress=a.progress,
        )
        for a in await repo.list_actions(session, union_id=who.union.id)
    ]
    return ExportAsked("csv" if kind == "csv" else "xlsx", rows)


def export_file(asked: ExportAsked) -> FileMade:
    """The export's bytes (CPU-bound for an .xlsx: call it off the event loop)."""
    if asked.kind == "csv":
        return FileMade("azioni_paes.csv", importer.export_csv(asked.rows), "csv")
    return FileMade("azioni_paes.xlsx", importer.export_xlsx(asked.rows), "xlsx")


def action_row(a: Action) -> importer.ActionRow:
    return importer.ActionRow(
        code=a.code,
        title=a.title,
        municipality_id=a.municipality_id,
        sector=a.sector,
        responsible=a.responsible,
        start_on=a.start_on,
        end_on=a.end_on,
        energy_saved_mwh=a.energy_saved_mwh,
        renewable_mwh=a.renewable_mwh,
        co2_avoided_t=a.co2_avoided_t,
        cost_eur=a.cost_eur,
    )
