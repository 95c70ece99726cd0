"""1:1 (targeted) supervision: records kept by the supervisor, their agreed actions, and supervision agreements.

Seed 001 §3.2 "Meeting": 1:1 notes are shared with the supervisee and stored by the supervisor — "no need to keep
these notes centrally". So the record itself is a .docx in the supervisor's OneDrive shared with the supervisee;
the bot keeps only:
- `targeted_records`: who, when, the file's name and web URL once delivered — metadata only; one row per version
  (an amendment is a new row; the earlier one is marked superseded). Who signed which version: models_signoff.py;
- `targeted_actions`: each agreed action's owner, due date and short title (≤ 140 characters, "no names of pupils
  or families" on the card), visible to the supervisor and supervisee only (never on the DSL team's list);
- `targeted_record_drafts.content`: the half-written card, the supervisor's own. Deleted in the transaction that
  submits the record; from then on the text lives only in the outbox row (scrubbed after delivery) and the file.
- `supervision_agreements`: that an agreement was made, when, both confirmations, frequency and duration, the
  review date and where its document is (seed 001 Appendix 1; seed 002 "contract reviewed annually"; seed 003
  "signed by both"). No narrative: the typed terms are only in the document.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, UTCDateTime
from bot.store.tenancy import SchoolOwned

# Delivery status of a record's file.
PENDING = "pending"  # queued in the outbox (the .docx is in the outbox payload)
DELIVERED = "delivered"  # in the supervisor's OneDrive and shared with the supervisee; web_url set
FAILED = "failed"  # the outbox gave up; the payload is kept there to requeue

# Action status.
OPEN = "open"
DONE = "done"
DROPPED = "dropped"  # reviewed at the next session and no longer needed (seed 002 App. 2 "review of actions")

# Agreement status.
AWAITING = "awaiting"  # one of the two has confirmed
AGREED = "agreed"  # both have confirmed
REPLACED = "replaced"  # a newer agreement for the pair (a review) was confirmed, or a pending one withdrawn


class TargetedRecord(SchoolOwned, Base):
    """One 1:1 supervision session written up by the supervisor. Metadata only."""

    __tablename__ = "targeted_records"
    __table_args__ = (
        Index("ix_targeted_records_supervisor", "supervisor_id", "session_date"),
        Index("ix_targeted_records_supervisee", "supervisee_id", "session_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pairing_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervision_pairings.id", ondelete="SET NULL"), nullable=True
    )
    meeting_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the booked meeting it records
    supervisor_id: Mapped[str] = mapped_column(String(120))
    supervisee_id: Mapped[str] = mapped_column(String(120))
    session_date: Mapped[dt.date] = mapped_column(Date)
    next_session_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    template_id: Mapped[str] = mapped_column(String(120))
    # The card's one-time submit key: a second click (or a retried invoke) finds this row instead of a new record.
    submit_key: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    delivered_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    web_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    item_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    action_count: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Versions (seed 002/003/004: signed by both; a correction is a new version that is signed again). An
    # amendment files a new row (its own file, submit key and sign-off) and marks this one superseded.
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the version this one replaces
    superseded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the current version


class TargetedRecordDraft(SchoolOwned, Base):
    """A 1:1 record card saved part-way, by its supervisor. `content` is narrative (deleted on submit)."""

    __tablename__ = "targeted_record_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_key: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[str] = mapped_column(String(120), index=True)
    supervisee_id: Mapped[str] = mapped_column(String(120))
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TargetedAction(SchoolOwned, Base):
    """An action agreed in a 1:1 session (owner: the supervisor or the supervisee). Seen by those two only."""

    __tablename__ = "targeted_actions"
    __table_args__ = (
        Index("ix_targeted_actions_supervisor", "supervisor_id", "status"),
        Index("ix_targeted_actions_supervisee", "supervisee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("targeted_records.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[str] = mapped_column(String(120))
    supervisee_id: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(140))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The later record whose "review of actions" last marked it (done, carried forward or dropped).
    reviewed_in_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SupervisionAgreement(SchoolOwned, Base):
    """That a supervisor and supervisee made (or reviewed) their supervision agreement, and when it is next due
    for review. Frequency and duration are codes from fixed lists; the typed terms live only in the agreement's
    document (its name, delivery state and link are here)."""

    __tablename__ = "supervision_agreements"
    __table_args__ = (Index("ix_supervision_agreements_pair", "supervisor_id", "supervisee_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)  # the form's one-time key
    pairing_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervision_pairings.id", ondelete="SET NULL"), nullable=True
    )
    supervisor_id: Mapped[str] = mapped_column(String(120))
    supervisee_id: Mapped[str] = mapped_column(String(120))
    agreed_on: Mapped[dt.date] = mapped_column(Date)
    review_due: Mapped[dt.date] = mapped_column(Date)
    frequency: Mapped[str | None] = mapped_column(String(20), nullable=True)  # a code from a fixed list
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=AWAITING)
    proposed_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    supervisor_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    supervisee_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The agreement document (its contract text lives only there): in the supervisor's OneDrive, shared with the
    # supervisee, like a 1:1 record. Metadata only here.
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    file_status: Mapped[str | None] = mapped_column(String(20), nullable=True)  # pending | delivered | failed
    web_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    item_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
