"""One deployment, several schools, at run time (issue 10): each school gets its own Services (its roster, calendar,
Safeguarding channel and a database view that sees only its rows); the deployment's shared parts — the router, the
outbox worker, one rate limiter per Microsoft 365 tenant — deliver for each school as that school.

How a turn finds its school is in `bot/teams/handler.py` (the tenant's team and channel, the person's roster entry,
a card's school stamp when the person is on that school's roster). Cards a school sends carry its key in every
action's data (`stamp_school`), so a click comes back to the school that sent it; a stamp is only a hint — the
person must be on that school's roster, and every read is scoped to the school anyway.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.outbox.errors import PermanentFailure
from bot.store.tenancy import CURRENT_SCHOOL

#: The card data field naming the school that sent a card.
SCHOOL_FIELD = "school"
_ACTIONS = ("Action.Execute", "Action.Submit")


def stamp_school(card: dict | None, key: str) -> dict | None:
    """A copy of `card` whose every Action.Execute / Action.Submit carries `"school": key` in its data."""
    if not isinstance(card, dict):
        return card
    out = copy.deepcopy(card)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in _ACTIONS:
                data = node.get("data")
                if data is None:
                    node["data"] = {SCHOOL_FIELD: key}
                elif isinstance(data, dict):
                    data.setdefault(SCHOOL_FIELD, key)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(out)
    return out


class SchoolMessenger:
    """A school's proactive sends: the tenant's throttled messenger, with the school stamped on every card."""

    def __init__(self, inner, key: str):
        self.inner = inner
        self.key = key

    async def send_card(self, reference: dict, card: dict, *, text: str | None = None):
        return await self.inner.send_card(reference, stamp_school(card, self.key), text=text)

    async def update_card(self, reference: dict, activity_id: str, card: dict):
        return await self.inner.update_card(reference, activity_id, stamp_school(card, self.key))

    def __getattr__(self, name):
        return getattr(self.inner, name)


def stamping_sender(send: Callable[..., Awaitable[Any]], key: str) -> Callable[..., Awaitable[Any]]:
    """The reminder fan-out's raw sender for one school (cards stamped with the school)."""

    async def sender(reference, card, *args, **kwargs):
        return await send(reference, stamp_school(card, key), *args, **kwargs)

    return sender


def by_school(per_school: Mapping[str, Mapping[str, Callable]], default: str) -> dict[str, Callable]:
    """One outbox handler per kind that runs the handler of the row's school (the worker sets CURRENT_SCHOOL from the
    row). A row from before schools, or from a deployment-level session, is the first school's."""
    kinds = {k for handlers in per_school.values() for k in handlers}

    def one(kind: str):
        async def handler(payload: dict, *attempt):
            key = CURRENT_SCHOOL.get() or default
            handlers = per_school.get(key)
            if handlers is None or kind not in handlers:
                raise PermanentFailure(f"no school {key!r} in this deployment to deliver a {kind}")
            inner = handlers[kind]
            return await (inner(payload, *attempt) if getattr(inner, "in_doubt_aware", False) else inner(payload))

        # Teams sends mark their row in doubt before sending (bot/outbox/indoubt.py): pass the attempt through.
        handler.in_doubt_aware = any(getattr(h.get(kind), "in_doubt_aware", False) for h in per_school.values())
        return handler

    return {k: one(k) for k in sorted(kinds)}


def hook_by_school(per_school: Mapping[str, Callable], default: str) -> Callable:
    """The outbox's on_delivered / on_dead_letter hook of the row's school."""

    async def hook(*args):
        key = CURRENT_SCHOOL.get() or default
        h = per_school.get(key)
        if h is None:
            return None
        return await h(*args)

    return hook
