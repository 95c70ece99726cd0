"""kill -9 of `python -m bot` during record submits, then restarts: every committed record is delivered once, an
uncommitted one leaves nothing, and the user's click again after the restart never makes a second record.

One real bot process at a time on one store (SQLite file / PostgreSQL database) and one local Microsoft 365 folder,
driven over HTTP with the card payloads the journeys build (group records of ad-hoc sessions, 1:1 records of
booked sessions), killed at three points:

1. *before the commit*: the store's write lock is held from outside (SQLite `BEGIN IMMEDIATE`; PostgreSQL
   `LOCK TABLE outbox IN EXCLUSIVE MODE`), so every submit is inside its transaction, waiting, when the kill lands;
2. *after the commit, before the answer*: the kill lands as soon as the first record is in the store, with the
   other submits anywhere between their start and their HTTP answer;
3. *while the outbox is delivering*: every submit answered, the Teams double slow (1 s per message), the kill lands
   once the first channel post is on the wire — files written, posts and notices half sent.

Checked from the doubles' own records: the local Microsoft 365 folder (one .docx per record, whole, no orphan, no
"(2)") and the connector double's log (one channel post per group record, one notice per 1:1 record).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import signal
import uuid
import zipfile
from collections import Counter
from pathlib import Path

from aiohttp import ClientSession
from docx import Document
from sqlalchemy import func, select, text

from bot.store import Database
from bot.store.models_group_record import GroupRecord
from bot.store.models_outbox import OutboxRow
from bot.store.models_targeted import TargetedRecord
from tests.app.test_shutdown import Bot, store_url, wait_for  # noqa: F401
from tests.fakes.connector import ConnectorDouble
from tests.fakes.teams import TeamsDriver, person
from tests.faults.test_kill9 import expire_leases
from tests.journeys.one_to_one_kit import _meeting, _pair, answers
from tests.journeys.test_group_record import CHANNEL, filled
from tests.journeys.test_request_kit import find_action
from tests.reminders.helpers import add_refs

#: School days of Autumn 2 before the demo clock's 23 Nov 2026: one ad-hoc group session each.
DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=d) for d in range(19) if (dt.date(2026, 11, 2).weekday() + d) % 7 < 5]
PAIRS = [("priya.raman", "tom.hollis"), ("marcus.fenwick", "grace.mensah")]
PEOPLE = ["amara.okafor", "marcus.fenwick", "priya.raman", "tom.hollis", "grace.mensah", "isla.brennan"]


class Driver(TeamsDriver):
    """TeamsDriver against a bot in another process."""

    def __init__(self, connector: ConnectorDouble, port: int, school):
        super().__init__(None, connector)
        self.url = f"http://127.0.0.1:{port}/api/messages"
        self.school = school

    async def __aenter__(self) -> Driver:
        self.http = ClientSession()
        for _ in range(600):
            try:
                async with self.http.get(self.url.replace("/api/messages", "/healthz")) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError("the bot never became healthy")

    async def __aexit__(self, *exc) -> None:
        await self.http.close()


def group_submit(i: int) -> dict:
    """The group record card's Submit, as Teams sends it: the card's data (an ad-hoc session) and its inputs."""
    adhoc = {"kind": "ad_hoc", "date": DAYS[i].isoformat(), "time": "13:00", "group": "willow"}
    # No agreed actions: a later record of the same group would otherwise have to review the earlier ones first.
    inputs = {k: v for k, v in filled().items() if not k.startswith("act_")}
    return {"adhoc": adhoc | {"facilitator": "amara.okafor"}, "draft_key": uuid.uuid4().hex, **inputs}


def group_file(i: int) -> str:
    return f"{DAYS[i].isoformat()} Group supervision - Willow Class.docx"


async def one_to_one_card(d: Driver, supervisor: str, supervisee: str) -> dict:
    """What the supervisor's record card submits: the card's own data (its submit key) plus the typed answers."""
    before = len(d.connector.sent)
    await d.say(person(d.school, supervisor), "note")
    sent = [a["content"] for s in d.connector.sent[before:] for a in s.activity.get("attachments") or []]
    # The answer to `note`; other cards may arrive meanwhile (Monday 10:00: the DSL team's weekly digest).
    start = next((c for c in reversed(sent) if "targeted.open" in json.dumps(c)), sent[-1] if sent else {})
    action = find_action(start, "targeted.open")
    status, body = await d.submit(
        person(d.school, supervisor), "targeted.open", dict(action.get("data") or {}) | {"supervisee": supervisee}
    )
    assert status == 200, (status, body)
    submit = find_action(body["value"], "targeted.submit")
    return dict(submit.get("data") or {}) | answers(act_0_owner=supervisee, act_1_owner=supervisor)


async def fire(d: Driver, clicks: list[tuple[str, str, dict]]) -> list[asyncio.Task]:
    return [asyncio.ensure_future(d.submit(person(d.school, who), verb, data)) for who, verb, data in clicks]


async def outcomes(tasks: list[asyncio.Task]) -> list[str]:
    """Each click's answer as Teams saw it: the card's text, or 'no answer' (the bot died first)."""
    out = []
    for t in tasks:
        try:
            status, body = await asyncio.wait_for(t, 30)
            out.append(json.dumps(body) if status == 200 else f"status {status}")
        except Exception:  # noqa: BLE001 - a connection cut by the kill
            out.append("no answer")
    return out


async def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.session() as s:

            async def n(model, *where):
                return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()

            return {
                "group_records": await n(GroupRecord),
                "one_to_one_records": await n(TargetedRecord),
                "outbox": await n(OutboxRow, OutboxRow.kind.in_(["files.channel_upload", "files.personal_share"])),
            }
    finally:
        await db.close()


class StoreLock:
    """Hold the store's write lock from outside, so the bot's submits wait inside their transactions."""

    def __init__(self, url: str):
        self.url = url

    async def __aenter__(self):
        if self.url.startswith("sqlite"):
            import sqlite3

            self.conn = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.db = Database(self.url)
            self.conn = await self.db.engine.connect()
            self.tx = await self.conn.begin()
            await self.conn.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
        return self

    async def __aexit__(self, *exc):
        if self.url.startswith("sqlite"):
            self.conn.execute("ROLLBACK")
            self.conn.close()
        else:
            await self.tx.rollback()
            await self.conn.close()
            await self.db.close()


def docx_files(m365: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {"channel": [], "onedrive": []}
    for p in sorted(m365.rglob("*.docx")):
        out["channel" if "channels" in p.parts else "onedrive"].append(p)
    return out


def whole(p: Path) -> bool:
    try:
        with zipfile.ZipFile(p) as z:
            if z.testzip() is not None:
                return False
        Document(io.BytesIO(p.read_bytes()))
        return True
    except Exception:  # noqa: BLE001 - a truncated file
        return False


async def kill(bot: Bot, *, expire: bool = True) -> None:
    """SIGKILL; then what 10 minutes would do to its outbox claims (their lease runs out), as in test_kill9."""
    bot.proc.send_signal(signal.SIGKILL)
    await bot.proc.wait()
    if expire:
        await expire_leases(bot.url)


async def test_kill_9_during_record_submits_delivers_each_committed_record_once(
    store_url, tmp_path, school, record_property
):  # noqa: F811
    connector = await ConnectorDouble().start()
    m365 = tmp_path / "m365"
    env = {"DEMO_TODAY": "2026-11-23T10:00", "LOCAL_M365_DIR": str(m365), "TEAMS_HISTORY_URL": connector.url}
    bots: list[Bot] = []

    async def start(name: str) -> Bot:
        bot = await Bot(tmp_path / name, store_url, f"bot-{name}", env).start()
        bots.append(bot)
        return bot

    try:
        db = Database(store_url)
        try:
            await db.migrate()
            # Everyone has a chat with the bot before it first starts (its scheduler's first tick writes to some).
            await add_refs(db, PEOPLE, service_url=connector.url)
            for sup, see in PAIRS:
                pid = await _pair(db, sup, see)
                await _meeting(
                    db, pid, dt.datetime(2026, 11, 19, 14, tzinfo=dt.timezone.utc), supervisor=sup, supervisee=see
                )
        finally:
            await db.close()

        # ---- 1. killed before the commit: every submit waits inside its transaction
        a = await start("a")
        async with Driver(connector, a.port, school) as d:
            await d.say(person(school, "amara.okafor"), "help", kind="channel", channel=CHANNEL)
            one_to_one = {sup: await one_to_one_card(d, sup, see) for sup, see in PAIRS}
            g1 = [("amara.okafor", "grouprec.submit", group_submit(i)) for i in range(0, 4)]
            clicks1 = g1 + [(PAIRS[0][0], "targeted.submit", one_to_one[PAIRS[0][0]])]
            async with StoreLock(store_url):
                tasks = await fire(d, clicks1)
                await asyncio.sleep(2.0)  # well inside the bot's 5 s busy timeout / the lock wait
                await kill(a, expire=False)  # the lock is still held; nothing to expire (nothing committed)
            answered1 = await outcomes(tasks)
        assert answered1 == ["no answer"] * len(clicks1), answered1
        after1 = await counts(store_url)
        # Nothing half-written: no record, no outbox row, no file.
        assert after1 == {"group_records": 0, "one_to_one_records": 0, "outbox": 0}, after1
        assert docx_files(m365) == {"channel": [], "onedrive": []}

        # ---- 2. killed as soon as the first record is committed, the other submits in flight
        b = await start("b")
        async with Driver(connector, b.port, school) as d:
            g2 = [("amara.okafor", "grouprec.submit", group_submit(i)) for i in range(4, 12)]
            clicks2 = g2 + [(PAIRS[1][0], "targeted.submit", one_to_one[PAIRS[1][0]])]
            poll = Database(store_url)
            try:
                tasks = await fire(d, clicks2)
                for _ in range(4000):
                    async with poll.session() as s:
                        n = (await s.execute(select(func.count()).select_from(GroupRecord))).scalar_one()
                        n += (await s.execute(select(func.count()).select_from(TargetedRecord))).scalar_one()
                    if n:
                        b.proc.send_signal(signal.SIGSTOP)  # frozen at once: the answer is most likely unwritten
                        break
                    await asyncio.sleep(0.002)
            finally:
                await poll.close()
            await kill(b)
            answered2 = await outcomes(tasks)
        after2 = await counts(store_url)
        assert after2["outbox"] >= after2["group_records"] + after2["one_to_one_records"] >= 1
        committed_unanswered = (
            after2["group_records"] + after2["one_to_one_records"] - sum("submitted" in a for a in answered2)
        )

        # ---- 3. every click again (the user retrying), then killed while the outbox is delivering
        connector.delay = 1.0  # each Teams message on the wire for a second
        # The first channel post this bot makes reaches Teams and is never answered: it is certainly on the wire
        # when the bot dies (waiting for "a post was seen" could find one that had already been answered).
        connector.hold = CHANNEL["id"]
        c3 = await start("c")
        clicks = clicks1 + clicks2
        async with Driver(connector, c3.port, school) as d:
            again = await outcomes(await fire(d, clicks))
            await wait_for(lambda: connector.held > 0, c3)
            await kill(c3)
        connector.release()
        # The click again: a first record if nothing was committed, else "already" — never an error.
        odd = [a for a in again if not ("submitted" in a or "twice" in a or "already" in a)]
        assert not odd, "\n".join(o[:1200] for o in odd)

        # ---- restart, let the outbox drain
        connector.delay = 0
        last = await start("d")
        db = Database(store_url)
        try:
            for _ in range(1200):
                async with db.session() as s:
                    open_rows = (
                        await s.execute(
                            select(func.count()).select_from(OutboxRow).where(OutboxRow.status != "delivered")
                        )
                    ).scalar_one()
                if not open_rows:
                    break
                if last.proc.returncode is not None:
                    raise AssertionError(last.log()[-3000:])
                await asyncio.sleep(0.1)
            async with db.session() as s:
                rows = (await s.execute(select(OutboxRow))).scalars().all()
        finally:
            await db.close()
        assert {r.status for r in rows} == {"delivered"}, [
            (r.kind, r.key, r.status, r.payload.get("staff_id"), r.last_error, r.not_before)
            for r in rows
            if r.status != "delivered"
        ]
        await last.terminate()

        final = await counts(store_url)
        groups, ones = len(clicks) - len(PAIRS), len(PAIRS)
        # One record per card, whatever was clicked how often and whenever the bot died.
        assert (final["group_records"], final["one_to_one_records"]) == (groups, ones), final
        files = docx_files(m365)
        assert sorted(p.name for p in files["channel"]) == sorted(group_file(i) for i in range(groups))
        assert len(files["onedrive"]) == ones and all(" (2)" not in p.name for p in files["onedrive"])
        assert all(whole(p) for p in files["channel"] + files["onedrive"])
        posts = Counter(
            f["value"]
            for sent in connector.sent
            if sent.conversation_id.startswith(CHANNEL["id"])
            for att in sent.activity.get("attachments") or []
            for block in att["content"].get("body") or []
            for f in block.get("facts") or []
            if f.get("title") == "File"
        )
        assert posts == Counter({group_file(i): 1 for i in range(groups)}), posts
        notices = Counter(
            s.conversation_id
            for s in connector.sent
            if "A supervision record was shared with you" in json.dumps(s.activity)
        )
        assert notices == Counter({person(school, see).conversation_id: 1 for _, see in PAIRS}), notices

        reconciled = sum(1 for r in rows if (r.result or {}).get("reconciled"))
        assert reconciled >= 1  # the channel post on the wire at the third kill was found, not posted again
        record_property("submits", len(clicks))
        record_property("records", groups + ones)
        record_property("killed_before_commit", len(clicks1))
        record_property("committed_unanswered", committed_unanswered)
        record_property("clicked_again", len(again))
        record_property("reconciled", reconciled)
        record_property("files", len(files["channel"]) + len(files["onedrive"]))
        record_property("duplicates", sum(n - 1 for n in posts.values()) + sum(n - 1 for n in notices.values()))
        record_property("lost", groups - len(posts) + ones - len(notices))
    finally:
        for bot in bots:
            await bot.kill()
        await connector.stop()
