"""Drive the real bot over HTTP like Teams would: hand-built activities posted to /api/messages, replies
collected by the connector double. Used by journey tests (layer 2 of GUIDE §4)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from aiohttp import ClientSession, web

from tests.fakes.connector import ConnectorDouble

TENANT = "00000000-0000-0000-0000-0000000000aa"
BOT = {"id": "28:kestrel-bot", "name": "Supervision"}
_ids = itertools.count(1)


@dataclass
class Person:
    staff_id: str
    aad_object_id: str
    name: str

    @property
    def account(self) -> dict:
        return {"id": f"29:{self.staff_id}", "name": self.name, "aadObjectId": self.aad_object_id}

    @property
    def conversation_id(self) -> str:
        return f"a:personal-{self.staff_id}"


def person(school, staff_id: str) -> Person:
    s = school.staff[staff_id]
    return Person(s.id, s.aad_object_id, s.name)


class TeamsDriver:
    """Posts activities to a running app and returns what the bot answered (HTTP body and connector posts)."""

    def __init__(self, app: web.Application, connector: ConnectorDouble):
        self.app = app
        self.connector = connector
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.http: ClientSession | None = None

    async def start(self) -> TeamsDriver:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/api/messages"
        self.http = ClientSession()
        return self

    async def stop(self) -> None:
        if self.http:
            await self.http.close()
        if self._runner:
            await self._runner.cleanup()

    def _base(self, who: Person, *, kind: str = "personal", channel: dict | None = None) -> dict:
        conv = {"id": who.conversation_id, "conversationType": kind, "tenantId": TENANT}
        cd: dict = {"tenant": {"id": TENANT}}
        if kind == "channel" and channel:
            conv["id"] = f"{channel['id']};messageid={next(_ids)}"
            cd.update({"channel": channel, "team": {"id": "kb-team", "name": "Kestrel Brook Staff"}})
        return {
            "id": f"act-{next(_ids)}",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": who.account,
            "recipient": BOT,
            "conversation": conv,
            "channelData": cd,
            "timestamp": "2026-11-23T10:00:00.000Z",
            "locale": "en-GB",
        }

    async def post(self, activity: dict) -> tuple[int, dict | None]:
        assert self.http is not None
        async with self.http.post(self.url, json=activity) as r:
            body = await r.json() if r.content_type == "application/json" else None
            return r.status, body

    async def say(self, who: Person, text: str, **kw) -> int:
        """Send a typed message; replies arrive at the connector double."""
        act = self._base(who, **kw) | {"type": "message", "text": text}
        status, _ = await self.post(act)
        return status

    async def submit(
        self, who: Person, verb: str, data: dict | None = None, *, reply_to: str | None = None, **kw
    ) -> tuple[int, dict | None]:
        """Click an Action.Execute button: returns (status, the card/message Teams would show in place)."""
        act = self._base(who, **kw) | {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "replyToId": reply_to or f"msg-{uuid.uuid4().hex[:6]}",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data or {}}, "trigger": "manual"},
        }
        status, body = await self.post(act)
        if body and "body" in body:  # botbuilder wraps the invoke response
            body = body["body"]
        return status, body

    async def install(self, who: Person) -> int:
        act = self._base(who) | {"type": "conversationUpdate", "membersAdded": [BOT, who.account]}
        status, _ = await self.post(act)
        return status
