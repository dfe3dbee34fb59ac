"""/aiuto lists what each role may really do; the shared menus say who may use what."""

from __future__ import annotations

import re

from storage.models import Role, TableKind
from tests.e2e.harness import BotUnderTest
from tests.fakes.fake_world import FakeUser
from tests.updates_factories import link_group, make_member, make_union


def commands_in(text: str) -> set[str]:
    """The commands a help page offers (a task ends with its command, others are listed)."""
    return set(re.findall(r"(?<![\w/])/[a-z_]+", text))


async def test_help_lists_what_each_role_may_do(bot: BotUnderTest) -> None:
    fake, now = bot.fake, bot.clock.now()
    people: dict[Role, FakeUser] = {}
    coordinator = fake.add_user("Carla")
    for role in (Role.SINDACO, Role.ASSESSORE, Role.TECNICO):
        people[role] = fake.add_user(role.value.capitalize())
    group = fake.create_group("Tavolo politico", coordinator, members=list(people.values()))
    await fake.add_bot_to_group(group, by=coordinator)
    async with bot.db.transaction() as s:
        union, comuni = await make_union(s, "Unione Colline", ["Canossa"], now=now)
        await make_member(
            s,
            union,
            telegram_user_id=coordinator.id,
            name="Carla",
            role=Role.STAFF,
            coordinator=True,
            now=now,
        )
        for role, user in people.items():
            await make_member(
                s,
                union,
                telegram_user_id=user.id,
                name=user.first_name,
                role=role,
                comuni=[comuni["Canossa"]],
                now=now,
            )
        await link_group(s, union, chat_id=group.id, kind=TableKind.POLITICAL, now=now)

    async def help_of(user: FakeUser, chat: object = None) -> set[str]:
        await user.send("/aiuto", chat=chat)  # type: ignore[arg-type]
        await bot.settle()
        return commands_in(fake.last_sent(chat or user).text or "")  # type: ignore[arg-type]

    sindaco = await help_of(people[Role.SINDACO])
    assert {"/esporta", "/riunione", "/riepilogo", "/azioni"} <= sindaco
    assert not sindaco & {"/aggiornamento", "/impostazioni", "/invito", "/decisione"}
    assert not sindaco & {"/start", "/crea_unione"}  # a member needs neither
    assert "Sei Sindaco:" in (fake.last_sent(people[Role.SINDACO]).text or "")
    assessore = await help_of(people[Role.ASSESSORE])
    assert "/riepilogo" in assessore
    assert not assessore & {"/esporta", "/riunione", "/aggiornamento"}
    tecnico = await help_of(people[Role.TECNICO])
    assert "/aggiornamento" in tecnico
    assert not tecnico & {"/esporta", "/riunione", "/impostazioni"}
    carla = await help_of(coordinator)
    assert {"/esporta", "/riunione", "/aggiornamento", "/impostazioni", "/invito"} <= carla
    # In the group a Sindaco is offered /riunione (the political table's poll), a technician not.
    assert "/riunione" in await help_of(people[Role.SINDACO], group)
    assert "/riunione" not in await help_of(people[Role.TECNICO], group)


async def test_shared_menus_say_who_may_use_a_command(bot: BotUnderTest) -> None:
    # In private everyone's menu is a newcomer's; a member gets their own
    # (tests/e2e/test_people_manners.py).
    private = dict(bot.fake.commands("all_private_chats"))
    assert list(private) == ["start", "aiuto"]
    admins = dict(bot.fake.commands("all_chat_administrators"))
    assert admins["decisione"].endswith("(coordinatore)")
    assert admins["riunione"].endswith("(coordinatore e Sindaci)")
    assert admins["team"] == "Chi è chi, Comune per Comune"
    members = [name for name, _ in bot.fake.commands("all_group_chats")]
    assert "riunione" not in members and "team" in members
    english = dict(bot.fake.commands("all_chat_administrators", language_code="en"))
    assert english["riunione"].endswith("(coordinator and mayors)")
