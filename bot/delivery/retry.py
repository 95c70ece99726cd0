"""What to do after a failed send: retry (when, and how long to wait), give up as unreachable, or give up.

Teams' guidance (GUIDE §2): retry 429 honouring Retry-After, and 412, 502, 503 and 504 with exponential backoff and
jitter; 403 means the bot may not write to that person (blocked, uninstalled, ``MessageWritesBlocked``). 404 means
the conversation is gone, which for a reminder is the same as unreachable. A network error (no status) is retried:
the request may not have arrived. Everything else (400, 401, 413, 500 …) says the request itself is wrong or the
outcome is unknown, and repeating it would at best fail again and at worst send it twice.

Own policy rather than tenacity: the decision needs the error's status and Retry-After, every retry has to take a
new place from the rate limiter before it goes, the outcome "unreachable" is a result rather than an exception,
and the jitter source and sleep are injected so tests are exact. That is ~30 lines here against a retry object,
a custom wait, a custom stop and a custom retry predicate in tenacity.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

__all__ = ["Decision", "RetryPolicy", "classify", "RETRY_STATUSES", "UNREACHABLE_STATUSES"]

RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
UNREACHABLE_STATUSES = frozenset({403, 404})


class Decision(str, enum.Enum):
    RETRY = "retry"
    UNREACHABLE = "unreachable"
    FAIL = "fail"


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an error carries (``status`` or ``status_code``), None for network errors."""
    for attr in ("status", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return None


def retry_after_of(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    try:
        return None if value is None else max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def classify(status: int | None) -> Decision:
    if status is None or status in RETRY_STATUSES:
        return Decision.RETRY
    if status in UNREACHABLE_STATUSES:
        return Decision.UNREACHABLE
    return Decision.FAIL


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, Retry-After honoured, bounded in attempts and in total waiting.

    ``delay(n)`` for the n-th retry (1-based) is uniform in [0, min(cap, base·2^(n-1))] ("full jitter": many
    senders backing off at once spread out instead of retrying in step). A Retry-After is waited in full, plus up
    to ``retry_after_jitter`` of itself so that everyone told "1 second" does not return in the same millisecond.
    """

    max_attempts: int = 6  # sends per message, the first included
    base: float = 0.5
    cap: float = 30.0
    max_total_wait: float = 300.0  # stop retrying once this much waiting would be exceeded
    retry_after_jitter: float = 0.1
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after * (1.0 + self.rng.uniform(0.0, self.retry_after_jitter))
        return self.rng.uniform(0.0, min(self.cap, self.base * (2 ** (retry_number - 1))))

    def next_wait(
        self, attempts_made: int, waited: float, status: int | None, retry_after: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to stop (the decision for the status is not RETRY, or
        the attempts or the waiting budget are used up)."""
        if classify(status) is not Decision.RETRY or attempts_made >= self.max_attempts:
            return None
        wait = self.delay(attempts_made, retry_after)
        if waited + wait > self.max_total_wait:
            return None
        return wait
