"""Benchmarks: the real bot against two bare python-telegram-bot baselines, and outbox bulk sends.

The baselines: `bench/minimal_bot.py` answers and edits every press (PTB's bare ceiling, as in
sessions 1-6); `bench/fair_bot.py` makes the real bot's own Telegram calls for each press, with
its update queue and people at once (the fair one, since session 7).

    python -m bench.run                 # medians of 5 runs, SQLite
    python -m bench.run --quick         # 1 run, smaller bulk send
    python -m bench.run --postgres      # the real bot on a throwaway PostgreSQL too
    python -m bench.run --floor --steps 0   # + the stack's floor (bench/floor_bot.py)

See bench/README.md for what is measured, how, and the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import UPDATE_QUEUE_SIZE, UPDATES_PER_POLL
from bot.config import Settings
from tests.fakes.fake_world import FakeMessage, FakeUser
from tests.fakes.telegram_server import FakeTelegram

REPO = Path(__file__).resolve().parents[1]
TOKEN = "555000111:BENCH-token_abcdefghijklmnopqrstuvwxyz012"


# --- the fake, with a stopwatch ------------------------------------------------------------


class TimedFake(FakeTelegram):
    """FakeTelegram that notes when each answer, edit and send arrives (perf_counter)."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__(token=TOKEN)
        self.latency = latency  # seconds added to every answer but getUpdates (real Telegram)
        # Telegram refuses an answer to a press older than ~15 s; a long burst queued behind a
        # slow bot would then measure errors, not throughput (the latency shows it anyway).
        self.callback_answer_timeout = 1e9
        self.answered_at: dict[str, float] = {}
        self.toasts: dict[str, str] = {}
        self.edited_at: dict[tuple[int, int], float] = {}
        self.sent_at: list[float] = []
        self.last_call_at = 0.0  # the last call other than getUpdates

    async def _handle_api(self, request: Any) -> Any:
        polling = str(request.path).endswith("/getUpdates")
        if self.latency and not polling:
            await asyncio.sleep(self.latency)
        try:
            return await super()._handle_api(request)
        finally:
            if not polling:
                self.last_call_at = time.perf_counter()

    async def _m_answer_callback_query(self, params: dict[str, Any]) -> bool:
        try:
            return await super()._m_answer_callback_query(params)
        finally:
            self.answered_at[str(params["callback_query_id"])] = time.perf_counter()
            self.toasts[str(params["callback_query_id"])] = str(params.get("text") or "")

    async def _m_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return await super()._m_edit_message_text(params)
        finally:
            key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
            self.edited_at[key] = time.perf_counter()

    async def _m_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        result = await super()._m_send_message(params)
        self.sent_at.append(time.perf_counter())
        return result


# --- bursts of button presses --------------------------------------------------------------


@dataclass
class Press:
    user: FakeUser
    message: FakeMessage
    data: str
    edits: bool = True  # the press is done when its answer and the edit of its message arrived
    # What the real bot's toast must say (start with): a refused press fails the benchmark.
    expect: str | None = None
    exact: bool = False


# The update dialogue's callback verbs (pick, status, progress, save, the "in corso" status), as
# the checkout being measured spells them: --compare may run a checkout from before issue 15's
# readable verbs (bot/handlers/updates.py then still a module), or from before issue 16's round
# (an answer then ended with «💾 Salva»; since, a state saves at once: no save step).
STEP_VERBS = ("pick", "status", "progress", "save", "ongoing")
OLD_STEP_VERBS = ("a", "st", "pr", "sv", "o")
SAVES_AT_ONCE = ("pick", "status", "progress", "", "ongoing")


def step_verbs(repo: Path) -> tuple[str, ...]:
    if (repo / "bot" / "handlers" / "updates.py").is_file():
        return OLD_STEP_VERBS
    dialogue = repo / "bot" / "services" / "progress" / "dialogue.py"
    if dialogue.is_file() and '"same"' in dialogue.read_text(encoding="utf-8"):
        return SAVES_AT_ONCE
    return STEP_VERBS


def steps_per_answer(verbs: tuple[str, ...]) -> int:
    """Presses that make one answer (an action, its state, its percentage[, «Salva»])."""
    return 3 if not verbs[3] else 4


