"""A scripted month of the Team energia, with the real bot SIGKILLed at random moments.

The bot runs as `python -m bot` in a child process (crash.BotProcess) against the fake
Telegram served by this process and a SQLite file, or a fresh PostgreSQL database when the
caller names one. Its clock is a file this process writes
(`TEAM_ENERGIA_TEST_CLOCK_FILE`, bot.clock.FileClock): the month moves in steps while the
scheduler ticks every 0.2 s of real time. A Union with three Comuni (a Sindaco, an Assessore
and a Funzionario tecnico each), a coordinator and both tables' groups linked lives through:

1. the 1st at 09:00: the monthly poll opens by itself in both groups;
2. people vote by pressing the poll's buttons (some wait for the reminder);
3. 24 h before the deadline: private reminders to who has not answered; they vote there;
4. the deadline: the poll closes, the meeting is announced with its .ics, the update round
   opens (invitations to the technicians, a message to the technical group);
5. the technicians answer with buttons: «Nessuna novità», or an action, its state (saved at once), maybe its percentage;
6. the round's reminders, its deadline, the summary in the political group;
7. the meeting's reminders, the day before and one hour before.

Meanwhile a killer task SIGKILLs the bot at random (seeded) moments and restarts it. After
the month the bot drains its outbox, is stopped, and the checks run:

- every vote and update answer whose toast the bot showed is in the database;
- no scheduled post (poll, reminders, announcement, .ics, round messages, summary) reached
  Telegram more than once, and every one that was `sent` reached it exactly once;
- none went missing silently: each expected post exists in the outbox and ended `sent`, or
  `uncertain` and reported to the coordinator; nothing is left pending, sending or failed;
- no log line of the child contains the token.

Used by `tests/reliability/test_crash_month.py` (a few seeds, CI) and
`scripts/crash_soak.py --month` (many seeds, more kills).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.clock import FakeClock
from storage import migrate
from storage.db import Database
from storage.models import (
    Action,
    ActionStatus,
    JobClaim,
    Meeting,
    MeetingPoll,
    Municipality,
    OutboxMessage,
    OutboxStatus,
    ProgressUpdate,
    Role,
    RoundResponse,
    Summary,
    SummaryKind,
    TableKind,
    UpdateRound,
    Vote,
)
from tests.factories import add_comune, add_member, link_group, make_union
from tests.fakes.fake_world import FakeChat, FakeMessage, FakePress, FakeUser
from tests.fakes.telegram_server import FakeTelegram
from tests.reliability.crash import (
    TOKEN,
    BotProcess,
    _read_log,
    check_no_connections_left,
    lock_pulses,
    sqlite_url,
)

ROME = ZoneInfo("Europe/Rome")
PERIOD = "2026-12"
START = datetime(2026, 12, 1, 8, 58, tzinfo=ROME)
CLOCK_ENV = "TEAM_ENERGIA_TEST_CLOCK_FILE"
# On PostgreSQL, tables the parent locks for a moment now and then (crash.lock_pulses).
LOCKED = (
    "processed_update",
    "meeting_vote",
    "poll_message",
    "meeting_slot",
    "outbox_message",
    "job_claim",
    "progress_update",
    "round_response",
    "conversation",
)
# Outbox keys of the scheduled posts this month must deliver once each.
SCHEDULED = (
    "poll:",
    "pollrem:",
    "mtgann:",
    "mtgics:",
    "mtgremday:",
    "mtgremhour:",
    "pollnodate:",
    "agdconv:",  # the convocation and its updated .ics
    "agdics:",
    "att:",  # the attendance list
    "upd:ann:",
    "upd:inv:",
    "upd:rem:",
    "upd:open:",
    "sum:",
)
_VOTE_CONFIRMED = "Registrato: "
_NO_NEWS_CONFIRMED = "Registrato: nessuna novità."
_SAVED = "Salvato"


@dataclass
class MonthReport:
    seed: int
    kills: int = 0
    votes_confirmed: int = 0
    answers_confirmed: int = 0
    scheduled_rows: int = 0
    sent: int = 0
    uncertain: int = 0
    phases: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"month seed {self.seed}: {self.kills} kills, {self.votes_confirmed} confirmed votes, "
            f"{self.answers_confirmed} confirmed update answers, {self.scheduled_rows} scheduled "
            f"posts → {self.sent} sent, {self.uncertain} uncertain (reported); "
            + ("OK" if not self.problems else f"{len(self.problems)} PROBLEMS")
        )


@dataclass
class Team:
    union_id: int
    coordinator: FakeUser
    political: FakeChat
    technical: FakeChat
    users: dict[str, FakeUser] = field(default_factory=dict)  # "sindaco:0", "tecnico:2", …
    member_of: dict[int, int] = field(default_factory=dict)  # telegram id → member id

    def voters(self) -> list[tuple[FakeUser, FakeChat]]:
        """Everyone at a table, with the group where they see the poll."""
        return [
            (user, self.technical if key.startswith("tecnico") else self.political)
            for key, user in self.users.items()
        ]

    def technicians(self) -> list[FakeUser]:
        return [u for k, u in self.users.items() if k.startswith("tecnico")]


@dataclass
class Press:
    user: FakeUser
    data: str
    press: FakePress

    @property
    def toast(self) -> str | None:
        return self.press.answer.text if self.press.answer else None


class MonthClock:
    """The bot's "now": a FakeClock for the fake Telegram, a file for the child process."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.fake = FakeClock(start)
        self._write()

    def now(self) -> datetime:
        return self.fake.now()

    def set(self, when: datetime) -> None:
        self.fake.set(when)
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(self.fake.now().isoformat(), encoding="utf-8")
        os.replace(tmp, self.path)  # a new file: the bot never reads half an instant


