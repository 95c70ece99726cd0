"""Record drafts and the "was this card submitted?" look-up, for any record kind (group or 1:1): the SQL behind
bot/records/lifecycle.py, generic over the draft model and the model that carries a submit key.

A draft model has `draft_key` (unique), `owner_id`, `content`, `created_at`, `updated_at` and the columns that say
what it is a draft of (its target). A submitted model has a unique `submit_key`. Filters given as keyword
arguments are column equalities; `None` means IS NULL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


def _where(model: Any, filters: dict[str, Any]) -> list:
    out = []
    for name, value in filters.items():
        col = getattr(model, name)
        out.append(col.is_(None) if value is None else col == value)
    return out


async def by_key(s: AsyncSession, model: type[M], key: str) -> M | None:
    """The draft saved under `key`, whoever owns it."""
    return (await s.execute(select(model).where(model.draft_key == key))).scalar_one_or_none()


async def exists(s: AsyncSession, model: Any, key: str) -> bool:
    return (await s.execute(select(func.count()).select_from(model).where(model.draft_key == key))).scalar_one() > 0


async def latest(s: AsyncSession, model: type[M], owner_id: str, **target: Any) -> M | None:
    """The owner's most recently saved draft of this target."""
    return (
        await s.execute(
            select(model)
            .where(model.owner_id == owner_id, *_where(model, target))
            .order_by(model.updated_at.desc(), model.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def recent(s: AsyncSession, model: type[M], owner_id: str, limit: int) -> Sequence[M]:
    """The owner's drafts, most recently saved first."""
    return (
        (
            await s.execute(
                select(model)
                .where(model.owner_id == owner_id)
                .order_by(model.updated_at.desc(), model.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def add(s: AsyncSession, model: type[M], **columns: Any) -> M:
    row = model(**columns)
    s.add(row)
    await s.flush()
    return row


async def remove(s: AsyncSession, row: Any) -> None:
    await s.delete(row)
    await s.flush()


async def delete_key(s: AsyncSession, model: Any, key: str) -> int:
    res = await s.execute(delete(model).where(model.draft_key == key))
    return max(res.rowcount or 0, 0)


async def delete_where(
    s: AsyncSession, model: Any, *, keep: str | None = None, saved_before: dt.datetime | None = None, **target: Any
) -> int:
    """Delete the drafts matching `target` (all owners unless `owner_id` is one of the filters), except `keep`,
    and only those last saved before `saved_before` when given."""
    conds = _where(model, target)
    if keep is not None:
        conds.append(model.draft_key != keep)
    if saved_before is not None:
        conds.append(model.updated_at < saved_before)
    res = await s.execute(delete(model).where(*conds))
    return max(res.rowcount or 0, 0)


async def submitted(s: AsyncSession, model: type[M], key: str) -> M | None:
    """The row (a record, or a record's version) filed under this card's submit key."""
    return (await s.execute(select(model).where(model.submit_key == key))).scalar_one_or_none()


async def get(s: AsyncSession, model: type[M], row_id: int) -> M | None:
    return await s.get(model, row_id)
