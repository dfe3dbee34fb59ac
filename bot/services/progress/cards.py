"""An action's card: its fields, then the technical group's latest notes on its Comune.

The card is composed here rather than in bot.views.actions because it embeds the notes as the
summary renders them (bot.services.summaries.summary.card_note_rows) and the numbers as the importer reads
them (action_import.format_decimal_display): a view may not import services. Its buttons are
the view's (`card_keyboard`)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services import action_import as importer
from bot.services.summaries.build import note_view
from bot.services.summaries.summary import CARD_NOTES_READ, NoteView, card_note_rows
from bot.views.actions import STATUS_ICONS, card_keyboard, status_label, where
from bot.views.html_split import TELEGRAM_LIMIT, telegram_length
from bot.views.keyboard import Keyboard
from storage.models import Action, Union
from storage.repositories import core as core_repo
from storage.repositories import summaries as summaries_repo


async def card(
    session: AsyncSession,
    action: Action,
    tr: Translator,
    *,
    coordinator: bool,
    now: datetime,
    names: Mapping[int, str] | None = None,
    reserve: int = 0,
) -> tuple[str, Keyboard | None]:
    """An action's card as it stands, with the technical group's latest notes on its Comune."""
    union = await session.get(Union, action.union_id)
    timezone = union.timezone if union is not None else "Europe/Rome"
    notes = await summaries_repo.group_notes(
        session,
        union_id=action.union_id,
        comune=action.municipality_id
        if action.municipality_id is not None
        else summaries_repo.UNION_NOTES,
        latest=CARD_NOTES_READ,
    )
    if names is None:
        names = await core_repo.municipality_names(session, action.union_id, include_archived=True)
    return render_detail(
        action,
        names,
        tr,
        coordinator=coordinator,
        notes=[note_view(n) for n in notes],
        timezone=timezone,
        today=now.astimezone(ZoneInfo(timezone)).date(),
        reserve=reserve,
    )


def render_detail(
    action: Action,
    names: Mapping[int, str],
    tr: Translator,
    *,
    coordinator: bool,
    notes: Sequence[NoteView] = (),
    timezone: str = "Europe/Rome",
    today: date | None = None,
    reserve: int = 0,
) -> tuple[str, Keyboard | None]:
    """The card; the notes fill what is left of Telegram's limit (less `reserve`, for a text
    the caller puts before the card): shortened, then fewer, never the card's own lines."""
    _ = tr.gettext
    lines = [
        f"<b>{html.escape(action.code)}</b> — {html.escape(action.title)}",
        _("Comune: {where}").format(where=html.escape(where(action, names, tr))),
        _("Stato: {icon} {status}, {progress}%").format(
            icon=STATUS_ICONS[action.status],
            status=html.escape(status_label(action.status, tr)),
            progress=action.progress,
        ),
    ]
    if action.sector:
        lines.append(_("Settore: {v}").format(v=html.escape(action.sector)))
    if action.responsible:
        lines.append(_("Responsabile: {v}").format(v=html.escape(action.responsible)))
    if action.start_on and action.end_on:
        lines.append(
            _("Periodo: {start} – {end}").format(
                start=_fmt_date(action.start_on), end=_fmt_date(action.end_on)
            )
        )
    elif action.start_on:
        lines.append(_("Inizio: {date}").format(date=_fmt_date(action.start_on)))
    elif action.end_on:
        lines.append(_("Fine: {date}").format(date=_fmt_date(action.end_on)))
    for label, value, unit in (
        (_("Risparmio energetico"), action.energy_saved_mwh, "MWh/a"),
        (_("Produzione da rinnovabili"), action.renewable_mwh, "MWh/a"),
        (_("Riduzione CO₂"), action.co2_avoided_t, "t/a"),
        (_("Costo"), action.cost_eur, "€"),
    ):
        if value is not None:
            shown = _euro(value) if unit == "€" else importer.format_decimal_display(value)
            lines.append(f"{label}: {shown} {unit}")
    if action.archived_at is not None:
        lines.append(_("🗄 Archiviata"))
    if notes:
        body = "\n".join(lines)
        note_rows = card_note_rows(
            tr,
            notes,
            comune=None if action.municipality_id is None else where(action, names, tr),
            timezone=timezone,
            today=today,
            room=TELEGRAM_LIMIT - reserve - telegram_length(body) - 2,  # 2: the blank line
        )
        if note_rows:
            lines += ["", *note_rows]
    return "\n".join(lines), card_keyboard(action, tr, coordinator=coordinator)


def _euro(value: Decimal) -> str:
    """Euros with cents when there are any: 1.250.000,50 (not 1.250.000,5)."""
    if value == value.to_integral_value():
        return importer.format_decimal_display(value)
    whole, cents = f"{value.quantize(Decimal('0.01')):.2f}".split(".")
    return importer.format_decimal_display(Decimal(whole)) + "," + cents


def _fmt_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"
