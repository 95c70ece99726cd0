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

    Returns how many rows were inserted (the driver's rowcount; 0 when every row was already there)."""
    if not rows:
        return 0
    from bot.store.tenancy import SchoolOwned, stamp_rows

    rows = stamp_rows(s, model, list(rows))
    if isinstance(model, type) and issubclass(model, SchoolOwned) and "school_id" not in conflict:
        conflict = ["school_id", *conflict]  # a school-owned table's unique keys all start with its school
    insert = postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert
    added = 0
    for i in range(0, len(rows), BATCH):
        stmt = insert(model).values(list(rows[i : i + BATCH])).on_conflict_do_nothing(index_elements=list(conflict))
        res = await s.execute(stmt)
        added += max(res.rowcount or 0, 0)
    return added
