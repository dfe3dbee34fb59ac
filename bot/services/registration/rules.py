"""Registration rules: names, lists, invite tokens, roles per Comune, the roster.

Plain functions on plain data: no Telegram, no database. The use cases beside this module
call these so that every rule lives in one place and is tested on its own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.services.display_text import clean_display_text, has_visible_text
from bot.views.registration.refusals import (
    DISPLAY_NAME_MAX,
    DISPLAY_NAME_MIN,
    MUNICIPALITY_NAME_MAX,
    MUNICIPALITY_NAME_MIN,
    UNION_NAME_MAX,
    UNION_NAME_MIN,
    AssignmentProblem,
    InviteState,
    NameProblem,
)
from bot.views.registration.team import RosterEntry, RosterGroup
from storage.models import MemberStatus, Role

# --- names ------------------------------------------------------------------------------------
# (The limits and NameProblem are defined with the texts that say them,
# bot.views.registration.refusals.)

# Every way people (and phones) type an apostrophe.
_APOSTROPHES = "'’‘`´ʼʹ′＇"
_APOSTROPHE_RE = re.compile(f"[{re.escape(_APOSTROPHES)}]")
_SPACES_RE = re.compile(r"\s+")


def clean_name(raw: str) -> str:
    """What we store as a name (bot.services.display_text): NFC, no control, format or bidi
    characters, single spaces, trimmed."""
    return clean_display_text(raw)


def shown_or_default(name: str | None, default: str) -> str:
    """`name` cleaned when something of it shows, else `default`."""
    cleaned = clean_name(name or "")
    return cleaned if has_visible_text(cleaned) else default


def fold_name(raw: str) -> str:
    """The key two names are compared by: case, accents, apostrophes and spacing ignored.

    "Castel d'Argile", "castel d’argile" and "CASTEL D' ARGILE" all give "castel d'argile".
    """
    text = clean_name(raw)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHE_RE.sub("'", text).casefold()
    text = re.sub(r"\s*'\s*", "'", text)
    text = re.sub(r"\s*-\s*", "-", text)
    return _SPACES_RE.sub(" ", text).strip()


def check_name(raw: str | None, *, minimum: int, maximum: int) -> tuple[str, NameProblem | None]:
    """The cleaned name and what is wrong with it, if anything."""
    name = clean_name(raw or "")
    if not name:
        # Something was typed, but none of it shows: say so rather than "missing".
        return name, NameProblem.INVISIBLE if (raw or "").strip() else NameProblem.MISSING
    if not has_visible_text(name):
        return name, NameProblem.INVISIBLE
    if len(name) < minimum:
        return name, NameProblem.TOO_SHORT
    if len(name) > maximum:
        return name, NameProblem.TOO_LONG
    return name, None


def check_union_name(raw: str | None) -> tuple[str, NameProblem | None]:
    return check_name(raw, minimum=UNION_NAME_MIN, maximum=UNION_NAME_MAX)


def check_display_name(raw: str | None) -> tuple[str, NameProblem | None]:
    return check_name(raw, minimum=DISPLAY_NAME_MIN, maximum=DISPLAY_NAME_MAX)


def check_municipality_name(raw: str | None) -> tuple[str, NameProblem | None]:
    return check_name(raw, minimum=MUNICIPALITY_NAME_MIN, maximum=MUNICIPALITY_NAME_MAX)


# --- comma lists of Comuni -------------------------------------------------------------------

_LIST_SEPARATORS = re.compile(r"[,;\n]+")


@dataclass(frozen=True)
class NameListPlan:
    """What to do with "Argelato, Bentivoglio, castel d’argile" sent in one message."""

    to_add: list[tuple[str, str]] = field(default_factory=list)  # (name, key)
    already_present: list[str] = field(default_factory=list)  # existing names
    repeated: list[str] = field(default_factory=list)  # said twice in the message
    invalid: list[tuple[str, NameProblem]] = field(default_factory=list)

    @property
    def changes_something(self) -> bool:
        return bool(self.to_add)


def split_name_list(text: str) -> list[str]:
    """Split on commas, semicolons and new lines; blank pieces are dropped. A piece made only
    of characters that show nothing is kept as typed, so that it is refused, not ignored."""
    pieces = []
    for part in _LIST_SEPARATORS.split(text):
        name = clean_name(part)
        if name:
            pieces.append(name)
        elif part.strip():
            pieces.append(part)
    return pieces


def plan_name_list(text: str, existing: dict[str, str]) -> NameListPlan:
    """Sort the names of one message into new, already present, repeated and invalid.

    `existing` maps folded key → stored name (active Comuni of the Union).
    """
    plan = NameListPlan()
    seen: set[str] = set()
    for piece in split_name_list(text):
        name, problem = check_municipality_name(piece)
        if problem is not None:
            plan.invalid.append((name, problem))
            continue
        key = fold_name(name)
        if key in existing:
            if existing[key] not in plan.already_present:
                plan.already_present.append(existing[key])
        elif key in seen:
            if name not in plan.repeated:
                plan.repeated.append(name)
        else:
            seen.add(key)
            plan.to_add.append((name, key))
    return plan


# --- invite tokens ---------------------------------------------------------------------------

INVITE_TOKEN_BYTES = 24  # 192 bits of randomness
INVITE_TOKEN_LENGTH = 32  # base64url of 24 bytes, no padding
INVITE_VALIDITY = timedelta(days=14)
# Checked before any database lookup: anyone can type anything after /start.
INVITE_TOKEN_RE = re.compile(rf"^[A-Za-z0-9_-]{{{INVITE_TOKEN_LENGTH}}}$")


def new_invite_token() -> str:
    """An unguessable deep-link payload: 32 characters of Telegram's allowed alphabet."""
    token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    assert INVITE_TOKEN_RE.match(token), token
    return token


