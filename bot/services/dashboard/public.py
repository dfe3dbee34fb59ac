"""The public progress page of a Union: switched on and off by its coordinator; what citizens
see there (completed actions and CO₂ avoided by Comune — never a person's name, a note or
anything a member wrote); and the figures of the draft press note."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.dashboard.pages import (
    Who,
    comune_figures,
    comune_names,
    facts_of,
    viewer_of,
)
from bot.services.dashboard.rules import Change, co2_series, figures
from bot.views.dashboard.model import (
    CompletedAction,
    NotAllowed,
    PressNote,
    PublicComune,
    PublicPageState,
    PublicProgress,
)
from storage.models import ActionStatus
from storage.repositories import dashboard as repo

SLUG_BYTES = 12  # 16 characters of URL-safe base64: 96 random bits, never guessed


def new_slug() -> str:
    return secrets.token_urlsafe(SLUG_BYTES)


async def _progress(
    session: AsyncSession,
    *,
    union_id: int,
    union_name: str,
    slug: str,
    timezone: str,
    now: datetime,
) -> PublicProgress:
    names = await comune_names(session, union_id)
    rows = await repo.action_rows(session, union_id=union_id)
    actions = facts_of(rows)
    changes = await repo.completion_changes(session, union_id=union_id)
    completed: dict[int | None, list[CompletedAction]] = {}
    for r in rows:
        if r.status == ActionStatus.COMPLETED:
            completed.setdefault(r.municipality_id, []).append(
                CompletedAction(r.code, r.title, r.co2_avoided_t)
            )
    return PublicProgress(
        union_name=union_name,
        slug=slug,
        timezone=timezone,
        now=now,
        figures=figures(actions),
        comuni=tuple(
            PublicComune(c, tuple(completed.get(c.comune.id, ())))
            for c in comune_figures(actions, names)
        ),
        series=tuple(
            co2_series(
                actions,
                [Change(c.action_id, c.at, c.completed) for c in changes],
                now=now,
                timezone=timezone,
            )
        ),
    )


async def public_progress(
    session: AsyncSession, *, slug: str, now: datetime
) -> PublicProgress | None:
    """The page at this address, or None (no such page, or switched off: the same 404)."""
    page = await repo.public_page_by_slug(session, slug=slug)
    if page is None or not page.enabled:
        return None
    return await _progress(
        session,
        union_id=page.union_id,
        union_name=page.union_name,
        slug=page.slug,
        timezone=page.timezone,
        now=now,
    )


# --- the coordinator's side -----------------------------------------------------------------


async def public_page_state(
    session: AsyncSession, *, who: Who, union_id: int
) -> PublicPageState | NotAllowed:
    """Whether the Union's public page is on, and its address: for its coordinators only."""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    if not v.is_coordinator:
        return NotAllowed("coordinator_only", v.language)
    page = await repo.public_page(session, union_id=union_id)
    return PublicPageState(
        union_id,
        v.union_name,
        page is not None and page.enabled,
        page.slug if page else None,
        changed=False,
    )


async def switch_public_page(
    session: AsyncSession, *, who: Who, union_id: int, enabled: bool, now: datetime
) -> PublicPageState | NotAllowed:
    """Switch the public page on or off (coordinator only). The first switch-on gives the
    page its random address, kept from then on."""
    state = await public_page_state(session, who=who, union_id=union_id)
    if isinstance(state, NotAllowed):
        return state
    if state.enabled == enabled:
        return state
    slug = await repo.set_public_page(
        session, union_id=union_id, enabled=enabled, new_slug=new_slug(), now=now
    )
    return PublicPageState(union_id, state.union_name, enabled, slug, changed=True)


async def press_note(
    session: AsyncSession, *, who: Who, union_id: int, now: datetime
) -> PressNote | NotAllowed:
    """The coordinator's draft press note on the Union's progress."""
    v = await viewer_of(session, who, union_id)
    if isinstance(v, NotAllowed):
        return v
    if not v.is_coordinator:
        return NotAllowed("coordinator_only", v.language)
    page = await repo.public_page(session, union_id=union_id)
    progress = await _progress(
        session,
        union_id=union_id,
        union_name=v.union_name,
        slug=page.slug if page else "",
        timezone=v.timezone,
        now=now,
    )
    return PressNote(v, progress, page is not None and page.enabled, v.timezone)
