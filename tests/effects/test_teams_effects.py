"""Teams side effects delivered by the real outbox worker: 1:1 cards, in-place updates, the channel post and
its 1:1 fallback, and what channel errors mean (retry, unreachable)."""

from __future__ import annotations

from sqlalchemy import select

from bot.effects import dead_letter_hook, teams_handlers
from bot.journeys.base import Services
from bot.messaging import SendError
from bot.outbox import OutboxWorker, enqueue, get
from bot.school import Role
from bot.store import conversations
from bot.store.models_outbox import OutboxRow
from tests.fakes.messenger import FakeMessenger

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "hello"}]}


async def _ref(db, clock, kind, key, conv):
    async with db.session() as s:
        await conversations.save_reference(
            s,
            conversations.Reference(
                kind=kind,
                key=key,
                staff_id=key if kind == "personal" else None,
                conversation_id=conv,
                service_url="http://connector",
                reference={"conversation": {"id": conv}},
                channel_name="Safeguarding" if kind == "channel" else None,
            ),
            now=clock(),
        )


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


async def test_person_without_a_chat_gets_the_app_installed_then_the_dsl_is_told_once(db, school, clock):
    """No conversation reference: the bot asks Graph to install the app for them (Teams then tells the bot, and the
    retry finds the reference); if that never happens, the DSL team hears once who cannot be reached."""
    m = FakeMessenger()
    services = Services(school=school, db=db, clock=clock, m365=object())
    worker = OutboxWorker(
        db,
        teams_handlers(services, m),
        clock=clock,
        base_delay=1,
        max_attempts=3,
        on_dead_letter=dead_letter_hook(services),
    )
    async with db.session() as s:
        for n in range(2):  # two messages to the same person: one notice
            await enqueue(s, "teams.notify", {"staff_id": "grace.mensah", "card": CARD}, key=f"n2-{n}")
    await worker.run_once()
    async with db.session() as s:
        row = await get(s, "n2-0")
        installs = (await s.execute(select(OutboxRow).where(OutboxRow.kind == "apps.install"))).scalars().all()
    assert row.status == "pending" and "not installed" in row.last_error
    assert [r.payload for r in installs] == [{"staff_id": "grace.mensah"}]  # one install, however many rows

    # The install worked: Teams sent installationUpdate and the bot saved the reference; the retry delivers.
    await _ref(db, clock, "personal", "grace.mensah", "conv-grace")
    clock.advance(seconds=121)
    await worker.run_once()
    assert m.sent == [("conv-grace", CARD), ("conv-grace", CARD)]

    # Someone the install never reaches: after the attempts, each DSL is told once, naming the person only.
    async with db.session() as s:
        for n in range(2):
            await enqueue(s, "teams.notify", {"staff_id": "tom.hollis", "card": CARD}, key=f"n5-{n}")
    for _ in range(4):
        await worker.run_once()
        clock.advance(seconds=121)
    async with db.session() as s:
        assert (await get(s, "n5-0")).status == "dead"
        notices = (await s.execute(select(OutboxRow).where(OutboxRow.key.like("deadletter:%")))).scalars().all()
    dsl_ids = {p.id for p in school.with_role(Role.DSL)}
    assert sorted(r.payload["staff_id"] for r in notices) == sorted(dsl_ids)
    assert all(
        "Tom Hollis" in str(r.payload["card"]) and CARD["body"][0]["text"] not in str(r.payload["card"])
        for r in notices
    )


async def test_person_without_a_chat_and_no_graph_is_dead_lettered(db, school, clock):
    m = FakeMessenger()
    async with db.session() as s:
        await enqueue(s, "teams.notify", {"staff_id": "grace.mensah", "card": CARD}, key="n2")
    w = _worker(db, school, clock, m)
    for _ in range(4):
        await w.run_once()
        clock.advance(seconds=121)
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
    assert m.sent == []  # Retry-After (7 s) not yet over
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
        await enqueue(
            s,
            "teams.channel",
            {"card": CARD, "fallback_staff_ids": ["amara.okafor"], "fallback_text": "Record filed"},
            key="c1",
        )
    await _worker(db, school, clock, m).drain()
    assert m.sent == [("19:sg@thread", CARD)]


async def test_channel_post_falls_back_to_the_dsl_team_one_to_one(db, school, clock):
    m = FakeMessenger(fail={"19:sg@thread": [SendError(403)]})
    await _ref(db, clock, "channel", "19:sg@thread", "19:sg@thread")
    await _ref(db, clock, "personal", "amara.okafor", "conv-amara")
    await _ref(db, clock, "personal", "marcus.fenwick", "conv-marcus")
    async with db.session() as s:
        await enqueue(
            s,
            "teams.channel",
            {
                "card": CARD,
                "fallback_staff_ids": ["amara.okafor", "marcus.fenwick"],
                "fallback_text": "Record filed: see the channel files",
            },
            key="c2",
        )
    w = _worker(db, school, clock, m)
    await w.drain()
    assert sorted(cid for cid, _ in m.sent) == ["conv-amara", "conv-marcus"]
    assert all("Record filed" in str(card) for _, card in m.sent)
    # Delivering the same row again (at-least-once) does not tell them twice: fallback keys are stable.
    async with db.session() as s:
        assert (await get(s, "c2")).status == "delivered"
