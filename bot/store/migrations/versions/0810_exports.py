"""Exports for governors and inspection (exports, export_files) and the weekly DSL digest's figures (issue 12).

Revision ID: 0810
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0810"
down_revision = "0820"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("requested_by", sa.String(120), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_exports_requested_by", "exports", ["requested_by", "requested_at"])
    op.create_table(
        "export_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("export_id", sa.Integer, sa.ForeignKey("exports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("delivered_name", sa.String(200), nullable=True),
        sa.Column("web_url", sa.String(2000), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_export_files_export_id", "export_files", ["export_id"])
    op.create_table(
        "weekly_digests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("week_of", sa.Date, nullable=False),
        sa.Column("half_term", sa.String(40), nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("school_id", "week_of", name="uq_weekly_digests_school_week_of"),
    )
    for table in ("exports", "export_files", "weekly_digests"):  # school-owned (issue 10, migration 0900)
        op.create_index(f"ix_{table}_school_id", table, ["school_id"])


def downgrade() -> None:
    op.drop_table("weekly_digests")
    op.drop_index("ix_export_files_export_id", "export_files")
    op.drop_table("export_files")
    op.drop_index("ix_exports_requested_by", "exports")
    op.drop_table("exports")
