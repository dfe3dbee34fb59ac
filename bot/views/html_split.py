"""Split Telegram HTML into messages under the length limit, at section and row boundaries.

The one splitter of the bot: a structured text (a summary's Comuni) goes through
`split_sections`, a plain multi-line text through `split_text`.

Telegram counts a message's length after entity parsing, in UTF-16 code units: tags do not count,
`&amp;` counts as one character, an emoji outside the BMP counts as two. A text is given as
sections (a Comune each) of rows (one line each, every row a balanced HTML fragment). Sections are
kept whole when they fit; a section longer than a message is cut between rows; a single row
longer than a message (pathological) is cut between characters, closing the open tags at the cut
and reopening them in the next part. Nothing is dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

TELEGRAM_LIMIT = 4096
ROW_SEPARATOR = "\n"
SECTION_SEPARATOR = "\n\n"

_TOKEN = re.compile(r"(<[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);)")
_TAG_NAME = re.compile(r"^</?\s*([A-Za-z0-9\-]+)")


def plain_text(fragment: str) -> str:
    """What Telegram shows: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


def telegram_length(fragment: str) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text after entity parsing."""
    return len(plain_text(fragment).encode("utf-16-le")) // 2


def _unit_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_row(row: str, limit: int) -> list[str]:
    """Cut one over-long row into balanced fragments, each ≤ limit (never inside a tag/entity)."""
    pieces: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, opening tag text)
    current = ""
    length = 0

    def close_all() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(open_tags))

    def reopen_all() -> str:
        return "".join(tag for _, tag in open_tags)

    for token in _TOKEN.split(row):
        if not token:
            continue
        if token.startswith("<"):
            match = _TAG_NAME.match(token)
            name = match.group(1).lower() if match else ""
            if token.startswith("</"):
                for i in range(len(open_tags) - 1, -1, -1):
                    if open_tags[i][0] == name:
                        del open_tags[i]
                        break
            elif not token.endswith("/>"):
                open_tags.append((name, token))
            current += token
            continue
        units = [token] if token.startswith("&") else list(token)
        for unit in units:
            size = _unit_length(html.unescape(unit))
            if length + size > limit and length > 0:
                pieces.append(current + close_all())
                current, length = reopen_all(), 0
            current += unit
            length += size
    if current and (length > 0 or not pieces):
        pieces.append(current)
    elif current and pieces:
        pieces[-1] += current  # trailing closing tags only
    return pieces


def split_sections(sections: Sequence[Sequence[str]], *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Pack sections of rows into messages of at most `limit` (Telegram length) each."""
    messages: list[str] = []
    current: list[str] = []  # rendered sections of the current message
    current_len = 0
    sep_section = _unit_length(SECTION_SEPARATOR)
    sep_row = _unit_length(ROW_SEPARATOR)

    def flush() -> None:
        nonlocal current, current_len
        if current:
            messages.append(SECTION_SEPARATOR.join(current))
        current, current_len = [], 0

    for section in sections:
        rows = [r for r in section if r != ""]
        if not rows:
            continue
        text = ROW_SEPARATOR.join(rows)
        size = telegram_length(text)
        extra = sep_section if current else 0
        if current_len + extra + size <= limit:
            current.append(text)
            current_len += extra + size
            continue
        flush()
        if size <= limit:
            current, current_len = [text], size
            continue
        # A section longer than a message: cut between rows.
        chunk: list[str] = []
        chunk_len = 0
        for row in rows:
            row_len = telegram_length(row)
            pieces = [row] if row_len <= limit else split_row(row, limit)
            for piece in pieces:
                piece_len = telegram_length(piece)
                extra = sep_row if chunk else 0
                if chunk and chunk_len + extra + piece_len > limit:
                    messages.append(ROW_SEPARATOR.join(chunk))
                    chunk, chunk_len, extra = [], 0, 0
                chunk.append(piece)
                chunk_len += extra + piece_len
        if chunk:
            current, current_len = [ROW_SEPARATOR.join(chunk)], chunk_len
    flush()
    return messages


def split_text(text: str, *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A text of lines (each line a balanced HTML fragment) in messages of at most `limit`.

    Paragraphs (separated by a blank line) are the sections and lines the rows of
    `split_sections`: a paragraph stays whole when it fits, a longer one is cut between lines,
    a single line longer than a message between characters, never inside a tag or an entity.
    """
    return split_sections(
        [paragraph.split(ROW_SEPARATOR) for paragraph in text.split(SECTION_SEPARATOR)],
        limit=limit,
    )
