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

Two more trips can go on the turn staff wait on:

* `insert_object` writes one new ORM object as a single compiled `INSERT … RETURNING id` (one hop, no unit-of-work
  flush, which cost more than the statement), then attaches it to the session as if it had been loaded
  (`make_transient_to_detached`), so later changes to it are ordinary UPDATEs at the next flush.
* `insert_all(…, last=True)` is the unit of work's last write. On SQLite the COMMIT runs in the same hop as the
  inserts (the session's own commit then finds no transaction open and makes no hop, bot/store/sqlite_hops.py);
  anything the session still had pending is flushed first. The session is then marked committed: a later flush
  in it is refused (`WriteAfterLast`) rather than silently committed on its own. On PostgreSQL the three tables go
  in one statement (data-modifying CTEs, one round trip) and the COMMIT stays the session's.
"""

from __future__ import annotations

import collections
import sqlite3
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached

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


#: Set in a session's info once `insert_all(last=True)` has run (on SQLite it has committed the transaction).
COMMITTED = "committed_by_last_batch"


class WriteAfterLast(RuntimeError):
    """Something was written in a unit of work after its last batch had committed it."""


@event.listens_for(Session, "before_flush")
def _nothing_after_last(session: Session, _ctx, _instances) -> None:
    if session.info.get(COMMITTED) and (session.new or session.dirty or session.deleted):
        raise WriteAfterLast("this unit of work has had its last batch; write before it")


_DRIVER = "batch_driver"


async def _driver(s: AsyncSession):
    """(dialect, the one-hop sqlite3 connection or None, SQLAlchemy's asyncpg adapter or None) of the session's
    transaction; looked up once per transaction (each look-up is two trips through SQLAlchemy's greenlet bridge): a
    transaction's connection does not change while it lasts."""
    tx = s.sync_session.get_transaction()
    hit = s.sync_session.info.get(_DRIVER)
    if hit is not None and tx is not None and hit[0] is tx:
        return hit[1], hit[2], hit[3]
    conn = await s.connection()
    driver = pg = None
    if conn.dialect.name == "sqlite":
        raw = (await conn.get_raw_connection()).driver_connection
        driver = raw if isinstance(raw, sqlite_hops.Connection) else None
    elif conn.dialect.driver == "asyncpg":
        pg = (await conn.get_raw_connection()).dbapi_connection
    s.sync_session.info[_DRIVER] = (s.sync_session.get_transaction(), conn.dialect, driver, pg)
    return conn.dialect, driver, pg


def _untouched(pg) -> bool:
    """Nothing has run yet in this unit of work's transaction on PostgreSQL: SQLAlchemy's asyncpg adapter sends
    BEGIN with the first statement (`_transaction` is None until then) and makes the commit a no-op without one.
    Pinned by tests/store/test_batch.py (the statements PostgreSQL receives), as SQLAlchemy is pinned."""
    return pg is not None and pg._transaction is None and pg.isolation_level != "autocommit"


async def _on_its_own(s: AsyncSession, pg, sql: str, params: tuple, *, many: bool = False) -> Any:
    """One statement outside any transaction block: PostgreSQL runs it as a transaction of its own, committed (and
    its WAL flushed, synchronous_commit being on) before the answer comes back, all or nothing. Used only for a
    unit of work whose one write is this statement (its last batch) and for `nextval` (never rolled back anyway)
    — no BEGIN and no COMMIT, two round trips fewer. Errors are SQLAlchemy's, as through the session: a unique
    clash is IntegrityError, anything else also drops the connection from the pool (its state is unknown)."""
    import asyncpg

    async with pg._execute_mutex:
        try:
            if many:
                return await pg.driver_connection.fetch(sql, *params)
            return await pg.driver_connection.fetchrow(sql, *params)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(sql, params, exc) from None
        except Exception:
            await (await s.connection()).invalidate()
            raise


#: How many ids `reserve_id` takes from a PostgreSQL sequence at a time.
ID_BLOCK = 20

#: engine → table → ids taken from its sequence and not yet given out (this process's own, in order).
_RESERVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def reserve_id(s: AsyncSession, model: Any) -> int | None:
    """PostgreSQL: an id for a new row of `model`'s table, from that table's own sequence, so the row and the rows
    that carry its id can be written in one statement (`defer_insert`). The ids are taken ID_BLOCK at a time (one
    round trip in ID_BLOCK submits) and given out in order; a process that stops leaves the rest of its block
    unused — a gap, as a rolled-back insert leaves in any sequence. With several instances, each gives out its
    own block, so ids say nothing about which of two rows is newer (its `created_at` does). None on SQLite, which
    has no sequence."""
    dialect, _, pg = await _driver(s)
    if dialect.name != "postgresql":
        return None
    table = model.__table__.name
    engine = s.sync_session.get_bind()
    ready = _RESERVED.setdefault(engine, {}).setdefault(table, collections.deque())
    if not ready:
        sql = "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)"
        params = (table, ID_BLOCK)
        if _untouched(pg):
            rows = await _on_its_own(s, pg, sql, params, many=True)
        else:
            rows = (await (await s.connection()).exec_driver_sql(sql, params)).all()
        if rows and rows[0][0] is None:  # no sequence behind the id (not a serial column): insert as usual
            return None
        ready.extend(sorted(r[0] for r in rows))
    return ready.popleft()


#: (dialect name, table, columns, conflict) → (SQL, bind names in order, their bind processors)
_COMPILED: dict[tuple, tuple[str, tuple[str, ...], tuple]] = {}


def _compiled(dialect, ins: Insert, conflict: tuple[str, ...] | None, *, returning_id: bool = False):
    key = (dialect.name, ins.model.__table__.name, ins.columns, conflict, returning_id)
    hit = _COMPILED.get(key)
    if hit is None:
        stmt = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(ins.model.__table__)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        if returning_id:
            stmt = stmt.returning(ins.model.__table__.c.id)
        compiled = stmt.compile(dialect=dialect, column_keys=list(ins.columns))
        names = tuple(compiled.positiontup or ())
        missing = set(names) - set(ins.columns)
        if missing:  # a column whose default SQLAlchemy would fill in: not for this path
            raise ValueError(f"{ins.model.__tablename__}: give {sorted(missing)} explicitly")
        processors = compiled._bind_processors
        hit = (str(compiled), names, tuple(processors.get(n) for n in names))
        _COMPILED[key] = hit
    return hit


async def insert_all(s: AsyncSession, *inserts: Insert, last: bool = False) -> list[int]:
    """Run every insert, in order, in the session's transaction; returns how many rows each one added.

    `last`: nothing more is written in this unit of work; on SQLite the commit goes in the same hop, on PostgreSQL
    the inserts are one statement, with the INSERTs of objects left to it by `defer_insert` first, and when the unit
    of work has run nothing else that statement is the whole transaction (module doc)."""
    if last:
        own = _take_deferred(s)
        if s.new or s.dirty or s.deleted:
            await s.flush()
        try:
            counts = await _insert_all(s, (*(ins for _, ins in own), *inserts), last=True)
        finally:
            s.sync_session.info[COMMITTED] = True  # on any backend: nothing may be written after the last batch
        for obj, _ in own:  # written: a row in the database, not a new object any more (a later add is an UPDATE)
            make_transient_to_detached(obj)
        return counts[len(own) :]
    return await _insert_all(s, inserts, last=False)


async def _insert_all(s: AsyncSession, inserts: Sequence[Insert], *, last: bool) -> list[int]:
    todo = []  # (position in `inserts`, the insert with its rows stamped, its conflict columns)
    for i, ins in enumerate(inserts):
        if not ins.rows:
            continue
        rows = stamp_rows(s, ins.model, ins.rows)
        if rows is not ins.rows and rows and tuple(rows[0]) != ins.columns:
            ins = Insert(ins.model, rows, ins.conflict)  # the school column added: a statement of its own shape
        else:
            ins.rows = rows
        conflict = tuple(ins.conflict) if ins.conflict else None
        if conflict and isinstance(ins.model, type) and issubclass(ins.model, SchoolOwned):
            conflict = tuple(school_conflict(ins.model, conflict))
        todo.append((i, ins, conflict))
    counts = [0] * len(inserts)
    if not todo:
        return counts  # nothing to write: the session's own commit ends the unit of work
    dialect, driver, pg = await _driver(s)
    if driver is not None:
        work = []
        for _, ins, conflict in todo:
            sql, names, procs = _compiled(dialect, ins, conflict)
            params = [
                tuple(p(r[n]) if p is not None else r[n] for n, p in zip(names, procs, strict=True)) for r in ins.rows
            ]
            work.append((sql, params))
        added = await driver.run_many(work, commit=last)
    elif dialect.name == "postgresql" and (len(todo) > 1 or last):
        added = await _in_one_statement(
            s, [(ins, conflict) for _, ins, conflict in todo], alone=last and _untouched(pg)
        )
    else:
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        added = []
        for _, ins, conflict in todo:
            stmt = insert(ins.model.__table__)
            if conflict:
                stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
            res = await s.execute(stmt.returning(*ins.model.__table__.primary_key.columns), ins.rows)
            added.append(len(res.all()))
    for (i, _, _), n in zip(todo, added, strict=True):
        counts[i] = n
    return counts


async def _in_one_statement(s: AsyncSession, todo: list, *, alone: bool = False) -> list[int]:
    """PostgreSQL: every table's insert as one statement, one round trip. Each table is a data-modifying CTE
    (`WITH t0 AS (INSERT … RETURNING id), t1 AS (…) SELECT (SELECT count(*) FROM t0), …`): PostgreSQL runs every
    one of them exactly once, in the statement's snapshot, whether or not the outer query reads it
    (https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING). The rows of one table do not
    depend on another's here, which is what makes that safe.

    SQLAlchemy cannot cache the compiled form of a multi-row insert inside a CTE (it compiles it anew each time,
    about as long as the rest of the turn), so it is compiled here once per shape (tables, columns, number of rows)
    and run as the driver's SQL, each value put through its column type's bind processing (JSON, UTC datetimes)
    as SQLAlchemy would.

    `alone`: the unit of work has run nothing else, and this is its last write — the statement goes on its own
    (`_on_its_own`), a transaction by itself, with no BEGIN before it and no COMMIT after."""
    shape = tuple((ins.model.__table__.name, ins.columns, len(ins.rows), conflict) for ins, conflict in todo)
    compiled = _PG_STATEMENTS.get(shape)
    if compiled is None:
        dialect = s.sync_session.get_bind().dialect
        compiled = _PG_STATEMENTS[shape] = _pg_statement(todo, dialect)
    sql, order, processors = compiled
    values = [row[name] for ins, _ in todo for row in ins.rows for name in ins.columns]
    params = tuple(values[i] if p is None else p(values[i]) for i, p in zip(order, processors, strict=True))
    if alone:
        _, _, pg = await _driver(s)
        return [int(n) for n in await _on_its_own(s, pg, sql, params)]
    conn = await s.connection()
    return [int(n) for n in (await conn.exec_driver_sql(sql, params)).one()]


#: shape → (SQL, for each positional parameter the index of its value, that parameter's bind processor or None)
_PG_STATEMENTS: dict[tuple, tuple[str, tuple[int, ...], tuple]] = {}


def _pg_statement(todo: list, dialect) -> tuple[str, tuple[int, ...], tuple]:
    from sqlalchemy import bindparam, func, select

    ctes, index, n = [], {}, 0
    for t, (ins, conflict) in enumerate(todo):
        table = ins.model.__table__
        values = []
        for _ in ins.rows:
            row = {}
            for name in ins.columns:
                key = f"v{n}"
                index[key] = n
                n += 1
                row[name] = bindparam(key, type_=table.c[name].type)
            values.append(row)
        stmt = postgresql.insert(table).values(values)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        ctes.append(stmt.returning(*table.primary_key.columns).cte(f"t{t}"))
    query = select(*(select(func.count()).select_from(c).scalar_subquery().label(f"n{i}") for i, c in enumerate(ctes)))
    compiled = query.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    if set(names) != set(index):
        raise ValueError("batch statement: parameters other than the rows' values")
    procs = compiled._bind_processors
    return str(compiled), tuple(index[k] for k in names), tuple(procs.get(k) for k in names)


def _whole_row(s: AsyncSession, obj: Any, *, with_id: bool) -> dict[str, Any]:
    """The row of a new ORM object, every column given. Columns left unset take their Python-side scalar default,
    as a flush would give them, and are set on the object too (an attribute never set would be expired on
    attaching, and reading it later would be a lazy load: no I/O may happen there under asyncio); the school is
    stamped as for any row (bot/store/tenancy.py)."""
    given = obj.__dict__  # the instance's loaded attributes (SQLAlchemy keeps them in the instance dict)
    row: dict[str, Any] = {}
    for col in obj.__table__.columns:
        if col.primary_key and not with_id:
            continue
        value = given.get(col.key)
        if value is None and col.default is not None and col.default.is_scalar:
            value = col.default.arg
        if col.key not in given or given[col.key] is not value:
            setattr(obj, col.key, value)
        row[col.key] = value
    (row,) = stamp_rows(s, type(obj), [row])
    if "school_id" in row:
        obj.school_id = row["school_id"]
    return row


def _attach(s: AsyncSession, obj: Any) -> None:
    """A row just written outside the unit-of-work flush: its object joins the session as if it had been loaded, so
    later changes to it are ordinary UPDATEs."""
    make_transient_to_detached(obj)
    s.add(obj)


#: In a session's info: the objects `defer_insert` holds back for the unit of work's last batch.
_DEFERRED = "batch_deferred"


async def defer_insert(s: AsyncSession, obj: Any) -> bool:
    """Give a new object its id now (`reserve_id`) and hold its INSERT back for the unit of work's last batch
    (`insert_all(…, last=True)`), which writes it in the same statement as the rows that carry its id.

    Until then the object is not in the session — neither the ORM's pending set nor its flushes pay for it — so
    the caller must not read its table in this unit of work before the last batch (a query would not see it).
    Nothing is lost if the batch never comes: any flush, and the commit, put it in the session first and write
    it as the ORM writes any new object (`_flush_deferred`). False where no id can be taken in advance (SQLite):
    the caller writes it now (`insert_object`)."""
    ident = await reserve_id(s, type(obj))
    if ident is None:
        return False
    obj.id = ident
    if isinstance(obj, SchoolOwned):  # stamped now: a flush that takes it in comes after the tenancy's own stamping
        (stamped,) = stamp_rows(s, type(obj), [{"school_id": obj.__dict__.get("school_id")}])
        obj.school_id = stamped["school_id"]
    s.sync_session.info.setdefault(_DEFERRED, []).append(obj)
    return True


@event.listens_for(Session, "before_flush")
def _flush_deferred(session: Session, _ctx=None, _instances=None) -> None:
    """Objects still held back by `defer_insert` join the session, to be written by this flush (or the commit's)."""
    for obj in session.info.pop(_DEFERRED, ()):
        session.add(obj)


@event.listens_for(Session, "before_commit")
def _commit_deferred(session: Session) -> None:
    # A commit with nothing else to flush makes no flush at all: the held-back objects are added here, and the
    # commit's flush (which runs after this event) writes them.
    _flush_deferred(session)


def _take_deferred(s: AsyncSession) -> list[tuple[Any, Insert]]:
    """The last batch's own inserts, for the objects `defer_insert` held back; none are held any longer."""
    return [
        (obj, Insert(type(obj), [_whole_row(s, obj, with_id=True)])) for obj in s.sync_session.info.pop(_DEFERRED, ())
    ]


async def insert_object(s: AsyncSession, obj: Any) -> Any:
    """Write one new ORM object (its integer `id` assigned by the database) in one statement and return it,
    attached to the session as persistent (`_whole_row`, `_attach`). A unique-key clash raises the driver's
    IntegrityError, as a flush would."""
    row = _whole_row(s, obj, with_id=False)
    dialect, driver, _ = await _driver(s)
    # The statement compiled once per table and column set; its binds processed here (JSON, UTC datetimes) as
    # SQLAlchemy would, and run as the driver's SQL: on SQLite in one hop, on PostgreSQL in one round trip.
    sql, names, procs = _compiled(dialect, Insert(type(obj), [row]), None, returning_id=True)
    params = tuple(p(row[n]) if p is not None else row[n] for n, p in zip(names, procs, strict=True))
    if driver is not None:
        try:
            obj.id = await driver.run_returning(sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(sql, None, exc) from None
    else:
        conn = await s.connection()
        obj.id = (await conn.exec_driver_sql(sql, params)).scalar_one()
    _attach(s, obj)
    return obj
