"""The summary's chart: actions by status and average progress, Comune by Comune (PNG bytes).

matplotlib is imported inside the function (Agg backend, no display) so that it stays out of the
bot's start-up memory; callers run it in a thread (`asyncio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import Translator
from bot.services.summaries.summary import (
    COMPLETED,
    NOT_STARTED,
    ONGOING,
    POSTPONED,
    STATUS_PLURALS,
)

_COLORS = {
    COMPLETED: "#2e7d32",
    ONGOING: "#1976d2",
    POSTPONED: "#f9a825",
    NOT_STARTED: "#bdbdbd",
}
_ORDER = (COMPLETED, ONGOING, POSTPONED, NOT_STARTED)


@dataclass(frozen=True)
class ComuneBar:
    name: str
    by_status: dict[str, int]
    average_progress: int


def render_chart(bars: Sequence[ComuneBar], tr: Translator, *, title: str) -> bytes:
    """A portrait PNG readable on a phone: one bar per Comune, coloured by status."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    _ = tr.gettext
    rows = list(bars)[::-1] or [ComuneBar("—", {}, 0)]  # first Comune on top
    height = min(2.2 + 0.42 * len(rows), 16.0)
    fig, ax = plt.subplots(figsize=(7.2, height), dpi=110)
    try:
        names = [r.name if len(r.name) <= 24 else r.name[:23] + "…" for r in rows]
        positions = list(range(len(rows)))  # numeric: equal names must not collapse
        left = [0] * len(rows)
        for status in _ORDER:
            counts = [r.by_status.get(status, 0) for r in rows]
            ax.barh(
                positions,
                counts,
                left=left,
                color=_COLORS[status],
                label=_(STATUS_PLURALS[status]),
                height=0.7,
            )
            left = [a + b for a, b in zip(left, counts, strict=True)]
        top = max(left) if left else 0
        for y, (total, row) in enumerate(zip(left, rows, strict=True)):
            ax.text(
                total + max(top * 0.01, 0.1),
                y,
                f"{row.average_progress}%",
                va="center",
                fontsize=11,
                fontweight="bold",
            )
        ax.set_xlim(0, max(top * 1.15, 1))
        ax.set_xlabel(_("Numero di azioni (a destra: avanzamento medio)"), fontsize=10)
        ax.set_yticks(positions, names)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.tick_params(axis="y", labelsize=11)
        ax.set_title(title, fontsize=13, fontweight="bold", loc="left")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.06 - 0.5 / height),
            ncol=4,
            fontsize=9,
            frameon=False,
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(fig)
