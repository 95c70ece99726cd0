"""Teams side effects delivered by the real outbox worker: 1:1 cards, in-place updates, the channel post and
its 1:1 fallback, and what channel errors mean (retry, unreachable)."""
from __future__ import annotations

import datetime as dt

from bot.effects import teams_handlers
from bot.journeys.base import Services
from bot.messaging import SendError
from bot.outbox import OutboxWorker, enqueue, get
from bot.store import conversations
from tests.fakes.messenger import FakeMessenger

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "hello"}]}


async def _ref(db, clock, kind, key, conv):
    async with db.session() as s:
        await conversations.save_reference(s, conversations.Reference(
            kind=kind, key=key, staff_id=key if kind == "personal" else None, conversation_id=conv,
            service_url="http://connector", reference={"conversation": {"id": conv}},
            channel_name="Safeguarding" if kind == "channel" else None), now=clock())


def _worker(db, school, clock, messenger):
    services = Services(school=school, db=db, clock=clock)
    return OutboxWorker(db, teams_handlers(services, messenger), clock=clock, base_delay=1, max_attempts=3)


async def test_notify_then_update_in_place(db, school, clock):
    m = FakeMessenger()
    await _ref(db, clock, "personal", "tom.hollis", "conv-tom")
    async with db.session() as s:
        await enqueue(s, "teams.notify", {"staff_id": "tom.hollis", "card": CARD, "ref": "req:1"}, key="n1")
    w = _worker(db, school, clock, m)
    assert await w.drain() == 1
    assert m.sent == [("conv-tom", CARD)]
    new = {**CARD, "body": [{"type": "TextBlock", "text": "allocated"}]}
    async with db.session() as s:
        await enqueue(s, "teams.update", {"staff_id": "tom.hollis", "ref": "req:1", "card": new}, key="u1")
    await w.drain()
    assert m.updated == [("conv-tom", "activity-1", new)]


async def test_person_without_a_chat_is_unreachable_not_retried(db, school, clock):
    m = FakeMessenger()
    async with db.session() as s:
        await enqueue(s, "teams.notify", {"staff_id": "grace.mensah", "card": CARD}, key="n2")
    await _worker(db, school, clock, m).drain()
    async with db.session() as s:
        row = await get(s, "n2")
    assert row.status == "dead" and "unreachable" in row.last_error
    assert m.sent == []


async def test_throttled_send_is_retried_after_retry_after(db, school, clock):
    m = FakeMessenger(fail={"conv-tom": [SendError(429, retry_after=7)]})
    await _ref(db, clock, "personal", "tom.hollis", "conv-tom")
    async with db.session() as s:
        await enqueue(s, "teams.notify", {"staff_id": "tom.hollis", "card": CARD}, key="n3")
    w = _worker(db, school, clock, m)
    await w.run_once()
    assert m.sent == []
    clock.advance(seconds=3)
    await w.run_once()
    assert m.sent == []                       # Retry-After (7 s) not yet over
    clock.advance(seconds=5)
    await w.run_once()
    assert m.sent == [("conv-tom", CARD)]


async def test_blocked_user_403_is_unreachable(db, school, clock):
    m = FakeMessenger(fail={"conv-tom": [SendError(403, code="MessageWritesBlocked")]})
    await _ref(db, clock, "personal", "tom.hollis", "conv-tom")
    async with db.session() as s:
        await enqueue(s, "teams.notify", {"staff_id": "tom.hollis", "card": CARD}, key="n4")
    await _worker(db, school, clock, m).drain()
    async with db.session() as s:
        assert (await get(s, "n4")).status == "dead"


async def test_channel_post_goes_to_the_safeguarding_channel(db, school, clock):
    m = FakeMessenger()
    await _ref(db, clock, "channel", "19:sg@thread", "19:sg@thread")
    async with db.session() as s:
        await enqueue(s, "teams.channel", {"card": CARD, "fallback_staff_ids": ["amara.okafor"],
                                           "fallback_text": "Record filed"}, key="c1")
    await _worker(db, school, clock, m).drain()
    assert m.sent == [("19:sg@thread", CARD)]


async def test_channel_post_falls_back_to_the_dsl_team_one_to_one(db, school, clock):
    m = FakeMessenger(fail={"19:sg@thread": [SendError(403)]})
    await _ref(db, clock, "channel", "19:sg@thread", "19:sg@thread")
    await _ref(db, clock, "personal", "amara.okafor", "conv-amara")
    await _ref(db, clock, "personal", "marcus.fenwick", "conv-marcus")
    async with db.session() as s:
        await enqueue(s, "teams.channel", {"card": CARD, "fallback_staff_ids": ["amara.okafor", "marcus.fenwick"],
                                           "fallback_text": "Record filed: see the channel files"}, key="c2")
    w = _worker(db, school, clock, m)
    await w.drain()
    assert sorted(cid for cid, _ in m.sent) == ["conv-amara", "conv-marcus"]
    assert all("Record filed" in str(card) for _, card in m.sent)
    # Delivering the same row again (at-least-once) does not tell them twice: fallback keys are stable.
    async with db.session() as s:
        assert (await get(s, "c2")).status == "delivered"
