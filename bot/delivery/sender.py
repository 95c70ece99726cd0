"""The throttled sender: every proactive Teams message goes out within Teams' limits, retried as Teams advises.

The send itself is an injected async callable ``send(reference, card, text=None) -> activity id`` (the Bot
Framework one lives in bot/teams/sender.py), so this package never imports the SDK and tests drive it with
doubles. A failed send raises any exception carrying ``status`` (HTTP status; None for network errors) and
optionally ``retry_after`` (seconds) — ``bot.messaging.SendError`` has that shape.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.delivery.limits import RateLimiter
from bot.delivery.retry import Decision, RetryPolicy, classify, retry_after_of, status_of

log = logging.getLogger("bot.delivery")

SendFn = Callable[..., Awaitable[Any]]

__all__ = ["Message", "Outcome", "Result", "ThrottledMessenger", "ThrottledSender", "conversation_key"]


class Outcome(str, enum.Enum):
    SENT = "sent"
    UNREACHABLE = "unreachable"  # 403 / 404: blocked, uninstalled, conversation gone
    FAILED = "failed"  # Teams refused it for a reason retrying cannot fix
    RETRY_LATER = "retry_later"  # still failing after the retry budget, or not allowed to send now: try later


@dataclass(frozen=True, slots=True)
class Message:
    key: Hashable  # the caller's id for this message (e.g. a claim id)
    conversation: str  # what the per-conversation limits are counted on
    reference: dict  # the stored conversation reference
    card: dict
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    key: Hashable
    outcome: Outcome
    status: int | None = None  # the last HTTP status seen (None: sent, or a network error)
    attempts: int = 0
    activity_id: str | None = None


def conversation_key(reference: dict) -> str:
    conv = reference.get("conversation") or {}
    return str(conv.get("id") or reference.get("conversation_id") or "?")


class ThrottledSender:
    """Sends within the limits, with retries, several at a time.

    ``may_send()`` is asked before every attempt (the sending window can close while a run is in flight); when it
    says no, the message comes back as RETRY_LATER without being sent. ``stop()`` (shutdown) says no for good and
    cuts short every wait for a place or a retry; sends already on the wire are left to finish.
    """

    def __init__(
        self,
        send: SendFn,
        *,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        concurrency: int = 48,
        may_send: Callable[[], bool] | None = None,
        max_lateness: float = 0.05,
        prefetch: int = 256,
    ):
        self.send = send
        self.limiter = limiter or RateLimiter(headroom=0.95)
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.sleep = sleep
        self.concurrency = max(1, concurrency)
        self.may_send = may_send
        self.max_lateness = max_lateness
        self.prefetch = max(1, prefetch)
        self.late = 0  # places given up because the sender woke too late for them
        self.stopped = False
        self._pauses: set[asyncio.Future] = set()

    def stop(self) -> None:
        """Start no more sends: every message not on the wire yet comes back RETRY_LATER with no new attempt."""
        self.stopped = True
        for pause in list(self._pauses):
            pause.cancel()

    async def _pause(self, seconds: float) -> bool:
        """Sleep (with the injected sleep) unless stop() comes first; False once stopped."""
        if self.stopped:
            return False
        pause = asyncio.ensure_future(self.sleep(seconds))
        self._pauses.add(pause)
        try:
            await asyncio.wait({pause})  # returns when the sleep ends or stop() cancels it
        except asyncio.CancelledError:  # our own task is being cancelled: take the sleep with it
            pause.cancel()
            raise
        finally:
            self._pauses.discard(pause)
        if not pause.cancelled():
            pause.result()  # a sleep that failed fails the send, as an awaited one would
        return not self.stopped

    async def acquire(self, key: Hashable) -> bool:
        """Wait for a place within the limits for ``key``'s conversation; False if stop() came first.

        A sender that wakes well after its place (the event loop was busy, the machine paused) takes a new place
        instead of going at once: otherwise everyone who overslept goes out together, and a burst is exactly
        what Teams counts against the per-second limit. The overslept place stays counted (safe side)."""
        while True:
            now = self.clock()
            ok, at = self.limiter.reserve(key, now)
            if at > now and not await self._pause(at - now):
                return False
            if ok:
                if self.clock() - at <= self.max_lateness:
                    return True
                self.late += 1

    async def deliver(self, msg: Message, on_attempt: Callable[[Hashable], None] | None = None) -> Result:
        """Send one message, retrying as Teams advises. ``on_attempt(key)`` is called just before each send goes
        on the wire (after it, the message may have reached Teams whatever happens to this process)."""
        attempts = 0
        waited = 0.0
        status: int | None = None
        while True:
            if self.stopped or (self.may_send is not None and not self.may_send()):
                return Result(msg.key, Outcome.RETRY_LATER, status, attempts)
            if not await self.acquire(msg.conversation):
                return Result(msg.key, Outcome.RETRY_LATER, status, attempts)
            if on_attempt is not None:
                on_attempt(msg.key)
            attempts += 1
            try:
                if msg.text is None:
                    activity_id = await self.send(msg.reference, msg.card)
                else:
                    activity_id = await self.send(msg.reference, msg.card, text=msg.text)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below; the SDK raises many types
                status = status_of(exc)
                decision = classify(status)
                if decision is Decision.UNREACHABLE:
                    return Result(msg.key, Outcome.UNREACHABLE, status, attempts)
                if decision is Decision.FAIL:
                    log.warning("send refused: status=%s (no retry)", status)
                    return Result(msg.key, Outcome.FAILED, status, attempts)
                retry_after = retry_after_of(exc)
                if status == 429 and retry_after is not None:
                    # The conversation (or the app) is over its limit: hold that conversation, not everyone.
                    self.limiter.block(msg.conversation, self.clock() + retry_after)
                wait = self.policy.next_wait(attempts, waited, status, retry_after)
                if wait is None:
                    return Result(msg.key, Outcome.RETRY_LATER, status, attempts)
                waited += wait
                await self._pause(wait)
                continue
            return Result(msg.key, Outcome.SENT, None, attempts, activity_id if isinstance(activity_id, str) else None)

    async def deliver_all(
        self,
        messages: Iterable[Message] | AsyncIterable[Message],
        on_result: Callable[[Result], Awaitable[None] | None] | None = None,
        on_attempt: Callable[[Hashable], None] | None = None,
    ) -> list[Result]:
        """Deliver every message, ``concurrency`` at a time, calling ``on_result`` as each one finishes (and
        ``on_attempt``, see deliver).

        ``messages`` may be an async iterator (e.g. one that leases more work as it is read); it is read ahead
        by up to ``prefetch`` messages."""
        results: list[Result] = []
        tasks: list[asyncio.Future] = []
        if hasattr(messages, "__aiter__"):
            # A pump reads ahead into a queue so that producing the next messages (leasing, building cards)
            # overlaps with sending the current ones instead of leaving every sender waiting for it.
            queue: asyncio.Queue = asyncio.Queue(maxsize=self.prefetch)
            end = object()

            async def pump() -> None:
                try:
                    async for m in messages:
                        await queue.put(m)
                finally:
                    queue.put_nowait(end) if not queue.full() else await queue.put(end)

            async def take() -> Message | None:
                m = await queue.get()
                if m is end:
                    queue.put_nowait(end)  # leave it for the other workers
                    return None
                return m

            tasks.append(asyncio.ensure_future(pump()))
        else:
            it = iter(messages)

            async def take() -> Message | None:
                return next(it, None)

        async def worker() -> None:
            while (msg := await take()) is not None:  # each message is taken by exactly one worker
                res = await self.deliver(msg, on_attempt)
                results.append(res)
                if on_result is not None:
                    maybe = on_result(res)
                    if maybe is not None:
                        await maybe

        tasks += [asyncio.ensure_future(worker()) for _ in range(self.concurrency)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for t in tasks:  # cancelled from outside, or one worker failed: stop the others too
                if not t.done():
                    t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for t in tasks:
            if not t.cancelled() and t.exception() is not None:
                raise t.exception()
        return results


class ThrottledMessenger:
    """The outbox's Messenger (send_card / update_card) with the same limiter in front of it.

    Only throttling: the outbox worker has its own retry schedule. Sharing one RateLimiter between this and the
    reminder sender keeps the app as a whole under Teams' 50 requests/s.
    """

    def __init__(
        self,
        inner: Any,
        limiter: RateLimiter,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ):
        self.inner = inner
        self._sender = ThrottledSender(self._noop, limiter=limiter, clock=clock, sleep=sleep)

    @staticmethod
    async def _noop(*_a, **_k):  # pragma: no cover - never called; only acquire() is used
        return None

    async def _guarded(self, reference: dict, call: Callable[[], Awaitable[Any]]) -> Any:
        key = conversation_key(reference)
        await self._sender.acquire(key)
        try:
            return await call()
        except Exception as exc:
            ra = retry_after_of(exc)
            if status_of(exc) == 429 and ra is not None:
                self._sender.limiter.block(key, self._sender.clock() + ra)
            raise

    async def send_card(self, reference: dict, card: dict, *, text: str | None = None) -> str | None:
        return await self._guarded(reference, lambda: self.inner.send_card(reference, card, text=text))

    async def update_card(self, reference: dict, activity_id: str, card: dict) -> None:
        return await self._guarded(reference, lambda: self.inner.update_card(reference, activity_id, card))
