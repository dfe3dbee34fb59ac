"""/riunione: the wizard that prepares a poll in private, step by step, and publishes it.

Its state lives in the database (a conversation, flow `meeting_wizard`, two days to finish):
table → title → place → agenda → dates → deadline → confirm. Each press or written text moves
it on (or says why not) and answers with the step's message (bot.views.meetings.render_wizard).
Texts are in the caller's `language`; the poll itself goes to the groups in `group_language`.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translator
from bot.services.italian_dates import ParsedWhen, ParseProblem, parse_when
from bot.services.meetings import rules
from bot.services.meetings.polls import enqueue_poll_posts, table_chats
from bot.views import meetings as views
from bot.views.keyboard import Keyboard
from bot.views.meetings import (
    STEP_AGENDA,
    STEP_CONFIRM,
    STEP_DATES,
    STEP_DEADLINE,
    STEP_PLACE,
    STEP_TABLE,
    STEP_TITLE,
    TABLE_CODES,
    Note,
)
from storage.models import PollTable, Union
from storage.repositories import core as core_repo
from storage.repositories import meetings as repo

logger = logging.getLogger(__name__)

WIZARD_FLOW = "meeting_wizard"
WIZARD_TTL = timedelta(days=2)
MAX_TITLE, MAX_PLACE, MAX_AGENDA = 200, 400, 1500
MAX_OPTIONS = 16
DEADLINE_DEFAULT_TIME = time(18, 0)
_NEXT_AFTER_SKIP = {STEP_TITLE: STEP_PLACE, STEP_PLACE: STEP_AGENDA, STEP_AGENDA: STEP_DATES}


@dataclass(frozen=True)
class WizardShown:
    """What to show: `text` (None: leave the message as it is) with its keyboard, and the
    toast of a press. `published`: the poll was queued for its groups (flush the outbox)."""

    text: str | None
    keyboard: Keyboard | None = None
    toast: str = ""
    published: bool = False


@dataclass(frozen=True)
class WizardRefused:
    """/riunione refused: `reason` is proposers_only or no_group (views.render_note)."""

    text: str


def _shown(step: str, state: dict[str, Any], language: str, note: Note | None) -> WizardShown:
    tr = translator(language)
    text, keyboard = views.render_wizard(step, state, tr)
    if note is not None:
        text = views.render_note(note, ZoneInfo(state["tz"]), tr) + "\n\n" + text
    return WizardShown(text, keyboard)


async def _save(
    session: AsyncSession, telegram_user_id: int, step: str, state: dict[str, Any], now: datetime
) -> None:
    await core_repo.set_conversation(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        flow=WIZARD_FLOW,
        step=step,
        data=state,
        now=now,
        ttl=WIZARD_TTL,
    )


async def start_wizard(
    session: AsyncSession,
    *,
    union_id: int,
    telegram_user_id: int,
    group_table: str | None,
    now: datetime,
    language: str,
) -> WizardShown | WizardRefused:
    """A new poll for the caller's Union. `group_table` is the table of the linked group the
    command was typed in (None in private): a member who is not the coordinator proposes for
    that table."""
    tr = translator(language)
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    union = await session.get(Union, union_id)
    allowed = (
        rules.tables_a_member_may_propose(role=member.role, is_coordinator=member.is_coordinator)
        if member is not None
        else ()
    )
    usable = [t for t in allowed if await table_chats(session, union_id=union_id, table=t)]
    if member is None or union is None or not allowed:
        return WizardRefused(views.render_note(Note("proposers_only"), ZoneInfo("UTC"), tr))
    if not usable:
        return WizardRefused(views.render_note(Note("no_group"), ZoneInfo("UTC"), tr))
    settings = await repo.settings_of(session, union_id)
    tz = ZoneInfo(union.timezone)
    suggestions = rules.wizard_suggestions(
        now=now,
        tz=tz,
        weekdays=rules.parse_weekdays(settings.weekdays),
        at=time(settings.slot_hour, settings.slot_minute),
        duration=timedelta(minutes=settings.duration_minutes),
    )
    state: dict[str, Any] = {
        "union_id": union_id,
        "member_id": member.id,
        "tz": union.timezone,
        "tables": [t.value for t in usable],
        "table": usable[0].value if len(usable) == 1 else None,
        "title": None,
        "place": None,
        "agenda": None,
        "duration": settings.duration_minutes,
        "slot_time": f"{settings.slot_hour:02d}:{settings.slot_minute:02d}",
        "deadline_days": settings.deadline_days,
        "options": [s.starts_at.isoformat() for s in suggestions],
        "chosen": [],
        "deadline": None,
        "deadline_options": [],
    }
    in_group_of = PollTable(group_table) if group_table is not None else None
    if in_group_of in usable and not member.is_coordinator:
        state["table"] = group_table
    step = STEP_TABLE if len(usable) > 1 and state["table"] is None else STEP_TITLE
    if state["table"] is None:
        state["table"] = usable[0].value
    await _save(session, telegram_user_id, step, state, now)
    return _shown(step, state, language, None)


# --- a press ------------------------------------------------------------------------------


async def wizard_press(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    verb: str | None,
    arg: str | None,
    now: datetime,
    language: str,
    group_language: str,
) -> WizardShown:
    """One of the wizard's buttons (`wiz:<verb>[:<arg>]`; None: data not understood)."""
    tr = translator(language)
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id, now=now
    )
    if verb is None or conv is None or conv.flow != WIZARD_FLOW:
        return WizardShown(None, toast=views.render_note(Note("expired"), ZoneInfo("UTC"), tr))
    state, step = copy.deepcopy(conv.data), conv.step
    tz = ZoneInfo(state["tz"])
    if verb == "stop":
        await _end(session, telegram_user_id)
        return WizardShown(
            views.render_note(Note("stopped"), tz, tr),
            toast=views.render_note(Note("stopped_toast"), tz, tr),
        )
    if verb == "publish" and step == STEP_CONFIRM:
        published = await _publish(
            session,
            telegram_user_id=telegram_user_id,
            state=state,
            now=now,
            language=group_language,
        )
        if isinstance(published, Note):
            toast = views.render_note(published, tz, tr)
        else:
            await _end(session, telegram_user_id)
            poll_id, groups = published
            return WizardShown(
                views.render_note(Note("published", groups=tuple(groups)), tz, tr),
                views.render_published_buttons(poll_id, tr),
                toast=views.render_note(Note("published_toast"), tz, tr),
                published=True,
            )
    else:
        step, note = _advance(state, step, verb, arg, now)
        toast = views.render_note(note, tz, tr) if note is not None else ""
    await _save(session, telegram_user_id, step, state, now)
    text, keyboard = views.render_wizard(step, state, tr)
    return WizardShown(text, keyboard, toast=toast)


