"""The summary's pictures (PNG bytes), one measure each, made to be read on a phone.

- **Comuni**: for each Comune (and «Unione» for the intercommunal actions) a 100 % horizontal
  bar split by status, «4/16 completate» written on it, the Comune's full name above it
  (wrapped, never cut). A large Union gets several pictures of at most `ROWS_PER_PICTURE`
  Comuni, so that each stays a portrait photo Telegram does not shrink below reading size.
- **CO₂**: the CO₂ avoided by the completed actions against what the PAES expects from all of
  them (the in-progress actions' share beside it), in t/anno.

Every picture is 1080 px wide (`WIDTH_IN` × `DPI`) with text of at least `MIN_POINTS` pt, the
legend on top, numbers in the reader's format (1.234,5 in Italian). Nothing to draw, no picture:
a Union with no actions gets no Comuni picture, one with no expected CO₂ no CO₂ picture.

matplotlib is imported inside the functions (Agg, no display, no pyplot: a `Figure` of its own
is safe in a worker thread) so that it stays out of the bot's start-up memory; callers draw in a
thread (`asyncio.to_thread`), never on the event loop. `figures` builds the pictures without
encoding them (the tests read their texts and sizes), `render_pictures` encodes them.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.i18n import Translator
from bot.services.summaries.summary import (
    COMPLETED,
    NOT_STARTED,
    ONGOING,
    POSTPONED,
    STATUS_PLURALS,
    format_number,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

# Light tones, so that the black «4/16 completate» reads on any of them (no box behind it).
COLORS = {
    COMPLETED: "#81c784",
    ONGOING: "#90caf9",
    POSTPONED: "#ffd54f",
    NOT_STARTED: "#e0e0e0",
}
CO2_DONE, CO2_ONGOING = "#43a047", "#a5d6a7"
ORDER = (COMPLETED, ONGOING, POSTPONED, NOT_STARTED)
DPI = 150
WIDTH_IN = 7.2  # × DPI = 1080 px
MIN_POINTS = 14
TITLE_POINTS = 17
ROWS_PER_PICTURE = 12
ROW_IN = 0.86  # a Comune: its name above, its bar below
LINE_IN = 0.27  # one more line of a wrapped name
NAME_WIDTH = 58  # characters of a name's line before it wraps (at MIN_POINTS over 1080 px)


@dataclass(frozen=True)
class ComuneBar:
    name: str
    by_status: dict[str, int]
    average_progress: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Co2Figures:
    """t/anno: avoided by the completed actions, expected from those in progress, expected
    from all the actions of the PAES."""

    completed: Decimal
    ongoing: Decimal
    target: Decimal


@dataclass(frozen=True)
class Picture:
    name: str  # the file's name
    caption: str
    png: bytes


def pages(bars: Sequence[ComuneBar]) -> list[list[ComuneBar]]:
    """The Comuni with actions, in pictures of at most ROWS_PER_PICTURE, balanced."""
    rows = [b for b in bars if b.total]
    if not rows:
        return []
    count = math.ceil(len(rows) / ROWS_PER_PICTURE)
    size = math.ceil(len(rows) / count)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _new_figure(height_in: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")


def comuni_figure(rows: Sequence[ComuneBar], tr: Translator, *, title: str) -> Figure:
    """One picture of Comuni: the title and the legend on top, then per Comune its name and a
    100 % bar by status with «k/n completate» on it."""
    from matplotlib.collections import PolyCollection

    _ = tr.gettext
    names = [textwrap.wrap(r.name, NAME_WIDTH, break_long_words=False) or ["—"] for r in rows]
    heights = [ROW_IN + LINE_IN * (len(n) - 1) for n in names]
    top_in, bottom_in = 1.45, 0.25
    height = top_in + sum(heights) + bottom_in
    fig = _new_figure(height)
    fig.text(0.04, 1 - 0.3 / height, title, fontsize=TITLE_POINTS, fontweight="bold", va="top")
    # The axes span the rows; y runs in inches from the bottom of the rows' area.
    ax = fig.add_axes((0.04, bottom_in / height, 0.92, sum(heights) / height))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, sum(heights))
    ax.axis("off")
    y = sum(heights)
    boxes: list[list[tuple[float, float]]] = []
    colors: list[str] = []
    for row, name, h in zip(rows, names, heights, strict=True):
        bottom = y - h + 0.1  # the bar: 0.42 in tall, under the name
        ax.text(0, y - 0.02, "\n".join(name), fontsize=MIN_POINTS, va="top", linespacing=1.05)
        left = 0.0
        for status in ORDER:
            share = row.by_status.get(status, 0) / row.total
            if share:
                right, top = left + share, bottom + 0.42
                boxes.append([(left, bottom), (right, bottom), (right, top), (left, top)])
                colors.append(COLORS[status])
            left += share
        done = row.by_status.get(COMPLETED, 0)
        ax.text(
            0.015,
            bottom + 0.21,
            _("{done}/{total} completate").format(done=done, total=row.total),
            fontsize=MIN_POINTS,
            fontweight="bold",
            va="center",
        )
        y -= h
    # Every bar's segments as one collection: one artist to draw, not one per segment.
    ax.add_collection(PolyCollection(boxes, facecolors=colors, edgecolors="none"))
    handles = [_patch(COLORS[s]) for s in ORDER]
    fig.legend(
        handles,
        [_(STATUS_PLURALS[s]) for s in ORDER],
        loc="upper left",
        bbox_to_anchor=(0.03, 1 - 0.72 / height),
        ncol=4,
        fontsize=MIN_POINTS,
        frameon=False,
        handlelength=1.0,
        handletextpad=0.4,
        columnspacing=1.0,
    )
    return fig


def _patch(color: str) -> Patch:
    from matplotlib.patches import Patch

    return Patch(color=color)


def co2_figure(co2: Co2Figures, tr: Translator, *, title: str) -> Figure:
    """The Union's CO₂ avoided against the PAES: one bar, the target its full length."""
    _ = tr.gettext
    lang = tr.language
    target = float(co2.target)
    done, ongoing = float(co2.completed) / target, float(co2.ongoing) / target
    said = _("CO₂ evitata: {done} t/anno su {target} t/anno previste dal PAES ({pct}%)").format(
        done=format_number(co2.completed, lang, decimals=1),
        target=format_number(co2.target, lang, decimals=1),
        pct=round(done * 100),
    )
    lines = textwrap.wrap(said, NAME_WIDTH + 4)
    text_in = 0.3 * len(lines)
    legend_in, bar_in, bottom_in = 0.75, 0.75, 0.3
    height = 0.95 + text_in + legend_in + bar_in + bottom_in
    fig = _new_figure(height)
    fig.text(0.04, 1 - 0.3 / height, title, fontsize=TITLE_POINTS, fontweight="bold", va="top")
    fig.text(0.04, 1 - 0.85 / height, "\n".join(lines), fontsize=MIN_POINTS, va="top")
    labels = [_("Evitata (azioni completate)"), _("Attesa dalle azioni in corso")]
    fig.legend(  # on top, under the sentence it explains
        [_patch(CO2_DONE), _patch(CO2_ONGOING)],
        labels,
        loc="upper left",
        bbox_to_anchor=(0.03, 1 - (0.95 + text_in) / height),
        ncol=1,
        fontsize=MIN_POINTS,
        frameon=False,
        handlelength=1.0,
        borderaxespad=0,
    )
    ax = fig.add_axes((0.04, bottom_in / height, 0.92, bar_in / height))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.barh(0.5, 1, height=1, color="white", edgecolor="#616161", linewidth=1.5)
    ax.barh(0.5, done, height=1, color=CO2_DONE)
    ax.barh(0.5, ongoing, left=done, height=1, color=CO2_ONGOING)
    return fig


def figures(
    bars: Sequence[ComuneBar], co2: Co2Figures, tr: Translator, *, title: str
) -> list[tuple[str, str, Figure]]:
    """(file name, caption, figure) of each picture to send, in order; none when there is
    nothing to draw."""
    _ = tr.gettext
    result = []
    chunks = pages(bars)
    for n, chunk in enumerate(chunks, 1):
        heading = title if len(chunks) == 1 else f"{title} ({n}/{len(chunks)})"
        caption = _("Azioni per stato, Comune per Comune")
        result.append((f"riepilogo-{n}.png", caption, comuni_figure(chunk, tr, title=heading)))
    if co2.target > 0:
        caption = _("CO₂ evitata rispetto all'obiettivo del PAES")
        result.append(("riepilogo-co2.png", caption, co2_figure(co2, tr, title=title)))
    return result


def png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # A fast zlib level: the pictures are flat colours, a stronger one saves little.
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def render_pictures(
    bars: Sequence[ComuneBar], co2: Co2Figures, tr: Translator, *, title: str
) -> list[Picture]:
    """The summary's pictures as PNGs (run it in a thread)."""
    return [
        Picture(name, caption, png(fig))
        for name, caption, fig in figures(bars, co2, tr, title=title)
    ]
