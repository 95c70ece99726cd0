"""The outbox: one row per Microsoft 365 side effect, written in the same transaction as the state change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"


class OutboxRow(Base):
    """A side effect waiting for (or past) delivery. `payload` holds only what delivery needs."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_chain", "chain", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency key: enqueue twice = once
    kind: Mapped[str] = mapped_column(String(64))  # which handler delivers it
    payload: Mapped[dict] = mapped_column(JSON)
    # Rows sharing a chain are delivered one at a time, in id order (create the event before updating it).
    chain: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # None = due now
    # A worker owns the row until claimed_until; an expired lease (crash, restart) makes it claimable again.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # what the handler returned (webUrl, id …)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The on_delivered / on_dead_letter hook has run (or there was none). Until then the row is offered again.
    hook_done: Mapped[bool] = mapped_column(Boolean, default=False)
    hook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The school whose services deliver the row (the enqueuing session's school); None: the deployment's own.
    school_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
