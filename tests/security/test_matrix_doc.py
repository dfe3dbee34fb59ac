"""docs/AUTHORIZATION.md shows the very table the matrix tests check."""

from __future__ import annotations

from pathlib import Path

from tests.security.matrix import markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "AUTHORIZATION.md"


def test_the_document_matches_the_tests() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.endswith(markdown()), (
        "docs/AUTHORIZATION.md is out of date: replace everything after '## Tables' with the "
        "output of `python -m tests.security.matrix`"
    )
