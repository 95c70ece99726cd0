"""Notes of specialist group supervision (seed 001 §3.3: "notes from these sessions will be kept by the supervisor
and shared with the supervisee. There is no requirement to store these notes centrally").

Like the 1:1 record (models_targeted.py): the notes themselves are a .docx in the supervisor's OneDrive, shared
read-only with each attendee; the bot keeps who, when, the file's name and link — metadata only — and the
supervisor's half-written card as a draft until it is submitted (deleted in the submitting transaction).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class SpecialistNote(SchoolOwned, Base):
    """One specialist group session written up by its supervisor. Metadata only."""

    __tablename__ = "specialist_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[str] = mapped_column(String(120), index=True)
    session_date: Mapped[dt.date] = mapped_column(Date)
    template_id: Mapped[str] = mapped_column(String(120))
    submit_key: Mapped[str] = mapped_column(String(64), unique=True)  # the card's one-time submit key
    file_name: Mapped[str] = mapped_column(String(255))
    shared_with: Mapped[list] = mapped_column(JSON)  # staff ids of the attendees it is shared with
    delivered_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    web_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    item_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SpecialistNoteDraft(SchoolOwned, Base):
    """A specialist session's notes card saved part-way, by its supervisor. `content` is narrative (deleted on
    submit)."""

    __tablename__ = "specialist_note_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_key: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[str] = mapped_column(String(120), index=True)
    session_id: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
