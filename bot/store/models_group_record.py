"""Group supervision records: drafts, the record and its file versions, actions for the DSL meeting.

What holds narrative (safeguarding discussion) and for how long:
- `group_record_drafts.content` — the half-written card. Deleted in the same transaction that submits the record
  (the text then lives only in the outbox row's .docx payload until it is delivered, then only in the channel).
- `record_actions.text` — a short action for the DSL meeting (≤ 140 characters, "no names of pupils or
  families" on the card). Kept: the action list is the point of it (seed 001 "action items … brought to DSL
  meeting"); it is the only free text the bot keeps after delivery.
- `group_record_versions.amend_note` is NOT stored (it goes in the document only).
Everything else is metadata: who attended (the shared `attendance` table), when, which file, where it is.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

# Delivery status of one file version.
PENDING = "pending"  # queued in the outbox (the .docx is in the outbox payload)
DELIVERED = "delivered"  # in the Safeguarding channel's files; web_url set
FAILED = "failed"  # the outbox gave up (dead letter); the payload is still there to requeue

# Action status.
OPEN = "open"
DONE = "done"
DROPPED = "dropped"  # reviewed at the group's next session and no longer needed


class GroupRecord(SchoolOwned, Base):
    """The record of one group session (one per session; amendments add versions)."""

    __tablename__ = "group_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"), unique=True)
    template_id: Mapped[str] = mapped_column(String(120))
    facilitator_id: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    current_version: Mapped[int] = mapped_column(Integer, default=1)


class GroupRecordVersion(SchoolOwned, Base):
    """One .docx written to the channel's files: v1 on submit, v2, v3 … on amendment. Metadata only."""

    __tablename__ = "group_record_versions"
    __table_args__ = (UniqueConstraint("record_id", "version", name="uq_group_record_versions_record_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("group_records.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # The card's one-time submit key: a second click (or a retried invoke) finds this row instead of a new record.
    submit_key: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))  # the name we asked for
    delivered_name: Mapped[str | None] = mapped_column(String(255), nullable=True)  # the name it got
    web_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    item_id: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the file's id in the channel drive
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attendee_count: Mapped[int] = mapped_column(Integer)
    action_count: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(120))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class GroupRecordDraft(SchoolOwned, Base):
    """A record card saved part-way. Belongs to the DSL-team member who started it. `content` is narrative."""

    __tablename__ = "group_record_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_key: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[str] = mapped_column(String(120), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"), nullable=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("group_records.id", ondelete="CASCADE"), nullable=True)
    adhoc: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # date, time, group, facilitator, kind
    content: Mapped[dict] = mapped_column(JSON)  # card input values (narrative)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RecordAction(SchoolOwned, Base):
    """An action for the DSL meeting, from a group record (owner, due date, short text)."""

    __tablename__ = "record_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("group_records.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(140))
    owner_id: Mapped[str] = mapped_column(String(120), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=OPEN)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The group's later record whose "review of actions" last marked it (done, carried forward or dropped).
    reviewed_in_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ScheduleRequest(SchoolOwned, Base):
    """The one-time key of a "schedule a group session" card, so a double click books one session, not two."""

    __tablename__ = "group_schedule_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