async def seed_team(db: Database, fake: FakeTelegram, now: datetime, *, comuni: int) -> Team:
    coordinator = fake.add_user("Carla", "Coordinatrice")
    coordinator.has_started = True
    users: dict[str, FakeUser] = {}
    for i in range(comuni):
        for role in ("sindaco", "assessore", "tecnico"):
            user = fake.add_user(role.capitalize(), f"{i:02d}")
            user.has_started = True
            users[f"{role}:{i}"] = user
    political = fake.create_group(
        "Tavolo politico", coordinator, members=[u for k, u in users.items() if "tecnico" not in k]
    )
    technical = fake.create_group(
        "Tavolo tecnico", coordinator, members=[u for k, u in users.items() if "tecnico" in k]
    )
    political.bot_status = technical.bot_status = "member"
    async with db.transaction() as session:
        world = await make_union(session, now=now)
        union = world.union
        team = Team(union.id, coordinator, political, technical, users=users)

        async def member(user: FakeUser, role: Role, comuni: list[Municipality]) -> None:
            row = await add_member(
                session,
                union,
                role=role,
                name=user.full_name,
                comuni=comuni,
                coordinator=role == Role.STAFF,
                telegram_user_id=user.id,
                telegram_language="it",
                now=now,
            )
            team.member_of[user.id] = row.id

        await member(coordinator, Role.STAFF, [])
        for i in range(comuni):
            comune = await add_comune(session, world, f"Comune {i:02d}", now=now)
            for role in (Role.SINDACO, Role.ASSESSORE, Role.TECNICO):
                await member(users[f"{role.value}:{i}"], role, [comune])
            for a in range(2):
                session.add(
                    Action(
                        union_id=union.id,
                        code=f"C{i:02d}.{a}",
                        title=f"Azione {a} di Comune {i:02d}",
                        sector="Edifici",
                        municipality_id=comune.id,
                        responsible="Ufficio tecnico",
                        co2_avoided_t=Decimal("10"),
                        status=ActionStatus.ONGOING,
                        progress=20,
                        created_at=now - timedelta(days=90),
                        updated_at=now - timedelta(days=90),
                    )
                )
        for chat, kind in ((political, TableKind.POLITICAL), (technical, TableKind.TECHNICAL)):
            await link_group(
                session, union, table=kind, chat_id=chat.id, title=chat.title or "", now=now
            )
    return team