def is_valid_token(payload: str | None) -> bool:
    return payload is not None and INVITE_TOKEN_RE.fullmatch(payload) is not None


def hash_token(token: str) -> str:
    """Only this is stored: a leaked database gives no working link."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def invite_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def invite_state(
    *, expires_at: datetime, revoked_at: datetime | None, now: datetime
) -> InviteState:
    if revoked_at is not None:
        return InviteState.REVOKED
    if expires_at <= now:
        return InviteState.EXPIRED
    return InviteState.OPEN


# --- roles and Comuni ------------------------------------------------------------------------


# The roles a member may hold: the stored enum (this name was a copy of it, kept for readers).
RoleCode = Role

JOINABLE_ROLES = (RoleCode.SINDACO, RoleCode.ASSESSORE, RoleCode.TECNICO)
ROLE_ORDER = {RoleCode.SINDACO: 0, RoleCode.ASSESSORE: 1, RoleCode.TECNICO: 2, RoleCode.STAFF: 3}


def check_assignment(
    *,
    role: RoleCode,
    municipality_ids: Sequence[int],
    sindaco_by_municipality: dict[int, int],
    member_id: int | None,
) -> AssignmentProblem | None:
    """Is (role, Comuni) allowed for this member?

    `sindaco_by_municipality` maps a Comune to the member id of its active Sindaco.
    """
    if role == RoleCode.STAFF:
        return AssignmentProblem.STAFF_HAS_NO_COMUNE if municipality_ids else None
    if role in (RoleCode.SINDACO, RoleCode.ASSESSORE) and len(municipality_ids) != 1:
        return AssignmentProblem.NEEDS_ONE_COMUNE
    if role == RoleCode.TECNICO and not municipality_ids:
        return AssignmentProblem.NEEDS_A_COMUNE
    if role == RoleCode.SINDACO:
        holder = sindaco_by_municipality.get(municipality_ids[0])
        if holder is not None and holder != member_id:
            return AssignmentProblem.SINDACO_TAKEN
    return None


def holds_a_place(status: MemberStatus) -> bool:
    """An active member, or one whose request waits: neither asks to join again. Someone
    rejected, removed or gone may (their membership row is reopened)."""
    return status in (MemberStatus.ACTIVE, MemberStatus.PENDING)


def may_create_unions(*, admin_ids: Iterable[int], telegram_user_id: int) -> bool:
    """/crea_unione is open to all unless BOT_ADMIN_IDS names who runs the bot."""
    ids = set(admin_ids)
    return not ids or telegram_user_id in ids


def can_drop_coordinator(*, coordinator_ids: Iterable[int], member_id: int) -> bool:
    """A Union always keeps at least one coordinator."""
    others = [c for c in coordinator_ids if c != member_id]
    return bool(others)


def blocks_leaving(
    *, coordinator_ids: Iterable[int], member_id: int, active_member_count: int
) -> bool:
    """The last coordinator may not leave while others remain who would lose their coordinator.

    Alone in the Union there is nobody to hand over to: leaving is then allowed.
    """
    ids = list(coordinator_ids)
    return member_id in ids and len(ids) == 1 and active_member_count > 1


# --- the roster ------------------------------------------------------------------------------


def group_roster(
    entries: Iterable[RosterEntry],
    municipalities: Sequence[tuple[int, str]],
    archived: Iterable[int] = (),
) -> list[RosterGroup]:
    """Comune by Comune (alphabetical, folded), each with its people by role then name;
    Union staff last. A technician serving two Comuni appears under both. Every Comune is
    listed, even when nobody stands for it yet (that is worth seeing); `archived` Comuni are
    marked (they are listed only while someone stands for them)."""
    by_mun: dict[int, list[RosterEntry]] = {mid: [] for mid, _n in municipalities}
    staff: list[RosterEntry] = []
    for entry in entries:
        placed = False
        for mid in entry.municipality_ids:
            if mid in by_mun:
                by_mun[mid].append(entry)
                placed = True
        if not placed:
            staff.append(entry)

    def order(e: RosterEntry) -> tuple[int, str, int]:
        return (ROLE_ORDER[e.role], fold_name(e.name), e.member_id)

    gone = set(archived)
    groups = [
        RosterGroup(
            municipality_id=mid,
            name=name,
            entries=sorted(by_mun[mid], key=order),
            archived=mid in gone,
        )
        for mid, name in sorted(municipalities, key=lambda m: (fold_name(m[1]), m[0]))
    ]
    if staff:
        groups.append(
            RosterGroup(municipality_id=None, name=None, entries=sorted(staff, key=order))
        )
    return groups
