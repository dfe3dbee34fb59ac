"""The coordinator edits actions by hand, in private: a new action (code, title, then its Comune
with a button), one field typed anew, the Comune chosen again. The dialogue's state lives in the
database (`EDIT_FLOW`); every step re-checks that the writer still coordinates that Union."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services.progress import rules
from bot.services.progress.actions import (
    Actor,
    NotAllowed,
    active_comuni,
    coordinator,
    on_action,
    reader,
)
from bot.services.progress.cards import card
from bot.views.actions import UNION_WIDE, saved_prefix
from bot.views.html_split import telegram_length
from bot.views.keyboard import Keyboard
from storage.models import Action
from storage.repositories import actions as repo
from storage.repositories import core as core_repo

EDIT_FLOW = "act_edit"
NEW = "new"  # the target of a Comune chosen for the action being typed


@dataclass(frozen=True)
class Prompt:
    """Type something now: `ask` is what (code, title or a field's key)."""

    ask: str


@dataclass(frozen=True)
class EditMenu:
    action: Action


@dataclass(frozen=True)
class ComuneChoice:
    target: int | str  # an action id, or NEW
    code: str | None  # the action's code (None for the one being typed)
    comuni: list[tuple[int, str]]


@dataclass(frozen=True)
class Saved:
    """An edit stored: the card as it stands now (`text` starts with «Salvato» when typed)."""

    text: str
    keyboard: Keyboard | None
    created: bool | None = None  # a new action: created (True) or an existing code updated


@dataclass(frozen=True)
class Problem:
    """A typed value refused: `template` is the importer's message for it (field edits), or
    `reason` one of bot.views.actions.EDIT_REFUSALS."""

    reason: str = ""
    template: str = ""


async def start_new_action(
    session: AsyncSession,
    *,
    union_id: int | None,
    actor: Actor,
) -> Prompt | NotAllowed:
    who = await coordinator(session, union_id=union_id, telegram_user_id=actor.telegram_user_id)
    if isinstance(who, NotAllowed):
        return who
    if not actor.private:
        return NotAllowed("in_private")
    await core_repo.set_conversation(
        session,
        telegram_user_id=actor.telegram_user_id,
        chat_id=actor.chat_id,
        flow=EDIT_FLOW,
        step="code",
        data={"union_id": who.union.id, "action_id": None},
        now=actor.now,
    )
    return Prompt("code")


async def _editable(
    session: AsyncSession, *, action_id: int | None, actor: Actor
) -> Action | NotAllowed:
    found = await on_action(
        session,
        action_id=action_id,
        telegram_user_id=actor.telegram_user_id,
        coordinator_only=True,
    )
    if isinstance(found, NotAllowed):
        return found
    if not actor.private:
        return NotAllowed("in_private")
    return found[0]


async def edit_menu(
    session: AsyncSession, *, action_id: int | None, actor: Actor
) -> EditMenu | NotAllowed:
    action = await _editable(session, action_id=action_id, actor=actor)
    return action if isinstance(action, NotAllowed) else EditMenu(action)


async def start_field_edit(
    session: AsyncSession,
    *,
    action_id: int | None,
    field: str | None,
    actor: Actor,
) -> Prompt | NotAllowed:
    action = await _editable(session, action_id=action_id, actor=actor)
    if isinstance(action, NotAllowed):
        return action
    if field not in rules.EDIT_FIELD_KEYS:
        return NotAllowed("no_longer_valid")
    await core_repo.set_conversation(
        session,
        telegram_user_id=actor.telegram_user_id,
        chat_id=actor.chat_id,
        flow=EDIT_FLOW,
        step="field",
        data={"union_id": action.union_id, "action_id": action.id, "field": field},
        now=actor.now,
    )
    return Prompt(field)


async def comune_choice(
    session: AsyncSession, *, action_id: int | None, actor: Actor
) -> ComuneChoice | NotAllowed:
    action = await _editable(session, action_id=action_id, actor=actor)
    if isinstance(action, NotAllowed):
        return action
    comuni = await active_comuni(session, action.union_id)
    return ComuneChoice(target=action.id, code=action.code, comuni=comuni)


async def comune_target_union(
    session: AsyncSession, *, target: str | None, actor: Actor
) -> int | None:
    """The Union a chosen Comune is about, for the chat check: the action's, or for a new
    action the one of the dialogue it is typed in."""
    if target == NEW:
        conv = await core_repo.get_conversation(
            session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id, now=actor.now
        )
        return int(conv.data.get("union_id", 0)) if conv and conv.flow == EDIT_FLOW else None
    action = await session.get(Action, int(target)) if target and target.isdigit() else None
    return action.union_id if action else None


async def set_comune(
    session: AsyncSession,
    *,
    target: str | None,
    choice: str | None,
    actor: Actor,
    language: str,
) -> Saved | NotAllowed:
    """A Comune chosen (or the Union, `UNION_WIDE`): for an existing action it is saved at
    once; for the one being typed it is the last step, and the action is created."""
    union_id = await comune_target_union(session, target=target, actor=actor)
    who = (
        await reader(session, union_id=union_id, telegram_user_id=actor.telegram_user_id)
        if union_id
        else None
    )
    names = (
        await core_repo.municipality_names(session, union_id, include_archived=True)
        if union_id
        else {}
    )
    valid = choice == UNION_WIDE or (
        choice is not None and choice.isdigit() and int(choice) in names
    )
    municipality_id = int(choice) if choice is not None and choice.isdigit() else None
    if who is None or not who.coordinator or not valid:
        return NotAllowed("not_for_you")
    tr = translator(language)
    if target != NEW:
        action = await session.get(Action, int(target or 0))
        assert action is not None
        action.municipality_id, action.updated_at = municipality_id, actor.now
        text, keyboard = await card(
            session, action, tr, coordinator=True, now=actor.now, names=names
        )
        return Saved(text, keyboard)
    conv = await core_repo.get_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id, now=actor.now
    )
    if conv is None or conv.step != "municipality":
        return NotAllowed("no_longer_valid")
    draft = dict(conv.data)
    created, _updated = await repo.upsert_actions(
        session,
        union_id=who.union.id,
        rows=[{"code": draft["code"], "title": draft["title"], "municipality_id": municipality_id}],
        now=actor.now,
    )
    await core_repo.clear_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id
    )
    made = (await repo.actions_by_code(session, who.union.id))[str(draft["code"]).casefold()]
    text, keyboard = await card(session, made, tr, coordinator=True, now=actor.now, names=names)
    return Saved(text, keyboard, created=bool(created))


