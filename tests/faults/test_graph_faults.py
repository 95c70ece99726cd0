"""Microsoft Graph faults, end to end through the real outbox worker, the real msgraph backend and the Graph double:
Graph down for minutes, a 429 storm with Retry-After, timeouts whose work went through anyway, and a 5xx on the
upload session's last chunk. The clock is injected and moved (no real minutes pass); what was delivered is read
from the double's own log and store (events, files, requests), never from our rows alone."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot.outbox import OUTAGE_PATIENCE, OutboxWorker, enqueue
from bot.store.models_outbox import OutboxRow
from graph.handlers import calendar_create, channel_upload, graph_handlers
from tests.graph.conftest import CHANNEL_ID, TEAM_ID, double, graph_backend  # noqa: F401 - fixtures

pytestmark = pytest.mark.graph

UTC = dt.timezone.utc
MON = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHUNK = 320 * 1024
BIG = 3 * CHUNK + 10  # four chunks through an upload session (simple uploads stop at 256 KiB)
PEOPLE = ["tom.hollis", "grace.mensah", "amara.okafor", "daniel.whitcombe"]


class Sleeps:
    """The uploader's inline waits, recorded instead of slept."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def blob(i: int) -> bytes:
    return bytes([i % 251]) * BIG


async def seed(db, clock, n: int = 4) -> None:
    """n meetings to book and n record files to upload (large: each goes through an upload session)."""
    async with db.session() as s:
        for i in range(n):
            start = MON + dt.timedelta(hours=i)
            await enqueue(
                s,
                *calendar_create(
                    f"booking:{i}",
                    organizer_id="priya.raman",
                    attendees=[PEOPLE[i % 4]],
                    start=start,
                    end=start + dt.timedelta(hours=1),
                ),
                key=f"cal:{i}",
                now=clock.now,
            )
            await enqueue(s, *channel_upload(f"Record {i}.docx", content_ref={"i": i}), key=f"file:{i}", now=clock.now)


def worker_for(backend, db, school, clock) -> OutboxWorker:
    async def load_content(ref):
        return blob(ref["i"])

    backend.channel_files.uploader.sleep = Sleeps()
    # As bot/app.py builds it: an outage does not dead-letter rows before OUTAGE_PATIENCE.
    return OutboxWorker(
        db,
        graph_handlers(backend, db=db, school=school, load_content=load_content),
        clock=clock,
        patience=OUTAGE_PATIENCE,
    )


async def rows(db) -> list[OutboxRow]:
    async with db.session() as s:
        return list((await s.execute(select(OutboxRow).order_by(OutboxRow.key))).scalars())


async def run_until_settled(worker, db, clock, *, step_seconds: float = 5, max_minutes: float = 120) -> None:
    """Move the clock in steps and run the worker until every row is delivered (or the time budget is spent)."""
    for _ in range(int(max_minutes * 60 / step_seconds)):
        await worker.run_once()
        if all(r.status == "delivered" for r in await rows(db)):
            return
        clock.advance(seconds=step_seconds)
    raise AssertionError({r.key: (r.status, r.attempts, r.last_error) for r in await rows(db)})


def assert_each_delivered_once(double, n: int = 4, record=None) -> None:
    """From the double's own state: n events (one per booking), n files, each once, none renamed, none partial."""
    if record is not None:
        record("graph_requests", len(double.requests))
        record("faults_injected", sum(f.hits for f in double.faults))
        record("events", len(double.events))
    assert len(double.events) == n, sorted(double.events)
    drive_id, _ = double.channels[(TEAM_ID, CHANNEL_ID)]
    files = double.files(drive_id)
    assert sorted(files) == sorted(f"Safeguarding/Record {i}.docx" for i in range(n)), sorted(files)
    assert all(files[f"Safeguarding/Record {i}.docx"] == blob(i) for i in range(n))
    assert not double.sessions  # no upload session left open


@pytest.mark.parametrize("minutes", [20, 90])
async def test_graph_down_for_minutes_then_everything_once(
    graph_backend, double, school, sqlite_db, clock, minutes, record_property
):
    """Every Graph route answers 503 for 20 or 90 minutes (moved clock): rows wait and back off, none is
    dead-lettered (8 attempts are used up in about 10 minutes: attempts alone must not kill a row during an
    outage); when Graph is back every meeting and every file exists exactly once."""
    backend = graph_backend.default
    await seed(sqlite_db, clock)
    worker = worker_for(backend, sqlite_db, school, clock)
    outage = double.down()
    began = clock.now
    while clock.now - began < dt.timedelta(minutes=minutes):
        assert await worker.run_once() == 0
        clock.advance(seconds=10)
    during = await rows(sqlite_db)
    assert outage.hits > 8 and all(r.status == "pending" for r in during), [(r.key, r.status) for r in during]
    assert all(r.attempts >= 2 for r in during)  # tried again…
    assert outage.hits < 16 * minutes  # …with backoff, not every 10 s tick (8 rows)
    assert not double.events
    double.up()
    record_property("outage_answers", outage.hits)
    await run_until_settled(worker, sqlite_db, clock)
    assert_each_delivered_once(double, record=record_property)
    assert all(not r.last_error or "503" in r.last_error for r in await rows(sqlite_db))


