"""Merge the feature branches (outbox + local Microsoft 365, sent cards, group records, compliance, 1:1 records)
into one head, so every later migration has one parent and `alembic heads` names one revision.

Revision ID: 0700
"""

revision = "0700"
down_revision = ("0003", "0010", "0400", "0500", "0600")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
