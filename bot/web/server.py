"""The dashboard's HTTP server (aiohttp.web), inside the bot's own process and event loop.

An entry point like the handlers: a request is decoded (who, from the session cookie; which
Union and object, from the path), one read transaction calls one use case
(bot.services.dashboard), the transaction closes, then a view (bot.views.dashboard) renders
the page. At most DB_SLOTS requests hold a database connection at once, so the dashboard never
takes the pool from the bot's updates.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.context import Services
from bot.i18n import Translator, normalize_language, translator
from bot.services import dashboard as uc
from bot.views.dashboard import meetings as meeting_views
from bot.views.dashboard import pages, public
from bot.views.dashboard.html import asset
from bot.views.dashboard.links import APP, PUBLIC, STATIC, AppLinks, absolute, links_for
from bot.views.dashboard.model import NotAllowed
from bot.views.dashboard.telegram import union_of_start_param
from bot.web.auth import (
    SESSION_COOKIE,
    InitDataChecker,
    InitDataRefused,
    Session,
    SessionSigner,
    session_cookie,
)

logger = logging.getLogger(__name__)

DB_SLOTS = 2  # requests that may hold a database connection at once
DOWNLOAD_SLOTS = 2  # photos fetched from Telegram at once
MAX_FILE_BYTES = 10 * 1024 * 1024
PUBLIC_MAX_AGE = 300  # seconds a public page or image may be cached
ASSET_MAX_AGE = 365 * 24 * 3600  # versioned addresses: cached for good

APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors https://web.telegram.org"
)
PUBLIC_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
)
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'"
# An id in an address: at most 9 digits, inside PostgreSQL's integer (2³¹ - 1), so a longer
# number is an address that leads nowhere (404) rather than a query the database refuses.
ID = r"\d{1,9}"
# Documents an update may carry that a browser can show safely; anything else is a download.
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"}

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Dashboard:
    """What the request handlers share: the bot's services and bot, the signers."""

    services: Services
    bot: Bot
    links: AppLinks
    base_url: str  # WEBAPP_URL, e.g. https://energia.example.org/
    checker: InitDataChecker
    signer: SessionSigner
    db_slots: asyncio.Semaphore
    download_slots: asyncio.Semaphore

    @property
    def default_language(self) -> str:
        return self.services.settings.default_language

    def public_url(self, slug: str) -> str:
        return absolute(self.base_url, self.links.public(slug))

    async def read(self, use_case: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One short read transaction around one use case."""
        async with self.db_slots, self.services.db.transaction() as session:
            return await use_case(session)


KEY: web.AppKey[Dashboard] = web.AppKey("dashboard", Dashboard)


def _html(
    body: str, *, status: int = 200, csp: str = APP_CSP, private: bool = True
) -> web.Response:
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = csp
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


def _accept_language(request: web.Request, default: str) -> str:
    for part in request.headers.get("Accept-Language", "").split(","):
        lang = normalize_language(part.split(";")[0].strip())
        if lang:
            return lang
    return default


# --- the Mini App ---------------------------------------------------------------------------


def _session(request: web.Request) -> Session | None:
    d = request.app[KEY]
    return d.signer.read(request.cookies.get(SESSION_COOKIE), now=d.services.clock.now())


def _who(d: Dashboard, session: Session) -> uc.Who:
    return uc.Who(session.telegram_user_id, session.language, d.default_language)


def _boot(request: web.Request) -> web.Response:
    """No (valid) session: the page that signs in with Telegram's data and comes back here."""
    d = request.app[KEY]
    tr = translator(_accept_language(request, d.default_language))
    next_path = request.path_qs if request.path.startswith(d.links.home) else ""
    return _html(pages.boot_page(tr, d.links, next_path=next_path), status=401)


def _refused(refusal: NotAllowed, d: Dashboard) -> web.Response:
    status = 404 if refusal.reason == "not_found" else 403
    return _html(pages.refusal_page(refusal, translator(refusal.language), d.links), status=status)


async def home(request: web.Request) -> web.Response:
    d = request.app[KEY]
    tr = translator(_accept_language(request, d.default_language))
    return _html(pages.boot_page(tr, d.links))


def _safe_next(d: Dashboard, value: str) -> str | None:
    """A page of this Mini App to go back to after signing in (never another site)."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith(d.links.home) or "\\" in value:
        return None
    if value.rstrip("/") == d.links.home.rstrip("/") or value.startswith(d.links.session):
        return None
    return value


async def sign_in(request: web.Request) -> web.Response:
    """POST initData → the session cookie and where to go, as JSON for dash.js."""
    d = request.app[KEY]
    form = await request.post()
    raw = form.get("init_data")
    now = d.services.clock.now()
    lang = _accept_language(request, d.default_language)
    try:
        user = d.checker.check(raw if isinstance(raw, str) else "", now=now)
    except InitDataRefused as refused:
        logger.info("Dashboard sign-in refused: %s", refused.reason)
        tr = translator(lang)
        if refused.reason == "expired":
            text = tr.gettext("L'accesso è scaduto: chiudi il cruscotto e riaprilo dal bot.")
        else:
            text = tr.gettext("Non riesco a riconoscerti: riapri il cruscotto dal bot su Telegram.")
        return web.json_response(
            {"error": text, "expired": refused.reason == "expired"}, status=401
        )
    wanted = union_of_start_param(user.start_param)
    outcome = await d.read(
        lambda s: uc.sign_in(
            s,
            telegram_user_id=user.telegram_user_id,
            client_language=user.language_code,
            default_language=d.default_language,
            wanted_union_id=wanted,
        )
    )
    if isinstance(outcome, NotAllowed):
        tr = translator(outcome.language)
        text = tr.gettext(
            "Non fai ancora parte di nessun Team energia. Per entrare serve il link d'invito di chi coordina la tua Unione."
        )
        return web.json_response({"error": text}, status=403)
    next_field = form.get("next")
    target = _safe_next(d, next_field) if isinstance(next_field, str) and next_field else None
    if target is None:
        target = (
            d.links.union(outcome.start_union_id)
            if outcome.start_union_id is not None
            else d.links.unions
        )
    response = web.json_response({"next": target})
    cookie = d.signer.issue(
        telegram_user_id=user.telegram_user_id, language=user.language_code, now=now
    )
    response.headers["Set-Cookie"] = session_cookie(cookie, path=d.links.home)
    response.headers["Cache-Control"] = "no-store"
    return response


async def unions(request: web.Request) -> web.Response:
    d = request.app[KEY]
    session = _session(request)
    if session is None:
        return _boot(request)
    outcome = await d.read(
        lambda s: uc.sign_in(
            s,
            telegram_user_id=session.telegram_user_id,
            client_language=session.language,
            default_language=d.default_language,
        )
    )
    if isinstance(outcome, NotAllowed):
        return _refused(outcome, d)
    return _html(pages.picker_page(outcome.unions, translator(outcome.language), d.links))


def _int(request: web.Request, name: str) -> int:
    return int(request.match_info[name])  # the route's pattern admits digits only


def _page(
    call: Callable[[Dashboard, uc.Who, web.Request], Callable[[AsyncSession], Awaitable[Any]]],
    render: Callable[[Any, Translator, AppLinks], str],
) -> Handler:
    """A Mini App page: session → one use case in a read transaction → its view."""

    async def handler(request: web.Request) -> web.StreamResponse:
        d = request.app[KEY]
        session = _session(request)
        if session is None:
            return _boot(request)
        outcome = await d.read(call(d, _who(d, session), request))
        if isinstance(outcome, NotAllowed):
            return _refused(outcome, d)
        return _html(render(outcome, translator(outcome.viewer.language), d.links))

    return handler


overview = _page(
    lambda d, who, r: (
        lambda s: uc.union_overview(
            s, who=who, union_id=_int(r, "union"), now=d.services.clock.now()
        )
    ),
    pages.overview_page,
)
actions = _page(
    lambda d, who, r: (
        lambda s: uc.action_list(
            s,
            who=who,
            union_id=_int(r, "union"),
            comune=r.query.get("comune", "")[:12],
            status=r.query.get("status", "")[:2],
            page=int(p) if (p := r.query.get("page", "1")).isdigit() and len(p) < 6 else 1,
        )
    ),
    pages.actions_page,
)
action = _page(
    lambda d, who, r: (
        lambda s: uc.action_detail(
            s, who=who, union_id=_int(r, "union"), action_id=_int(r, "action")
        )
    ),
    pages.action_page,
)
meetings = _page(
    lambda d, who, r: (
        lambda s: uc.meeting_calendar(
            s, who=who, union_id=_int(r, "union"), now=d.services.clock.now()
        )
    ),
    meeting_views.meetings_page,
)
decisions = _page(
    lambda d, who, r: lambda s: uc.decision_register(s, who=who, union_id=_int(r, "union")),
    meeting_views.decisions_page,
)


async def press(request: web.Request) -> web.Response:
    d = request.app[KEY]
    session = _session(request)
    if session is None:
        return _boot(request)
    union_id = _int(request, "union")
    who = _who(d, session)
    now = d.services.clock.now()

    note = await d.read(lambda s: uc.press_note(s, who=who, union_id=union_id, now=now))
    if isinstance(note, NotAllowed):
        return _refused(note, d)
    url = d.public_url(note.progress.slug) if note.public else None
    text = public.press_note_text(note.progress, timezone=note.timezone, public_url=url)
    tr = translator(note.viewer.language)
    return _html(meeting_views.press_page(note.viewer, text, url, tr, d.links))


async def attachment(request: web.Request) -> web.StreamResponse:
    """A photo or document of an update, fetched from Telegram by the bot (the token never
    leaves the server), for someone who may read that action's history."""
    d = request.app[KEY]
    session = _session(request)
    if session is None:
        return web.Response(status=401, text="401")
    union_id, attachment_id = _int(request, "union"), _int(request, "file")
    who = _who(d, session)
    outcome = await d.read(
        lambda s: uc.attachment_file(s, who=who, union_id=union_id, attachment_id=attachment_id)
    )
    if isinstance(outcome, NotAllowed):
        return web.Response(status=404 if outcome.reason == "not_found" else 403, text="—")
    try:
        async with d.download_slots:
            file = await d.bot.get_file(outcome.file_id)
            if file.file_size is not None and file.file_size > MAX_FILE_BYTES:
                return web.Response(status=413, text="—")
            body = bytes(await file.download_as_bytearray())
    except TelegramError:
        logger.warning(
            "Dashboard: attachment %s could not be fetched", attachment_id, exc_info=True
        )
        return web.Response(status=404, text="—")
    if len(body) > MAX_FILE_BYTES:
        return web.Response(status=413, text="—")
    if outcome.kind == "photo":
        content_type, disposition = "image/jpeg", "inline"
    elif outcome.mime_type in INLINE_TYPES:
        content_type, disposition = outcome.mime_type, "inline"
    else:
        content_type, disposition = "application/octet-stream", "attachment"
    response = web.Response(body=body, content_type=content_type)
    name = (outcome.file_name or f"allegato-{attachment_id}").replace("\r", "").replace("\n", "")
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the public page ------------------------------------------------------------------------


def _cacheable(request: web.Request, body: bytes, content_type: str, csp: str) -> web.Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}",
        "Content-Security-Policy": csp,
    }
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


