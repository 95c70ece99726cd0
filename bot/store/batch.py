"""Several plain inserts into several tables as one trip to the database, inside the caller's transaction.

A card submit writes a handful of rows that depend on nothing but each other's ids (the audit event, the outbox
notices, the status card's message id). Through the ORM or one `execute` each, every one of them is a statement of
its own, and with aiosqlite a statement is a hop to its thread and back — on a loaded two-core machine each hop can
wait for a time slice (bench/turns.py). Here, on SQLite, the statements (compiled once per table and column set) all
run in one hop on the same sqlite3 connection, in the transaction the session already holds: they commit or roll
back with it, exactly as before. On PostgreSQL each table is one `INSERT` with its rows as parameters (SQLAlchemy's
insertmanyvalues: one round trip per table).

Rows are stamped with the session's school like every Core insert (bot/store/tenancy.py). Only whole rows: every
column without a server default must be given (no Python-side defaults are filled in here), which `Insert` checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import sqlite_hops
from bot.store.tenancy import SchoolOwned, stamp_rows
from bot.store.upsert import school_conflict


@dataclass
class Insert:
    """Rows for one table; `conflict` (unique columns) makes it "insert, or skip a row already there"."""

    model: Any
    rows: list[dict[str, Any]]
    conflict: Sequence[str] | None = None
    columns: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        if self.rows:
            self.columns = tuple(self.rows[0])
            if any(tuple(r) != self.columns for r in self.rows):
                raise ValueError(f"rows for {self.model.__tablename__} must all name the same columns, in order")


def outbox(s: AsyncSession, effects: Sequence[Any], *, now) -> Insert:
    """The outbox rows of these effects, built and checked by the outbox's own `_row` and marked with the session's
    school as `enqueue_many` marks them; a key already queued is skipped."""
    from bot.outbox.api import _row
    from bot.store.models_outbox import OutboxRow

    rows = [_row(e.kind, e.payload, key=e.key, not_before=e.not_before, chain=e.chain, now=now) for e in effects]
    school = s.sync_session.info.get("school_id")
    if school is not None:
        rows = [{**r, "school_id": school} for r in rows]
    return Insert(OutboxRow, rows, conflict=("key",))


#: (dialect name, table, columns, conflict) → (SQL, bind names in order, their bind processors)
_COMPILED: dict[tuple, tuple[str, tuple[str, ...], tuple]] = {}


def _compiled(dialect, ins: Insert, conflict: tuple[str, ...] | None):
    key = (dialect.name, ins.model.__table__.name, ins.columns, conflict)
    hit = _COMPILED.get(key)
    if hit is None:
        stmt = sqlite.insert(ins.model.__table__)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        compiled = stmt.compile(dialect=dialect, column_keys=list(ins.columns))
        names = tuple(compiled.positiontup or ())
        missing = set(names) - set(ins.columns)
        if missing:  # a column whose default SQLAlchemy would fill in: not for this path
            raise ValueError(f"{ins.model.__tablename__}: give {sorted(missing)} explicitly")
        processors = compiled._bind_processors
        hit = (str(compiled), names, tuple(processors.get(n) for n in names))
        _COMPILED[key] = hit
    return hit


async def insert_all(s: AsyncSession, *inserts: Insert) -> list[int]:
    """Run every insert, in order, in the session's transaction; returns how many rows each one added."""
    todo = []
    for ins in inserts:
        if not ins.rows:
            continue
        rows = stamp_rows(s, ins.model, ins.rows)
        if rows is not ins.rows and rows and tuple(rows[0]) != ins.columns:
            ins = Insert(ins.model, rows, ins.conflict)
        else:
            ins.rows = rows
        conflict = tuple(ins.conflict) if ins.conflict else None
        if conflict and isinstance(ins.model, type) and issubclass(ins.model, SchoolOwned):
            conflict = tuple(school_conflict(ins.model, conflict))
        todo.append((ins, conflict))
    counts = {id(ins): 0 for ins in inserts}
    if not todo:
        return [0 for _ in inserts]
    conn = await s.connection()
    if conn.dialect.name == "sqlite":
        driver = (await conn.get_raw_connection()).driver_connection
        if isinstance(driver, sqlite_hops.Connection):
            dialect = conn.dialect
            work = []
            for ins, conflict in todo:
                sql, names, procs = _compiled(dialect, ins, conflict)
                params = [
                    tuple(p(r[n]) if p is not None else r[n] for n, p in zip(names, procs, strict=True))
                    for r in ins.rows
                ]
                work.append((sql, params))
            added = await driver.run_many(work)
            for (ins, _), n in zip(todo, added, strict=True):
                counts[id(ins)] = n
            return [counts[id(ins)] for ins in inserts]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for ins, conflict in todo:
        stmt = insert(ins.model.__table__)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        table = ins.model.__table__
        res = await s.execute(stmt.returning(*table.primary_key.columns), ins.rows)
        counts[id(ins)] = len(res.all())
    return [counts[id(ins)] for ins in inserts]
