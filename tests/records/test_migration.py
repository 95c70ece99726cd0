"""Migration 0400 creates exactly what the group record models describe, on both store backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.base import Base, import_all_models

MINE = {"group_records", "group_record_versions", "group_record_drafts", "record_actions", "group_schedule_requests"}


def _about_mine(diff) -> bool:
    text = repr(diff)
    return any(t in text for t in MINE)


async def test_migration_matches_the_models(db):
    import_all_models()
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert MINE <= tables
    assert [d for d in diffs if _about_mine(d)] == []
