"""Shared group-supervision tables: group_sessions, session_invitees, attendance.

Journey migrations branch from here: 0300_request, 0400_group_record, 0500_compliance (down_revision "0100").

Revision ID: 0100
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0100"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("group_id", sa.String(60), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("facilitator_id", sa.String(120), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("external_support", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_group_sessions_half_term", "group_sessions", ["half_term"])
    op.create_table(
        "session_invitees",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey(
                "group_sessions.id", ondelete="CASCADE", name="fk_session_invitees_session_id_group_sessions"
            ),
            nullable=False,
        ),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("added_via", sa.String(30), nullable=False),
        sa.UniqueConstraint("session_id", "staff_id", name="uq_session_invitees_session_staff"),
    )
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("group_sessions.id", ondelete="CASCADE", name="fk_attendance_session_id_group_sessions"),
            nullable=False,
        ),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("staff_id", "session_id", name="uq_attendance_staff_session"),
    )
    op.create_index("ix_attendance_staff_id", "attendance", ["staff_id"])
    op.create_index("ix_attendance_local_date", "attendance", ["local_date"])
    op.create_index("ix_attendance_half_term", "attendance", ["half_term"])


def downgrade() -> None:
    op.drop_table("attendance")
    op.drop_table("session_invitees")
    op.drop_table("group_sessions")
