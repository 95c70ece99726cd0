"""A Microsoft Graph double: an aiohttp server on 127.0.0.1 (random port) with exactly the endpoints the bot uses.

The real msgraph-sdk talks to it (tests point the request adapter's base URL here). Behaviour follows Graph
where our code depends on it:

* `Authorization: Bearer <token>` is required on every /v1.0 call (401 InvalidAuthenticationToken otherwise);
  upload-session URLs are pre-authenticated and refuse an Authorization header, as Graph's do.
* paging with absolute `@odata.nextLink`; `$top` honoured up to `page_size`;
* files: path addressing `items/{parent}:/{path}:/content`, missing folders created, names compared without
  case, `@microsoft.graph.conflictBehavior=fail` → 409 nameAlreadyExists (default behaviour is replace, so a
  client that forgets the parameter overwrites — and the test sees it); quickXorHash on every file;
* upload sessions: createUploadSession → uploadUrl; PUT byte ranges with Content-Range, each chunk but the last
  a multiple of 320 KiB, 202 with nextExpectedRanges, 201 with the item at the end (409 if the name was taken
  meanwhile);
* $batch: ≤ 20 sub-requests, each answered with its own status (faults apply per sub-request, a 429 carries
  Retry-After in the sub-response headers), responses in a different order from the requests;
* calendar: getSchedule (≤ 20 schedules, window < 62 days, interval 5–1440, unknown mailboxes answered with a
  per-schedule error), events with transactionId dedupe (same event back), PATCH, cancel (removes it), DELETE;
* invite / permissions (list, delete one), installedApps (409 when already installed; the list honours
  `$filter=teamsApp/id eq '…'` and `$expand=teamsAppDefinition`), users, transitive group members, manager;
* Teams messages, read only: the chat between a user and an installed app (`…/installedApps/{id}/chat`, one stable
  `19:…@unq.gbl.spaces` id per pair), `GET /chats/{id}/messages` and `GET /teams/{t}/channels/{c}/messages`
  (newest first, `$top` ≤ 50, 400 above); `post_to_chat` / `post_to_channel` put a bot's card there;
* group delta (`GET /groups/delta?$filter=id eq '…' or …&$select=members`): direct-member changes as
  `members@delta` (removals carry `@removed`), ≤ 50 filtered ids, paged with `@odata.nextLink` — a big group's
  members are split over several pages, the same group object repeated, as Graph does — and a final
  `@odata.deltaLink` whose token carries the filter; `expire_delta_tokens()` makes older links answer 410.

Fault injection per route: `double.fail("POST", r"/users/.*/events", status=429, retry_after=3, times=2)`,
`double.slow("GET", r"/users/", delay=2.0)`; `header=("Content-Range", "<regex>")` narrows a fault to
requests whose header matches, `lose_answer=True` makes the change and then answers with the fault (the answer
lost on the way back). `down()` / `up()`: every route answers 503 until brought back. Every request is recorded (method, path, query, json body, headers,
whether it came inside a $batch) for assertions by URL, method and body.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import itertools
import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import CIMultiDict

from graph.naming import quickxor_hash

CHUNK_UNIT = 320 * 1024
Response = tuple[int, Any, dict[str, str]]


@dataclasses.dataclass
class Recorded:
    method: str
    path: str  # relative to /v1.0 (or /upload/<id> for upload sessions), decoded
    query: dict[str, str]
    json: Any
    headers: CIMultiDict  # case-insensitive, as HTTP headers are
    in_batch: bool = False
    body_size: int = 0
    status: int | None = None


@dataclasses.dataclass
class Fault:
    method: str
    pattern: re.Pattern
    status: int | None
    retry_after: float | None
    times: int | None
    delay: float
    body: Any
    in_batch: bool | None
    hits: int = 0
    #: Only requests whose header matches: (name, regex), e.g. the last chunk's Content-Range.
    header: tuple[str, re.Pattern] | None = None
    #: Do the work, then answer with the fault: the change is made but the caller never hears of it.
    lose_answer: bool = False

    def matches(self, method: str, path: str, in_batch: bool, headers=None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.header is not None and not (
            headers is not None and self.header[1].search(headers.get(self.header[0], ""))
        ):
            return False
        if self.method not in ("*", method):
            return False
        if self.in_batch is not None and self.in_batch != in_batch:
            return False
        return bool(self.pattern.search(path))


@dataclasses.dataclass
class Item:
    id: str
    name: str
    parent: str | None
    folder: bool
    content: bytes = b""
    created: str = ""


@dataclasses.dataclass
class Drive:
    id: str
    owner: str | None  # user id for a OneDrive, None for a channel's document library
    site: str
    items: dict[str, Item] = dataclasses.field(default_factory=dict)

    @property
    def root(self) -> Item:
        return self.items[f"{self.id}!root"]


def _err(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return (
        status,
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {"request-id": str(uuid.uuid4()), "date": _now_iso()},
            }
        },
        headers or {},
    )


def _ci(body: Any) -> dict:
    """An action's parameters, matched without case: Graph accepts msgraph-sdk's PascalCase ("Schedules",
    "StartTime" — how the SDK serialises getSchedule) as well as the camelCase its docs show."""
    if not isinstance(body, dict):
        return {}
    return {k[:1].lower() + k[1:]: v for k, v in body.items()}


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_dtz(v: dict | None) -> dt.datetime | None:
    if not v or "dateTime" not in v:
        return None
    raw = v["dateTime"].rstrip("Z")
    if "." in raw:
        head, frac = raw.split(".", 1)
        raw = f"{head}.{frac[:6]}"
    value = dt.datetime.fromisoformat(raw)
    tz = v.get("timeZone") or "UTC"
    zone = dt.timezone.utc if tz.upper() == "UTC" else ZoneInfo(tz)
    return value.replace(tzinfo=zone).astimezone(dt.timezone.utc)


def _dtz(value: dt.datetime) -> dict:
    return {"dateTime": value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


class GraphDouble:
    def __init__(self, *, token: str = "test-token", page_size: int = 100, tenant_domain: str = "kestrelbrook"):
        self.token = token
        self.page_size = page_size
        self.tenant_domain = tenant_domain
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.users: dict[str, dict] = {}
        self.managers: dict[str, str] = {}
        self.groups: dict[str, list[str]] = {}
        self.events: dict[str, dict] = {}
        self.drives: dict[str, Drive] = {}
        self.channels: dict[tuple[str, str], tuple[str, str]] = {}
        self.user_drives: dict[str, str] = {}
        self.permissions: dict[tuple[str, str], list[dict]] = {}
        self.catalog: set[str] = set()
        # Membership change log for group delta: (seq, group id, member id, "user" | "group", removed).
        self.member_log: list[tuple[int, str, str, str, bool]] = []
        self.delta_epoch = 0  # bumped by expire_delta_tokens: links from an older epoch answer 410
        self.installed: dict[str, set[str]] = {}
        # Teams messages, newest last: Graph chat id (a 1:1 chat with the app) or (team id, channel id) → messages.
        self.chat_messages: dict[str, list[dict]] = {}
        self.channel_messages: dict[tuple[str, str], list[dict]] = {}
        self._message_seq = itertools.count(1)
        self.sessions: dict[str, dict] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._routes: list[tuple[str, re.Pattern, Callable]] = [
            ("GET", re.compile(r"^/users/(?P<u>[^/]+)$"), self._get_user),
            ("GET", re.compile(r"^/users/(?P<u>[^/]+)/manager$"), self._get_manager),
            ("GET", re.compile(r"^/groups/(?:microsoft\.graph\.)?delta(?:\(\))?$"), self._groups_delta),
            (
                "GET",
                re.compile(
                    r"^/groups/(?P<g>[^/]+)/(?P<rel>transitiveMembers|members)"
                    r"/(?:microsoft\.)?graph\.user$"
                ),
                self._group_members,
            ),
            ("POST", re.compile(r"^/users/(?P<u>[^/]+)/calendar/getSchedule$"), self._get_schedule),
            ("POST", re.compile(r"^/users/(?P<u>[^/]+)/events$"), self._create_event),
            ("GET", re.compile(r"^/users/(?P<u>[^/]+)/events/(?P<e>[^/]+)$"), self._get_event),
            ("PATCH", re.compile(r"^/users/(?P<u>[^/]+)/events/(?P<e>[^/]+)$"), self._patch_event),
            ("DELETE", re.compile(r"^/users/(?P<u>[^/]+)/events/(?P<e>[^/]+)$"), self._delete_event),
            ("POST", re.compile(r"^/users/(?P<u>[^/]+)/events/(?P<e>[^/]+)/cancel$"), self._cancel_event),
            ("GET", re.compile(r"^/teams/(?P<t>[^/]+)/channels/(?P<c>[^/]+)/filesFolder$"), self._files_folder),
            ("GET", re.compile(r"^/users/(?P<u>[^/]+)/drive$"), self._user_drive),
            ("POST", re.compile(r"^/users/(?P<u>[^/]+)/teamwork/installedApps$"), self._install_app),
            ("GET", re.compile(r"^/users/(?P<u>[^/]+)/teamwork/installedApps$"), self._list_apps),
            ("GET", re.compile(r"^/users/(?P<u>[^/]+)/teamwork/installedApps/(?P<i>[^/]+)/chat$"), self._app_chat),
            ("GET", re.compile(r"^/chats/(?P<chat>[^/]+)/messages$"), self._chat_messages),
            ("GET", re.compile(r"^/teams/(?P<t>[^/]+)/channels/(?P<c>[^/]+)/messages$"), self._channel_messages),
            ("*", re.compile(r"^/drives/(?P<d>[^/]+)/items/(?P<rest>.+)$"), self._drive_items),
        ]

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> GraphDouble:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._entry)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> GraphDouble:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------ seeding

    def add_user(
        self,
        id: str,
        display_name: str,
        mail: str,
        *,
        upn: str | None = None,
        job_title: str | None = None,
        account_enabled: bool = True,
        manager: str | None = None,
    ) -> dict:
        self.users[id] = {
            "id": id,
            "displayName": display_name,
            "mail": mail,
            "userPrincipalName": upn or mail,
            "jobTitle": job_title,
            "accountEnabled": account_enabled,
        }
        if manager:
            self.managers[id] = manager
        return self.users[id]

    def add_group(self, id: str, members: list[str]) -> None:
        """Members are user ids or other group ids (nested groups count for transitiveMembers)."""
        self.groups[id] = []
        for m in members:
            self.add_member(id, m)

    def add_member(self, group_id: str, member: str) -> None:
        if member not in self.groups.setdefault(group_id, []):
            self.groups[group_id].append(member)
            self._log(group_id, member, removed=False)

    def remove_member(self, group_id: str, member: str) -> None:
        if member in self.groups.get(group_id, []):
            self.groups[group_id].remove(member)
            self._log(group_id, member, removed=True)

    def expire_delta_tokens(self) -> None:
        """Every delta link handed out so far now answers 410 Gone (a token older than Graph keeps)."""
        self.delta_epoch += 1

    def _log(self, group_id: str, member: str, *, removed: bool) -> None:
        kind = "group" if member in self.groups and member not in self.users else "user"
        self.member_log.append((len(self.member_log) + 1, group_id, member, kind, removed))

    def add_channel(self, team_id: str, channel_id: str, name: str = "Safeguarding") -> tuple[str, str]:
        """A channel with its own SharePoint site (as a private channel has); returns (drive id, folder id)."""
        drive = self._new_drive(owner=None, site=f"{name}-{channel_id[-6:]}")
        folder = self._new_item(drive, name, drive.root.id, folder=True)
        self.channels[(team_id, channel_id)] = (drive.id, folder.id)
        return drive.id, folder.id

    def add_catalog_app(self, app_id: str) -> None:
        self.catalog.add(app_id)

    def personal_chat_id(self, user: str, app_id: str) -> str:
        """The Graph id of the 1:1 chat between a user and an app (what Teams would create on install)."""
        u = self._user(user)
        uid = u["id"] if u else user
        digest = uuid.uuid5(uuid.NAMESPACE_URL, f"{uid}|{app_id}").hex
        return f"19:{uid}_{digest}@unq.gbl.spaces"

    def post_to_chat(self, chat_id: str, card: dict, *, text: str | None = None) -> dict:
        """A message from the bot carrying an Adaptive Card, as Graph shows it (the card JSON as a string)."""
        return self._post(self.chat_messages.setdefault(chat_id, []), card, text, chat_id=chat_id)

    def post_to_channel(self, team_id: str, channel_id: str, card: dict) -> dict:
        return self._post(self.channel_messages.setdefault((team_id, channel_id), []), card, None, chat_id=None)

    def _post(self, into: list[dict], card: dict, text: str | None, *, chat_id: str | None) -> dict:
        att_id = uuid.uuid4().hex
        m = {
            "id": str(1_700_000_000_000 + next(self._message_seq)),
            "messageType": "message",
            "createdDateTime": _now_iso(),
            "lastModifiedDateTime": _now_iso(),
            "chatId": chat_id,
            "from": {"application": {"id": "bot", "displayName": "Supervision", "applicationIdentityType": "bot"}},
            "body": {"contentType": "html", "content": f'{text or ""}<attachment id="{att_id}"></attachment>'},
            "attachments": [
                {
                    "id": att_id,
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": json.dumps(card),
                    "contentUrl": None,
                    "name": None,
                    "thumbnailUrl": None,
                }
            ],
        }
        into.append(m)
        return m

    # ------------------------------------------------------------ faults and inspection

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int = 429,
        retry_after: float | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        body: Any = None,
        in_batch: bool | None = None,
        header: tuple[str, str] | None = None,
        lose_answer: bool = False,
    ) -> Fault:
        f = Fault(
            method.upper(),
            re.compile(path),
            status,
            retry_after,
            times,
            delay,
            body,
            in_batch,
            header=(header[0], re.compile(header[1])) if header else None,
            lose_answer=lose_answer,
        )
        self.faults.append(f)
        return f

    def slow(self, method: str, path: str, delay: float, *, times: int | None = None) -> Fault:
        f = Fault(method.upper(), re.compile(path), None, None, times, delay, None, None)
        self.faults.append(f)
        return f

    def down(self, status: int = 503, retry_after: float | None = None) -> Fault:
        """Graph unavailable on every route (including upload sessions) until `up()`."""
        self._outage = self.fail("*", r".", status=status, retry_after=retry_after, times=None)
        return self._outage

    def up(self) -> None:
        outage = getattr(self, "_outage", None)
        if outage in self.faults:
            self.faults.remove(outage)

    def find(self, method: str, path: str, *, in_batch: bool | None = None) -> list[Recorded]:
        pat = re.compile(path)
        return [
            r
            for r in self.requests
            if r.method == method.upper() and pat.search(r.path) and (in_batch is None or r.in_batch == in_batch)
        ]

    def files(self, drive_id: str) -> dict[str, bytes]:
        """Every file in a drive by its path from the drive root ("Safeguarding/Record.docx")."""
        d = self.drives[drive_id]
        return {self._path_of(d, i): i.content for i in d.items.values() if not i.folder}

    def user_drive_id(self, user: str) -> str | None:
        u = self._user(user)
        return self.user_drives.get(u["id"]) if u else None

    # ------------------------------------------------------------ HTTP entry

    async def _entry(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        path = request.path
        if path.startswith("/upload/"):
            rec = Recorded(
                request.method, path, dict(request.query), None, CIMultiDict(request.headers), body_size=len(raw)
            )
            self.requests.append(rec)
            status, body, headers = await self._with_faults(
                request.method, path, False, lambda: self._upload_chunk(request, path, raw), request.headers
            )
            rec.status = status
            return self._respond(status, body, headers)
        if path.startswith("/download/"):
            rec = Recorded(request.method, path, dict(request.query), None, CIMultiDict(request.headers))
            self.requests.append(rec)
            _, did, iid = path.split("/", 3)[1:]
            item = self.drives.get(did, Drive("", None, "")).items.get(iid)
            rec.status = 200 if item is not None else 404
            if item is None:
                return self._respond(*_err(404, "itemNotFound", "The resource could not be found."))
            return web.Response(status=200, body=item.content, content_type="application/octet-stream")
        if not path.startswith("/v1.0/"):
            return self._respond(*_err(404, "UnknownVersion", "Only /v1.0 is served by the double"))
        path = path[len("/v1.0") :]
        body = None
        if raw and "json" in (request.headers.get("Content-Type") or ""):
            try:
                body = json.loads(raw)
            except ValueError:
                return self._respond(*_err(400, "BadRequest", "Invalid JSON body"))
        rec = Recorded(
            request.method, path, dict(request.query), body, CIMultiDict(request.headers), body_size=len(raw)
        )
        self.requests.append(rec)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            rec.status = 401
            return self._respond(*_err(401, "InvalidAuthenticationToken", "Access token is empty or invalid."))
        if request.method == "POST" and path == "/$batch":
            status, out, headers = await self._with_faults("POST", path, False, lambda: self._batch(body))
        else:
            status, out, headers = await self._with_faults(
                request.method,
                path,
                False,
                lambda: self._dispatch(request.method, path, dict(request.query), body, raw, request.headers),
                request.headers,
            )
        rec.status = status
        return self._respond(status, out, headers)

    def _respond(self, status: int, body: Any, headers: dict[str, str]) -> web.Response:
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)

    async def _with_faults(self, method: str, path: str, in_batch: bool, call, headers=None) -> Response:
        for f in self.faults:
            if f.matches(method, path, in_batch, headers):
                f.hits += 1
                if f.delay:
                    await asyncio.sleep(f.delay)
                if f.status is not None:
                    if f.lose_answer:
                        done = call()
                        if asyncio.iscoroutine(done):
                            await done
                    headers = {"Retry-After": f"{f.retry_after:g}"} if f.retry_after is not None else {}
                    if f.body is not None:
                        return f.status, f.body, headers
                    code = {
                        429: "TooManyRequests",
                        503: "ServiceUnavailable",
                        504: "GatewayTimeout",
                        500: "InternalServerError",
                        403: "Forbidden",
                        401: "InvalidAuthenticationToken",
                    }
                    return _err(f.status, code.get(f.status, "generalException"), "Injected fault", headers)
                break
        result = call()
        if asyncio.iscoroutine(result):
            result = await result
        return result

    async def _dispatch(self, method: str, path: str, query: dict, body: Any, raw: bytes, headers) -> Response:
        for m, pat, handler in self._routes:
            if m not in ("*", method):
                continue
            match = pat.match(path)
            if match:
                return await handler(
                    method=method, query=query, body=body, raw=raw, headers=headers, **match.groupdict()
                )
        return _err(400, "BadRequest", f"Resource not found for the segment in {method} {path}")

    # ------------------------------------------------------------ $batch

    async def _batch(self, body: Any) -> Response:
        reqs = (body or {}).get("requests")
        if not isinstance(reqs, list) or not reqs:
            return _err(400, "BadRequest", "Invalid batch payload format.")
        if len(reqs) > 20:
            return _err(400, "BadRequest", "Number of batch request steps exceeds the maximum value of 20.")
        ids = [r.get("id") for r in reqs]
        if len(set(ids)) != len(ids) or any(i is None for i in ids):
            return _err(400, "BadRequest", "Batch request ids must be present and unique.")
        responses = []
        for r in reqs:
            parts = urlsplit(r.get("url", ""))
            sub_path = "/" + unquote(parts.path).lstrip("/")
            sub_query = dict(parse_qsl(parts.query))
            method = (r.get("method") or "GET").upper()
            sub_body = r.get("body")
            if isinstance(sub_body, str):  # a client may send a base64 body for non-JSON content
                try:
                    sub_body = json.loads(base64.b64decode(sub_body))
                except ValueError:
                    sub_body = None
            rec = Recorded(method, sub_path, sub_query, sub_body, CIMultiDict(r.get("headers") or {}), in_batch=True)
            self.requests.append(rec)
            status, out, headers = await self._with_faults(
                method,
                sub_path,
                True,
                lambda m=method, p=sub_path, q=sub_query, b=sub_body: self._dispatch(m, p, q, b, b"", {}),
            )
            rec.status = status
            h = {"Content-Type": "application/json"} if out is not None else {}
            h.update(headers)
            item = {"id": r["id"], "status": status, "headers": h}
            if out is not None:
                item["body"] = out
            responses.append(item)
        responses.reverse()  # Graph does not promise order: clients must match by id
        return 200, {"responses": responses}, {}

    # ------------------------------------------------------------ directory

    def _user(self, key: str) -> dict | None:
        if key in self.users:
            return self.users[key]
        k = key.lower()
        for u in self.users.values():
            if u["id"].lower() == k or (u["userPrincipalName"] or "").lower() == k or (u["mail"] or "").lower() == k:
                return u
        return None

    def _user_json(self, u: dict) -> dict:
        return {"@odata.type": "#microsoft.graph.user", **u}

    async def _get_user(self, u: str, **_) -> Response:
        user = self._user(u)
        if user is None:
            return _err(
                404,
                "Request_ResourceNotFound",
                f"Resource '{u}' does not exist or one of its queried reference-property objects are not present.",
            )
        return 200, self._user_json(user), {}

    async def _get_manager(self, u: str, **_) -> Response:
        user = self._user(u)
        if user is None or user["id"] not in self.managers:
            return _err(
                404,
                "Request_ResourceNotFound",
                "Resource 'manager' does not exist or one of its queried reference-property objects are not present.",
            )
        return 200, self._user_json(self.users[self.managers[user["id"]]]), {}

    def _expand(self, gid: str, transitive: bool, seen: set[str]) -> list[str]:
        out: list[str] = []
        for m in self.groups.get(gid, []):
            if m in self.groups:
                if transitive and m not in seen:
                    seen.add(m)
                    out.extend(x for x in self._expand(m, True, seen) if x not in out)
            elif m not in out:
                out.append(m)
        return out

    async def _groups_delta(self, query: dict, **_) -> Response:
        """Graph's group delta, limited to what a roster sync uses: filtered ids, members only."""

        def token(data: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()

        if "$deltatoken" in query or "$skiptoken" in query:
            try:
                state = json.loads(base64.urlsafe_b64decode(query.get("$deltatoken") or query["$skiptoken"]))
            except ValueError:
                return _err(400, "BadRequest", "Invalid state token")
            if "$deltatoken" in query:
                state = {
                    "ids": state["ids"],
                    "since": state["seq"],
                    "upto": len(self.member_log),
                    "offset": 0,
                    "epoch": state["epoch"],
                }
        else:
            flt = query.get("$filter", "")
            ids = re.findall(r"id eq '([^']+)'", flt)
            if not ids:
                return _err(400, "Request_UnsupportedQuery", "This sample double needs $filter=id eq '…'")
            if len(ids) > 50:
                return _err(400, "Request_UnsupportedQuery", "The number of filtered objects exceeds 50.")
            state = {"ids": ids, "since": None, "upto": len(self.member_log), "offset": 0, "epoch": self.delta_epoch}
        if state["epoch"] != self.delta_epoch:
            return _err(410, "syncStateNotFound", "The delta token has expired; restart with a full sync.")
        # The net change per (group, member) between the two points: the last event for each wins.
        net: dict[tuple[str, str], tuple[str, bool]] = {}
        for seq, g, m, kind, removed in self.member_log:
            if (state["since"] or 0) < seq <= state["upto"] and g in state["ids"]:
                net[(g, m)] = (kind, removed)
        initial = state["since"] is None
        if initial:  # the initial round: current members only, no removals
            net = {k: v for k, v in net.items() if not v[1]}
        entries = sorted(net.items(), key=lambda kv: (state["ids"].index(kv[0][0]), kv[0][1]))
        page = entries[state["offset"] : state["offset"] + self.page_size]
        value: list[dict] = []
        for (g, m), (kind, removed) in page:
            if not value or value[-1]["id"] != g:
                value.append({"id": g, "members@delta": []})
            item = {"@odata.type": f"#microsoft.graph.{kind}", "id": m}
            if removed:
                item["@removed"] = {"reason": "deleted"}
            value[-1]["members@delta"].append(item)
        if initial:  # groups with no members still appear once in the initial round
            shown = {g for (g, _m), _ in entries}
            value += [{"id": g} for g in state["ids"] if g in self.groups and g not in shown and state["offset"] == 0]
        out: dict[str, Any] = {"@odata.context": f"{self.url}/v1.0/$metadata#groups", "value": value}
        if state["offset"] + self.page_size < len(entries):
            nxt = dict(state, offset=state["offset"] + self.page_size)
            out["@odata.nextLink"] = f"{self.url}/v1.0/groups/delta?$skiptoken={token(nxt)}"
        else:
            done = {"ids": state["ids"], "seq": state["upto"], "epoch": state["epoch"]}
            out["@odata.deltaLink"] = f"{self.url}/v1.0/groups/delta?$deltatoken={token(done)}"
        return 200, out, {}

    async def _group_members(self, g: str, rel: str, query: dict, **_) -> Response:
        if g not in self.groups:
            return _err(
                404,
                "Request_ResourceNotFound",
                f"Resource '{g}' does not exist or one of its queried reference-property objects are not present.",
            )
        members = [self.users[m] for m in self._expand(g, rel == "transitiveMembers", {g}) if m in self.users]
        top = min(int(query.get("$top") or self.page_size), self.page_size)
        skip = int(query.get("$skiptoken") or 0)
        page = members[skip : skip + top]
        out: dict[str, Any] = {
            "@odata.context": f"{self.url}/v1.0/$metadata#users",
            "value": [self._user_json(u) for u in page],
        }
        if skip + top < len(members):
            out["@odata.nextLink"] = (
                f"{self.url}/v1.0/groups/{g}/{rel}/microsoft.graph.user?$top={top}&$skiptoken={skip + top}"
            )
        return 200, out, {}

    # ------------------------------------------------------------ calendar

    def _busy_for(self, user: dict, start: dt.datetime, end: dt.datetime) -> list[dict]:
        email = (user["mail"] or "").lower()
        out = []
        for ev in self.events.values():
            s, e = _parse_dtz(ev["start"]), _parse_dtz(ev["end"])
            if not (s < end and e > start):
                continue
            attendees = {a["emailAddress"]["address"].lower() for a in ev.get("attendees", [])}
            if ev["_organizer"] == user["id"] or email in attendees:
                out.append(
                    {
                        "isPrivate": ev.get("sensitivity") == "private",
                        "status": ev.get("showAs", "busy"),
                        "subject": "" if ev.get("sensitivity") == "private" else ev.get("subject", ""),
                        "location": "",
                        "start": _dtz(s),
                        "end": _dtz(e),
                    }
                )
        return sorted(out, key=lambda i: i["start"]["dateTime"])

    async def _get_schedule(self, u: str, body: Any, **_) -> Response:
        if self._user(u) is None:
            return _err(404, "ErrorInvalidUser", f"The requested user '{u}' is invalid.")
        body = _ci(body)
        schedules = body.get("schedules") or []
        if not schedules:
            return _err(400, "ErrorInvalidParameter", "schedules is required")
        if len(schedules) > 20:
            return _err(400, "ErrorExceededFindCountLimit", "The maximum number of schedules per request is 20.")
        start, end = _parse_dtz(body.get("startTime")), _parse_dtz(body.get("endTime"))
        if start is None or end is None or end <= start:
            return _err(400, "ErrorInvalidParameter", "startTime and endTime are required and must be ordered")
        if end - start >= dt.timedelta(days=62):
            return _err(400, "ErrorInvalidTimeInterval", "The time window must be shorter than 62 days.")
        interval = int(body.get("availabilityViewInterval") or 30)
        if not 5 <= interval <= 1440:
            return _err(400, "ErrorInvalidParameter", "availabilityViewInterval must be between 5 and 1440")
        value = []
        for sid in schedules:
            user = self._user(sid)
            if user is None:
                value.append(
                    {
                        "scheduleId": sid,
                        "availabilityView": "",
                        "error": {
                            "message": f"The user '{sid}' could not be found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            items = self._busy_for(user, start, end)
            view = []
            t = start
            while t < end:
                nxt = t + dt.timedelta(minutes=interval)
                busy = any(_parse_dtz(i["start"]) < nxt and _parse_dtz(i["end"]) > t for i in items)
                view.append("2" if busy else "0")
                t = nxt
            value.append(
                {
                    "scheduleId": sid,
                    "availabilityView": "".join(view),
                    "scheduleItems": items,
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": "GMT Standard Time"},
                    },
                }
            )
        return (
            200,
            {
                "@odata.context": f"{self.url}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
                "value": value,
            },
            {},
        )

    def _event_json(self, ev: dict) -> dict:
        return {k: v for k, v in ev.items() if not k.startswith("_")}

    async def _create_event(self, u: str, body: Any, **_) -> Response:
        user = self._user(u)
        if user is None:
            return _err(404, "ErrorInvalidUser", f"The requested user '{u}' is invalid.")
        body = body or {}
        tx = body.get("transactionId")
        if tx:
            for ev in self.events.values():
                if ev["_organizer"] == user["id"] and ev.get("transactionId") == tx:
                    return 201, self._event_json(ev), {}
        if _parse_dtz(body.get("start")) is None or _parse_dtz(body.get("end")) is None:
            return _err(400, "ErrorInvalidRequest", "start and end are required")
        eid = "AAMk" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        ev = dict(body)
        ev.update(
            {
                "@odata.etag": f'W/"{uuid.uuid4().hex[:12]}"',
                "id": eid,
                "iCalUId": "040000008200E0" + uuid.uuid4().hex,
                "webLink": f"https://outlook.office365.com/owa/?itemid={quote(eid)}&exvsurl=1&path=/calendar/item",
                "createdDateTime": _now_iso(),
                "lastModifiedDateTime": _now_iso(),
                "isCancelled": False,
                "isOrganizer": True,
                "showAs": body.get("showAs", "busy"),
                "_organizer": user["id"],
                "organizer": {"emailAddress": {"name": user["displayName"], "address": user["mail"]}},
                "start": _dtz(_parse_dtz(body["start"])),
                "end": _dtz(_parse_dtz(body["end"])),
                "attendees": [
                    {
                        "type": a.get("type", "required"),
                        "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                        "emailAddress": a.get("emailAddress", {}),
                    }
                    for a in body.get("attendees", [])
                ],
            }
        )
        if body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") == "teamsForBusiness":
            ev["onlineMeeting"] = {
                "joinUrl": f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{uuid.uuid4().hex}%40thread.v2/0"
            }
        self.events[eid] = ev
        return 201, self._event_json(ev), {}

    def _own_event(self, u: str, e: str) -> dict | None:
        user = self._user(u)
        ev = self.events.get(e)
        if user is None or ev is None or ev["_organizer"] != user["id"]:
            return None
        return ev

    async def _get_event(self, u: str, e: str, **_) -> Response:
        ev = self._own_event(u, e)
        if ev is None:
            return _err(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return 200, self._event_json(ev), {}

    async def _patch_event(self, u: str, e: str, body: Any, **_) -> Response:
        ev = self._own_event(u, e)
        if ev is None:
            return _err(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        body = body or {}
        for k, v in body.items():
            if k in ("start", "end"):
                parsed = _parse_dtz(v)
                if parsed is None:
                    return _err(400, "ErrorInvalidRequest", f"{k} is malformed")
                ev[k] = _dtz(parsed)
            elif k == "attendees":
                ev[k] = [
                    {
                        "type": a.get("type", "required"),
                        "status": {"response": "none"},
                        "emailAddress": a.get("emailAddress", {}),
                    }
                    for a in v
                ]
            elif k not in ("id", "transactionId"):
                ev[k] = v
        if _parse_dtz(ev["end"]) <= _parse_dtz(ev["start"]):
            return _err(400, "ErrorInvalidRequest", "end must be after start")
        ev["lastModifiedDateTime"] = _now_iso()
        return 200, self._event_json(ev), {}

    async def _cancel_event(self, u: str, e: str, **_) -> Response:
        ev = self._own_event(u, e)
        if ev is None:
            return _err(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        del self.events[e]  # Exchange moves the cancelled meeting out of the calendar
        return 202, None, {}

    async def _delete_event(self, u: str, e: str, **_) -> Response:
        if self._own_event(u, e) is None:
            return _err(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        del self.events[e]
        return 204, None, {}

    # ------------------------------------------------------------ drives

    def _new_drive(self, owner: str | None, site: str) -> Drive:
        did = "b!" + base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode().rstrip("=")
        d = Drive(id=did, owner=owner, site=site)
        root = Item(id=f"{did}!root", name="root", parent=None, folder=True, created=_now_iso())
        d.items[root.id] = root
        self.drives[did] = d
        return d

    def _new_item(self, d: Drive, name: str, parent: str, *, folder: bool, content: bytes = b"") -> Item:
        iid = "01" + base64.b32encode(uuid.uuid4().bytes).decode().rstrip("=")
        it = Item(id=iid, name=name, parent=parent, folder=folder, content=content, created=_now_iso())
        d.items[iid] = it
        return it

    def _child(self, d: Drive, parent: str, name: str) -> Item | None:
        for it in d.items.values():
            if it.parent == parent and it.name.lower() == name.lower():
                return it
        return None

    def _path_of(self, d: Drive, it: Item) -> str:
        parts = []
        while it.parent is not None:
            parts.append(it.name)
            it = d.items[it.parent]
        return "/".join(reversed(parts))

    def _item_json(self, d: Drive, it: Item) -> dict:
        path = self._path_of(d, it)
        out: dict[str, Any] = {
            "id": it.id,
            "name": it.name,
            "createdDateTime": it.created,
            "lastModifiedDateTime": it.created,
            "webUrl": f"https://{self.tenant_domain}.sharepoint.com/sites/{quote(d.site)}/Shared%20Documents/"
            f"{quote(path)}"
            if d.owner is None
            else f"https://{self.tenant_domain}-my.sharepoint.com/personal/{quote(d.owner)}/Documents/{quote(path)}",
            "parentReference": {
                "driveId": d.id,
                "driveType": "business" if d.owner else "documentLibrary",
                "id": it.parent or "",
                "path": f"/drives/{d.id}/root:",
            },
        }
        if it.folder:
            out["folder"] = {"childCount": sum(1 for x in d.items.values() if x.parent == it.id)}
            out["size"] = 0
        else:
            out["size"] = len(it.content)
            out["file"] = {
                "mimeType": "application/octet-stream",
                "hashes": {"quickXorHash": quickxor_hash(it.content)},
            }
        return out

    def _resolve_ref(self, d: Drive, ref: str) -> Item | None:
        if ref == "root":
            return d.root
        return d.items.get(ref)

    def _walk(self, d: Drive, parent: Item, path: str, *, create: bool) -> tuple[Item | None, str]:
        """Folder holding the last segment of `path` (created if asked) and that segment's name."""
        segments = [s for s in path.split("/") if s]
        folder = parent
        for seg in segments[:-1]:
            nxt = self._child(d, folder.id, seg)
            if nxt is None:
                if not create:
                    return None, segments[-1]
                nxt = self._new_item(d, seg, folder.id, folder=True)
            if not nxt.folder:
                return None, segments[-1]
            folder = nxt
        return folder, segments[-1] if segments else ""

    async def _drive_items(
        self, d: str, rest: str, method: str, query: dict, body: Any, raw: bytes, headers, **_
    ) -> Response:
        drive = self.drives.get(d)
        if drive is None:
            return _err(404, "itemNotFound", "The drive could not be found.")
        if ":/" in rest:
            ref, after = rest.split(":/", 1)
            if ":/" in after:
                path, tail = after.rsplit(":/", 1)
            else:
                path, tail = after.rstrip(":"), ""
        else:
            ref, _, tail = rest.partition("/")
            path = None
        base = self._resolve_ref(drive, ref)
        if base is None:
            return _err(404, "itemNotFound", "The resource could not be found.")
        if path is None:
            item = base
            if method == "GET" and tail == "":
                return 200, self._item_json(drive, item), {}
            if method == "POST" and tail == "invite":
                return self._invite(drive, item, body)
            if method == "GET" and tail == "permissions":
                return self._list_permissions(drive, item)
            if method == "DELETE" and tail.startswith("permissions/"):
                return self._delete_permission(drive, item, tail.split("/", 1)[1])
            if method == "GET" and tail == "content" and not item.folder:
                # Graph answers with a redirect to a short-lived, pre-authenticated download URL.
                return 302, None, {"Location": f"{self.url}/download/{drive.id}/{item.id}"}
            if method == "PUT" and tail == "content" and not item.folder:
                item.content = raw  # new content for an existing item, in place
                return 200, self._item_json(drive, item), {}
            return _err(400, "BadRequest", f"Unsupported {method} on item /{tail}")
        behaviour = query.get("@microsoft.graph.conflictBehavior")
        if method == "PUT" and tail == "content":
            return self._put_content(drive, base, path, raw, behaviour or "replace")
        if method == "POST" and tail == "createUploadSession":
            item_props = _ci(body).get("item") or {}
            behaviour = item_props.get("@microsoft.graph.conflictBehavior") or behaviour or "replace"
            return self._create_session(drive, base, path, behaviour)
        if method == "GET" and tail == "":
            folder, name = self._walk(drive, base, path, create=False)
            item = self._child(drive, folder.id, name) if folder else None
            if item is None:
                return _err(404, "itemNotFound", "The resource could not be found.")
            return 200, self._item_json(drive, item), {}
        return _err(400, "BadRequest", f"Unsupported {method} on path /{tail}")

    def _put_content(self, d: Drive, base: Item, path: str, content: bytes, behaviour: str) -> Response:
        folder, name = self._walk(d, base, path, create=True)
        if folder is None or not name:
            return _err(400, "invalidRequest", "Invalid path")
        existing = self._child(d, folder.id, name)
        if existing is not None:
            if behaviour == "fail":
                return _err(409, "nameAlreadyExists", f"The specified item name already exists. Name: {name}")
            if behaviour == "rename":
                return _err(400, "invalidRequest", "rename is not supported by the double")
            existing.content = content  # replace: Graph's default for PUT
            return 200, self._item_json(d, existing), {}
        item = self._new_item(d, name, folder.id, folder=False, content=content)
        return 201, self._item_json(d, item), {}

    def _create_session(self, d: Drive, base: Item, path: str, behaviour: str) -> Response:
        folder, name = self._walk(d, base, path, create=True)
        if folder is None or not name:
            return _err(400, "invalidRequest", "Invalid path")
        if behaviour == "fail" and self._child(d, folder.id, name) is not None:
            return _err(409, "nameAlreadyExists", f"The specified item name already exists. Name: {name}")
        sid = uuid.uuid4().hex
        expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.sessions[sid] = {
            "drive": d.id,
            "folder": folder.id,
            "name": name,
            "behaviour": behaviour,
            "data": bytearray(),
            "total": None,
            "expires": expires,
        }
        return (
            200,
            {
                "@odata.context": f"{self.url}/v1.0/$metadata#microsoft.graph.uploadSession",
                "uploadUrl": f"{self.url}/upload/{sid}",
                "expirationDateTime": expires,
                "nextExpectedRanges": ["0-"],
            },
            {},
        )

    async def _upload_chunk(self, request: web.Request, path: str, raw: bytes) -> Response:
        sid = path.rsplit("/", 1)[-1]
        s = self.sessions.get(sid)
        if s is None:
            return _err(404, "itemNotFound", "The upload session was not found or has expired.")
        if request.method == "DELETE":
            del self.sessions[sid]
            return 204, None, {}
        if request.method == "GET":
            return 200, {"expirationDateTime": s["expires"], "nextExpectedRanges": [f"{len(s['data'])}-"]}, {}
        if request.method != "PUT":
            return _err(405, "invalidRequest", "Method not allowed")
        if "Authorization" in request.headers:
            return _err(401, "unauthenticated", "Upload URLs are pre-authenticated: do not send Authorization.")
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("Content-Range", ""))
        if not m:
            return _err(400, "invalidRequest", "Content-Range is required: bytes start-end/total")
        a, b, total = (int(x) for x in m.groups())
        if s["total"] is None:
            s["total"] = total
        if total != s["total"] or b < a or b >= total or len(raw) != b - a + 1:
            return _err(400, "invalidRequest", "Content-Range does not match the body or the declared size")
        if a != len(s["data"]):
            return _err(416, "invalidRange", "The uploaded fragment does not start at the next expected byte.", {})
        last = b + 1 == total
        if not last and len(raw) % CHUNK_UNIT:
            return _err(400, "invalidRequest", "Fragments other than the last must be multiples of 320 KiB.")
        s["data"].extend(raw)
        if not last:
            return 202, {"expirationDateTime": s["expires"], "nextExpectedRanges": [f"{b + 1}-"]}, {}
        d = self.drives[s["drive"]]
        del self.sessions[sid]
        existing = self._child(d, s["folder"], s["name"])
        if existing is not None:
            if s["behaviour"] == "fail":
                return _err(409, "nameAlreadyExists", f"The specified item name already exists. Name: {s['name']}")
            existing.content = bytes(s["data"])
            return 200, self._item_json(d, existing), {}
        item = self._new_item(d, s["name"], s["folder"], folder=False, content=bytes(s["data"]))
        return 201, self._item_json(d, item), {}

    async def _files_folder(self, t: str, c: str, **_) -> Response:
        ref = self.channels.get((t, c))
        if ref is None:
            return _err(404, "NotFound", "Channel or team not found.")
        d = self.drives[ref[0]]
        return 200, self._item_json(d, d.items[ref[1]]), {}

    async def _user_drive(self, u: str, **_) -> Response:
        user = self._user(u)
        if user is None:
            return _err(404, "ResourceNotFound", "User not found")
        did = self.user_drives.get(user["id"])
        if did is None:
            did = self._new_drive(owner=user["id"], site=user["userPrincipalName"]).id
            self.user_drives[user["id"]] = did
        return (
            200,
            {
                "id": did,
                "driveType": "business",
                "name": "OneDrive",
                "owner": {"user": {"id": user["id"], "displayName": user["displayName"]}},
                "webUrl": f"https://{self.tenant_domain}-my.sharepoint.com/personal/{quote(user['id'])}/Documents",
            },
            {},
        )

    def _invite(self, d: Drive, item: Item, body: Any) -> Response:
        body = _ci(body)
        roles = body.get("roles") or []
        if not roles or any(r not in ("read", "write") for r in roles):
            return _err(400, "invalidRequest", "roles must be read or write")
        recipients = body.get("recipients") or []
        if not recipients:
            return _err(400, "invalidRequest", "recipients is required")
        out = []
        perms = self.permissions.setdefault((d.id, item.id), [])
        for r in recipients:
            user = self._user(r.get("email") or r.get("objectId") or "")
            if user is None:
                return _err(400, "invalidRequest", "The recipient could not be resolved.")
            perm = next((p for p in perms if p["grantedToV2"]["user"]["id"] == user["id"]), None)
            if perm is None:
                perm = {
                    "id": uuid.uuid4().hex,
                    "roles": list(roles),
                    "grantedToV2": {
                        "user": {"id": user["id"], "displayName": user["displayName"], "email": user["mail"]}
                    },
                    "grantedTo": {
                        "user": {"id": user["id"], "displayName": user["displayName"], "email": user["mail"]}
                    },
                    "invitation": {"email": user["mail"], "signInRequired": bool(body.get("requireSignIn"))},
                }
                perms.append(perm)
            else:
                perm["roles"] = list(roles)
            out.append(perm)
        return 200, {"value": out}, {}

    def _delete_permission(self, d: Drive, item: Item, perm_id: str) -> Response:
        if perm_id == "owner":
            return _err(403, "accessDenied", "The owner's permission cannot be removed.")
        perms = self.permissions.get((d.id, item.id), [])
        for i, p in enumerate(perms):
            if p["id"] == perm_id:
                del perms[i]
                return 204, None, {}
        return _err(404, "itemNotFound", "The permission could not be found.")

    def _list_permissions(self, d: Drive, item: Item) -> Response:
        value = []
        if d.owner:
            owner = self.users.get(d.owner, {"id": d.owner, "displayName": "", "mail": ""})
            value.append(
                {
                    "id": "owner",
                    "roles": ["owner"],
                    "grantedToV2": {
                        "user": {"id": owner["id"], "displayName": owner["displayName"], "email": owner["mail"]}
                    },
                }
            )
        value.extend(self.permissions.get((d.id, item.id), []))
        return 200, {"value": value}, {}

    # ------------------------------------------------------------ Teams apps

    async def _install_app(self, u: str, body: Any, **_) -> Response:
        user = self._user(u)
        if user is None:
            return _err(404, "NotFound", "User not found")
        bind = (body or {}).get("teamsApp@odata.bind") or ""
        m = re.search(r"/appCatalogs/teamsApps/([^/?]+)$", bind)
        if not m:
            return _err(400, "BadRequest", "teamsApp@odata.bind is required")
        app_id = m.group(1)
        if app_id not in self.catalog:
            return _err(404, "NotFound", "The app is not in the tenant's app catalog.")
        apps = self.installed.setdefault(user["id"], set())
        if app_id in apps:
            return _err(409, "Conflict", "App is already installed for this user.")
        apps.add(app_id)
        return 201, None, {}

    async def _list_apps(self, u: str, query: dict, **_) -> Response:
        user = self._user(u)
        if user is None:
            return _err(404, "NotFound", "User not found")
        apps = sorted(self.installed.get(user["id"], set()))
        flt = query.get("$filter")
        if flt:
            m = re.fullmatch(r"teamsApp/id eq '([^']*)'", flt.strip())
            if not m:
                return _err(400, "BadRequest", f"Unsupported $filter: {flt}")
            apps = [a for a in apps if a == m.group(1)]
        expand = query.get("$expand") or ""
        value = []
        for a in apps:
            item: dict[str, Any] = {"id": self._installation_id(user["id"], a), "teamsApp": {"id": a}}
            if "teamsAppDefinition" in expand:
                item["teamsAppDefinition"] = {"id": base64.b64encode(f"{a}##1.0.0".encode()).decode(), "teamsAppId": a}
            value.append(item)
        return 200, {"value": value}, {}

    @staticmethod
    def _installation_id(user_id: str, app_id: str) -> str:
        # Graph's installation ids are opaque base64 strings, not the app's catalog id.
        return base64.b64encode(f"{user_id}##{app_id}".encode()).decode()

    async def _app_chat(self, u: str, i: str, **_) -> Response:
        user = self._user(u)
        if user is None:
            return _err(404, "NotFound", "User not found")
        for a in self.installed.get(user["id"], set()):
            if self._installation_id(user["id"], a) == i:
                return 200, {"id": self.personal_chat_id(user["id"], a), "chatType": "oneOnOne"}, {}
        return _err(404, "NotFound", "The app installation was not found for this user.")

    def _message_page(self, messages: list[dict], query: dict) -> Response:
        try:
            top = int(query.get("$top", 20))
        except ValueError:
            return _err(400, "BadRequest", "Invalid $top")
        if not 1 <= top <= 50:
            return _err(400, "BadRequest", "The $top value must be between 1 and 50.")
        return 200, {"value": list(reversed(messages))[:top]}, {}

    async def _chat_messages(self, chat: str, query: dict, **_) -> Response:
        if chat not in self.chat_messages and not any(
            self.personal_chat_id(uid, a) == chat for uid, apps in self.installed.items() for a in apps
        ):
            return _err(404, "NotFound", "Chat not found")
        return self._message_page(self.chat_messages.get(chat, []), query)

    async def _channel_messages(self, t: str, c: str, query: dict, **_) -> Response:
        if (t, c) not in self.channels and (t, c) not in self.channel_messages:
            return _err(404, "NotFound", "Channel not found")
        return self._message_page(self.channel_messages.get((t, c), []), query)


class StaticTokenCredential:
    """The narrow seam for tests: an azure-identity style credential that returns a fixed token (or raises what
    it is given, e.g. azure.core.exceptions.ClientAuthenticationError, to play an expired secret)."""

    def __init__(self, token: str = "test-token", *, error: BaseException | None = None):
        self.token = token
        self.error = error
        self.calls = 0

    async def get_token(self, *scopes, **kwargs):
        import time

        from azure.core.credentials import AccessToken

        self.calls += 1
        if self.error is not None:
            raise self.error
        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None


def seed_from_school(
    double: GraphDouble, school, *, all_staff_group: str, managers: dict[str, str] | None = None, nested: bool = True
) -> None:
    """Users from the school roster (object id = aad_object_id). The all-staff group holds the leaders through a
    nested group, as a real tenant's groups often do. `managers`: staff id → manager's staff id."""
    for s in school.staff.values():
        mgr = school.staff[managers[s.id]].aad_object_id if managers and s.id in managers else None
        double.add_user(s.aad_object_id, s.name, s.email, job_title=s.job_title or None, manager=mgr)
    leaders = [s.aad_object_id for s in school.staff.values() if s.group == "leaders"]
    others = [s.aad_object_id for s in school.staff.values() if s.group != "leaders"]
    if nested:
        double.add_group("grp-leaders", leaders)
        double.add_group(all_staff_group, others + ["grp-leaders"])
    else:
        double.add_group(all_staff_group, others + leaders)
    for gid in school.groups:
        double.add_group(gid, [s.aad_object_id for s in school.group_members(gid)])
