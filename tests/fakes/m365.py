"""A backend-neutral view of what the bot left in Microsoft 365, for journey tests that run on both backends.

Journey tests check effects here (channel files, a person's calendar, OneDrive shares, app installs) instead of
reading the local backend's folder or tables, so the same assertion holds on the local backend and on msgraph-sdk
against the Graph double. Reads go to the storage itself (the local folder and store, or the double's state), never
through the backend under test."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store.models_local_m365 import LocalAppInstall, LocalMeeting, LocalSharingGrant
from graph.naming import safe_name
from graph.settings import GraphSettings
from tests.fakes.graph_double import GraphDouble, _parse_dtz, seed_from_school

# The Graph double's Safeguarding channel (tests/graph/conftest.py seeds the same ids).
TEAM_ID = "8f3c2a10-6b7e-4d55-9a2f-1c0de5a1b2c3"
CHANNEL_ID = "19:4b1d3c2e9f8a4e7d@thread.tacv2"
TEAMS_APP_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
GRAPH_ALL_STAFF = "3d2f5a70-1c4b-4e8d-9f6a-2b7c8d9e0a1f"
# Staff id → manager's staff id, the same for both backends (the school config has no managers).
MANAGERS = {"tom.hollis": "amara.okafor", "priya.raman": "daniel.whitcombe"}


def graph_settings(double: GraphDouble, **over) -> GraphSettings:
    """msgraph settings pointing at a started double (no retries inside the SDK: the outbox retries)."""
    values: dict[str, Any] = dict(
        tenant_id="00000000-0000-4000-8000-00000000aaaa",
        client_id="00000000-0000-4000-8000-00000000bbbb",
        client_secret="not-used",
        base_url=double.url,
        team_id=TEAM_ID,
        safeguarding_channel_id=CHANNEL_ID,
        teams_app_id=TEAMS_APP_ID,
        sdk_max_retries=0,
        timeout_seconds=10,
        simple_upload_max_bytes=256 * 1024,
        upload_chunk_bytes=320 * 1024,
    )
    values.update(over)
    return GraphSettings(_env_file=None, **values)


async def seeded_double(school, **kw) -> GraphDouble:
    """A started Graph double holding the school's staff and groups, the Safeguarding channel and the app."""
    d = await GraphDouble(**kw).start()
    seed_from_school(d, school, all_staff_group=GRAPH_ALL_STAFF, managers=MANAGERS)
    d.add_channel(TEAM_ID, CHANNEL_ID, "Safeguarding")
    d.add_catalog_app(TEAMS_APP_ID)
    return d


@dataclass(frozen=True)
class Event:
    """A calendar event as both backends hold it: emails lower case, times aware UTC."""

    organizer: str
    subject: str
    start: dt.datetime
    end: dt.datetime
    attendees: tuple[str, ...] = field(default_factory=tuple)
    join_url: str = ""
    private: bool = False
    stored: str = ""  # everything the calendar stores for the event, as text (to check nothing leaked)


@dataclass(frozen=True)
class Share:
    """One file in someone's OneDrive and who it is shared with (besides the owner)."""

    owner: str  # staff id
    path: str  # from the drive root, "/"-separated
    content: bytes
    recipients: tuple[str, ...]  # emails, lower case


