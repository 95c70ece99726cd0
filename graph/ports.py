"""Microsoft 365 ports: what the bot needs from Microsoft 365, as typed Protocols and small value objects.

Two implementations satisfy them: graph/msgraph (msgraph-sdk + azure-identity, production) and graph/local (the
embedded default: files in a folder, events in the store plus .ics files). tests/graph runs one contract suite
against both.

Identifiers: a "user" is an Entra object id or a user principal name / SMTP address (Graph accepts either).
Datetimes are aware; the backends return UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

DEFAULT_SUBJECT = "Supervision"
MAX_SCHEDULES_PER_CALL = 20  # GUIDE §2: getSchedule takes at most 20 people per call
MAX_BATCH_REQUESTS = 20  # GUIDE §2: $batch takes at most 20 requests
MAX_SCHEDULE_WINDOW = dt.timedelta(days=62)  # GUIDE §2: the window must be shorter than 62 days
MIN_INTERVAL, MAX_INTERVAL = 5, 1440  # GUIDE §2: availabilityViewInterval, minutes
Role = Literal["read", "write"]


# ---------------------------------------------------------------- directory


@dataclass(frozen=True)
class DirectoryUser:
    id: str  # Entra object id
    display_name: str
    mail: str | None = None
    user_principal_name: str | None = None
    job_title: str | None = None
    account_enabled: bool | None = None


@dataclass(frozen=True)
class MemberChange:
    """One direct-membership change reported by a group delta query (`members@delta`)."""

    group_id: str
    member_id: str
    kind: Literal["user", "group"] = "user"
    removed: bool = False


@dataclass(frozen=True)
class GroupsDelta:
    """A completed round of group delta queries: the changes since the link passed in (every current direct member
    when none was), and the link to pass next time. Tokens for directory objects last seven days."""

    changes: tuple[MemberChange, ...]
    delta_link: str
    initial: bool


MAX_DELTA_GROUPS = 50  # group delta: at most 50 ids in one $filter


@runtime_checkable
class Directory(Protocol):
    async def get_user(self, user: str) -> DirectoryUser | None:
        """One user by object id or UPN; None if there is no such user."""

    def iter_group_members(self, group_id: str, *, page_size: int = 100) -> AsyncIterator[DirectoryUser]:
        """Every user in the group (nested groups included), page by page. GraphNotFound for an unknown group:
        a roster sync must never read "no such group" as "everyone left"."""

    async def group_members(self, group_id: str) -> list[DirectoryUser]:
        """iter_group_members, collected."""

    async def get_manager(self, user: str) -> DirectoryUser | None:
        """The user's manager, or None when none is set."""

    async def groups_delta(self, group_ids: Sequence[str], *, delta_link: str | None = None) -> GroupsDelta:
        """Direct-membership changes of up to 50 groups, following every page. Without `delta_link`, the initial
        round (all current members). GraphDeltaExpired when the link is no longer valid: start again without it."""


# ---------------------------------------------------------------- calendar


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""


@dataclass(frozen=True)
class BusyBlock:
    start: dt.datetime
    end: dt.datetime
    status: str = "busy"  # busy | tentative | oof | workingElsewhere | unknown


