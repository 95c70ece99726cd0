"""SQLite under more writers than its busy timeout can wait for (bench/load.py saw 500s at 200 submits at once):
the turn is answered "busy, try again" — for a card click Universal Actions' error shape with 503, which Teams
shows while leaving the clicked card and its inputs as they were; for a typed command a message; for any other
route a 503 with Retry-After — never a 500. Nothing of the busy turn is written, and the same click afterwards
goes through once."""

from __future__ import annotations

import secrets
import sqlite3

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.store import Database
from bot.store.models_request import SupervisionRequest
from bot.teams.adapter import BUSY, BUSY_TEXT
from tests.fakes.teams import TeamsDriver, person

ANSWERS = {
    "kind": "one_to_one",
    "preferred": "priya.raman",
    "topics": "wellbeing",
    "urgency": "week",
    "times": "afternoon",
    "days": "",
    "note": "",
}


@pytest.fixture
async def busy_app(settings, clock, connector, tmp_path):
    path = tmp_path / "busy.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=150)
    app = create_app(settings, clock=clock, db=db)
    driver = await TeamsDriver(app, connector).start()
    yield driver, db, path
    await driver.stop()


class WriteLock:
    """Another writer holding SQLite's write lock (BEGIN IMMEDIATE) for as long as the block lasts."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=5)

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        self.conn.close()


async def _requests(db: Database) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(SupervisionRequest))).scalar_one()


async def test_a_card_submit_while_the_store_is_busy_says_try_again_and_writes_nothing(busy_app, school):
    teams, db, path = busy_app
    tom = person(school, "tom.hollis")
    assert await teams.install(tom) in (200, 201)
    data = dict(ANSWERS, draft_id=secrets.token_hex(16))
    with WriteLock(path):
        status, body = await teams.submit(tom, "request.submit", data)
    assert status == 503
    assert body["statusCode"] == 503 and body["type"] == "application/vnd.microsoft.error"
    assert body["value"] == {"code": "ServiceUnavailable", "message": BUSY}
    assert "kept" in BUSY and "nothing has been sent" in BUSY
    assert await _requests(db) == 0  # nothing half-written

    status, body = await teams.submit(tom, "request.submit", data)  # the same click, once the store is free
    assert status == 200 and body["value"]["body"][0]["text"] == "Request sent"
    assert await _requests(db) == 1


async def test_a_typed_command_while_the_store_is_busy_gets_a_message_not_a_500(busy_app, school, connector):
    teams, db, path = busy_app
    tom = person(school, "tom.hollis")
    assert await teams.install(tom) in (200, 201)
    connector.clear()
    with WriteLock(path):
        # The first request form of a process seeds the supervisor pool from the school file: a write.
        status = await teams.say(tom, "request")
    assert status in (200, 201), status
    assert connector.texts() == [BUSY_TEXT] and connector.cards() == []
    connector.clear()
    assert await teams.say(tom, "request") in (200, 201)  # free again: the form
    [form] = connector.cards()
    assert any(b.get("id") == "kind" for b in form["body"] if isinstance(b, dict)) or "kind" in str(form)


async def test_another_route_while_the_store_is_busy_is_a_503_with_retry_after(busy_app, school):
    """The dashboard (local mode, loopback) audits every view in the store: busy → 503, not 500."""
    teams, db, path = busy_app
    base = teams.url.rsplit("/api/messages", 1)[0]
    with WriteLock(path):
        async with teams.http.get(f"{base}/dashboard?as=amara.okafor") as r:
            status, retry = r.status, r.headers.get("Retry-After")
            body = await r.text()
    assert status == 503, (status, body[:200])
    assert retry == "5" and "busy" in body
    async with teams.http.get(f"{base}/dashboard?as=amara.okafor") as r:
        assert r.status == 200
