"""The one "insert, or do nothing if it is already there" for both databases.

SQLite and PostgreSQL both spell it `INSERT … ON CONFLICT (…) DO NOTHING`, but SQLAlchemy builds it from each
dialect's own `insert`: this picks the dialect from the session, so callers never switch on it themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

#: Rows per statement: well under SQLite's 32 766 bound parameters for our widest table.
BATCH = 500


async def insert_ignore(s: AsyncSession, model: Any, rows: Sequence[dict[str, Any]], *, conflict: Sequence[str]) -> int:
    """Insert `rows` into `model`'s table, skipping any that clash on the unique columns `conflict`.

    Returns how many rows were inserted (the rows RETURNING gave back; 0 when every row was already there).

    The rows go as parameters of one statement, not baked into it (`.values([...])`): SQLAlchemy cannot cache a
    multi-row VALUES statement and compiled it afresh on every call — the largest single cost of a card submit's
    outbox write. With the rows as parameters the compiled statement is cached per table and conflict target, and
    SQLAlchemy's "insertmanyvalues" still sends them as one INSERT … VALUES (…), (…) per batch on both databases."""
    if not rows:
        return 0
    from bot.store.tenancy import SchoolOwned, stamp_rows

    rows = stamp_rows(s, model, list(rows))
    if isinstance(model, type) and issubclass(model, SchoolOwned):
        conflict = school_conflict(model, conflict)
    insert = postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert
    table = model.__table__
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(*table.primary_key.columns)
    added = 0
    for i in range(0, len(rows), BATCH):
        res = await s.execute(stmt, list(rows[i : i + BATCH]))
        added += len(res.all())
    return added


def school_conflict(model: Any, conflict: Sequence[str]) -> list[str]:
    """The unique key to test for a school-owned table: (school_id, *conflict) when the table has that unique key
    (a staff id, a half term: the same value in two schools is two rows), else `conflict` itself (a one-time key,
    unique across the deployment)."""
    from sqlalchemy import UniqueConstraint

    wanted = {"school_id", *conflict}
    table = model.__table__
    keys = [{c.name for c in u.columns} for u in table.constraints if isinstance(u, UniqueConstraint)]
    keys += [{c.name for c in ix.columns} for ix in table.indexes if ix.unique]
    return ["school_id", *conflict] if "school_id" not in conflict and wanted in keys else list(conflict)
