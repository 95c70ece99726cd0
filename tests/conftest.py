"""Shared fixtures: the demo school, a fresh database on each backend (SQLite always; PostgreSQL when reachable
or in CI), a clock you can move, and a bot driven over real HTTP with a connector double."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from pathlib import Path

import pytest

from bot.school import load_school
from bot.store import Database

ROOT = Path(__file__).resolve().parent.parent
DEMO_SCHOOL = ROOT / "infra" / "demo" / "school.yaml"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    # The journeys run on msgraph with SQLite only: the store backend is covered by the local runs on both
    # databases, and (PostgreSQL × msgraph) would add a quarter of the suite's time for no new path.
    both = [
        i
        for i in items
        if getattr(i, "callspec", None)
        and i.callspec.params.get("db") == "postgres"
        and i.callspec.params.get("m365_backend") == "msgraph"
    ]
    if both:
        config.hook.pytest_deselected(items=both)
        items[:] = [i for i in items if i not in set(both)]
    if _pg_reachable():
        return
    if os.environ.get("CI"):
        # CI must exercise PostgreSQL: a missing server is a failure, not a skip.
        raise pytest.UsageError("CI=true but PostgreSQL is not reachable at 127.0.0.1:5432")
    skip = pytest.mark.skip(reason="PostgreSQL not reachable at 127.0.0.1:5432 (always run in CI)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _loopback(host) -> bool:
    import ipaddress

    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Nothing in any test may reach beyond this machine's loopback: no Entra sign-in, no graph.microsoft.com,
    no Bot Framework connector. Resolving or connecting to anything else fails at once with a clear error."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kw):
        if not _loopback(host):
            raise OSError(f"test tried to resolve {host!r}: only loopback is allowed")
        return real_getaddrinfo(host, *args, **kw)

    def connect(sock, address):
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise OSError(f"test tried to connect to {address!r}: only loopback is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(scope="session")
def school():
    return load_school(DEMO_SCHOOL)


class FakeClock:
    """An injectable clock; tests move it instead of sleeping."""

    def __init__(self, now: dt.datetime):
        assert now.tzinfo is not None
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> dt.datetime:
        self.now = self.now + dt.timedelta(**kw)
        return self.now


@pytest.fixture
def clock():
    # Monday of week 4 in Autumn 2 of the demo school, 10:00 London (UTC in winter).
    return FakeClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc))


async def _pg_database() -> tuple[Database, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(PG_URL)
    from sqlalchemy import text

    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.close()
    return Database(PG_URL, schema=schema), schema


async def _drop_pg_schema(schema: str) -> None:
    from sqlalchemy import text

    admin = Database(PG_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request, tmp_path):
    """A migrated, empty database — once on SQLite and once on PostgreSQL (each test runs on both)."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
        schema = None
    else:
        database, schema = await _pg_database()
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()
        if schema:
            await _drop_pg_schema(schema)


@pytest.fixture
async def sqlite_db(tmp_path):
    """SQLite only, for tests that are about behaviour rather than the backend."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
    await database.migrate()
    yield database
    await database.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def connector():
    from tests.fakes.connector import ConnectorDouble

    c = await ConnectorDouble().start()
    yield c
    await c.stop()


@pytest.fixture
def m365_backend(request) -> str:
    """Which Microsoft 365 backend the app under test uses: "local" here; tests/journeys/conftest.py overrides it
    with the parametrised version (local and msgraph-sdk against the Graph double), so every journey runs on both."""
    return getattr(request, "param", "local")


@pytest.fixture
async def graph_double(m365_backend, school):
    """The Graph double the msgraph backend talks to (seeded from the demo school), or None on the local backend."""
    if m365_backend != "msgraph":
        yield None
        return
    from tests.fakes.m365 import seeded_double

    d = await seeded_double(school)
    yield d
    await d.close()
    # A journey that "works" while Graph refused a call (the outbox retried, a fallback hid it) is broken in
    # production: any error answer fails the test, unless the test injected faults and set `errors_expected`.
    refused = [f"{r.method} {r.path} → {r.status}" for r in d.requests if r.status and r.status >= 400]
    if refused and not getattr(d, "errors_expected", False):
        pytest.fail("the Graph double refused: " + "; ".join(refused[:5]))


@pytest.fixture
def settings(tmp_path, graph_double):
    from bot.settings import load_settings
    from graph.settings import GraphSettings

    if graph_double is not None:
        from tests.fakes.m365 import graph_settings

        graph = graph_settings(graph_double)
    else:
        graph = GraphSettings(_env_file=None)
    return load_settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
        graph=graph,
    )


@pytest.fixture
async def teams(settings, db, clock, connector, graph_double):
    """The real app (on each store backend, and in tests/journeys on each Microsoft 365 backend) driven over HTTP
    with hand-built Teams activities."""
    from bot.app import create_app
    from tests.fakes.teams import TeamsDriver

    credential = None
    if graph_double is not None:
        from tests.fakes.graph_double import StaticTokenCredential

        credential = StaticTokenCredential(graph_double.token)
    app = create_app(settings, clock=clock, db=db, graph_credential=credential)
    driver = await TeamsDriver(app, connector).start()
    yield driver
    await driver.stop()


@pytest.fixture
def m365_view(teams, settings, db, school, graph_double):
    """What the bot left in Microsoft 365 — channel files, calendars, OneDrive shares, installs — read from the
    storage of whichever backend `teams` runs on (tests/fakes/m365.py)."""
    from tests.fakes.m365 import M365Reader

    return M365Reader(
        "msgraph" if graph_double is not None else "local",
        db=db,
        school=school,
        root=settings.local_m365_dir,
        double=graph_double,
    )
