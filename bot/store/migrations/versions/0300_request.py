"""Request journey: supervisor_pool, supervision_requests, supervision_pairings, slot_offers,
supervision_meetings, booked_group_sessions.

Revision ID: 0300
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0300"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervisor_pool",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column("trained_on", sa.Date, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("changed_by", sa.String(120), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("staff_id", name="uq_supervisor_pool_staff_id"),
    )
    op.create_table(
        "supervision_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("draft_id", sa.String(64), nullable=False),
        sa.Column("requester_id", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("preferred_id", sa.String(120), nullable=True),
        sa.Column("continue_current", sa.Boolean, nullable=False),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("urgency", sa.String(10), nullable=False),
        sa.Column("times", sa.JSON, nullable=False),
        sa.Column("days", sa.JSON, nullable=False),
        sa.Column("colleagues", sa.JSON, nullable=False),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("route", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("suggested_id", sa.String(120), nullable=True),
        sa.Column("supervisor_id", sa.String(120), nullable=True),
        sa.Column("allocated_by", sa.String(120), nullable=True),
        sa.Column("allocated_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("draft_id", name="uq_supervision_requests_draft_id"),
    )
    op.create_index("ix_supervision_requests_status", "supervision_requests", ["status"])
    op.create_index("ix_supervision_requests_requester", "supervision_requests", ["requester_id"])
    op.create_table(
        "supervision_pairings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("supervisee_id", sa.String(120), nullable=False),
        sa.Column("supervisor_id", sa.String(120), nullable=False),
        sa.Column(
            "request_id",
            sa.Integer,
            sa.ForeignKey("supervision_requests.id", name="fk_supervision_pairings_request_id_supervision_requests"),
            nullable=True,
        ),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(120), nullable=True),
    )
    op.create_index("ix_supervision_pairings_supervisor", "supervision_pairings", ["supervisor_id", "ended_at"])
    op.create_index("ix_supervision_pairings_supervisee", "supervision_pairings", ["supervisee_id", "ended_at"])
    op.create_table(
        "slot_offers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nonce", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(12), nullable=False),
        sa.Column("bookers", sa.JSON, nullable=False),
        sa.Column("attendee_ids", sa.JSON, nullable=False),
        sa.Column("slots", sa.JSON, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column(
            "request_id",
            sa.Integer,
            sa.ForeignKey("supervision_requests.id", name="fk_slot_offers_request_id_supervision_requests"),
            nullable=True,
        ),
        sa.Column(
            "pairing_id",
            sa.Integer,
            sa.ForeignKey("supervision_pairings.id", name="fk_slot_offers_pairing_id_supervision_pairings"),
            nullable=True,
        ),
        sa.Column("meeting_id", sa.Integer, nullable=True),
        sa.Column("setup", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("nonce", name="uq_slot_offers_nonce"),
    )
    op.create_table(
        "supervision_meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column(
            "request_id",
            sa.Integer,
            sa.ForeignKey("supervision_requests.id", name="fk_supervision_meetings_request_id_supervision_requests"),
            nullable=True,
        ),
        sa.Column(
            "pairing_id",
            sa.Integer,
            sa.ForeignKey("supervision_pairings.id", name="fk_supervision_meetings_pairing_id_supervision_pairings"),
            nullable=True,
        ),
        sa.Column("supervisor_id", sa.String(120), nullable=False),
        sa.Column("supervisee_id", sa.String(120), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("event_key", sa.String(80), nullable=False),
        sa.Column("offer_nonce", sa.String(40), nullable=False),
        sa.Column("replaces_id", sa.Integer, nullable=True),
        sa.Column("booked_by", sa.String(120), nullable=False),
        sa.Column("booked_at", UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(120), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("event_key", name="uq_supervision_meetings_event_key"),
        sa.UniqueConstraint("offer_nonce", name="uq_supervision_meetings_offer_nonce"),
    )
    op.create_index("ix_supervision_meetings_supervisor", "supervision_meetings", ["supervisor_id", "status"])
    op.create_index("ix_supervision_meetings_supervisee", "supervision_meetings", ["supervisee_id", "status"])
    op.create_table(
        "booked_group_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey(
                "group_sessions.id", ondelete="CASCADE", name="fk_booked_group_sessions_session_id_group_sessions"
            ),
            nullable=False,
        ),
        sa.Column("offer_nonce", sa.String(40), nullable=False),
        sa.Column(
            "request_id",
            sa.Integer,
            sa.ForeignKey("supervision_requests.id", name="fk_booked_group_sessions_request_id_supervision_requests"),
            nullable=True,
        ),
        sa.Column("event_key", sa.String(80), nullable=False),
        sa.Column("supervisor_ids", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.UniqueConstraint("session_id", name="uq_booked_group_sessions_session_id"),
        sa.UniqueConstraint("offer_nonce", name="uq_booked_group_sessions_offer_nonce"),
        sa.UniqueConstraint("event_key", name="uq_booked_group_sessions_event_key"),
    )


def downgrade() -> None:
    op.drop_table("booked_group_sessions")
    op.drop_table("supervision_meetings")
    op.drop_table("slot_offers")
    op.drop_table("supervision_pairings")
    op.drop_index("ix_supervision_requests_requester", table_name="supervision_requests")
    op.drop_index("ix_supervision_requests_status", table_name="supervision_requests")
    op.drop_table("supervision_requests")
    op.drop_table("supervisor_pool")
