"""The scheduler: timed work for half-term compliance, rebuilt from the database, driven by an injected clock.

Nothing is remembered in memory between ticks. ``jobs(now)`` derives the timed work from the calendar, the config
and the store, each job under a stable id ("reminders:2026-27 Autumn 2:10", "mop-up:2026-27 Autumn 2", …), so a
restart or a second instance finds the same jobs rather than doubling them; ``tick(now)`` does whatever is due at
``now``; ``run()`` sleeps (with the injected ``sleep``) until the next job is due and ticks.

It never sends outside the sending window (a school day, from ``reminders.send_at`` to the end of the school day,
school time zone): ticks outside it do nothing, and a delivery in progress stops when the window closes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.delivery import ThrottledSender
from bot.domain.reminder_rules import mop_up_proposal_due, point_day
from bot.reminders import facts, followup, mopup, weekly
from bot.reminders.run import DeliveryStats, Reconciler, ReminderRun
from bot.store.models_compliance import OPEN_STATES, DigestSend, MopUpProposal, ReminderClaim
from bot.store.models_exports import WeeklyDigest

log = logging.getLogger("bot.reminders")

#: While work is open (claims pending or a digest waiting), look again this often during the window.
BUSY_POLL = dt.timedelta(minutes=5)
#: Otherwise, while the window is open, look this often to see changes made by other instances or by people.
IDLE_POLL = dt.timedelta(hours=1)


@dataclass(frozen=True, order=True)
class Job:
    due: dt.datetime
    id: str


@dataclass
class TickReport:
    now: dt.datetime
    window_open: bool
    planned: tuple[str, int, int] | None = None
    proposed: bool = False
    digest: tuple[str, int, int] | None = None
    weekly: tuple[str, dt.date, int] | None = None  # (half term, Monday, new weekly digests)
    followups: int = 0
    delivery: DeliveryStats = field(default_factory=DeliveryStats)


def default_owner() -> str:
    """A name for this instance that survives a restart (so it can recover its own in-doubt sends at once)."""
    return f"bot@{socket.gethostname()}"[:80]


class Scheduler:
    def __init__(
        self,
        services,
        clock: Callable[[], dt.datetime],
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        *,
        sender: ThrottledSender | None = None,
        owner: str | None = None,
        reconcile: Reconciler | None = None,
        batch: int = 200,
    ):
        self.services = services
        self.clock = clock
        self.sleep = sleep
        if sender is None:
            send = services.teams_send
            if send is None:
                raise ValueError("Scheduler needs a sender (or services.teams_send)")
            sender = ThrottledSender(send, limiter=services.rate_limiter)
        window = facts.sending_window(services)
        if sender.may_send is None:
            sender.may_send = lambda: window.is_open(self.clock())
        self.sender = sender
        self.owner = owner or default_owner()
        self.run_ = ReminderRun(services, sender, owner=self.owner, clock=clock, reconcile=reconcile, batch=batch)
        self.window = window
        self._stopping = asyncio.Event()
        self._waking = asyncio.Event()
        self._deadline: float | None = None  # monotonic time after which a stopping run is cancelled
        self._task: asyncio.Task | None = None
        self._recovered = False
        self._tick_lock = asyncio.Lock()
        self.running = False  # run() is looping (the app's workers are on)

    # ---- what is due --------------------------------------------------------------------------------------------
    async def jobs(self, now: dt.datetime) -> list[Job]:
        """The timed work from ``now`` on, rebuilt from the calendar, config and store (stable ids)."""
        out: list[Job] = []
        opening = self.window.next_opening(now)
        if opening is None:
            return out
        cal = self.window.calendar
        school = self.services.school
        ctx = facts.context_for(self.services, cal.local_date(opening), current_or_next=True)
        async with self.services.db.session() as s:
            open_claims = (
                await s.execute(
                    select(func.count()).select_from(ReminderClaim).where(ReminderClaim.status.in_(OPEN_STATES))
                )
            ).scalar_one()
            open_digests = (
                await s.execute(select(func.count()).select_from(DigestSend).where(DigestSend.status.in_(OPEN_STATES)))
            ).scalar_one()
            proposal = None
            digested: set[int] = set()
            if ctx is not None:
                proposal = (
                    await s.execute(select(MopUpProposal.id).where(MopUpProposal.half_term == ctx.label))
                ).scalar_one_or_none()
                digested = set(
                    (await s.execute(select(DigestSend.point).where(DigestSend.half_term == ctx.label).distinct()))
                    .scalars()
                    .all()
                )
        if open_claims or open_digests:
            out.append(Job(opening, "deliver"))
        opening_day = cal.local_date(opening)
        if cal.half_term_for(opening_day) is not None:
            monday = weekly.week_of(opening_day)
            async with self.services.db.session() as s:
                planned = (
                    await s.execute(select(WeeklyDigest.id).where(WeeklyDigest.week_of == monday))
                ).scalar_one_or_none()
            if planned is None:
                out.append(Job(opening, f"weekly-digest:{monday.isoformat()}"))
        # Follow-through reminders (overdue actions, agreement reviews, entitlement): a pass at each opening of the
        # window (every tick in it looks again; the claims make each reminder once). The next one not yet started:
        follow = opening if opening > now else self.window.next_opening(self.window.closes_at(now) or now)
        if follow is not None:
            out.append(Job(follow, f"follow-up:{self.window.calendar.local_date(follow)}"))
        if ctx is None:
            return sorted(out)
        today = cal.local_date(now)
        live = self.run_.live(opening)
        for point in school.settings.reminders.school_days_before_deadline:
            day = point_day(point, ctx.half_term, cal)
            if day is None:
                continue
            if day > today or (day == today and self.window.bounds(day)[0] > now):
                out.append(Job(self.window.bounds(day)[0], f"reminders:{ctx.label}:{point}"))
            elif live is not None and live[1] == point and point not in digested:
                out.append(Job(opening, f"reminders:{ctx.label}:{point}"))  # live, round not finished
        if proposal is None:
            first_day = next(
                (d for d in cal.school_days_in(ctx.half_term) if mop_up_proposal_due(ctx.half_term, d, cal)), None
            )
            if first_day is not None:
                start, _ = self.window.bounds(first_day)
                last_ok = max(
                    d for d in cal.school_days_in(ctx.half_term) if mop_up_proposal_due(ctx.half_term, d, cal)
                )
                due = max(start, opening)
                # Each window opening in the proposal days is a tick anyway; the job only says when the next is.
                if self.window.bounds(last_ok)[1] > now and due > now:
                    out.append(Job(due, f"mop-up:{ctx.label}"))
        return sorted(out)

    async def next_wake(self, now: dt.datetime) -> dt.datetime:
        """When to tick next: the next job, the next opening of the sending window, or a poll while it is open."""
        jobs = await self.jobs(now)
        later = [j.due for j in jobs if j.due > now]
        if self.window.is_open(now):
            overdue = any(j.due <= now for j in jobs)
            return min([now + (BUSY_POLL if overdue else IDLE_POLL), *later])
        opening = self.window.next_opening(now)
        candidates = later + ([opening] if opening is not None else [])
        return min(candidates) if candidates else now + dt.timedelta(days=1)

    # ---- doing it -------------------------------------------------------------------------------------------------
    async def tick(self, now: dt.datetime | None = None) -> TickReport:
        """Do everything due at ``now``: the mop-up proposal, the reminder round, their delivery, the round's digest
        and the weekly digest."""
        now = now or self.clock()
        async with self._tick_lock:
            report = TickReport(now, self.window.is_open(now))
            if not report.window_open:
                return report
            today = self.window.calendar.local_date(now)
            try:
                report.followups = await followup.plan(self.services, now)
            except Exception as exc:  # noqa: BLE001 - a bad follow-up pass must not hold up the reminder round
                log.error("follow-up pass failed: %s", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
            ctx = facts.context_for(self.services, today)
            if ctx is not None and mop_up_proposal_due(ctx.half_term, today, ctx.calendar):
                # Seed 001: the mop-up "will be scheduled" — booked by the bot unless the DSL team decided already.
                row = await mopup.auto_book(self.services, ctx, now)
                report.proposed = row is not None
            report.planned = await self.run_.plan(now)
            report.delivery.add(await self.run_.deliver(recover_own=not self._recovered))
            self._recovered = True
            if self._stopping.is_set():
                return report
            report.digest = await self.run_.plan_digest(self.clock())
            report.weekly = await self.run_.plan_weekly(self.clock())
            if (report.digest and report.digest[2]) or (report.weekly and report.weekly[2]):
                report.delivery.add(await self.run_.deliver())
            return report

    async def deliver_now(self) -> DeliveryStats:
        """Deliver whatever is claimable now, under the tick's lock (a DSL's "Send now" without a running loop)."""
        async with self._tick_lock:
            stats = await self.run_.deliver(recover_own=not self._recovered)
            self._recovered = True
            return stats

    def wake(self) -> None:
        """Tick now rather than at the next wake (new claims were made: a DSL's "Send now")."""
        self._waking.set()

    async def run(self) -> None:
        """Tick, sleep until the next job, repeat, until stop(). Errors are logged and retried at the next wake."""
        self.running = True
        try:
            await self._loop()
        finally:
            self.running = False

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick(self.clock())
                wake = await self.next_wake(self.clock())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the scheduler must outlive one bad tick
                log.error("scheduler tick failed: %s", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
                wake = self.clock() + BUSY_POLL
            delay = max(0.0, (wake - self.clock()).total_seconds())
            sleeper = asyncio.ensure_future(self.sleep(delay))
            stopper = asyncio.ensure_future(self._stopping.wait())
            waker = asyncio.ensure_future(self._waking.wait())
            await asyncio.wait({sleeper, stopper, waker}, return_when=asyncio.FIRST_COMPLETED)
            self._waking.clear()
            for t in (sleeper, stopper, waker):
                if not t.done():
                    t.cancel()

    def start(self) -> asyncio.Task:
        """run() as the app's background task."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="reminders")
        return self._task

    def stop(self, grace: float = 10.0) -> None:
        """Stop: run() ends after the current tick; the tick leases no more batches and starts no more sends. Sends
        on the wire may finish until ``grace`` seconds from the first call (see shutdown)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + grace
        self._stopping.set()
        self.run_.stop()

    async def shutdown(self, grace: float = 10.0) -> None:
        """stop(), then wait for the background task until the grace ends and cancel it if it has not finished.
        Claims leased and never sent go back to pending (another instance sends them at once); claims whose send
        may have gone out stay sending, for in-doubt recovery. Logs counts only."""
        self.stop(grace)
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), max(0.0, self._deadline - time.monotonic()))
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        except Exception as exc:  # noqa: BLE001 - run() ends only by stop(); report and carry on shutting down
            log.error("scheduler ended with %s", type(exc).__name__)
        try:
            in_doubt = await self.run_.held_in_doubt()
        except Exception:  # noqa: BLE001 - the store may be the reason we are stopping
            in_doubt = -1
        log.info("reminder scheduler stopped: released=%d in_doubt=%d", self.run_.released_at_stop, in_doubt)
