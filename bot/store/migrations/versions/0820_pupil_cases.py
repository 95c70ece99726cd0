"""Open pupil cases on a supervision request (issue 12: caseload by team on the dashboard).

supervision_requests.pupil_cases: the number of open pupil cases the requester says they carry — optional, a
count (0–200), never names.

Revision ID: 0820
"""

import sqlalchemy as sa
from alembic import op

revision = "0820"
down_revision = "0900"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supervision_requests") as batch:
        batch.add_column(sa.Column("pupil_cases", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supervision_requests") as batch:
        batch.drop_column("pupil_cases")
