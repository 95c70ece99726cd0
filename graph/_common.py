"""Checks and conversions both backends share, so they accept and refuse exactly the same arguments."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from graph.errors import GraphRequestError
from graph.ports import MAX_INTERVAL, MAX_SCHEDULE_WINDOW, MIN_INTERVAL, Attendee, MeetingRequest

_TX_NAMESPACE = uuid.UUID("6f1c1d0e-5b8a-4b0e-9d5e-3a1f4c2b7e10")


def utc(value: dt.datetime, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise GraphRequestError(f"{what} must be an aware datetime")
    return value.astimezone(dt.timezone.utc)


def check_schedule_args(
    people: Sequence[str], start: dt.datetime, end: dt.datetime, interval_minutes: int
) -> tuple[dt.datetime, dt.datetime]:
    start, end = utc(start, "start"), utc(end, "end")
    if end <= start:
        raise GraphRequestError("the free/busy window must end after it starts")
    if end - start >= MAX_SCHEDULE_WINDOW:
        raise GraphRequestError("the free/busy window must be shorter than 62 days")
    if not MIN_INTERVAL <= interval_minutes <= MAX_INTERVAL:
        raise GraphRequestError("the free/busy interval must be 5–1440 minutes")
    if isinstance(people, str):
        raise GraphRequestError("people must be a list of addresses, not one string")
    return start, end


def check_meeting(req: MeetingRequest) -> tuple[dt.datetime, dt.datetime]:
    start, end = utc(req.start, "start"), utc(req.end, "end")
    if end <= start:
        raise GraphRequestError("a meeting must end after it starts")
    if not req.idempotency_key:
        raise GraphRequestError("a meeting needs an idempotency key (it becomes Graph's transactionId)")
    if not req.subject or not req.subject.strip():
        raise GraphRequestError("a meeting needs a subject (the neutral default is \"Supervision\")")
    return start, end


def transaction_id(idempotency_key: str) -> str:
    """A stable, well-formed transactionId for an idempotency key (Graph dedupes event creation on it)."""
    return str(uuid.uuid5(_TX_NAMESPACE, idempotency_key))


def attendee_emails(attendees: Sequence[Attendee]) -> list[str]:
    seen: list[str] = []
    for a in attendees:
        e = a.email.strip().lower()
        if e and e not in seen:
            seen.append(e)
    return seen


def graph_datetime(date_time: str | None, time_zone: str | None) -> dt.datetime | None:
    """Graph's dateTimeTimeZone ("2026-09-14T09:00:00.0000000", "UTC") as an aware UTC datetime."""
    if not date_time:
        return None
    raw = date_time.rstrip("Z")
    if "." in raw:
        head, frac = raw.split(".", 1)
        raw = f"{head}.{frac[:6]}"
    value = dt.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        tz = (time_zone or "UTC").strip()
        if tz.upper() in ("UTC", "Z", "GMT", "ETC/UTC", "COORDINATED UNIVERSAL TIME"):
            value = value.replace(tzinfo=dt.timezone.utc)
        else:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                value = value.replace(tzinfo=ZoneInfo(tz))
            except (ZoneInfoNotFoundError, ValueError):
                # We always ask for UTC (Prefer: outlook.timezone="UTC"); a Windows zone name here is a surprise.
                raise GraphRequestError(f"unexpected time zone {tz!r} in a Graph response") from None
    return value.astimezone(dt.timezone.utc)


def graph_datetime_str(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000")
