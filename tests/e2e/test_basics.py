"""The spine end to end: start, menus, help, language, privacy, errors, redelivery."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.harness import BotUnderTest


async def test_start_without_invite_explains_how_to_join(bot: BotUnderTest) -> None:
    fake = bot.fake
    anna = fake.add_user("Anna", "Bianchi")
    await anna.send("/start")
    await bot.settle()
    text = fake.last_sent(anna).text
    assert text.startswith("Ciao Anna!")
    assert "link d'invito" in text
    assert "/crea_unione" in text


async def test_english_user_gets_english(bot: BotUnderTest) -> None:
    fake = bot.fake
    john = fake.add_user("John", language_code="en-GB")
    await john.send("/start")
    await bot.settle()
    assert "invite link" in fake.last_sent(john).text


async def test_command_menus_by_scope_and_language(bot: BotUnderTest) -> None:
    fake = bot.fake
    private_it = [name for name, _ in fake.commands("all_private_chats")]
    groups = [name for name, _ in fake.commands("all_group_chats")]
    admins = [name for name, _ in fake.commands("all_chat_administrators")]
    private_en = fake.commands("all_private_chats", language_code="en")
    # In private, everyone's menu is a newcomer's; a member's own replaces it in their chat
    # (tests/e2e/test_people_manners.py), /aiuto lists the rest (/lingua, /crea_unione…).
    assert private_it == ["start", "aiuto"]
    assert "collega" not in groups and "collega" in admins
    assert "team" in groups and "cancellami" not in groups
    assert [name for name, _ in private_en] == ["start", "aiuto"]
    assert dict(private_en)["aiuto"] != dict(fake.commands("all_private_chats"))["aiuto"]


async def test_language_switch_is_remembered(bot: BotUnderTest) -> None:
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/lingua")
    await bot.settle()
    menu = fake.last_sent(anna)
    press = await anna.press(menu, "🇬🇧 English")
    assert (await press.answered()).text == "Language updated."
    await bot.settle()
    await anna.send("/privacy")
    await bot.settle()
    assert "Privacy" in fake.last_sent(anna).text
    assert "only the members of your Union" in fake.last_sent(anna).text
    await bot.restart()
    await anna.send("/aiuto")
    await bot.settle()
    assert (
        "Here is what you can do" in fake.last_sent(anna).text
        or "Team energia" in fake.last_sent(anna).text
    )


async def test_unknown_command_and_text(bot: BotUnderTest) -> None:
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/boh")
    await bot.settle()
    assert "Comando sconosciuto" in fake.last_sent(anna).text
    await anna.send("ciao")
    await bot.settle()
    assert "Non ho capito" in fake.last_sent(anna).text


async def test_forged_button_is_answered_and_changes_nothing(bot: BotUnderTest) -> None:
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/lingua")
    await bot.settle()
    menu = fake.last_sent(anna)
    forged = ("lang:set:xx", "pick:team:999999", "garbage", "x" * 64, "lang:set:it:'; DROP")
    for n, data in enumerate(forged):
        await fake.inject_update(
            {
                "callback_query": {
                    "id": f"forged{n}",
                    "from": anna.to_api(),
                    "message": menu.to_api(),
                    "chat_instance": "1",
                    "data": data,
                }
            }
        )
    await bot.settle()
    answered = {c.params.get("callback_query_id") for c in fake.calls_of("answerCallbackQuery")}
    assert {f"forged{n}" for n in range(len(forged))} <= answered
    async with bot.db.transaction() as session:
        from storage.repositories import core as core_repo

        person = await core_repo.person_by_telegram_id(session, anna.id)
    assert person is None or person.language is None


async def test_no_log_line_contains_the_token(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = bot.fake
    anna = fake.add_user("Anna")
    await anna.send("/start")
    await anna.send("/aiuto")
    await bot.settle()
    await bot.restart()
    for record in caplog.records:
        assert fake.token not in record.getMessage()
        assert fake.token not in str(record.__dict__)
