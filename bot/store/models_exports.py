"""Exports for governors and inspection, and the weekly DSL digest's figures (issue 12).

An *export* is one request by the DSL team (or a senior leader) for one half term's files: the attendance
register, the compliance summary and the half term's audit trail (.csv and one .xlsx), and the governors' one-page
summary (.docx). Each file is generated in the turn that asks for it and kept here only until it reaches the
Safeguarding channel's files through the outbox (the outbox row carries a reference to it, not the bytes); then
its content is dropped and only its name and link stay.

A *weekly digest* row holds the figures the DSL team's weekly digest showed for one week (counts and a
percentage, never names), so next week's digest can show the trend against exactly what was seen.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

# File and export states.
QUEUED, DELIVERED, FAILED = "queued", "delivered", "failed"


class Export(SchoolOwned, Base):
    """One export of one half term, by one person."""

    __tablename__ = "exports"
    __table_args__ = (Index("ix_exports_requested_by", "requested_by", "requested_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)  # the form's one-time key: a double click exports once
    half_term: Mapped[str] = mapped_column(String(40))  # e.g. "2026-27 Autumn 2"
    parts: Mapped[list] = mapped_column(JSON)  # what was chosen: register, summary, governors
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)  # queued | delivered | failed
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ExportFile(SchoolOwned, Base):
    """One file of an export: its bytes until delivered, then where it landed."""

    __tablename__ = "export_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))  # the name asked for in the channel's files
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # dropped once delivered
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    delivered_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # "… (2).xlsx" if taken
    web_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WeeklyDigest(SchoolOwned, Base):
    """The figures of one week's DSL digest (one row per week, whichever instance got there first)."""

    __tablename__ = "weekly_digests"
    __table_args__ = (UniqueConstraint("school_id", "week_of", name="uq_weekly_digests_school_week_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week_of: Mapped[dt.date] = mapped_column(Date)  # the Monday of the week (school time)
    half_term: Mapped[str] = mapped_column(String(40))
    figures: Mapped[dict] = mapped_column(JSON)  # name → number (see bot/reminders/weekly.py)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
