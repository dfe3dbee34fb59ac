"""Telegram HTML parse mode: strict parsing, entities in UTF-16 offsets."""

from __future__ import annotations

import pytest

from tests.fakes.tg_html import HtmlParseError, html_to_plain, parse_html, utf16_len


def test_entities_and_offsets() -> None:
    text, entities = parse_html("😀 <b>ciao <i>Mario</i></b> <a href='https://x.it'>link</a>")
    assert text == "😀 ciao Mario link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 10},
        {"type": "italic", "offset": 8, "length": 5},
        {"type": "text_link", "offset": 14, "url": "https://x.it", "length": 4},
    ]
    assert utf16_len("😀") == 2


def test_pre_code_language_and_spoilers() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>'
    )
    assert text == "x = 1sq"
    assert [e["type"] for e in entities] == ["pre", "spoiler", "expandable_blockquote"]
    assert parse_html("<pre><code>x</code></pre>")[1] == [{"type": "pre", "offset": 0, "length": 1}]
    assert entities[0]["language"] == "python"


def test_entities_decoded() -> None:
    assert parse_html("&lt;&gt;&amp;&quot;&#39;&#x20AC;")[0] == "<>&\"'€"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("a < b", "Unsupported start tag at byte offset 2"),
        ("Tom & Jerry", "Can't find end of the entity starting at byte offset 4"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_invalid_html(bad: str, message: str) -> None:
    with pytest.raises(HtmlParseError, match=message.replace("(", r"\(")):
        parse_html(bad)


def test_plain_rendering_is_lenient() -> None:
    assert html_to_plain("<b>a</b> &amp; b") == "a & b"
    assert html_to_plain("<b>a & b") == "a & b"
