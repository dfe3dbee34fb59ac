"""Actions from a file: who may upload for which Union, the preview (what the file would create
or change), and the confirmation that writes it. Reading the file itself happens in a worker
process (bot.services.import_worker) between the upload and the preview; the rows wait in the
coordinator's dialogue (`IMPORT_FLOW`) until confirmed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import action_import as importer
from bot.services.progress.actions import Actor, NotAllowed, action_row, active_comuni, reader
from bot.services.progress.flow import FLOW as UPDATE_FLOW
from bot.views.actions import ImportPreview
from storage.models import Union
from storage.repositories import actions as repo
from storage.repositories import core as core_repo

IMPORT_FLOW = "act_import"


@dataclass(frozen=True)
class UploadedFile:
    file_id: str
    file_name: str | None
    size: int | None


@dataclass(frozen=True)
class ToDialogue:
    """The file belongs to the writer's dialogue (a technician's attachment, another flow)."""


@dataclass(frozen=True)
class NotCoordinator:
    pass


@dataclass(frozen=True)
class PickUnion:
    unions: list[tuple[int, str]]


@dataclass(frozen=True)
class ImportInto:
    union_id: int


async def upload_target(
    session: AsyncSession, *, actor: Actor
) -> ToDialogue | NotCoordinator | PickUnion | ImportInto:
    """What a spreadsheet sent in private is: an attachment of the update the technician is
    giving, an import by a coordinator (into their Union, or a choice among several), or
    something the writer's other dialogue takes. Read only: the caller routes or holds it."""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id, now=actor.now
    )
    if conv is not None and conv.flow == UPDATE_FLOW and conv.step == "extras":
        return ToDialogue()
    memberships = await core_repo.memberships_of(session, telegram_user_id=actor.telegram_user_id)
    unions = [(u.id, u.name) for m, u in memberships if m.is_coordinator]
    if not unions:
        return ToDialogue() if conv is not None else NotCoordinator()
    if len(unions) > 1:
        return PickUnion(unions)
    return ImportInto(unions[0][0])


async def hold_upload(
    session: AsyncSession,
    *,
    actor: Actor,
    file: UploadedFile,
) -> None:
    """Keep the file's reference while its coordinator picks the Union it is for."""
    await core_repo.set_conversation(
        session,
        telegram_user_id=actor.telegram_user_id,
        chat_id=actor.chat_id,
        flow=IMPORT_FLOW,
        step="union",
        data={"file_id": file.file_id, "file_name": file.file_name, "size": file.size},
        now=actor.now,
    )


@dataclass(frozen=True)
class ImportContext:
    """What reading the file needs: the Union's name (a row may name it) and its Comuni."""

    union_name: str
    comuni: list[tuple[int, str]]


async def import_context(session: AsyncSession, *, union_id: int) -> ImportContext | None:
    union = await session.get(Union, union_id)
    if union is None:
        return None
    return ImportContext(union_name=union.name, comuni=await active_comuni(session, union_id))


async def prepare_import(
    session: AsyncSession,
    *,
    union_id: int,
    actor: Actor,
    file_name: str | None,
    rows: Sequence[importer.ActionRow],
) -> ImportPreview | NotAllowed:
    """The file read: compare it with the Union's actions and keep its rows for the
    confirmation (the coordinator is re-checked: the file was read meanwhile)."""
    who = await reader(session, union_id=union_id, telegram_user_id=actor.telegram_user_id)
    if who is None or not who.coordinator:
        return NotAllowed("not_coordinator")
    existing = {
        k: action_row(a) for k, a in (await repo.actions_by_code(session, union_id)).items()
    }
    plan = importer.plan_import(rows, existing)
    await core_repo.set_conversation(
        session,
        telegram_user_id=actor.telegram_user_id,
        chat_id=actor.chat_id,
        flow=IMPORT_FLOW,
        step="confirm",
        data={"union_id": union_id, "file_name": file_name, "rows": [r.to_json() for r in rows]},
        now=actor.now,
    )
    return ImportPreview(
        union_id=union_id,
        file_name=file_name,
        new=[r.code for r in plan.new],
        changed=[r.code for r in plan.changed],
        unchanged=len(plan.unchanged),
    )


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int


@dataclass(frozen=True)
class Cancelled:
    pass


async def _import_dialogue(
    session: AsyncSession,
    *,
    union_id: int | None,
    actor: Actor,
) -> tuple[Any, NotAllowed | None]:
    conv = await core_repo.get_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id, now=actor.now
    )
    who = (
        await reader(session, union_id=union_id, telegram_user_id=actor.telegram_user_id)
        if union_id
        else None
    )
    if who is None or not who.coordinator:
        return conv, NotAllowed("not_coordinator")
    if conv is None or conv.flow != IMPORT_FLOW:
        return conv, NotAllowed("expired")
    return conv, None


async def take_held_upload(
    session: AsyncSession,
    *,
    union_id: int | None,
    actor: Actor,
) -> UploadedFile | NotAllowed:
    """The Union picked for a held file: hand the file back to be read for that Union."""
    conv, refused = await _import_dialogue(session, union_id=union_id, actor=actor)
    if refused is not None:
        return refused
    if conv.step != "union":
        return NotAllowed("expired")
    await core_repo.clear_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id
    )
    return UploadedFile(
        file_id=str(conv.data["file_id"]),
        file_name=conv.data.get("file_name"),
        size=conv.data.get("size"),
    )


async def cancel_import(
    session: AsyncSession,
    *,
    union_id: int | None,
    actor: Actor,
) -> Cancelled | NotAllowed:
    _conv, refused = await _import_dialogue(session, union_id=union_id, actor=actor)
    if refused is not None:
        return refused
    await core_repo.clear_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id
    )
    return Cancelled()


async def confirm_import(
    session: AsyncSession,
    *,
    union_id: int | None,
    actor: Actor,
) -> Imported | NotAllowed:
    """Write the previewed rows: new actions created, changed ones updated, none deleted; refused
    when a Comune a row names was archived meanwhile."""
    conv, refused = await _import_dialogue(session, union_id=union_id, actor=actor)
    if refused is not None:
        return refused
    if conv.step != "confirm" or int(conv.data.get("union_id") or 0) != union_id:
        return NotAllowed("expired")
    assert union_id is not None
    rows = [importer.ActionRow.from_json(r) for r in conv.data.get("rows", [])]
    valid = {mid for mid, _n in await active_comuni(session, union_id)}
    if any(r.municipality_id is not None and r.municipality_id not in valid for r in rows):
        return NotAllowed("comuni_changed")
    created, updated = await repo.upsert_actions(
        session, union_id=union_id, rows=[r.values() for r in rows], now=actor.now
    )
    await core_repo.clear_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id
    )
    return Imported(created=created, updated=updated)
