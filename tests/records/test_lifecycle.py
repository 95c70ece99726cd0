"""The record lifecycle (bot/records/lifecycle.py over bot/store/drafts.py) on SQLite and PostgreSQL: drafts saved,
found, refused, discarded and consumed; submit keys; the file's delivery state from the outbox hooks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.outbox import enqueue
from bot.records.lifecycle import GROUP, ONE_TO_ONE
from bot.store.errors import AlreadySubmitted, NotFound, NotYours
from bot.store.models_group_record import GroupRecord, GroupRecordDraft, GroupRecordVersion
from bot.store.models_outbox import OutboxRow
from bot.store.models_sessions import GroupSession
from bot.store.models_targeted import TargetedRecord, TargetedRecordDraft

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)
LATER = NOW + dt.timedelta(hours=1)
K1, K2, K3 = "a" * 32, "b" * 32, "c" * 32


async def _session(s, n: int = 0) -> int:
    sess = GroupSession(
        kind="class",
        group_id="willow",
        title="Group supervision – Willow Class",
        starts_at=NOW - dt.timedelta(days=n + 1),
        ends_at=NOW - dt.timedelta(days=n + 1, hours=-1),
        local_date=dt.date(2026, 11, 20 - n),
        half_term="2026-27 Autumn 2",
        facilitator_id="amara.okafor",
        status="scheduled",
        created_by="amara.okafor",
        created_at=NOW,
    )
    s.add(sess)
    await s.flush()
    return sess.id


async def _version(s, session_id: int, key: str, status: str = "pending") -> GroupRecordVersion:
    rec = GroupRecord(
        session_id=session_id,
        template_id="t",
        facilitator_id="amara.okafor",
        created_by="amara.okafor",
        created_at=NOW,
        current_version=1,
    )
    s.add(rec)
    await s.flush()
    v = GroupRecordVersion(
        record_id=rec.id,
        version=1,
        submit_key=key,
        file_name="Willow.docx",
        status=status,
        attendee_count=3,
        action_count=1,
        submitted_by="amara.okafor",
        submitted_at=NOW,
    )
    s.add(v)
    await s.flush()
    return v


async def test_save_makes_one_draft_per_key_and_replaces_its_content(db):
    async with db.session() as s:
        sid = await _session(s)
        d = await GROUP.save(s, K1, "amara.okafor", {"f_summary": "First"}, session_id=sid, now=NOW)
        assert (d.draft_key, d.owner_id, d.session_id, d.record_id, d.adhoc) == (K1, "amara.okafor", sid, None, None)
    async with db.session() as s:
        await GROUP.save(s, K1, "amara.okafor", {"f_summary": "Second"}, session_id=sid, now=LATER)
    async with db.session() as s:
        rows = (await s.execute(select(GroupRecordDraft))).scalars().all()
        assert [(r.content, r.created_at, r.updated_at) for r in rows] == [({"f_summary": "Second"}, NOW, LATER)]
        assert await GROUP.has(s, K1) and not await GROUP.has(s, K2)


async def test_save_refuses_someone_elses_key_a_different_target_and_a_submitted_key(db):
    async with db.session() as s:
        sid, other = await _session(s), await _session(s, 1)
        await GROUP.save(s, K1, "amara.okafor", {"f_summary": "Amara's"}, session_id=sid, now=NOW)
        await _version(s, other, K2)
    for owner, target in (
        ("marcus.webb", {"session_id": sid}),  # someone else's draft
        ("amara.okafor", {"session_id": other}),  # her own, of another session
        ("amara.okafor", {"record_id": None}),
    ):  # her own, now claimed as ad hoc
        with pytest.raises(NotYours):
            async with db.session() as s:
                await GROUP.save(s, K1, owner, {"f_summary": "Changed"}, now=LATER, **target)
    with pytest.raises(AlreadySubmitted):
        async with db.session() as s:
            await GROUP.save(s, K2, "amara.okafor", {"f_summary": "Again"}, session_id=other, now=LATER)
    async with db.session() as s:
        rows = (await s.execute(select(GroupRecordDraft))).scalars().all()
        assert [(r.draft_key, r.content) for r in rows] == [(K1, {"f_summary": "Amara's"})]


async def test_ad_hoc_details_are_kept_but_not_compared(db):
    adhoc = {"kind": "ad_hoc", "date": "2026-11-20", "time": "14:00", "group": "willow", "facilitator": "amara.okafor"}
    async with db.session() as s:
        await GROUP.save(s, K1, "amara.okafor", {"f_summary": "x"}, adhoc=adhoc, now=NOW)
        d = await GROUP.save(s, K1, "amara.okafor", {"f_summary": "y"}, adhoc={"kind": "other"}, now=LATER)
        assert (d.adhoc, d.content, d.session_id, d.record_id) == (adhoc, {"f_summary": "y"}, None, None)
    with pytest.raises(TypeError):
        async with db.session() as s:
            await GROUP.save(s, K2, "amara.okafor", {}, supervisee_id="tom.hollis", now=NOW)


async def test_own_find_own_and_discard(db):
    async with db.session() as s:
        sid = await _session(s)
        await GROUP.save(s, K1, "amara.okafor", {"f_summary": "x"}, session_id=sid, now=NOW)
    async with db.session() as s:
        assert (await GROUP.own(s, K1, "amara.okafor")).draft_key == K1
        assert await GROUP.find_own(s, K2, "amara.okafor") is None
        with pytest.raises(NotFound):
            await GROUP.own(s, K2, "amara.okafor")
        with pytest.raises(NotYours):
            await GROUP.own(s, K1, "marcus.webb")
        with pytest.raises(NotYours):
            await GROUP.discard(s, K1, "marcus.webb")
        assert await GROUP.discard(s, K2, "amara.okafor") is False
    async with db.session() as s:
        assert await GROUP.discard(s, K1, "amara.okafor") is True
    async with db.session() as s:
        assert not await GROUP.has(s, K1)


async def test_latest_for_and_recent_are_the_owners_own_newest_first(db):
    async with db.session() as s:
        sid, other = await _session(s), await _session(s, 1)
        await GROUP.save(s, K1, "amara.okafor", {"n": "1"}, session_id=sid, now=NOW)
        await GROUP.save(s, K2, "amara.okafor", {"n": "2"}, session_id=sid, now=LATER)
        await GROUP.save(s, K3, "amara.okafor", {"n": "3"}, session_id=other, now=NOW)
        await GROUP.save(s, "d" * 32, "marcus.webb", {"n": "4"}, session_id=sid, now=LATER + dt.timedelta(1))
    async with db.session() as s:
        assert (await GROUP.latest_for(s, "amara.okafor", session_id=sid, record_id=None)).draft_key == K2
        assert (await GROUP.latest_for(s, "amara.okafor", session_id=other)).draft_key == K3
        assert await GROUP.latest_for(s, "amara.okafor", session_id=sid, record_id=1) is None
        # Newest first; saved at the same moment, the later draft first.
        assert [d.draft_key for d in await GROUP.recent(s, "amara.okafor")] == [K2, K3, K1]
        assert [d.draft_key for d in await GROUP.recent(s, "amara.okafor", limit=1)] == [K2]
        assert [d.draft_key for d in await GROUP.recent(s, "marcus.webb")] == ["d" * 32]


async def test_keep_saves_a_conflicted_submit_unless_the_key_is_someone_elses(db):
    async with db.session() as s:
        sid = await _session(s)
        kept = await GROUP.keep(s, K1, "amara.okafor", {"n": "1"}, session_id=sid, now=NOW)
        assert kept.content == {"n": "1"}
        assert (await GROUP.keep(s, K1, "amara.okafor", {"n": "2"}, record_id=None, now=LATER)).content == {"n": "2"}
        assert await GROUP.keep(s, K1, "marcus.webb", {"n": "3"}, session_id=sid, now=LATER) is None
    async with db.session() as s:
        assert (await GROUP.own(s, K1, "amara.okafor")).content == {"n": "2"}


async def test_consume_and_drop(db):
    async with db.session() as s:
        sid, other = await _session(s), await _session(s, 1)
        await GROUP.save(s, K1, "amara.okafor", {}, session_id=sid, now=NOW)
        await GROUP.save(s, K2, "marcus.webb", {}, session_id=sid, now=NOW)
        await GROUP.save(s, K3, "amara.okafor", {}, session_id=other, now=NOW)
    async with db.session() as s:
        await GROUP.consume(s, K3)
        await GROUP.consume(s, K3)  # nothing left: no error
        assert await GROUP.drop(s, session_id=sid, record_id=None, keep=K1) == 1
    async with db.session() as s:
        assert [d.draft_key for d in (await s.execute(select(GroupRecordDraft))).scalars()] == [K1]
        with pytest.raises(TypeError):
            await GROUP.drop(s, content={})
    async with db.session() as s:
        await ONE_TO_ONE.save(s, K1, "priya.raman", {"x": "old"}, supervisee_id="tom.hollis", now=NOW)
        await ONE_TO_ONE.save(s, K2, "priya.raman", {"x": "new"}, supervisee_id="tom.hollis", now=LATER)
        await ONE_TO_ONE.save(s, K3, "priya.raman", {"x": "other"}, supervisee_id="isla.brennan", now=NOW)
        # Only the owner's older drafts for the same supervisee go, never the one just submitted.
        assert (
            await ONE_TO_ONE.drop(s, owner_id="priya.raman", supervisee_id="tom.hollis", keep=K2, saved_before=LATER)
            == 1
        )
        assert (
            await ONE_TO_ONE.drop(s, owner_id="priya.raman", supervisee_id="tom.hollis", keep=K2, saved_before=LATER)
            == 0
        )
    async with db.session() as s:
        left = sorted(d.draft_key for d in (await s.execute(select(TargetedRecordDraft))).scalars())
        assert left == [K2, K3]


async def test_one_to_one_drafts_are_per_supervisee_and_submit_keys_find_the_record(db):
    async with db.session() as s:
        await ONE_TO_ONE.save(s, K1, "priya.raman", {"x": "1"}, supervisee_id="tom.hollis", now=NOW)
        with pytest.raises(NotYours):
            await ONE_TO_ONE.save(s, K1, "priya.raman", {"x": "2"}, supervisee_id="isla.brennan", now=LATER)
        assert (await ONE_TO_ONE.latest_for(s, "priya.raman", supervisee_id="tom.hollis")).draft_key == K1
        assert await ONE_TO_ONE.latest_for(s, "priya.raman", supervisee_id="isla.brennan") is None
        s.add(
            TargetedRecord(
                supervisor_id="priya.raman",
                supervisee_id="tom.hollis",
                session_date=dt.date(2026, 11, 19),
                template_id="one_to_one",
                submit_key=K2,
                file_name="f.docx",
                status="pending",
                action_count=0,
                submitted_at=NOW,
            )
        )
        await s.flush()
        assert (await ONE_TO_ONE.submitted(s, K2)).file_name == "f.docx"
        assert await ONE_TO_ONE.submitted(s, K1) is None
        with pytest.raises(AlreadySubmitted):
            await ONE_TO_ONE.save(s, K2, "priya.raman", {"x": "3"}, supervisee_id="tom.hollis", now=LATER)


def test_file_keys_belong_to_one_journey():
    assert GROUP.file_key(7) == "group_record:file:7"
    assert GROUP.file_id("group_record:file:7") == 7
    assert ONE_TO_ONE.file_id("targeted:file:7") == 7
    for key in ("targeted:file:7", "group_record:channel:7", "group_record:file:", "group_record:file:x", None):
        assert GROUP.file_id(key) is None


async def test_delivered_and_dead_hooks_mark_the_filed_row_once(db):
    async with db.session() as s:
        v = await _version(s, await _session(s), K1)
        other = await _version(s, await _session(s, 1), K2)
        vid, oid = v.id, other.id
    async with db.session() as s:
        assert await GROUP.delivered(s, f"targeted:file:{vid}", {"webUrl": "u"}, NOW) is None
        row = await GROUP.delivered(
            s, GROUP.file_key(vid), {"webUrl": "https://f/x", "name": "x (1).docx", "id": "item-1"}, NOW
        )
        assert (row.status, row.web_url, row.delivered_name, row.item_id, row.delivered_at) == (
            "delivered",
            "https://f/x",
            "x (1).docx",
            "item-1",
            NOW,
        )
        assert await GROUP.delivered(s, GROUP.file_key(vid), {"web_url": "https://elsewhere"}, LATER) is None
        assert await GROUP.dead(s, GROUP.file_key(vid)) is None  # delivered stays delivered
        assert await GROUP.delivered(s, GROUP.file_key(999_999), {}, NOW) is None
        assert (await GROUP.dead(s, GROUP.file_key(oid))).status == "failed"
        assert await GROUP.dead(s, GROUP.file_key(oid)) is None  # told once
    async with db.session() as s:
        got = await s.get(GroupRecordVersion, vid)
        assert (got.web_url, got.delivered_name) == ("https://f/x", "x (1).docx")
        d = await GROUP.filed_row(s, oid)
        assert d.status == "failed" and await GROUP.filed_row(s, "nope") is None
        d.status = "pending"
        d2 = await GROUP.delivered(s, GROUP.file_key(oid), None, NOW)
        assert (d2.web_url, d2.delivered_name, d2.item_id) == (None, "Willow.docx", None)


async def test_sync_reads_the_delivery_state_from_the_outbox(db):
    async with db.session() as s:
        v1 = await _version(s, await _session(s), K1)
        v2 = await _version(s, await _session(s, 1), K2)
        v3 = await _version(s, await _session(s, 2), K3)
        for v in (v1, v2):
            await enqueue(s, "files.channel_upload", {"record_id": v.id}, key=GROUP.file_key(v.id), now=NOW)
        ids = v1.id, v2.id, v3.id
    async with db.session() as s:
        await s.execute(
            update(OutboxRow)
            .where(OutboxRow.key == GROUP.file_key(ids[0]))
            .values(status="delivered", result={"webUrl": "https://f/1", "name": "1.docx"}, finished_at=LATER)
        )
        await s.execute(update(OutboxRow).where(OutboxRow.key == GROUP.file_key(ids[1])).values(status="dead"))
    async with db.session() as s:
        r1, r2, r3 = [await s.get(GroupRecordVersion, i) for i in ids]
        await GROUP.sync(s, r1, NOW)
        await GROUP.sync(s, r2, NOW)
        await GROUP.sync(s, r3, NOW)  # no outbox row: unchanged
        assert (r1.status, r1.web_url, r1.delivered_at) == ("delivered", "https://f/1", LATER)
        assert (r2.status, r3.status) == ("failed", "pending")
        await s.execute(update(OutboxRow).where(OutboxRow.key == GROUP.file_key(ids[1])).values(status="pending"))
        await GROUP.sync(s, r2, NOW)  # requeued after a fix
        assert r2.status == "pending"
        await GROUP.sync(s, r1, NOW)  # delivered stays as it is
        assert r1.web_url == "https://f/1"