async def _public(request: web.Request) -> tuple[Dashboard, uc.PublicProgress | None]:
    d = request.app[KEY]
    slug = request.match_info["slug"]
    progress = await d.read(lambda s: uc.public_progress(s, slug=slug, now=d.services.clock.now()))
    return d, progress


def _not_found(d: Dashboard) -> web.Response:
    tr = translator(d.default_language)
    response = _html(public.not_found_page(tr, d.links), status=404, csp=PUBLIC_CSP, private=False)
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


async def public_page(request: web.Request) -> web.Response:
    d, progress = await _public(request)
    if progress is None:
        return _not_found(d)
    tr = translator(d.default_language)
    body = public.public_page(progress, tr, d.links, base_url=d.base_url).encode("utf-8")
    return _cacheable(request, body, "text/html", PUBLIC_CSP)


async def badge(request: web.Request) -> web.Response:
    d, progress = await _public(request)
    if progress is None:
        return _not_found(d)
    body = public.badge_svg(progress, translator(d.default_language)).encode("utf-8")
    response = _cacheable(request, body, "image/svg+xml", IMAGE_CSP)
    response.headers["Access-Control-Allow-Origin"] = "*"  # an image for other sites
    return response


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ("dash.css", "dash.js"):
        raise web.HTTPNotFound()
    a = asset(name)
    return web.Response(
        body=a.body,
        headers={
            "Content-Type": a.content_type,
            "Cache-Control": f"public, max-age={ASSET_MAX_AGE}, immutable",
        },
    )


