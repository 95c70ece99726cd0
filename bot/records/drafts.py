"""Drafts of record cards (group and 1:1): looked up by the key the card carries, shared by both journeys."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def draft_by_key(s: AsyncSession, model: Any, key: str) -> Any | None:
    """The draft saved under `key` (a card's draft key), whoever owns it: callers check the owner."""
    return (await s.execute(select(model).where(model.draft_key == key))).scalar_one_or_none()


async def has_draft(db: Any, model: Any, key: str) -> bool:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model).where(model.draft_key == key))
                ).scalar_one() > 0


class NotYours(Exception):
    """The draft key on the card belongs to someone else's draft (a tampered or forwarded card)."""


async def own_draft(s: AsyncSession, model: Any, key: str, owner_id: str) -> Any | None:
    """The draft saved under `key` if it is `owner_id`'s, None if there is none; NotYours if it is someone else's."""
    draft = await draft_by_key(s, model, key)
    if draft is not None and draft.owner_id != owner_id:
        raise NotYours
    return draft
