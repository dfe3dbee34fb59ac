"""Names people read (bot.services.display_text): nothing invisible, nothing that turns text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from bot.services.display_text import clean_display_text, has_visible_text, telegram_display_name
from bot.services.registration import rules

RLO, PDF, ZWSP, FILLER = "\u202e", "\u202c", "\u200b", "\u3164"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@dataclass(frozen=True)
class User:
    first_name: str
    last_name: str | None = None
    username: str | None = None


def test_bidi_overrides_and_zero_width_characters_go() -> None:
    assert clean_display_text(f"Carla{RLO} Rinaldini{PDF}") == "Carla Rinaldini"
    assert clean_display_text(f"Ma{ZWSP}rio\u2060 \u00a0 Rossi\ufeff") == "Mario Rossi"
    assert clean_display_text(f"{FILLER}Anna{FILLER}{FILLER}Bianchi") == "Anna Bianchi"


def test_nfc_and_real_letters_stay() -> None:
    assert clean_display_text("Niccolo\u0300 D'Amato") == "Niccolò D'Amato"
    assert clean_display_text("  Castel   d’Argile\n") == "Castel d’Argile"
    assert clean_display_text("Ελένη Παπαδοπούλου") == "Ελένη Παπαδοπούλου"
    assert clean_display_text("محمد") == "محمد"  # right-to-left letters are letters
    assert clean_display_text("李雷 2") == "李雷 2"


def test_nothing_visible() -> None:
    for name in (FILLER, FILLER * 3, ZWSP, "\u0301\u0302", "\u034f", RLO + PDF, " \u00a0 ", "🔥"):
        assert not has_visible_text(clean_display_text(name)), repr(name)


def test_refused_names_say_invisible() -> None:
    for raw in (FILLER, ZWSP * 2, "\u0301\u0301", RLO, "ㅤㅤ"):
        for check in (rules.check_union_name, rules.check_municipality_name):
            assert check(raw)[1] == rules.NameProblem.INVISIBLE, repr(raw)
        assert rules.check_display_name(raw)[1] == rules.NameProblem.INVISIBLE
    assert rules.check_display_name("   ")[1] == rules.NameProblem.MISSING
    assert rules.check_display_name(f"{RLO}Mario Rossi") == ("Mario Rossi", None)
    plan = rules.plan_name_list(f"Argelato, {FILLER}, Bentivoglio", {})
    assert [n for n, _k in plan.to_add] == ["Argelato", "Bentivoglio"]
    assert [p for _n, p in plan.invalid] == [rules.NameProblem.INVISIBLE]


def test_telegram_name_falls_back_to_username_then_nameless() -> None:
    assert (
        telegram_display_name(User(f"Carla{RLO}", "Rinaldini"), nameless="X") == "Carla Rinaldini"
    )
    assert telegram_display_name(User(FILLER, None, "carla_r"), nameless="X") == "@carla_r"
    assert telegram_display_name(User(FILLER, ZWSP), nameless="Membro senza nome") == (
        "Membro senza nome"
    )


_UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


@given(st.text())
def test_clean_text_is_plain_and_stable(raw: str) -> None:
    text = clean_display_text(raw)
    assert clean_display_text(text) == text  # idempotent
    assert text == unicodedata.normalize("NFC", text)
    assert text == text.strip() and "  " not in text
    assert not any(unicodedata.category(ch) in _UNSAFE for ch in text)
    assert not any(ch.isspace() and ch != " " for ch in text)
    assert FILLER not in text and not any(ch in BIDI for ch in text)


@given(st.text(), st.text(alphabet=st.sampled_from(BIDI + ZWSP + FILLER + "\u00a0\u0301")))
def test_invisible_characters_never_make_a_name(raw: str, noise: str) -> None:
    """Adding invisible characters anywhere changes neither the name nor whether it shows."""
    cleaned = clean_display_text(raw)
    mixed = clean_display_text(noise + raw + noise)
    assert has_visible_text(mixed) == has_visible_text(cleaned)
    assert not has_visible_text(clean_display_text(noise))


@given(st.text())
def test_a_name_that_passes_shows_a_letter_or_digit(raw: str) -> None:
    name, problem = rules.check_display_name(raw)
    if problem is None:
        assert any(unicodedata.category(ch)[0] in "LN" and ch != FILLER for ch in name)