# --- the application ------------------------------------------------------------------------


def _nowhere(request: web.Request) -> web.Response:
    """An address that leads nowhere: the Mini App's «not found» page under its root (in the
    visitor's language), the public one elsewhere — never the server's bare «404: Not Found»."""
    d = request.app[KEY]
    if request.path.startswith(d.links.home):
        return _refused(NotAllowed("not_found", _accept_language(request, d.default_language)), d)
    return _not_found(d)


def _failed(request: web.Request) -> web.Response:
    """A page that failed: a plain page saying so, never a traceback or the server's text."""
    d = request.app[KEY]
    home = request.path.startswith(d.links.home)
    tr = translator(_accept_language(request, d.default_language) if home else d.default_language)
    return _html(pages.failure_page(tr, d.links), status=500, csp=PUBLIC_CSP)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = _nowhere(request)
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("Dashboard: %s %s failed", request.method, request.path)
        response = _failed(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def make_app(services: Services, bot: Bot) -> web.Application:
    settings = services.settings
    assert settings.webapp_url is not None
    links = links_for(settings.webapp_url)
    root = links.root
    dashboard = Dashboard(
        services=services,
        bot=bot,
        links=links,
        base_url=settings.webapp_url,
        checker=InitDataChecker(settings.token),
        signer=SessionSigner(settings.token),
        db_slots=asyncio.Semaphore(DB_SLOTS),
        download_slots=asyncio.Semaphore(DOWNLOAD_SLOTS),
    )
    app = web.Application(client_max_size=16 * 1024, middlewares=[security_headers])
    app[KEY] = dashboard
    app_root, union = f"{root}{APP}", f"{root}{APP}u/{{union:{ID}}}"
    app.router.add_get(app_root, home)
    app.router.add_post(f"{app_root}session", sign_in)
    app.router.add_get(f"{app_root}unions", unions)
    app.router.add_get(union, overview)
    app.router.add_get(f"{union}/actions", actions)
    app.router.add_get(f"{union}/actions/{{action:{ID}}}", action)
    app.router.add_get(f"{union}/meetings", meetings)
    app.router.add_get(f"{union}/decisions", decisions)
    app.router.add_get(f"{union}/press", press)
    app.router.add_get(f"{union}/files/{{file:{ID}}}", attachment)
    slug = "{slug:[A-Za-z0-9_-]{8,32}}"
    app.router.add_get(f"{root}{PUBLIC}{slug}", public_page)
    app.router.add_get(f"{root}{PUBLIC}{slug}/badge.svg", badge)
    app.router.add_get(f"{root}{STATIC}{{name}}", static)
    return app
