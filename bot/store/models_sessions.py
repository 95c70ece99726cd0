"""Shared tables for group supervision: scheduled sessions, who is invited, and attendance.

Used by three journeys: specialist/emergency sessions (request journey), group records (the DSL records who
came), and half-term compliance (mop-up sessions, "I'll attend"). Metadata only: no discussion content here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

SESSION_KINDS = ("class", "non_class", "mop_up", "emergency", "specialist", "enrichment", "ad_hoc")


class GroupSession(SchoolOwned, Base):
    """A group safeguarding supervision session (seed 001 §3.1 universal offer, §3.3 emergency group)."""

    __tablename__ = "group_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of SESSION_KINDS
    group_id: Mapped[str | None] = mapped_column(String(60), nullable=True)  # school config group, if any
    title: Mapped[str] = mapped_column(String(200))  # neutral, e.g. "Group supervision – Willow Class"
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    local_date: Mapped[dt.date] = mapped_column(Date)  # school-local date (half-term bucketing)
    half_term: Mapped[str] = mapped_column(String(40))  # e.g. "2026-27 Autumn 2"
    facilitator_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled | recorded | cancelled
    external_support: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SessionInvitee(SchoolOwned, Base):
    """Who is expected at a session (their calendars hold the booking)."""

    __tablename__ = "session_invitees"
    __table_args__ = (
        UniqueConstraint("school_id", "session_id", "staff_id", name="uq_session_invitees_school_session_staff"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"))
    staff_id: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    added_via: Mapped[str] = mapped_column(String(30), default="invite")  # invite | self (I'll attend) | mop_up


class Attendance(SchoolOwned, Base):
    """One person attended one group safeguarding supervision session (seed 001: tracked each half term)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("staff_id", "session_id", name="uq_attendance_staff_session"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(120), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"))
    local_date: Mapped[dt.date] = mapped_column(Date, index=True)
    half_term: Mapped[str] = mapped_column(String(40), index=True)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
