"""Microsoft 365 tables. The local (embedded) backend's meetings, sharing grants and app installations — used
only when Graph is not configured; its meetings answer free/busy the way Exchange would — and, for both
backends, which meeting each caller key created (so "cancel booking 42" finds it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime


class LocalMeeting(Base):
    __tablename__ = "local_m365_meetings"
    __table_args__ = (
        UniqueConstraint("organizer", "transaction_id", name="uq_local_m365_meetings_organizer_tx"),
        Index("ix_local_m365_meetings_window", "start", "end"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organizer: Mapped[str] = mapped_column(String(320))  # organiser's email, lower case
    transaction_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attendees: Mapped[list] = mapped_column(JSON)  # emails, lower case
    join_url: Mapped[str] = mapped_column(String(500))
    is_cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LocalSharingGrant(Base):
    __tablename__ = "local_m365_grants"
    __table_args__ = (UniqueConstraint("drive_id", "item_id", "recipient", name="uq_local_m365_grants_item_recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drive_id: Mapped[str] = mapped_column(String(300))
    item_id: Mapped[str] = mapped_column(String(1000))
    recipient: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LocalAppInstall(Base):
    __tablename__ = "local_m365_app_installs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(320), unique=True)  # object id, lower case
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class M365MeetingKey(Base):
    """The meeting a caller's key (e.g. an event_key in a calendar.create payload) created, in either backend."""

    __tablename__ = "m365_meeting_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    organizer: Mapped[str] = mapped_column(String(320))
    meeting_id: Mapped[str] = mapped_column(String(500))  # Graph event ids run to ~150 characters
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The Teams meeting's join link (Graph: event.onlineMeeting.joinUrl when isOnlineMeeting), for the cards that
    # announce the meeting. None for a plain calendar entry or until the create is delivered.
    join_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
