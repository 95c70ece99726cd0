"""The in-doubt check of Teams sends, in process (bot/outbox/indoubt.py): a send whose answer was lost is looked up
in the conversation before it goes again; found → delivered without a second message; not found → sent; no reader
→ the card goes out unmarked, as before (at-least-once)."""

from __future__ import annotations

import json

from bot.effects import teams_handlers
from bot.journeys.base import Services
from bot.messaging import SendError
from bot.outbox import OutboxWorker, enqueue, get
from bot.outbox.indoubt import marker_of, with_marker
from cards.base import validation_errors
from tests.effects.test_teams_effects import CARD, _ref
from tests.fakes.messenger import FakeMessenger


class LostAnswer(FakeMessenger):
    """Teams accepts the first send, but its answer never reaches the bot (a cut connection: status None)."""

    def __init__(self, accept_first: bool):
        super().__init__()
        self.accept_first = accept_first
        self.calls = 0

    async def send_card(self, reference, card, *, text=None):
        self.calls += 1
        if self.calls == 1:
            if self.accept_first:
                await super().send_card(reference, card, text=text)
            raise SendError(None)
        return await super().send_card(reference, card, text=text)


class History:
    """The conversation read back from what the messenger double holds (Graph's chat messages in real Teams)."""

    def __init__(self, messenger: FakeMessenger):
        self.messenger, self.reads = messenger, 0

    async def find(self, reference, marker):
        self.reads += 1
        cid = reference["conversation"]["id"]
        return any(c == cid and f'"{marker}"' in json.dumps(card) for c, card in self.messenger.sent) or False


async def deliver_twice(db, school, clock, messenger, history, rows, *, kind="teams.notify") -> list:
    """Queue `rows` ((key, payload)…), run the outbox once (a first attempt whose answer the messenger may lose),
    five minutes later once more; the rows as they end."""
    async with db.session() as s:
        for key, payload in rows:
            await enqueue(s, kind, payload, key=key)
    services = Services(school=school, db=db, clock=clock)
    w = OutboxWorker(db, teams_handlers(services, messenger, history=history), clock=clock, base_delay=1)
    await w.drain()  # the first attempt: its answer is lost, the row comes back later
    clock.advance(minutes=5)
    await w.drain()
    async with db.session() as s:
        return [await get(s, key) for key, _ in rows]


async def _deliver(db, school, clock, messenger, history):
    await _ref(db, clock, "personal", "tom.hollis", "conv-tom")
    rows = [("n1", {"staff_id": "tom.hollis", "card": CARD})]
    return (await deliver_twice(db, school, clock, messenger, history, rows))[0]


async def test_a_send_teams_accepted_is_found_and_not_sent_again(db, school, clock):
    m = LostAnswer(accept_first=True)
    history = History(m)
    row = await _deliver(db, school, clock, m, history)
    assert row.status == "delivered" and row.result.get("reconciled") is True
    assert len(m.sent) == 1 and m.calls == 1 and history.reads == 1  # one message in Teams, one look
    assert m.sent[0][1]["body"][-1] == {"type": "TextBlock", "id": marker_of(row.id), "text": ".", "isVisible": False}


async def test_a_send_teams_never_got_is_sent_on_the_retry(db, school, clock):
    m = LostAnswer(accept_first=False)
    row = await _deliver(db, school, clock, m, History(m))
    assert row.status == "delivered" and not row.result.get("reconciled")
    assert len(m.sent) == 1 and m.calls == 2


async def test_without_a_reader_the_card_goes_unmarked_and_an_in_doubt_send_goes_again(db, school, clock):
    m = LostAnswer(accept_first=True)
    row = await _deliver(db, school, clock, m, None)
    assert row.status == "delivered"
    assert [card for _, card in m.sent] == [CARD, CARD]  # the known trade-off without a read-back: twice


def test_the_marker_is_an_invisible_valid_element_added_once():
    marked = with_marker(with_marker(CARD, "outbox-7"), "outbox-8")
    assert validation_errors(marked) == []
    assert [b.get("id") for b in marked["body"]] == [None, "outbox-8"]
    assert CARD["body"] == [{"type": "TextBlock", "text": "hello"}]  # the row's card is not changed
