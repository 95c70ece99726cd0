"""The reminder run: who is due a reminder at which point (plan), sending the claimed reminders within Teams'
limits (deliver), and the DSL digest once a round is done.

Everything that decides *whether* comes from the database and the calendar at the moment of asking, so a
restart, a second instance or a run after a missed morning all arrive at the same answer (issue #5 §6).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bot.delivery import Message, Outcome, Result, ThrottledSender
from bot.domain.reminder_rules import live_point
from bot.reminders import claims, facts, views, weekly
from bot.reminders.facts import Context
from bot.store.models_compliance import (
    EXPIRED,
    FAILED,
    OPEN_STATES,
    SENDING,
    SENT,
    SKIPPED,
    UNREACHABLE,
    DigestSend,
    ReminderClaim,
)
from cards import compliance as cards

log = logging.getLogger("bot.reminders")

#: A claim that has come back "try later" this many times is given up as failed (and shown in the digest).
MAX_ROUNDS = 5
#: The digest goes once a round has finished, or this long after the round's first claim, whichever is first.
DIGEST_AFTER = dt.timedelta(hours=2)


@dataclass(frozen=True)
class InDoubt:
    """A message that was being sent when its sender stopped: did it reach ``staff_id``'s chat?"""

    claim_id: int
    staff_id: str
    marker: str  # carried in the sent card (its title's element id)


#: ``reconcile(in_doubt) -> {claim id: True (Teams has it) | False (it does not) | None (cannot tell)}``.
#: Each sent card carries its claim's marker (``reminder_marker``/``digest_marker``) as its title's element id, so a
#: reader of the chat (Graph ``GET /chats/{id}/messages``, or a test double) can answer.
Reconciler = Callable[[Sequence[InDoubt]], Awaitable[dict[int, bool | None]]]


def reminder_marker(claim_id: int) -> str:
    return f"reminder-{claim_id}"


def digest_marker(claim_id: int) -> str:
    return f"digest-{claim_id}"


@dataclass
class DeliveryStats:
    sent: int = 0
    unreachable: int = 0
    failed: int = 0
    skipped: int = 0
    expired: int = 0
    later: int = 0
    reconciled: int = 0
    in_doubt: int = 0

    def add(self, other: DeliveryStats) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class _Batch:
    messages: list[Message] = field(default_factory=list)
    final: dict[str, list[int]] = field(default_factory=dict)  # status → claim ids settled without sending
    reasons: dict[int, str] = field(default_factory=dict)
    install: list[tuple[str, str]] = field(default_factory=list)  # (staff id, half term) with no chat yet