class Month:
    """The scripted month: the driver of people and time; the killer runs beside it."""

    def __init__(
        self,
        fake: FakeTelegram,
        db: Database,
        bot: BotProcess,
        clock: MonthClock,
        team: Team,
        rng: random.Random,
        report: MonthReport,
    ) -> None:
        self.fake, self.db, self.bot, self.clock = fake, db, bot, clock
        self.team, self.rng, self.report = team, rng, report
        self.presses: list[Press] = []
        self.lock = asyncio.Lock()  # kill/start are not interleaved
        self.moved = asyncio.Event()  # the clock has just moved
        self.log_mark = 0  # where the log of the latest start begins

    def set_time(self, when: datetime) -> None:
        self.clock.set(when)
        if self.rng.random() < 0.7:
            self.moved.set()

    # --- the killer ----------------------------------------------------------------------

    async def killer(self, kills: int, *, gap: tuple[float, float]) -> None:
        """Kill at random moments; right after the clock moves (the tick is then doing the
        scheduled work), more often than not."""
        for _ in range(kills):
            if self.rng.random() < 0.8:  # else a kill during start-up and recovery
                await self._started()
            try:
                async with asyncio.timeout(self.rng.uniform(*gap)):
                    await self.moved.wait()
                self.moved.clear()
                await asyncio.sleep(self.rng.uniform(0.05, 1.2))
            except TimeoutError:
                pass
            async with self.lock:
                await self.bot.kill()
                self.report.kills += 1
                await asyncio.sleep(self.rng.uniform(0.0, 0.5))
                await self.start()

    async def _started(self) -> None:
        """Until the bot, started last, polls (its log says so)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                while True:
                    if "Application started" in _read_log(self.bot.log)[self.log_mark :]:
                        return
                    await asyncio.sleep(0.1)

    async def start(self) -> None:
        self.log_mark = len(_read_log(self.bot.log)) if self.bot.log.exists() else 0
        await self.bot.start()

    async def ensure_running(self) -> None:
        async with self.lock:
            if self.bot.proc is None or self.bot.proc.returncode is not None:
                await self.start()

    # --- waiting for the bot ---------------------------------------------------------------

    async def until(
        self,
        what: str,
        check: Callable[[Any], Awaitable[bool]],
        *,
        timeout: float = 90,  # noqa: ASYNC109
    ) -> None:
        """Until `check(session)` holds and the outbox has nothing in flight."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    async with self.db.transaction() as session:
                        if await check(session) and not await _busy(session, self.clock.now()):
                            self.report.phases.append(what)
                            return
                    await asyncio.sleep(0.2)
        except TimeoutError:
            self.report.problems.append(f"timed out waiting for: {what}")
            raise

    async def drain(self) -> None:
        """Until nothing is in flight. What waits for a later moment (a report that a kill left
        uncertain, offered again after a wait) gets it: the clock moves past it, as time would,
        a few times at most."""
        for _ in range(4):
            await self.until("drained", _nothing, timeout=60)
            async with self.db.transaction() as session:
                waiting = await _waiting_until(session)
            if waiting is None:
                return
            self.set_time(max(waiting, self.clock.now()) + timedelta(seconds=30))
        self.report.problems.append("rows still waiting after the clock moved four times")

    async def press(self, user: FakeUser, message: FakeMessage, data: str) -> Press:
        press = await user.press(message, data)
        record = Press(user, data, press)
        self.presses.append(record)
        with contextlib.suppress(TimeoutError):
            await press.answered(timeout=12)  # a kill may eat the answer: unconfirmed then
        return record

    # --- the month -----------------------------------------------------------------------

    async def run(self) -> None:
        tz = ROME
        self.set_time(datetime(2026, 12, 1, 9, 0, 30, tzinfo=tz))
        await self.until("monthly poll posted", _poll_posted)
        poll = await self._poll()
        late_voters = {u.id for u, _c in self.team.voters() if self.rng.random() < 0.3}
        await asyncio.gather(
            *(
                self._vote_in_group(user, chat)
                for user, chat in self.team.voters()
                if user.id not in late_voters
            )
        )
        self.set_time(poll.deadline_at - timedelta(hours=24) + timedelta(seconds=30))
        await self.until("poll reminders", _claimed("poll_reminder"))
        await asyncio.gather(
            *(
                self._vote_in_private(user)
                for user, _c in self.team.voters()
                if user.id in late_voters
            )
        )
        self.set_time(poll.deadline_at + timedelta(seconds=30))
        await self.until("poll closed", _poll_closed)
        meeting = await self._meeting()
        if meeting is None:  # no date: the round opens on the 20th at 10:00
            self.set_time(datetime(2026, 12, 20, 10, 0, 30, tzinfo=tz))
        await self.until("update round opened", _round_opened)
        round_ = await self._round()
        late = {u.id for u in self.team.technicians() if self.rng.random() < 0.4}
        await asyncio.gather(
            *(self._answer_round(u) for u in self.team.technicians() if u.id not in late)
        )
        # Reminders: three days after opening, the day before the deadline (if before it).
        first, last = round_.opened_at + timedelta(days=3), round_.deadline_at - timedelta(days=1)
        moments = [first, last] if first < last else [last]
        for n, moment in enumerate(moments):
            if self.clock.now() < moment < round_.deadline_at:
                self.set_time(moment + timedelta(seconds=30))
                await self.until(f"round reminder {n + 1}", _round_reminded(moment))
                if late:  # the late ones answer from the reminder
                    await asyncio.gather(
                        *(self._answer_round(u) for u in self.team.technicians() if u.id in late)
                    )
                    late = set()
        self.set_time(round_.deadline_at + timedelta(seconds=30))
        await self.until("summary posted", _summary_made)
        if meeting is not None:
            for before in (timedelta(hours=23, minutes=59), timedelta(minutes=59)):
                moment = meeting.starts_at - before
                if moment > self.clock.now():
                    self.set_time(moment)
                    await self.until(f"meeting reminder {before}", _meeting_reminded(before))

    async def _poll(self) -> MeetingPoll:
        async with self.db.transaction() as session:
            return (
                await session.execute(select(MeetingPoll).where(MeetingPoll.period == PERIOD))
            ).scalar_one()

    async def _meeting(self) -> Meeting | None:
        async with self.db.transaction() as session:
            return (await session.execute(select(Meeting))).scalars().first()

    async def _round(self) -> UpdateRound:
        async with self.db.transaction() as session:
            return (
                await session.execute(select(UpdateRound).where(UpdateRound.period == PERIOD))
            ).scalar_one()

    def _vote_buttons(self, message: FakeMessage) -> list[str]:
        return [
            data
            for row in message.buttons
            for _t, data in row
            if data and data.startswith("vote:") and data.split(":")[1] in ("y", "m", "n")
        ]

    def _poll_message(self, chat: FakeChat | FakeUser) -> FakeMessage | None:
        found = [m for m in self.fake.sent_to(chat) if self._vote_buttons(m)]
        return found[-1] if found else None

    async def _votes(self, user: FakeUser, message: FakeMessage) -> None:
        buttons = self._vote_buttons(message)
        for _ in range(self.rng.randint(1, 4)):
            data = self.rng.choices(buttons, weights=[3 if ":y:" in b else 1 for b in buttons])[0]
            await self.press(user, message, data)
            await asyncio.sleep(self.rng.uniform(0.0, 0.4))

    async def _vote_in_group(self, user: FakeUser, chat: FakeChat) -> None:
        message = self._poll_message(chat)
        if message is not None:  # an uncertain post may never have arrived
            await self._votes(user, message)

    async def _vote_in_private(self, user: FakeUser) -> None:
        message = self._poll_message(user)
        if message is not None:
            await self._votes(user, message)

    async def _answer_round(self, user: FakeUser) -> None:
        """A technician answers: «Nessuna novità», or two actions from the list: each one's
        state (saved at once), maybe its percentage."""
        invite = next(  # the invitation or a reminder: both carry the round's buttons
            (
                m
                for m in reversed(self.fake.sent_to(user))
                if any(d and d.startswith("upd:no_news:") for _t, d in _flat(m))
            ),
            None,
        )
        if invite is None:  # uncertain and never delivered: reported to the coordinator
            return
        buttons = {data.split(":")[1]: data for _t, data in _flat(invite) if data}
        if self.rng.random() < 0.35 and "no_news" in buttons:
            await self.press(user, invite, buttons["no_news"])
            return
        saved: set[str] = set()
        want = "pick"  # the invitation is the list: an action, then its state (saved at once)
        for _step in range(20):
            message, data = self._next_flow_button(user, want, saved)
            if message is None or data is None:
                if len(saved) >= 2:
                    return
                # (again, after a kill: the list's buttons are still on the invitation)
                message, data = self._next_flow_button(user, "pick", saved)
                if message is None or data is None:
                    return
                want = "pick"
            record = await self.press(user, message, data)
            await asyncio.sleep(0.2)  # the next screen follows the toast
            toast = record.toast
            if want == "pick":
                want = "status"
            elif want == "status" and toast == _SAVED:
                saved.add(data.split(":")[2])
                ongoing = data.endswith(":ongoing") or data.endswith(":postponed")
                want = "progress" if ongoing and self.rng.random() < 0.7 else "pick"
            else:
                want = "pick"
            if len(saved) >= 2:
                return

    def _next_flow_button(
        self, user: FakeUser, want: str, saved: set[str]
    ) -> tuple[FakeMessage | None, str | None]:
        for message in reversed(self.fake.sent_to(user)):
            datas = [d for _t, d in _flat(message) if d and d.startswith(f"upd:{want}:")]
            if want != "progress":  # a percentage completes the answer just saved
                datas = [d for d in datas if d.split(":")[2] not in saved]
            if datas:
                return message, self.rng.choice(datas)
        return None, None


