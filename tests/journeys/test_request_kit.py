"""Shared helpers for the request / scheduling / specialist / pool journey tests (no tests of its own).

`kit` drives the real app over HTTP (the `teams` fixture, on SQLite and PostgreSQL) exactly as it is built: the
embedded Microsoft 365 backend as `services.m365`, and the outbox delivered by the app's own worker (Teams kinds to
the connector double, calendar kinds to the Microsoft 365 backend under test), so "both calendars hold the event" is checked against
the calendar's storage itself (`kit.view`: the local store, or the Graph double's events).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.app import SERVICES
from bot.store.models_outbox import OutboxRow
from cards.base import validation_errors
from tests.fakes.m365 import Event, M365Reader
from tests.fakes.teams import Person, person


def texts_of(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def find_action(card: dict, verb: str) -> dict:
    """The Action.Execute with this verb anywhere on the card (actions or an ActionSet)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in card.items() if k != "refresh"})
    assert found, f"no {verb} action on the card: {texts_of(card)[:400]}"
    return found[0]


def find_input(card: dict, input_id: str) -> dict:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and node.get("id") == input_id:
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    assert found, f"no input {input_id}"
    return found[0]


def errors_on(card: dict) -> list[str]:
    """Visible error lines (attention-coloured bold text) on a card."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "TextBlock" and node.get("color") == "attention":
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    return out


@dataclass
class Kit:
    teams: object
    connector: object
    db: object
    clock: object
    school: object
    services: object
    worker: object
    backend: object  # services.m365: the local backend or msgraph (against the Graph double)
    view: M365Reader = None  # what the backend left in Microsoft 365, read from its storage

    def p(self, staff_id: str) -> Person:
        return person(self.school, staff_id)

    async def install(self, *staff_ids: str) -> None:
        for sid in staff_ids:
            await self.teams.install(self.p(sid))
        self.connector.clear()

    async def say(self, staff_id: str, text: str) -> dict:
        """Type a command; returns the one card the bot answers with."""
        before = len(self.connector.sent)
        await self.teams.say(self.p(staff_id), text)
        cards = [att["content"] for s in self.connector.sent[before:] for att in s.activity.get("attachments") or []]
        assert len(cards) == 1, f"expected one card, got {len(cards)}"
        assert not validation_errors(cards[0]), validation_errors(cards[0])
        return cards[0]

    async def click(self, staff_id: str, verb: str, data: dict | None = None, *, valid: bool = True) -> dict | str:
        """Click an Action.Execute; returns the card shown in place (validated) or the message text."""
        status, body = await self.teams.submit(self.p(staff_id), verb, data or {})
        assert status == 200, status
        assert body is not None
        if body.get("type") == "application/vnd.microsoft.card.adaptive":
            card = body["value"]
            if valid:
                assert not validation_errors(card), validation_errors(card)
            return card
        return body.get("value")

    async def press(self, staff_id: str, card: dict, verb: str, inputs: dict | None = None) -> dict | str:
        """Press a button on a card as Teams would: the action's data plus the card's inputs."""
        action = find_action(card, verb)
        data = dict(action.get("data") or {})
        if action.get("associatedInputs", "auto") != "none":
            data.update(inputs or {})
        return await self.click(staff_id, verb, data)

    async def deliver(self) -> int:
        return await self.worker.drain()

    async def open_latest(self, staff_id: str) -> dict:
        """What the person sees of the last card the bot sent them: Teams runs the card's refresh when it is
        shown in a 1:1 chat, so this is the refreshed card (or the card itself when it has no refresh)."""
        card = self.journey_cards(staff_id)[-1]
        action = (card.get("refresh") or {}).get("action")
        if not action:
            return card
        return await self.click(staff_id, action["verb"], action.get("data") or {})

    def sent_to(self, staff_id: str) -> list[dict]:
        """Cards the bot sent or updated in this person's 1:1 chat, in order."""
        conv = self.p(staff_id).conversation_id
        return [
            att["content"]
            for s in self.connector.sent
            if s.conversation_id == conv
            for att in s.activity.get("attachments") or []
        ]

    def journey_cards(self, staff_id: str) -> list[dict]:
        """sent_to, without the outbox's own dead-letter notices to the DSL team (someone else's chat was
        unreachable in a test that did not open it)."""
        return [
            c
            for c in self.sent_to(staff_id)
            if not c["body"][0]
            .get("text", "")
            .startswith(("Something could not be delivered", "A colleague cannot be reached"))
        ]

    async def outbox(self, kind: str | None = None) -> list[OutboxRow]:
        async with self.db.session() as s:
            q = select(OutboxRow).order_by(OutboxRow.id)
            if kind:
                q = q.where(OutboxRow.kind == kind)
            return list((await s.execute(q)).scalars())

    async def events_for(self, staff_id: str) -> list[Event]:
        """Events this person's calendar holds (organiser or attendee), not cancelled, on either backend."""
        return await self.view.events_for(staff_id)


@pytest.fixture
async def kit(teams, connector, db, clock, school, monkeypatch, m365_view):
    services = teams.app[SERVICES]
    # A failed turn logs its type only; at DEBUG the adapter adds the traceback, which a failing test shows.
    import logging

    monkeypatch.setattr(logging.getLogger("bot.teams"), "level", logging.DEBUG)
    return Kit(teams, connector, db, clock, school, services, services.outbox_worker, services.m365, m365_view)


REQUEST_TOM = {
    "kind": "one_to_one",
    "preferred": "priya.raman",
    "topics": "wellbeing,safeguarding",
    "urgency": "week",
    "times": "afternoon",
    "days": "",
    "note": "Feeling stretched this term.",
}


async def tom_requests(k: Kit, answers: dict | None = None) -> tuple[dict, dict]:
    """Tom opens the form and sends it; returns (form, status card shown in place)."""
    form = await k.say("tom.hollis", "request")
    card = await k.press("tom.hollis", form, "request.submit", answers or REQUEST_TOM)
    return form, card
