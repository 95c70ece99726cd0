"""Microsoft 365 tables: the local backend's meetings (for free/busy), sharing grants and app installations, and
the meeting each caller key created (both backends).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_m365_meetings",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organizer", sa.String(320), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("attendees", sa.JSON, nullable=False),
        sa.Column("join_url", sa.String(500), nullable=False),
        sa.Column("is_cancelled", sa.Boolean, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organizer", "transaction_id", name="uq_local_m365_meetings_organizer_tx"),
    )
    op.create_index("ix_local_m365_meetings_window", "local_m365_meetings", ["start", "end"])
    op.create_table(
        "local_m365_grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("drive_id", sa.String(300), nullable=False),
        sa.Column("item_id", sa.String(1000), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("drive_id", "item_id", "recipient", name="uq_local_m365_grants_item_recipient"),
    )
    op.create_table(
        "local_m365_app_installs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.String(320), nullable=False),
        sa.Column("installed_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user", name="uq_local_m365_app_installs_user"),
    )
    op.create_table(
        "m365_meeting_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("organizer", sa.String(320), nullable=False),
        sa.Column("meeting_id", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("m365_meeting_keys")
    op.drop_table("local_m365_app_installs")
    op.drop_table("local_m365_grants")
    op.drop_index("ix_local_m365_meetings_window", table_name="local_m365_meetings")
    op.drop_table("local_m365_meetings")
