"""No data of one Union reaches anyone outside it, in what people read in full: the files
(`/esporta`, the summary's Excel, the actions' CSV and Excel) and the read commands, for each
Union's coordinator on their own Union. The other Union's name, Comuni, people and contents
are nowhere in them, text or file; their own Union's are there (so the scan is not vacuous).

The matrix scans what the bot writes in the chats; this opens the files too."""

from __future__ import annotations

import html
import io
import zipfile

import pytest
from sqlalchemy import select

from storage.models import Announcement
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeMessage
from tests.security.world import SECRET_A, SECRET_B, build_world, diff, leaks, snapshot

READS = ("/team", "/azioni", "/riepilogo", "/riunioni", "/documenti", "/esporta")
FILES = ("exp:csv:{u}", "exp:xlsx:{u}", "sum:xlsx:{u}", "act:export:{u}:csv", "act:export:{u}:xlsx")


def readable(message: FakeMessage) -> str:
    """Everything a person can read in a message: text, caption, buttons and the file's text
    (an Excel file is a zip of XML parts)."""
    parts = [message.text or "", message.caption or "", str(message.buttons)]
    if message.document is not None:
        content = message.document.content
        if content[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                parts += [
                    html.unescape(z.read(name).decode("utf-8", "replace"))
                    for name in z.namelist()
                    if name.endswith(".xml")
                ]
        else:
            parts.append(content.decode("utf-8-sig", "replace"))
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("caller", "union", "foreign", "own"),
    [
        ("coord", "a", SECRET_B, "Val"),
        ("other_coord", "b", SECRET_A, "Pianura-segreta"),
    ],
    ids=["A's coordinator", "B's coordinator"],
)
async def test_reads_and_files_hold_only_the_callers_union(
    bot: BotUnderTest, caller: str, union: str, foreign: tuple[str, ...], own: str
) -> None:
    world = await build_world(bot)
    user = world.users[caller]
    union_id = getattr(world, union).union_id
    before = len(user.private_chat.messages)
    for command in READS:
        await user.send(command)
        await bot.settle()
    for template in FILES:
        press = await user.press_forged(
            world.anchors[(caller, "private")], template.format(u=union_id)
        )
        await bot.settle()
        assert press.answer is not None, template
    sent = [m for m in user.private_chat.messages[before:] if m.from_bot]
    files = [m for m in sent if m.document is not None]
    assert len(files) == len(FILES), [m.document.file_name for m in files if m.document]
    for message in sent:
        text = readable(message)
        assert not leaks(text, foreign), (message.document or message.text, leaks(text, foreign))
    for message in files:
        assert own in readable(message), f"{message.document}: the caller's own data is missing"


async def test_a_refused_press_is_logged_without_the_person(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """A button of Union A forged in a group linked to nothing and in Union B's group: one
    INFO line each (which button, which Union, which group) naming nobody."""
    world = await build_world(bot)
    coord = world.users["coord"]
    caplog.clear()
    for chat in ("unlinked", "other"):
        press = await coord.press_forged(
            world.anchors[("coord", chat)], f"dec:close:{world.a.decision_id}"
        )
        await bot.settle()
        assert press.answer is not None and press.answer.text
    lines = [r for r in caplog.records if r.name == "bot.scope" and "refused" in r.getMessage()]
    assert [r.levelname for r in lines] == ["INFO", "INFO"]
    assert "linked to nothing" in lines[0].getMessage()
    assert f"Union {world.a.union_id}" in lines[1].getMessage()
    assert str(world.b.union_id) in lines[1].getMessage()
    for record in lines:
        text = record.getMessage()
        assert str(coord.id) not in text
        assert not leaks(text, ("Carla", "Rinaldini", "carla_rinaldini"))


async def test_an_announcement_being_prepared_is_sent_only_from_private(bot: BotUnderTest) -> None:
    """The coordinator prepares an announcement in private; its audience buttons forged in
    any group (their own Union's, one linked to nothing, another Union's) send nothing and
    show its text nowhere; pressed in private, they send it."""
    world = await build_world(bot)
    coord, fake = world.users["coord"], bot.fake
    text = "Avviso in preparazione Val"
    await coord.send(f"/annuncio {text}")
    await bot.settle()
    async with bot.db.transaction() as s:
        announcement_id = (
            await s.execute(select(Announcement.id).where(Announcement.text == text))
        ).scalar_one()
    data = f"ann:send:{announcement_id}:all"
    before = await snapshot(bot)
    for chat in ("political", "unlinked", "other"):
        group = world.chat_of("coord", chat)
        shown = len(fake.sent_to(group))
        press = await coord.press_forged(world.anchors[("coord", chat)], data)
        await bot.settle()
        assert press.answer is not None
        assert (press.answer.text or "").startswith(
            "Gli avvisi si preparano in chat privata con me"
        ), press.answer.text
        assert all(text not in readable(m) for m in fake.sent_to(group)), chat
        assert len(fake.sent_to(group)) == shown, chat
    assert diff(before, await snapshot(bot)) == ""
    press = await coord.press_forged(world.anchors[("coord", "private")], data)
    await bot.settle()
    assert press.answer is not None and press.answer.text == "In invio."
    assert "announcement" in diff(before, await snapshot(bot))


async def test_an_actions_history_pressed_in_a_group_reaches_only_the_presser(
    bot: BotUnderTest,
) -> None:
    """An action's history is for its Comune's people and the coordinator: pressed in the
    Union's own group, it goes to the presser's private chat, not to the group (where the
    other Comuni's people sit)."""
    world = await build_world(bot)
    sindaco, fake = world.users["sindaco"], bot.fake  # Sindaco of Bibbiano, the action's Comune
    group = world.chats["political"]
    in_group, in_private = len(fake.sent_to(group)), len(fake.sent_to(sindaco))
    press = await sindaco.press_forged(
        world.anchors[("sindaco", "political")], f"act:history:{world.a.action_ids[0]}"
    )
    await bot.settle()
    assert press.answer is not None and press.answer.text == "Ti ho mandato lo storico in privato."
    assert len(fake.sent_to(group)) == in_group
    history = fake.sent_to(sindaco)[in_private:]
    assert len(history) == 1 and "Storico di" in (history[0].text or ""), history