def _flat(message: FakeMessage) -> list[tuple[str, str | None]]:
    return [b for row in message.buttons for b in row]


# --- phase conditions (the parent reads the bot's database) -------------------------------


async def _busy(session: Any, now: datetime) -> bool:
    """Something in flight: a row pending and due, or being sent, or a problem not yet reported.
    A row pending for a later moment (a report to the coordinators offered again after a wait,
    bot.delivery.reoffer_reports) waits for the clock, which only the scenario moves: not busy."""
    rows = (
        await session.execute(
            select(
                OutboxMessage.status,
                OutboxMessage.union_id,
                OutboxMessage.reported_at,
                OutboxMessage.not_before,
            )
        )
    ).all()
    return any(
        (status == OutboxStatus.PENDING and (not_before is None or _aware(not_before) <= now))
        or status == OutboxStatus.SENDING
        or (status == OutboxStatus.UNCERTAIN and union_id and reported_at is None)
        for status, union_id, reported_at, not_before in rows
    )


async def _waiting_until(session: Any) -> datetime | None:
    """The latest moment a pending row waits for, if any."""
    latest = (
        await session.execute(
            select(func.max(OutboxMessage.not_before)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )
    ).scalar_one_or_none()
    return _aware(latest) if latest is not None else None


async def _poll_posted(session: Any) -> bool:
    rows = (
        await session.execute(select(OutboxMessage).where(OutboxMessage.dedup_key.like("poll:%")))
    ).all()
    return len(rows) >= 2


def _claimed(kind: str) -> Callable[[Any], Awaitable[bool]]:
    async def check(session: Any) -> bool:
        return (
            await session.execute(select(JobClaim.kind).where(JobClaim.kind == kind))
        ).first() is not None

    return check


async def _poll_closed(session: Any) -> bool:
    poll = (await session.execute(select(MeetingPoll))).scalars().first()
    return poll is not None and str(poll.status) != "open"


async def _round_opened(session: Any) -> bool:
    return (
        await session.execute(select(UpdateRound.id).where(UpdateRound.period == PERIOD))
    ).first() is not None


async def _nothing(session: Any) -> bool:
    return True


def _round_reminded(moment: datetime) -> Callable[[Any], Awaitable[bool]]:
    """The round's reminder due at `moment` was decided (claimed, or superseded by the last)."""

    async def check(session: Any) -> bool:
        found = (
            await session.execute(
                select(JobClaim.claimed_at).where(JobClaim.kind.like("upd_remind_%"))
            )
        ).all()
        return any(_aware(at) >= moment for (at,) in found)

    return check


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _summary_made(session: Any) -> bool:
    return (
        await session.execute(select(Summary.id).where(Summary.kind == SummaryKind.SCHEDULED))
    ).first() is not None


def _meeting_reminded(before: timedelta) -> Callable[[Any], Awaitable[bool]]:
    kind = "meeting_remind_day" if before > timedelta(hours=1) else "meeting_remind_hour"
    return _claimed(kind)


# --- the run --------------------------------------------------------------------------------


async def run_month_scenario(
    workdir: Path,
    *,
    seed: int,
    kills: int = 6,
    comuni: int = 3,
    gap: tuple[float, float] = (0.5, 3.0),
    stall: float = 0.1,
    database_url: str | None = None,
) -> MonthReport:
    """One seed; on `database_url` (an empty database: a fresh PostgreSQL one, say), else on a
    SQLite file in `workdir`."""
    rng = random.Random(seed)
    os.makedirs(workdir, exist_ok=True)
    database_url = database_url or sqlite_url(workdir)
    log = workdir / "bot.log"
    clock = MonthClock(workdir / "clock.txt", START)
    fake = FakeTelegram(token=TOKEN, clock=clock.fake)
    await fake.start()
    db = Database(database_url)
    report = MonthReport(seed=seed)
    try:
        await migrate.upgrade(db)
        team = await seed_team(db, fake, clock.now() - timedelta(days=3), comuni=comuni)
        # Each answer takes a while: a kill often lands while a send is in flight.
        # (delivered, then the answer waits `stall` s: a kill there leaves the fate unknown).
        for method in ("sendMessage", "sendDocument", "sendPhoto"):
            fake.stall_next(method, seconds=stall, deliver=True, count=10**9)
        bot = BotProcess(fake, database_url, workdir, log)
        bot.env[CLOCK_ENV] = str(clock.path)
        month = Month(fake, db, bot, clock, team, rng, report)
        await month.start()
        killer = asyncio.create_task(month.killer(kills, gap=gap))
        pulses = asyncio.create_task(lock_pulses(database_url, seed, LOCKED))
        try:
            await month.run()
        except TimeoutError:
            pass  # already a problem in the report
        finally:
            killer.cancel()
            pulses.cancel()
            await asyncio.gather(killer, pulses, return_exceptions=True)
        await month.ensure_running()
        with contextlib.suppress(TimeoutError):
            await month.drain()
        await fake.settle(timeout=30)
        await bot.stop()
        await _check(db, fake, month, log, report)
        await db.dispose()
        await check_no_connections_left(database_url, report.problems)
    finally:
        await db.dispose()
        await fake.stop()
    return report


async def _check(
    db: Database, fake: FakeTelegram, month: Month, log: Path, report: MonthReport
) -> None:
    problems = report.problems
    team = month.team
    async with db.transaction() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
        votes = {
            (v.member_id, v.slot_id): str(v.answer)
            for v in (await session.execute(select(Vote))).scalars()
        }
        updates = {
            (u.member_id, u.action_id)
            for u in (await session.execute(select(ProgressUpdate))).scalars()
        }
        no_news = {
            r.member_id
            for r in (await session.execute(select(RoundResponse))).scalars()
            if r.no_news
        }
        polls = list((await session.execute(select(MeetingPoll))).scalars())
        meetings = list((await session.execute(select(Meeting))).scalars())
        rounds = list((await session.execute(select(UpdateRound))).scalars())
        summaries = list(
            (
                await session.execute(select(Summary).where(Summary.kind == SummaryKind.SCHEDULED))
            ).scalars()
        )
        claims = {c.kind for c in (await session.execute(select(JobClaim))).scalars()}
    _check_presses(month, votes, updates, no_news, report)

    # Nothing twice: per (chat, method, text), Telegram got at most the rows that carry it.
    delivered: Counter[tuple[int, str, str]] = Counter()
    for call in fake.calls:
        if call.ok and call.method in ("sendMessage", "sendDocument", "sendPhoto"):
            body = str(call.params.get("text") or call.params.get("caption") or "")
            delivered[(int(call.params["chat_id"]), call.method, body)] += 1
    scheduled = [r for r in rows if r.dedup_key.startswith(SCHEDULED)]
    report.scheduled_rows = len(scheduled)
    groups: dict[tuple[int, str, str], list[OutboxMessage]] = {}
    for row in scheduled:
        body = str(row.payload.get("text") or row.payload.get("caption") or "")
        groups.setdefault((row.chat_id, row.method, body), []).append(row)
    for signature, same in groups.items():
        sent = sum(1 for r in same if r.status == OutboxStatus.SENT)
        uncertain = sum(1 for r in same if r.status == OutboxStatus.UNCERTAIN)
        got = delivered[signature]
        if not sent <= got <= sent + uncertain:
            keys = ", ".join(r.dedup_key for r in same)
            problems.append(f"{keys}: {sent} sent, {uncertain} uncertain, Telegram got {got}")
    reports = [r for r in rows if r.dedup_key.startswith("report:")]
    for row in rows:
        if row.status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED):
            problems.append(f"{row.dedup_key} ended {row.status} ({row.error})")
        if row.status == OutboxStatus.UNCERTAIN and row.union_id is not None:
            covering = [
                r
                for r in reports
                if r.dedup_key.split(":")[1] == str(row.union_id)
                and _in_span(row.id, r.dedup_key.split(":")[2])
                and r.status in (OutboxStatus.SENT, OutboxStatus.UNCERTAIN)
            ]
            if row.reported_at is None or not covering:
                problems.append(f"{row.dedup_key} uncertain and not reported")
    report.sent = sum(1 for r in scheduled if r.status == OutboxStatus.SENT)
    report.uncertain = sum(1 for r in scheduled if r.status == OutboxStatus.UNCERTAIN)

    # Nothing missing: every scheduled moment of the month left its posts in the outbox.
    keys = [r.dedup_key for r in rows]

    def expect(prefix: str, count: int, what: str) -> None:
        found = sum(1 for k in keys if k.startswith(prefix))
        if found != count:
            problems.append(f"{what}: {found} outbox rows '{prefix}…', expected {count}")

    groups_n = 2
    if len(polls) != 1 or polls[0].period != PERIOD:
        problems.append(f"{len(polls)} polls for the month")
        return
    poll = polls[0]
    expect(f"poll:{poll.id}:", groups_n, "the monthly poll")
    if "poll_reminder" not in claims:
        problems.append("the poll reminders were never decided")
    if meetings:
        meeting = meetings[0]
        expect(f"mtgann:{meeting.id}:", groups_n, "the meeting announcement")
        expect(f"mtgics:{meeting.id}:", groups_n, "the .ics invitation")
        expect(f"mtgremhour:{meeting.id}:", groups_n, "the reminder one hour before")
        if meeting.created_at < meeting.starts_at - timedelta(hours=24):
            expect(f"mtgremday:{meeting.id}:", groups_n, "the reminder the day before")
    else:
        expect(f"pollnodate:{poll.id}:", 1, "no date: the coordinator is told")
    if len(rounds) != 1:
        problems.append(f"{len(rounds)} update rounds for the month")
        return
    round_ = rounds[0]
    expect(f"upd:inv:{round_.id}:", len(team.technicians()), "the round's invitations")
    expect(f"upd:ann:{round_.id}", 1, "the round's message to the technical group")
    expect(f"upd:open:{round_.id}:", 1, "the round's note to the coordinator")
    if len(summaries) != 1:
        problems.append(f"{len(summaries)} scheduled summaries")
    else:
        found = sum(1 for k in keys if k.startswith(f"sum:{summaries[0].id}:"))
        if found < 1:
            problems.append("the summary has no post in the outbox")

    text = _read_log(log)
    if TOKEN in text or TOKEN.split(":")[1] in text:
        problems.append("the token appears in the bot's log")
    if "Traceback" in text and "Error handling update" not in text:
        problems.append("a traceback in the bot's log")