async def lingua_burst(
    fake: FakeTelegram, presses: int, users: int, database_url: str | None, steps: int = 0
) -> list[Press]:
    """`/lingua` menus pressed by `users` people in private: on the real bot each press is a
    write transaction with its update id recorded, a toast and an edit of the menu."""
    people = []
    for n in range(users):
        user = fake.add_user(f"Membro{n}", "Bench")
        user.has_started = True
        people.append(user)
    burst = []
    for i in range(presses):
        user = people[i % users]
        code = "it" if (i // users) % 2 else "en"
        markup = {
            "inline_keyboard": [
                [{"text": "🇮🇹 Italiano", "callback_data": "lang:set:it"}],
                [{"text": "🇬🇧 English", "callback_data": "lang:set:en"}],
            ]
        }
        msg = fake._new_message(
            user.private_chat, None, text="Scegli la lingua:", reply_markup=markup
        )
        burst.append(Press(user, msg, f"lang:set:{code}"))
    return burst


async def votes_burst(
    fake: FakeTelegram,
    presses: int,
    users: int,
    database_url: str | None,
    steps: int = 0,
    verbs: tuple[str, ...] = STEP_VERBS,
) -> list[Press]:
    """A 20-Comuni Union with `users` members (Sindaci, Assessori, technicians) in its linked
    group, 3 open polls of 4 dates each, `presses` votes spread over polls, dates and answers;
    mixed in at random moments, `steps` progress-update steps of the month's open round by the
    technicians in private (each technician in order: pick an action, its state, its
    percentage, save; 10 actions per Comune).

    On the real bot a vote is a vote transaction and a toast; the tally edits are coalesced (at
    most one pending edit per poll message), so a vote is done when it is answered. An update
    step is a transaction, a toast and an edit of the pressed message (a save also sends the
    next action's question): it is done when answered and edited. Each step is pressed on a
    message of its own, so its edit is told apart from the others'."""
    import random

    rng = random.Random(7)
    people = []
    for n in range(users):
        user = fake.add_user(f"Membro{n}", "Bench")
        user.has_started = True
        people.append(user)
    group = fake.create_group("Tavolo dell'Unione", people[0], members=people)
    group.bot_status = "member"
    seeded = Seeded(
        slot_ids=[[p * 4 + s + 1 for s in range(4)] for p in range(3)],
        actions={
            u.id: [1000 * n + a for a in range(ACTIONS_PER_COMUNE)]
            for n, u in enumerate(people)
            if n % 3 == 2
        },
    )
    if database_url is not None:
        seeded = await _seed_union(database_url, people, group.id)
    messages = []
    for poll_slots in seeded.slot_ids:
        keyboard = [
            [
                {"text": "✅", "callback_data": f"vote:y:{sid}"},
                {"text": "❔", "callback_data": f"vote:m:{sid}"},
                {"text": "❌", "callback_data": f"vote:n:{sid}"},
            ]
            for sid in poll_slots
        ]
        messages.append(
            fake._new_message(
                group, None, text="🗓 Riunione", reply_markup={"inline_keyboard": keyboard}
            )
        )
    if database_url is not None:
        await _seed_poll_messages(database_url, group.id, [m.message_id for m in messages])
    keyed: list[tuple[float, Press]] = []
    for _n in range(presses):
        poll = rng.randrange(3)
        data = f"vote:{rng.choice('ymn')}:{rng.choice(seeded.slot_ids[poll])}"
        press = Press(rng.choice(people), messages[poll], data, edits=False, expect="Registrato")
        keyed.append((rng.random(), press))
    keyed.extend(_update_steps(fake, people, seeded.actions, steps, rng, verbs))
    keyed.sort(key=lambda kp: kp[0])
    return [press for _key, press in keyed]


ACTIONS_PER_COMUNE = 10


@dataclass
class Seeded:
    slot_ids: list[list[int]]
    actions: dict[int, list[int]]  # Telegram user id of each technician → their actions' ids


def _update_steps(
    fake: FakeTelegram,
    people: list[FakeUser],
    actions: dict[int, list[int]],
    steps: int,
    rng: Any,
    verbs: tuple[str, ...] = STEP_VERBS,
) -> list[tuple[float, Press]]:
    """`steps` update-flow presses, shared among the technicians, each one's in order (their
    keys ascending), at random moments of the burst."""
    technicians = [u for u in people if u.id in actions]
    if steps and not technicians:
        raise ValueError("no technicians to press update steps")
    per_person: dict[int, list[Press]] = {u.id: [] for u in technicians}
    saves_at_once = not verbs[3]
    for i in range(steps):
        user = technicians[i % len(technicians)]
        mine = per_person[user.id]
        update_no, step = divmod(len(mine), steps_per_answer(verbs))
        action = actions[user.id][update_no % len(actions[user.id])]
        percent = rng.choice((25, 50, 75))
        if saves_at_once:  # issue 16: the state saves, the percentage completes the same row
            data, expect, exact = (
                (f"upd:{verbs[0]}:{action}", "", True),
                (f"upd:{verbs[1]}:{action}:{verbs[4]}", "Salvato", True),
                (f"upd:{verbs[2]}:{action}:{percent}", f"{percent}%", True),
            )[step]
        else:
            data, expect, exact = (
                (f"upd:{verbs[0]}:{action}", "", True),
                (f"upd:{verbs[1]}:{action}:{verbs[4]}", "In corso", True),
                (f"upd:{verbs[2]}:{action}:{percent}", f"{percent}%", True),
                (f"upd:{verbs[3]}:{action}", "Salvato", True),
            )[step]
        markup = {"inline_keyboard": [[{"text": "▶️", "callback_data": data}]]}
        msg = fake._new_message(
            user.private_chat, None, text="📝 Aggiornamento", reply_markup=markup
        )
        mine.append(Press(user, msg, data, edits=True, expect=expect, exact=exact))
    keyed: list[tuple[float, Press]] = []
    for mine in per_person.values():
        keys = sorted(rng.random() for _ in mine)
        keyed.extend(zip(keys, mine, strict=True))
    return keyed


async def _seed_union(database_url: str, people: list[FakeUser], group_id: int) -> Seeded:
    """The Union, its 3 polls, 10 actions per Comune and this month's round, open for 9 more
    days, whose invitations were all sent (so the tick has nothing to send during the burst)."""
    from datetime import timedelta

    from bot.services.progress import invite_key
    from storage import migrate
    from storage.db import Database
    from storage.models import (
        Action,
        ActionStatus,
        LinkedChat,
        MeetingPoll,
        MeetingSettings,
        Member,
        MemberMunicipality,
        MemberStatus,
        Municipality,
        OutboxMessage,
        OutboxStatus,
        Person,
        PollStatus,
        PollTable,
        Role,
        RoundStatus,
        Slot,
        TableKind,
        Union,
        UpdateRound,
        UpdateSettings,
    )

    db = Database(database_url)
    now = datetime.now(UTC)
    try:
        await migrate.upgrade(db)
        async with db.transaction() as session:
            union = Union(name="Unione Bench", timezone="Europe/Rome", created_at=now)
            session.add(union)
            await session.flush()
            # Nothing scheduled competes with the burst: no automatic poll, no round.
            session.add(MeetingSettings(union_id=union.id, auto_poll_enabled=False))
            session.add(UpdateSettings(union_id=union.id, enabled=False))
            comuni = []
            for n in range(20):
                comune = Municipality(
                    union_id=union.id, name=f"Comune {n}", name_key=f"comune {n}", created_at=now
                )
                session.add(comune)
                comuni.append(comune)
            await session.flush()
            roles = (Role.SINDACO, Role.ASSESSORE, Role.TECNICO)
            round_ = UpdateRound(
                union_id=union.id,
                period=f"{now.year:04d}-{now.month:02d}",
                opened_at=now - timedelta(days=1),
                deadline_at=now + timedelta(days=9),
                status=RoundStatus.OPEN,
            )
            session.add(round_)
            actions: dict[int, list[int]] = {}
            for n, user in enumerate(people):
                person = Person(
                    telegram_user_id=user.id,
                    display_name=user.full_name,
                    reachable=True,
                    created_at=now,
                )
                session.add(person)
                await session.flush()
                member = Member(
                    union_id=union.id,
                    person_id=person.id,
                    role=roles[n % 3],
                    status=MemberStatus.ACTIVE,
                    is_coordinator=n == 0,
                    requested_at=now,
                    decided_at=now,
                )
                session.add(member)
                await session.flush()
                session.add(
                    MemberMunicipality(member_id=member.id, municipality_id=comuni[n % 20].id)
                )
                if member.role != Role.TECNICO:
                    continue
                mine = [
                    Action(
                        union_id=union.id,
                        municipality_id=comuni[n % 20].id,
                        code=f"C{n % 20}.{a + 1}",
                        title=f"Riqualificazione energetica {a + 1} del Comune {n % 20}",
                        status=ActionStatus.ONGOING,
                        progress=10,
                        created_at=now,
                        updated_at=now,
                    )
                    for a in range(ACTIONS_PER_COMUNE)
                ]
                session.add_all(mine)
                session.add(
                    OutboxMessage(
                        dedup_key=invite_key(round_.id, member.id),
                        union_id=union.id,
                        person_id=person.id,
                        chat_id=user.id,
                        method="sendMessage",
                        payload={"text": "📝 Aggiornamento"},
                        status=OutboxStatus.SENT,
                        attempts=1,
                        created_at=now,
                        sent_at=now,
                    )
                )
                await session.flush()
                actions[user.id] = [a.id for a in mine]
            session.add(
                LinkedChat(
                    union_id=union.id,
                    table_kind=TableKind.POLITICAL,
                    chat_id=group_id,
                    title="Tavolo dell'Unione",
                    linked_at=now,
                )
            )
            slot_ids = []
            for p in range(3):
                poll = MeetingPoll(
                    union_id=union.id,
                    table=PollTable.BOTH,
                    title=f"Riunione {p + 1}",
                    status=PollStatus.OPEN,
                    deadline_at=now + timedelta(days=10),
                    created_at=now,
                )
                session.add(poll)
                await session.flush()
                ids = []
                for s in range(4):
                    start = now + timedelta(days=12 + s, hours=p)
                    slot = Slot(
                        poll_id=poll.id, starts_at=start, ends_at=start + timedelta(hours=2)
                    )
                    session.add(slot)
                    await session.flush()
                    ids.append(slot.id)
                slot_ids.append(ids)
        return Seeded(slot_ids=slot_ids, actions=actions)
    finally:
        await db.dispose()


async def _seed_poll_messages(database_url: str, group_id: int, message_ids: list[int]) -> None:
    from sqlalchemy import select

    from storage.db import Database
    from storage.models import MeetingPoll, PollMessage

    db = Database(database_url)
    try:
        async with db.transaction() as session:
            polls = (await session.execute(select(MeetingPoll).order_by(MeetingPoll.id))).scalars()
            for poll, message_id in zip(list(polls), message_ids, strict=True):
                session.add(PollMessage(poll_id=poll.id, chat_id=group_id, message_id=message_id))
    finally:
        await db.dispose()


async def _count_progress_updates(database_url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import ProgressUpdate

    db = Database(database_url)
    try:
        async with db.transaction() as session:
            return int((await session.execute(select(func.count(ProgressUpdate.id)))).scalar_one())
    finally:
        await db.dispose()


# The bursts the real bot is measured on ("votes" takes --steps progress-update steps too).
BURSTS: dict[str, Callable[[FakeTelegram, int, int, str | None, int], Awaitable[list[Press]]]] = {
    "lingua": lingua_burst,
    "votes": votes_burst,
}


@dataclass
class SideResult:
    name: str
    presses: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float
    peak_rss_kb: int
    start_rss_kb: int = 0  # VmRSS when polling, before the burst
    server_cpu_seconds: float = 0.0  # PostgreSQL's processes, on the same cores
    # The Bot API calls the burst caused, by method and chat (the edits owed at its end
    # included): what a fair baseline must make too.
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.presses / self.seconds

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))]


