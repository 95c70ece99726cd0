"""sent_cards: the Teams message id of a card we may update in place later.

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0010"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.String(120), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("activity_id", sa.String(300), nullable=False),
        sa.Column("conversation_id", sa.String(500), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("staff_id", "ref", name="uq_sent_cards_staff_ref"),
    )


def downgrade() -> None:
    op.drop_table("sent_cards")
