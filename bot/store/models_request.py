"""Tables of the targeted offer (seed 001 §3.2) and specialist sessions (§3.3): the trained supervisor pool as the
DSL changes it, requests for supervision, who supervises whom, the 1:1 meetings booked, and the times offered.

Minimum data: a request keeps choices from fixed lists plus an optional short note (shown to the allocated
supervisor only, and erased when the request is withdrawn or its supervision ends). Meetings keep times and
people, never topics or notes; calendars get a neutral subject.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

# Request states: submitted (waiting for an allocator) → allocated (supervisor to propose a time) → booked.
# withdrawn: the requester took it back before a meeting was booked.
REQUEST_STATES = ("submitted", "allocated", "booked", "withdrawn")
MEETING_STATES = ("booked", "cancelled", "rearranged")


class PoolMember(SchoolOwned, Base):
    """One trained supervisor (seed 001 §3.2 "a list of trained supervisors is kept centrally").

    Seeded from the school config the first time the pool is read; from then on the DSL's changes here are the
    truth (a retired person stays retired even though the config still names them).
    """

    __tablename__ = "supervisor_pool"
    __table_args__ = (UniqueConstraint("school_id", "staff_id", name="uq_supervisor_pool_school_staff"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(120))
    trained_on: Mapped[dt.date] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the school's default
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(10), default="config")  # config | dsl
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SupervisionRequest(SchoolOwned, Base):
    """A member of staff asking for supervision (1:1, group, or specialist after an incident)."""

    __tablename__ = "supervision_requests"
    __table_args__ = (
        Index("ix_supervision_requests_status", "status"),
        Index("ix_supervision_requests_requester", "requester_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[str] = mapped_column(String(64), unique=True)  # the form's nonce: one submit = one row
    requester_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # one_to_one | group | specialist
    preferred_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    continue_current: Mapped[bool] = mapped_column(Boolean, default=False)
    topics: Mapped[list] = mapped_column(JSON)  # codes from a fixed list
    urgency: Mapped[str] = mapped_column(String(10))  # routine | week | urgent
    times: Mapped[list] = mapped_column(JSON)  # usual times: morning | midday | …
    days: Mapped[list] = mapped_column(JSON)  # usual weekdays, [] = any
    colleagues: Mapped[list] = mapped_column(JSON)  # group requests: staff ids to invite
    note: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Open pupil cases the requester says they carry (optional, 0–200; a count, never names): the dashboard's
    # caseload-by-team chart (seed 000 part 2, parity of caseload across teams).
    pupil_cases: Mapped[int | None] = mapped_column(Integer, nullable=True)
    route: Mapped[str] = mapped_column(String(12))  # allocation | continue | enrichment
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    suggested_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    supervisor_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    allocated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    allocated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Pairing(SchoolOwned, Base):
    """An ongoing supervisory relationship: the supervisor's caseload (seed 000 parity) and the supervisee's
    "current supervisor" (seed 001 §3.2 Continuity of Support). Ended by either of them or a new allocation."""

    __tablename__ = "supervision_pairings"
    __table_args__ = (
        Index("ix_supervision_pairings_supervisor", "supervisor_id", "ended_at"),
        Index("ix_supervision_pairings_supervisee", "supervisee_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervisee_id: Mapped[str] = mapped_column(String(120))
    supervisor_id: Mapped[str] = mapped_column(String(120))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_requests.id"), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class SlotOffer(SchoolOwned, Base):
    """Times offered on one card. Booking must name one of them, and one offer books at most once."""

    __tablename__ = "slot_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(40), unique=True)
    purpose: Mapped[str] = mapped_column(String(12))  # request | pairing | rearrange | group
    bookers: Mapped[list] = mapped_column(JSON)  # staff ids allowed to pick a time from this offer
    attendee_ids: Mapped[list] = mapped_column(JSON)  # everyone whose calendar was checked
    slots: Mapped[list] = mapped_column(JSON)  # ISO UTC start times
    minutes: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_requests.id"), nullable=True)
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_pairings.id"), nullable=True)
    meeting_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # rearranging this meeting
    setup: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # group: kind, supervisors, …
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Meeting(SchoolOwned, Base):
    """A booked 1:1 supervision meeting (targeted or specialist). Times and people only."""

    __tablename__ = "supervision_meetings"
    __table_args__ = (
        Index("ix_supervision_meetings_supervisor", "supervisor_id", "status"),
        Index("ix_supervision_meetings_supervisee", "supervisee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # one_to_one | specialist | enrichment
    request_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_requests.id"), nullable=True)
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_pairings.id"), nullable=True)
    supervisor_id: Mapped[str] = mapped_column(String(120))
    supervisee_id: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    local_date: Mapped[dt.date] = mapped_column(Date)
    half_term: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="booked")
    event_key: Mapped[str] = mapped_column(String(80), unique=True)
    offer_nonce: Mapped[str] = mapped_column(String(40), unique=True)  # one offer → at most one meeting
    replaces_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    booked_by: Mapped[str] = mapped_column(String(120))
    booked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    changed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BookedGroupSession(SchoolOwned, Base):
    """Links a shared group session (group_sessions) to how it was booked here: the offer that booked it (so a
    double click books once), the request it answers, and its calendar event."""

    __tablename__ = "booked_group_sessions"
    __table_args__ = (UniqueConstraint("offer_nonce", name="uq_booked_group_sessions_offer_nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"), unique=True)
    offer_nonce: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_requests.id"), nullable=True)
    event_key: Mapped[str] = mapped_column(String(80), unique=True)
    supervisor_ids: Mapped[list] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(120))
