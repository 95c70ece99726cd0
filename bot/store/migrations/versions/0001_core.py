"""Core: conversation references.

Feature migrations branch from this revision (down_revision = "0001"); the bot upgrades to every head, so
features developed side by side never fight over one linear chain. A merge revision may join them later.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_refs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("staff_id", sa.String(120), nullable=True),
        sa.Column("conversation_id", sa.String(500), nullable=False),
        sa.Column("service_url", sa.String(500), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=True),
        sa.Column("team_id", sa.String(200), nullable=True),
        sa.Column("channel_name", sa.String(200), nullable=True),
        sa.Column("reference", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("kind", "key", name="uq_conversation_refs_kind_key"),
    )


def downgrade() -> None:
    op.drop_table("conversation_refs")
