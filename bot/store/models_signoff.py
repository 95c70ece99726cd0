"""Sign-off of supervision records and confidentiality escalations: metadata only.

Seed 003 ("records … signed by both parties", App. 1 §5), seed 002 ("Appendix 2 must be signed off and dated by
supervisor and supervisee"), seed 004 §5 ("both parties need to agree and sign that they are accurate"):
- `record_signatures`: who confirmed which version of a record, in what role, and when. One row per person per
  version; the same names and times are written into the document's sign-off table.
- `record_change_requests`: that someone asked for a change to a version, and when. The comment itself goes to
  the supervisor in a Teams card and is dropped from the outbox as soon as it is delivered; it is never stored.
- `escalations` (seed 004 §6 "certain circumstances where confidentiality will be breached"): that a supervisor
  marked a record as needing escalation, which category (a code from a fixed list), who, when and which record.
  Never what was discussed: that goes on the school's safeguarding system.

`record_kind` is "targeted" (a targeted_records row: each 1:1 version is its own row) or "group" (a
group_record_versions row).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

TARGETED = "targeted"
GROUP = "group"

# Signing roles.
SUPERVISOR = "supervisor"
SUPERVISEE = "supervisee"
ATTENDEE = "attendee"


class RecordSignature(SchoolOwned, Base):
    """One person's confirmation that one version of a record is accurate."""

    __tablename__ = "record_signatures"
    __table_args__ = (
        UniqueConstraint("record_kind", "record_id", "staff_id", name="uq_record_signatures_signer"),
        Index("ix_record_signatures_record", "record_kind", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer)  # the version row (targeted_records / group_record_versions)
    version: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RecordChangeRequest(SchoolOwned, Base):
    """That someone asked for a change to one version of a record (never what they asked)."""

    __tablename__ = "record_change_requests"
    __table_args__ = (Index("ix_record_change_requests_record", "record_kind", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Escalation(SchoolOwned, Base):
    """A confidentiality escalation raised on a record: who, when, which category, which record. No content."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("record_kind", "record_id", name="uq_escalations_record"),
        Index("ix_escalations_raised_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))  # a code from bot.records.escalation.CATEGORIES
    raised_by: Mapped[str] = mapped_column(String(120))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
