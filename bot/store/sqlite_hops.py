"""An aiosqlite connection that crosses to its thread once per statement, not three or four times.

SQLAlchemy's aiosqlite adapter makes a cursor (one hop to aiosqlite's thread), executes (a hop), fetches the rows
of anything that returns rows (a hop) and closes the cursor (a hop). Each hop is a queue put, a thread wake-up and
a `call_soon_threadsafe` back to the event loop; on a busy two-core machine every one of them can wait for a time
slice, and they were most of a card submit's turn (bench/turns.py). Here the cursor is only made, used, read to the
end and closed inside the one call that executes the statement; its description, rowcount and lastrowid are kept,
and the rows are handed back from memory. Commit and rollback are a hop each, as before — except when SQLite
has no transaction open (`in_transaction`, read on the event loop's thread while no statement is running): then
there is nothing to commit or roll back and no hop is made. That is the pool's reset-on-return rollback after
every committed unit of work, and the commit of every read-only one.

Nothing about the transaction changes: the same sqlite3 connection, opened with the same arguments, the same
implicit BEGIN before the first write, `commit()` still waits for SQLite's commit (WAL, synchronous=FULL: the
fsync) before the turn answers. Server-side cursors (`stream`) are read whole, like ordinary ones.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterable
from typing import Any

import aiosqlite


class _Cursor:
    """The part of aiosqlite.Cursor that SQLAlchemy uses, one thread hop per execute."""

    arraysize = 1

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._rows: deque = deque()
        self.description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    # SQLAlchemy enters the cursor (`await cursor.__aenter__()`); nothing to do on the thread for that.
    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def __await__(self):
        async def me() -> _Cursor:
            return self

        return me().__await__()

    def _run(self, many: bool, sql: str, parameters: Any) -> tuple:
        cur = self._conn._conn.cursor()
        try:
            if many:
                cur.executemany(sql, parameters)
            else:
                cur.execute(sql, parameters)
            rows = cur.fetchall() if cur.description else []
            return rows, cur.description, cur.rowcount, cur.lastrowid
        finally:
            cur.close()

    async def _execute_here(self, many: bool, sql: str, parameters: Any) -> _Cursor:
        rows, self.description, self.rowcount, self.lastrowid = await self._conn._execute(
            self._run, many, sql, parameters
        )
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Cursor:
        return await self._execute_here(False, sql, [] if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _Cursor:
        return await self._execute_here(True, sql, parameters)

    async def fetchone(self):
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list:
        n = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(n, len(self._rows)))]

    async def fetchall(self) -> list:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes) -> None:
        return None


class Connection(aiosqlite.Connection):
    """aiosqlite's connection (same thread, same queue, same sqlite3 connection) with one-hop cursors."""

    def cursor(self) -> _Cursor:  # type: ignore[override]
        return _Cursor(self)

    async def run_many(self, work: list[tuple[str, list[tuple]]], *, commit: bool = False) -> list[int]:
        """Several statements, each with its rows (executemany), in one hop; the rows each one changed. They run in
        whatever transaction the connection holds (sqlite3 opens one before the first write, as for `execute`), and
        an error stops at that statement: the caller's unit of work rolls it all back (bot/store/batch.py).
        `commit`: then COMMIT, in the same hop, once every statement has run (an error commits nothing)."""

        def run() -> list[int]:
            out = []
            for sql, params in work:
                cur = self._conn.cursor()
                try:
                    cur.executemany(sql, params)
                    out.append(cur.rowcount)
                finally:
                    cur.close()
            if commit:
                self._conn.commit()
            return out

        return await self._execute(run)

    async def run_returning(self, sql: str, params: tuple) -> Any:
        """One statement that returns one value (an `INSERT … RETURNING id`), in one hop, in the connection's
        transaction (bot/store/batch.py's insert_object)."""

        def run() -> Any:
            cur = self._conn.cursor()
            try:
                cur.execute(sql, params)
                return cur.fetchone()[0]
            finally:
                cur.close()

        return await self._execute(run)

    def _idle(self) -> bool:
        # SQLAlchemy never runs two operations at once on one connection, so nothing is running on the thread
        # now; sqlite3 answers in_transaction from SQLite's autocommit flag, without touching the database.
        conn = self._connection
        return conn is not None and not conn.in_transaction

    async def commit(self) -> None:
        if self._idle():
            return
        await super().commit()

    async def rollback(self) -> None:
        if self._idle():
            return
        await super().rollback()


def connect(database: str, **kwargs: Any) -> Connection:
    """Like aiosqlite.connect: the sqlite3 connection is opened on the connection's own thread when awaited."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    conn = Connection(connector, 64)
    conn._thread.daemon = True  # as SQLAlchemy's adapter does for aiosqlite's own connections
    return conn