def _proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def _proc_peak_rss_kb(pid: int) -> int:
    return _proc_status_kb(pid, "VmHWM:")


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def postgres_cpu_seconds() -> float:
    """CPU of every running PostgreSQL process (the server, its backends): what the database
    costs on the cores the bots and the fake share."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += _proc_cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # gone meanwhile
    return total


def _env(fake: FakeTelegram, database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "DATABASE_URL": database_url,
        "HEALTH_FILE": str(workdir / "health.json"),
        "LOG_LEVEL": "WARNING",
        "PTB_TIMEDELTA": "1",
        "PYTHONPATH": str(REPO),
        **extra,
    }


async def _stamp_as(database_url: str, repo: Path) -> None:
    """--compare with a checkout from before some of our migrations: the burst's data was seeded
    with this checkout's schema, a superset of the older one's (later migrations add tables and
    nullable columns), so the older bot is told the database is at its own head instead of failing
    on a revision it does not know."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    head = ScriptDirectory(str(repo / "storage" / "migrations")).get_current_head()
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head}
            )
    finally:
        await engine.dispose()


def _open_log(path: Path) -> Any:
    return path.open("ab")


async def _spawn(module: str, env: dict[str, str], workdir: Path) -> asyncio.subprocess.Process:
    log = _open_log(Path(os.environ.get("BENCH_LOG_DIR", str(workdir))) / f"{module}.log")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, cwd=workdir, env=env, stdout=log, stderr=log
        )
    finally:
        log.close()


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


