"""Writing to the outbox, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models_outbox import DEAD, PENDING, OutboxRow
from bot.store.upsert import insert_ignore

# Payloads carry references and the few fields delivery needs, never documents or notes: the store holds those.
MAX_PAYLOAD_BYTES = 256 * 1024


@dataclass(frozen=True)
class OutboxMessage:
    """A read-only view of one outbox row, handed to hooks and returned by `get`.

    In a hook, `session` is the open transaction the worker will commit together with "hook done": write the
    journey's own follow-up (e.g. the file URL) through it, so it happens exactly once.
    """

    id: int
    key: str
    kind: str
    payload: dict
    status: str
    attempts: int
    result: dict | None
    last_error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    chain: str | None = None
    session: AsyncSession | None = field(default=None, compare=False, repr=False)


def to_message(row: OutboxRow, session: AsyncSession | None = None) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        key=row.key,
        kind=row.kind,
        payload=dict(row.payload or {}),
        status=row.status,
        attempts=row.attempts,
        result=row.result,
        last_error=row.last_error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        chain=row.chain,
        session=session,
    )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    key: str,
    not_before: dt.datetime | None = None,
    chain: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Add a side effect to the caller's transaction. Returns False when `key` is already queued (a no-op).

    `chain`: rows with the same chain are delivered strictly one after another, in enqueue order (for example
    "create the meeting" before "move the meeting"). `now` only stamps created_at.
    """
    values = _row(kind, payload, key=key, not_before=not_before, chain=chain, now=now)
    return bool(await _insert(session, [values]))


@dataclass(frozen=True)
class Effect:
    """One side effect for `enqueue_many`."""

    kind: str
    payload: dict[str, Any]
    key: str
    chain: str | None = None
    not_before: dt.datetime | None = None


async def enqueue_many(session: AsyncSession, effects: list[Effect], *, now: dt.datetime | None = None) -> int:
    """Several side effects in one statement (a turn that tells every allocator pays one round trip, not one
    each). Keys already queued are skipped, as with `enqueue`; returns how many rows were added."""
    if not effects:
        return 0
    rows = [_row(e.kind, e.payload, key=e.key, not_before=e.not_before, chain=e.chain, now=now) for e in effects]
    return await _insert(session, rows)


def _row(
    kind: str,
    payload: dict[str, Any],
    *,
    key: str,
    not_before: dt.datetime | None,
    chain: str | None,
    now: dt.datetime | None,
) -> dict[str, Any]:
    if not key or len(key) > 200:
        raise ValueError("outbox key must be 1–200 characters")
    if not kind or len(kind) > 64:
        raise ValueError("outbox kind must be 1–64 characters")
    if not isinstance(payload, dict):
        raise TypeError("outbox payload must be a dict")
    try:
        encoded = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"outbox payload for {kind!r} is not plain JSON: {exc}") from None
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(
            f"outbox payload for {kind!r} is over {MAX_PAYLOAD_BYTES // 1024} KiB: "
            "store the content and put its id in the payload"
        )
    if not_before is not None and not_before.tzinfo is None:
        raise ValueError("not_before must be an aware datetime")
    return dict(
        key=key,
        kind=kind,
        payload=json.loads(encoded),
        chain=chain,
        status=PENDING,
        attempts=0,
        not_before=not_before,
        created_at=now or _utcnow(),
        hook_done=False,
        hook_attempts=0,
    )


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    school = session.sync_session.info.get("school_id")
    if school is not None:
        rows = [{**r, "school_id": school} for r in rows]
    return await insert_ignore(session, OutboxRow, rows, conflict=["key"])


async def get(session: AsyncSession, key: str) -> OutboxMessage | None:
    row = (await session.execute(select(OutboxRow).where(OutboxRow.key == key))).scalar_one_or_none()
    return to_message(row) if row else None


async def withdraw(session: AsyncSession, key: str) -> bool:
    """Take back a side effect that has not been delivered yet (a notice that must no longer go out, e.g. "shared
    with you" when the share gave up). False if there is no pending row under `key`."""
    res = await session.execute(delete(OutboxRow).where(OutboxRow.key == key, OutboxRow.status == PENDING))
    return bool(res.rowcount)


async def requeue(session: AsyncSession, key: str, *, not_before: dt.datetime | None = None) -> bool:
    """Give a dead-lettered row a fresh set of attempts (after someone fixed the cause). False if not dead."""
    res = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.key == key, OutboxRow.status == DEAD)
        .values(
            status=PENDING,
            attempts=0,
            not_before=not_before,
            claimed_until=None,
            claim_token=None,
            finished_at=None,
            hook_done=False,
            hook_attempts=0,
        )
    )
    return bool(res.rowcount)
