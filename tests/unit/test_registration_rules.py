"""Registration rules: names, lists, tokens, roles per Comune, coordinators, the roster."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.registration import (
    AssignmentProblem,
    InviteState,
    NameProblem,
    RoleCode,
    RosterEntry,
    rules,
)
from bot.views.html_split import plain_text, telegram_length
from bot.views.registration.shared import ROLE_FROM_SHORT, ROLE_SHORT
from bot.views.registration.team import split_lines

# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "Castel d'Argile",
        "castel d’argile",
        "CASTEL D'ARGILE",
        "Castel d` Argile",
        "  Castel   d‘Argile ",
        "Castel dʼArgile",
    ],
)
def test_apostrophe_case_and_spacing_variants_fold_alike(variant: str) -> None:
    assert rules.fold_name(variant) == rules.fold_name("Castel d'Argile") == "castel d'argile"


def test_accents_are_ignored_but_letters_are_not() -> None:
    assert rules.fold_name("Sant'Agata Bolognese") == rules.fold_name("SANT’AGATA BOLOGNESE")
    assert rules.fold_name("Cantù") == rules.fold_name("Cantu") == rules.fold_name("CANTÙ")
    assert rules.fold_name("Forlì") != rules.fold_name("Forlimpopoli")
    assert rules.fold_name("Reggio nell'Emilia") != rules.fold_name("Reggio Emilia")


_NAME_ALPHABET = string.ascii_letters + "àèéìòùÀÈÉÌÒÙ '’‘`-"


@given(st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=40))
def test_folding_is_idempotent_and_ignores_case_and_apostrophe_style(name: str) -> None:
    key = rules.fold_name(name)
    assert rules.fold_name(key) == key
    assert rules.fold_name(name.upper()) == key
    assert rules.fold_name(name.replace("'", "’")) == key
    assert rules.fold_name("  " + name + "  ") == key
    assert key == key.strip()
    assert "’" not in key and "‘" not in key and "`" not in key


@given(st.text(max_size=200))
def test_clean_name_never_keeps_control_characters_or_double_spaces(raw: str) -> None:
    name = rules.clean_name(raw)
    assert "  " not in name
    assert name == name.strip()
    assert not any(ord(c) < 32 for c in name)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, NameProblem.MISSING),
        ("   ", NameProblem.MISSING),
        ("A", NameProblem.TOO_SHORT),
        ("x" * 500, NameProblem.TOO_LONG),
        ("x" * 81, NameProblem.TOO_LONG),
        ("x" * 80, None),
        ("Unione Reno Galliera", None),
    ],
)
def test_union_name_limits(raw: str | None, problem: NameProblem | None) -> None:
    assert rules.check_union_name(raw)[1] == problem


def test_display_name_limits() -> None:
    assert rules.check_display_name("Mario Rossi") == ("Mario Rossi", None)
    assert rules.check_display_name("x" * 65)[1] == NameProblem.TOO_LONG
    assert rules.check_display_name("M")[1] == NameProblem.TOO_SHORT
    assert rules.check_display_name(" \n\t ")[1] == NameProblem.MISSING


# --- comma lists ------------------------------------------------------------------------------


def test_name_list_sorts_new_present_repeated_invalid() -> None:
    existing = {rules.fold_name("Argelato"): "Argelato"}
    plan = rules.plan_name_list(
        "Bentivoglio, argelato,  Castel d’Argile ;castel d'argile,\n, X, " + "y" * 90,
        existing,
    )
    assert plan.to_add == [
        ("Bentivoglio", "bentivoglio"),
        ("Castel d’Argile", "castel d'argile"),
    ]
    assert plan.already_present == ["Argelato"]
    assert plan.repeated == ["castel d'argile"]
    assert [p for _n, p in plan.invalid] == [NameProblem.TOO_SHORT, NameProblem.TOO_LONG]
    assert plan.changes_something


def test_name_list_with_only_duplicates_changes_nothing() -> None:
    existing = {rules.fold_name("Argelato"): "Argelato"}
    plan = rules.plan_name_list("ARGELATO, argelato", existing)
    assert plan.to_add == [] and plan.already_present == ["Argelato"]
    assert not plan.changes_something
    assert rules.split_name_list(" , ;\n") == []


# --- invite tokens ----------------------------------------------------------------------------


def test_new_tokens_are_long_random_and_valid() -> None:
    tokens = {rules.new_invite_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert len(token) == rules.INVITE_TOKEN_LENGTH <= 64
        assert rules.is_valid_token(token)
        assert set(token) <= set(string.ascii_letters + string.digits + "_-")
    # 24 random bytes: at least 128 bits.
    assert rules.INVITE_TOKEN_BYTES * 8 >= 128


def test_hash_is_sha256_hex_and_not_the_token() -> None:
    token = rules.new_invite_token()
    digest = rules.hash_token(token)
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert token not in digest
    assert rules.hash_token(token) == digest


@given(st.text(max_size=100))
def test_only_well_formed_tokens_pass(payload: str) -> None:
    ok = rules.is_valid_token(payload)
    well_formed = len(payload) == 32 and all(
        c in string.ascii_letters + string.digits + "_-" for c in payload
    )
    assert ok == well_formed


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "abc",
        "a" * 31,
        "a" * 33,
        "a" * 31 + "!",
        "a" * 31 + "\n",
        "ü" * 32,
        "a" * 31 + " ",
        None,
    ],
)
def test_malformed_tokens_are_refused(payload: str | None) -> None:
    assert not rules.is_valid_token(payload)


def test_invite_state() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    later = now + timedelta(days=1)
    assert rules.invite_state(expires_at=later, revoked_at=None, now=now) == InviteState.OPEN
    assert rules.invite_state(expires_at=now, revoked_at=None, now=now) == InviteState.EXPIRED
    assert rules.invite_state(expires_at=later, revoked_at=now, now=now) == InviteState.REVOKED
    assert rules.invite_link("TeamBot", "tok") == "https://t.me/TeamBot?start=tok"


# --- roles and Comuni -------------------------------------------------------------------------


def test_one_active_sindaco_per_comune() -> None:
    sindaci = {10: 1}
    check = rules.check_assignment
    taken = check(
        role=RoleCode.SINDACO, municipality_ids=[10], sindaco_by_municipality=sindaci, member_id=2
    )
    assert taken == AssignmentProblem.SINDACO_TAKEN
    # The Sindaco himself may be re-assigned to his own Comune; another Comune is free.
    assert (
        check(
            role=RoleCode.SINDACO,
            municipality_ids=[10],
            sindaco_by_municipality=sindaci,
            member_id=1,
        )
        is None
    )
    assert (
        check(
            role=RoleCode.SINDACO,
            municipality_ids=[11],
            sindaco_by_municipality=sindaci,
            member_id=2,
        )
        is None
    )
    # An Assessore of the same Comune is fine.
    assert (
        check(
            role=RoleCode.ASSESSORE,
            municipality_ids=[10],
            sindaco_by_municipality=sindaci,
            member_id=2,
        )
        is None
    )


def test_comuni_per_role() -> None:
    check = rules.check_assignment
    assert (
        check(
            role=RoleCode.TECNICO,
            municipality_ids=[1, 2],
            sindaco_by_municipality={},
            member_id=None,
        )
        is None
    )
    assert (
        check(
            role=RoleCode.TECNICO, municipality_ids=[], sindaco_by_municipality={}, member_id=None
        )
        == AssignmentProblem.NEEDS_A_COMUNE
    )
    assert (
        check(
            role=RoleCode.SINDACO,
            municipality_ids=[1, 2],
            sindaco_by_municipality={},
            member_id=None,
        )
        == AssignmentProblem.NEEDS_ONE_COMUNE
    )
    assert (
        check(
            role=RoleCode.ASSESSORE, municipality_ids=[], sindaco_by_municipality={}, member_id=None
        )
        == AssignmentProblem.NEEDS_ONE_COMUNE
    )
    assert (
        check(role=RoleCode.STAFF, municipality_ids=[], sindaco_by_municipality={}, member_id=None)
        is None
    )
    assert (
        check(role=RoleCode.STAFF, municipality_ids=[3], sindaco_by_municipality={}, member_id=None)
        == AssignmentProblem.STAFF_HAS_NO_COMUNE
    )


def test_role_short_codes_round_trip() -> None:
    for role in RoleCode:
        assert ROLE_FROM_SHORT[ROLE_SHORT[role]] == role


def test_last_coordinator_stays() -> None:
    assert not rules.can_drop_coordinator(coordinator_ids=[1], member_id=1)
    assert rules.can_drop_coordinator(coordinator_ids=[1, 2], member_id=1)
    assert rules.can_drop_coordinator(coordinator_ids=[1], member_id=3)
    assert rules.blocks_leaving(coordinator_ids=[1], member_id=1, active_member_count=4)
    assert not rules.blocks_leaving(coordinator_ids=[1], member_id=1, active_member_count=1)
    assert not rules.blocks_leaving(coordinator_ids=[1, 2], member_id=1, active_member_count=4)
    assert not rules.blocks_leaving(coordinator_ids=[1], member_id=2, active_member_count=4)


# --- roster -----------------------------------------------------------------------------------


def _entry(
    member_id: int, name: str, role: RoleCode, muns: tuple[int, ...], **kw: bool
) -> RosterEntry:
    return RosterEntry(
        member_id=member_id,
        name=name,
        role=role,
        is_coordinator=kw.get("coordinator", False),
        reachable=kw.get("reachable", True),
        municipality_ids=muns,
    )


def test_roster_comune_by_comune_roles_in_order_staff_last() -> None:
    muns = [(2, "Bentivoglio"), (1, "Argelato"), (3, "Castel d'Argile")]
    entries = [
        _entry(1, "Giulia", RoleCode.STAFF, (), coordinator=True),
        _entry(2, "Luca", RoleCode.TECNICO, (1, 2)),
        _entry(3, "Anna", RoleCode.ASSESSORE, (1,)),
        _entry(4, "Mario", RoleCode.SINDACO, (1,)),
        _entry(5, "Orfeo", RoleCode.TECNICO, (99,)),  # an archived Comune: shown with staff
    ]
    groups = rules.group_roster(entries, muns)
    assert [g.name for g in groups] == ["Argelato", "Bentivoglio", "Castel d'Argile", None]
    assert [e.name for e in groups[0].entries] == ["Mario", "Anna", "Luca"]
    assert [e.name for e in groups[1].entries] == ["Luca"]  # serves two Comuni
    assert groups[2].entries == []
    assert [e.name for e in groups[3].entries] == ["Orfeo", "Giulia"]


def test_split_lines_breaks_only_between_lines() -> None:
    lines = [f"<b>riga {n}</b> " + "x" * 50 for n in range(300)]
    chunks = split_lines(lines, limit=1000)
    assert all(telegram_length(c) <= 1000 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines
    assert split_lines(["breve"]) == ["breve"]


def test_split_lines_keeps_paragraphs_whole_and_never_cuts_inside_a_tag() -> None:
    """The roster's Comuni (paragraphs) stay whole when they fit; a line longer than a message
    is cut between characters with its tags closed and reopened, nothing dropped (the former
    hard cut at the limit could fall inside a tag and lost the rest of the line)."""
    comune = ["", "<b>Bibbiano</b>", *(f"👤 Persona {n} — Sindaco" for n in range(20))]
    long_line = "<i>" + "nome &amp; cognome " * 300 + "</i>"
    chunks = split_lines(["<b>Team</b>", *comune * 6, "", long_line], limit=1000)
    assert all(telegram_length(c) <= 1000 for c in chunks)
    for chunk in (c for c in chunks if "Bibbiano" in c):  # each Comune whole in one message
        heads = chunk.count("<b>Bibbiano</b>")
        assert chunk.count("Persona 0 —") == chunk.count("Persona 19 —") == heads >= 1
    tail = [c for c in chunks if "nome" in c]
    assert len(tail) >= 5 and all(c.startswith("<i>") and c.endswith("</i>") for c in tail)
    assert "".join(plain_text(c) for c in tail) == plain_text(long_line)
