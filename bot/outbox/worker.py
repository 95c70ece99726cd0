"""The outbox worker: claims due rows with a lease, calls the handler for their kind, records the outcome.

Delivery is at-least-once (a crash after the side effect but before the commit redelivers), so handlers must be
idempotent: the Graph backend uses transactionId for events, conflictBehavior=fail plus a content check for files,
and treats "already installed" / "already cancelled" as success.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, or_, select, update
from sqlalchemy.orm import aliased

from bot.outbox.api import OutboxMessage, to_message
from bot.outbox.errors import PermanentFailure, RetryLater
from bot.store.db import Database
from bot.store.models_outbox import DEAD, DELIVERED, PENDING, OutboxRow
from bot.store.tenancy import CURRENT_SCHOOL

log = logging.getLogger(__name__)

Handler = Callable[[dict], Awaitable["dict | None"]]
DeliveredHook = Callable[[OutboxMessage, "dict | None"], "Awaitable[None] | None"]
DeadLetterHook = Callable[[OutboxMessage], "Awaitable[None] | None"]
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    kind: str
    payload: dict
    status: str
    attempts: int
    token: str
    created: dt.datetime | None = None
    school_id: str | None = None
    result: dict | None = None  # while pending: what an earlier attempt left (the in-doubt mark, bot/outbox/indoubt)


#: How long the app keeps retrying a row through outages before attempts may dead-letter it (seconds).
OUTAGE_PATIENCE = 6 * 3600.0


class OutboxWorker:
    """Delivers outbox rows. `run_once()` for tests; `start()` / `stop()` for the app's background task.

    handlers: kind → async handler(payload) returning a JSON-able dict (stored on the row as `result`) or None.
    on_delivered(row, result) / on_dead_letter(row): a callable, or a dict of kind → callable. They run after
    the outcome is committed, inside a transaction exposed as `row.session`; "hook done" commits with whatever
    the hook wrote there, so a failing hook is retried and a successful one never runs twice.
    """

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        clock: Clock = utcnow,
        on_delivered: DeliveredHook | Mapping[str, DeliveredHook] | None = None,
        on_dead_letter: DeadLetterHook | Mapping[str, DeadLetterHook] | None = None,
        max_attempts: int = 8,
        lease_seconds: float = 600.0,
        batch_size: int = 10,
        concurrency: int = 4,
        base_delay: float = 5.0,
        max_delay: float = 3600.0,
        max_retry_after: float = 86_400.0,
        hook_retry_delay: float = 60.0,
        poll_interval: float = 2.0,
        rng: random.Random | None = None,
        name: str | None = None,
        patience: float = 0.0,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if lease_seconds <= 0 or batch_size < 1 or concurrency < 1:
            raise ValueError("lease_seconds, batch_size and concurrency must be positive")
        self.db = db
        self.handlers = dict(handlers)
        self.clock = clock
        self.on_delivered = on_delivered
        self.on_dead_letter = on_dead_letter
        self.max_attempts = max_attempts
        # Attempts alone do not dead-letter a row younger than this (seconds): an outage of Graph or Teams lasting
        # minutes to hours uses up max_attempts quickly, and is no fault of the row. The backoff keeps growing.
        self.patience = dt.timedelta(seconds=patience)
        self.lease = dt.timedelta(seconds=lease_seconds)
        # The handler must finish well inside its lease, or another worker could claim the row meanwhile.
        self.handler_timeout = max(1.0, lease_seconds * 0.8)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self.hook_retry_delay = hook_retry_delay
        self.poll_interval = poll_interval
        self.rng = rng or random.Random()
        self.name = name or f"outbox-{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._deadline: float | None = None  # monotonic time after which in-flight deliveries are cancelled
        self._wake = asyncio.Event()
        self._last_logged: dict[str, float] = {}
        self._shutdown = _ShutdownCounts()

    # ---------------------------------------------------------------- public API

    async def run_once(self) -> int:
        """Deliver what is due now (one claimed batch, plus pending hooks); return how many rows were delivered."""
        delivered, _ = await self._run_batch()
        return delivered

    async def drain(self, max_rounds: int = 100) -> int:
        """run_once until nothing is due at the current clock (tests, and a graceful shutdown)."""
        total = 0
        for _ in range(max_rounds):
            delivered, handled = await self._run_batch()
            total += delivered
            if not handled:
                break
        return total

    def wake(self) -> None:
        """Deliver promptly: call after committing a transaction that enqueued something."""
        self._wake.set()

    def start(self) -> asyncio.Task:
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._deadline = None
            self._shutdown = _ShutdownCounts()
            self._task = asyncio.create_task(self._loop(), name=self.name)
        return self._task

    def begin_stop(self, grace: float = 10.0) -> None:
        """Take no more rows from now on; rows claimed but not started go back at once; deliveries already under
        way get until `grace` seconds from the first call (see stop). Called when the app starts shutting down,
        so the grace runs alongside the in-flight turns rather than after them."""
        if self._deadline is None:
            self._deadline = time.monotonic() + grace
        self._stopping.set()
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop: rows this worker claimed but has not started are handed back at once (another instance can take
        them without waiting out the lease); deliveries under way may finish until the grace ends, then they are
        cancelled and handed back too (delivery is at-least-once, so a cancelled one may go again)."""
        self.begin_stop(grace)
        if self._task is None:
            return
        remaining = max(0.0, self._deadline - time.monotonic())
        try:
            await asyncio.wait_for(asyncio.shield(self._task), remaining)
        except TimeoutError:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        finally:
            self._task = None
        c = self._shutdown
        log.info(
            "outbox worker %s stopped: finished=%d handed_back=%d cancelled=%d",
            self.name,
            c.finished,
            c.handed_back,
            c.cancelled,
        )

    # ---------------------------------------------------------------- loop

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                _, handled = await self._run_batch()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the store may be briefly unavailable; keep the loop alive
                failures += 1
                self._log_limited(logging.ERROR, f"outbox worker: store error: {exc!r}")
                handled = 0
                await self._idle(min(60.0, self.poll_interval * 2 ** min(failures, 5)))
                continue
            if not handled:
                await self._idle(self.poll_interval)

    async def _idle(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def _run_batch(self) -> tuple[int, int]:
        if self._stopping.is_set():
            return 0, 0  # a stopping (or stopped) worker claims nothing
        claimed = await self._claim()
        if not claimed:
            return 0, 0
        sem = asyncio.Semaphore(self.concurrency)

        async def one(c: _Claimed) -> bool:
            started = False
            try:
                async with sem:
                    if self._stopping.is_set():
                        # Shutting down: a row not started yet goes back as it was, for the next instance.
                        await self._hand_back(c)
                        return False
                    started = True
                    done = await self._process(c)
                    if self._stopping.is_set():
                        self._shutdown.finished += 1
                    return done
            except asyncio.CancelledError:
                # Cancelled (the grace ran out): whatever this worker still holds goes back now, started or not.
                # A delivery cut off mid-way may have happened; delivery is at-least-once, so it may go again.
                if started:
                    self._shutdown.cancelled += 1
                await asyncio.shield(self._release(c) if started else self._hand_back(c))
                raise

        tasks = [asyncio.ensure_future(one(c)) for c in claimed]
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError:
            # Not gather: it would return at the first cancelled row, before the others had handed theirs back.
            for t in tasks:
                t.cancel()
            await asyncio.wait(tasks)
            raise
        errors = [t.exception() for t in tasks if not t.cancelled() and t.exception() is not None]
        if errors:
            raise errors[0]
        return sum(t.result() for t in tasks), len(claimed)

    # ---------------------------------------------------------------- claim

    async def _claim(self) -> list[_Claimed]:
        now = self.clock()
        token = uuid.uuid4().hex
        cand = aliased(OutboxRow)
        older = aliased(OutboxRow)
        # A chain's next row waits until every earlier row of the chain is finished and its hook has run.
        chain_free = or_(
            cand.chain.is_(None),
            ~exists().where(
                older.chain == cand.chain, older.id < cand.id, or_(older.status == PENDING, older.hook_done.is_(False))
            ),
        )
        due_delivery = and_(
            cand.status == PENDING,
            cand.kind.in_(list(self.handlers) or [""]),
            or_(cand.not_before.is_(None), cand.not_before <= now),
            chain_free,
        )
        due_hook = and_(cand.status.in_([DELIVERED, DEAD]), cand.hook_done.is_(False))
        lease_free = or_(cand.claimed_until.is_(None), cand.claimed_until <= now)
        pick = select(cand.id).where(or_(due_delivery, due_hook), lease_free).order_by(cand.id).limit(self.batch_size)
        if not self.db.is_sqlite:
            # Two workers on one PostgreSQL: each skips the rows the other is claiming right now.
            pick = pick.with_for_update(skip_locked=True, of=cand)
        # One statement: on SQLite it takes the write lock before reading, so two claimers serialise.
        stmt = (
            update(OutboxRow)
            .where(OutboxRow.id.in_(pick.scalar_subquery()))
            .values(
                claimed_until=now + self.lease,
                claim_token=token,
                attempts=case((OutboxRow.status == PENDING, OutboxRow.attempts + 1), else_=OutboxRow.attempts),
            )
            .returning(
                OutboxRow.id,
                OutboxRow.key,
                OutboxRow.kind,
                OutboxRow.payload,
                OutboxRow.status,
                OutboxRow.attempts,
                OutboxRow.created_at,
                OutboxRow.school_id,
                OutboxRow.result,
            )
        )
        async with self.db.session() as s:
            rows = (await s.execute(stmt)).all()
        return sorted(
            (
                _Claimed(
                    id=r.id,
                    key=r.key,
                    kind=r.kind,
                    payload=dict(r.payload or {}),
                    status=r.status,
                    attempts=r.attempts,
                    token=token,
                    created=r.created_at,
                    school_id=r.school_id,
                    result=r.result if isinstance(r.result, dict) else None,
                )
                for r in rows
            ),
            key=lambda c: c.id,
        )

    # ---------------------------------------------------------------- deliver

    async def _process(self, c: _Claimed) -> bool:
        # Handler and hook run as the row's school (its channel, roster, calendar): see bot/store/tenancy.py.
        school = CURRENT_SCHOOL.set(c.school_id)
        try:
            return await self._process_as_school(c)
        finally:
            CURRENT_SCHOOL.reset(school)

    async def _process_as_school(self, c: _Claimed) -> bool:
        delivered = False
        status = c.status
        if status == PENDING:
            status = await self._deliver(c)
            delivered = status == DELIVERED
        if status in (DELIVERED, DEAD):
            await self._run_hook(c, status)
        return delivered

    async def _deliver(self, c: _Claimed) -> str | None:
        handler = self.handlers[c.kind]
        if getattr(handler, "in_doubt_aware", False):
            # A send that cannot be made idempotent by a key (a Teams message): the handler marks the row in doubt
            # before it sends and reconciles an earlier attempt's mark (bot/outbox/indoubt.py).
            call = handler(dict(c.payload), self._attempt_of(c))
        else:
            call = handler(dict(c.payload))
        try:
            result = await asyncio.wait_for(call, self.handler_timeout)
        except RetryLater as exc:
            return await self._retry(c, exc.seconds, f"{type(exc).__name__}: {exc}", counts=exc.counts_as_attempt)
        except PermanentFailure as exc:
            self._log_limited(logging.WARNING, f"outbox {c.kind} {c.key}: permanent failure: {exc}")
            return await self._finish(c, DEAD, error=f"{type(exc).__name__}: {exc}")
        except TimeoutError:
            return await self._retry(c, None, f"timed out after {self.handler_timeout:g} s", counts=True)
        except Exception as exc:  # noqa: BLE001 - an unexpected error is a transient failure, logged in full once
            if self._should_log(f"{c.kind}:{type(exc).__name__}:{exc}"):
                log.exception("outbox %s %s: handler failed (will retry)", c.kind, c.key)
            return await self._retry(c, None, f"{type(exc).__name__}: {exc}", counts=True)
        return await self._finish(c, DELIVERED, result=_jsonable(result))

    def _attempt_of(self, c: _Claimed):
        from bot.outbox.indoubt import Attempt

        async def mark(state: dict) -> bool:
            # Committed on its own, before the send: a kill -9 during the send leaves this behind.
            return await self._guarded_update(c, result={"in_doubt": state})

        previous = (c.result or {}).get("in_doubt") if c.result else None
        return Attempt(row_id=c.id, key=c.key, attempts=c.attempts, previous=previous, mark=mark, clock=self.clock)

    def _out_of_patience(self, c: _Claimed) -> bool:
        if not self.patience or c.created is None:
            return True
        created = c.created if c.created.tzinfo else c.created.replace(tzinfo=dt.timezone.utc)
        return self.clock() - created >= self.patience

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with "equal jitter": half the step fixed, half random, so retries spread out."""
        step = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
        return step / 2 + self.rng.uniform(0, step / 2)

    async def _retry(self, c: _Claimed, seconds: float | None, error: str, *, counts: bool) -> str | None:
        attempts = c.attempts if counts else max(0, c.attempts - 1)
        if counts and attempts >= self.max_attempts and self._out_of_patience(c):
            self._log_limited(logging.WARNING, f"outbox {c.kind} {c.key}: giving up after {attempts} attempts: {error}")
            return await self._finish(c, DEAD, error=f"gave up after {attempts} attempts: {error}")
        delay = self._backoff(attempts) if seconds is None else min(seconds, self.max_retry_after)
        # One line per distinct cause, not one per row: an expired secret must not flood the log.
        self._log_limited(logging.WARNING, f"outbox {c.kind}: will retry: {error}")
        now = self.clock()
        ok = await self._guarded_update(
            c,
            status=PENDING,
            attempts=attempts,
            not_before=now + dt.timedelta(seconds=delay),
            claimed_until=None,
            claim_token=None,
            last_error=error[:4000],
        )
        return PENDING if ok else None

    async def _finish(
        self, c: _Claimed, status: str, *, result: dict | None = None, error: str | None = None
    ) -> str | None:
        has_hook = self._hook_for(status, c.kind) is not None
        values: dict[str, Any] = dict(
            status=status, finished_at=self.clock(), last_error=error[:4000] if error else None, hook_done=not has_hook
        )
        if status == DELIVERED:
            values["result"] = result
        if not has_hook:  # nothing more to do: release the lease now
            values.update(claimed_until=None, claim_token=None)
        ok = await self._guarded_update(c, **values)
        return status if ok else None

    async def _release(self, c: _Claimed, **values) -> None:
        """Give up this worker's claim on a row now rather than let it wait out the lease (shutdown). Only while the
        claim is still ours: a row whose outcome was already recorded (lease cleared) is left as it is."""
        if c.status == PENDING:
            values.setdefault("not_before", self.clock())
        try:
            async with self.db.session() as s:
                res = await s.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == c.id, OutboxRow.claim_token == c.token)
                    .values(claimed_until=None, claim_token=None, **values)
                )
            if res.rowcount == 1:
                self._shutdown.handed_back += 1
        except Exception:  # noqa: BLE001 - best effort; the lease expires anyway
            pass

    async def _hand_back(self, c: _Claimed) -> None:
        """A claimed row that was never started: unclaim it and give back the attempt the claim counted."""
        values = {"attempts": max(0, c.attempts - 1)} if c.status == PENDING else {}
        await self._release(c, **values)

    async def _guarded_update(self, c: _Claimed, **values) -> bool:
        async with self.db.session() as s:
            res = await s.execute(
                update(OutboxRow).where(OutboxRow.id == c.id, OutboxRow.claim_token == c.token).values(**values)
            )
        if res.rowcount != 1:
            log.warning(
                "outbox %s %s: lease expired before the outcome was recorded (another worker owns it)", c.kind, c.key
            )
            return False
        return True

    # ---------------------------------------------------------------- hooks

    def _hook_for(self, status: str, kind: str):
        hook = self.on_delivered if status == DELIVERED else self.on_dead_letter
        if isinstance(hook, Mapping):
            return hook.get(kind)
        return hook

    async def _run_hook(self, c: _Claimed, status: str) -> None:
        hook = self._hook_for(status, c.kind)
        try:
            # The hook writes as the row's school (a journey's follow-up), in that school's session.
            async with self.db.session(school=c.school_id) as s:
                row = (
                    await s.execute(select(OutboxRow).where(OutboxRow.id == c.id, OutboxRow.claim_token == c.token))
                ).scalar_one_or_none()
                if row is None or row.hook_done:
                    return
                if hook is not None:
                    msg = to_message(row, session=s)
                    out = hook(msg, row.result) if status == DELIVERED else hook(msg)
                    if inspect.isawaitable(out):
                        await out
                row.hook_done = True
                row.hook_attempts += 1
                row.claimed_until = None
                row.claim_token = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a journey's hook failed; retry it later, never redeliver
            log.exception(
                "outbox %s %s: %s hook failed",
                c.kind,
                c.key,
                "on_delivered" if status == DELIVERED else "on_dead_letter",
            )
            async with self.db.session() as s:
                row = (
                    await s.execute(select(OutboxRow).where(OutboxRow.id == c.id, OutboxRow.claim_token == c.token))
                ).scalar_one_or_none()
                if row is None:
                    return
                row.hook_attempts += 1
                row.last_error = f"hook failed: {type(exc).__name__}: {exc}"[:4000]
                row.claim_token = None
                if row.hook_attempts >= self.max_attempts:
                    row.hook_done = True
                    row.claimed_until = None
                else:
                    row.claimed_until = self.clock() + dt.timedelta(seconds=self.hook_retry_delay)

    # ---------------------------------------------------------------- logging

    def _should_log(self, key: str, every: float = 600.0) -> bool:
        now = time.monotonic()
        last = self._last_logged.get(key)
        if last is not None and now - last < every:
            return False
        if len(self._last_logged) > 1000:
            self._last_logged.clear()
        self._last_logged[key] = now
        return True

    def _log_limited(self, level: int, message: str) -> None:
        if self._should_log(message):
            log.log(level, message)


@dataclass
class _ShutdownCounts:
    finished: int = 0  # rows whose delivery (or hook) was under way at stop and finished within the grace
    handed_back: int = 0  # rows unclaimed at stop: never started, or cancelled when the grace ran out
    cancelled: int = 0  # deliveries or hooks cancelled when the grace ran out


def _jsonable(result: Any) -> dict | None:
    if result is None:
        return None
    if not isinstance(result, dict):
        result = {"value": result}
    return json.loads(json.dumps(result, default=str))