def _advance(
    state: dict[str, Any], step: str, verb: str, arg: str | None, now: datetime
) -> tuple[str, Note | None]:
    """A press that moves the wizard (or the note saying why it does not); changes `state`."""
    if verb == "table" and step == STEP_TABLE and (table := TABLE_CODES.get(arg or "")):
        return (STEP_TITLE, None) if _set_table(state, table) else (step, None)
    if verb == "skip" and step in _NEXT_AFTER_SKIP:
        return _NEXT_AFTER_SKIP[step], None
    if verb == "toggle" and step == STEP_DATES:
        return step, _toggle(state, arg)
    if verb == "next" and step == STEP_DATES:
        if len(state["chosen"]) < rules.MIN_SLOTS:
            return step, Note("min_dates")
        first = min(datetime.fromisoformat(r) for r in state["chosen"])
        if first < now + rules.DEADLINE_MARGIN + timedelta(hours=1):
            return step, Note("first_too_close")
        if _prepare_deadline(state, now):
            return STEP_DEADLINE, None
        return step, Note("first_too_close")
    if verb == "deadline" and step == STEP_DEADLINE:
        index = int(arg) if arg is not None and arg.isdigit() else None
        if index is not None and index < len(state["deadline_options"]):
            state["deadline"] = state["deadline_options"][index]
            return STEP_CONFIRM, None
        return step, None
    return step, Note("stale_button")


