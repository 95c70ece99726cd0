"""In-doubt sends: a Teams message whose send was on the wire when the process died.

The Bot Framework connector's send-to-conversation takes no idempotency key, and the connector has no call to
read a conversation's activities back, so the outbox alone cannot know whether Teams accepted a send it never
heard the answer to. Each Teams send therefore:

1. carries a marker in the card it sends (`outbox-<row id>`, the id of a hidden TextBlock at the end of the body,
   so it is in the message's content wherever the message is read back);
2. commits that marker on its row (`result = {"in_doubt": …}`) *before* the send, in its own transaction;
3. on a later attempt of a row with such a mark, asks a `ChatHistory` whether the conversation already holds a
   message with the marker: found → the row is delivered without sending again; not found → sent; no reader,
   or it cannot tell → sent again (a message twice is the lesser harm than one never delivered).

The reader in production is Microsoft Graph, `GET /chats/{chat-id}/messages` (application permission
ChatMessage.Read.Chat by RSC, or Chat.Read.All; the 1:1 chat's Graph id from
`GET /users/{id}/teamwork/installedApps/{installation-id}/chat`, since a personal conversation id `a:…` is not a
Graph chat id) — not wired yet (bench/README.md, "faults"). `HttpChatHistory` reads the same shape from a base URL:
the connector double in tests, `TEAMS_HISTORY_URL` in local mode.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

log = logging.getLogger(__name__)


def marker_of(row_id: int) -> str:
    return f"outbox-{row_id}"


def with_marker(card: dict, marker: str) -> dict:
    """The card with an invisible element whose id is the marker (a copy; schema 1.5 valid; no text of its own)."""
    body = [b for b in (card.get("body") or []) if not str((b or {}).get("id", "")).startswith("outbox-")]
    body.append({"type": "TextBlock", "id": marker, "text": ".", "isVisible": False})
    return {**card, "body": body}


@dataclass(frozen=True)
class Attempt:
    """What the worker tells an in-doubt-aware handler about this delivery of its row."""

    row_id: int
    key: str
    attempts: int
    previous: dict | None  # the in-doubt mark an earlier attempt committed (None: no send was ever started)
    mark: Callable[[dict], Awaitable[bool]]  # commit the in-doubt mark now; False if the lease was lost
    clock: Callable[[], dt.datetime]

    @property
    def marker(self) -> str:
        return marker_of(self.row_id)

    @property
    def in_doubt(self) -> bool:
        return bool(self.previous)

    async def before_send(self, conversation_id: str | None) -> bool:
        return await self.mark({"marker": self.marker, "conversation": conversation_id, "at": self.clock().isoformat()})


class ChatHistory(Protocol):
    async def find(self, reference: dict, marker: str) -> str | bool | None:
        """The id of the message carrying `marker` in the reference's conversation (True if found without an id),
        False if the conversation has no such message, None if it cannot tell."""


class HttpChatHistory:
    """Reads a conversation's messages in Graph's shape (`{"value": [chatMessage…]}`) from `base_url`."""

    def __init__(self, base_url: str, *, top: int = 50):
        self.base_url = base_url.rstrip("/")
        self.top = top

    async def find(self, reference: dict, marker: str) -> str | bool | None:
        from aiohttp import ClientError, ClientSession, ClientTimeout

        conv = ((reference or {}).get("conversation") or {}).get("id")
        if not conv:
            return None
        # Graph: $top ≤ 50, newest first by default; the marked message is recent, so one page is enough.
        url = f"{self.base_url}/v1.0/chats/{quote(conv, safe='')}/messages?$top={self.top}"
        try:
            async with ClientSession(timeout=ClientTimeout(total=10)) as http, http.get(url) as r:
                if r.status != 200:
                    return None
                messages = (await r.json()).get("value") or []
        except (ClientError, TimeoutError, ValueError) as exc:
            log.warning("chat history unavailable: %s", type(exc).__name__)
            return None
        for m in messages:
            for att in m.get("attachments") or []:
                content = att.get("content")
                text = content if isinstance(content, str) else json.dumps(content or {})
                if f'"{marker}"' in text:
                    return m.get("id") or True
        return False
