"""The summary builder, the splitter, decisions and the Covenant clock: plain data in, text out
(the pictures: test_summary_pictures.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import translator
from bot.services.summaries.summary import (
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    Milestone,
    QuestionView,
    SummaryInput,
    VoteView,
    leads_reached,
    next_milestones,
    render_decision,
    render_summary,
    stuck_rounds,
)
from bot.views.html_split import plain_text, split_row, split_sections, telegram_length
from storage.repositories.summaries import EX_MEMBER
from tests.summaries_factories import NOW, small_union

IT = translator("it")
EN = translator("en")

EXPECTED_SMALL = """\
📊 <b>Team energia · Unione Reno &amp; Galliera</b>
Riepilogo di dicembre 2026
Novità dal mer 4 nov, 17:00.

🗳 <b>Da decidere</b>: votate con i pulsanti nei messaggi qui sotto
1. Anticipare i fondi per il cappotto? <i>(Argelato, A2)</i> — ✅ 1

📅 <b>Prossima riunione</b>: mer 9 dic, 17:00 — Team energia, Sala consiliare

<b>In sintesi</b>
4 azioni: ✅ 1 completata · 🔄 2 in corso · ⚪ 1 non avviata
Dall'ultimo riepilogo: 2 azioni aggiornate, 1 completata, 1 tecnico non ha ancora aggiornato
🌱 CO₂ evitata: 120,5 t/anno su 250,5 t/anno previste dal PAES (48%); altre 80,0 t/anno con le azioni in corso

<b>Argelato</b> · 1/2 completate · 1 aggiornata · ✅ A1 completata · ⏳ 1 ferma
<b>Bentivoglio</b> · 1 azione · 🔕 non ha ancora aggiornato: Luca &lt;Bianchi&gt;
<b>Unione</b> · 1 azione · 1 aggiornata

