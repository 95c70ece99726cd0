"""Scheduling that finishes the job (issue 11 part 7): the Teams join link kept with each calendar event key, so
the cards that announce a meeting can carry it; and the notes of specialist group sessions (seed 001 §3.3), kept
by the supervisor like a 1:1 record — metadata and the supervisor's draft only.

Revision ID: 0840
"""

import sqlalchemy as sa
from alembic import op

from bot.store.base import UTCDateTime

revision = "0840"
down_revision = "0830"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("m365_meeting_keys") as t:
        t.add_column(sa.Column("join_url", sa.String(2000), nullable=True))
    op.create_table(
        "specialist_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("group_sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("supervisor_id", sa.String(120), nullable=False),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("template_id", sa.String(120), nullable=False),
        sa.Column("submit_key", sa.String(64), nullable=False, unique=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("shared_with", sa.JSON, nullable=False),
        sa.Column("delivered_name", sa.String(255), nullable=True),
        sa.Column("web_url", sa.String(2000), nullable=True),
        sa.Column("item_id", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_specialist_notes_session_id", "specialist_notes", ["session_id"])
    op.create_index("ix_specialist_notes_supervisor_id", "specialist_notes", ["supervisor_id"])
    op.create_table(
        "specialist_note_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("school_id", sa.String(40), nullable=False),
        sa.Column("draft_key", sa.String(64), nullable=False, unique=True),
        sa.Column("owner_id", sa.String(120), nullable=False),
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_specialist_note_drafts_owner_id", "specialist_note_drafts", ["owner_id"])
    for table in ("specialist_notes", "specialist_note_drafts"):  # school-owned (issue 10, migration 0900)
        op.create_index(f"ix_{table}_school_id", table, ["school_id"])


def downgrade() -> None:
    op.drop_table("specialist_note_drafts")
    op.drop_table("specialist_notes")
    with op.batch_alter_table("m365_meeting_keys") as t:
        t.drop_column("join_url")
