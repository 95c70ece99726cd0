"""Production runtime: SIGTERM to a real `python -m bot` during a burst of outbox rows. The process finishes the
deliveries on the wire, hands back every row it claimed and never started, exits 0, and a second instance on the
same store delivers every remaining row at once — none twice, as the connector double's own log shows."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.app import SHUTDOWN_GRACE
from bot.outbox import OutboxWorker, enqueue
from bot.store import Database
from bot.store.models_outbox import OutboxRow
from tests.conftest import PG_URL, ROOT, free_port
from tests.fakes.connector import ConnectorDouble
from tests.reminders.helpers import add_refs

BURST = 24
#: The app's outbox worker: at most this many deliveries are on the wire at once.
CONCURRENCY = inspect.signature(OutboxWorker.__init__).parameters["concurrency"].default


def marker(i: int) -> str:
    return f"burst-{i:03d}"


def burst_card(i: int) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "id": marker(i), "text": "Your supervision request was received."}],
    }


def delivered_markers(connector: ConnectorDouble) -> Counter[str]:
    """What Teams received, from the connector double's own log: one entry per message it accepted."""
    out: Counter[str] = Counter()
    for card in connector.cards():
        first = (card.get("body") or [{}])[0]
        if str(first.get("id", "")).startswith("burst-"):
            out[first["id"]] += 1
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store_url(request, tmp_path):
    """A database URL a subprocess can use: a SQLite file, or a fresh PostgreSQL database (a schema cannot be named
    in DATABASE_URL)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(PG_URL)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.close()


async def seed_burst(db: Database, service_url: str, staff: list[str] | None = None) -> None:
    """One Teams message to each of BURST people waiting in the outbox: to `staff` (who have a chat with the bot
    already), or to BURST new people given a chat with it here."""
    if staff is None:
        staff = [f"burst{i:03d}" for i in range(BURST)]
        await add_refs(db, staff, service_url=service_url)
    async with db.session() as s:
        for i, sid in enumerate(staff[:BURST]):
            await enqueue(s, "teams.notify", {"staff_id": sid, "card": burst_card(i)}, key=f"burst:{i}")


async def outbox_rows(url: str) -> list[OutboxRow]:
    db = Database(url)
    try:
        async with db.session() as s:
            return list((await s.execute(select(OutboxRow).where(OutboxRow.key.like("burst:%")))).scalars())
    finally:
        await db.close()


class Bot:
    """`python -m bot` as App Service would run it, on a free loopback port, logging to a file."""

    def __init__(self, workdir: Path, url: str, instance: str, env: dict[str, str] | None = None):
        self.workdir, self.url, self.instance = workdir, url, instance
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.log_path = workdir / f"{instance}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Bot:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
        env.update(
            {
                "PORT": str(self.port),
                "HOST": "127.0.0.1",
                "DATABASE_URL": self.url,
                "INSTANCE_ID": self.instance,
                "LOCAL_M365_DIR": str(self.workdir / "m365"),
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            }
            | self.extra_env
        )
        with open(self.log_path, "wb") as log:
            # The working directory is the temp folder, so a developer's .env is not read.
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def terminate(self) -> int:
        """SIGTERM, as App Service sends on a restart or scale-in; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            # Generous against a loaded machine; what shows the grace was kept is cancelled=0 in the log.
            return await asyncio.wait_for(self.proc.wait(), SHUTDOWN_GRACE + 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"{self.instance} did not exit after SIGTERM:\n{self.log()[-3000:]}") from None

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def wait_for(predicate, bot: Bot, within: float = 90.0) -> None:
    """Poll until predicate() holds; fail with the bot's log if it never does (generous: not a timing test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if bot.proc.returncode is not None:
            raise AssertionError(f"{bot.instance} exited with {bot.proc.returncode}:\n{bot.log()[-3000:]}")
        if loop.time() > deadline:
            raise AssertionError(f"timed out; {bot.instance} log:\n{bot.log()[-3000:]}")
        await asyncio.sleep(0.05)


async def test_sigterm_during_a_burst_hands_the_rest_to_the_next_instance(store_url, tmp_path):
    connector = await ConnectorDouble(delay=1.5).start()  # each message is on the wire for 1.5 s
    first = second = None
    try:
        db = Database(store_url)
        try:
            await db.migrate()
            await seed_burst(db, connector.url)
        finally:
            await db.close()
        first = await Bot(tmp_path / "a", store_url, "bot-a").start()
        await wait_for(lambda: delivered_markers(connector), first)
        assert await first.terminate() == 0  # mid-burst: the first messages are still on the wire
        by_first = delivered_markers(connector)
        # Only what was on the wire at SIGTERM went out; nothing new was started after it.
        assert 1 <= sum(by_first.values()) <= CONCURRENCY < BURST
        rows = await outbox_rows(store_url)
        # Every row is finished or back in the queue, claimable now: none waits out a lease.
        assert all(r.claimed_until is None and r.claim_token is None for r in rows)
        assert {r.key for r in rows if r.status == "delivered"} == {f"burst:{int(m[6:])}" for m in by_first}
        assert all(r.attempts == 0 for r in rows if r.status == "pending")  # handed back as they were
        log = first.log()
        assert "outbox worker outbox stopped:" in log and "cancelled=0" in log, log[-3000:]  # within the grace
        assert "burst-" not in log and "supervision request" not in log  # counts only, never content

        connector.delay = 0
        second = await Bot(tmp_path / "b", store_url, "bot-b").start()
        await wait_for(lambda: len(delivered_markers(connector)) == BURST, second)
        assert await second.terminate() == 0
        sent = delivered_markers(connector)
        assert set(sent) == {marker(i) for i in range(BURST)}  # nothing lost
        assert max(sent.values()) == 1, {m: n for m, n in sent.items() if n > 1}  # nothing twice
        assert {r.status for r in await outbox_rows(store_url)} == {"delivered"}
    finally:
        for bot in (first, second):
            if bot is not None:
                await bot.kill()
        await connector.stop()


async def test_sigterm_lets_a_turn_in_flight_finish(tmp_path, school):
    """SIGTERM while a turn is waiting on its reply to Teams: the turn completes and Teams gets its answer (a dropped
    request would be retried by Teams and handled twice); then the process exits 0."""
    from aiohttp import ClientSession

    from tests.fakes.teams import BOT, TENANT, person

    connector = await ConnectorDouble(delay=2.0).start()  # the reply is accepted, its answer takes 2 s
    bot = None
    try:
        bot = await Bot(tmp_path / "a", f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", "bot-a").start()
        tom = person(school, "tom.hollis")
        activity = {
            "type": "message",
            "text": "help",
            "id": "act-help-1",
            "channelId": "msteams",
            "serviceUrl": connector.url,
            "from": tom.account,
            "recipient": BOT,
            "locale": "en-GB",
            "conversation": {"id": tom.conversation_id, "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "timestamp": "2026-11-23T10:00:00.000Z",
        }
        async with ClientSession() as http:
            url = f"http://127.0.0.1:{bot.port}"

            async def healthy():
                try:
                    async with http.get(f"{url}/healthz") as r:
                        return r.status == 200
                except OSError:
                    return False

            for _ in range(600):
                if await healthy():
                    break
                await asyncio.sleep(0.1)
            turn = asyncio.ensure_future(http.post(f"{url}/api/messages", json=activity))
            await wait_for(lambda: connector.sent, bot)  # the reply is on its way: the turn is in flight
            code = await bot.terminate()
            response = await asyncio.wait_for(turn, 10)
            assert response.status in (200, 201)  # what a turn answers when all is well
            response.release()
        assert code == 0
        assert len(connector.sent) == 1 and connector.sent[0].reply_to == "act-help-1"
    finally:
        if bot is not None:
            await bot.kill()
        await connector.stop()
