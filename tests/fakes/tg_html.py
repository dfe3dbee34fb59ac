"""Strict parser for Telegram's HTML parse mode, as the Bot API applies it.

``parse_html(text)`` returns the plain text and the message entities (offsets and lengths in
UTF-16 code units, like Telegram), or raises ``HtmlParseError`` with a message in Telegram's style
(the server prefixes it with ``Bad Request: can't parse entities: ``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HtmlParseError", "html_to_plain", "parse_html", "utf16_len"]


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


# tag name -> entity type (None: decided from attributes)
_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ALL_TAGS = {*_SIMPLE_TAGS, "a", "span", "tg-emoji"}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*"
    r"(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*(/?)>",
)
_ATTR_RE = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?")


@dataclass
class _Open:
    name: str
    byte_offset: int
    start: int  # utf-16 offset in the plain text
    entity: dict[str, Any] | None
    attrs: dict[str, str] = field(default_factory=dict)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, index: int) -> tuple[str, int]:
    """Decode the HTML entity at ``text[index]`` (which is ``&``); return (char, new index)."""
    m = _ENTITY_RE.match(text, index)
    if m is None:
        raise HtmlParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, index)}"
        )
    dec, hexa, name = m.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise HtmlParseError(
                f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(text, index)}'
            )
        return _NAMED_ENTITIES[name], m.end()
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise HtmlParseError(f"Invalid character code at byte offset {_byte_offset(text, index)}")
    return chr(code), m.end()


def _parse_attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR_RE.finditer(raw):
        value = m.group(2) or ""
        if value[:1] in {'"', "'"}:
            value = value[1:-1]
        attrs[m.group(1).lower()] = html.unescape(value)
    return attrs


def _open_entity(name: str, attrs: dict[str, str], offset: int) -> dict[str, Any] | None:
    if name in _SIMPLE_TAGS:
        etype = _SIMPLE_TAGS[name]
        if etype == "blockquote" and "expandable" in attrs:
            etype = "expandable_blockquote"
        return {"type": etype, "offset": offset}
    if name == "a":
        href = attrs.get("href", "")
        if not href:
            return None  # Telegram silently drops links without href
        return {"type": "text_link", "offset": offset, "url": href}
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        return {"type": "spoiler", "offset": offset}
    if name == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise HtmlParseError('Tag "tg-emoji" must have attribute "emoji-id" with a number')
        return {"type": "custom_emoji", "offset": offset, "custom_emoji_id": emoji_id}
    raise AssertionError(name)  # pragma: no cover


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML strictly; return (plain text, entities)."""
    out: list[str] = []
    out_len = 0  # utf-16 length of the plain text so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded, i = _decode_entity(text, i)
            out.append(decoded)
            out_len += utf16_len(decoded)
            continue
        if ch == "<":
            m = _TAG_RE.match(text, i)
            at = _byte_offset(text, i)
            if m is None:
                raise HtmlParseError(f"Unsupported start tag at byte offset {at}")
            closing, name, raw_attrs, _selfclose = m.groups()
            name = name.lower()
            if closing:
                if not stack:
                    raise HtmlParseError(f"Unexpected end tag at byte offset {at}")
                top = stack.pop()
                if top.name != name:
                    raise HtmlParseError(
                        f'Unmatched end tag at byte offset {at}, expected "</{top.name}>", '
                        f'found "</{name}>"'
                    )
                if top.entity is not None:
                    length = out_len - top.start
                    if length > 0:
                        ent = dict(top.entity, length=length)
                        entities.append(ent)
            else:
                if name not in _ALL_TAGS:
                    raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {at}')
                attrs = _parse_attrs(raw_attrs)
                entity = _open_entity(name, attrs, out_len)
                if name == "code" and stack and stack[-1].name == "pre":
                    lang = attrs.get("class", "")
                    pre_ent = stack[-1].entity
                    if lang.startswith("language-") and pre_ent is not None:
                        pre_ent["language"] = lang[len("language-") :]
                    entity = None  # <pre><code> is a single pre entity
                stack.append(_Open(name, at, out_len, entity, attrs))
            i = m.end()
            continue
        if ch == ">":
            # Telegram accepts a bare '>' in text
            pass
        out.append(ch)
        out_len += utf16_len(ch)
        i += 1
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_STRIP_TAGS_RE = re.compile(r"<[^>]*>")


def html_to_plain(text: str) -> str:
    """Best-effort plain rendering of (possibly invalid) HTML, for transcripts."""
    try:
        return parse_html(text)[0]
    except HtmlParseError:
        return html.unescape(_STRIP_TAGS_RE.sub("", text))
