"""Abuse and bad input against the real bot: forged, replayed and garbage callback data; odd
/start payloads; hostile text through every text input; files that are empty, huge,
mislabelled or bombs. Each: no crash (no error logged), a clear answer, nothing half-saved."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import String, select

from bot.services.registration import rules as reg_rules
from storage.models import Action, Announcement, Base, Invite, Municipality
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeUser
from tests.security.matrix import BUTTONS
from tests.security.shared import fill
from tests.security.world import World, build_world, diff, snapshot

HOSTILE = {
    "markup": "<b>Sala</b> & <script>alert(1)</script> &amp; </i>",
    "emoji": "🏛️ Comune 👩🏽‍🔧 ⚡️🌱",
    "rtl": "\u202eمرحبا بالعالم — עברית\u202c",
    "long": "Lunghissimo " + "x" * 5000,
    "control": "nome\x00con\x07controlli\u200b",
}


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    caplog.set_level(logging.WARNING)
    records: list[logging.LogRecord] = []
    yield records
    records.extend(
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")
    )
    assert not records, "\n".join(f"{r.name}: {r.getMessage()}" for r in records)


async def _overflows(bot: BotUnderTest) -> list[str]:
    """Values longer than their column allows, or holding NUL: fine on SQLite, an error on
    PostgreSQL."""
    found = []
    async with bot.db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                length = getattr(column.type, "length", None)
                if not isinstance(column.type, String) or not length:
                    continue
                for (value,) in (await s.execute(select(column))).all():
                    if isinstance(value, str) and len(value) > length:
                        found.append(f"{table.name}.{column.name}: {len(value)} characters")
            for column in table.columns:
                if isinstance(column.type, String):
                    for (value,) in (await s.execute(select(column))).all():
                        if isinstance(value, str) and "\x00" in value:
                            found.append(f"{table.name}.{column.name}: a NUL character")
    return found


# --- callback data -------------------------------------------------------------------------


def _garbled(data: str) -> list[str]:
    """Bad variants of one callback data: ids that are not numbers, not there, too long."""
    parts = data.split(":")
    out = [":".join(parts[:1]), parts[0] + ":", data + ":" + "9" * 70, data + ":é", data + "'--"]
    for i, part in enumerate(parts):
        if part.isdigit():
            for bad in ("abc", "0", "999999999", "-1", "1e9", "9" * 13):
                if bad == "0" and i > 2:
                    continue  # past the first id, 0 is often a real choice (Monday, any Comune)
                out.append(":".join([*parts[:i], bad, *parts[i + 1 :]]))
    return out


async def test_garbage_callback_data_for_every_area(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    world = await build_world(bot)
    fake = bot.fake
    before = await snapshot(bot)
    presses = []
    for template in BUTTONS:
        for data in _garbled(fill(template, world)):
            for chat in ("private", "political"):
                press = await world.users["coord"].press_forged(
                    world.anchors[("coord", chat)], data
                )
                presses.append((data, chat, press))
        await fake.settle(quiet=0.01)
    for data, chat, press in presses:
        assert press.answer is not None, f"{data!r} in {chat} was never answered"
    after = await snapshot(bot)
    changed = [name for name in before if before[name] != after[name]]
    # A press that names nothing real changes nothing. Excepted: an open dialogue (pressing a
    # menu of one's own may start one) and the Union's settings rows, created with their
    # defaults the first time the settings are read.
    assert set(changed) <= {"conversation", "meeting_settings", "update_settings"}, changed


async def test_a_legitimate_press_replayed_by_someone_else(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    """Every button the coordinator was given, pressed again by an outsider, by the other
    Union's coordinator and by a Sindaco: nothing changes that they may not change, and the
    outsiders learn nothing."""
    world = await build_world(bot)
    fake, coord = bot.fake, world.users["coord"]
    for command in ("/team", "/comuni", "/invito", "/impostazioni", "/documenti", "/azioni"):
        await coord.send(command)
    await coord.send("/calendario", chat=world.chats["political"])
    await bot.settle()
    given = {
        data
        for chat in (coord.private_chat, world.chats["political"])
        for m in fake.sent_to(chat)
        for row in m.buttons
        for _text, data in row
        if data and not data.startswith("http")
    }
    assert len(given) > 20
    for caller in ("outsider", "other_coord", "sindaco"):
        before = await snapshot(bot)
        user = world.users[caller]
        seen = len(fake.sent_to(user))
        for data in sorted(given):
            press = await user.press_forged(world.anchors[(caller, "private")], data)
            await fake.settle(quiet=0.01)
            assert press.answer is not None, data
            if caller != "sindaco":
                assert "Val" not in (press.answer.text or ""), (data, press.answer.text)
        after = await snapshot(bot)
        # A Sindaco at the poll's table may ask for their own copy of it (/calendario's
        # «👤 Le mie risposte»): it is recorded where it was sent. Nobody else changes anything.
        allowed = {"conversation"} | ({"poll_message"} if caller == "sindaco" else set())
        assert {n for n in before if before[n] != after[n]} <= allowed, caller
        if caller != "sindaco":
            for m in fake.sent_to(user)[seen:]:
                assert "Val d" not in (m.text or ""), (caller, m.text)
                assert "Rinaldini" not in (m.text or ""), (caller, m.text)
            assert "Val d" not in (world.anchors[(caller, "private")].text or "")


# --- /start payloads -----------------------------------------------------------------------

PAYLOADS = [
    "A" * 65,
    "A" * 64,
    "A" * 31,
    "invito-àèìòù",
    "🙂🙂🙂",
    "abc def",
    "' OR '1'='1",
    "1; DROP TABLE person;--",
    "%00%27",
    "\u202eevil",
    "A" * 32,  # the right shape, but no such invite
    # Not the shape of a poll link (mg-<id>, pv-<id>): registration's answer, no lookup.
    "mg-0",
    "mg-01",
    "mg-1234567890123",
    "pv-",
    "MG-12",
    "mg-12-13",
    # Nor of a progress link (upd-<union>, hist-<action>).
    "upd-0",
    "hist-01",
    "upd-1234567890",
    "UPD-1",
    "hist-",
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
async def test_start_payloads(
    bot: BotUnderTest, errors: list[logging.LogRecord], payload: str
) -> None:
    world = await build_world(bot)
    before = await snapshot(bot)
    stranger = bot.fake.add_user("Sconosciuto")
    await stranger.send(f"/start {payload}")
    await bot.settle()
    text = bot.fake.last_sent(stranger).text or ""
    assert "link d'invito" in text, text
    after = await snapshot(bot)
    # At most the stranger is remembered as a person (reachable); nothing else moves.
    assert {n for n in before if before[n] != after[n]} <= {"person"}
    assert world.a.union_id  # the world was there to be found, and was not


async def _strangers_learn_nothing(
    bot: BotUnderTest, world: World, payloads: tuple[str, ...]
) -> None:
    """An outsider and the other Union's coordinator typing `/start <payload>` (links to Union
    A's things): one answer each, nothing of A in it, no button, nothing changed."""
    fake = bot.fake
    for caller in ("outsider", "other_coord"):
        user = world.users[caller]
        for payload in payloads:
            before, seen = await snapshot(bot), len(fake.sent_to(user))
            await user.send(f"/start {payload}")
            await bot.settle()
            answers = fake.sent_to(user)[seen:]
            assert len(answers) == 1, (caller, payload)
            assert "Val d" not in (answers[0].text or "") and not answers[0].buttons
            assert diff(before, await snapshot(bot)) == "", (caller, payload)


