"""Group records: group_records, group_record_versions, group_record_drafts, record_actions,
group_schedule_requests.

Revision ID: 0400
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0400"
down_revision = "0100"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "group_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, _fk("group_records", "session_id", "group_sessions"), nullable=False),
        sa.Column("template_id", sa.String(120), nullable=False),
        sa.Column("facilitator_id", sa.String(120), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("session_id", name="uq_group_records_session_id"),
    )
    op.create_table(
        "group_record_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.Integer, _fk("group_record_versions", "record_id", "group_records"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("submit_key", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("delivered_name", sa.String(255), nullable=True),
        sa.Column("web_url", sa.String(2000), nullable=True),
        sa.Column("item_id", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attendee_count", sa.Integer, nullable=False),
        sa.Column("action_count", sa.Integer, nullable=False),
        sa.Column("submitted_by", sa.String(120), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("record_id", "version", name="uq_group_record_versions_record_version"),
        sa.UniqueConstraint("submit_key", name="uq_group_record_versions_submit_key"),
    )
    op.create_index("ix_group_record_versions_record_id", "group_record_versions", ["record_id"])
    op.create_table(
        "group_record_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("draft_key", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(120), nullable=False),
        sa.Column("session_id", sa.Integer, _fk("group_record_drafts", "session_id", "group_sessions"), nullable=True),
        sa.Column("record_id", sa.Integer, _fk("group_record_drafts", "record_id", "group_records"), nullable=True),
        sa.Column("adhoc", sa.JSON, nullable=True),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("draft_key", name="uq_group_record_drafts_draft_key"),
    )
    op.create_index("ix_group_record_drafts_owner_id", "group_record_drafts", ["owner_id"])
    op.create_table(
        "record_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.Integer, _fk("record_actions", "record_id", "group_records"), nullable=False),
        sa.Column("text", sa.String(140), nullable=False),
        sa.Column("owner_id", sa.String(120), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_by", sa.String(120), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_record_actions_record_id", "record_actions", ["record_id"])
    op.create_index("ix_record_actions_owner_id", "record_actions", ["owner_id"])
    op.create_table(
        "group_schedule_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column(
            "session_id", sa.Integer, _fk("group_schedule_requests", "session_id", "group_sessions"), nullable=False
        ),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("nonce", name="uq_group_schedule_requests_nonce"),
    )


def downgrade() -> None:
    op.drop_table("group_schedule_requests")
    op.drop_table("record_actions")
    op.drop_table("group_record_drafts")
    op.drop_table("group_record_versions")
    op.drop_table("group_records")
