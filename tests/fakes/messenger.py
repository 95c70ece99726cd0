"""A Messenger double: records cards per conversation and can answer with channel errors."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.messaging import SendError


@dataclass
class FakeMessenger:
    sent: list[tuple[str, dict]] = field(default_factory=list)  # (conversation id, card)
    updated: list[tuple[str, str, dict]] = field(default_factory=list)
    fail: dict[str, list[SendError]] = field(default_factory=dict)  # conversation id → errors to raise next
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def send_card(self, reference: dict, card: dict, *, text: str | None = None) -> str:
        cid = reference["conversation"]["id"]
        errs = self.fail.get(cid)
        if errs:
            raise errs.pop(0)
        self.sent.append((cid, card))
        return f"activity-{next(self._ids)}"

    async def update_card(self, reference: dict, activity_id: str, card: dict) -> None:
        cid = reference["conversation"]["id"]
        errs = self.fail.get(cid)
        if errs:
            raise errs.pop(0)
        self.updated.append((cid, activity_id, card))
