"""The summary to the political table starts with what the mayors must do (issue 16).

Plain data in, Telegram HTML out: the order (questions to vote, decisions to carry out, the
next meeting, three lines of totals, one line per Comune), no count that says zero, the
reader's own Comune first in a private copy, plain words when it is late, and its length for
3, 20 and 40 Comuni.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.i18n import translator
from bot.services.summaries.summary import (
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    NoteView,
    QuestionView,
    SummaryInput,
    VoteView,
    render_summary,
)
from bot.views.html_split import plain_text, telegram_length
from tests.summaries_factories import NOW, small_union

IT = translator("it")
EN = translator("en")
SINCE = datetime(2026, 11, 4, 16, 0, tzinfo=UTC)
STATUSES = ("completed", "ongoing", "ongoing", "postponed", "not_started")


def big_union(comuni: int, per: int = 30) -> SummaryInput:
    """A month like the benchmark's (bench/summary.py): per Comune 30 actions, 21 of them
    moved (3 completed now), 6 stuck, two notes, a silent technician in every third Comune, one
    open question per Comune with a vote from every Comune."""
    actions, changes = [], []
    for c in range(comuni):
        for a in range(per):
            aid = c * 1000 + a
            status = STATUSES[a % len(STATUSES)]
            actions.append(
                ActionSnapshot(
                    aid,
                    f"C{c + 1:02d}.{a + 1:02d}",
                    f"Azione {a + 1} del Comune {c + 1}: illuminazione pubblica LED",
                    c,
                    status,
                    (a * 7) % 100,
                    Decimal(a) * Decimal("1.5"),
                    stuck_rounds=3 if a % 5 == 3 else 0,  # the postponed ones
                )
            )
            if a % 5 in (1, 2, 4) or a % 10 == 0:  # and a third of the completed ones now
                old = "ongoing" if status == "completed" else status
                changes.append(ActionChange(aid, old, status, 10, 14, notes=("Lavori <ok>",)))
    names = [f"Comune {c + 1:02d}" for c in range(comuni)]
    return SummaryInput(
        union_name="Unione Bench",
        timezone="Europe/Rome",
        year=2026,
        month=12,
        generated_at=NOW,
        since=SINCE,
        comuni=[
            ComuneInfo(
                c,
                names[c],
                silent=(f"Persona {c + 1}",) if c % 3 == 0 else (),
                notes=tuple(
                    NoteView(f"Persona {c + 1}", f"Sopralluogo {k} fatto", NOW) for k in range(2)
                ),
            )
            for c in range(comuni)
        ],
        actions=actions,
        changes=changes,
        questions=[
            QuestionView(
                c + 1,
                f"Approvare il progetto esecutivo del Comune {c + 1}?",
                "open",
                names[c],
                f"C{c + 1:02d}.01",
                votes=tuple(
                    VoteView(names[v], ("approve", "reject", "postpone")[(v + c) % 3])
                    for v in range(comuni)
                ),
            )
            for c in range(comuni)
        ],
    )


def _plain(parts: list[str]) -> str:
    return "\n".join(plain_text(p) for p in parts)


def test_what_the_mayors_must_do_comes_first() -> None:
    (text,) = render_summary(small_union(), IT)
    plain = _plain([text])
    order = [
        plain.index("Da decidere: votate con i pulsanti nei messaggi qui sotto"),
        plain.index("Prossima riunione: mer 9 dic, 17:00"),
        plain.index("In sintesi"),
        plain.index("Argelato · 1/2 completate"),
        plain.index("Il dettaglio di ogni azione"),
    ]
    assert order == sorted(order)
    # Three lines of totals, the CO₂ against the PAES among them.
    totals = plain.split("In sintesi\n")[1].split("\n\n")[0].split("\n")
    assert totals == [
        "4 azioni: ✅ 1 completata · 🔄 2 in corso · ⚪ 1 non avviata",
        "Dall'ultimo riepilogo: 2 azioni aggiornate, 1 completata, "
        "1 tecnico non ha ancora aggiornato",
        "🌱 CO₂ evitata: 120,5 t/anno su 250,5 t/anno previste dal PAES (48%); "
        "altre 80,0 t/anno con le azioni in corso",
    ]


def test_no_line_or_count_says_zero() -> None:
    parts = render_summary(big_union(20), IT)
    text = _plain(parts)
    assert not re.search(r"(?<![\d/,.])0 (completat|rinviat|non avviat|in corso|aggiornat)", text)
    assert not re.search(r"\b(Rinviate|Non avviate|Completate) 0\b", text)
    assert "❌ 0" not in text and "⏸ 0" not in text
    small = _plain(render_summary(small_union(), IT))
    assert "⏸" not in small.split("In sintesi")[1]  # no postponed action: not mentioned


def test_one_line_per_comune_says_what_moved_what_is_stuck_who_did_not_answer() -> None:
    text = _plain(render_summary(big_union(20), IT))
    rows = text.split("\n")
    comune1 = next(r for r in rows if r.startswith("Comune 01 ·"))
    assert comune1 == (
        "Comune 01 · 6/30 completate · 21 aggiornate · ✅ C01.01, C01.11, C01.21 completate "
        "· ⏳ 6 ferme · 💬 2 note · 🔕 non ha ancora aggiornato: Persona 1"
    )
    assert sum(1 for r in rows if re.match(r"Comune \d\d ·", r)) == 20


def test_the_readers_own_comune_comes_first_and_marked_in_private() -> None:
    data = small_union()
    group = _plain(render_summary(data, IT))
    assert group.index("Argelato ·") < group.index("Bentivoglio ·") and "📍" not in group
    private = _plain(render_summary(data, IT, private=True, own=frozenset({20})))
    assert private.index("📍 Bentivoglio ·") < private.index("Argelato ·")
    assert "Da decidere: vota con i pulsanti" in private  # «tu» in private


def test_late_in_plain_words() -> None:
    (text,) = render_summary(replace(small_union(), late=True), IT)
    assert "Riepilogo inviato in ritardo per un problema tecnico." in text
    assert "bot era fermo" not in text and "⚠️" not in text
    (english,) = render_summary(replace(small_union(), late=True), EN)
    assert "Summary sent late because of a technical problem." in english


def test_intercommunal_actions_are_the_unions_line() -> None:
    text = _plain(render_summary(small_union(), IT))
    assert "Unione · 1 azione · 1 aggiornata" in text
    assert "intercomunali" not in text


def test_a_union_with_no_actions_says_so_once() -> None:
    data = replace(small_union(), actions=[], changes=[], questions=[])
    text = _plain(render_summary(data, IT))
    assert "Nessuna azione del PAES caricata." in text
    assert "CO₂" not in text


@pytest.mark.parametrize(
    ("comuni", "messages", "chars"), [(3, 1, 1300), (20, 2, 4200), (40, 3, 6600)]
)
def test_length_in_messages_and_characters(comuni: int, messages: int, chars: int) -> None:
    """The same months rendered by main before issue 16 (detail levels down to four messages):
    3 Comuni 3 messages / 7,420 characters, 20 Comuni 4 / 13,161, 40 Comuni 4 / 10,747. Now
    1 / 1,214, 1 / 3,939 and 3 / 6,385 (bench/README.md has the benchmark's figures)."""
    parts = render_summary(big_union(comuni), IT)
    total = sum(telegram_length(p) for p in parts)
    print(f"{comuni} Comuni: {len(parts)} messages, {total} characters")
    assert len(parts) <= messages
    assert total <= chars
    assert all(telegram_length(p) <= 4096 for p in parts)


def test_at_most_ten_questions_are_named_the_rest_counted() -> None:
    text = _plain(render_summary(big_union(14), IT))
    assert "10. Approvare il progetto esecutivo del Comune 10?" in text
    assert "11. Approvare" not in text
    assert "… e altre 4 questioni, nei messaggi qui sotto" in text
    assert "(Comune 01, C01.01) — ✅ 5 · ❌ 5 · ⏸ 4" in text


def test_only_approved_decisions_are_to_carry_out_and_postponed_ones_return() -> None:
    """«Decisioni da attuare» lists what was approved; a rejected question has nothing to carry
    out (it was announced when closed); a postponed one goes back to the next meeting."""
    data = replace(
        small_union(),
        questions=[
            QuestionView(1, "Bando per le palestre?", "approved", "Argelato"),
            QuestionView(2, "LED in tutte le scuole?", "rejected", "Bentivoglio"),
            QuestionView(3, "Piste ciclabili tra i Comuni?", "postponed"),
        ],
    )
    text = _plain(render_summary(data, IT))
    assert "📌 Decisioni da attuare\n1. Bando per le palestre? (Argelato)\n" in text
    assert (
        "⏸ Rinviate: tornano alla prossima riunione del tavolo politico\n"
        "1. Piste ciclabili tra i Comuni?\n"
    ) in text
    assert "LED in tutte le scuole" not in text
    assert "Da decidere" not in text and "Nessuna questione aperta" not in text
    only_rejected = replace(data, questions=data.questions[1:2])
    assert "🗳 Nessuna questione aperta per il tavolo politico." in _plain(
        render_summary(only_rejected, IT)
    )
