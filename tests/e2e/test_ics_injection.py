"""Issue 14, item 3: a meeting's place cannot write its own lines into the .ics.

Through the wizard, as a coordinator would: a place made of a link followed by line breaks and
calendar properties is refused with a clear message; the same text on one line, and an agenda
whose lines try to close the event and open another, reach the invitation as plain data: one
VEVENT, one DTSTART, no ATTENDEE.
"""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from tests.e2e.harness import BotUnderTest
from tests.e2e.test_meetings_story import _poll_message, _slot_data, _team, _vote

MALICIOUS_PLACE = (
    "https://meet.example.org/team\r\n"
    "ATTENDEE;CN=Mallory;RSVP=TRUE:mailto:mallory@example.org\r\n"
    "DTSTART:20200101T000000Z\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "SUMMARY:Riunione annullata"
)
ONE_LINE_PLACE = (
    "https://meet.example.org/team;ATTENDEE:mailto:mallory@example.org, Sala \\ 2: piano 1"
)
AGENDA = (
    "1. PAES\n"
    "END:VEVENT\n"
    "BEGIN:VEVENT\n"
    "ATTENDEE:mailto:mallory@example.org\n"
    "DTSTART:20200101T000000Z\n"
    "2. Varie; eventuali, altro"
)


async def test_a_place_with_line_breaks_cannot_inject_into_the_invitation(
    bot: BotUnderTest,
) -> None:
    fake = bot.fake
    team = await _team(bot, cass_started=True)
    carla = team.carla
    await carla.send("/riunione")
    await bot.settle()
    await (await carla.press(fake.last_sent(carla), "Tavolo politico")).answered()
    await bot.settle()
    await carla.send("Riunione di dicembre\nATTENDEE:mailto:mallory@example.org")
    await bot.settle()
    assert "Il titolo va scritto su una riga sola" in (fake.last_sent(carla).text or "")
    await carla.send("Riunione di dicembre")
    await bot.settle()
    assert "Dove?" in (fake.last_sent(carla).text or "")

    await carla.send(MALICIOUS_PLACE)
    await bot.settle()
    refused = fake.last_sent(carla).text or ""
    assert "Il luogo va scritto su una riga sola" in refused
    assert "Dove?" in refused  # the same question again: nothing was taken
    await carla.send("https://meet.example.org/team\u2028ATTENDEE:mailto:mallory@example.org")
    await bot.settle()
    assert "Il luogo va scritto su una riga sola" in (fake.last_sent(carla).text or "")

    await carla.send(ONE_LINE_PLACE)
    await bot.settle()
    assert "Ordine del giorno?" in (fake.last_sent(carla).text or "")
    await carla.send(AGENDA)  # an agenda may have several lines
    await bot.settle()
    dates = fake.last_sent(carla)
    assert "Scegli da 2 a 8 date" in (dates.text or "")
    await (await carla.press(dates, "gio 10 dic, 17:00")).answered()
    await (await carla.press(dates, "gio 17 dic, 17:00")).answered()
    await bot.settle()
    await (await carla.press(fake.last_sent(carla), "Avanti (2 date scelte)")).answered()
    await bot.settle()
    await (await carla.press(fake.last_sent(carla), "dom 6 dic, 09:00")).answered()
    await bot.settle()
    summary = fake.last_sent(carla)
    assert "Luogo: https://meet.example.org/team;ATTENDEE" in (summary.text or "")
    assert (await (await carla.press(summary, "Pubblica nel gruppo")).answered()).text == (
        "Pubblicato."
    )
    await bot.settle()
    poll_msg = _poll_message(bot, team.group)
    slots = _slot_data(poll_msg)
    await _vote(bot, team.users["sa"], poll_msg, slots[0], "y")

    bot.clock.set(datetime(2026, 12, 6, 8, 1, tzinfo=UTC))  # past the deadline: the poll closes
    await bot.tick()
    documents = [m for m in fake.sent_to(team.group) if m.document is not None]
    assert len(documents) == 1
    data = documents[0].document.content  # type: ignore[union-attr]
    assert documents[0].document.file_name.endswith(".ics")  # type: ignore[union-attr]

    lines = data.decode("utf-8").replace("\r\n ", "").split("\r\n")
    assert not [line for line in lines if line.startswith("ATTENDEE")]
    assert len([line for line in lines if line.startswith("DTSTART;TZID=")]) == 1
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert max(len(line) for line in data.split(b"\r\n")) <= 75

    cal = icalendar.Calendar.from_ical(data)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    event = events[0]
    assert "ATTENDEE" not in event
    assert "URL" not in event  # the place is not one plain address
    assert str(event["LOCATION"]) == ONE_LINE_PLACE
    assert str(event["SUMMARY"]) == "Riunione di dicembre"
    assert str(event["DESCRIPTION"]).endswith(AGENDA)
    assert event.decoded("DTSTART") == datetime(2026, 12, 10, 16, tzinfo=UTC)
    fake.write_transcript(".transcripts/test_ics_injection.txt")
