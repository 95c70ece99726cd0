"""One deployment, several schools (bot/store/tenancy.py), on SQLite and PostgreSQL: a school's session reads,
changes and deletes only its own rows, stamps its own school on what it writes, and refuses to write another's."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, update

from bot.domain.request_rules import RequestForm, Route
from bot.store import requests as store
from bot.store.base import Base, import_all_models
from bot.store.models_request import PoolMember, SupervisionRequest
from bot.store.tenancy import CrossSchoolWrite, SchoolOwned
from bot.store.upsert import insert_ignore

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
FORM = RequestForm(
    kind="one_to_one",
    preferred_id=None,
    continue_current=False,
    topics=("wellbeing",),
    urgency="week",
    times=("afternoon",),
    days=(),
    note="A short note.",
)


async def _add(db, school: str, n: int) -> int:
    async with db.session(school=school) as s:
        req = await store.add(
            s, draft_id=f"{n:032x}", requester_id="same.id", form=FORM, route=Route.ALLOCATION, now=NOW
        )
        return req.id


async def test_a_school_sees_only_its_own_rows(db):
    a = await _add(db, "alpha", 1)
    b = await _add(db, "beta", 2)
    async with db.session(school="alpha") as s:
        assert [r.id for r in await store.waiting(s)] == [a]
        assert await s.get(SupervisionRequest, b) is None  # another school's id is simply not there
        assert (await s.execute(select(func.count(SupervisionRequest.id)))).scalar_one() == 1
        assert await store.by_draft(s, f"{2:032x}") is None
    async with db.session() as s:  # the deployment's own session sees both
        assert {r.school_id for r in (await s.execute(select(SupervisionRequest))).scalars()} == {"alpha", "beta"}


async def test_bulk_update_and_delete_stay_in_the_school(db):
    a = await _add(db, "alpha", 1)
    b = await _add(db, "beta", 2)
    async with db.session(school="alpha") as s:
        res = await s.execute(
            update(SupervisionRequest).values(status="withdrawn").execution_options(synchronize_session=False)
        )
        assert res.rowcount == 1
        await s.execute(delete(SupervisionRequest).where(SupervisionRequest.id == b))
    async with db.session() as s:
        rows = {r.id: r.status for r in (await s.execute(select(SupervisionRequest))).scalars()}
    assert rows == {a: "withdrawn", b: "submitted"}


async def test_writes_take_the_school_and_refuse_another(db):
    async with db.session(school="alpha") as s:
        s.add(PoolMember(staff_id="x", trained_on=dt.date(2025, 1, 1), changed_by="t", changed_at=NOW))
    with pytest.raises(CrossSchoolWrite):
        async with db.session(school="alpha") as s:
            s.add(
                PoolMember(
                    staff_id="y", trained_on=dt.date(2025, 1, 1), changed_by="t", changed_at=NOW, school_id="beta"
                )
            )
    row = {
        "staff_id": "x",
        "trained_on": dt.date(2025, 1, 1),
        "changed_by": "t",
        "changed_at": NOW,
        "active": True,
        "source": "config",
    }
    # The same staff id in another school is another person: the unique key starts with the school.
    async with db.session(school="beta") as s:
        assert await insert_ignore(s, PoolMember, [row], conflict=["staff_id"]) == 1
        assert await insert_ignore(s, PoolMember, [row], conflict=["staff_id"]) == 0
    with pytest.raises(CrossSchoolWrite):
        async with db.session(school="beta") as s:
            await insert_ignore(s, PoolMember, [{**row, "school_id": "alpha"}], conflict=["staff_id"])
    async with db.session() as s:
        got = sorted((r.school_id, r.staff_id) for r in (await s.execute(select(PoolMember))).scalars())
    assert got == [("alpha", "x"), ("beta", "x")]


async def test_a_row_cannot_move_to_another_school(db):
    a = await _add(db, "alpha", 1)
    with pytest.raises(CrossSchoolWrite):
        async with db.session(school="alpha") as s:
            (await s.get(SupervisionRequest, a)).school_id = "beta"


def test_every_table_of_a_school_is_school_owned():
    """A new table either carries its school or is one of the deployment's own (say why here)."""
    import_all_models()
    deployment_level = {
        "outbox": "delivered by the deployment's worker; the row says its school",
        "local_m365_meetings": "the local Microsoft 365 double's own calendar (the tenant's)",
        "local_m365_grants": "the local Microsoft 365 double's sharing (the tenant's)",
        "local_m365_app_installs": "the local Microsoft 365 double's app installs (the tenant's)",
        "m365_meeting_keys": "outbox event key → Graph meeting id (unique keys, delivered per row's school)",
        "alembic_version": "migrations",
    }
    owned = {m.class_.__tablename__ for m in Base.registry.mappers if issubclass(m.class_, SchoolOwned)}
    tables = set(Base.metadata.tables)
    assert tables - owned - set(deployment_level) == set(), "classify the new table: SchoolOwned or deployment-level"
