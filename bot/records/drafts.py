"""Kept for the 1:1 journey until it moves to bot/records/lifecycle.py (`ONE_TO_ONE`): the same look-ups as
before, now over bot/store/drafts.py. New code uses the lifecycle."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import drafts as store
from bot.store.errors import NotYours

__all__ = ["NotYours", "draft_by_key", "has_draft", "own_draft"]


async def draft_by_key(s: AsyncSession, model: Any, key: str) -> Any | None:
    """The draft saved under `key` (a card's draft key), whoever owns it: callers check the owner."""
    return await store.by_key(s, model, key)


async def has_draft(db: Any, model: Any, key: str) -> bool:
    async with db.session() as s:
        return await store.exists(s, model, key)


async def own_draft(s: AsyncSession, model: Any, key: str, owner_id: str) -> Any | None:
    """The draft saved under `key` if it is `owner_id`'s, None if there is none; NotYours if it is someone else's."""
    draft = await store.by_key(s, model, key)
    if draft is not None and draft.owner_id != owner_id:
        raise NotYours
    return draft