def _set_table(state: dict[str, Any], table: PollTable) -> bool:
    if table.value not in state["tables"]:
        return False
    state["table"] = table.value
    return True


def _toggle(state: dict[str, Any], arg: str | None) -> Note | None:
    index = int(arg) if arg is not None and arg.isdigit() else None
    if index is None or index >= len(state["options"]):
        return None
    raw = state["options"][index]
    if raw in state["chosen"]:
        state["chosen"].remove(raw)
    elif len(state["chosen"]) >= rules.MAX_SLOTS:
        return Note("max_dates")
    else:
        state["chosen"].append(raw)
    return None


def _prepare_deadline(state: dict[str, Any], now: datetime) -> bool:
    """Fill the deadline options for the chosen dates; False when none is possible."""
    first = min(datetime.fromisoformat(raw) for raw in state["chosen"])
    tz = ZoneInfo(state["tz"])
    options = rules.deadline_options(now=now, first_slot=first, tz=tz)
    default = rules.default_deadline(
        now=now, first_slot=first, tz=tz, days=int(state["deadline_days"])
    )
    if default is not None and default not in options:
        options = sorted([*options, default])
    state["deadline_options"] = [d.isoformat() for d in options]
    return bool(options)


async def _publish(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    state: dict[str, Any],
    now: datetime,
    language: str,
) -> tuple[int, list[str]] | Note:
    """Create the poll and queue it for the group(s): its id and their titles, or the Note
    why not."""
    union_id = int(state["union_id"])
    member = await core_repo.member_of(
        session, union_id=union_id, telegram_user_id=telegram_user_id
    )
    table = PollTable(state["table"])
    if member is None or table not in rules.tables_a_member_may_propose(
        role=member.role, is_coordinator=member.is_coordinator
    ):
        return Note("may_not_propose")
    starts = sorted(datetime.fromisoformat(r) for r in state["chosen"])
    deadline = datetime.fromisoformat(state["deadline"])
    if not rules.MIN_SLOTS <= len(starts) <= rules.MAX_SLOTS:
        return Note("dates_count")
    if rules.deadline_problem(now=now, deadline=deadline, first_slot=starts[0]):
        return Note("deadline_invalid")
    if not await table_chats(session, union_id=union_id, table=table):
        return Note("no_group")
    duration = timedelta(minutes=int(state["duration"]))
    poll = await repo.create_poll(
        session,
        union_id=union_id,
        table=table,
        title=state["title"] or views.default_title(translator(language)),
        agenda=state["agenda"],
        place=state["place"],
        deadline_at=deadline,
        slots=[(s, s + duration) for s in starts],
        created_by_member_id=member.id,
        now=now,
    )
    assert poll is not None
    groups = await enqueue_poll_posts(session, poll=poll, now=now, language=language)
    logger.info("Poll %s created by member %s with %d slots", poll.id, member.id, len(starts))
    return poll.id, groups


async def _end(session: AsyncSession, telegram_user_id: int) -> None:
    await core_repo.clear_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id
    )


# --- a written text -----------------------------------------------------------------------


async def wizard_text(
    session: AsyncSession, *, telegram_user_id: int, text: str, now: datetime, language: str
) -> WizardShown:
    """A text written during the wizard: the title, the place, the agenda, a date, a deadline."""
    tr = translator(language)
    conv = await core_repo.get_conversation(
        session, telegram_user_id=telegram_user_id, chat_id=telegram_user_id, now=now
    )
    if conv is None or conv.flow != WIZARD_FLOW:
        return WizardShown(views.render_note(Note("expired"), ZoneInfo("UTC"), tr))
    state, step = copy.deepcopy(conv.data), conv.step
    raw = text.strip()
    step, note = _written(state, step, raw, now)
    await _save(session, telegram_user_id, step, state, now)
    return _shown(step, state, language, note)


