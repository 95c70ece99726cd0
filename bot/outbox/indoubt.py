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

Two readers. In production (the msgraph backend), `GraphChatHistory` reads the bot's recent messages through
Microsoft Graph (graph/msgraph/chats.py; permissions in infra/PERMISSIONS.md §6):

* a 1:1 chat: the personal conversation id `a:…` is not a Graph chat id, so the chat comes from the app's
  installation for the person (`GET /users/{id}/teamwork/installedApps?$expand=teamsAppDefinition&$filter=…`, then
  `…/installedApps/{installation-id}/chat`, once per person per process), then `GET /chats/{chat-id}/messages?$top=50`
  (https://learn.microsoft.com/en-us/graph/api/userscopeteamsappinstallation-get-chat,
  https://learn.microsoft.com/en-us/graph/api/chat-list-messages);
* the Safeguarding channel: `GET /teams/{team-id}/channels/{channel-id}/messages?$top=50`, the channel id being the
  conversation id before any `;messageid=` (https://learn.microsoft.com/en-us/graph/api/channel-list-messages);
  RSC `ChannelMessage.Read.Group` in the manifest
  (https://learn.microsoft.com/en-us/microsoftteams/platform/graph-api/rsc/resource-specific-consent).

Any failure — 403 without consent, 404, throttling after the SDK's retries, a timeout — is "cannot tell" (None): the
send goes again, and the log line names the kind of failure, never a message. `HttpChatHistory` reads the same
shape from a base URL: the connector double in tests, `TEAMS_HISTORY_URL` in local mode (bench/README.md, "faults").
"""

from __future__ import annotations

import asyncio
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
        return carrying(
            marker,
            (
                (
                    m.get("id"),
                    [
                        c if isinstance(c, str) else json.dumps(c or {})
                        for c in (a.get("content") for a in m.get("attachments") or [])
                    ],
                )
                for m in messages
            ),
        )


def carrying(marker: str, messages) -> str | bool:
    """The id of the first message (id, attachment contents as text) whose card holds the marker as an element id
    (True if it has no id); False if none does."""
    needle = f'"{marker}"'
    for message_id, contents in messages:
        if any(needle in text for text in contents):
            return message_id or True
    return False


def _kind(reference: dict, conversation_id: str) -> str:
    kind = ((reference or {}).get("conversation") or {}).get("conversationType")
    if kind:
        return kind
    # A reference without Teams' word for it: channel ids are thread ids, personal ones start "a:".
    return "channel" if conversation_id.startswith("19:") and "@thread" in conversation_id else "personal"


class GraphChatHistory:
    """Reads the bot's recent messages through Microsoft Graph (graph.msgraph.chats.GraphChats): a person's 1:1 chat
    with the bot, or the school's Safeguarding channel when the team id is known. Never raises: None when it
    cannot tell."""

    def __init__(self, chats, *, team_id: str | None, timeout: float = 20.0):
        self.chats = chats
        self.team_id = team_id or None
        self.timeout = timeout  # the whole look-up (up to three Graph calls, the SDK's retries included)

    async def find(self, reference: dict, marker: str) -> str | bool | None:
        conv = ((reference or {}).get("conversation") or {}).get("id") or ""
        if not conv:
            return None
        try:
            return await asyncio.wait_for(self._find(reference, conv, marker), self.timeout)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the answer is "cannot tell"
            log.warning(
                "chat history unavailable (%s%s): the in-doubt send goes again",
                type(exc).__name__,
                f" {exc.status}" if getattr(exc, "status", None) else "",
            )
            return None

    async def _find(self, reference: dict, conv: str, marker: str) -> str | bool | None:
        kind = _kind(reference, conv)
        if kind == "channel":
            if not self.team_id:
                return None  # the Graph team id is the school config's; without it the channel cannot be read
            messages = await self.chats.channel_messages(self.team_id, conv.split(";messageid=", 1)[0])
        elif kind == "personal":
            user = ((reference or {}).get("user") or {}).get("aadObjectId")
            if not user:
                return None
            messages = await self.chats.chat_messages(await self.chats.personal_chat_id(user))
        else:
            return None  # a group chat: the outbox never sends there (and the app holds no permission to read one)
        return carrying(marker, messages)


def chat_history_for(m365, *, local_url: str = "") -> ChatHistory | None:
    """The reader a school's Teams sends use: the msgraph backend's (its Safeguarding team id from the school
    config or GRAPH_TEAM_ID); else, in local mode, TEAMS_HISTORY_URL's; else none (an in-doubt send goes again)."""
    chats = getattr(m365, "chats", None)
    if chats is not None:
        return GraphChatHistory(chats, team_id=getattr(m365, "team_id", None))
    return HttpChatHistory(local_url) if local_url else None