class ReminderRun:
    """Plans and delivers reminders and digests for one school. One per instance; ``owner`` must be stable
    across restarts of the same instance (e.g. the host name) and different between instances."""

    def __init__(
        self,
        services,
        sender: ThrottledSender,
        *,
        owner: str,
        clock: Callable[[], dt.datetime],
        reconcile: Reconciler | None = None,
        batch: int = 200,
        lease_for: dt.timedelta = dt.timedelta(minutes=10),
    ):
        self.services = services
        self.sender = sender
        self.owner = owner
        self.clock = clock
        self.reconcile = reconcile
        self.batch = batch
        self.lease_for = lease_for
        self.window = facts.sending_window(services)
        self._labels = {facts.label_of(services.school, ht): ht for ht in facts.calendar_of(services).half_terms}
        self.stopping = False
        self.released_at_stop = 0  # claims handed back (to pending) because this instance was stopping

    def stop(self) -> None:
        """Shutdown: lease no more batches and start no more sends. Sends on the wire finish and are marked; a claim
        leased here and never sent goes back to pending, so another instance sends it at once. A claim whose send
        may have gone out (one on the wire when the process is cut off, or one already in doubt) stays sending,
        for in-doubt recovery (claims module docstring)."""
        self.stopping = True
        self.sender.stop()

    async def held_in_doubt(self) -> int:
        """How many claims this instance holds in ``sending`` right now (after a stop: the in-doubt ones)."""
        async with self.services.db.session() as s:
            n = 0
            for model in (ReminderClaim, DigestSend):
                n += (
                    await s.execute(
                        select(func.count())
                        .select_from(model)
                        .where(model.status == SENDING, model.lease_owner == self.owner)
                    )
                ).scalar_one()
        return n

    def context(self, label: str) -> Context | None:
        ht = self._labels.get(label)
        if ht is None:
            return None
        return Context(self.services.school, facts.calendar_of(self.services), ht, label)

    # ---- plan -------------------------------------------------------------------------------------------------
    def live(self, now: dt.datetime) -> tuple[Context, int] | None:
        """The half term and reminder point live at ``now``, if any (reminder_rules rule 2)."""
        today = self.window.calendar.local_date(now)
        ctx = facts.context_for(self.services, today)
        if ctx is None:
            return None
        points = self.services.school.settings.reminders.school_days_before_deadline
        point = live_point(points, ctx.half_term, today, ctx.calendar)
        return (ctx, point) if point is not None else None

    async def plan(self, now: dt.datetime) -> tuple[str, int, int] | None:
        """Claim a reminder for everyone outstanding at the live point. Returns (half term, point, new claims)."""
        live = self.live(now)
        if live is None:
            return None
        ctx, point = live
        return ctx.label, point, await self.claim(ctx, point, now)

    async def claim(self, ctx: Context, point: int, now: dt.datetime) -> int:
        """Claim a reminder at ``point`` for everyone outstanding now (one per person and point, whoever asks:
        the scheduled round, or a DSL's "Send now" bringing a point forward). Returns how many were new."""
        today = ctx.calendar.local_date(now)
        async with self.services.db.session() as s:
            report = await facts.compliance_for(s, ctx, today)
            new = await claims.insert_claims(
                s,
                ReminderClaim,
                ({"staff_id": sid, "half_term": ctx.label, "point": point} for sid in report.outstanding),
                now=now,
            )
        if new:
            log.info("reminders planned: half_term=%s point=%s new=%s", ctx.label, point, new)
        return new

    # ---- deliver ----------------------------------------------------------------------------------------------
    async def deliver(self, *, recover_own: bool = False) -> DeliveryStats:
        """Send every claimable reminder once (one pass in id order), then every claimable digest."""
        stats = DeliveryStats()
        stats.add(await self._pass(ReminderClaim, self._reminder_batch, reminder_marker, recover_own=recover_own))
        stats.add(await self._pass(DigestSend, self._digest_batch, digest_marker, recover_own=recover_own))
        return stats

    async def _pass(
        self, model: Any, build: Callable, marker: Callable[[int], str], *, recover_own: bool
    ) -> DeliveryStats:
        """One pass over the claimable rows in id order. Batches are leased as the senders run short, so the
        retries at the end of one batch overlap with the next instead of leaving the send slots idle."""
        stats = DeliveryStats()
        attempts: dict[int, int] = {}
        doubt: set[int] = set()  # leased in doubt (their last send may have arrived): never handed back
        unsent: set[int] = set()  # leased here, not in doubt, no send attempt yet: safe to hand back

        async def feed():
            cursor = 0
            while self.window.is_open(self.clock()) and not self.stopping:
                now = self.clock()
                async with self.services.db.session() as s:
                    leased = await claims.lease(
                        s,
                        model,
                        owner=self.owner,
                        now=now,
                        lease_for=self.lease_for,
                        limit=self.batch,
                        where=[model.id > cursor],
                        recover_own=recover_own,
                    )
                if not leased:
                    return
                cursor = leased[-1].id
                attempts.update((r.id, r.attempts) for r in leased)
                doubt.update(r.id for r in leased if r.in_doubt)
                unsent.update(r.id for r in leased if not r.in_doubt)
                leased = await self._reconciled(model, leased, marker, stats)
                if not leased:
                    continue
                batch = await build(leased, now)
                await self._settle(model, batch, now, stats)
                for ids in batch.final.values():
                    unsent.difference_update(ids)
                for message in batch.messages:
                    yield message

        try:
            await self._send(model, feed(), attempts, stats, doubt, unsent)
        except (asyncio.CancelledError, Exception):
            # Cut off (cancelled when the shutdown grace ran out, or an error): the claims never put on the wire go
            # back now instead of waiting out their lease. (A process that dies writes nothing: its leases expire.)
            if unsent:
                await asyncio.shield(self._hand_back(model, sorted(unsent)))
            raise
        return stats

    async def _hand_back(self, model: Any, ids: list[int]) -> None:
        try:
            async with self.services.db.session() as s:
                n = await claims.release(s, model, ids, owner=self.owner)
            if self.stopping:
                self.released_at_stop += n
        except Exception as exc:  # noqa: BLE001 - best effort: the lease expires anyway
            log.warning("could not hand back %d claims: %s", len(ids), type(exc).__name__)

    async def _reconciled(
        self, model: Any, leased: list[claims.Leased], marker: Callable[[int], str], stats: DeliveryStats
    ) -> list[claims.Leased]:
        """In-doubt rows the channel confirms as delivered are marked sent instead of being sent again."""
        doubt = [r for r in leased if r.in_doubt]
        stats.in_doubt += len(doubt)
        if not doubt or self.reconcile is None:
            return leased
        try:
            known = await self.reconcile([InDoubt(r.id, r.staff_id, marker(r.id)) for r in doubt])
        except Exception as exc:  # noqa: BLE001 - without an answer we fall back to resending
            log.warning("reconcile failed: %s", type(exc).__name__)
            return leased
        delivered = [r.id for r in doubt if known.get(r.id) is True]
        if delivered:
            async with self.services.db.session() as s:
                await claims.finish(
                    s, model, delivered, owner=self.owner, status=SENT, now=self.clock(), reason="reconciled"
                )
            stats.reconciled += len(delivered)
            stats.sent += len(delivered)
        done = set(delivered)
        return [r for r in leased if r.id not in done]

    async def _settle(self, model: Any, batch: _Batch, now: dt.datetime, stats: DeliveryStats) -> None:
        if not batch.final:
            return
        from bot.outbox import enqueue

        async with self.services.db.session() as s:
            for staff_id, label in batch.install:
                # They have never opened the bot, so there is no chat to write to. Installing the app for them
                # (Graph, through the outbox) creates one, so the next reminder point can reach them; the DSL
                # digest still lists them for this one. Never for 403: that person removed or blocked the bot.
                await enqueue(
                    s, "apps.install", {"staff_id": staff_id}, key=f"apps.install:{staff_id}:{label}", now=now
                )
            for status, ids in batch.final.items():
                by_reason: dict[str | None, list[int]] = {}
                for i in ids:
                    by_reason.setdefault(batch.reasons.get(i), []).append(i)
                for reason, group in by_reason.items():
                    await claims.finish(s, model, group, owner=self.owner, status=status, now=now, reason=reason)
                attr = {SKIPPED: "skipped", EXPIRED: "expired", UNREACHABLE: "unreachable", FAILED: "failed"}[status]
                setattr(stats, attr, getattr(stats, attr) + len(ids))

    async def _send(
        self,
        model: Any,
        messages: AsyncIterator[Message],
        attempts: dict[int, int],
        stats: DeliveryStats,
        doubt: set[int],
        unsent: set[int],
    ) -> None:
        """Send and mark; marks are committed as results arrive (a crash leaves at most the in-flight ones)."""
        pending: list[Result] = []
        wake = asyncio.Event()
        finished = False

        async def marker() -> None:
            while True:
                await wake.wait()
                wake.clear()
                while pending:
                    chunk = pending[:]
                    del pending[: len(chunk)]
                    await self._mark(model, chunk, attempts, stats, doubt)
                if finished:
                    return

        def on_result(res: Result) -> None:
            unsent.discard(res.key)  # marked (or released) by the marker from here on
            pending.append(res)
            wake.set()

        task = asyncio.create_task(marker())
        try:
            await self.sender.deliver_all(messages, on_result, on_attempt=unsent.discard)
        finally:
            finished = True
            wake.set()
            await task

    async def _mark(
        self,
        model: Any,
        results: list[Result],
        attempts: dict[int, int],
        stats: DeliveryStats,
        doubt: set[int] = frozenset(),
    ) -> None:
        now = self.clock()
        sent = {r.key: r.activity_id for r in results if r.outcome is Outcome.SENT}
        unreachable = {r.key: r.status for r in results if r.outcome is Outcome.UNREACHABLE}
        failed = [
            r.key
            for r in results
            if r.outcome is Outcome.FAILED
            or (r.outcome is Outcome.RETRY_LATER and r.attempts and attempts.get(r.key, 0) >= MAX_ROUNDS)
        ]
        later = [r.key for r in results if r.outcome is Outcome.RETRY_LATER and r.key not in failed]
        # An in-doubt claim that comes back unsent keeps its lease: its earlier send may have arrived, so it must
        # go through reconcile again rather than be picked up as an ordinary pending one.
        release = [k for k in later if k not in doubt]
        async with self.services.db.session() as s:
            if sent:
                await claims.finish(s, model, list(sent), owner=self.owner, status=SENT, now=now, activity_ids=sent)
            for status_code, reason in ((403, "blocked"), (404, "gone")):
                ids = [k for k, st in unreachable.items() if st == status_code]
                await claims.finish(s, model, ids, owner=self.owner, status=UNREACHABLE, now=now, reason=reason)
            other = [k for k, st in unreachable.items() if st not in (403, 404)]
            await claims.finish(s, model, other, owner=self.owner, status=UNREACHABLE, now=now, reason="blocked")
            await claims.finish(s, model, failed, owner=self.owner, status=FAILED, now=now, reason="failed")
            released = await claims.release(s, model, release, owner=self.owner)
        if self.stopping:
            self.released_at_stop += released
        stats.sent += len(sent)
        stats.unreachable += len(unreachable)
        stats.failed += len(failed)
        stats.later += len(later)

    # ---- building the messages --------------------------------------------------------------------------------
    async def _reminder_batch(self, leased: list[claims.Leased], now: dt.datetime) -> _Batch:
        batch = _Batch()
        school = self.services.school
        by_label: dict[str, list[claims.Leased]] = {}
        for r in leased:
            by_label.setdefault(r.half_term, []).append(r)
        today = self.window.calendar.local_date(now)
        async with self.services.db.session() as s:
            for label, rows in by_label.items():
                ctx = self.context(label)
                if ctx is None or today > ctx.calendar.deadline(ctx.half_term):
                    batch.final.setdefault(EXPIRED, []).extend(r.id for r in rows)
                    continue
                known = [r for r in rows if r.staff_id in school.staff]
                batch.final.setdefault(SKIPPED, []).extend(r.id for r in rows if r.staff_id not in school.staff)
                for r in rows:
                    if r.staff_id not in school.staff:
                        batch.reasons[r.id] = "not_on_roster"
                ids = [r.staff_id for r in known]
                attended = await facts.attended_in(s, label, ids, today)
                refs = await facts.personal_refs(s, ids)
                sessions = await facts.load_sessions(s, label)
                invited = await facts.invited_sessions(s, sessions.keys(), ids)
                for r in known:
                    if r.staff_id in attended:
                        batch.final.setdefault(SKIPPED, []).append(r.id)
                        batch.reasons[r.id] = "attended"
                        continue
                    ref = refs.get(r.staff_id)
                    if ref is None:
                        batch.final.setdefault(UNREACHABLE, []).append(r.id)
                        batch.reasons[r.id] = "no_conversation"
                        batch.install.append((r.staff_id, label))
                        continue
                    view = await views.reminder_view(
                        s, ctx, r.staff_id, now, sessions=sessions, invited=invited.get(r.staff_id, set())
                    )
                    view = dataclasses.replace(view, marker=reminder_marker(r.id))
                    batch.messages.append(Message(r.id, ref.conversation_id, ref.reference, cards.reminder_card(view)))
                    # Building a card takes ~0.5 ms: let the senders run in between, so a batch being built
                    # never holds up sends that are due (and then lets them out in one burst).
                    await asyncio.sleep(0)
        return batch

    async def _digest_batch(self, leased: list[claims.Leased], now: dt.datetime) -> _Batch:
        batch = _Batch()
        async with self.services.db.session() as s:
            refs = await facts.personal_refs(s, [r.staff_id for r in leased])
            built: dict[tuple[str, int], dict] = {}
            for r in leased:
                ctx = self.context(r.half_term)
                if ctx is None:
                    batch.final.setdefault(EXPIRED, []).append(r.id)
                    continue
                ref = refs.get(r.staff_id)
                if ref is None:
                    batch.final.setdefault(UNREACHABLE, []).append(r.id)
                    batch.reasons[r.id] = "no_conversation"
                    continue
                key = (r.half_term, r.point)
                if weekly.is_weekly(r.point):
                    card = await self._weekly_card(s, ctx, r, now, built)
                    if card is None:  # that week is over (or its figures are gone): too late to be news
                        batch.final.setdefault(EXPIRED, []).append(r.id)
                        continue
                    batch.messages.append(Message(r.id, ref.conversation_id, ref.reference, card))
                    continue
                if key not in built:
                    built[key] = await views.digest_view(s, ctx, r.point, now)
                card = cards.digest_card(dataclasses.replace(built[key], marker=digest_marker(r.id)))
                batch.messages.append(Message(r.id, ref.conversation_id, ref.reference, card))
        return batch

    async def _weekly_card(self, s, ctx: Context, r: claims.Leased, now: dt.datetime, built: dict) -> dict | None:
        monday = weekly.monday_of(r.point)
        if weekly.week_of(self.window.calendar.local_date(now)) != monday:
            return None
        key = (r.half_term, r.point)
        if key not in built:
            this, last = await weekly.this_and_last(s, monday)
            built[key] = weekly.view(ctx, this, last, dashboard_url=None) if this is not None else None
        if built[key] is None:
            return None
        link = self.services.dashboard_url(r.staff_id) if self.services.dashboard_url else None
        return cards.weekly_digest_card(dataclasses.replace(built[key], marker=digest_marker(r.id), dashboard_url=link))

    async def plan_weekly(self, now: dt.datetime) -> tuple[str, dt.date, int] | None:
        """The week's digest for each member of the DSL team: planned at the first tick in the sending window of a
        school week (the figures are taken then, once). Returns (half term, Monday, new digests)."""
        today = self.window.calendar.local_date(now)
        ctx = facts.context_for(self.services, today)
        if ctx is None or not self.window.is_open(now):
            return None
        monday = weekly.week_of(today)
        async with self.services.db.session() as s:
            this, _ = await weekly.this_and_last(s, monday)
            if this is None:
                this = await weekly.snapshot(s, ctx, monday, today, now)
            new = await claims.insert_claims(
                s,
                DigestSend,
                (
                    {"staff_id": m.id, "half_term": this.half_term, "point": weekly.week_point(monday)}
                    for m in facts.dsl_team(self.services.school)
                ),
                now=now,
            )
        if new:
            log.info("weekly digest planned: week_of=%s new=%s", monday.isoformat(), new)
        return this.half_term, monday, new

    # ---- digest -----------------------------------------------------------------------------------------------
    async def plan_digest(self, now: dt.datetime) -> tuple[str, int, int] | None:
        """Once the live point's reminders are all settled (or DIGEST_AFTER has passed), claim a digest for each
        member of the DSL team. Returns (half term, point, new digests)."""
        live = self.live(now)
        if live is None:
            return None
        ctx, point = live
        async with self.services.db.session() as s:
            open_, first = (
                await s.execute(
                    select(
                        func.count().filter(ReminderClaim.status.in_(OPEN_STATES)), func.min(ReminderClaim.created_at)
                    ).where(ReminderClaim.half_term == ctx.label, ReminderClaim.point == point)
                )
            ).one()
            if first is None:
                # Nobody was due a reminder at this point (all attended or exempt): plan() has run if the window
                # is open, so the round is trivially over.
                pass
            elif open_ and now - first < DIGEST_AFTER:
                return None
            new = await claims.insert_claims(
                s,
                DigestSend,
                (
                    {"staff_id": m.id, "half_term": ctx.label, "point": point}
                    for m in facts.dsl_team(self.services.school)
                ),
                now=now,
            )
        return ctx.label, point, new
