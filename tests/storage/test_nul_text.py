"""A NUL character typed by a client is dropped before it reaches the database: PostgreSQL
text cannot hold it and would fail the whole transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.db import Database
from storage.models import DocumentLink, Union
from storage.repositories import summaries as summaries_repo

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_nul_is_dropped_on_both_backends(db: Database) -> None:
    async with db.transaction() as s:
        union = Union(name="Unione\x00 Bassa", created_at=NOW)
        s.add(union)
        await s.flush()
        union.name = "Unione\x00 Bassa Reggiana"  # and on update
        await summaries_repo.add_document(
            s,
            union_id=union.id,
            title="Cartella\x00 PAES",
            url="https://example.org/\x00x",
            member_id=None,
            now=NOW,
        )
    async with db.transaction() as s:
        assert (await s.execute(select(Union.name))).scalar_one() == "Unione Bassa Reggiana"
        link = (await s.execute(select(DocumentLink))).scalar_one()
        assert (link.title, link.url) == ("Cartella PAES", "https://example.org/x")
