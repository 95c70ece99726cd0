"""A group-record submit is one transaction — whatever it finds: a first record, an amendment, an ad-hoc session,
a double click, mistakes on the card, or a session someone else recorded meanwhile. Counted with SQLAlchemy's
`begin` event on the engine, so a second `db.session()` (or any other transaction) in the submit fails these."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from bot.journeys import group_record as journey
from bot.journeys.base import Services, Turn
from bot.store.models_group_record import GroupRecord, GroupRecordDraft, GroupRecordVersion
from bot.store.models_outbox import OutboxRow
from bot.store.models_sessions import Attendance, GroupSession
from cards import group_record as cards
from tests.journeys.test_group_record import add_session, filled

KEY1, KEY2 = "1" * 32, "2" * 32


class Transactions:
    """Counts transactions begun on the database's engine while `counting`."""

    def __init__(self, db):
        self.engine = db.engine.sync_engine
        self.begun = 0
        event.listen(self.engine, "begin", self._begin)

    def _begin(self, _conn) -> None:
        self.begun += 1

    def close(self) -> None:
        event.remove(self.engine, "begin", self._begin)


@pytest.fixture
def services(school, db, clock):
    return Services(school=school, db=db, clock=clock)


@pytest.fixture
def transactions(db):
    t = Transactions(db)
    yield t
    t.close()


async def submit(services, transactions, who: str, data: dict) -> tuple[dict, int]:
    turn = Turn(
        now=services.clock(),
        aad_object_id=None,
        user_name=None,
        actor=services.school.staff[who],
        verb=cards.V_SUBMIT,
        data=data,
        invoke=True,
    )
    before = transactions.begun
    reply = await journey.submit(services, turn)
    return reply.card, transactions.begun - before


async def count(db, model) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_the_counter_sees_every_transaction(services, transactions, db):
    before = transactions.begun
    for _ in range(2):
        async with db.session() as s:
            await s.execute(select(1))
    assert transactions.begun - before == 2


async def test_a_first_record_and_its_double_click_are_one_transaction_each(services, transactions, db):
    sid = await add_session(db)
    card, n = await submit(services, transactions, "amara.okafor", {"session_id": sid, "draft_key": KEY1, **filled()})
    assert "Record submitted" in json.dumps(card) and n == 1
    assert await count(db, GroupRecordVersion) == 1 and await count(db, Attendance) == 4
    card, n = await submit(services, transactions, "amara.okafor", {"session_id": sid, "draft_key": KEY1, **filled()})
    assert "nothing was created twice" in json.dumps(card) and n == 1


async def test_mistakes_on_the_card_are_one_transaction(services, transactions, db):
    sid = await add_session(db)
    card, n = await submit(
        services, transactions, "amara.okafor", {"session_id": sid, "draft_key": KEY1, **filled(f_summary="")}
    )
    assert "Please check the field" in json.dumps(card) and n == 1
    assert await count(db, GroupRecord) == 0


async def test_recorded_meanwhile_keeps_the_text_as_a_draft_in_the_same_transaction(services, transactions, db):
    sid = await add_session(db)
    await submit(services, transactions, "amara.okafor", {"session_id": sid, "draft_key": KEY1, **filled()})
    card, n = await submit(
        services, transactions, "marcus.fenwick", {"session_id": sid, "draft_key": KEY2, **filled(f_summary="Marcus's")}
    )
    assert "recorded this session a moment ago" in json.dumps(card) and n == 1
    async with db.session() as s:
        d = (await s.execute(select(GroupRecordDraft))).scalar_one()
    assert (d.draft_key, d.owner_id, d.content["f_summary"]) == (KEY2, "marcus.fenwick", "Marcus's")


async def test_an_amendment_is_one_transaction(services, transactions, db):
    sid = await add_session(db)
    await submit(services, transactions, "amara.okafor", {"session_id": sid, "draft_key": KEY1, **filled()})
    async with db.session() as s:
        rid = (await s.execute(select(GroupRecord.id))).scalar_one()
    card, n = await submit(
        services,
        transactions,
        "marcus.fenwick",
        {"record_id": rid, "draft_key": KEY2, **filled(att_group="tom.hollis", amend_note="Fewer came.")},
    )
    assert "Version 2 saved" in json.dumps(card) and n == 1
    assert await count(db, GroupRecordVersion) == 2 and await count(db, Attendance) == 2
    async with db.session() as s:
        keys = set((await s.execute(select(OutboxRow.key))).scalars())
    assert {"group_record:file:1", "group_record:file:2"} <= keys


async def test_an_ad_hoc_session_is_made_and_recorded_in_one_transaction(services, transactions, db):
    adhoc = {"kind": "ad_hoc", "date": "2026-11-20", "time": "13:00", "group": "willow", "facilitator": "amara.okafor"}
    card, n = await submit(
        services, transactions, "amara.okafor", {"adhoc": adhoc, "draft_key": KEY1, **filled(att_group="tom.hollis")}
    )
    assert "Record submitted" in json.dumps(card) and n == 1
    async with db.session() as s:
        sess = (await s.execute(select(GroupSession))).scalar_one()
    assert (sess.status, sess.kind) == ("recorded", "ad_hoc")


async def test_a_raced_double_click_rolls_back_and_finds_the_first_record(services, transactions, db, monkeypatch):
    """Two clicks at the same moment both see no record for the key; the second's insert hits the submit key's
    unique constraint (Concurrent), its transaction rolls back whole, and a second one finds the first record."""
    from bot.records.lifecycle import GROUP

    adhoc = {"kind": "ad_hoc", "date": "2026-11-20", "time": "13:00", "group": "willow", "facilitator": "amara.okafor"}
    data = {"adhoc": adhoc, "draft_key": KEY1, **filled(att_group="tom.hollis")}
    await submit(services, transactions, "amara.okafor", data)
    real, calls = type(GROUP).submitted, []

    async def blind_once(self, s, key):
        calls.append(key)
        return None if len(calls) == 1 else await real(self, s, key)

    monkeypatch.setattr(type(GROUP), "submitted", blind_once)
    card, n = await submit(services, transactions, "amara.okafor", data)
    assert "nothing was created twice" in json.dumps(card) and n == 2 and len(calls) == 2
    # The second click's ad-hoc session, record and upload were rolled back with its transaction.
    assert await count(db, GroupSession) == 1 and await count(db, GroupRecord) == 1
    assert await count(db, OutboxRow) == 1
