"""The audit trail: who created, viewed, changed, exported or was refused what — ids and action names only.

Append-only: rows are inserted by bot/store/audit.py and never updated (a trigger refuses an UPDATE on both
backends); only the retention job deletes them, once they are older than the school's audit retention.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned


class AuditEvent(SchoolOwned, Base):
    """One thing someone did (or was refused) to one object. Never any content: no text, no names, no payload."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_kind", "object_id", "at"),
        Index("ix_audit_events_actor", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # the instant, aware UTC
    school_time: Mapped[str] = mapped_column(String(32))  # the same instant in the school's zone
    actor_id: Mapped[str | None] = mapped_column(String(120), nullable=True)  # None: not on the roster
    action: Mapped[str] = mapped_column(String(40))  # created | viewed | changed | exported | refused …
    object_kind: Mapped[str] = mapped_column(String(40))  # targeted_record | group_record | command …
    object_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
