"""The dashboard's page functions, on plain data: everything escaped (hostile names in every
field reach no page as markup), well-formed SVG, light pages, no person on the public side."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

from bot.i18n import translator
from bot.services.dashboard.rules import ActionFacts, figures
from bot.views.dashboard import meetings, pages, public
from bot.views.dashboard.html import asset
from bot.views.dashboard.links import AppLinks
from bot.views.dashboard.model import (
    ActionDetail,
    ActionItem,
    ActionList,
    AttachmentItem,
    Calendar,
    Co2Point,
    CompletedAction,
    ComuneFigures,
    ComuneRef,
    DecisionItem,
    DecisionsPage,
    Figures,
    HistoryItem,
    MeetingItem,
    NotAllowed,
    NoteItem,
    Overview,
    PublicComune,
    PublicProgress,
    UnionChoice,
    Viewer,
    VoteItem,
)
from bot.views.dashboard.telegram import dashboard_button, press_note_message
from storage.models import ActionStatus, DecisionStatus, PollTable, Role

EVIL = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LINKS = AppLinks("/")
IT, EN = translator("it"), translator("en")


def figures_of(items: list[ActionItem]) -> Figures:
    return figures(
        [ActionFacts(a.id, a.comune.id, a.status, a.progress, a.co2_avoided_t) for a in items]
    )


def viewer(coordinator: bool = True) -> Viewer:
    return Viewer(
        telegram_user_id=1,
        member_id=1,
        union_id=3,
        union_name="Unione " + EVIL,
        timezone="Europe/Rome",
        role=Role.STAFF,
        is_coordinator=coordinator,
        municipality_ids=(),
        language="it",
        unions=2,
    )


def comune(i: int) -> ComuneRef:
    return ComuneRef(i, f"Comune {i} {EVIL}")


def action(i: int, status: ActionStatus = ActionStatus.ONGOING) -> ActionItem:
    return ActionItem(
        i,
        f"C{i}{EVIL}",
        f"Titolo {EVIL}",
        EVIL,
        comune(1),
        status,
        40,
        Decimal("12.5"),
        date(2025, 1, 1),
        None,
    )


def meeting(days: int) -> MeetingItem:
    start = NOW + timedelta(days=days)
    return MeetingItem(1, PollTable.BOTH, EVIL, EVIL, EVIL, start, start + timedelta(hours=2))


def series() -> tuple[Co2Point, ...]:
    return tuple(Co2Point(date(2026, m, 1), Decimal(m * 3)) for m in range(1, 13))


def all_pages() -> dict[str, str]:
    v = viewer()
    comuni = (
        *(
            ComuneFigures(
                comune(i), figures_of([action(i), action(i + 100, ActionStatus.COMPLETED)])
            )
            for i in range(1, 21)
        ),
        ComuneFigures(ComuneRef(None, ""), figures_of([action(999)])),
    )
    overview = Overview(v, NOW, figures_of([action(1)]), comuni, series(), meeting(3), 2)
    history = HistoryItem(
        NOW,
        EVIL,
        ActionStatus.NOT_STARTED,
        ActionStatus.ONGOING,
        0,
        40,
        EVIL,
        EVIL,
        (AttachmentItem(5, "photo", None), AttachmentItem(6, "document", EVIL)),
    )
    detail = ActionDetail(v, action(1), True, (history,), (NoteItem(NOW, EVIL, EVIL),))
    decision = DecisionItem(
        1,
        EVIL,
        DecisionStatus.OPEN,
        EVIL,
        True,
        EVIL,
        EVIL,
        EVIL,
        NOW,
        None,
        (VoteItem(EVIL, "approve"),),
    )
    done = DecisionItem(
        2, EVIL, DecisionStatus.APPROVED, EVIL, False, None, None, None, NOW, NOW, ()
    )
    progress = PublicProgress(
        "Unione " + EVIL,
        "slugslugslugslug",
        "Europe/Rome",
        NOW,
        figures_of([action(1)]),
        tuple(PublicComune(c, (CompletedAction(EVIL, EVIL, Decimal("1.5")),)) for c in comuni),
        series(),
    )
    return {
        "boot": pages.boot_page(IT, LINKS, next_path="/app/u/3?x=" + EVIL),
        "refusal": pages.refusal_page(NotAllowed("history", "it"), IT, LINKS),
        "picker": pages.picker_page([UnionChoice(3, EVIL, True)], IT, LINKS),
        "overview": pages.overview_page(overview, IT, LINKS),
        "actions": pages.actions_page(
            ActionList(v, (comune(1),), "1", "o", tuple(action(i) for i in range(40)), 95, 2, 3),
            IT,
            LINKS,
        ),
        "detail": pages.action_page(detail, IT, LINKS),
        "meetings": meetings.meetings_page(
            Calendar(v, NOW, (meeting(2),), (meeting(-9),)), IT, LINKS
        ),
        "decisions": meetings.decisions_page(DecisionsPage(v, (decision,), (done,), 5), IT, LINKS),
        "press": meetings.press_page(v, EVIL, "https://x.test/p/" + EVIL, IT, LINKS),
        "public": public.public_page(progress, IT, LINKS, base_url="https://x.test/"),
        "public-en": public.public_page(progress, EN, LINKS, base_url="https://x.test/"),
        "badge": public.badge_svg(progress, IT),
    }


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts_inline = 0
        self.handlers: list[str] = []
        self.images: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _v in attrs}
        if tag == "script" and "src" not in names:
            self.scripts_inline += 1
        self.handlers += [k for k in names if k.startswith("on")]
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")


def test_nothing_hostile_reaches_any_page_as_markup() -> None:
    for name, page in all_pages().items():
        assert "<script>alert" not in page, name
        assert "<img src=x" not in page, name
        assert "&lt;script&gt;" in page or name in ("boot", "refusal"), name
        parser = _Tags()
        parser.feed(page)
        assert parser.scripts_inline == 0, name  # CSP allows scripts from 'self' only
        assert parser.handlers == [], name
        assert all(src.startswith("/") for src in parser.images), name  # our own files only
        assert 'style="' not in page, name  # CSP: no inline style


def test_svgs_are_well_formed_and_labelled() -> None:
    overview = all_pages()["overview"]
    chart = overview[overview.index("<svg") : overview.index("</svg>") + 6]
    root = ET.fromstring(chart)
    assert root.get("role") == "img" and root.get("aria-labelledby")
    badge = ET.fromstring(all_pages()["badge"])
    assert badge.get("width") == "320"


def test_pages_are_light_and_landmarked() -> None:
    css, js = len(asset("dash.css").body), len(asset("dash.js").body)
    for name, page in all_pages().items():
        size = len(page.encode())
        assert size + css + js < 100_000, (name, size)
        if name != "badge":
            assert '<main id="main"' in page and 'class="skip"' in page, name
    overview = all_pages()["overview"]
    assert "<header" in overview and "<nav" in overview and 'aria-current="page"' in overview
    assert '<html lang="it">' in overview
    assert '<html lang="en">' in all_pages()["public-en"]


def test_the_public_page_and_the_press_note_name_nobody() -> None:
    page = all_pages()["public"]
    for field in ("Ufficio", "ex membro", "posta da"):
        assert field not in page
    progress = PublicProgress(
        "Unione Val d'Enza",
        "s" * 16,
        "Europe/Rome",
        NOW,
        figures_of([action(1, ActionStatus.COMPLETED), action(2)]),
        (
            PublicComune(
                ComuneFigures(
                    ComuneRef(1, "Bibbiano"), figures_of([action(1, ActionStatus.COMPLETED)])
                ),
                (),
            ),
        ),
        series(),
    )
    text = public.press_note_text(progress, timezone="Europe/Rome", public_url="https://x.test/p/s")
    assert text.startswith("BOZZA DI COMUNICATO STAMPA")
    assert "dell'Unione Val d'Enza (Bibbiano)" in text
    assert "1 dicembre 2026" in text and "https://x.test/p/s" in text
    message = press_note_message(text + EVIL, IT)
    assert "<script>" not in message and message.count("<pre>") == 1
    long = press_note_message("riga\n" * 2000, IT)
    assert len(long) <= 4096 and long.endswith("</pre>")


def test_the_dashboard_button_is_a_mini_app_in_private_and_a_link_in_groups() -> None:
    private = dashboard_button(
        IT, union_id=3, private=True, webapp_url="https://x.test/app/", bot_username="Bot"
    )
    group = dashboard_button(
        IT, union_id=3, private=False, webapp_url="https://x.test/app/", bot_username="Bot"
    )
    assert private is not None and private.to_dict()["web_app"] == {"url": "https://x.test/app/"}
    assert group is not None and group.to_dict()["url"] == "https://t.me/Bot?startapp=u3"
    assert dashboard_button(IT, union_id=3, private=True, webapp_url=None, bot_username="B") is None


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_default_colours_meet_wcag_aa_contrast() -> None:
    """dash.css's own colours (used outside Telegram, and where a theme gives none): text,
    muted text and links on the page and on panels, and the white text of status badges, all
    at least 4.5:1 (WCAG 2 AA for normal text), in the light and the dark scheme."""
    import re

    css = asset("dash.css").body.decode()
    light_block, dark_block = css.split("@media (prefers-color-scheme: dark)")

    def palette(block: str) -> dict[str, str]:
        found = re.findall(r"--([a-z-]+):\s*(?:var\(--tg-[a-z-]+,\s*)?(#[0-9a-fA-F]{6})", block)
        return dict(found)

    light = palette(light_block)
    dark = {**light, **palette(dark_block)}
    for name, colours in (("light", light), ("dark", dark)):
        for fg in ("fg", "muted", "link"):
            for bg in ("bg", "panel"):
                ratio = _contrast(colours[fg], colours[bg])
                assert ratio >= 4.5, (name, fg, bg, round(ratio, 2))
        assert _contrast(colours["accent-fg"], colours["accent"]) >= 4.5, (name, "button")
    for badge in ("done", "ongoing", "postponed", "idle"):
        assert _contrast("#ffffff", light[badge]) >= 4.5, badge


def test_an_intercommunal_action_is_placed_with_the_bots_words() -> None:
    """«Unione (intercomunale)», as in /azioni and the export — one word per thing."""
    v = viewer()
    item = dataclasses.replace(action(1), comune=ComuneRef(None, ""))
    detail = pages.action_page(ActionDetail(v, item, True, (), ()), IT, LINKS)
    listed = pages.actions_page(ActionList(v, (), "u", "", (item,), 1, 1, 1), IT, LINKS)
    for page in (detail, listed):
        assert "Unione (intercomunale)" in page and "intercomunali)" not in page
    english = pages.action_page(ActionDetail(v, item, True, (), ()), EN, LINKS)
    assert "Union (intercommunal)" in english
