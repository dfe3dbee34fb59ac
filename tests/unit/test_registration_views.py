"""Registration's keyboards (bot.views.registration) against its handlers: every button a view
builds carries callback data within Telegram's 64 bytes, even with the longest ids, and one
family registered by bot.handlers.registration takes it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot import callback_data as cb
from bot.handlers.registration import FAMILIES
from bot.i18n import translator
from bot.views.answer import Answer
from bot.views.html_split import TELEGRAM_LIMIT, telegram_length
from bot.views.keyboard import Keyboard
from bot.views.registration import (
    comuni,
    groups,
    invites,
    joining,
    leaving,
    profile,
    team,
    unions,
)
from storage.models import MemberStatus, Role, TableKind

BIG = 10**12 - 1  # the longest id callback data carries (callback_data.int_arg)
TR = translator("it")
WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PATTERNS = [re.compile(cb.pattern(area, *verbs)) for _fn, area, verbs in FAMILIES]


def _keyboards() -> list[Keyboard | None]:
    comuni_list = comuni.ComuniList(BIG, "Unione", ((BIG, "Argelato"),))
    invite_list = invites.InviteList(
        BIG, "Unione", "Europe/Rome", (invites.InviteRow(BIG, "Argelato", Role.TECNICO, 1, WHEN),)
    )
    card = team.MemberCard(
        BIG,
        BIG,
        "Unione",
        "Mario",
        None,
        Role.TECNICO,
        ("Argelato",),
        False,
        True,
        MemberStatus.ACTIVE,
    )
    pending = team.MemberCard(
        BIG, BIG, "Unione", "Anna", None, Role.SINDACO, (), True, True, MemberStatus.PENDING
    )
    roster = team.Roster(
        BIG, "Unione", (), (), (), manage=True, pending=((BIG, "Anna"),), people=((BIG, "Mario"),)
    )
    answers: list[Answer] = [
        comuni.comuni_answer(comuni_list, TR),
        comuni.comuni_answer(comuni.AddingComuni(BIG, "Unione"), TR),
        comuni.comuni_answer(comuni.RemovalAsked(BIG, "Argelato", BIG, "Unione"), TR),
        invites.invites_answer(invite_list, TR),
        invites.invites_answer(invites.ComuneChoice(BIG, ((BIG, "Argelato"),)), TR),
        invites.invites_answer(
            invites.RoleChoice(BIG, BIG, "Argelato", (Role.SINDACO, Role.TECNICO)), TR
        ),
        team.member_answer(team.MemberShown(card), TR),
        team.member_answer(team.MemberShown(pending), TR),
        team.member_answer(team.RoleMenu(BIG, "Mario", tuple(Role)), TR),
        team.member_answer(team.ComuneForRole(BIG, Role.ASSESSORE, ((BIG, "Argelato"),)), TR),
        team.member_answer(
            team.ComuneMenu(BIG, "Mario", Role.TECNICO, ((BIG, "Argelato"),), frozenset({BIG})), TR
        ),
        team.member_answer(team.MemberRemovalAsked(BIG, "Mario", "Unione"), TR),
        team.roster_answer(roster, TR),
        groups.link_question(groups.LinkChoice(((BIG, "Unione"), (BIG, "Altra")), (), False), TR),
        groups.linked_answer(groups.ReplaceAsked(BIG, "Unione", TableKind.TECHNICAL, "Tec"), TR),
        leaving.question_answer(leaving.Leaving.MAY_LEAVE, TR),
        unions.created_answer(unions.UnionCreated("Unione", BIG), TR),
        profile.profile_answer(
            profile.MyProfile("Mario", None, (("Unione", Role.SINDACO, True),)), TR
        ),
        profile.profile_answer(profile.NameAsked("Mario"), TR),
    ]
    steps = [
        joining.JoinStep(BIG, joining.COMUNE_STEP, ((BIG, "Argelato"),), staff_allowed=True),
        joining.JoinStep(BIG, joining.ROLE_STEP, comune="Argelato", roles=tuple(Role)),
        joining.JoinStep(BIG, joining.ROLE_STEP, roles=(Role.STAFF,), number=2, total=2),
    ]
    keyboards = [a.keyboard for a in answers] + [
        k for _t, k in (a for b in answers for a in b.then)
    ]
    keyboards += [joining.render_step(step, TR)[1] for step in steps]
    keyboards.append(joining.approval_keyboard(BIG, TR))
    return keyboards


def test_every_button_fits_and_has_its_handler() -> None:
    datas = [b.data for k in _keyboards() if k is not None for row in k.rows for b in row]
    assert len(datas) > 30
    for data in datas:
        assert data is not None and len(data.encode()) <= cb.MAX_BYTES, data
        assert cb.decode(data) is not None, data
        taken = [p.pattern for p in PATTERNS if p.match(data)]
        assert len(taken) == 1, (data, taken)


def test_a_long_roster_for_the_coordinator_fits_every_message() -> None:
    """The coordinator's roster ends with what the buttons do (and how many requests wait):
    it is part of what is split, so no message passes Telegram's limit, however the roster
    falls (the note was added to the last part after splitting, which could then exceed it)."""
    for people in range(80, 200):
        entries = tuple(
            team.RosterEntry(n, f"Persona numero {n:03d}", Role.TECNICO, False, True, (1,))
            for n in range(people)
        )
        group = team.RosterGroup(1, "Argelato", list(entries))
        roster = team.Roster(
            1,
            "Unione",
            entries,
            (group,),
            (),
            manage=True,
            pending=((9999, "Anna"),),
            people=tuple((e.member_id, e.name) for e in entries[:80]),
        )
        answer = team.roster_answer(roster, TR)
        texts = [answer.text or "", *(t for t, _k in answer.then)]
        assert all(telegram_length(t) <= TELEGRAM_LIMIT for t in texts), people
        assert "richiesta in attesa" in texts[-1]
