"""The dashboard's own state: whether a Union's public progress page is on, and its address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PublicPage(Base):
    """A Union's public progress page (issue 20). No row, or `enabled` false: the page answers
    404. The slug is random and never derived from the Union's id or name, so the addresses of
    Unions that did not switch it on cannot be guessed; it is kept when the page is switched
    off, so a link on the Union's website works again when it is switched back on."""

    __tablename__ = "public_page"

    union_id: Mapped[int] = mapped_column(ForeignKey("municipal_union.id"), primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