# After the burst: the last coalesced edits of a group may come a group interval later
# (bot/services/edit_pacing.py: 1 s to coalesce, then 4 s between edits of a group).
SETTLE_QUIET_S = 6.0


async def _settle(fake: TimedFake, *, longest: float = 30.0) -> None:
    """Wait until the bot has made no call but getUpdates for SETTLE_QUIET_S."""
    deadline = time.perf_counter() + longest
    while time.perf_counter() < deadline:
        if time.perf_counter() - fake.last_call_at >= SETTLE_QUIET_S:
            return
        await asyncio.sleep(0.1)


def calls_by_kind(calls: list[Any]) -> dict[str, int]:
    """Bot API calls by method, edits and sends also by chat kind and keyboard."""
    counts: dict[str, int] = {}
    for call in calls:
        if call.method == "getUpdates":
            continue
        label = call.method
        if call.method in ("editMessageText", "sendMessage"):
            chat = "group" if int(call.params.get("chat_id") or 0) < 0 else "private"
            keyboard = "keyboard" if call.params.get("reply_markup") else "text"
            label = f"{call.method} ({chat}, {keyboard})"
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


async def _start_py_spy(pid: int, module: str, workdir: Path) -> asyncio.subprocess.Process | None:
    """BENCH_PY_SPY=DIR: sample the real bot and the fair baseline during the burst with py-spy
    (installed apart, a measuring tool, not a dependency), collapsed stacks of all threads in
    DIR, a file per run and side (`<run>-<side>-<module>.txt`)."""
    target = os.environ.get("BENCH_PY_SPY")
    if not target or module not in ("bench.real_bot", "bench.fair_bot"):
        return None
    out = Path(target) / f"{workdir.name}-{module}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        *(
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--threads",
            "--rate",
            os.environ.get("BENCH_PY_SPY_RATE", "250"),
        ),
        *("--nonblocking", "--output", str(out)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(0.5)  # attached
    return spy


async def run_side(
    name: str,
    module: str,
    burst: str,
    *,
    presses: int,
    users: int,
    database_url: str | None,
    workdir: Path,
    concurrency: int = 1,
    latency: float = 0.0,
    steps: int = 0,
    repo: Path = REPO,
) -> SideResult:
    fake = TimedFake(latency)
    await fake.start()
    try:
        plan = await (
            votes_burst(fake, presses, users, database_url, steps, step_verbs(repo))
            if burst == "votes"
            else BURSTS[burst](fake, presses, users, database_url, steps)
        )
        if database_url is not None and repo != REPO:
            await _stamp_as(database_url, repo)
        env = _env(
            fake,
            database_url or "sqlite:///unused.db",
            workdir,
            TICK_SECONDS="30",
            CONCURRENT_UPDATES=str(concurrency),
            PYTHONPATH=str(repo),  # --compare: another checkout's bot
            # The fair baseline's update queue and getUpdates batch: the real bot's own.
            BENCH_QUEUE_SIZE=str(UPDATE_QUEUE_SIZE),
            BENCH_UPDATES_PER_POLL=str(UPDATES_PER_POLL),
        )
        proc = await _spawn(module, env, workdir)
        try:
            # Ready: polling, and (real bot) the menus set at start are done.
            await _wait(lambda: fake._poll_generation >= 2, 60, f"{name} to poll")
            await asyncio.sleep(0.5)
            start_rss = _proc_status_kb(proc.pid, "VmRSS:")
            spy = await _start_py_spy(proc.pid, module, workdir)
            cpu_before = _proc_cpu_seconds(proc.pid)
            on_postgres = database_url is not None and database_url.startswith("postgresql")
            server_before = postgres_cpu_seconds() if on_postgres else 0.0
            injected: dict[str, float] = {}
            expected: dict[str, Press] = {}
            calls_before = len(fake.calls)
            first = time.perf_counter()
            for press in plan:
                fake_press = await press.user.press(press.message, press.data)
                injected[fake_press.id] = time.perf_counter()
                press.data = fake_press.id  # remember the callback query id
                expected[fake_press.id] = press

            edited = {(p.message.chat.id, p.message.message_id) for p in plan if p.edits}

            def done() -> bool:
                # Every press answered, and every message a press waits on edited (the coalesced
                # tally edits of the poll messages do not count for it).
                return len(fake.answered_at) >= len(plan) and edited <= fake.edited_at.keys()

            await _wait(done, 300, f"{name} to answer {len(plan)} presses")
            latencies = []
            for press in plan:
                finished = fake.answered_at[press.data]
                if press.edits:
                    key = (press.message.chat.id, press.message.message_id)
                    finished = max(finished, fake.edited_at[key])
                latencies.append(finished - injected[press.data])
            last = max(fake.answered_at.values())
            if any(p.edits for p in plan):
                last = max(last, max(fake.edited_at.values(), default=0.0))
            cpu = _proc_cpu_seconds(proc.pid) - cpu_before
            server_cpu = postgres_cpu_seconds() - server_before if on_postgres else 0.0
            rss = _proc_peak_rss_kb(proc.pid)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                await spy.wait()
            await _settle(fake)
            calls = calls_by_kind(fake.calls[calls_before:])
        finally:
            await _stop(proc)
        if module == "bench.real_bot":
            refused = [
                f"{p.user.full_name}: {fake.toasts[qid]!r}"
                for qid, p in expected.items()
                if p.expect is not None
                and not (
                    fake.toasts[qid] == p.expect
                    if p.exact
                    else fake.toasts[qid].startswith(p.expect)
                )
            ]
            if refused:
                raise RuntimeError(f"{name}: {len(refused)} presses refused, e.g. {refused[0]}")
            saves = sum(1 for p in expected.values() if p.expect == "Salvato")
            if saves and database_url is not None:
                stored = await _count_progress_updates(database_url)
                if stored != saves:
                    raise RuntimeError(f"{name}: {saves} updates saved, {stored} in the database")
        failed = [c for c in fake.calls if not c.ok and c.method != "getUpdates"]
        if failed:
            raise RuntimeError(f"{name}: {len(failed)} failed calls, e.g. {failed[0]}")
        return SideResult(
            name, len(plan), last - first, latencies, cpu, rss, start_rss, server_cpu, calls
        )
    finally:
        await fake.stop()


# --- outbox bulk send -----------------------------------------------------------------------


@dataclass
class BulkResult:
    messages: int
    seconds: float
    count_429: int
    attempts: int

    @property
    def rate(self) -> float:
        return (self.messages - 1) / self.seconds if self.seconds else 0.0


async def run_bulk(n: int, database_url: str, workdir: Path) -> BulkResult:
    from storage import migrate
    from storage.db import Database
    from storage.models import OutboxMessage
    from tests.reliability.world import enqueue_texts, seed_union

    fake = TimedFake()
    fake.enforce_rate_limits = True  # 30/s overall, per chat and per group, 429 beyond
    await fake.start()
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        world = await seed_union(db, fake, datetime.now(UTC), members=n)
        await enqueue_texts(db, world, datetime.now(UTC), key="bulk", text="Giro mensile")
        # Production settings: AIORateLimiter on (python -m bot), a 1 s tick.
        proc = await _spawn("bot", _env(fake, database_url, workdir, TICK_SECONDS="1"), workdir)
        try:
            await _wait(lambda: len(fake.sent_at) >= n, 600, f"{n} outbox sends")
        finally:
            await _stop(proc)
        from sqlalchemy import func, select

        async with db.transaction() as session:
            attempts = int(
                (await session.execute(select(func.sum(OutboxMessage.attempts)))).scalar_one()
            )
        return BulkResult(n, fake.sent_at[-1] - fake.sent_at[0], fake.count_429, attempts)
    finally:
        await db.dispose()
        await fake.stop()


# --- databases ------------------------------------------------------------------------------


@dataclass
class Databases:
    postgres: Any = None
    counter: int = 0
    urls: list[str] = field(default_factory=list)

    async def url(self, backend: str, workdir: Path) -> str:
        from bot.config import normalize_database_url

        self.counter += 1
        if backend == "sqlite":
            return normalize_database_url(f"sqlite:///{workdir / f'bench{self.counter}.db'}")

        from tests import pg_server

        if self.postgres is None:
            reason = pg_server.unavailable_reason()
            if reason:
                raise SystemExit(f"PostgreSQL not available: {reason}")
            self.postgres = pg_server.start()
        return await pg_server.create_database(self.postgres.admin_url, "bench")

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()


# --- report ---------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _row(label: str, results: list[SideResult]) -> tuple[str, float, float, float, float, float]:
    return (
        label,
        _median([r.throughput for r in results]),
        _median([r.pct(0.5) for r in results]) * 1000,
        _median([r.pct(0.99) for r in results]) * 1000,
        _median([r.cpu_seconds / r.presses for r in results]) * 1000,
        _median([r.peak_rss_kb for r in results]) / 1024,
    )


def _print_table(rows: list[tuple[str, float, float, float, float, float]]) -> None:
    print(
        f"| {'bot':<44} | {'presses/s':>9} | {'p50 ms':>7} | {'p99 ms':>7} "
        f"| {'CPU ms/press':>12} | {'peak RSS MB':>11} |"
    )
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 14}|{'-' * 13}|")
    for label, tput, p50, p99, cpu, rss in rows:
        print(
            f"| {label:<44} | {tput:>9.0f} | {p50:>7.0f} | {p99:>7.0f} | {cpu:>12.2f} "
            f"| {rss:>11.1f} |"
        )


