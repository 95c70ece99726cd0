"""What a delivery handler raises to tell the outbox worker what to do next.

Anything else a handler raises counts as a transient failure: the worker retries it with exponential backoff and
jitter until the row runs out of attempts.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Base class for the two outcomes a handler can signal."""

    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason or type(self).__name__


class RetryLater(DeliveryError):
    """Try again later. `seconds` is the service's Retry-After when it gave one; None means "use backoff".

    `counts_as_attempt=False` is for failures that say nothing about the row itself (our credentials are wrong,
    say): such rows wait and retry without drifting towards the dead-letter state.
    """

    def __init__(self, seconds: float | None = None, reason: str = "", *, counts_as_attempt: bool = True):
        super().__init__(reason or (f"retry after {seconds:g} s" if seconds is not None else "retry later"))
        self.seconds = None if seconds is None else max(0.0, float(seconds))
        self.counts_as_attempt = counts_as_attempt


class PermanentFailure(DeliveryError):
    """Retrying cannot help (the request is wrong, the target is gone, access is refused): dead-letter now."""
