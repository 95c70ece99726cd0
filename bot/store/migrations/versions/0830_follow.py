"""Follow-through and handover (issue 11 parts 4, 5, 8): followup_claims, supervision_handovers,
targeted_record_access; targeted_actions.reviewed_in_id and record_actions.reviewed_in_id; the agreement document's metadata on
supervision_agreements.

Revision ID: 0830
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0830"
down_revision = "0810"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followup_claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("ref", sa.String(160), nullable=False),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("school_id", "kind", "ref", name="uq_followup_claims_school_kind_ref"),
    )
    op.create_table(
        "supervision_handovers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("supervisee_id", sa.String(120), nullable=False),
        sa.Column("from_id", sa.String(120), nullable=False),
        sa.Column("to_id", sa.String(120), nullable=False),
        sa.Column("by_id", sa.String(120), nullable=False),
        sa.Column("records_since", sa.Date, nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_supervision_handovers_supervisee", "supervision_handovers", ["supervisee_id", "at"])
    op.create_table(
        "targeted_record_access",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column(
            "record_id",
            sa.Integer,
            sa.ForeignKey("targeted_records.id", ondelete="CASCADE", name="fk_targeted_record_access_record_id"),
            nullable=False,
        ),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column(
            "handover_id",
            sa.Integer,
            sa.ForeignKey("supervision_handovers.id", ondelete="CASCADE", name="fk_targeted_record_access_handover_id"),
            nullable=False,
        ),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_targeted_record_access_record_id", "targeted_record_access", ["record_id"])
    op.create_index("ix_targeted_record_access_staff", "targeted_record_access", ["staff_id", "revoked_at"])
    for table in ("followup_claims", "supervision_handovers", "targeted_record_access"):  # school-owned (0900)
        op.create_index(f"ix_{table}_school_id", table, ["school_id"])
    with op.batch_alter_table("targeted_actions") as b:
        b.add_column(sa.Column("reviewed_in_id", sa.Integer, nullable=True))
    with op.batch_alter_table("record_actions") as b:
        b.add_column(sa.Column("reviewed_in_id", sa.Integer, nullable=True))
    with op.batch_alter_table("supervision_agreements") as b:
        b.add_column(sa.Column("file_name", sa.String(255), nullable=True))
        b.add_column(sa.Column("file_status", sa.String(20), nullable=True))
        b.add_column(sa.Column("web_url", sa.String(2000), nullable=True))
        b.add_column(sa.Column("item_id", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supervision_agreements") as b:
        for c in ("item_id", "web_url", "file_status", "file_name"):
            b.drop_column(c)
    with op.batch_alter_table("record_actions") as b:
        b.drop_column("reviewed_in_id")
    with op.batch_alter_table("targeted_actions") as b:
        b.drop_column("reviewed_in_id")
    op.drop_index("ix_targeted_record_access_staff", "targeted_record_access")
    op.drop_index("ix_targeted_record_access_record_id", "targeted_record_access")
    op.drop_table("targeted_record_access")
    op.drop_index("ix_supervision_handovers_supervisee", "supervision_handovers")
    op.drop_table("supervision_handovers")
    op.drop_table("followup_claims")