MINIMAL = "minimal"
FAIR = "fair"
BASELINE_TITLES = {
    MINIMAL: "minimal PTB (answer + edit every press)",
    FAIR: "fair baseline (the real bot's calls)",
}


def _median_calls(results: list[SideResult]) -> dict[str, float]:
    kinds = sorted({kind for r in results for kind in r.calls})
    return {kind: _median([r.calls.get(kind, 0) for r in results]) for kind in kinds}


def _report(
    burst: str, results: dict[str, list[SideResult]], baselines: dict[str, str], labels: list[str]
) -> None:
    rows = [_row(BASELINE_TITLES[b], results[b]) for b in baselines]
    rows += [_row(_title(burst, label), results[label]) for label in labels]
    print()
    _print_table(rows)
    print()
    print("Bot API calls during the burst (medians; edits owed at its end included):")
    for title, label in [*((BASELINE_TITLES[b], b) for b in baselines), *((x, x) for x in labels)]:
        calls = _median_calls(results[label])
        print(
            f"  {title}: {sum(calls.values()):.0f} — "
            + ", ".join(f"{kind} {count:.0f}" for kind, count in calls.items())
        )
    by_title = dict(zip([*baselines, *labels], rows, strict=True))
    for label in labels:
        row = by_title[label]
        print()
        for baseline in baselines:
            base = by_title[baseline]
            # The same ratio run by run (both sides minutes apart): less swayed by one slow
            # side in a disturbed run than the ratio of the two medians.
            per_run = sorted(
                r.throughput / m.throughput
                for r, m in zip(results[label], results[baseline], strict=True)
            )
            print(
                f"{row[0]} against the {baseline} baseline: throughput {row[1] / base[1]:.2f} "
                f"(run by run {_median(per_run):.2f}, {per_run[0]:.2f}–{per_run[-1]:.2f}; "
                f"target ≥ 0.7 of the fair one), peak RSS {row[5] / base[5]:.2f}× "
                f"(target ≤ 1.5×), CPU per press {row[4] / base[4]:.2f}×"
            )
        server = [r.server_cpu_seconds / r.presses * 1000 for r in results[label]]
        if any(server):
            print(f"  PostgreSQL's own CPU {_median(server):.2f} ms/press (median)")
        if FAIR in baselines:
            print(
                "  " + _calls_compared(_median_calls(results[label]), _median_calls(results[FAIR]))
            )


