"""Outbox: every Microsoft 365 side effect is a row written in the same transaction as the state change, and
delivered later by `OutboxWorker` with retries, so the user never waits on Graph and an outage loses nothing.

    async with db.session() as s:
        ...                                             # the journey's own state change
        await enqueue(s, "channel_file.upload", {"record_id": 42}, key="record:42:upload")
    worker.wake()
"""

from bot.outbox.api import MAX_PAYLOAD_BYTES, Effect, OutboxMessage, enqueue, enqueue_many, get, requeue
from bot.outbox.errors import DeliveryError, PermanentFailure, RetryLater
from bot.outbox.worker import OUTAGE_PATIENCE, OutboxWorker, utcnow

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "DeliveryError",
    "Effect",
    "OutboxMessage",
    "OutboxWorker",
    "PermanentFailure",
    "OUTAGE_PATIENCE",
    "RetryLater",
    "enqueue",
    "enqueue_many",
    "get",
    "requeue",
    "utcnow",
]