def _written(state: dict[str, Any], step: str, raw: str, now: datetime) -> tuple[str, Note | None]:
    tz = ZoneInfo(state["tz"])
    if not raw:
        return step, Note("empty")
    if step in (STEP_TITLE, STEP_PLACE) and not rules.is_one_line(raw):
        return step, Note("title_lines" if step == STEP_TITLE else "place_lines")
    if step == STEP_TITLE:
        state["title"] = raw[:MAX_TITLE]
        return STEP_PLACE, None
    if step == STEP_PLACE:
        state["place"] = raw[:MAX_PLACE]
        return STEP_AGENDA, None
    if step == STEP_AGENDA:
        state["agenda"] = raw[:MAX_AGENDA]
        return STEP_DATES, None
    if step == STEP_DATES:
        hh, mm = (int(x) for x in state["slot_time"].split(":"))
        parsed = parse_when(raw, now=now, tz=tz, default_time=time(hh, mm))
        if isinstance(parsed, ParseProblem):
            return step, _both_dates(state, parsed, now) or _problem(parsed)
        return step, _add_typed_date(state, parsed, now)
    if step == STEP_DEADLINE:
        return _written_deadline(state, step, raw, now, tz)
    return step, Note("use_buttons")


def _written_deadline(
    state: dict[str, Any], step: str, raw: str, now: datetime, tz: ZoneInfo
) -> tuple[str, Note]:
    first = min(datetime.fromisoformat(r) for r in state["chosen"])
    # "entro il 6 dicembre": by the evening of that day unless a time is given.
    parsed = parse_when(raw, now=now, tz=tz, default_time=DEADLINE_DEFAULT_TIME)
    if isinstance(parsed, ParseProblem):
        return step, _problem(parsed)
    if rules.deadline_problem(now=now, deadline=parsed.utc, first_slot=first):
        return step, Note("deadline_too_late", at=first)
    state["deadline"] = parsed.utc.isoformat()
    return STEP_CONFIRM, Note("deadline_set", at=parsed.utc)


def _problem(problem: ParseProblem) -> Note:
    return Note("problem", problem=(problem.kind, problem.day, problem.weekday, problem.words))


def _both_dates(state: dict[str, Any], problem: ParseProblem, now: datetime) -> Note | None:
    """«martedì 9 dicembre» when the 9th is a Wednesday: the 9th and the nearest Tuesday (same
    time) join the date buttons, not chosen, for a tap on the right one — instead of asking to
    type it again. None when the problem is another, or neither date can be offered."""
    if problem.kind != "weekday_mismatch" or problem.at is None or problem.weekday is None:
        return None
    written = problem.at
    shift = (problem.weekday - written.weekday()) % 7
    meant = datetime.combine(
        written.date() + timedelta(days=shift if shift <= 3 else shift - 7), written.timetz()
    )
    offered = [
        start
        for start in sorted(at.astimezone(UTC) for at in (written, meant))
        if start >= now + rules.DEADLINE_MARGIN + timedelta(hours=1)
    ]
    for start in offered:
        _offer(state, start.isoformat())
    if not offered:
        return None
    return Note("problem", problem=("weekday_pick", problem.day, problem.weekday, ()))


def _offer(state: dict[str, Any], raw: str) -> None:
    """`raw` among the date buttons (the oldest unchosen ones make room)."""
    if raw not in state["options"]:
        if len(state["options"]) >= MAX_OPTIONS:
            state["options"] = [o for o in state["options"] if o in state["chosen"]]
        state["options"].append(raw)


def _add_typed_date(state: dict[str, Any], parsed: ParsedWhen, now: datetime) -> Note:
    start = parsed.utc
    if start < now + rules.DEADLINE_MARGIN + timedelta(hours=1):
        return Note("too_close", at=start)
    raw = start.isoformat()
    if raw in state["chosen"]:
        return Note("already_chosen", at=start)
    if len(state["chosen"]) >= rules.MAX_SLOTS:
        return Note("full")
    _offer(state, raw)
    state["chosen"].append(raw)
    return Note(
        "added",
        at=start,
        default_time=parsed.used_default_time,
        holiday=rules.is_holiday(parsed.local.date()),
    )