class M365Reader:
    def __init__(self, kind: str, *, db, school, root: Path, double: GraphDouble | None = None):
        self.kind = kind
        self.db = db
        self.school = school
        self.root = Path(root)
        self.double = double

    # ------------------------------------------------------------ channel files

    def channel_files(self) -> dict[str, bytes]:
        """Every file in the Safeguarding channel folder, by its path inside that folder."""
        if self.double is not None:
            drive_id, _ = self.double.channels[(TEAM_ID, CHANNEL_ID)]
            prefix = "Safeguarding/"
            return {p[len(prefix) :]: b for p, b in self.double.files(drive_id).items() if p.startswith(prefix)}
        cfg = self.school.settings.safeguarding_channel
        folder = self.root / "channels" / safe_name(cfg.team_id) / safe_name(cfg.channel_name)
        if not folder.is_dir():
            return {}
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    def channel_file_url(self, name: str) -> str | None:
        """The web address the storage gives a file in the channel folder (a file: URI locally)."""
        if self.double is not None:
            drive_id, _ = self.double.channels[(TEAM_ID, CHANNEL_ID)]
            d = self.double.drives[drive_id]
            for item in d.items.values():
                if not item.folder and self.double._path_of(d, item) == f"Safeguarding/{name}":
                    return self.double._item_json(d, item)["webUrl"]
            return None
        cfg = self.school.settings.safeguarding_channel
        p = self.root / "channels" / safe_name(cfg.team_id) / safe_name(cfg.channel_name) / name
        return p.resolve().as_uri() if p.is_file() else None

    # ------------------------------------------------------------ calendars

    async def events(self) -> list[Event]:
        """Every event that is not cancelled, in creation order."""
        if self.double is not None:
            out = []
            for ev in self.double.events.values():
                if ev.get("isCancelled"):
                    continue
                out.append(
                    Event(
                        organizer=ev["organizer"]["emailAddress"]["address"].lower(),
                        subject=ev.get("subject", ""),
                        start=_parse_dtz(ev["start"]).astimezone(dt.timezone.utc),
                        end=_parse_dtz(ev["end"]).astimezone(dt.timezone.utc),
                        attendees=tuple(a["emailAddress"]["address"].lower() for a in ev.get("attendees", [])),
                        join_url=(ev.get("onlineMeeting") or {}).get("joinUrl", ""),
                        private=ev.get("sensitivity") == "private",
                        stored=json.dumps(ev, default=str),
                    )
                )
            return out
        async with self.db.session() as s:
            rows = (
                (
                    await s.execute(
                        select(LocalMeeting)
                        .where(LocalMeeting.is_cancelled.is_(False))
                        .order_by(LocalMeeting.created_at)
                    )
                )
                .scalars()
                .all()
            )
        ics = [(p.stem, p.read_text()) for p in (self.root / "calendars").rglob("*.ics")]
        out = []
        for r in rows:
            # The local calendar's .ics files (one per attendee) hold the event's text.
            text = "\n".join(t for stem, t in ics if stem == r.id)
            out.append(
                Event(
                    organizer=r.organizer,
                    subject=r.subject,
                    start=r.start,
                    end=r.end,
                    attendees=tuple(r.attendees or []),
                    join_url=r.join_url,
                    private=bool(text) and "CLASS:PRIVATE" in text,
                    stored=text,
                )
            )
        return out

    async def events_for(self, staff_id: str) -> list[Event]:
        """Events this person organises or attends, not cancelled."""
        email = self.school.staff[staff_id].email.lower()
        return [e for e in await self.events() if e.organizer == email or email in e.attendees]

    # ------------------------------------------------------------ OneDrive

    async def shares(self) -> list[Share]:
        """Every file in anyone's OneDrive with the people it is shared with."""
        if self.double is not None:
            by_aad = {s.aad_object_id: s.id for s in self.school.staff.values()}
            out = []
            for user_id, drive_id in self.double.user_drives.items():
                d = self.double.drives[drive_id]
                for item in d.items.values():
                    if item.folder:
                        continue
                    perms = self.double.permissions.get((drive_id, item.id), [])
                    out.append(
                        Share(
                            owner=by_aad.get(user_id, user_id),
                            path=self.double._path_of(d, item),
                            content=item.content,
                            recipients=tuple(p["grantedToV2"]["user"]["email"].lower() for p in perms),
                        )
                    )
            return out
        async with self.db.session() as s:
            grants = (await s.execute(select(LocalSharingGrant))).scalars().all()
        out = []
        base = self.root / "onedrive"
        for p in sorted(base.rglob("*")) if base.is_dir() else []:
            if not p.is_file():
                continue
            owner = p.relative_to(base).parts[0]
            drive_id = f"local:onedrive/{owner}"
            path = p.relative_to(base / owner).as_posix()
            out.append(
                Share(
                    owner=owner,
                    path=path,
                    content=p.read_bytes(),
                    recipients=tuple(
                        g.recipient.lower() for g in grants if g.drive_id == drive_id and g.item_id == path
                    ),
                )
            )
        return out

    # ------------------------------------------------------------ Teams apps

    async def installed_for(self) -> set[str]:
        """Staff ids the app has been installed for by the bot (proactive install)."""
        by_aad = {s.aad_object_id.lower(): s.id for s in self.school.staff.values()}
        if self.double is not None:
            return {by_aad.get(u.lower(), u) for u, apps in self.double.installed.items() if TEAMS_APP_ID in apps}
        async with self.db.session() as s:
            rows = (await s.execute(select(LocalAppInstall))).scalars().all()
        return {by_aad.get(r.user.lower(), r.user) for r in rows}
