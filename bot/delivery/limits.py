"""Teams' documented send limits as a reservation-based sliding-window limiter.

Limits (GUIDE §2, Microsoft's "Rate limiting for bots" page): per conversation 7 messages/s, 8 per 2 s, 60 per 30 s,
1 800 per hour; per app per tenant 50 requests/s. A window (n, s) means "never more than n sends in any s seconds".

Reservations: a caller whose conversation is free is given the earliest instant at which its send keeps every
window of its conversation and of the app; it is recorded at once (no await in between, so concurrent tasks never
both take the last place) and the caller sleeps until then. A caller whose conversation is not free yet is told
when to come back instead. Reservations are handed out in non-decreasing time order, so the oldest waiter goes
first and each window only needs its n-th most recent reservation: checking a window is O(1).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["TEAMS_PER_APP", "TEAMS_PER_CONVERSATION", "RateLimiter", "Window"]


@dataclass(frozen=True, slots=True)
class Window:
    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.seconds <= 0:
            raise ValueError(f"a window needs count >= 1 and seconds > 0, got {self.count}/{self.seconds}s")


TEAMS_PER_CONVERSATION: tuple[Window, ...] = (Window(7, 1), Window(8, 2), Window(60, 30), Window(1800, 3600))
TEAMS_PER_APP: tuple[Window, ...] = (Window(50, 1),)


class _Track:
    __slots__ = ("windows", "times", "blocked_until")

    def __init__(self, windows: Sequence[Window]):
        self.windows = tuple(windows)
        self.times: deque[float] = deque(maxlen=max((w.count for w in windows), default=1))
        self.blocked_until = 0.0

    def earliest(self, t: float) -> float:
        t = max(t, self.blocked_until)
        times = self.times
        for w in self.windows:
            if len(times) >= w.count:
                t = max(t, times[-w.count] + w.seconds)
        return t


class RateLimiter:
    """Sliding windows per key (a conversation) and for the whole app, with room for a safety margin.

    ``headroom`` < 1 stretches every window (0.95 → 50/s becomes 47.5/s) because the app limit counts *all* of
    the bot's calls, including replies to people's own turns, which do not pass through here. Times are seconds
    on any monotonic clock the caller uses consistently.
    """

    def __init__(
        self,
        per_key: Sequence[Window] = TEAMS_PER_CONVERSATION,
        per_app: Sequence[Window] = TEAMS_PER_APP,
        *,
        headroom: float = 1.0,
        smooth: bool = True,
        forget_after: float | None = None,
    ):
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")
        self.per_key = tuple(Window(w.count, w.seconds / headroom) for w in per_key)
        app = [Window(w.count, w.seconds / headroom) for w in per_app]
        if smooth:
            # Evenly spaced rather than in bursts of 50: requests reach Teams with a few ms of jitter, and a burst
            # at the edge of its window is what gets counted as the 51st.
            app += [Window(1, w.seconds / w.count) for w in app]
        self.app = _Track(tuple(app))
        self._keys: dict[Hashable, _Track] = {}
        self._last = float("-inf")
        self._forget_after = forget_after or max((w.seconds for w in self.per_key), default=1.0)
        self._sweeps = 0

    def reserve(self, key: Hashable, now: float) -> tuple[bool, float]:
        """Try to reserve a send for ``key`` at or after ``now`` (seconds).

        ``(True, t)``: reserved; send at ``t``. ``(False, t)``: the conversation itself is not free before ``t``
        (its own windows, or a Retry-After): come back then. A busy conversation is not given an app-wide place
        in the future, so it never holds up sends to everyone else.
        """
        track = self._keys.get(key)
        if track is None:
            track = self._keys[key] = _Track(self.per_key)
        t = max(now, self._last)
        own = track.earliest(t)
        if own > t:
            return False, own
        t = self.app.earliest(t)
        track.times.append(t)
        self.app.times.append(t)
        self._last = t
        self._sweeps += 1
        if self._sweeps >= 4096:
            self._sweep(now)
        return True, t

    def block(self, key: Hashable | None, until: float) -> None:
        """Nothing more for ``key`` (None: for the whole app) before ``until`` — e.g. after a 429 Retry-After."""
        if key is None:
            self.app.blocked_until = max(self.app.blocked_until, until)
            return
        track = self._keys.get(key)
        if track is None:
            track = self._keys[key] = _Track(self.per_key)
        track.blocked_until = max(track.blocked_until, until)

    def _sweep(self, now: float) -> None:
        """Forget conversations idle for longer than the longest window (they constrain nothing any more)."""
        self._sweeps = 0
        horizon = now - self._forget_after
        stale = [
            k for k, tr in self._keys.items() if (not tr.times or tr.times[-1] < horizon) and tr.blocked_until < now
        ]
        for k in stale:
            del self._keys[k]

    def tracked(self) -> int:
        return len(self._keys)