ℹ️ Il dettaglio di ogni azione e le note sono nel foglio di calcolo («📤 Foglio di calcolo» qui sotto)."""


def _balanced(fragment: str) -> bool:
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-z]+)[^>]*>", fragment):
        closing, name = match.group(1), match.group(2)
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def _no_broken_entities(fragment: str) -> bool:
    # every & starts a complete entity; every < starts a complete tag
    return not re.search(r"&(?!(?:[a-z]+|#\d+|#x[0-9a-f]+);)", fragment) and fragment.count(
        "<"
    ) == fragment.count(">")


def test_small_union_summary_matches_the_hand_written_expectation() -> None:
    assert render_summary(small_union(), IT) == [EXPECTED_SMALL]


def test_english_summary_is_translated() -> None:
    (text,) = render_summary(small_union(), EN)
    assert "Summary for December 2026" in text
    assert "<b>Bentivoglio</b> · 1 action · 🔕 has not updated yet: Luca &lt;Bianchi&gt;" in text
    assert "<b>At a glance</b>" in text and "CO₂ avoided: 120.5 t/year" in text


def _big_union(comuni: int = 20, per: int = 30) -> SummaryInput:
    actions, changes = [], []
    for c in range(comuni):
        for a in range(per):
            aid = c * 100 + a
            status = ("completed", "ongoing", "postponed", "not_started")[a % 4]
            actions.append(
                ActionSnapshot(
                    aid,
                    f"C{c}.{a}",
                    f"Azione <{a}> & riqualificazione edificio numero {a} del Comune {c}",
                    c,
                    status,
                    (a * 7) % 101,
                    Decimal("12.5"),
                    stuck_rounds=3 if a % 5 == 0 and status != "completed" else 0,
                )
            )
            if a % 3 == 0:
                changes.append(
                    ActionChange(
                        aid,
                        "not_started",
                        status,
                        0,
                        (a * 7) % 101,
                        notes=(f"Nota «{a}» con <caratteri> & simboli 🚲 " * 3,),
                        photos=a % 2,
                        documents=1,
                    )
                )
    return SummaryInput(
        union_name="Unione Grande",
        timezone="Europe/Rome",
        year=2026,
        month=12,
        generated_at=NOW,
        since=None,
        comuni=[
            ComuneInfo(c, f"Comune numero {c}", silent=(f"Tecnico {c}",) if c % 2 else ())
            for c in range(comuni)
        ],
        actions=actions,
        changes=changes,
        questions=[
            QuestionView(i, f"Questione {i} <urgente>?", "open", f"Comune numero {i}")
            for i in range(5)
        ],
    )


def test_twenty_comuni_split_at_comune_boundaries_and_nothing_lost() -> None:
    data = _big_union()
    parts = render_summary(data, IT, limit=1500)
    assert len(parts) > 1
    for part in parts:
        assert telegram_length(part) <= 4096
        assert _balanced(part)
        assert _no_broken_entities(part)
    # Each Comune's line sits whole in one part.
    for c in range(20):
        holders = [p for p in parts if f"<b>Comune numero {c}</b>" in p]
        assert len(holders) == 1
        assert f"non ha ancora aggiornato: Tecnico {c}" in holders[0] or c % 2 == 0
    joined = "".join(plain_text(p) for p in parts)
    # The split loses nothing: the whole text, separators aside, is kept in order.
    single = render_summary(data, IT, limit=10**9)
    assert len(single) == 1
    squash = re.compile(r"\s+")
    assert squash.sub("", joined) == squash.sub("", plain_text(single[0]))


_word = st.text(
    alphabet=st.sampled_from(list("abcxyz <>&\"'èé🚲𝄞\u200b")),
    min_size=0,
    max_size=30,
)


@st.composite
def _row(draw: st.DrawFn) -> str:
    import html as h

    parts = draw(st.lists(_word, min_size=1, max_size=6))
    out = []
    for p in parts:
        tag = draw(st.sampled_from(["", "b", "i", "code"]))
        text = h.escape(p)
        out.append(f"<{tag}>{text}</{tag}>" if tag else text)
    return "".join(out)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(_row(), min_size=1, max_size=8), min_size=1, max_size=12),
    st.integers(min_value=8, max_value=300),
)
def test_splitter_keeps_limits_tags_and_content(sections: list[list[str]], limit: int) -> None:
    parts = split_sections(sections, limit=limit)
    for part in parts:
        assert telegram_length(part) <= limit
        assert _balanced(part)
        assert _no_broken_entities(part)
    squash = re.compile(r"\s+")
    original = "".join(plain_text(r) for s in sections for r in s)
    assert squash.sub("", "".join(plain_text(p) for p in parts)) == squash.sub("", original)


def test_split_row_counts_utf16_units_and_entities() -> None:
    row = "<b>" + "&amp;" * 5 + "𝄞" * 5 + "</b>"
    pieces = split_row(row, 6)
    assert all(telegram_length(p) <= 6 for p in pieces)
    assert "".join(plain_text(p) for p in pieces) == "&" * 5 + "𝄞" * 5
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in pieces)


def test_stuck_rounds_counts_back_from_the_latest() -> None:
    assert stuck_rounds([True, False, False]) == 2
    assert stuck_rounds([False, True]) == 0
    assert stuck_rounds([]) == 0


def test_decision_message_shows_who_voted_what() -> None:
    q = QuestionView(
        1,
        "Comprare <auto> elettriche?",
        "open",
        votes=(VoteView("Argelato", "approve", "Anna Rossi"), VoteView("Bentivoglio", "reject")),
    )
    text = render_decision(
        IT, question=q, comuni=["Argelato", "Bentivoglio", "Castello"], asked_by="Luca"
    )
    assert "Comprare &lt;auto&gt; elettriche?" in text
    assert "✅ Argelato: Approva (Anna Rossi)" in text
    assert "❌ Bentivoglio: Respingi" in text
    assert "▫️ Castello" in text
    assert "Voti: ✅ 1 · ❌ 1 · ⏸ 0 (2 Comuni su 3)" in text


def test_a_decision_names_whoever_left_in_the_readers_language() -> None:
    """Storage names a person who left «ex membro» (EX_MEMBER): the asker and the voter read
    «former member» to an English reader, as a note's author does."""
    q = QuestionView(
        decision_id=1,
        question="Comprare auto elettriche?",
        status="open",
        votes=(VoteView("Argelato", "approve", EX_MEMBER),),
    )
    english = render_decision(EN, question=q, comuni=["Argelato"], asked_by=EX_MEMBER)
    assert "(former member)" in english and english.count("former member") == 2
    assert "ex membro" not in english
    italian = render_decision(IT, question=q, comuni=["Argelato"], asked_by=EX_MEMBER)
    assert italian.count("ex membro") == 2


def test_covenant_milestones_and_leads() -> None:
    approved = date(2024, 3, 1)
    assert next_milestones(approved, date(2025, 12, 1)) == []
    (m,) = next_milestones(approved, date(2026, 1, 5))
    assert m == Milestone(date(2026, 3, 1), ("monitoring",))
    assert leads_reached(m, date(2026, 1, 5)) == [60]
    assert leads_reached(m, date(2026, 2, 20)) == [60, 14]
    assert leads_reached(m, date(2026, 3, 1)) == []
    (m4,) = next_milestones(approved, date(2028, 2, 1))
    assert m4.kinds == ("monitoring", "inventory")


def test_now_is_aware() -> None:
    assert NOW.tzinfo is UTC and datetime(2026, 1, 1, tzinfo=UTC) < NOW


def test_action_codes_sort_naturally() -> None:
    from bot.services.summaries.summary import natural_key

    codes = ["A10", "A2", "B1", "A1.10", "A1.9", "a3"]
    assert sorted(codes, key=natural_key) == ["A1.9", "A1.10", "A2", "a3", "A10", "B1"]
