"""The exports' store (bot/store/exports.py), on SQLite and PostgreSQL: an export is started once per form, its
files' bytes are held until delivered, and when two files settle at the same moment exactly one of them finishes
the export (so the links are sent once, never zero times); undelivered bytes expire with retention."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot.store import exports as store
from bot.store.errors import AlreadySubmitted, NotFound
from bot.store.models_exports import ExportFile

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
NONCE = "b" * 32


async def _export(db, n_files: int = 2) -> tuple[int, list[int]]:
    async with db.session() as s:
        e = await store.start(
            s, nonce=NONCE, half_term="2026-27 Autumn 2", parts=["summary"], by="amara.okafor", now=NOW
        )
        rows = await store.add_files(s, e.id, [(f"f{i}.csv", b"x" * (i + 1)) for i in range(n_files)])
        return e.id, [r.id for r in rows]


async def test_a_form_starts_one_export_and_its_bytes_wait_for_delivery(db):
    export_id, (a, b) = await _export(db)
    async with db.session() as s:
        with pytest.raises(AlreadySubmitted):
            await store.start(s, nonce=NONCE, half_term="x", parts=[], by="amara.okafor", now=NOW)
        assert await store.content(s, a) == b"x"
    async with db.session() as s:
        done = await store.settle(s, a, now=NOW, result={"name": "f0 (2).csv", "web_url": "https://x.test/f0"})
        assert done is not None and not done.just_finished
    async with db.session() as s:
        with pytest.raises(NotFound):
            await store.content(s, a)  # dropped once delivered
        assert await store.settle(s, a, now=NOW) is None  # settling twice does nothing
        done = await store.settle(s, b, now=NOW, failed=True)
        assert done.just_finished and done.export.status == "failed"
        assert [(f.status, f.delivered_name) for f in done.files] == [("delivered", "f0 (2).csv"), ("failed", None)]
        assert await store.content(s, b) == b"xx"  # kept for a retry


async def test_two_files_settling_at_once_finish_the_export_exactly_once(db, monkeypatch):
    export_id, ids = await _export(db, 2)
    # Make them meet: each settle waits (briefly) for the other to reach the read of the export's files. Without
    # the lock both get there, each sees the other's file still queued, and nobody finishes the export.
    arrived: list[int] = []
    both = asyncio.Event()
    real = store.files_of

    async def files_of(s, eid):
        arrived.append(eid)
        if len(arrived) == 2:
            both.set()
        try:
            await asyncio.wait_for(both.wait(), 1.0)  # the other is held back by the lock: go on alone
        except TimeoutError:
            pass
        return await real(s, eid)

    monkeypatch.setattr(store, "files_of", files_of)

    async def settle(file_id: int):
        async with db.session() as s:
            return await store.settle(s, file_id, now=NOW, result={"web_url": f"https://x.test/{file_id}"})

    results = await asyncio.gather(*(settle(i) for i in ids))
    assert sorted(r.just_finished for r in results) == [False, True]


async def test_retention_drops_the_bytes_of_files_that_never_got_there(db):
    _, (a, b) = await _export(db)
    async with db.session() as s:
        await store.settle(s, a, now=NOW, failed=True)
    async with db.session() as s:
        assert await store.expire_undelivered(s, before=NOW) == 0  # not old enough
        assert await store.expire_undelivered(s, before=NOW + dt.timedelta(days=15)) == 2
    async with db.session() as s:
        assert (await s.execute(select(ExportFile.content).where(ExportFile.content.is_not(None)))).all() == []
