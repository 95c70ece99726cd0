"""Outbox handlers for Microsoft 365 side effects, and payload builders for journeys that enqueue them.

Kinds (the journeys already enqueue the first four):

    calendar.create       {event_key, organizer_id | organizer, attendee_ids | attendees, start, end,
                           subject?, online?}                       → {meeting_id, join_url, web_link, …}
    calendar.update       {event_key, start?, end?, attendee_ids | attendees?, subject?}
    calendar.cancel       {event_key, comment?}                     → {cancelled: bool}
    files.channel_upload  {name, subfolder?, content_b64 | content_ref, …}  → {name, web_url, item_id, …}
    files.personal_share  {owner_id | owner, name, share_with_id | share_with, role?, folder?, content…}
    files.personal_grant  {owner_id, item_id, share_with_id, role?}  → {recipient, roles}  (a handover)
    files.personal_revoke {owner_id, item_id, recipient_id}     → {revoked: bool}
    apps.install          {staff_id | user}                         → {installed: bool}

`*_id` fields are school staff ids (resolved through the school config); the plain fields take an email or an
Entra object id. `event_key` is the caller's stable name for a meeting: it becomes Graph's transactionId (a
retried create books once) and the key under which update/cancel find the meeting later (table
m365_meeting_keys). Enqueue create/update/cancel of one meeting with the same outbox `chain` so they run in order.

Documents: prefer `content_ref` (a small dict; `load_content(ref)` returns the bytes at delivery time, so the
text stays in the store); `content_b64` carries small generated files in the row itself.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.outbox.errors import PermanentFailure
from bot.store.models_local_m365 import M365MeetingKey
from graph.errors import GraphNotFound
from graph.ports import DEFAULT_SUBJECT, Attendee, M365Backend, Meeting, MeetingRequest, Role, StoredFile

Handler = Callable[[dict], Awaitable["dict | None"]]
ContentLoader = Callable[[dict], Awaitable[bytes]]

CALENDAR_CREATE = "calendar.create"
CALENDAR_UPDATE = "calendar.update"
CALENDAR_CANCEL = "calendar.cancel"
CHANNEL_UPLOAD = "files.channel_upload"
PERSONAL_SHARE = "files.personal_share"
PERSONAL_GRANT = "files.personal_grant"
PERSONAL_REVOKE = "files.personal_revoke"
APP_INSTALL = "apps.install"


# ---------------------------------------------------------------- payload builders → (kind, payload)


def _people(attendees: Sequence[Attendee | str]) -> dict:
    if all(isinstance(a, str) for a in attendees):
        return {"attendee_ids": list(dict.fromkeys(attendees))}
    return {"attendees": [{"email": a.email, "name": a.name} for a in attendees]}  # type: ignore[union-attr]


def calendar_create(
    event_key: str,
    *,
    organizer_id: str | None = None,
    organizer: str | None = None,
    attendees: Sequence[Attendee | str],
    start: dt.datetime,
    end: dt.datetime,
    subject: str = DEFAULT_SUBJECT,
    online: bool = True,
) -> tuple[str, dict]:
    """attendees: staff ids (str) or Attendee(email, name). Give organizer_id (staff id) or organizer (address)."""
    if not (organizer_id or organizer):
        raise ValueError("give organizer_id or organizer")
    p: dict[str, Any] = {
        "event_key": event_key,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "subject": subject,
        "online": online,
        **_people(attendees),
    }
    p.update({"organizer_id": organizer_id} if organizer_id else {"organizer": organizer})
    return CALENDAR_CREATE, p


def calendar_update(
    event_key: str,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    attendees: Sequence[Attendee | str] | None = None,
    subject: str | None = None,
) -> tuple[str, dict]:
    p: dict[str, Any] = {"event_key": event_key}
    if start is not None:
        p["start"] = start.isoformat()
    if end is not None:
        p["end"] = end.isoformat()
    if attendees is not None:
        p.update(_people(attendees))
    if subject is not None:
        p["subject"] = subject
    return CALENDAR_UPDATE, p


def calendar_cancel(event_key: str, *, comment: str | None = None) -> tuple[str, dict]:
    return CALENDAR_CANCEL, {"event_key": event_key, "comment": comment}


def channel_upload(
    name: str, *, content_ref: dict | None = None, content: bytes | None = None, subfolder: str | None = None, **extra
) -> tuple[str, dict]:
    """`extra` fields (e.g. record_id) ride along for the on_delivered hook."""
    return CHANNEL_UPLOAD, {"name": name, "subfolder": subfolder, **_content(content_ref, content), **extra}


def personal_share(
    name: str,
    *,
    owner_id: str | None = None,
    owner: str | None = None,
    share_with_id: str | None = None,
    share_with: str | None = None,
    share_with_ids: Sequence[str] | None = None,
    role: Role = "read",
    folder: str = "Supervision records",
    content_ref: dict | None = None,
    content: bytes | None = None,
    **extra,
) -> tuple[str, dict]:
    if not (owner_id or owner) or not (share_with_id or share_with or share_with_ids):
        raise ValueError("give the owner and the person (or people) to share with")
    p = {"name": name, "role": role, "folder": folder, **_content(content_ref, content), **extra}
    p.update({"owner_id": owner_id} if owner_id else {"owner": owner})
    if share_with_ids:
        p["share_with_ids"] = list(dict.fromkeys(share_with_ids))
    else:
        p.update({"share_with_id": share_with_id} if share_with_id else {"share_with": share_with})
    return PERSONAL_SHARE, p


def personal_grant(*, owner_id: str, item_id: str, share_with_id: str, role: Role = "read") -> tuple[str, dict]:
    """Share a file already in the owner's OneDrive with one more person (by staff ids)."""
    return PERSONAL_GRANT, {"owner_id": owner_id, "item_id": item_id, "share_with_id": share_with_id, "role": role}