def _check_presses(
    month: Month,
    votes: dict[tuple[int, int], str],
    updates: set[tuple[int, int]],
    no_news: set[int],
    report: MonthReport,
) -> None:
    """Every confirmed vote and answer is stored (a later unconfirmed press may have changed a
    vote: any answer pressed from the confirmed one on is accepted)."""
    problems = report.problems
    member_of = month.team.member_of
    last_confirmed: dict[tuple[int, int], int] = {}
    presses = month.presses
    for n, p in enumerate(presses):
        toast = p.toast or ""
        if p.data.startswith("vote:") and toast.startswith(_VOTE_CONFIRMED):
            report.votes_confirmed += 1
            last_confirmed[(member_of[p.user.id], int(p.data.split(":")[2]))] = n
        elif p.data.startswith("upd:no_news:") and toast == _NO_NEWS_CONFIRMED:
            report.answers_confirmed += 1
            if member_of[p.user.id] not in no_news:
                problems.append(f"{p.user.full_name}: «nessuna novità» confirmed, not stored")
        elif p.data.startswith("upd:status:") and toast == _SAVED:
            report.answers_confirmed += 1
            action_id = int(p.data.split(":")[2])
            if (member_of[p.user.id], action_id) not in updates:
                problems.append(f"{p.user.full_name}: update of action {action_id} not stored")
    answer_of = {"y": "yes", "m": "maybe", "n": "no"}
    for (member_id, slot_id), n in last_confirmed.items():
        later = [
            p
            for p in presses[n:]
            if p.data.startswith("vote:")
            and member_of[p.user.id] == member_id
            and int(p.data.split(":")[2]) == slot_id
        ]
        allowed = {answer_of[p.data.split(":")[1]] for p in later}
        stored = votes.get((member_id, slot_id))
        if stored not in allowed:
            problems.append(
                f"member {member_id}, slot {slot_id}: confirmed {sorted(allowed)}, stored {stored}"
            )


def _in_span(row_id: int, span: str) -> bool:
    low, _, high = span.partition("-")
    return low.isdigit() and high.isdigit() and int(low) <= row_id <= int(high)


__all__ = ["UTC", "MonthReport", "run_month_scenario"]