# Coalesced edits: how many depends on how long the burst lasts (one per message every 4 s in a
# group), so a faster side makes fewer of them.
_PACED = "editMessageText (group, keyboard)"


def _calls_compared(real: dict[str, float], fair: dict[str, float]) -> str:
    """Whether the fair baseline made the real bot's calls (the paced tally edits apart)."""
    differ = [
        f"{kind} {real.get(kind, 0):.0f} against {fair.get(kind, 0):.0f}"
        for kind in sorted(real.keys() | fair.keys())
        if kind != _PACED and real.get(kind, 0) != fair.get(kind, 0)
    ]
    paced = f"coalesced tally edits {real.get(_PACED, 0):.0f} against {fair.get(_PACED, 0):.0f}"
    if differ:
        return "calls DIFFER from the fair baseline's: " + "; ".join(differ) + f" ({paced})"
    return f"calls: the same as the fair baseline's ({paced})"


FLOOR = "stack floor"


def _title(burst: str, label: str) -> str:
    if label.startswith(FLOOR):
        return f"{label}: fair + the vote's transaction"
    return f"real bot, /{burst} ({label})"


def _side_label(backend: str, concurrency: int) -> str:
    """The real bot's side: named by its database alone when it runs as `python -m bot` does."""
    if concurrency == Settings.concurrent_updates:
        return backend
    return f"{backend}, {concurrency} at once"


