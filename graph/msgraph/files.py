"""Files through Microsoft Graph: the Safeguarding channel's folder and a supervisor's OneDrive.

Uploads never overwrite: every PUT / upload session carries @microsoft.graph.conflictBehavior=fail. On 409 we read
the existing item: the same size and QuickXorHash means an earlier attempt of ours got through (its answer was
lost), so we return it; otherwise we try "… (2)", "… (3)" …

Small files: one PUT …/{parent}:/{path}:/content (through msgraph-sdk). Large files: createUploadSession (SDK),
then byte ranges PUT to the pre-authenticated uploadUrl in 320 KiB multiples with a plain HTTP client — no
Authorization header, as Graph requires. The SDK's retry handler does not retry octet-stream uploads (GUIDE §2),
so throttling here becomes GraphThrottled for the outbox, after a short inline retry when the wait is small.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import quote

import httpx
from msgraph.generated.drives.item.items.item.create_upload_session.create_upload_session_post_request_body import (
    CreateUploadSessionPostRequestBody,
)
from msgraph.generated.drives.item.items.item.invite.invite_post_request_body import InvitePostRequestBody
from msgraph.generated.models.drive_item import DriveItem
from msgraph.generated.models.drive_item_uploadable_properties import DriveItemUploadableProperties
from msgraph.generated.models.drive_recipient import DriveRecipient

from graph.errors import GraphConflict, GraphNotFound, GraphRequestError, GraphThrottled
from graph.msgraph.client import GraphClients
from graph.msgraph.errors import THROTTLE_STATUSES, TRANSIENT_STATUSES, call, from_status
from graph.naming import MAX_RENAMES, candidates, quickxor_hash, safe_name, safe_path
from graph.ports import FolderRef, Role, SharingGrant, StoredFile
from graph.settings import CHUNK_UNIT, GraphSettings

FAIL = "@microsoft.graph.conflictBehavior=fail"


def _q(segment: str) -> str:
    return quote(segment, safe="!-_.~")


class Uploader:
    def __init__(
        self,
        clients: GraphClients,
        settings: GraphSettings,
        *,
        chunk_retries: int = 3,
        max_inline_wait: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ):
        self.c = clients
        self.simple_max = settings.simple_upload_max_bytes
        self.chunk = settings.upload_chunk_bytes
        self.chunk_retries = chunk_retries
        self.max_inline_wait = max_inline_wait
        self.sleep = sleep
        self.rng = rng or random.Random()

    def _url(self, drive_id: str, parent_id: str, path: str, tail: str = "") -> str:
        encoded = "/".join(_q(p) for p in path.split("/"))
        return f"{self.c.api_root}/drives/{_q(drive_id)}/items/{_q(parent_id)}:/{encoded}" + (
            f":/{tail}" if tail else ""
        )

    def _items(self, drive_id: str, parent_id: str):
        return self.c.graph.drives.by_drive_id(drive_id).items.by_drive_item_id(parent_id)

    async def upload(self, drive_id: str, parent_id: str, folder: list[str], name: str, content: bytes) -> StoredFile:
        if not isinstance(content, (bytes, bytearray)):
            raise GraphRequestError("file content must be bytes")
        content = bytes(content)
        digest = quickxor_hash(content)
        for cand in candidates(safe_name(name)):
            path = "/".join([*folder, cand])
            try:
                if len(content) <= self.simple_max:
                    item = await self._simple(drive_id, parent_id, path, content)
                else:
                    item = await self._session(drive_id, parent_id, path, content)
                return self._stored(item, drive_id, len(content), reused=False)
            except GraphConflict:
                existing = await self._existing(drive_id, parent_id, path)
                if existing is not None and self._same(existing, content, digest):
                    return self._stored(existing, drive_id, len(content), reused=True)
        raise GraphConflict(
            f"{MAX_RENAMES} files named like {name!r} already exist", status=409, code="nameAlreadyExists"
        )

    async def replace(self, drive_id: str, item_id: str, content: bytes) -> StoredFile:
        """PUT /drives/{d}/items/{id}/content: new content for an existing item, in place (its sharing and link
        stay; the service keeps the earlier content as a version). Small generated documents only."""
        if not isinstance(content, (bytes, bytearray)):
            raise GraphRequestError("file content must be bytes")
        content = bytes(content)
        if len(content) > self.simple_max:
            raise GraphRequestError("a replaced document must be a small file")
        item = await call(self._items(drive_id, item_id).content.put(content), "update a record file")
        if item is None:
            raise GraphThrottled(None, "update a record file: Microsoft Graph returned no item")
        return self._stored(item, drive_id, len(content), reused=False)

    @staticmethod
    def _same(item: DriveItem, content: bytes, digest: str) -> bool:
        hashes = item.file.hashes if item.file else None
        return item.size == len(content) and bool(hashes and hashes.quick_xor_hash == digest)

    @staticmethod
    def _stored(item: DriveItem | dict, drive_id: str, size: int, *, reused: bool) -> StoredFile:
        if isinstance(item, dict):
            parent = item.get("parentReference") or {}
            return StoredFile(
                name=item.get("name") or "",
                web_url=item.get("webUrl") or "",
                item_id=item.get("id") or "",
                drive_id=parent.get("driveId") or drive_id,
                size=item.get("size") or size,
                reused=reused,
            )
        drive = item.parent_reference.drive_id if item.parent_reference and item.parent_reference.drive_id else drive_id
        return StoredFile(
            name=item.name or "",
            web_url=item.web_url or "",
            item_id=item.id or "",
            drive_id=drive,
            size=item.size if item.size is not None else size,
            reused=reused,
        )

    async def _simple(self, drive_id: str, parent_id: str, path: str, content: bytes) -> DriveItem:
        url = self._url(drive_id, parent_id, path, "content") + "?" + FAIL
        builder = self._items(drive_id, parent_id).content.with_url(url)
        item = await call(builder.put(content), "upload a file")
        if item is None:
            raise GraphThrottled(None, "upload a file: Microsoft Graph returned no item")
        return item

    async def _existing(self, drive_id: str, parent_id: str, path: str) -> DriveItem | None:
        try:
            return await call(
                self._items(drive_id, parent_id).with_url(self._url(drive_id, parent_id, path)).get(),
                "read an existing file",
            )
        except GraphNotFound:
            return None

    async def _session(self, drive_id: str, parent_id: str, path: str, content: bytes) -> dict:
        url = self._url(drive_id, parent_id, path, "createUploadSession") + "?" + FAIL
        body = CreateUploadSessionPostRequestBody(
            item=DriveItemUploadableProperties(additional_data={"@microsoft.graph.conflictBehavior": "fail"})
        )
        session = await call(
            self._items(drive_id, parent_id).create_upload_session.with_url(url).post(body), "start an upload session"
        )
        if session is None or not session.upload_url:
            raise GraphThrottled(None, "start an upload session: no uploadUrl in the answer")
        try:
            return await self._send_ranges(session.upload_url, content)
        except BaseException:
            await self._abandon(session.upload_url)
            raise

    async def _send_ranges(self, upload_url: str, content: bytes) -> dict:
        total, offset, tries = len(content), 0, 0
        if self.chunk % CHUNK_UNIT:
            raise GraphRequestError("upload chunks must be multiples of 320 KiB")
        while True:
            end = min(offset + self.chunk, total) - 1
            try:
                r = await self.c.uploads.put(
                    upload_url,
                    content=content[offset : end + 1],
                    headers={"Content-Range": f"bytes {offset}-{end}/{total}"},
                )
            except httpx.HTTPError as exc:
                r = None
                error: Exception = GraphThrottled(
                    None, f"upload a file: {type(exc).__name__} while sending bytes {offset}-{end}"
                )
            if r is not None:
                if r.status_code in (200, 201):
                    return r.json()
                if r.status_code == 202:
                    offset = _next_offset(r.json(), default=end + 1)
                    tries = 0
                    continue
                if r.status_code == 409:
                    raise GraphConflict(
                        "upload a file: the name was taken meanwhile", status=409, code="nameAlreadyExists"
                    )
                if r.status_code == 416:  # we and the service disagree on the next byte: ask it
                    offset = await self._resume_offset(upload_url, offset)
                    tries += 1
                    if tries > self.chunk_retries:
                        raise GraphThrottled(None, "upload a file: the upload session keeps refusing byte ranges")
                    continue
                code, message = _error_of(r)
                error = from_status(r.status_code, r.headers, code, message, "upload a file")
                if not (
                    r.status_code in THROTTLE_STATUSES or r.status_code in TRANSIENT_STATUSES or r.status_code >= 500
                ):
                    if r.status_code == 404:  # the session expired: start over later
                        raise GraphThrottled(None, "upload a file: the upload session expired")
                    raise error
            tries += 1
            wait = getattr(error, "seconds", None)
            if wait is None:
                wait = min(self.max_inline_wait, 0.5 * 2**tries) * (0.5 + self.rng.random() / 2)
            if tries > self.chunk_retries or wait > self.max_inline_wait:
                raise error
            await self.sleep(wait)
            offset = await self._resume_offset(upload_url, offset)

    async def _resume_offset(self, upload_url: str, fallback: int) -> int:
        try:
            r = await self.c.uploads.get(upload_url)
        except httpx.HTTPError:
            return fallback
        if r.status_code != 200:
            return fallback
        return _next_offset(r.json(), default=fallback)

    async def _abandon(self, upload_url: str) -> None:
        try:
            await asyncio.shield(self.c.uploads.delete(upload_url))
        except Exception:  # noqa: BLE001 - best effort: an abandoned session expires on its own
            pass


def _next_offset(body: dict, *, default: int) -> int:
    ranges = (body or {}).get("nextExpectedRanges") or []
    if not ranges:
        return default
    try:
        return int(str(ranges[0]).split("-", 1)[0])
    except ValueError:
        return default


def _error_of(r: httpx.Response) -> tuple[str | None, str | None]:
    try:
        err = r.json().get("error") or {}
    except ValueError:
        return None, None
    return err.get("code"), err.get("message")


class GraphChannelFiles:
    def __init__(
        self,
        clients: GraphClients,
        uploader: Uploader,
        team_id: str,
        channel_id: str,
        *,
        folder: FolderRef | None = None,
    ):
        """`folder`: a drive id + item id configured by the admin; then filesFolder is never called."""
        self.c = clients
        self.uploader = uploader
        self.team_id = team_id
        self.channel_id = channel_id
        self._configured = folder
        self._folder: FolderRef | None = folder

    async def resolve_folder(self) -> FolderRef:
        if self._folder is None:
            item = await call(
                self.c.graph.teams.by_team_id(self.team_id).channels.by_channel_id(self.channel_id).files_folder.get(),
                "find the Safeguarding channel's files folder",
            )
            if item is None or not item.id or not item.parent_reference or not item.parent_reference.drive_id:
                raise GraphThrottled(
                    None, "the channel's files folder is not ready yet (its site may still be provisioning)"
                )
            self._folder = FolderRef(drive_id=item.parent_reference.drive_id, item_id=item.id, web_url=item.web_url)
        return self._folder

    async def upload(self, name: str, content: bytes, *, subfolder: str | None = None) -> StoredFile:
        folder = await self.resolve_folder()
        try:
            return await self.uploader.upload(folder.drive_id, folder.item_id, safe_path(subfolder), name, content)
        except GraphNotFound:
            self._folder = self._configured  # moved or re-provisioned: look it up again next time
            raise

    async def download(self, item_id: str) -> bytes:
        folder = await self.resolve_folder()
        data = await call(
            self.c.graph.drives.by_drive_id(folder.drive_id).items.by_drive_item_id(item_id).content.get(),
            "read a file back from the channel",
        )
        if data is None:
            raise GraphNotFound("the file has no content", status=404)
        return data

    async def replace(self, item_id: str, content: bytes) -> StoredFile:
        folder = await self.resolve_folder()
        return await self.uploader.replace(folder.drive_id, item_id, content)


class GraphPersonalFiles:
    def __init__(self, clients: GraphClients, uploader: Uploader, *, send_invitation: bool = False):
        self.c = clients
        self.uploader = uploader
        self.send_invitation = send_invitation
        self._drives: dict[str, str] = {}

    async def _drive_id(self, owner: str) -> str:
        key = owner.lower()
        if key not in self._drives:
            drive = await call(self.c.graph.users.by_user_id(owner).drive.get(), "find a OneDrive")
            if drive is None or not drive.id:
                raise GraphNotFound(f"no OneDrive for {owner!r}", status=404)
            self._drives[key] = drive.id
        return self._drives[key]

    async def upload_and_share(
        self,
        owner: str,
        name: str,
        content: bytes,
        *,
        share_with: str | Sequence[str],
        role: Role = "read",
        folder: str = "Supervision records",
    ) -> StoredFile:
        if role not in ("read", "write"):
            raise GraphRequestError("role must be read or write")
        people = [share_with] if isinstance(share_with, str) else list(share_with)
        if not people:
            raise GraphRequestError("share with at least one person")
        drive_id = await self._drive_id(owner)
        stored = await self.uploader.upload(drive_id, "root", safe_path(folder), name, content)
        recipients = [DriveRecipient(email=x) if "@" in x else DriveRecipient(object_id=x) for x in people]
        # An invitation to named people: sign-in required, never an anonymous or organisation-wide link.
        body = InvitePostRequestBody(
            recipients=recipients, roles=[role], require_sign_in=True, send_invitation=self.send_invitation
        )
        await call(
            self.c.graph.drives.by_drive_id(drive_id).items.by_drive_item_id(stored.item_id).invite.post(body),
            "share a record with one person",
        )
        return stored

    async def share(self, owner: str, item_id: str, *, share_with: str, role: Role = "read") -> SharingGrant:
        if role not in ("read", "write"):
            raise GraphRequestError("role must be read or write")
        drive_id = await self._drive_id(owner)
        recipient = DriveRecipient(email=share_with) if "@" in share_with else DriveRecipient(object_id=share_with)
        body = InvitePostRequestBody(
            recipients=[recipient], roles=[role], require_sign_in=True, send_invitation=self.send_invitation
        )
        await call(
            self.c.graph.drives.by_drive_id(drive_id).items.by_drive_item_id(item_id).invite.post(body),
            "share a record with one more person",
        )
        return SharingGrant(recipient=share_with.lower(), roles=(role,))

    async def revoke(self, owner: str, item_id: str, *, recipient: str) -> bool:
        drive_id = await self._drive_id(owner)
        item = self.c.graph.drives.by_drive_id(drive_id).items.by_drive_item_id(item_id)
        resp = await call(item.permissions.get(), "list who can open a record")
        wanted = recipient.lower()
        found = False
        for p in (resp.value if resp else None) or []:
            if "owner" in (p.roles or ()) or not p.id:
                continue
            if wanted in _permission_people(p):
                # DELETE /drives/{d}/items/{i}/permissions/{id}: that person's invitation grant ends.
                await call(item.permissions.by_permission_id(p.id).delete(), "end one person's access to a record")
                found = True
        return found

    async def download(self, owner: str, item_id: str) -> bytes:
        drive_id = await self._drive_id(owner)
        data = await call(
            self.c.graph.drives.by_drive_id(drive_id).items.by_drive_item_id(item_id).content.get(),
            "read a record back from a OneDrive",
        )
        if data is None:
            raise GraphNotFound("the file has no content", status=404)
        return data

    async def replace(self, owner: str, item_id: str, content: bytes) -> StoredFile:
        return await self.uploader.replace(await self._drive_id(owner), item_id, content)

    async def grants(self, owner: str, item_id: str) -> list[SharingGrant]:
        drive_id = await self._drive_id(owner)
        resp = await call(
            self.c.graph.drives.by_drive_id(drive_id).items.by_drive_item_id(item_id).permissions.get(),
            "list who can open a record",
        )
        out = []
        for p in (resp.value if resp else None) or []:
            roles = tuple(p.roles or ())
            if "owner" in roles:
                continue
            who = None
            for identity in (p.granted_to_v2, p.granted_to):
                user = getattr(identity, "user", None) if identity else None
                if user is not None:
                    who = (user.additional_data or {}).get("email") or getattr(user, "email", None) or user.id
                    break
            if who is None and p.invitation is not None:
                who = p.invitation.email
            scope = p.link.scope if p.link is not None else None
            out.append(SharingGrant(recipient=(who or "").lower(), roles=roles, link_scope=scope))
        return out


def _permission_people(p) -> set[str]:
    """Every way a permission names its person (email, object id, invitation email), lower-cased."""
    out: set[str] = set()
    for identity in (p.granted_to_v2, p.granted_to):
        user = getattr(identity, "user", None) if identity else None
        if user is not None:
            for v in ((user.additional_data or {}).get("email"), getattr(user, "email", None), user.id):
                if v:
                    out.add(str(v).lower())
    if p.invitation is not None and p.invitation.email:
        out.add(p.invitation.email.lower())
    return out
