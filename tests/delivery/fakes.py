"""Virtual time for delivery tests: sleeping moves the clock, so retries and limits run in microseconds."""

from __future__ import annotations

import asyncio
import heapq


class VirtualTime:
    """A discrete-event clock: ``sleep`` parks the caller until virtual time reaches its wake-up, and ``run``
    drives a coroutine, advancing time to the earliest wake-up whenever every task is waiting. Concurrent sleeps
    overlap as they would in real time, in microseconds of wall time."""

    def __init__(self, start: float = 0.0):
        self.now = start
        self.slept: list[float] = []
        self._heap: list = []
        self._seq = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._heap, (self.now + seconds, self._seq, fut))
        await fut

    async def run(self, coro):
        task = asyncio.ensure_future(coro)
        while not task.done():
            for _ in range(50):
                await asyncio.sleep(0)
                if task.done():
                    break
            if task.done():
                break
            if not self._heap:
                continue
            wake, _, fut = heapq.heappop(self._heap)
            self.now = max(self.now, wake)
            if not fut.done():
                fut.set_result(None)
        return task.result()


class SendFailed(Exception):
    def __init__(self, status, retry_after=None):
        super().__init__(f"status {status}")
        self.status = status
        self.retry_after = retry_after


class ScriptedSend:
    """Answers each send from a script of statuses per conversation (None = success), recording the time."""

    def __init__(self, clock: VirtualTime, script: dict[str, list] | None = None, retry_after: float | None = None):
        self.clock = clock
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.retry_after = retry_after
        self.calls: list[tuple[float, str]] = []
        self.delivered: list[tuple[float, str]] = []

    async def __call__(self, reference: dict, card: dict, *, text=None):
        conv = reference["conversation"]["id"]
        self.calls.append((self.clock.now, conv))
        queue = self.script.get(conv)
        if queue:
            status = queue.pop(0)
            if status is not None:
                raise SendFailed(status, self.retry_after if status == 429 else None)
        self.delivered.append((self.clock.now, conv))
        return f"act-{len(self.delivered)}"