@dataclass(frozen=True)
class Schedule:
    """One person's busy time in the asked window. `error` is set (and `busy` empty) when Graph could not read it."""

    person: str
    busy: tuple[BusyBlock, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class MeetingRequest:
    """A Teams meeting in the organiser's calendar, invitations to the attendees. Private, neutral subject.

    `idempotency_key` becomes Graph's transactionId: sending the same request twice books once.
    The subject is whatever the caller passes (default "Supervision"): never put topics or notes in it.
    """

    organizer: str
    attendees: tuple[Attendee, ...]
    start: dt.datetime
    end: dt.datetime
    idempotency_key: str
    subject: str = DEFAULT_SUBJECT
    online: bool = True  # a Teams meeting; False: a plain calendar entry (e.g. a personal copy)


@dataclass(frozen=True)
class Meeting:
    id: str
    organizer: str
    subject: str
    start: dt.datetime
    end: dt.datetime
    attendees: tuple[str, ...] = ()
    join_url: str | None = None
    web_link: str | None = None
    is_online_meeting: bool = True
    sensitivity: str = "private"


@runtime_checkable
class Calendar(Protocol):
    async def get_schedule(
        self,
        people: Sequence[str],
        start: dt.datetime,
        end: dt.datetime,
        *,
        interval_minutes: int = 30,
        as_user: str | None = None,
    ) -> list[Schedule]:
        """Busy time for any number of people (SMTP addresses), in order. Batched by 20 per getSchedule call.
        The window must be shorter than 62 days; the interval 5–1440 minutes (GraphRequestError otherwise)."""

    async def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Create (or, for a repeated idempotency key, return the already created) meeting."""

    async def update_meeting(
        self,
        organizer: str,
        meeting_id: str,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        attendees: Sequence[Attendee] | None = None,
        subject: str | None = None,
    ) -> Meeting:
        """Move, re-invite or rename; attendees get an update."""

    async def cancel_meeting(self, organizer: str, meeting_id: str, *, comment: str | None = None) -> None:
        """Cancel and tell the attendees. Cancelling a meeting that is already gone is not an error."""

    async def get_meeting(self, organizer: str, meeting_id: str) -> Meeting | None:
        """The meeting as the organiser's calendar has it, or None."""


# ---------------------------------------------------------------- files


@dataclass(frozen=True)
class FolderRef:
    drive_id: str
    item_id: str
    web_url: str | None = None


@dataclass(frozen=True)
class StoredFile:
    """Where a file landed. `name` may differ from the one asked for ("Record (2).docx"): never overwrite.
    `reused` is True when an identical file was already there under that name (an earlier attempt that got
    through before its answer was lost), so a retry never leaves a duplicate."""

    name: str
    web_url: str
    item_id: str
    drive_id: str
    size: int
    reused: bool = False


@dataclass(frozen=True)
class SharingGrant:
    recipient: str  # email (or object id) of the person it is shared with
    roles: tuple[str, ...]
    link_scope: str | None = None  # set only for sharing links (we never create them)


@runtime_checkable
class ChannelFiles(Protocol):
    async def resolve_folder(self) -> FolderRef:
        """The Safeguarding channel's files folder (each private channel has its own SharePoint site)."""

    async def upload(self, name: str, content: bytes, *, subfolder: str | None = None) -> StoredFile:
        """Upload into the channel folder (optionally a subfolder, created as needed). Never overwrites."""

    async def download(self, item_id: str) -> bytes:
        """The bytes of a file uploaded earlier (by its StoredFile.item_id). GraphNotFound if it is gone."""

    async def replace(self, item_id: str, content: bytes) -> StoredFile:
        """New content for a file uploaded earlier, in place (same item, name and link; SharePoint keeps the
        earlier content in the file's version history): a record's sign-off table filled in. GraphNotFound if the
        file is gone."""


@runtime_checkable
class PersonalFiles(Protocol):
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
        """Upload to the owner's OneDrive and share it with one person, or each of several (one invitation to
        named people, never a link)."""

    async def download(self, owner: str, item_id: str) -> bytes:
        """The bytes of a file in the owner's OneDrive (by its StoredFile.item_id): an amendment reads the record
        back, since the bot keeps no copy of the text. GraphNotFound if it is gone."""

    async def replace(self, owner: str, item_id: str, content: bytes) -> StoredFile:
        """New content for a file in the owner's OneDrive, in place (same item, sharing and link; OneDrive keeps
        the earlier content in the file's version history). GraphNotFound if it is gone."""

    async def grants(self, owner: str, item_id: str) -> list[SharingGrant]:
        """Who besides the owner can open the item."""

    async def share(self, owner: str, item_id: str, *, share_with: str, role: Role = "read") -> SharingGrant:
        """Share an item already in the owner's OneDrive with one more person (an invitation, never a link): a
        handover gives the new supervisor the records of the last six months. Sharing again is not an error.
        GraphNotFound if the item is gone."""

    async def revoke(self, owner: str, item_id: str, *, recipient: str) -> bool:
        """End one person's access to an item of the owner's (their sharing grant is deleted). True if there was
        one, False if they had none (revoking twice is not an error). The owner's own access cannot be revoked."""


@runtime_checkable
class Apps(Protocol):
    async def install_for_user(self, user: str) -> bool:
        """Install our Teams app in the user's personal scope. True if installed now, False if already there."""


@runtime_checkable
class M365Backend(Protocol):
    mode: str  # "local" | "msgraph"
    directory: Directory
    calendar: Calendar
    channel_files: ChannelFiles
    personal_files: PersonalFiles
    apps: Apps

    async def verify(self) -> None:
        """Check at start-up that the backend can work (signs in to Graph once). GraphAuthError if not."""

    async def close(self) -> None:
        """Release clients and credentials."""
