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
    insert = postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert
    table = model.__table__
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(*table.primary_key.columns)
    added = 0
    for i in range(0, len(rows), BATCH):
        res = await s.execute(stmt, list(rows[i : i + BATCH]))
        added += len(res.all())
    return added
