"""1:1 supervision records and agreements: targeted_records, targeted_record_drafts, targeted_actions,
supervision_agreements. Builds on 0300 (supervision_pairings).

Revision ID: 0600
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0600"
down_revision = "0300"
branch_labels = None
depends_on = None


def _pairing_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        "supervision_pairings.id", ondelete="SET NULL", name=f"fk_{table}_pairing_id_supervision_pairings"
    )


def upgrade() -> None:
    op.create_table(
        "targeted_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pairing_id", sa.Integer, _pairing_fk("targeted_records"), nullable=True),
        sa.Column("meeting_id", sa.Integer, nullable=True),
        sa.Column("supervisor_id", sa.String(120), nullable=False),
        sa.Column("supervisee_id", sa.String(120), nullable=False),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("next_session_on", sa.Date, nullable=True),
        sa.Column("template_id", sa.String(120), nullable=False),
        sa.Column("submit_key", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("delivered_name", sa.String(255), nullable=True),
        sa.Column("web_url", sa.String(2000), nullable=True),
        sa.Column("item_id", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("action_count", sa.Integer, nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("submit_key", name="uq_targeted_records_submit_key"),
    )
    op.create_index("ix_targeted_records_supervisor", "targeted_records", ["supervisor_id", "session_date"])
    op.create_index("ix_targeted_records_supervisee", "targeted_records", ["supervisee_id", "session_date"])
    op.create_table(
        "targeted_record_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("draft_key", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(120), nullable=False),
        sa.Column("supervisee_id", sa.String(120), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("draft_key", name="uq_targeted_record_drafts_draft_key"),
    )
    op.create_index("ix_targeted_record_drafts_owner_id", "targeted_record_drafts", ["owner_id"])
    op.create_table(
        "targeted_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "record_id",
            sa.Integer,
            sa.ForeignKey(
                "targeted_records.id", ondelete="CASCADE", name="fk_targeted_actions_record_id_targeted_records"
            ),
            nullable=False,
        ),
        sa.Column("supervisor_id", sa.String(120), nullable=False),
        sa.Column("supervisee_id", sa.String(120), nullable=False),
        sa.Column("owner_id", sa.String(120), nullable=False),
        sa.Column("text", sa.String(140), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_by", sa.String(120), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_targeted_actions_record_id", "targeted_actions", ["record_id"])
    op.create_index("ix_targeted_actions_supervisor", "targeted_actions", ["supervisor_id", "status"])
    op.create_index("ix_targeted_actions_supervisee", "targeted_actions", ["supervisee_id", "status"])
    op.create_table(
        "supervision_agreements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("pairing_id", sa.Integer, _pairing_fk("supervision_agreements"), nullable=True),
        sa.Column("supervisor_id", sa.String(120), nullable=False),
        sa.Column("supervisee_id", sa.String(120), nullable=False),
        sa.Column("agreed_on", sa.Date, nullable=False),
        sa.Column("review_due", sa.Date, nullable=False),
        sa.Column("frequency", sa.String(20), nullable=True),
        sa.Column("minutes", sa.Integer, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("proposed_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("supervisor_confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("supervisee_confirmed_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("nonce", name="uq_supervision_agreements_nonce"),
    )
    op.create_index(
        "ix_supervision_agreements_pair", "supervision_agreements", ["supervisor_id", "supervisee_id", "status"]
    )


def downgrade() -> None:
    op.drop_table("supervision_agreements")
    op.drop_table("targeted_actions")
    op.drop_table("targeted_record_drafts")
    op.drop_table("targeted_records")
