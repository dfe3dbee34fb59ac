"""Shim: the summaries tests' factories now live in tests/factories.py (same names and call
shapes). New tests: import tests.factories."""

from __future__ import annotations

from tests.factories import (
    NOW,
    World,
    add_member,
    add_person,
    add_round,
    add_update,
    make_world,
    small_union,
)

__all__ = [
    "NOW",
    "World",
    "add_member",
    "add_person",
    "add_round",
    "add_update",
    "make_world",
    "small_union",
]
