"""One deployment, several schools (issue 10): every school-owned table gains `school_id`.

Rows from before this revision belong to the single school the deployment had: the bot passes that school's key
(`Database.legacy_school`, set by create_app from the config) in the Alembic config's attributes; from the CLI it is
`DEFAULT_SCHOOL_KEY` unless `-x legacy_school=<key>` says otherwise. Unique keys that a school shares with another
(a person's reminder for a half term, the pool entry of a staff id, ...) now start with the school.

The outbox is the deployment's: it gains a nullable `school_id` saying whose services deliver each row.

Revision ID: 0900
"""

import sqlalchemy as sa
from alembic import context, op

from bot.store.tenancy import DEFAULT_SCHOOL_KEY

revision = "0900"
down_revision = "0800"
branch_labels = None
depends_on = None

OWNED = [
    "conversation_refs",
    "sent_cards",
    "audit_events",
    "reminder_claims",
    "digest_sends",
    "mop_up_proposals",
    "group_records",
    "group_record_versions",
    "group_record_drafts",
    "record_actions",
    "group_schedule_requests",
    "supervisor_pool",
    "supervision_requests",
    "supervision_pairings",
    "slot_offers",
    "supervision_meetings",
    "booked_group_sessions",
    "group_sessions",
    "session_invitees",
    "attendance",
    "targeted_records",
    "targeted_record_drafts",
    "targeted_actions",
    "supervision_agreements",
]

#: table → (old unique constraint, its columns, new name): the new constraint is (school_id, *columns).
UNIQUE = {
    "conversation_refs": ("uq_conversation_refs_kind_key", ["kind", "key"], "uq_conversation_refs_school_kind_key"),
    "sent_cards": ("uq_sent_cards_staff_ref", ["staff_id", "ref"], "uq_sent_cards_school_staff_ref"),
    "reminder_claims": (
        "uq_reminder_claims_staff_half_term_point",
        ["staff_id", "half_term", "point"],
        "uq_reminder_claims_school_staff_half_term_point",
    ),
    "digest_sends": (
        "uq_digest_sends_staff_half_term_point",
        ["staff_id", "half_term", "point"],
        "uq_digest_sends_school_staff_half_term_point",
    ),
    "mop_up_proposals": ("uq_mop_up_proposals_half_term", ["half_term"], "uq_mop_up_proposals_school_half_term"),
    "supervisor_pool": ("uq_supervisor_pool_staff_id", ["staff_id"], "uq_supervisor_pool_school_staff"),
    "session_invitees": (
        "uq_session_invitees_session_staff",
        ["session_id", "staff_id"],
        "uq_session_invitees_school_session_staff",
    ),
}


def _legacy_school() -> str:
    cfg = context.config
    return (
        cfg.attributes.get("legacy_school")
        or context.get_x_argument(as_dictionary=True).get("legacy_school")
        or DEFAULT_SCHOOL_KEY
    )


def upgrade() -> None:
    key = _legacy_school()
    pg = op.get_context().dialect.name == "postgresql"
    for table in OWNED:
        if pg:
            op.add_column(table, sa.Column("school_id", sa.String(40), nullable=False, server_default=key))
            op.alter_column(table, "school_id", server_default=None)
            if table in UNIQUE:
                old, cols, new = UNIQUE[table]
                op.drop_constraint(old, table, type_="unique")
                op.create_unique_constraint(new, table, ["school_id", *cols])
        elif table in UNIQUE:
            # SQLite cannot drop a constraint in place: batch mode rebuilds the table (data copied).
            with op.batch_alter_table(table, recreate="always") as b:
                b.add_column(sa.Column("school_id", sa.String(40), nullable=False, server_default=key))
                old, cols, new = UNIQUE[table]
                b.drop_constraint(old, type_="unique")
                b.create_unique_constraint(new, ["school_id", *cols])
        else:
            # ALTER TABLE … ADD COLUMN keeps the table (and audit_events' append-only trigger). SQLite cannot drop
            # the default afterwards; the ORM and bot/store/upsert always write the school explicitly.
            op.add_column(table, sa.Column("school_id", sa.String(40), nullable=False, server_default=key))
        op.create_index(f"ix_{table}_school_id", table, ["school_id"])
    op.add_column("outbox", sa.Column("school_id", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "school_id")
    pg = op.get_context().dialect.name == "postgresql"
    for table in reversed(OWNED):
        op.drop_index(f"ix_{table}_school_id", table)
        if table in UNIQUE:
            old, cols, new = UNIQUE[table]
            if pg:
                op.drop_constraint(new, table, type_="unique")
                op.create_unique_constraint(old, table, cols)
                op.drop_column(table, "school_id")
            else:
                with op.batch_alter_table(table, recreate="always") as b:
                    b.drop_constraint(new, type_="unique")
                    b.create_unique_constraint(old, cols)
                    b.drop_column("school_id")
        elif pg:
            op.drop_column(table, "school_id")
        else:
            with op.batch_alter_table(table) as b:
                b.drop_column("school_id")
            if table == "audit_events":
                # The rebuilt table has lost 0800's append-only trigger: put it back.
                op.execute(
                    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
                )