async def main_async(args: argparse.Namespace) -> None:
    runs = 1 if args.quick else args.runs
    bulk_n = args.bulk or (120 if args.quick else 600)
    backends = ["sqlite", "postgres"] if args.postgres else ["sqlite"]
    workroot = Path(tempfile.mkdtemp(prefix="bench-"))
    dbs = Databases()
    try:
        print(
            f"# {machine()}, "
            f"{runs} run(s), burst {args.burst}: {args.presses} presses"
            f"{f' + {args.steps} update steps' if args.burst == 'votes' and args.steps else ''}"
            f" by {args.users} people, "
            f"{args.latency:.0f} ms added to each Bot API answer"
        )
        levels = [int(c) for c in args.concurrent_updates.split(",")]
        labels = [_side_label(backend, level) for backend in backends for level in levels]
        compare = Path(args.compare) if args.compare else REPO  # made absolute in main()
        compare_name = compare.name
        if args.compare:
            labels = [x for label in labels for x in (label, f"{label}, {compare_name}")]
        if args.floor:
            labels = [f"{FLOOR}, {backend}" for backend in backends] + labels
        # The two baselines: PTB's bare ceiling (answer + edit every press), and a bare bot that
        # makes the real bot's calls with its update queue and people at once (bench/fair_bot.py).
        fair_level = (
            Settings.concurrent_updates if Settings.concurrent_updates in levels else levels[0]
        )
        baselines = {MINIMAL: "bench.minimal_bot", FAIR: "bench.fair_bot"}
        results: dict[str, list[SideResult]] = {label: [] for label in [*baselines, *labels]}
        for run in range(0 if args.skip_burst else runs):
            sides: list[tuple[str, str, str | None, int, Path]] = [
                (MINIMAL, baselines[MINIMAL], None, 1, REPO),
                (FAIR, baselines[FAIR], None, fair_level, REPO),
            ]
            if args.floor:  # the fair bot plus the real vote's transaction (bench/floor_bot.py)
                for backend in backends:
                    floor_url = await dbs.url(backend, workroot)
                    side = (f"{FLOOR}, {backend}", "bench.floor_bot", floor_url, fair_level, REPO)
                    sides.append(side)
            for backend in backends:
                for level in levels:
                    label = _side_label(backend, level)
                    db_url = await dbs.url(backend, workroot)
                    sides.append((label, "bench.real_bot", db_url, level, REPO))
                    if args.compare:
                        db_url = await dbs.url(backend, workroot)
                        side = (
                            f"{label}, {compare_name}",
                            "bench.real_bot",
                            db_url,
                            level,
                            compare,
                        )
                        sides.append(side)
            if run % 2:
                sides.reverse()  # alternate the order: neither side always runs first
            for label, module, url, level, repo in sides:
                workdir = workroot / f"run{run}-{label.replace(' ', '_').replace(',', '')}"
                workdir.mkdir()
                result = await run_side(
                    label,
                    module,
                    args.burst,
                    presses=args.presses,
                    users=args.users,
                    database_url=url,
                    workdir=workdir,
                    concurrency=level,
                    latency=args.latency / 1000,
                    steps=args.steps if args.burst == "votes" else 0,
                    repo=repo,
                )
                results[label].append(result)
                print(
                    f"  run {run + 1} {label:<20} {result.throughput:7.0f} presses/s "
                    f"p50 {result.pct(0.5) * 1000:6.0f} ms p99 {result.pct(0.99) * 1000:6.0f} ms "
                    f"RSS {result.start_rss_kb / 1024:5.1f} → {result.peak_rss_kb / 1024:5.1f} MB"
                    + (
                        f", PostgreSQL {result.server_cpu_seconds / result.presses * 1000:.2f} "
                        "CPU ms/press"
                        if result.server_cpu_seconds
                        else ""
                    ),
                    flush=True,
                )
        if not args.skip_burst and runs:
            _report(args.burst, results, baselines, labels)
        if not args.skip_bulk:
            print()
            print(
                f"# outbox bulk send: {bulk_n} private messages, AIORateLimiter on, fake enforcing"
            )
            for backend in backends:
                workdir = workroot / f"bulk-{backend}"
                workdir.mkdir()
                bulk = await run_bulk(bulk_n, await dbs.url(backend, workdir), workdir)
                print(
                    f"| outbox bulk ({backend}) | {bulk.rate:.1f} msg/s of 30/s "
                    f"| {bulk.count_429} × 429 | {bulk.attempts} attempts for {bulk.messages} "
                    f"| {bulk.seconds:.1f} s |"
                )
    finally:
        dbs.close()
        shutil.rmtree(workroot, ignore_errors=True)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def machine() -> str:
    """The machine a benchmark ran on, for the first line of its report."""
    return f"{os.cpu_count()} CPUs ({_cpu_model()}), Python {sys.version.split()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Team Energia benchmarks (see bench/README.md)")
    parser.add_argument("--quick", action="store_true", help="one run, smaller bulk send")
    parser.add_argument("--runs", type=int, default=5, help="runs per side (median reported)")
    parser.add_argument("--presses", type=int, default=1000)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument(
        "--steps",
        type=int,
        default=200,
        help="progress-update steps mixed into the votes burst (0: votes only)",
    )
    parser.add_argument("--burst", choices=sorted(BURSTS), default="votes")
    parser.add_argument("--bulk", type=int, default=0, help="messages in the outbox bulk send")
    parser.add_argument("--skip-bulk", action="store_true", help="only the button burst")
    parser.add_argument("--skip-burst", action="store_true", help="only the outbox bulk send")
    parser.add_argument(
        "--postgres", action="store_true", help="also run the real bot on PostgreSQL"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="milliseconds the fake waits before each answer (real Telegram: 30-200)",
    )
    parser.add_argument(
        "--compare",
        default="",
        help="another checkout (e.g. a worktree of main): its bot runs as an extra side, same runs",
    )
    parser.add_argument(
        "--concurrent-updates",
        default=str(Settings.concurrent_updates),
        help="CONCURRENT_UPDATES of the real bot, comma-separated for several sides (e.g. 1,4);"
        f" default: the bot's own ({Settings.concurrent_updates})",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run the stack's floor: the fair bot plus the real vote's transaction "
        "(bench/floor_bot.py), on each database; votes only (--steps 0)",
    )
    args = parser.parse_args()
    if args.floor and (args.burst != "votes" or args.steps):
        parser.error("--floor measures votes only: --burst votes --steps 0")
    if args.compare:
        args.compare = str(Path(args.compare).resolve())
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
