"""Migration 0600 creates exactly what the 1:1 record and agreement models describe, on SQLite and PostgreSQL,
and every branch merges into one head (0700)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.store.base import Base, import_all_models
from bot.store.models_request import Pairing
from bot.store.models_targeted import SupervisionAgreement, TargetedAction, TargetedRecord

MINE = {"targeted_records", "targeted_record_drafts", "targeted_actions", "supervision_agreements"}
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)


async def test_migration_matches_the_models(db):
    import_all_models()
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert MINE <= tables
    assert [d for d in diffs if any(t in repr(d) for t in MINE)] == []


def _record(pairing_id: int, key: str) -> TargetedRecord:
    return TargetedRecord(
        pairing_id=pairing_id,
        supervisor_id="priya.raman",
        supervisee_id="tom.hollis",
        session_date=dt.date(2026, 11, 19),
        template_id="one_to_one",
        submit_key=key,
        file_name="f.docx",
        status="pending",
        action_count=1,
        submitted_at=NOW,
    )


async def test_submit_key_is_unique_and_actions_go_with_their_record(db):
    async with db.session() as s:
        p = Pairing(supervisee_id="tom.hollis", supervisor_id="priya.raman", started_at=NOW)
        s.add(p)
        await s.flush()
        rec = _record(p.id, "k" * 32)
        s.add(rec)
        await s.flush()
        s.add(
            TargetedAction(
                record_id=rec.id,
                supervisor_id="priya.raman",
                supervisee_id="tom.hollis",
                owner_id="tom.hollis",
                text="Ask for a swap",
                due_on=dt.date(2026, 12, 1),
                status="open",
                created_at=NOW,
            )
        )
        s.add(
            SupervisionAgreement(
                nonce="n" * 32,
                pairing_id=p.id,
                supervisor_id="priya.raman",
                supervisee_id="tom.hollis",
                agreed_on=dt.date(2026, 11, 19),
                review_due=dt.date(2027, 11, 19),
                status="agreed",
                proposed_by="priya.raman",
                created_at=NOW,
            )
        )
        pid, rid = p.id, rec.id
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(_record(pid, "k" * 32))
    async with db.session() as s:
        await s.delete(await s.get(TargetedRecord, rid))
    async with db.session() as s:
        assert (await s.execute(select(TargetedAction))).first() is None
        # Ending (even deleting) a pairing keeps the agreement's dates.
        await s.delete(await s.get(Pairing, pid))
    async with db.session() as s:
        row = (await s.execute(select(SupervisionAgreement))).scalar_one()
        assert row.pairing_id is None and row.review_due == dt.date(2027, 11, 19)


def test_0600_branches_from_0300_and_one_head_merges_every_branch():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_revision("0600").down_revision == "0300"
    assert script.get_heads() == ["0850"]  # sign-off and escalation (issue 11), after scheduling
    assert script.get_revision("0900").down_revision == "0800"
    assert script.get_revision("0800").down_revision == "0700"
    assert set(script.get_revision("0700").down_revision) == {"0003", "0010", "0400", "0500", "0600"}
