"""The dashboard's addresses, in one place: the pages link with these and bot/web routes them.

`root` is the path of WEBAPP_URL ("/" or e.g. "/energia/"): the server answers under it, so a
reverse proxy passes paths through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

APP = "app/"
PUBLIC = "p/"
STATIC = "static/"


@dataclass(frozen=True)
class AppLinks:
    root: str

    @property
    def home(self) -> str:
        """Where Telegram opens the Mini App: the sign-in page."""
        return f"{self.root}{APP}"

    @property
    def session(self) -> str:
        return f"{self.root}{APP}session"

    @property
    def unions(self) -> str:
        return f"{self.root}{APP}unions"

    def union(self, union_id: int) -> str:
        return f"{self.root}{APP}u/{union_id}"

    def actions(self, union_id: int, *, comune: str = "", status: str = "", page: int = 1) -> str:
        query = {k: v for k, v in (("comune", comune), ("status", status)) if v}
        if page > 1:
            query["page"] = str(page)
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.union(union_id)}/actions{suffix}"

    def action(self, union_id: int, action_id: int) -> str:
        return f"{self.union(union_id)}/actions/{action_id}"

    def meetings(self, union_id: int) -> str:
        return f"{self.union(union_id)}/meetings"

    def decisions(self, union_id: int) -> str:
        return f"{self.union(union_id)}/decisions"

    def press(self, union_id: int) -> str:
        return f"{self.union(union_id)}/press"

    def file(self, union_id: int, attachment_id: int) -> str:
        return f"{self.union(union_id)}/files/{attachment_id}"

    def public(self, slug: str) -> str:
        return f"{self.root}{PUBLIC}{slug}"

    def badge(self, slug: str) -> str:
        return f"{self.root}{PUBLIC}{slug}/badge.svg"


def normalized_root(path: str) -> str:
    """ "" → "/"; "energia" → "/energia/"."""
    path = "/" + path.strip("/")
    return path if path == "/" else path + "/"


def links_for(webapp_url: str) -> AppLinks:
    """The links of a dashboard served at WEBAPP_URL."""
    return AppLinks(normalized_root(urlsplit(webapp_url).path))


def absolute(webapp_url: str, path: str) -> str:
    """An address for outside (a Telegram button, the Union's website): WEBAPP_URL's origin +
    a path from AppLinks."""
    parts = urlsplit(webapp_url)
    return f"{parts.scheme}://{parts.netloc}{path}"


def public_addresses(webapp_url: str | None, slug: str | None) -> tuple[str | None, str | None]:
    """The public page's address and its image's; (None, None) before it has a slug."""
    if not webapp_url or not slug:
        return None, None
    links = links_for(webapp_url)
    return absolute(webapp_url, links.public(slug)), absolute(webapp_url, links.badge(slug))


def mini_app_url(webapp_url: str) -> str:
    """The Mini App's address: what the menu button and the private chats' buttons open."""
    return absolute(webapp_url, links_for(webapp_url).home)
