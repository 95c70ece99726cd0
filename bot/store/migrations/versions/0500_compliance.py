"""Half-term compliance: reminder claims, digest sends, mop-up proposals (issue #5).

Revision ID: 0500
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0500"
down_revision = "0100"
branch_labels = None
depends_on = None


def _claim_columns() -> list[sa.Column]:
    return [
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lease_owner", sa.String(80), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("activity_id", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "reminder_claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("point", sa.Integer, nullable=False),
        *_claim_columns(),
        sa.UniqueConstraint("staff_id", "half_term", "point", name="uq_reminder_claims_staff_half_term_point"),
    )
    op.create_index("ix_reminder_claims_status", "reminder_claims", ["status", "lease_until"])
    op.create_index("ix_reminder_claims_half_term_point", "reminder_claims", ["half_term", "point"])
    op.create_table(
        "digest_sends",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("point", sa.Integer, nullable=False),
        *_claim_columns(),
        sa.UniqueConstraint("staff_id", "half_term", "point", name="uq_digest_sends_staff_half_term_point"),
    )
    op.create_index("ix_digest_sends_status", "digest_sends", ["status", "lease_until"])
    op.create_table(
        "mop_up_proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("calendars_checked", sa.Boolean, nullable=False),
        sa.Column("proposed_to", sa.JSON, nullable=False),
        sa.Column("outstanding_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey(
                "group_sessions.id", ondelete="SET NULL", name="fk_mop_up_proposals_session_id_group_sessions"
            ),
            nullable=True,
        ),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("half_term", name="uq_mop_up_proposals_half_term"),
    )


def downgrade() -> None:
    op.drop_table("mop_up_proposals")
    op.drop_table("digest_sends")
    op.drop_table("reminder_claims")
