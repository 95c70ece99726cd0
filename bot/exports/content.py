"""The outbox's content loader: an upload whose payload carries `content_ref` gets its bytes from the store at
delivery time (graph.handlers `load_content`), so a large export never has to fit in an outbox row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.outbox.errors import PermanentFailure
from bot.store import exports as store
from bot.store.errors import NotFound

EXPORT_FILE = "export_file"


def ref(file_id: int) -> dict:
    return {EXPORT_FILE: file_id}


def content_loader(db) -> Callable[[dict], Awaitable[bytes]]:
    async def load(content_ref: dict) -> bytes:
        file_id = content_ref.get(EXPORT_FILE)
        if not isinstance(file_id, int):
            raise PermanentFailure("unknown content_ref")
        async with db.session() as s:
            try:
                return await store.content(s, file_id)
            except NotFound:
                # Delivered already (its bytes dropped) or expired by the retention rule: nothing left to send.
                raise PermanentFailure("the export file is no longer held") from None

    return load