def personal_revoke(*, owner_id: str, item_id: str, recipient_id: str) -> tuple[str, dict]:
    """End one person's access to a file in the owner's OneDrive (by staff ids)."""
    return PERSONAL_REVOKE, {"owner_id": owner_id, "item_id": item_id, "recipient_id": recipient_id}


def app_install(*, staff_id: str | None = None, user: str | None = None) -> tuple[str, dict]:
    if not (staff_id or user):
        raise ValueError("give staff_id or user")
    return APP_INSTALL, ({"staff_id": staff_id} if staff_id else {"user": user})


def _content(content_ref: dict | None, content: bytes | None) -> dict:
    if (content_ref is None) == (content is None):
        raise ValueError("give exactly one of content_ref (preferred) or content")
    if content_ref is not None:
        return {"content_ref": content_ref}
    return {"content_b64": base64.b64encode(content).decode()}


# ---------------------------------------------------------------- handlers


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _meeting_result(m: Meeting) -> dict:
    return {
        "meeting_id": m.id,
        "event_id": m.id,
        "organizer": m.organizer,
        "join_url": m.join_url,
        "web_link": m.web_link,
        "start": m.start.isoformat() if m.start else None,
        "end": m.end.isoformat() if m.end else None,
    }


def _file_result(f: StoredFile) -> dict:
    return {
        "name": f.name,
        "web_url": f.web_url,
        "item_id": f.item_id,
        "drive_id": f.drive_id,
        "size": f.size,
        "reused": f.reused,
    }


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def graph_handlers(
    backend: M365Backend,
    *,
    db,
    school=None,
    load_content: ContentLoader | None = None,
    clock: Callable[[], dt.datetime] = _utcnow,
) -> dict[str, Handler]:
    """kind → handler, for OutboxWorker. `db` keeps event_key → meeting; `school` resolves staff ids;
    `load_content(content_ref)` returns a document's bytes at delivery time."""

    def address(p: dict, id_field: str, plain_field: str) -> str:
        if p.get(plain_field):
            return p[plain_field]
        sid = p.get(id_field)
        if sid is None:
            raise PermanentFailure(f"the payload has neither {id_field} nor {plain_field}")
        member = school.staff.get(sid) if school is not None else None
        if member is None:
            raise PermanentFailure(f"{id_field} {sid!r} is not on the school roster")
        return member.email

    def attendees_of(p: dict, organizer: str) -> list[Attendee] | None:
        if p.get("attendees") is not None:
            people = [Attendee(a["email"], a.get("name") or "") for a in p["attendees"]]
        elif p.get("attendee_ids") is not None:
            if school is None:
                raise PermanentFailure("attendee_ids need graph_handlers(school=...)")
            people = []
            for sid in p["attendee_ids"]:
                member = school.staff.get(sid)
                if member is None:
                    raise PermanentFailure(f"attendee {sid!r} is not on the school roster")
                people.append(Attendee(member.email, member.name))
        else:
            return None
        # The organiser is never their own invitee: a personal copy is an event with no attendees.
        return [a for a in people if a.email.lower() != organizer.lower()]

    async def content_of(p: dict) -> bytes:
        if p.get("content_b64") is not None:
            return base64.b64decode(p["content_b64"])
        if p.get("content_ref") is not None:
            if load_content is None:
                raise PermanentFailure("a content_ref needs graph_handlers(load_content=...)")
            return await load_content(p["content_ref"])
        raise PermanentFailure("the payload carries no content")

    async def known(event_key: str) -> M365MeetingKey | None:
        async with db.session() as s:
            return await s.get(M365MeetingKey, event_key)

    async def create(p: dict) -> dict:
        """Book the meeting in the organiser's calendar and invite the attendees (once, however often retried)."""
        organizer = address(p, "organizer_id", "organizer")
        req = MeetingRequest(
            organizer=organizer,
            attendees=tuple(attendees_of(p, organizer) or ()),
            start=_dt(p["start"]),
            end=_dt(p["end"]),
            idempotency_key=p["event_key"],
            subject=p.get("subject") or DEFAULT_SUBJECT,
            online=p.get("online", True),
        )
        m = await backend.calendar.create_meeting(req)
        async with db.session() as s:
            row = await s.get(M365MeetingKey, p["event_key"])
            if row is None:
                s.add(
                    M365MeetingKey(
                        key=p["event_key"],
                        organizer=organizer,
                        meeting_id=m.id,
                        created_at=clock(),
                        join_url=m.join_url,
                    )
                )
            else:
                row.organizer, row.meeting_id, row.join_url = organizer, m.id, m.join_url
        return _meeting_result(m)

    async def update(p: dict) -> dict:
        """Move, re-invite or rename a meeting created earlier under the same event_key."""
        row = await known(p["event_key"])
        if row is None:
            raise PermanentFailure("the meeting to update was never created")
        m = await backend.calendar.update_meeting(
            row.organizer,
            row.meeting_id,
            start=_dt(p.get("start")),
            end=_dt(p.get("end")),
            attendees=attendees_of(p, row.organizer),
            subject=p.get("subject"),
        )
        return _meeting_result(m)

    async def cancel(p: dict) -> dict:
        """Cancel a meeting and tell the attendees; nothing to do if it was never created."""
        row = await known(p["event_key"])
        if row is None:
            return {"cancelled": False, "reason": "never created"}
        try:
            await backend.calendar.cancel_meeting(row.organizer, row.meeting_id, comment=p.get("comment"))
        except GraphNotFound:
            pass
        return {"cancelled": True, "meeting_id": row.meeting_id}

    async def upload(p: dict) -> dict:
        """File a document in the Safeguarding channel's files (never overwriting)."""
        f = await backend.channel_files.upload(p["name"], await content_of(p), subfolder=p.get("subfolder"))
        return _file_result(f)

    async def share(p: dict) -> dict:
        """Put a 1:1 record in the supervisor's OneDrive and share it with the supervisee only."""
        if p.get("share_with_ids"):
            people = [address({"share_with_id": sid}, "share_with_id", "share_with") for sid in p["share_with_ids"]]
        else:
            people = address(p, "share_with_id", "share_with")
        f = await backend.personal_files.upload_and_share(
            address(p, "owner_id", "owner"),
            p["name"],
            await content_of(p),
            share_with=people,
            role=p.get("role", "read"),
            folder=p.get("folder") or "Supervision records",
        )
        return _file_result(f)

    async def grant(p: dict) -> dict:
        """Give one more person read access to a file in someone's OneDrive (a handover's re-share)."""
        g = await backend.personal_files.share(
            address(p, "owner_id", "owner"),
            p["item_id"],
            share_with=address(p, "share_with_id", "share_with"),
            role=p.get("role", "read"),
        )
        return {"recipient": g.recipient, "roles": list(g.roles)}

    async def revoke(p: dict) -> dict:
        """End one person's access to a file in someone's OneDrive; a file already gone has nobody to revoke."""
        try:
            done = await backend.personal_files.revoke(
                address(p, "owner_id", "owner"), p["item_id"], recipient=address(p, "recipient_id", "recipient")
            )
        except GraphNotFound:
            done = False
        return {"revoked": done}

    async def install(p: dict) -> dict:
        """Install the Teams app for someone so reminders can reach them."""
        user = p.get("user")
        if not user:
            member = school.staff.get(p.get("staff_id")) if school is not None else None
            if member is None:
                raise PermanentFailure("apps.install: unknown staff_id")
            user = member.aad_object_id
        return {"installed": await backend.apps.install_for_user(user)}

    return {
        CALENDAR_CREATE: create,
        CALENDAR_UPDATE: update,
        CALENDAR_CANCEL: cancel,
        CHANNEL_UPLOAD: upload,
        PERSONAL_SHARE: share,
        PERSONAL_GRANT: grant,
        PERSONAL_REVOKE: revoke,
        APP_INSTALL: install,
    }
