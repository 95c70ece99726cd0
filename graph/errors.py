"""Domain errors for Microsoft 365 calls. Both backends raise these; the outbox understands them because they
are also `RetryLater` / `PermanentFailure` (a handler can let them propagate)."""

from __future__ import annotations

from bot.outbox.errors import PermanentFailure, RetryLater


class GraphError(Exception):
    """Base of every error raised by graph/."""


class GraphConfigError(GraphError):
    """Graph settings are incomplete or contradictory: stops start-up; the message names what is missing."""


class GraphAuthError(GraphError, RetryLater):
    """Signing in to Microsoft Graph failed (bad or expired secret, wrong tenant, unknown app, missing certificate).

    One plain sentence, no stack trace. In the outbox it waits and retries without using up the row's attempts:
    nothing is wrong with the row, and fixing the secret must not require re-queuing everything.
    """

    def __init__(self, message: str, *, retry_seconds: float = 300.0):
        RetryLater.__init__(self, retry_seconds, message, counts_as_attempt=False)


class GraphThrottled(GraphError, RetryLater):
    """429 / 503 / 504 (or a timeout): come back after `seconds` (the service's Retry-After when it gave one)."""

    def __init__(self, seconds: float | None, reason: str, *, status: int | None = None):
        RetryLater.__init__(self, seconds, reason)
        self.status = status


class GraphRequestError(GraphError, PermanentFailure):
    """The request cannot succeed as it stands (400, 403, a bad argument caught before sending)."""

    def __init__(self, reason: str, *, status: int | None = None, code: str | None = None):
        PermanentFailure.__init__(self, reason)
        self.status = status
        self.code = code


class GraphNotFound(GraphRequestError):
    """The user, group, channel, event or item does not exist (404)."""


class GraphConflict(GraphRequestError):
    """409: a name or an installation already exists. Handled inside the backends; surfaces only if unresolvable."""


class GraphDeltaExpired(GraphRequestError):
    """A delta link Graph no longer honours (410 Gone, or syncStateNotFound / resyncRequired): the caller starts a
    new initial round. Delta tokens for directory objects last seven days (Microsoft Learn, delta query overview)."""


DELTA_RESET_CODES = {"syncStateNotFound", "resyncRequired", "syncStateInvalid"}
