"""The port for proactive Teams messages (implemented in bot/teams/adapter.py) and its SDK-free errors."""

from __future__ import annotations

from typing import Protocol


class SendError(Exception):
    """A proactive send failed. `status` is the channel's HTTP status (None for network errors)."""

    def __init__(self, status: int | None, *, retry_after: float | None = None, code: str | None = None):
        super().__init__(f"send failed: status={status} code={code}")
        self.status = status
        self.retry_after = retry_after
        self.code = code

    @property
    def unreachable(self) -> bool:
        """403 (blocked / uninstalled / MessageWritesBlocked) or 404 (conversation gone): retrying won't help."""
        return self.status in (403, 404)

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in (412, 429, 500, 502, 503, 504)


class Messenger(Protocol):
    async def send_card(self, reference: dict, card: dict, *, text: str | None = None) -> str | None: ...

    async def update_card(self, reference: dict, activity_id: str, card: dict) -> None: ...
