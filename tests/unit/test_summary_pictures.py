"""The summary's pictures (issue 16): one measure each, readable on a phone.

Three fixtures are rendered — 3 Comuni, 20 Comuni with intercommunal actions, a Union with no
actions — and their PNGs written to `.transcripts/charts/` for a reviewer to look at. The tests
assert the pictures' structure (sizes, texts, font sizes), not their pixels.
"""

from __future__ import annotations

import struct
from decimal import Decimal
from pathlib import Path

import pytest

from bot.i18n import translator
from bot.services.summaries.chart import (
    DPI,
    MIN_POINTS,
    ROWS_PER_PICTURE,
    Co2Figures,
    ComuneBar,
    figures,
    render_pictures,
)

CHARTS = Path(__file__).resolve().parents[2] / ".transcripts" / "charts"
LONG = "San Giovanni in Persiceto e Sant'Agata Bolognese"

THREE = [
    ComuneBar("Bibbiano", {"completed": 4, "ongoing": 6, "postponed": 2, "not_started": 4}),
    ComuneBar(LONG, {"completed": 1, "ongoing": 2}),
    ComuneBar("Canossa", {"not_started": 5}),
]
TWENTY = [
    ComuneBar(
        f"Comune di prova numero {n:02d}" if n % 5 else f"{LONG} {n}",
        {
            "completed": n % 7,
            "ongoing": 10 - n % 4,
            "postponed": n % 3,
            "not_started": 30 - n % 7 - (10 - n % 4) - n % 3,
        },
    )
    for n in range(1, 21)
] + [ComuneBar("Unione", {"completed": 2, "ongoing": 3})]
CO2 = Co2Figures(Decimal("1234.5"), Decimal("2100.25"), Decimal("10500"))
NO_CO2 = Co2Figures(Decimal(0), Decimal(0), Decimal(0))


def _texts(fig: object) -> list[tuple[str, float]]:
    from matplotlib.text import Text

    return [
        (t.get_text(), t.get_fontsize())
        for t in fig.findobj(Text)  # type: ignore[attr-defined]
        if t.get_text().strip()
    ]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _save(name: str, data: bytes) -> Path:
    CHARTS.mkdir(parents=True, exist_ok=True)
    path = CHARTS / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("label", "bars"), [("3-comuni", THREE), ("20-comuni", TWENTY)])
def test_each_comune_is_a_full_bar_with_its_completed_count_and_full_name(
    label: str, bars: list[ComuneBar]
) -> None:
    tr = translator("it")
    made = figures(bars, CO2, tr, title="Unione Val d'Enza · dicembre 2026")
    comuni_pictures = [f for name, _c, f in made if "co2" not in name]
    assert len(comuni_pictures) == -(-len(bars) // ROWS_PER_PICTURE)
    # Two photos never share one caption: they would read as the same one sent twice.
    captions = [c for name, c, _f in made if "co2" not in name]
    assert len(set(captions)) == len(captions)
    if len(captions) > 1:
        assert captions[0] == f"Azioni per stato, Comune per Comune (1/{len(captions)})"
    texts = [t for fig in comuni_pictures for t in _texts(fig)]
    joined = " ".join(" ".join(text.split()) for text, _size in texts)
    for bar in bars:
        done = bar.by_status.get("completed", 0)
        assert f"{done}/{bar.total} completate" in joined
        assert bar.name in joined  # whole, only wrapped
        assert "…" not in joined
    # Legend on top, text ≥ 14 pt on a 1080 px wide picture.
    for fig in comuni_pictures:
        assert round(fig.get_figwidth() * DPI) == 1080
        assert all(size >= MIN_POINTS for _text, size in _texts(fig))
        legend = fig.legends[0]
        assert [t.get_text() for t in legend.get_texts()] == [
            "Completate",
            "In corso",
            "Rinviate",
            "Non avviate",
        ]
        assert legend.get_bbox_to_anchor().y0 > 0.8 * fig.bbox.height
    # No average progress on the picture any more: one measure.
    assert not any(text.endswith("%") for text, _s in texts)
    for n, picture in enumerate(render_pictures(bars, CO2, tr, title="Unione Val d'Enza"), 1):
        width, height = _png_size(picture.png)
        assert width == 1080 and 300 < height <= 2000
        print(_save(f"{label}-{n}.png", picture.png))


def test_the_co2_picture_says_avoided_against_the_target_in_italian_numbers() -> None:
    tr = translator("it")
    made = figures(THREE, CO2, tr, title="Unione Val d'Enza")
    name, caption, fig = made[-1]
    assert name == "riepilogo-co2.png"
    assert caption == "CO₂ evitata rispetto all'obiettivo del PAES"
    joined = " ".join(text for text, _s in _texts(fig))
    assert "1.234,5 t/anno su 10.500,0 t/anno" in joined
    assert "(12%)" in joined
    assert all(size >= MIN_POINTS for _t, size in _texts(fig))
    # The legend above the bar it explains.
    from matplotlib.patches import Rectangle

    (outline,) = [a for a in fig.artists if isinstance(a, Rectangle)]  # the target: the whole bar
    bar_top = outline.get_window_extent().y1
    assert 0 < bar_top < 0.5 * fig.bbox.height
    assert fig.legends[0].get_bbox_to_anchor().y0 > bar_top
    english = " ".join(
        t for t, _s in _texts(figures(THREE, CO2, translator("en"), title="U")[-1][2])
    )
    assert "1,234.5" in english


def test_nothing_to_draw_no_picture() -> None:
    tr = translator("it")
    empty = [ComuneBar("Bibbiano", {}), ComuneBar("Canossa", {})]
    assert figures(empty, NO_CO2, tr, title="U") == []
    assert render_pictures([], NO_CO2, tr, title="U") == []
    # Actions with no expected CO₂: the Comuni picture only.
    assert [n for n, _c, _f in figures(THREE, NO_CO2, tr, title="U")] == ["riepilogo-1.png"]
    CHARTS.mkdir(parents=True, exist_ok=True)
    (CHARTS / "no-actions.txt").write_text("No actions: the summary has no picture.\n")
