"""Sign-off and escalation (issue 11 parts 1–2): versions of 1:1 records (targeted_records.version, previous_id,
superseded_by), record_signatures, record_change_requests, escalations. Metadata only.

Revision ID: 0850
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0850"
down_revision = "0840"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("targeted_records") as t:
        t.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        t.add_column(sa.Column("previous_id", sa.Integer, nullable=True))
        t.add_column(sa.Column("superseded_by", sa.Integer, nullable=True))
    op.create_table(
        "record_signatures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("record_kind", sa.String(20), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("record_kind", "record_id", "staff_id", name="uq_record_signatures_signer"),
    )
    op.create_index("ix_record_signatures_record", "record_signatures", ["record_kind", "record_id"])
    op.create_table(
        "record_change_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("record_kind", sa.String(20), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(120), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_record_change_requests_record", "record_change_requests", ["record_kind", "record_id"])
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("record_kind", sa.String(20), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("raised_by", sa.String(120), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("record_kind", "record_id", name="uq_escalations_record"),
    )
    op.create_index("ix_escalations_raised_at", "escalations", ["raised_at"])
    for table in ("record_signatures", "record_change_requests", "escalations"):  # school-owned (issue 10, 0900)
        op.create_index(f"ix_{table}_school_id", table, ["school_id"])


def downgrade() -> None:
    op.drop_index("ix_escalations_raised_at", "escalations")
    op.drop_table("escalations")
    op.drop_index("ix_record_change_requests_record", "record_change_requests")
    op.drop_table("record_change_requests")
    op.drop_index("ix_record_signatures_record", "record_signatures")
    op.drop_table("record_signatures")
    with op.batch_alter_table("targeted_records") as t:
        t.drop_column("superseded_by")
        t.drop_column("previous_id")
        t.drop_column("version")
