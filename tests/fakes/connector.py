"""A Bot Framework connector double: accepts the bot's replies and proactive sends, records them.

The bot posts replies to `{serviceUrl}/v3/conversations/{id}/activities[/{replyToId}]`; pointing an activity's
serviceUrl at this server lets tests see exactly what a Teams client would receive."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Sent:
    conversation_id: str
    activity: dict
    reply_to: str | None = None
    updated: bool = False
    authorization: str | None = None  # the Authorization header the bot sent (None in local mode)
    activity_id: str | None = None  # the id the double answered with (what Teams would give the message)


@dataclass
class ConnectorDouble:
    host: str = "127.0.0.1"
    port: int = 0
    sent: list[Sent] = field(default_factory=list)
    # Optional fault injection: status codes to answer for the next N posts (e.g. [429, 503]).
    faults: list[int] = field(default_factory=list)
    retry_after: float = 0.0
    # Seconds a post takes to be answered once it is recorded (Teams has the message; the sender is still waiting).
    delay: float = 0.0
    history_reads: int = 0  # how often the bot read a conversation back (its in-doubt check)
    # Posts to a conversation whose id starts with `hold` are recorded (Teams has them) and then not answered until
    # `release()`: a send that is certainly on the wire, for a test to kill the bot during. `held` counts them.
    hold: str | None = None
    held: int = 0
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> ConnectorDouble:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._put)
        app.router.add_post("/v3/conversations", self._create)
        # A conversation's messages read back, in Graph's shape (GET /chats/{chat-id}/messages): what the bot's
        # in-doubt check reads (bot/outbox/indoubt.py). Real Teams serves this from Graph, not the connector.
        app.router.add_get("/v1.0/chats/{cid}/messages", self._history)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        if self.faults:
            status = self.faults.pop(0)
            headers = {"Retry-After": str(self.retry_after)} if status == 429 else {}
            return web.json_response({"error": {"code": str(status)}}, status=status, headers=headers)
        body = await request.json()
        activity_id = str(uuid.uuid4())
        self.sent.append(
            Sent(
                request.match_info["cid"],
                body,
                request.match_info.get("aid"),
                authorization=request.headers.get("Authorization"),
                activity_id=activity_id,
            )
        )
        self._event.set()
        if self.hold and request.match_info["cid"].startswith(self.hold):
            self.held += 1
            await self._released.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"id": activity_id})

    def release(self) -> None:
        """Answer the held posts (their sender may be long dead) and hold no more."""
        self.hold = None
        self._released.set()

    async def _history(self, request: web.Request) -> web.Response:
        """Newest first, card attachments with their content as a JSON string, as Graph's chatMessage has them."""
        self.history_reads += 1
        cid = request.match_info["cid"]
        top = int(request.query.get("$top", "50"))
        out = []
        for s in reversed(self.sent):
            if s.updated or s.conversation_id.split(";")[0] != cid.split(";")[0]:
                continue
            atts = [
                {"contentType": a.get("contentType"), "content": json.dumps(a.get("content"))}
                for a in s.activity.get("attachments") or []
            ]
            out.append({"id": s.activity_id, "messageType": "message", "attachments": atts})
        return web.json_response({"value": out[:top]})

    async def _put(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(
            Sent(
                request.match_info["cid"],
                body,
                request.match_info.get("aid"),
                updated=True,
                authorization=request.headers.get("Authorization"),
            )
        )
        self._event.set()
        return web.json_response({"id": request.match_info["aid"]})

    async def _create(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"conv-{uuid.uuid4().hex[:8]}"})

    def cards(self) -> list[dict]:
        out = []
        for s in self.sent:
            for att in s.activity.get("attachments") or []:
                if att.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    out.append(att["content"])
        return out

    def texts(self) -> list[str]:
        return [s.activity.get("text") for s in self.sent if s.activity.get("text")]

    def clear(self) -> None:
        self.sent.clear()
