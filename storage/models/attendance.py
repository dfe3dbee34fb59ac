"""Where a meeting's attendance list is shown: the message the bot posts to the table's group
when check-ins open (bot.services.meetings.attendance), kept live by bot.message_refresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class AttendanceMessage(Base):
    """A group message showing a meeting's attendance; `dirty_since` marks an edit still owed."""

    __tablename__ = "attendance_message"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    dirty_since: Mapped[datetime | None]
    rendered_hash: Mapped[str | None] = mapped_column(String(64))
