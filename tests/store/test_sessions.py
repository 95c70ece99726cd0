"""bot/store/sessions.py on SQLite and PostgreSQL: group sessions, invitees, attendance and schedule requests,
with the domain errors a journey maps to cards."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.store import sessions
from bot.store.errors import Concurrent, NotFound, RecordedMeanwhile
from bot.store.models_sessions import GroupSession

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)
HT = "2026-27 Autumn 2"


def _cols(
    *,
    start: dt.datetime = NOW,
    group: str | None = "willow",
    kind: str = "class",
    facilitator: str = "amara.okafor",
    half_term: str = HT,
    status: str = "scheduled",
) -> dict:
    return dict(
        kind=kind,
        group_id=group,
        title="Group supervision",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        local_date=start.date(),
        half_term=half_term,
        facilitator_id=facilitator,
        status=status,
        external_support=False,
    )


async def _add(s, **kw) -> GroupSession:
    row = GroupSession(created_by="amara.okafor", created_at=NOW, **_cols(**kw))
    s.add(row)
    await s.flush()
    return row


async def test_get_recordable_and_by_ids(db):
    async with db.session() as s:
        a = await _add(s)
        spec = await _add(s, kind="specialist", group=None)
        assert (await sessions.get(s, a.id)).id == a.id and await sessions.get(s, 999) is None
        assert (await sessions.recordable(s, a.id)).id == a.id
        for sid in (spec.id, 999, None):
            with pytest.raises(NotFound):
                await sessions.recordable(s, sid)
        assert set(await sessions.by_ids(s, [a.id, spec.id, 999])) == {a.id, spec.id}
        assert await sessions.by_ids(s, []) == {}


async def test_waiting_and_booked(db):
    async with db.session() as s:
        early = await _add(s, start=NOW - dt.timedelta(days=2))
        late = await _add(s, start=NOW + dt.timedelta(days=2), group="rowan")
        done = await _add(s, status="recorded", group="oak")
        gone = await _add(s, status="cancelled", group="ash")
        await _add(s, kind="specialist", group=None)
        older = await _add(s, half_term="2026-27 Autumn 1", start=NOW - dt.timedelta(days=40))
        assert [x.id for x in await sessions.waiting(s, [HT])] == [late.id, early.id]
        assert [x.id for x in await sessions.waiting(s, [HT, "2026-27 Autumn 1"])] == [late.id, early.id, older.id]
        assert [x.id for x in await sessions.booked(s, HT)] == [early.id, done.id, late.id]
        assert gone.id not in [x.id for x in await sessions.booked(s, HT)]


async def test_clash_by_facilitator_group_or_mop_up(db):
    async with db.session() as s:
        willow = await _add(s)
        mop = await _add(s, kind="mop_up", group=None, facilitator="marcus.fenwick", start=NOW + dt.timedelta(days=1))
        await _add(s, status="cancelled", group="rowan", facilitator="delia.moss", start=NOW + dt.timedelta(days=2))
        half = dt.timedelta(minutes=30)

        async def clash(start, fac, group):
            c = await sessions.clash(
                s, starts=start, ends=start + dt.timedelta(hours=1), facilitator_id=fac, group_id=group
            )
            return c.id if c else None

        assert await clash(NOW + half, "amara.okafor", "rowan") == willow.id  # same facilitator
        assert await clash(NOW - half, "delia.moss", "willow") == willow.id  # same group
        assert await clash(NOW + dt.timedelta(hours=1), "amara.okafor", "willow") is None  # back to back
        assert await clash(NOW + dt.timedelta(days=1), "delia.moss", None) == mop.id  # another mop-up
        assert await clash(NOW + dt.timedelta(days=1), "delia.moss", "willow") is None
        assert await clash(NOW + dt.timedelta(days=2), "delia.moss", "rowan") is None  # cancelled one: free


async def test_schedule_books_once_per_nonce_with_its_invitees(db):
    async with db.session() as s:
        sess = await sessions.schedule(
            s,
            nonce="n" * 32,
            invitees=["tom.hollis", "isla.brennan"],
            added_via="invite",
            created_by="amara.okafor",
            now=NOW,
            **_cols(),
        )
        assert await sessions.invitee_ids(s, sess.id) == ["tom.hollis", "isla.brennan"]
        assert (await sessions.scheduled_by(s, "n" * 32)).id == sess.id
        assert await sessions.scheduled_by(s, "m" * 32) is None
    with pytest.raises(Concurrent):
        async with db.session() as s:
            await sessions.schedule(
                s,
                nonce="n" * 32,
                invitees=[],
                added_via="invite",
                created_by="amara.okafor",
                now=NOW,
                **_cols(group="rowan"),
            )


async def test_claim_for_record_once_and_ad_hoc_sessions(db):
    async with db.session() as s:
        a = await _add(s)
        c = await _add(s, status="cancelled", group="rowan")
        adhoc = await sessions.add_recorded(
            s,
            created_by="amara.okafor",
            now=NOW,
            **{k: v for k, v in _cols(kind="ad_hoc").items() if k not in ("status", "external_support")},
        )
        assert (adhoc.status, adhoc.kind, adhoc.external_support) == ("recorded", "ad_hoc", False)
    async with db.session() as s:
        assert (await sessions.claim_for_record(s, a.id)).status == "recorded"
    for sid in (a.id, c.id, 999):
        with pytest.raises(RecordedMeanwhile):
            async with db.session() as s:
                await sessions.claim_for_record(s, sid)
    async with db.session() as s:
        assert (await sessions.get(s, a.id)).status == "recorded"
        assert (await sessions.get(s, c.id)).status == "cancelled"


async def test_attendance_is_set_exactly_and_counted_by_half_term(db):
    async with db.session() as s:
        a = await _add(s)
        b = await _add(s, group="rowan", half_term="2026-27 Autumn 1", start=NOW - dt.timedelta(days=40))
        await sessions.set_attendance(s, a, ["tom.hollis", "isla.brennan"], recorded_by="amara.okafor", now=NOW)
        await sessions.set_attendance(s, b, ["grace.mensah"], recorded_by="amara.okafor", now=NOW)
    async with db.session() as s:
        assert await sessions.attendee_ids(s, a.id) == ["isla.brennan", "tom.hollis"]
        await sessions.set_attendance(s, a, ["tom.hollis", "yasmin.shah"], recorded_by="marcus.fenwick", now=NOW)
    async with db.session() as s:
        assert await sessions.attendee_ids(s, a.id) == ["tom.hollis", "yasmin.shah"]
        assert await sessions.attended_in(s, HT) == {"tom.hollis", "yasmin.shah"}
        assert await sessions.attended_in(s, "2026-27 Autumn 1") == {"grace.mensah"}
        assert await sessions.invitee_ids(s, a.id) == []
