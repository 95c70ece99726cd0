"""Engine, sessions and start-up migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.store import sqlite_hops
from bot.store.errors import StoreBusy

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every instance of the bot on one database.
_PG_MIGRATION_LOCK = 724_311_905


#: Set in a session's info by code that removes special-category content (bot.effects.mark_scrubbed).
SCRUBBED = "scrubbed_content"

#: How long a SQLite write waits for another writer before the turn is told "busy, try again" (StoreBusy).
BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        # Deleted and overwritten content is zeroed in the file (a scrubbed outbox payload, a deleted draft), and a
        # checkpoint after a scrub truncates the -wal that still held the old page (Database.session). See
        # https://www.sqlite.org/pragma.html#pragma_secure_delete and #pragma_wal_checkpoint.
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    return on_connect


#: A PostgreSQL connection back in the pool for longer than this is pinged before it is used again.
PING_IF_IDLE_SECONDS = 10.0


def _ping_if_idle(engine) -> None:
    """Pessimistic disconnect handling for connections that may have gone stale, without a round trip for every
    unit of work: SQLAlchemy's `pool_pre_ping` pings at every checkout, which on the card-submit turn was one of
    seven round trips (bench/turns.py). Here a connection returned to the pool less than PING_IF_IDLE_SECONDS ago is
    used as it is (it answered moments ago; a server restart in that window fails that one unit of work, which
    rolls back and is retried by the user or the outbox, and invalidates the pool as SQLAlchemy's optimistic
    handling does); an older one is pinged, and a failed ping raises DisconnectionError, on which the pool throws
    the connection away and checks out a fresh one. https://docs.sqlalchemy.org/en/20/core/pooling.html#disconnect-
    handling-pessimistic and https://docs.sqlalchemy.org/en/20/core/events.html#sqlalchemy.events.PoolEvents.checkout
    """
    import time

    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_IF_IDLE_SECONDS:
            return  # new (connected just now), or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure to answer means: not this connection
            raise DisconnectionError() from exc


class Database:
    """Owns the engine; `session()` is one unit of work (one transaction)."""

    def __init__(
        self, url: str, *, schema: str | None = None, echo: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ):
        from bot.store.tenancy import DEFAULT_SCHOOL_KEY

        self.url = url
        # The school a deployment-level session stamps on new school-owned rows: set while the deployment has one
        # school (create_app), None for a trust, where every write must come from a school's session.
        self.default_school: str | None = DEFAULT_SCHOOL_KEY
        # The school that rows from before issue 10 (no school column yet) are given by the migration.
        self.legacy_school: str = DEFAULT_SCHOOL_KEY
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict = {"echo": echo}
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # The same sqlite3 connection and arguments, one hop to its thread per statement (sqlite_hops.py).
            kwargs["connect_args"] = {"async_creator_fn": sqlite_hops.connect}
        else:
            # No pool_pre_ping (a round trip before every unit of work): a connection idle for a while is pinged
            # at checkout instead (_ping_if_idle), one in steady use is not.
            kwargs.update(pool_size=10, max_overflow=10)
            if schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        else:
            _ping_if_idle(self.engine.sync_engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self, *, school: str | None = None) -> AsyncIterator[AsyncSession]:
        """One transaction: committed on success, rolled back on any error. A database too busy to take it
        (`is_busy`) raises StoreBusy, after the rollback: nothing of it was written.

        `school`: the session reads and writes that school's rows only (bot/store/tenancy.py). Without it the
        session is the deployment's own and sees every school."""
        try:
            async with self.sessions() as s:
                if school is not None:
                    s.sync_session.info["school_id"] = school
                s.sync_session.info["default_school"] = self.default_school
                async with s.begin():
                    yield s
                scrubbed = s.sync_session.info.pop(SCRUBBED, False)
            if scrubbed and self.is_sqlite:
                await self._forget_old_pages()
        except (OperationalError, PoolTimeout) as exc:
            if is_busy(exc):
                log.warning("store busy: the unit of work was rolled back (%s)", type(exc.__cause__ or exc).__name__)
                raise StoreBusy() from None
            raise

    async def _forget_old_pages(self) -> None:
        """After a commit that scrubbed content: checkpoint and truncate SQLite's -wal, which still holds the page
        images from before the scrub (secure_delete has zeroed them in the database file itself). Best effort: a
        reader holding an old snapshot makes it a no-op until the next scrub or the clean shutdown."""
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except OperationalError:
            log.info("wal checkpoint after a scrub was busy; the next one will do it")

    def for_school(self, school: str) -> SchoolDatabase:
        """This database as one school sees it: every session it opens is that school's."""
        return SchoolDatabase(self, school)

    async def migrate(self) -> None:
        """Bring the schema to every head. On PostgreSQL an advisory lock stops two instances racing."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            await conn.run_sync(_upgrade, self.legacy_school)

    async def healthy(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health check reports, never raises
            log.warning("store health check failed", exc_info=False)
            return False

    async def close(self) -> None:
        await self.engine.dispose()


#: SQLite's words for SQLITE_BUSY / SQLITE_LOCKED once busy_timeout has run out.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def is_busy(exc: BaseException) -> bool:
    """The store could not take the work in time: SQLite busy after its timeout, or the pool had no connection."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, OperationalError):
        message = str(getattr(exc, "orig", exc)).lower()
        return any(words in message for words in _SQLITE_BUSY)
    return False


class SchoolDatabase:
    """A school's view of the deployment's Database (what `services.db` is): the same engine, school-scoped
    sessions. Everything else (engine, is_sqlite, healthy, ...) is the underlying Database's."""

    def __init__(self, db: Database, school: str):
        self.whole = db
        self.school = school

    def session(self, *, school: str | None = None):
        if school is not None and school != self.school:
            from bot.store.tenancy import CrossSchoolWrite

            raise CrossSchoolWrite("a school's services cannot open another school's session")
        return self.whole.session(school=self.school)

    def for_school(self, school: str) -> SchoolDatabase:
        return self.whole.for_school(school)

    def __getattr__(self, name):
        return getattr(self.whole, name)


def _upgrade(connection, legacy_school: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["legacy_school"] = legacy_school
    command.upgrade(cfg, "head")
