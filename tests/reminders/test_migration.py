"""Migration 0500 creates exactly what the compliance models describe (claims, digests, mop-up proposals), on both
store backends, and downgrades cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.base import Base, import_all_models

MINE = {"reminder_claims", "digest_sends", "mop_up_proposals"}


def _about_mine(diff) -> bool:
    return any(t in repr(diff) for t in MINE)


async def test_migration_matches_the_models(db):
    import_all_models()
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert MINE <= tables
    assert [d for d in diffs if _about_mine(d)] == []


async def test_downgrade_and_upgrade_again(sqlite_db):
    from alembic import command
    from alembic.config import Config

    from bot.store.db import MIGRATIONS

    def run(conn, fn, rev):
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        fn(cfg, rev)

    async with sqlite_db.engine.begin() as conn:
        await conn.run_sync(run, command.downgrade, "0500@0100")
        gone = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
        await conn.run_sync(run, command.upgrade, "heads")
        back = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    assert not (MINE & gone) and MINE <= back
