"""Core tables: conversation references (so the bot can message people and the channel proactively)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned


class ConversationRef(SchoolOwned, Base):
    """Where to reach a person (their 1:1 chat with the bot) or a channel. No message content is stored."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("school_id", "kind", "key", name="uq_conversation_refs_school_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # personal | channel
    key: Mapped[str] = mapped_column(String(200))  # staff id (personal) or channel id (channel)
    staff_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    conversation_id: Mapped[str] = mapped_column(String(500))
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reference: Mapped[dict] = mapped_column(JSON)  # the Bot Framework ConversationReference, as JSON
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SentCard(SchoolOwned, Base):
    """Which Teams message holds a card we may update later (e.g. a request's status card). Ids only."""

    __tablename__ = "sent_cards"
    __table_args__ = (UniqueConstraint("school_id", "staff_id", "ref", name="uq_sent_cards_school_staff_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(120))
    ref: Mapped[str] = mapped_column(String(200))  # a journey's stable name, e.g. "request:42:status"
    activity_id: Mapped[str] = mapped_column(String(300))
    conversation_id: Mapped[str] = mapped_column(String(500))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
