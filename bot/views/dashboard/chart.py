"""Charts as inline SVG, drawn on the server: no script, no external library, a few hundred
bytes. Presentation attributes only (no style attributes: the pages' Content-Security-Policy
allows no inline style). Each chart has a title and a description for screen readers, and the
page gives its numbers in a table as well."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from bot.i18n import Translator, format_month
from bot.views.dashboard.html import e, tonnes
from bot.views.dashboard.model import STATUS_ORDER, Co2Point, Figures

STATUS_FILL = {
    "completed": "#1d6b3a",
    "ongoing": "#1f5fa8",
    "postponed": "#b07400",
    "not_started": "#9aa0a6",
}

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 24, 26


def _scale_max(values: Sequence[float]) -> float:
    """A round top for the y axis, a little above the largest value: 1, 1.5, 2, 2.5, 3, 4, 5,
    6 or 8 × 10ⁿ (so the curve and the target fill most of the height)."""
    top = max([*values, 1.0])
    step = 1.0
    while step * 10 <= top:
        step *= 10
    while step > top:
        step /= 10
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if factor * step >= top * 1.05:
            return factor * step
    return 10 * step


def co2_chart(
    series: Sequence[Co2Point], target: Decimal, tr: Translator, *, chart_id: str = "co2"
) -> str:
    """CO₂ avoided by completed actions, month by month (an area), against the plan's target
    (a dashed line, when the plan gives one)."""
    _ = tr.gettext
    lang = tr.language
    if not series:
        return ""
    values = [float(p.avoided_t) for p in series]
    top = _scale_max([*values, float(target)])
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (inner_w * i / (len(series) - 1) if len(series) > 1 else inner_w / 2)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - v / top)

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    area = (
        f"M{x(0):.1f},{y(0):.1f} L"
        + " L".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        + f" L{x(len(values) - 1):.1f},{y(0):.1f} Z"
    )
    first, last = series[0].month, series[-1].month
    title = _("CO₂ evitata dalle azioni completate, mese per mese")
    desc = _("Da {start} a {end}: da {first} a {last} tonnellate l'anno.").format(
        start=format_month(first.year, first.month, lang),
        end=format_month(last.year, last.month, lang),
        first=tonnes(values[0], lang),
        last=tonnes(values[-1], lang),
    )
    if target > 0:
        desc += " " + _("Obiettivo del PAES: {target} tonnellate l'anno.").format(
            target=tonnes(target, lang)
        )
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{e(title)}</title><desc id="{chart_id}-d">{e(desc)}</desc>'
    )
    parts = [head, *_axes(top, y, tr), f'<path d="{area}" fill="#1d6b3a" fill-opacity=".25"/>']
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1d6b3a" stroke-width="2.5"/>')
    if target > 0:
        parts += _target_line(y(float(target)), tr)
    parts += _month_labels(first, last, lang)
    parts.append("</svg>")
    return "".join(parts)


def _axes(top: float, y: Callable[[float], float], tr: Translator) -> list[str]:
    """The baseline and the top gridline, labelled 0 and the top in t CO₂/year."""
    lang = tr.language
    return [
        f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(0):.1f}" '
        'stroke="currentColor" stroke-opacity=".5"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="currentColor" '
        'stroke-opacity=".2"/>',
        f'<text x="{LEFT - 4}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{e(tonnes(top, lang))}</text>',
        f'<text x="{LEFT}" y="11">{e(tr.gettext("t CO₂/anno"))}</text>',
    ]


def _target_line(ty: float, tr: Translator) -> list[str]:
    return [
        f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" '
        'stroke="#b07400" stroke-width="2" stroke-dasharray="6 4"/>',
        f'<text x="{WIDTH - RIGHT}" y="{ty - 4:.1f}" text-anchor="end">'
        f"{e(tr.gettext('obiettivo PAES'))}</text>",
    ]


def _month_labels(first: date, last: date, lang: str) -> list[str]:
    label_y = HEIGHT - 8
    return [
        f'<text x="{LEFT}" y="{label_y}">'
        f"{e(format_month(first.year, first.month, lang)[:3] + ' ' + str(first.year))}</text>",
        f'<text x="{WIDTH - RIGHT}" y="{label_y}" text-anchor="end">'
        f"{e(format_month(last.year, last.month, lang)[:3] + ' ' + str(last.year))}</text>",
    ]


def status_bar(fig: Figures) -> str:
    """A thin stacked bar of the actions by status; decorative (the numbers are in the text)."""
    if fig.total == 0:
        return ""
    rects, offset = [], 0.0
    for status in STATUS_ORDER:
        count = fig.count(status)
        if not count:
            continue
        width = 100 * count / fig.total
        rects.append(
            f'<rect x="{offset:.2f}" y="0" width="{width:.2f}" height="8" '
            f'fill="{STATUS_FILL[status.value]}"/>'
        )
        offset += width
    return (
        '<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" '
        f'focusable="false" xmlns="http://www.w3.org/2000/svg">{"".join(rects)}</svg>'
    )
