"""Scheduling that finishes the job (issue 11 part 7): the Teams join link kept with each calendar event key, so
the cards that announce a meeting can carry it.

Revision ID: 0810
"""

import sqlalchemy as sa
from alembic import op

revision = "0810"
down_revision = "0800"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("m365_meeting_keys") as t:
        t.add_column(sa.Column("join_url", sa.String(2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("m365_meeting_keys") as t:
        t.drop_column("join_url")