async def test_an_outage_longer_than_the_patience_dead_letters(
    graph_backend, double, school, sqlite_db, clock, record_property
):
    """The other side of the patience: a row that has failed for longer than OUTAGE_PATIENCE is dead-lettered (the
    DSL team is told), rather than retried for ever."""
    backend = graph_backend.default
    await seed(sqlite_db, clock, n=1)
    worker = worker_for(backend, sqlite_db, school, clock)
    double.down()
    began = clock.now
    while clock.now - began < dt.timedelta(seconds=OUTAGE_PATIENCE + 2 * 3600):
        await worker.run_once()
        clock.advance(minutes=5)
    assert {r.status for r in await rows(sqlite_db)} == {"dead"}
    assert not double.events
    record_property("dead_lettered", 1)


async def test_429_storm_honours_retry_after_and_delivers_once(
    graph_backend, double, school, sqlite_db, clock, record_property
):
    """Every event create and every upload is throttled with Retry-After: 30 for a while. No row is tried again
    before its 30 s (the double saw no request in between), then each is delivered once."""
    backend = graph_backend.default
    await seed(sqlite_db, clock)
    worker = worker_for(backend, sqlite_db, school, clock)
    storm = [
        double.fail("POST", r"/events$", status=429, retry_after=30, times=12),
        double.fail("*", r"createUploadSession$", status=429, retry_after=30, times=12),
    ]
    await worker.run_once()
    first = len(double.requests)
    assert sum(f.hits for f in storm) == 8 and not double.events and not double.sessions
    clock.advance(seconds=29)
    await worker.run_once()
    assert len(double.requests) == first  # nobody came back before Retry-After
    clock.advance(seconds=1)
    await worker.run_once()
    assert len(double.requests) > first
    await run_until_settled(worker, sqlite_db, clock)
    assert sum(f.hits for f in storm) == 24  # the whole storm was weathered
    assert_each_delivered_once(double, record=record_property)


async def test_timeouts_whose_work_went_through_are_not_repeated(
    graph_backend, double, school, sqlite_db, clock, record_property
):
    """Graph answers too slowly (after the client's 1 s timeout) but does the work: the event and the file exist.
    The retry finds them (transactionId; same name and hash) instead of booking or uploading a second copy."""
    backend = graph_backend(timeout_seconds=1)
    await seed(sqlite_db, clock, n=2)
    worker = worker_for(backend, sqlite_db, school, clock)
    double.slow("POST", r"/events$", delay=1.5, times=2)
    double.slow("PUT", r"^/upload/", delay=1.5, times=1)
    await worker.run_once()
    assert {r.status for r in await rows(sqlite_db) if r.key.startswith("cal:")} == {"pending"}  # timed out
    for _ in range(60):  # the double finishes its slow work
        if len(double.events) == 2:
            break
        await asyncio.sleep(0.05)
    await run_until_settled(worker, sqlite_db, clock)
    assert len(double.find("POST", r"/events$")) >= 3  # asked again…
    assert_each_delivered_once(double, n=2, record=record_property)  # …and still one of each


@pytest.mark.parametrize("answer", ["refused", "lost"])
async def test_5xx_on_the_last_chunk_of_an_upload_session(
    graph_backend, double, school, sqlite_db, clock, answer, record_property
):
    """A 500 on the final byte range (only that one: matched on its Content-Range), repeatedly, so the inline
    resume gives up and the outbox tries again later. "refused": Graph kept nothing. "lost": Graph completed the
    file and the 500 is what came back. Either way the channel ends with one copy, whole, under its own name."""
    backend = graph_backend.default
    await seed(sqlite_db, clock, n=1)
    async with sqlite_db.session() as s:  # only the file
        (await s.execute(select(OutboxRow).where(OutboxRow.key == "cal:0"))).scalar_one().status = "delivered"
    worker = worker_for(backend, sqlite_db, school, clock)
    last = rf"^bytes {3 * CHUNK}-{BIG - 1}/{BIG}$"
    fault = double.fail(
        "PUT", r"^/upload/", status=500, times=6, header=("Content-Range", last), lose_answer=answer == "lost"
    )
    await worker.run_once()
    [row] = [r for r in await rows(sqlite_db) if r.key == "file:0"]
    assert row.status == "pending" and "500" in (row.last_error or "")
    assert fault.hits >= (2 if answer == "refused" else 1)  # "refused": resumed in place before giving up
    chunks = double.find("PUT", r"^/upload/")
    assert all(c.headers["Content-Range"].startswith(f"bytes {3 * CHUNK}-") for c in chunks if c.status == 500)
    await run_until_settled(worker, sqlite_db, clock)
    drive_id, _ = double.channels[(TEAM_ID, CHANNEL_ID)]
    record_property("last_chunk_500s", fault.hits)
    record_property("files", len(double.files(drive_id)))
    assert double.files(drive_id) == {"Safeguarding/Record 0.docx": blob(0)}
    assert not double.sessions