async def type_edit(
    session: AsyncSession,
    *,
    actor: Actor,
    text: str,
    language: str,
) -> Prompt | ComuneChoice | Saved | Problem | None:
    """A text typed in the edit dialogue: the new action's code or title, or a field's value.
    None when the dialogue is gone meanwhile (nothing to answer)."""
    conv = await core_repo.get_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id, now=actor.now
    )
    if conv is None or conv.flow != EDIT_FLOW:
        return None
    data = dict(conv.data)
    union_id = int(data.get("union_id") or 0)
    who = await reader(session, union_id=union_id, telegram_user_id=actor.telegram_user_id)
    if who is None or not who.coordinator:
        await core_repo.clear_conversation(
            session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id
        )
        return Problem("not_coordinator")
    if not text:
        return Problem("empty")

    async def step(name: str) -> None:
        await core_repo.set_conversation(
            session,
            telegram_user_id=actor.telegram_user_id,
            chat_id=actor.chat_id,
            flow=EDIT_FLOW,
            step=name,
            data=data,
            now=actor.now,
        )

    if conv.step == "code":
        if len(text) > rules.MAX_CODE:
            return Problem("code_too_long")
        data["code"] = text
        await step("title")
        return Prompt("title")
    if conv.step == "title":
        if len(text) > rules.MAX_TITLE:
            return Problem("title_too_long")
        data["title"] = text
        await step("municipality")
        return ComuneChoice(target=NEW, code=None, comuni=await active_comuni(session, union_id))
    if conv.step == "field":
        return await _save_field(
            session,
            union_id=union_id,
            action_id=int(data.get("action_id") or 0),
            field=str(data.get("field")),
            text=text,
            actor=actor,
            language=language,
        )
    return Problem("use_buttons")


async def _save_field(
    session: AsyncSession,
    *,
    union_id: int,
    action_id: int,
    field: str,
    text: str,
    actor: Actor,
    language: str,
) -> Saved | Problem:
    action = await repo.get_action(session, union_id=union_id, action_id=action_id)
    if action is None:
        await core_repo.clear_conversation(
            session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id
        )
        return Problem("gone")
    problem, value = rules.parse_field(field, text)
    if problem is not None:
        return Problem(template=problem)
    setattr(action, field, value)
    action.updated_at = actor.now
    await core_repo.clear_conversation(
        session, telegram_user_id=actor.telegram_user_id, chat_id=actor.chat_id
    )
    tr = translator(language)
    saved = saved_prefix(tr)
    card_text, keyboard = await card(
        session, action, tr, coordinator=True, now=actor.now, reserve=telegram_length(saved)
    )
    return Saved(saved + card_text, keyboard)
