"""bot/store/group_records.py on SQLite and PostgreSQL: records, their file versions and their actions, the
picker's reads, and the domain errors (NotFound, AlreadyRecorded, RecordedMeanwhile)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.records.rules import ActionItem
from bot.store import group_records as store
from bot.store.errors import AlreadyRecorded, Concurrent, NotFound, RecordedMeanwhile
from bot.store.models_group_record import RecordAction
from bot.store.models_sessions import GroupSession

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)
HT = "2026-27 Autumn 2"
DUE = dt.date(2026, 12, 1)


async def _session(s, n: int = 0, half_term: str = HT) -> GroupSession:
    start = NOW - dt.timedelta(days=n)
    row = GroupSession(
        kind="class",
        group_id="willow",
        title="Group supervision",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        local_date=start.date(),
        half_term=half_term,
        facilitator_id="amara.okafor",
        status="recorded",
        external_support=False,
        created_by="amara.okafor",
        created_at=NOW,
    )
    s.add(row)
    await s.flush()
    return row


async def _filed(s, sess, key: str):
    rec = await store.new_record(s, sess, template_id="standard", created_by="amara.okafor", now=NOW)
    v = await store.add_version(
        s,
        rec,
        number=1,
        submit_key=key,
        file_name="f.docx",
        attendee_count=2,
        action_count=0,
        submitted_by="amara.okafor",
        now=NOW,
    )
    return rec, v


async def test_a_record_per_session_and_its_lookups(db):
    async with db.session() as s:
        sess = await _session(s)
        rec, v = await _filed(s, sess, "a" * 32)
        assert (rec.session_id, rec.facilitator_id, rec.current_version, v.status) == (
            sess.id,
            "amara.okafor",
            1,
            "pending",
        )
        assert (await store.get(s, rec.id)).id == rec.id and await store.get(s, None) is None
        r, x = await store.with_session(s, rec.id)
        assert (r.id, x.id) == (rec.id, sess.id)
        with pytest.raises(NotFound):
            await store.with_session(s, 999)
        with pytest.raises(AlreadyRecorded) as err:
            await store.ensure_unrecorded(s, sess.id)
        assert err.value.record_id == rec.id
        await store.ensure_unrecorded(s, (await _session(s, 1)).id)  # a session without a record: fine
        assert (await store.version(s, rec.id, 1)).id == v.id and await store.version(s, rec.id, 2) is None
        assert (await store.get_version(s, v.id)).submit_key == "a" * 32
        r, x = await store.filed(s, v)
        assert (r.id, x.id) == (rec.id, sess.id)
        assert {k: x.id for k, x in (await store.sessions_of(s, [rec.id, 999])).items()} == {rec.id: sess.id}
        assert await store.sessions_of(s, []) == {}
        sid = sess.id
    with pytest.raises(Concurrent):  # one record per session
        async with db.session() as s:
            await store.new_record(s, await s.get(GroupSession, sid), template_id="t", created_by="x", now=NOW)
    with pytest.raises(Concurrent):  # one version per submit key
        async with db.session() as s:
            await _filed(s, await _session(s, 2), "a" * 32)


async def test_recorded_in_lists_this_half_terms_records_with_their_newest_version(db):
    async with db.session() as s:
        r1, _ = await _filed(s, await _session(s, 3), "a" * 32)
        r2, _ = await _filed(s, await _session(s, 1), "b" * 32)
        await _filed(s, await _session(s, 60, "2026-27 Autumn 1"), "c" * 32)
        r1b, _ = await store.claim_next_version(s, r1.id, 1)
        v2 = await store.add_version(
            s,
            r1b,
            number=2,
            submit_key="d" * 32,
            file_name="f-v2.docx",
            attendee_count=1,
            action_count=0,
            submitted_by="marcus.fenwick",
            now=NOW,
        )
        got = await store.recorded_in(s, HT)
        assert [(x.record.id, x.latest.version) for x in got] == [(r2.id, 1), (r1.id, 2)]
        assert got[1].latest.id == v2.id and got[1].session.half_term == HT
        assert [x.record.id for x in await store.recorded_in(s, HT, limit=1)] == [r2.id]
        assert await store.recorded_in(s, "2025-26 Summer 2") == []


async def test_claim_next_version_refuses_a_stale_card(db):
    async with db.session() as s:
        rec, v1 = await _filed(s, await _session(s), "a" * 32)
        rid, v1id = rec.id, v1.id
    async with db.session() as s:
        record, previous = await store.claim_next_version(s, rid, 1)
        assert (record.current_version, previous.id) == (2, v1id)
    for seen, target in ((1, rid), (3, rid), (2, 999)):
        with pytest.raises(RecordedMeanwhile):
            async with db.session() as s:
                await store.claim_next_version(s, target, seen)
    async with db.session() as s:
        assert (await store.get(s, rid)).current_version == 2


async def test_actions_are_added_then_edited_removed_or_kept_on_amendment(db):
    async with db.session() as s:
        rec, _ = await _filed(s, await _session(s), "a" * 32)
        await store.save_actions(
            s,
            rec.id,
            [
                ActionItem("Share the rota", "amara.okafor", DUE),
                ActionItem("Ask HR", "marcus.fenwick", DUE),
                ActionItem("Book a room", "amara.okafor", DUE),
            ],
            amending=False,
            created_by="amara.okafor",
            now=NOW,
        )
        first, second, third = await store.actions(s, rec.id)
        third.status = "done"
        assert await store.open_action_ids(s, rec.id) == {first.id, second.id}
        assert [a.id for a in await store.actions(s, rec.id, open_only=True)] == [first.id, second.id]
        rid, ids = rec.id, (first.id, second.id, third.id)
    async with db.session() as s:
        # The amendment edits the first, clears the second's row, adds one; the done action stays as it was.
        await store.save_actions(
            s,
            rid,
            [
                ActionItem("Share the new rota", "marcus.fenwick", DUE, ids[0]),
                ActionItem("Tell governors", "amara.okafor", DUE),
            ],
            amending=True,
            created_by="marcus.fenwick",
            now=NOW,
        )
    async with db.session() as s:
        rows = (await s.execute(select(RecordAction).order_by(RecordAction.id))).scalars().all()
        assert [(a.id in ids, a.text, a.owner_id, a.status, a.created_by) for a in rows] == [
            (True, "Share the new rota", "marcus.fenwick", "open", "amara.okafor"),
            (True, "Book a room", "amara.okafor", "done", "amara.okafor"),
            (False, "Tell governors", "amara.okafor", "open", "marcus.fenwick"),
        ]
    async with db.session() as s:
        # An amendment with no action rows left clears every open action.
        await store.save_actions(s, rid, [], amending=True, created_by="marcus.fenwick", now=NOW)
        assert [a.text for a in await store.actions(s, rid)] == ["Book a room"]
