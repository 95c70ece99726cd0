"""Follow-through and handover (issue 11 parts 4 and 8): the claims that make each follow-up reminder go once,
and the handover of a supervisee's 1:1 records to a new supervisor (seed 004 §5).

- `followup_claims`: one row per reminder ever planned (an overdue action, an agreement review a month / a week
  ahead, a pairing without an agreement, a missed entitlement at each level). The unique (kind, ref) is the claim:
  however many scheduler ticks, restarts or instances plan the same reminder, one row — and the notice is queued
  in the outbox only in the transaction that inserted it. Ids and dates only.
- `supervision_handovers`: a DSL moved a supervisee to a new supervisor; when, by whom, from which date records
  were handed over, and how many.
- `targeted_record_access`: who besides the writer and the supervisee may open a 1:1 record, because of a handover
  (a read grant on the file in the writer's OneDrive); `revoked_at` once it ended (the next handover).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned


class FollowUpClaim(SchoolOwned, Base):
    """A follow-up reminder that was planned once (and queued in the outbox in the same transaction)."""

    __tablename__ = "followup_claims"
    __table_args__ = (UniqueConstraint("school_id", "kind", "ref", name="uq_followup_claims_school_kind_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # action_overdue | review_month | review_week | …
    ref: Mapped[str] = mapped_column(String(160))  # ids and dates only: "action:12", "agreement:4:2027-09-01"
    staff_id: Mapped[str] = mapped_column(String(120))  # who is told
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Handover(SchoolOwned, Base):
    """A supervisee handed over by the DSL team from one supervisor to another (seed 004 §5)."""

    __tablename__ = "supervision_handovers"
    __table_args__ = (Index("ix_supervision_handovers_supervisee", "supervisee_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)  # the card's one-time key
    supervisee_id: Mapped[str] = mapped_column(String(120))
    from_id: Mapped[str] = mapped_column(String(120))
    to_id: Mapped[str] = mapped_column(String(120))
    by_id: Mapped[str] = mapped_column(String(120))
    records_since: Mapped[dt.date] = mapped_column(Date)  # six months before the handover
    record_count: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RecordAccess(SchoolOwned, Base):
    """Read access to one 1:1 record given by a handover (a grant on the file), until revoked."""

    __tablename__ = "targeted_record_access"
    __table_args__ = (Index("ix_targeted_record_access_staff", "staff_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("targeted_records.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[str] = mapped_column(String(120))
    handover_id: Mapped[int] = mapped_column(ForeignKey("supervision_handovers.id", ondelete="CASCADE"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
