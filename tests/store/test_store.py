"""One store suite, run on SQLite and PostgreSQL (the `db` fixture is parametrised over both)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from bot.store import conversations
from bot.store.models_sessions import Attendance, GroupSession

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


async def test_migrations_create_every_model_table(db):
    from bot.store.base import Base, import_all_models

    import_all_models()
    async with db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_migrate_is_idempotent(db):
    await db.migrate()
    await db.migrate()
    assert await db.healthy()


async def test_reference_upsert_keeps_one_row_and_latest_service_url(db):
    ref = conversations.Reference(
        kind="personal",
        key="tom.hollis",
        staff_id="tom.hollis",
        conversation_id="a:1",
        service_url="http://one",
        reference={"x": 1},
    )
    async with db.session() as s:
        await conversations.save_reference(s, ref, now=NOW)
    moved = conversations.Reference(**{**ref.__dict__, "service_url": "http://two"})
    async with db.session() as s:
        await conversations.save_reference(s, moved, now=NOW + dt.timedelta(minutes=1))
    async with db.session() as s:
        got = await conversations.personal(s, "tom.hollis")
        assert got is not None and got.service_url == "http://two"
        assert await conversations.personal(s, "nobody") is None


async def test_datetimes_come_back_aware_utc(db):
    async with db.session() as s:
        s.add(
            GroupSession(
                kind="class",
                group_id="willow",
                title="Group supervision",
                starts_at=NOW,
                ends_at=NOW + dt.timedelta(hours=1),
                local_date=NOW.date(),
                half_term="2026-27 Autumn 2",
                facilitator_id="amara.okafor",
                status="scheduled",
                external_support=False,
                created_by="amara.okafor",
                created_at=NOW,
            )
        )
    async with db.session() as s:
        row = (await s.execute(select(GroupSession))).scalar_one()
    assert row.starts_at == NOW and row.starts_at.tzinfo is not None


async def test_naive_datetime_is_refused(db):
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.session() as s:
            s.add(
                GroupSession(
                    kind="class",
                    title="x",
                    starts_at=NOW.replace(tzinfo=None),
                    ends_at=NOW,
                    local_date=NOW.date(),
                    half_term="h",
                    facilitator_id="a",
                    status="scheduled",
                    external_support=False,
                    created_by="a",
                    created_at=NOW,
                )
            )


async def test_attendance_is_unique_per_person_and_session_and_rolls_back(db):
    async with db.session() as s:
        gs = GroupSession(
            kind="class",
            group_id="willow",
            title="Group supervision",
            starts_at=NOW,
            ends_at=NOW + dt.timedelta(hours=1),
            local_date=NOW.date(),
            half_term="2026-27 Autumn 2",
            facilitator_id="amara.okafor",
            status="recorded",
            external_support=False,
            created_by="amara.okafor",
            created_at=NOW,
        )
        s.add(gs)
        await s.flush()
        sid = gs.id
        s.add(
            Attendance(
                staff_id="tom.hollis",
                session_id=sid,
                local_date=NOW.date(),
                half_term="2026-27 Autumn 2",
                recorded_by="amara.okafor",
                recorded_at=NOW,
            )
        )
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(
                Attendance(
                    staff_id="tom.hollis",
                    session_id=sid,
                    local_date=NOW.date(),
                    half_term="2026-27 Autumn 2",
                    recorded_by="amara.okafor",
                    recorded_at=NOW,
                )
            )
    async with db.session() as s:
        assert len((await s.execute(select(Attendance))).scalars().all()) == 1
