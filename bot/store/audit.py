"""The audit trail's store: record one event in the caller's transaction, read the trail of an object or a person.

`record` is called inside the same `db.session()` as the change it records, so a change that is rolled back
leaves no audit row, and a committed change always has one. A refused turn has no transaction of its own: the
router writes its refusal in a small one (`record_refusal`).

Only ids and action names go in: every field is checked against a narrow pattern, so free text (a record's
content, a card's payload, a name) cannot reach the table even by mistake.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models_audit import AuditEvent

# Actions (verbs in the past tense).
CREATED, VIEWED, CHANGED, EXPORTED, REFUSED, DELETED = "created", "viewed", "changed", "exported", "refused", "deleted"
# Requests and bookings (issue 12): what happened to a supervision request or a booked session.
SUBMITTED, ALLOCATED, WITHDRAWN = "submitted", "allocated", "withdrawn"
BOOKED, MOVED, CANCELLED = "booked", "moved", "cancelled"
ACTIONS = frozenset(
    {CREATED, VIEWED, CHANGED, EXPORTED, REFUSED, DELETED, SUBMITTED, ALLOCATED, WITHDRAWN, BOOKED, MOVED, CANCELLED}
)

# Object kinds.
PERSON = "person"
TARGETED_RECORD = "targeted_record"
GROUP_RECORD = "group_record"
AGREEMENT = "agreement"
REQUEST = "request"
COMMAND = "command"  # a refused typed command: object_id is the command word
VERB = "verb"  # a refused card verb: object_id is the verb
MEETING = "meeting"  # a booked 1:1 (or enrichment-week) session: supervision_meetings.id
GROUP_SESSION = "group_session"  # a group session booked from an offer: group_sessions.id
EXPORT = "export"  # an export for governors and inspection: exports.id
DASHBOARD = "dashboard"
AUDIT_TRAIL = "audit_trail"
TRUST_PICTURE = "trust_picture"  # a trust lead looked at the trust's figures (issue 10)
HANDOVER = "handover"  # a supervisee handed over to a new supervisor (seed 004 §5)
RECORD_ACCESS = "record_access"  # read access to a 1:1 record given (created) or ended (deleted) by a handover

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: Ids: database integers, staff ids, command words and verbs (ASCII, no spaces) — never text someone typed.
_ID = re.compile(r"^[A-Za-z0-9_.:@?-]{1,120}$")


class NotAnId(ValueError):
    """Something that is not an id or an action name was given to the audit trail (a bug: refused loudly)."""


def _check(pattern: re.Pattern, value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        # Never echo the value: it may be exactly the content that must not be stored or logged.
        raise NotAnId(f"audit {what} is not an id")
    return value


def school_time(at: dt.datetime, tz: ZoneInfo) -> str:
    """The instant as the school's wall clock reads it, ISO 8601 with its offset (e.g. 2026-11-23T10:00:00+00:00)."""
    return at.astimezone(tz).isoformat(timespec="seconds")


async def record(
    s: AsyncSession,
    *,
    actor_id: str | None,
    action: str,
    kind: str,
    object_id: str | int | None,
    at: dt.datetime,
    tz: ZoneInfo,
) -> AuditEvent:
    """Add one event to the caller's transaction (committed or rolled back with the change it records)."""
    row = AuditEvent(**event_row(actor_id=actor_id, action=action, kind=kind, object_id=object_id, at=at, tz=tz))
    s.add(row)
    await s.flush()
    return row


def event_row(
    *, actor_id: str | None, action: str, kind: str, object_id: str | int | None, at: dt.datetime, tz: ZoneInfo
) -> dict:
    """One event's columns, checked as `record` checks them, for a write batched with others (bot/store/batch.py)."""
    if action not in ACTIONS:
        raise NotAnId("audit action is not one of the known actions")
    return dict(
        at=at,
        school_time=school_time(at, tz),
        actor_id=_check(_ID, actor_id, "actor") if actor_id is not None else None,
        action=action,
        object_kind=_check(_NAME, kind, "object kind"),
        object_id=_check(_ID, str(object_id), "object id") if object_id is not None else None,
    )


async def for_object(s: AsyncSession, kind: str, object_id: str | int, *, limit: int = 50) -> Sequence[AuditEvent]:
    """The trail of one object (a record, an agreement …), newest first."""
    q = (
        select(AuditEvent)
        .where(AuditEvent.object_kind == kind, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return (await s.scalars(q)).all()


async def for_person(s: AsyncSession, staff_id: str, *, limit: int = 50) -> Sequence[AuditEvent]:
    """What one person did or was refused, and what was done to them as a person, newest first."""
    q = (
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.actor_id == staff_id,
                and_(AuditEvent.object_kind == PERSON, AuditEvent.object_id == staff_id),
            )
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return (await s.scalars(q)).all()


async def expire(s: AsyncSession, *, before: dt.datetime) -> int:
    """Retention: delete the events older than `before` (the only way rows ever leave the table)."""
    result = await s.execute(delete(AuditEvent).where(AuditEvent.at < before))
    return result.rowcount or 0


async def between(
    s: AsyncSession, start: dt.datetime, end: dt.datetime, *, limit: int = 50_000
) -> Sequence[AuditEvent]:
    """Every event from `start` (inclusive) to `end` (exclusive), oldest first: a half term's trail for an export."""
    q = (
        select(AuditEvent)
        .where(AuditEvent.at >= start, AuditEvent.at < end)
        .order_by(AuditEvent.at, AuditEvent.id)
        .limit(limit)
    )
    return (await s.scalars(q)).all()
