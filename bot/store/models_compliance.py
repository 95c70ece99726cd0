"""Half-term compliance tables: reminder claims, digest sends and mop-up proposals (issue #5).

A *claim* is written before a proactive message is sent and marked after it, so the database — not the process —
knows what was sent: a crash mid-run neither loses nor repeats a message, and two bot instances on one database
never send the same one (the unique key decides who owns it, a lease decides who is sending it).
Metadata only: no message content is stored here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

# Claim lifecycle: pending → sending (leased by one instance) → sent | unreachable | failed | skipped | expired.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
UNREACHABLE = "unreachable"  # 403/404 or no conversation with the bot: listed in the DSL digest
FAILED = "failed"  # Teams kept refusing after every retry (not the person's doing)
SKIPPED = "skipped"  # no longer needed when its turn came (they attended meanwhile)
EXPIRED = "expired"  # the deadline passed before it could go
OPEN_STATES = (PENDING, SENDING)
FINAL_STATES = (SENT, UNREACHABLE, FAILED, SKIPPED, EXPIRED)


class _ClaimColumns:
    """Lease and outcome columns shared by every claimed send."""

    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    lease_owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)  # e.g. no_conversation, blocked
    activity_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ReminderClaim(SchoolOwned, _ClaimColumns, Base):
    """At most one reminder per person per half term per reminder point (school days before the deadline)."""

    __tablename__ = "reminder_claims"
    __table_args__ = (
        UniqueConstraint(
            "school_id", "staff_id", "half_term", "point", name="uq_reminder_claims_school_staff_half_term_point"
        ),
        Index("ix_reminder_claims_status", "status", "lease_until"),
        Index("ix_reminder_claims_half_term_point", "half_term", "point"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(120))
    half_term: Mapped[str] = mapped_column(String(40))
    point: Mapped[int] = mapped_column(Integer)


class DigestSend(SchoolOwned, _ClaimColumns, Base):
    """One DSL-team member's digest for one reminder point of one half term."""

    __tablename__ = "digest_sends"
    __table_args__ = (
        UniqueConstraint(
            "school_id", "staff_id", "half_term", "point", name="uq_digest_sends_school_staff_half_term_point"
        ),
        Index("ix_digest_sends_status", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(120))
    half_term: Mapped[str] = mapped_column(String(40))
    point: Mapped[int] = mapped_column(Integer)


class MopUpProposal(SchoolOwned, Base):
    """The one mop-up proposal of a half term (seed 001 §3.1), from proposal to booking.

    ``options`` holds the times offered (UTC ISO start/end, who of the DSL team is free, how many outstanding
    staff are free) so a confirm can only pick a time the bot offered.
    """

    __tablename__ = "mop_up_proposals"
    __table_args__ = (UniqueConstraint("school_id", "half_term", name="uq_mop_up_proposals_school_half_term"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    half_term: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | booked | declined
    options: Mapped[list] = mapped_column(JSON)
    calendars_checked: Mapped[bool] = mapped_column(default=False)
    proposed_to: Mapped[list] = mapped_column(JSON)  # DSL-team staff ids whose card carries the proposal
    outstanding_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_sessions.id", ondelete="SET NULL"), nullable=True
    )  # the booked session
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
