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

Drawing cost (issue 16, bench/README.md «The summary's pictures»): most of it is text, glyph by
glyph. So the layout is ours, in inches from each picture's bottom left (no Axes, whose ticks
and spines cost a third of a picture's set-up even when hidden; no tight layout, which draws
twice); the figure is drawn once and written as PNG here (unfiltered rows, fast zlib) rather
than by Pillow's encoder, which tries five row filters; glyphs are drawn unhinted.
"""

from __future__ import annotations

import math
import struct
import textwrap
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

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
LEFT_IN, BAR_WIDTH_IN = 0.29, 6.62  # the bars' left edge and their full length
TOP_IN, BOTTOM_IN = 1.45, 0.25  # above the rows: the title and the legend
ROW_IN = 0.86  # a Comune: its name above, its bar below
BAR_IN = 0.42
LINE_IN = 0.27  # one more line of a wrapped name
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_LEVEL = 3  # zlib: as small as level 6 within 10 %, at half its time
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
    import matplotlib
    from matplotlib.figure import Figure

    # Glyphs unhinted: a third less time drawing text, and at 150 dpi and 14 pt hinting makes
    # no difference one can see on a phone. Agg reads it at every draw from the process-wide
    # settings; this module is the bot's only user of matplotlib, and always wants it.
    matplotlib.rcParams["text.hinting"] = "no_hinting"
    return Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")


def _text(fig: Figure, x: float, y: float, text: str, **style: Any) -> None:
    """`text` at (`x`, `y`) inches from the picture's bottom left, never read as mathtext (a
    Comune's name may hold a «$»)."""
    fig.text(x, y, text, transform=fig.dpi_scale_trans, parse_math=False, **style)


def _boxes(fig: Figure, boxes: list[tuple[float, float, float, float]], colors: list[str]) -> None:
    """Rectangles (left, bottom, width, height in inches) as one artist: one draw, not one per
    box."""
    from matplotlib.collections import PolyCollection

    verts = [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)] for x, y, w, h in boxes]
    fig.add_artist(
        PolyCollection(verts, facecolors=colors, edgecolors="none", transform=fig.dpi_scale_trans)
    )


def comuni_figure(rows: Sequence[ComuneBar], tr: Translator, *, title: str) -> Figure:
    """One picture of Comuni: the title and the legend on top, then per Comune its name and a
    100 % bar by status with «k/n completate» on it. No Axes: every position is in inches,
    computed here (nothing for matplotlib to lay out)."""
    _ = tr.gettext
    names = [textwrap.wrap(r.name, NAME_WIDTH, break_long_words=False) or ["—"] for r in rows]
    heights = [ROW_IN + LINE_IN * (len(n) - 1) for n in names]
    height = TOP_IN + sum(heights) + BOTTOM_IN
    fig = _new_figure(height)
    _title(fig, title, height)
    y = height - TOP_IN  # the top of the next row
    boxes: list[tuple[float, float, float, float]] = []
    colors: list[str] = []
    for row, name, h in zip(rows, names, heights, strict=True):
        bottom = y - h + 0.1  # the bar: BAR_IN tall, under the name
        _text(
            fig, LEFT_IN, y - 0.02, "\n".join(name), fontsize=MIN_POINTS, va="top", linespacing=1.05
        )
        left = 0.0
        for status in ORDER:
            share = row.by_status.get(status, 0) / row.total
            if share:
                boxes.append((LEFT_IN + left * BAR_WIDTH_IN, bottom, share * BAR_WIDTH_IN, BAR_IN))
                colors.append(COLORS[status])
            left += share
        done = row.by_status.get(COMPLETED, 0)
        _text(
            fig,
            LEFT_IN + 0.1,
            bottom + BAR_IN / 2,
            _("{done}/{total} completate").format(done=done, total=row.total),
            fontsize=MIN_POINTS,
            fontweight="bold",
            va="center",
        )
        y -= h
    _boxes(fig, boxes, colors)
    _legend(
        fig,
        [COLORS[s] for s in ORDER],
        [_(STATUS_PLURALS[s]) for s in ORDER],
        height - 0.82,
        ncol=4,
    )
    return fig


def _title(fig: Figure, title: str, height: float) -> None:
    _text(fig, LEFT_IN, height - 0.3, title, fontsize=TITLE_POINTS, fontweight="bold", va="top")


def _legend(fig: Figure, colors: list[str], labels: list[str], top: float, *, ncol: int) -> None:
    """The legend, on top: the Figure's own (its entries laid out by matplotlib), its upper
    left corner `top` inches from the bottom."""
    fig.legend(
        [_patch(c) for c in colors],
        labels,
        loc="upper left",
        bbox_to_anchor=(LEFT_IN - 0.08, top),  # less the legend's own border
        bbox_transform=fig.dpi_scale_trans,
        ncol=ncol,
        fontsize=MIN_POINTS,
        frameon=False,
        handlelength=1.0,
        handletextpad=0.4,
        columnspacing=1.0,
        borderaxespad=0,
    )


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
    _title(fig, title, height)
    _text(fig, LEFT_IN, height - 0.85, "\n".join(lines), fontsize=MIN_POINTS, va="top")
    labels = [_("Evitata (azioni completate)"), _("Attesa dalle azioni in corso")]
    # On top, under the sentence it explains.
    _legend(fig, [CO2_DONE, CO2_ONGOING], labels, height - 0.95 - text_in, ncol=1)
    _boxes(
        fig,
        [
            (LEFT_IN, bottom_in, done * BAR_WIDTH_IN, bar_in),
            (LEFT_IN + done * BAR_WIDTH_IN, bottom_in, ongoing * BAR_WIDTH_IN, bar_in),
        ],
        [CO2_DONE, CO2_ONGOING],
    )
    # The target: the whole bar's outline.
    from matplotlib.patches import Rectangle

    fig.add_artist(
        Rectangle(
            (LEFT_IN, bottom_in),
            BAR_WIDTH_IN,
            bar_in,
            fill=False,
            edgecolor="#616161",
            linewidth=1.5,
            transform=fig.dpi_scale_trans,
        )
    )
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
        if len(chunks) > 1:  # two photos with one caption read as the same one sent twice
            caption += f" ({n}/{len(chunks)})"
        result.append((f"riepilogo-{n}.png", caption, comuni_figure(chunk, tr, title=heading)))
    if co2.target > 0:
        caption = _("CO₂ evitata rispetto all'obiettivo del PAES")
        result.append(("riepilogo-co2.png", caption, co2_figure(co2, tr, title=title)))
    return result


def png(fig: Figure) -> bytes:
    """The picture drawn once by Agg, its RGBA pixels written as a PNG: rows unfiltered, zlib at
    a fast level (flat colours and white compress well without PNG's per-row filters, which
    Pillow tries five of on every row)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height()
    pixels = memoryview(canvas.buffer_rgba()).cast("B")
    stride = 4 * width
    rows = b"".join(b"\0" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, no interlace
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows, PNG_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_pictures(
    bars: Sequence[ComuneBar], co2: Co2Figures, tr: Translator, *, title: str
) -> list[Picture]:
    """The summary's pictures as PNGs (run it in a thread)."""
    return [
        Picture(name, caption, png(fig))
        for name, caption, fig in figures(bars, co2, tr, title=title)
    ]
