"""Plain-data and database factories for the summaries tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.services.summary import (
    ActionChange,
    ActionSnapshot,
    ComuneInfo,
    MeetingView,
    QuestionView,
    SummaryInput,
    VoteView,
)

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


def small_union() -> SummaryInput:
    """Two Comuni, four actions, one intercommunal; the expectation is written by hand."""
    actions = [
        ActionSnapshot(
            1, "A1", "Illuminazione pubblica a LED", 10, "completed", 100, Decimal("120.5")
        ),
        ActionSnapshot(
            2,
            "A2",
            "Cappotto scuola <media> & palestra",
            10,
            "ongoing",
            40,
            Decimal("80"),
            stuck_rounds=2,
        ),
        ActionSnapshot(3, "B1", "Fotovoltaico municipio", 20, "not_started", 0, Decimal("50")),
        ActionSnapshot(4, "U1", "Sportello energia", None, "ongoing", 60, None),
    ]
    changes = [
        ActionChange(
            1, "ongoing", "completed", 70, 100, notes=("Collaudo fatto il 28/11",), photos=2
        ),
        ActionChange(4, "ongoing", "ongoing", 50, 60, documents=1),
    ]
    return SummaryInput(
        union_name="Unione Reno & Galliera",
        timezone="Europe/Rome",
        year=2026,
        month=12,
        generated_at=NOW,
        since=datetime(2026, 11, 4, 16, 0, tzinfo=UTC),
        comuni=[
            ComuneInfo(10, "Argelato"),
            ComuneInfo(20, "Bentivoglio", silent=("Luca <Bianchi>",)),
        ],
        actions=actions,
        changes=changes,
        next_meeting=MeetingView(
            datetime(2026, 12, 9, 16, 0, tzinfo=UTC), "Team energia", "Sala consiliare"
        ),
        questions=[
            QuestionView(
                7,
                "Anticipare i fondi per il cappotto?",
                "open",
                "Argelato",
                "A2",
                votes=(VoteView("Argelato", "approve", "Anna"),),
            ),
        ],
    )
