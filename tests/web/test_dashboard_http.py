"""The dashboard over HTTP, against the real bot's web server and the fake Bot API: sign-in with
Telegram's signed initData, the session, who sees what, the files, the public page and its
caching. (tests/web/test_dashboard_browser.py drives the same in Chromium.)"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from multidict import CIMultiDict

from bot.services import dashboard as uc
from tests.web.conftest import Dash
from tests.web.world import PRIVATE_WORDS, sign_init_data


class Client:
    """An HTTP client that keeps the session cookie itself (aiohttp's jar keeps no Secure
    cookie for a plain-http address)."""

    def __init__(self, dash: Dash, http: aiohttp.ClientSession) -> None:
        self.dash, self.http = dash, http
        self.cookie: str | None = None
        self.set_cookie: str = ""

    async def sign_in(self, init_data: str, next_path: str = "") -> tuple[int, dict[str, object]]:
        async with self.http.post(
            self.dash.url("/app/session"), data={"init_data": init_data, "next": next_path}
        ) as r:
            body = await r.json()
            self.set_cookie = r.headers.get("Set-Cookie", "")
            if self.set_cookie:
                self.cookie = self.set_cookie.split(";", 1)[0]
            return r.status, body

    async def get(self, path: str, **headers: str) -> tuple[int, str, CIMultiDict[str]]:
        if self.cookie:
            headers["Cookie"] = self.cookie
        async with self.http.get(self.dash.url(path), headers=headers, allow_redirects=False) as r:
            return r.status, await r.text(errors="replace"), CIMultiDict(r.headers)

    async def get_bytes(self, path: str) -> tuple[int, bytes, CIMultiDict[str]]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        async with self.http.get(self.dash.url(path), headers=headers) as r:
            return r.status, await r.read(), CIMultiDict(r.headers)


async def _client(
    dash: Dash, user_id: int, **kwargs: object
) -> tuple[Client, aiohttp.ClientSession]:
    http = aiohttp.ClientSession()
    client = Client(dash, http)
    status, body = await client.sign_in(dash.init_data(user_id, **kwargs))
    assert status == 200, body
    return client, http


async def test_a_member_signs_in_and_sees_their_union(dash: Dash) -> None:
    w = dash.world
    async with aiohttp.ClientSession() as http:
        client = Client(dash, http)
        status, body = await client.sign_in(dash.init_data(w.people.coordinator))
        assert status == 200
        assert body == {"next": f"/app/u/{w.a}"}
        cookie = client.set_cookie
        for attribute in ("Path=/app/", "HttpOnly", "Secure", "SameSite=None", "Partitioned"):
            assert attribute in cookie, cookie
        status, page, headers = await client.get(f"/app/u/{w.a}")
        assert status == 200
        assert "Unione Val d&#x27;Enza" in page
        assert "Bibbiano" in page and "Montecchio Emilia" in page
        assert "Terre di Pianura" not in page and "Argelato" not in page
        assert headers["Cache-Control"] == "no-store"
        assert "frame-ancestors https://web.telegram.org" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        # The figures: 3 of 10 actions completed; 42.5 × 3 = 127.5 t/year avoided (shown 128).
        assert "azioni completate su 10" in page
        assert ">128<" in page
        for path in ("actions", "meetings", "decisions", "press", f"actions/{w.actions['A1.1']}"):
            status, page, _ = await client.get(f"/app/u/{w.a}/{path}")
            assert status == 200, (path, page[:300])
            assert "Terre di Pianura" not in page


async def test_forged_expired_and_unknown_init_data_are_refused(dash: Dash) -> None:
    w, now = dash.world, dash.bot.clock.now()
    token = dash.fake.token
    valid = dash.init_data(w.people.sindaco)
    fields = dict(parse_qsl(valid))
    forged_user = dict(
        fields, user=fields["user"].replace(str(w.people.sindaco), str(w.people.coordinator))
    )
    cases = {
        "forged user": urlencode(forged_user),
        "forged hash": urlencode(dict(fields, hash="0" * 64)),
        "no hash": urlencode({k: v for k, v in fields.items() if k != "hash"}),
        "another bot's token": sign_init_data(
            "999999:ANOTHER-token-abcdefghijklmnopqrstuvwx", user_id=w.people.sindaco, auth_date=now
        ),
        "from the future": sign_init_data(
            token, user_id=w.people.sindaco, auth_date=now + timedelta(hours=1)
        ),
        "garbage": "hello",
        "empty": "",
    }
    async with aiohttp.ClientSession() as http:
        for label, data in cases.items():
            client = Client(dash, http)
            status, body = await client.sign_in(data)
            assert status == 401, label
            assert "next" not in body and not client.set_cookie, label
        expired = Client(dash, http)
        status, body = await expired.sign_in(
            sign_init_data(token, user_id=w.people.sindaco, auth_date=now - timedelta(minutes=61))
        )
        assert (status, body["expired"]) == (401, True)
        assert "scaduto" in str(body["error"])
        # Signed by Telegram, but nobody the Team knows, or not yet approved.
        for user in (w.people.outsider, w.people.pending, 424242):
            client = Client(dash, http)
            status, body = await client.sign_in(dash.init_data(user))
            assert status == 403, user
            assert "Non fai ancora parte" in str(body["error"])
            assert not client.set_cookie
        # A page without a session, or with a forged or stale one: the sign-in page, no data.
        for cookie in (None, "te_session=1.2.it.xxx", "te_session=" + "7002.1.it." + "a" * 43):
            client = Client(dash, http)
            client.cookie = cookie
            status, page, _ = await client.get(f"/app/u/{w.a}")
            assert status == 401
            assert 'data-page="boot"' in page and "Bibbiano" not in page


async def test_a_session_ends_after_an_hour(dash: Dash) -> None:
    w = dash.world
    client, http = await _client(dash, w.people.sindaco)
    async with http:
        assert (await client.get(f"/app/u/{w.a}"))[0] == 200
        dash.bot.clock.advance(minutes=61)
        status, page, _ = await client.get(f"/app/u/{w.a}/actions")
        assert status == 401
        assert f'data-next="/app/u/{w.a}/actions"' in page


async def test_another_unions_pages_and_objects_are_refused(dash: Dash) -> None:
    w = dash.world
    client, http = await _client(dash, w.people.sindaco)
    async with http:
        for path in (
            "",
            "/actions",
            "/meetings",
            "/decisions",
            "/press",
            f"/actions/{w.actions['B1.1']}",
        ):
            status, page, _ = await client.get(f"/app/u/{w.b}{path}")
            assert status == 403, path
            assert "Biciclette" not in page and "Terre di Pianura" not in page
            assert "riservata ai membri del Team energia" in page
        # B's action through A's address: not A's, so not found.
        status, page, _ = await client.get(f"/app/u/{w.a}/actions/{w.actions['B1.1']}")
        assert status == 404 and "Biciclette" not in page
        status, _, _ = await client.get(f"/app/u/{w.a}/files/{w.photo_attachment + 1000}")
        assert status == 404


async def test_a_member_of_two_unions_sees_what_each_membership_allows(dash: Dash) -> None:
    """Luca is a Funzionario tecnico of Montecchio Emilia in A, and a coordinator in B."""
    w = dash.world
    async with aiohttp.ClientSession() as http:
        client = Client(dash, http)
        status, body = await client.sign_in(dash.init_data(w.people.tecnico, language="en"))
        assert body == {"next": "/app/unions"}
        status, page, _ = await client.get("/app/unions")
        assert "Unione Val d&#x27;Enza" in page and "Unione Terre di Pianura" in page
        assert "Your Unions" in page  # his Telegram client speaks English
        status, body = await Client(dash, http).sign_in(
            dash.init_data(w.people.tecnico, start_param=f"u{w.b}")
        )
        assert body == {"next": f"/app/u/{w.b}"}
        # In A: the history of his Comune's action, with its note and photo…
        status, page, _ = await client.get(f"/app/u/{w.a}/actions/{w.actions['A2.2']}")
        assert status == 200
        assert "La ditta ha montato" in page and f"/files/{w.photo_attachment}" in page
        assert "Sopralluogo fatto in via Roma" in page
        status, photo, headers = await client.get_bytes(f"/app/u/{w.a}/files/{w.photo_attachment}")
        assert (status, headers["Content-Type"]) == (200, "image/jpeg")
        assert photo == w.photo_bytes
        # …not that of another Comune's, and no press note: he is not A's coordinator.
        status, page, _ = await client.get(f"/app/u/{w.a}/actions/{w.actions['A1.1']}")
        assert status == 200
        assert "members of its municipality and the Union&#x27;s coordinator" in page
        assert "Fotovoltaico" in page  # the card itself is for every member
        status, page, _ = await client.get(f"/app/u/{w.a}/press")
        assert status == 403
        assert "Comunicato" not in page
        # In B he is the coordinator: the press note, every history.
        status, page, _ = await client.get(f"/app/u/{w.b}/press")
        assert status == 200 and "BOZZA DI COMUNICATO STAMPA" in page
        assert "Teleriscaldamento" not in page or "Bentivoglio" in page
        status, page, _ = await client.get(f"/app/u/{w.b}/actions/{w.actions['B2.1']}")
        assert status == 200 and "History" in page
    # The Sindaco of Bibbiano may not open Montecchio's photo.
    client, http = await _client(dash, w.people.sindaco)
    async with http:
        status, _, _ = await client.get_bytes(f"/app/u/{w.a}/files/{w.photo_attachment}")
        assert status == 403


async def test_sign_in_goes_back_only_to_a_page_of_the_mini_app(dash: Dash) -> None:
    w = dash.world
    async with aiohttp.ClientSession() as http:
        for wanted, expected in (
            (f"/app/u/{w.a}/decisions", f"/app/u/{w.a}/decisions"),
            ("https://evil.example/app/", f"/app/u/{w.a}"),
            ("//evil.example/app/", f"/app/u/{w.a}"),
            ("/p/whatever", f"/app/u/{w.a}"),
        ):
            _, body = await Client(dash, http).sign_in(
                dash.init_data(w.people.sindaco), next_path=wanted
            )
            assert body == {"next": expected}, wanted


async def _switch(dash: Dash, user_id: int, union_id: int, enabled: bool) -> uc.PublicPageState:
    who = uc.Who(user_id, None, "it")
    async with dash.bot.db.transaction() as s:
        state = await uc.switch_public_page(
            s, who=who, union_id=union_id, enabled=enabled, now=dash.bot.clock.now()
        )
    assert isinstance(state, uc.PublicPageState), state
    return state


async def test_the_public_page_is_404_until_switched_on_and_never_shows_people(
    dash: Dash,
) -> None:
    w = dash.world
    async with aiohttp.ClientSession() as http:
        anon = Client(dash, http)
        assert (await anon.get("/p/AAAAAAAAAAAAAAAA"))[0] == 404
        # Only the coordinator switches it on.
        async with dash.bot.db.transaction() as s:
            refused = await uc.switch_public_page(
                s,
                who=uc.Who(w.people.sindaco, None, "it"),
                union_id=w.a,
                enabled=True,
                now=dash.bot.clock.now(),
            )
        assert isinstance(refused, uc.NotAllowed)
        state = await _switch(dash, w.people.coordinator, w.a, True)
        assert state.slug and len(state.slug) >= 16 and str(w.a) != state.slug
        status, page, headers = await anon.get(f"/p/{state.slug}")
        assert status == 200
        assert "Unione Val d&#x27;Enza" in page and "Montecchio Emilia" in page
        assert "Fotovoltaico sul tetto della scuola di Bibbiano" in page  # completed
        assert "Cappotto termico" not in page  # not completed: not listed
        for word in PRIVATE_WORDS:
            assert word not in page, word
        assert "Biciclette" not in page
        assert headers["Cache-Control"] == "public, max-age=300"
        assert "<script" not in page
        etag = headers["ETag"]
        status, body, headers = await anon.get(f"/p/{state.slug}", **{"If-None-Match": etag})
        assert (status, body) == (304, "")
        status, svg, headers = await anon.get(f"/p/{state.slug}/badge.svg")
        assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        assert "3 azioni del PAES completate su 10" in svg
        for word in PRIVATE_WORDS:
            assert word not in svg, word
        # Off again: the same address answers 404, and comes back with the same address.
        await _switch(dash, w.people.coordinator, w.a, False)
        assert (await anon.get(f"/p/{state.slug}"))[0] == 404
        assert (await anon.get(f"/p/{state.slug}/badge.svg"))[0] == 404
        again = await _switch(dash, w.people.coordinator, w.a, True)
        assert again.slug == state.slug


async def test_the_first_page_weighs_under_100_kb(dash: Dash) -> None:
    w = dash.world
    client, http = await _client(dash, w.people.coordinator)
    async with http:
        status, page, _ = await client.get(f"/app/u/{w.a}")
        total = len(page.encode())
        for name in ("dash.css", "dash.js"):
            status, body, headers = await client.get_bytes(f"/static/{name}")
            assert status == 200 and "immutable" in headers["Cache-Control"]
            total += len(body)
        assert total < 100_000, total


async def test_an_id_beyond_the_databases_integers_is_not_found(any_dash: Dash) -> None:
    """On PostgreSQL, ids are 32-bit integers: a longer number in an address was sent to the
    database, which refused it, and the member got a 500."""
    w = any_dash.world
    client, http = await _client(any_dash, w.people.sindaco)
    async with http:
        for path in (
            "/app/u/99999999999",
            f"/app/u/{w.a}/actions/99999999999",
            f"/app/u/{w.a}/files/99999999999",
        ):
            status, _, _ = await client.get(path)
            assert status == 404, path


async def test_an_address_that_leads_nowhere_answers_a_clear_page(dash: Dash) -> None:
    """Not the server's bare «404: Not Found»: the Mini App's page in the member's language,
    the public one elsewhere."""
    w = dash.world
    client, http = await _client(dash, w.people.sindaco)
    async with http:
        for path in (f"/app/u/{w.a}/zzz", "/app/u/abc", f"/app/u/{w.a}/actions/x"):
            status, page, headers = await client.get(path)
            assert status == 404, path
            assert headers["Content-Type"].startswith("text/html"), path
            assert "Qui non c'è niente" in page.replace("&#x27;", "'"), path
            assert "404: Not Found" not in page
        status, page, _ = await client.get(f"/app/u/{w.a}/zzz", **{"Accept-Language": "en"})
        assert status == 404 and 'lang="en"' in page
        for path in ("/p/short", "/static/nope.js", "/nothing"):
            status, page, headers = await client.get(path)
            assert status == 404, path
            assert "Questa pagina non esiste o non è pubblica." in page, path


async def test_a_page_that_fails_says_so_plainly(dash: Dash, monkeypatch: Any) -> None:
    """An unexpected error is logged; the member gets a page in plain words, not a traceback
    nor the server's text."""
    w = dash.world

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(uc, "meeting_calendar", broken)
    client, http = await _client(dash, w.people.sindaco)
    async with http:
        status, page, headers = await client.get(f"/app/u/{w.a}/meetings")
    assert status == 500
    assert headers["Content-Type"].startswith("text/html")
    assert "Qualcosa non ha funzionato" in page and "Riprova tra qualche minuto" in page
    for word in ("RuntimeError", "a bug", "Traceback", "Internal"):
        assert word not in page, word