async def test_poll_links_are_checked_like_the_buttons(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    """`/start mg-<poll>` (the panel) and `/start pv-<poll>` (one's own answers) of Union A's
    poll, typed by anyone: an outsider and the other Union's coordinator learn nothing of A and
    change nothing; a Sindaco of A gets their own answers but not the panel; a poll that does
    not exist is said so."""
    world = await build_world(bot)
    fake, poll = bot.fake, world.a.poll_id
    await _strangers_learn_nothing(bot, world, (f"mg-{poll}", f"pv-{poll}"))
    sindaco = world.users["sindaco"]
    await sindaco.send(f"/start mg-{poll}")
    await bot.settle()
    assert (fake.last_sent(sindaco).text or "").startswith(
        "Solo chi coordina l'Unione o chi ha proposto il sondaggio può gestirlo"
    )
    await sindaco.send(f"/start pv-{poll}")
    await bot.settle()
    copy = fake.last_sent(sindaco)
    assert (copy.text or "").startswith("👤 Le tue risposte al sondaggio")
    assert any((data or "").startswith("vote:") for row in copy.buttons for _t, data in row)
    await sindaco.send("/start mg-999999999")
    await bot.settle()
    assert fake.last_sent(sindaco).text == "Questo sondaggio non esiste più."


async def test_progress_links_are_checked_like_the_buttons(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    """`/start upd-<union>` (the update dialogue) and `/start hist-<action>` (an action's
    history) of Union A, typed by anyone: an outsider and the other Union's coordinator learn
    nothing of A and change nothing (no dialogue opened); A's technician gets the dialogue."""
    world = await build_world(bot)
    fake = bot.fake
    links = (f"upd-{world.a.union_id}", f"hist-{world.a.action_ids[0]}")
    await _strangers_learn_nothing(bot, world, links)
    tecnico = world.users["tecnico"]
    await tecnico.send(f"/start upd-{world.a.union_id}")
    await bot.settle()
    assert any(
        (data or "").startswith("upd:")
        for row in fake.last_sent(tecnico).buttons
        for _t, data in row
    )


# --- hostile text through every text input --------------------------------------------------


async def _say(bot: BotUnderTest, user: FakeUser, text: str) -> str:
    seen = len(bot.fake.sent_to(user))
    await user.send(text)
    await bot.settle()
    new = bot.fake.sent_to(user)[seen:]
    assert new, f"no answer to {text[:40]!r}"
    return new[-1].text or new[-1].caption or ""


async def _press(bot: BotUnderTest, world: World, caller: str, data: str) -> str | None:
    press = await world.users[caller].press_forged(world.anchors[(caller, "private")], data)
    await bot.settle()
    assert press.answer is not None, data
    return press.answer.text


async def _join(bot: BotUnderTest, world: World, name: str) -> None:
    token = reg_rules.new_invite_token()
    async with bot.db.transaction() as s:
        invite = await s.get(Invite, world.a.invite_id)
        assert invite is not None
        invite.token_hash = reg_rules.hash_token(token)
    newcomer = bot.fake.add_user("Nuovo", "Arrivato")
    await newcomer.send(f"/start {token}")
    await bot.settle()
    await _say(bot, newcomer, name)  # the name first, typed: then the questions
    answers = " ".join(m.text or "" for m in bot.fake.sent_to(newcomer)[-2:])
    assert "ti vedranno come" in answers or "Nome non valido" in answers, answers
    for _ in range(4):  # Comune, role: the first choice each time, until the request goes
        last = bot.fake.last_sent(newcomer)
        if not last.buttons:
            break
        labels = [text for row in last.buttons for text, _data in row]
        choice = next((t for t in labels if "tecnico" in t), labels[0])  # no Sindaco twice
        press = await newcomer.press(last, choice)
        await bot.settle()
        assert press.answer is not None
    assert "Richiesta inviata" in (bot.fake.last_sent(newcomer).text or "")


async def _tap(bot: BotUnderTest, user: FakeUser, prefix: str = "") -> None:
    """Press the first button of the user's last message whose label starts with `prefix`."""
    last = bot.fake.last_sent(user)
    labels = [t for row in last.buttons for t, _data in row if t.startswith(prefix)]
    assert labels, f"no button «{prefix}…» under «{(last.text or '')[:200]}»"
    press = await user.press(last, labels[0])
    await bot.settle()
    assert press.answer is not None


async def _poll_with(bot: BotUnderTest, world: World, text: str) -> None:
    """/riunione with `text` as title, place and agenda, published to the political group,
    voted on there: the poll message shows the text, escaped and cut to fit."""
    coord, sindaco = world.users["coord"], world.users["sindaco"]
    group = world.chats["political"]
    async with bot.db.transaction() as s:  # the world's open poll would stand in the way
        from storage.models import MeetingPoll, PollStatus

        for poll in (await s.execute(select(MeetingPoll))).scalars():
            poll.status = PollStatus.CANCELLED
    await _say(bot, coord, "/riunione")
    await _tap(bot, coord, "Tavolo politico")
    for _ in range(3):  # title, place, agenda
        await _say(bot, coord, text)
    await _tap(bot, coord)  # two proposed dates
    await _tap(bot, coord, bot.fake.last_sent(coord).buttons[1][0][0])
    await _tap(bot, coord, "Avanti")
    await _tap(bot, coord)  # the first deadline offered
    seen = len(bot.fake.sent_to(group))
    await _tap(bot, coord, "Pubblica")
    posted = bot.fake.sent_to(group)[seen:]
    assert posted, "the poll was not published"
    poll_message = posted[-1]
    vote = next(t for row in poll_message.buttons for t, _data in row if t.startswith("✅"))
    press = await sindaco.press(poll_message, vote)
    await bot.settle()
    assert press.answer is not None and (press.answer.text or "").startswith("Registrato")
    await bot.run_jobs()  # the coalesced edit of the tally


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_hostile_text_everywhere(
    bot: BotUnderTest, errors: list[logging.LogRecord], kind: str
) -> None:
    text = HOSTILE[kind]
    world = await build_world(bot)
    a = world.a
    coord, tecnico = world.users["coord"], world.users["tecnico"]

    await _join(bot, world, text)  # display name at join
    await _press(bot, world, "coord", f"com:add:{a.union_id}")  # Comune names
    await _say(bot, coord, f"{text}, Nuovo Comune")
    await _press(bot, world, "coord", f"com:rename:{a.municipality_ids[1]}")  # rename
    await _say(bot, coord, text)
    await _press(bot, world, "coord", f"act:new:{a.union_id}")  # a new action, every field
    for _ in range(6):
        await _say(bot, coord, text)
    await _press(bot, world, "coord", f"doc:add:{a.union_id}")  # a document link
    await _say(bot, coord, f"{text} https://example.org/{kind}")
    await _say(bot, coord, f"/decisione {text}")  # a decision
    await _say(bot, coord, f"/annuncio {text}")  # an announcement, sent to everyone
    draft = bot.fake.last_sent(coord)
    if draft.buttons:
        label = draft.buttons[0][0][0]  # "Tutti"
        await coord.press(draft, label)
        await bot.settle()
        # Delivery reports (this announcement's and the world's, which was never reported)
        # come from a task settle() does not wait for: let them arrive before the poll
        # wizard, which reads the coordinator's last message.
        async with bot.db.transaction() as s:
            reports = len(
                (
                    await s.execute(
                        select(Announcement.id).where(Announcement.union_id == a.union_id)
                    )
                )
                .scalars()
                .all()
            )
        await bot.fake.wait_for(
            lambda: (
                sum("Avviso consegnato" in (m.text or "") for m in bot.fake.sent_to(coord))
                >= reports
            )
        )
    await _poll_with(bot, world, text)  # the poll wizard: title, place, agenda, published
    await _say(bot, coord, f"/crea_unione {text}")  # a Union's name

    await tecnico.send("/aggiornamento")  # a note on an update
    await bot.settle()
    act = a.action_ids[1]
    await _press(bot, world, "tecnico", f"upd:pick:{act}")
    await _press(bot, world, "tecnico", f"upd:status:{act}:ongoing")
    await _say(bot, tecnico, text)  # a note on the answer just saved
    await _press(bot, world, "tecnico", f"upd:question:{act}")
    await _say(bot, tecnico, text[:280])  # a question for the political table

    await bot.tick()  # deliver what waits in the outbox
    # Everything written can be shown again: the fake refuses broken HTML and long texts.
    for command in ("/team", "/azioni", "/documenti", "/riunioni", "/riepilogo"):
        await coord.send(command, chat=world.chats["political"])
    await bot.settle()
    failed = [c for c in bot.fake.calls if not c.ok and c.method.startswith("send")]
    assert not failed, [(c.method, c.error) for c in failed]
    assert await _overflows(bot) == []


# --- files ------------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 60_000_000 + b"</a>")
    return buffer.getvalue()


FILES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "empty csv": ("azioni.csv", lambda: b"", "text/csv"),
    "empty xlsx": ("azioni.xlsx", lambda: b"", XLSX),
    "png called csv": ("azioni.csv", lambda: PNG, "text/csv"),
    "text called xlsx": ("azioni.xlsx", lambda: b"codice;titolo\nA1;Luce\n", XLSX),
    "many columns": (
        "azioni.csv",
        lambda: (";".join(f"c{i}" for i in range(5000)) + "\n").encode(),
        "text/csv",
    ),
    "many rows": (
        "azioni.csv",
        lambda: (
            "codice;titolo;comune\n" + "".join(f"R{i};Azione {i};Bibbiano\n" for i in range(20000))
        ).encode(),
        "text/csv",
    ),
    "huge cell": (
        "azioni.csv",
        lambda: b"codice;titolo\nA1;" + b"x" * 1_500_000 + b"\n",
        "text/csv",
    ),
    "zip bomb": ("azioni.xlsx", _zip_bomb, XLSX),
    "over telegram's limit": (
        "azioni.csv",
        lambda: b"codice;titolo\n" + b"A;" * (11 * 1024 * 1024),
        "text/csv",
    ),
    "binary garbage": ("azioni.csv", lambda: bytes(range(256)) * 50, "text/csv"),
}


@pytest.mark.parametrize("name", list(FILES))
async def test_uploaded_files(
    bot: BotUnderTest, errors: list[logging.LogRecord], name: str
) -> None:
    world = await build_world(bot)
    filename, make, mime = FILES[name]
    content = make()
    coord = world.users["coord"]
    async with bot.db.transaction() as s:
        actions_before = len((await s.execute(select(Action.id))).all())
        comuni_before = len((await s.execute(select(Municipality.id))).all())
    seen = len(bot.fake.sent_to(coord))
    await coord.send_document(filename, content, mime)
    await bot.fake.settle(timeout=60)
    answers = bot.fake.sent_to(coord)[seen:]
    assert answers, f"{name}: no answer"
    text = answers[-1].text or ""
    assert not re.search(r"azioni:.*nuove", text) or name == "text called xlsx", text
    async with bot.db.transaction() as s:
        assert len((await s.execute(select(Action.id))).all()) == actions_before
        assert len((await s.execute(select(Municipality.id))).all()) == comuni_before


async def test_a_file_telegram_will_not_hand_over(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    """getFile answers 400 "file is too big" (Telegram's 20 MB download limit, or a size the
    message did not announce): the coordinator is told, nothing is imported."""
    world = await build_world(bot)
    coord = world.users["coord"]
    bot.fake.fail_next("getFile", 400, "Bad Request: file is too big")
    async with bot.db.transaction() as s:
        actions_before = len((await s.execute(select(Action.id))).all())
    seen = len(bot.fake.sent_to(coord))
    await coord.send_document("azioni.csv", b"codice;titolo\nA1;Luce\n", "text/csv")
    await bot.settle()
    answers = bot.fake.sent_to(coord)[seen:]
    assert answers, "no answer"
    assert "grande" in (answers[-1].text or ""), answers[-1].text
    async with bot.db.transaction() as s:
        assert len((await s.execute(select(Action.id))).all()) == actions_before
