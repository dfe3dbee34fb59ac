"""The pieces every dashboard page is made of: escaping, numbers and dates, the page shell.

Every interpolated value goes through `e()` (text and attribute values alike); the pages are
strings built from these pieces, so there is no template engine to configure and nothing to
forget to autoescape: a value that did not pass through `e()` is a bug a test looks for
(tests/unit/test_dashboard_views.py feeds hostile names to every page).
"""

from __future__ import annotations

import html
import importlib.resources
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from hashlib import sha256
from zoneinfo import ZoneInfo

from bot.i18n import N_, Translator, format_date, format_datetime
from storage.repositories.people import FORMER_MEMBER, ShownName

FORMER_MEMBER_WORD = N_("ex membro")


def e(value: object) -> str:
    """Escaped for HTML text and for attribute values in double quotes."""
    return html.escape(str(value), quote=True)


def shown(name: ShownName | None, tr: Translator) -> str:
    """A person's name as a page shows it: «ex membro» (in the reader's language) for someone
    who left with /cancellami, or when nobody was recorded."""
    if name is None or name is FORMER_MEMBER:
        return tr.gettext(FORMER_MEMBER_WORD)
    return name


def number(value: Decimal | int | float, language: str, *, decimals: int = 0) -> str:
    """1.234,5 (Italian) or 1,234.5 (English)."""
    text = f"{float(value):,.{decimals}f}"
    if language == "it":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def tonnes(value: Decimal | int | float, language: str) -> str:
    """CO₂ in tonnes a year: one decimal below 100, none above."""
    return number(value, language, decimals=1 if abs(float(value)) < 100 else 0)


def when(dt: datetime, timezone: str, language: str, *, year: bool = True) -> str:
    return format_datetime(dt, ZoneInfo(timezone), language, year=year)


def day(dt: datetime, timezone: str, language: str, *, year: bool = True) -> str:
    return format_date(dt, ZoneInfo(timezone), language, year=year)


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="minutes")


def listing(items: Iterable[str], empty: str, *, cls: str = "list") -> str:
    """Rendered <li> items as a list, or, when there are none, a line saying so (`empty`,
    already translated)."""
    body = "".join(items)
    return f'<ul class="{cls}">{body}</ul>' if body else f"<p>{e(empty)}</p>"


# --- static assets --------------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    name: str
    content_type: str
    body: bytes

    @property
    def version(self) -> str:
        return sha256(self.body).hexdigest()[:12]


@cache
def asset(name: str) -> Asset:
    """dash.css / dash.js, read once from the package."""
    body = importlib.resources.files("bot.views.dashboard").joinpath("static", name).read_bytes()
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return Asset(name, f"{kind}; charset=utf-8", body)


def asset_url(root: str, name: str) -> str:
    return f"{root}static/{name}?v={asset(name).version}"


# --- the shell ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool = False


def nav(links: Iterable[NavLink], label: str) -> str:
    current = ' aria-current="page"'
    items = "".join(
        f'<li><a href="{e(link.href)}"{current if link.current else ""}>{e(link.label)}</a></li>'
        for link in links
    )
    return f'<nav aria-label="{e(label)}"><ul>{items}</ul></nav>'


def document(
    *,
    tr: Translator,
    root: str,
    title: str,
    main: str,
    header: str = "",
    footer: str = "",
    page: str = "app",
    attrs: dict[str, str] | None = None,
    script: bool = True,
) -> str:
    """A whole page: the skip link, the header (landmark `banner`), `main` with an id the skip
    link points to, the footer. `page` and `attrs` become data-* attributes dash.js reads
    (data-back: where Telegram's back button leads)."""
    data = {"page": page, **(attrs or {})}
    body_attrs = "".join(f' data-{k}="{e(v)}"' for k, v in data.items() if v)
    js = f'<script src="{e(asset_url(root, "dash.js"))}" defer></script>' if script else ""
    return (
        "<!doctype html>"
        f'<html lang="{e(tr.language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{e(title)}</title>"
        f'<link rel="stylesheet" href="{e(asset_url(root, "dash.css"))}">{js}</head>'
        f"<body{body_attrs}>"
        f'<a class="skip" href="#main">{e(tr.gettext("Vai al contenuto"))}</a>'
        f"{header}"
        f'<main id="main" tabindex="-1">{main}</main>'
        f"{f'<footer>{footer}</footer>' if footer else ''}"
        "</body></html>"
    )
