"""Local files: the Safeguarding channel's folder and each person's OneDrive, as folders under local_m365_dir.

    data/m365/channels/<team>/<channel>/…      data/m365/onedrive/<person>/<folder>/…

Same rules as SharePoint: names are sanitised, compared case-insensitively, and never overwritten — a clash
takes the next "… (2)" name, unless the existing file has the very same bytes (an earlier attempt), which is
reused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import delete, select

from bot.store.db import Database
from bot.store.models_local_m365 import LocalSharingGrant
from graph.errors import GraphConflict, GraphNotFound, GraphRequestError
from graph.local.directory import LocalDirectory
from graph.naming import MAX_RENAMES, candidates, quickxor_hash, safe_name, safe_path
from graph.ports import FolderRef, Role, SharingGrant, StoredFile

TEMP_PREFIX = ".~upload-"


def _publish(folder: Path, path: Path, content: bytes) -> None:
    tmp = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    try:
        with open(tmp, "xb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_unique(folder: Path, name: str, content: bytes) -> tuple[str, Path, bool]:
    """Create `name` (or the first free "… (n)" variant) in folder without ever replacing a file.

    Returns (final name, path, reused). The content is written whole to a hidden temporary file first and then
    linked into place (os.link fails if the name exists), so a racing writer fails rather than overwrites, and a
    process killed mid-write leaves no torn file under the real name (only a hidden leftover, never listed).
    """
    folder.mkdir(parents=True, exist_ok=True)
    digest = quickxor_hash(content)
    for cand in candidates(safe_name(name)):
        existing = {p.name.lower(): p for p in folder.iterdir() if not p.name.startswith(TEMP_PREFIX)}
        clash = existing.get(cand.lower())
        if clash is None:
            path = folder / cand
            try:
                _publish(folder, path, content)
                return cand, path, False
            except FileExistsError:
                clash = path
        if clash.is_file() and clash.stat().st_size == len(content) and quickxor_hash(clash.read_bytes()) == digest:
            return clash.name, clash, True
    raise GraphConflict(f"{MAX_RENAMES} files named like {name!r} already exist", status=409, code="nameAlreadyExists")


class _LocalDrive:
    def __init__(self, root: Path, drive_root: Path):
        self.root = Path(root)
        self.drive_root = drive_root

    @property
    def drive_id(self) -> str:
        return "local:" + self.drive_root.relative_to(self.root).as_posix()

    def stored(self, path: Path, name: str, reused: bool) -> StoredFile:
        return StoredFile(
            name=name,
            web_url=path.resolve().as_uri(),
            item_id=path.relative_to(self.drive_root).as_posix(),
            drive_id=self.drive_id,
            size=path.stat().st_size,
            reused=reused,
        )


class LocalChannelFiles:
    def __init__(self, root: Path, team: str, channel: str):
        self.root = Path(root)
        self.drive = _LocalDrive(self.root, self.root / "channels" / safe_name(team) / safe_name(channel))

    async def resolve_folder(self) -> FolderRef:
        await asyncio.to_thread(self.drive.drive_root.mkdir, parents=True, exist_ok=True)
        return FolderRef(drive_id=self.drive.drive_id, item_id="root", web_url=self.drive.drive_root.resolve().as_uri())

    async def upload(self, name: str, content: bytes, *, subfolder: str | None = None) -> StoredFile:
        _check_content(content)
        folder = self.drive.drive_root.joinpath(*safe_path(subfolder))
        final, path, reused = await asyncio.to_thread(write_unique, folder, name, content)
        return self.drive.stored(path, final, reused)

    async def download(self, item_id: str) -> bytes:
        root = self.drive.drive_root.resolve()
        path = (root / item_id).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise GraphNotFound("no such file in the channel folder", status=404)
        return await asyncio.to_thread(path.read_bytes)

    async def replace(self, item_id: str, content: bytes) -> StoredFile:
        _check_content(content)
        path = _existing(self.drive.drive_root, item_id, "the channel folder")
        await asyncio.to_thread(path.write_bytes, bytes(content))
        return self.drive.stored(path, path.name, False)


class LocalPersonalFiles:
    def __init__(self, root: Path, db: Database, directory: LocalDirectory, *, clock: Callable[[], dt.datetime]):
        self.root = Path(root)
        self.db = db
        self.directory = directory
        self.clock = clock

    def _drive(self, owner: str) -> _LocalDrive:
        s = self.directory.find(owner)
        if s is None:
            raise GraphNotFound(f"no OneDrive for {owner!r}", status=404)
        return _LocalDrive(self.root, self.root / "onedrive" / safe_name(s.id))

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
        _check_content(content)
        if role not in ("read", "write"):
            raise GraphRequestError("role must be read or write")
        drive = self._drive(owner)
        people = [share_with] if isinstance(share_with, str) else list(share_with)
        if not people:
            raise GraphRequestError("share with at least one person", status=400)
        recipients = []
        for who in people:
            recipient = self.directory.find(who)
            if recipient is None:
                raise GraphRequestError(f"cannot share with {who!r}: not on the roster", status=400)
            recipients.append(recipient)
        target = drive.drive_root.joinpath(*safe_path(folder))
        final, path, reused = await asyncio.to_thread(write_unique, target, name, content)
        stored = drive.stored(path, final, reused)
        async with self.db.session() as s:
            for recipient in recipients:
                grant = (
                    await s.execute(
                        select(LocalSharingGrant).where(
                            LocalSharingGrant.drive_id == stored.drive_id,
                            LocalSharingGrant.item_id == stored.item_id,
                            LocalSharingGrant.recipient == recipient.email.lower(),
                        )
                    )
                ).scalar_one_or_none()
                if grant is None:
                    s.add(
                        LocalSharingGrant(
                            drive_id=stored.drive_id,
                            item_id=stored.item_id,
                            recipient=recipient.email.lower(),
                            role=role,
                            created_at=self.clock(),
                        )
                    )
                else:
                    grant.role = role
        return stored

    def _item(self, owner: str, item_id: str) -> _LocalDrive:
        drive = self._drive(owner)
        root = drive.drive_root.resolve()
        path = (root / item_id).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise GraphNotFound("no such file in that OneDrive", status=404)
        return drive

    async def share(self, owner: str, item_id: str, *, share_with: str, role: Role = "read") -> SharingGrant:
        if role not in ("read", "write"):
            raise GraphRequestError("role must be read or write")
        drive = self._item(owner, item_id)
        recipient = self.directory.find(share_with)
        if recipient is None:
            raise GraphRequestError(f"cannot share with {share_with!r}: not on the roster", status=400)
        email = recipient.email.lower()
        async with self.db.session() as s:
            grant = (
                await s.execute(
                    select(LocalSharingGrant).where(
                        LocalSharingGrant.drive_id == drive.drive_id,
                        LocalSharingGrant.item_id == item_id,
                        LocalSharingGrant.recipient == email,
                    )
                )
            ).scalar_one_or_none()
            if grant is None:
                s.add(
                    LocalSharingGrant(
                        drive_id=drive.drive_id, item_id=item_id, recipient=email, role=role, created_at=self.clock()
                    )
                )
            else:
                grant.role = role
        return SharingGrant(recipient=email, roles=(role,))

    async def revoke(self, owner: str, item_id: str, *, recipient: str) -> bool:
        drive = self._drive(owner)
        person = self.directory.find(recipient)
        email = (person.email if person is not None else recipient).lower()
        async with self.db.session() as s:
            done = await s.execute(
                delete(LocalSharingGrant).where(
                    LocalSharingGrant.drive_id == drive.drive_id,
                    LocalSharingGrant.item_id == item_id,
                    LocalSharingGrant.recipient == email,
                )
            )
        return bool(done.rowcount)

    async def download(self, owner: str, item_id: str) -> bytes:
        path = _existing(self._drive(owner).drive_root, item_id, "this OneDrive")
        return await asyncio.to_thread(path.read_bytes)

    async def replace(self, owner: str, item_id: str, content: bytes) -> StoredFile:
        _check_content(content)
        drive = self._drive(owner)
        path = _existing(drive.drive_root, item_id, "this OneDrive")
        await asyncio.to_thread(path.write_bytes, bytes(content))
        return drive.stored(path, path.name, False)

    async def grants(self, owner: str, item_id: str) -> list[SharingGrant]:
        drive = self._drive(owner)
        async with self.db.session() as s:
            rows = (
                (
                    await s.execute(
                        select(LocalSharingGrant)
                        .where(LocalSharingGrant.drive_id == drive.drive_id, LocalSharingGrant.item_id == item_id)
                        .order_by(LocalSharingGrant.id)
                    )
                )
                .scalars()
                .all()
            )
        return [SharingGrant(recipient=r.recipient, roles=(r.role,)) for r in rows]


def _existing(drive_root: Path, item_id: str, where: str) -> Path:
    """The file an item id names inside a drive folder (never outside it)."""
    root = drive_root.resolve()
    path = (root / item_id).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise GraphNotFound(f"no such file in {where}", status=404)
    return path


def _check_content(content: bytes) -> None:
    if not isinstance(content, (bytes, bytearray)):
        raise GraphRequestError("file content must be bytes")
