"""Load: N card submits at once (default 200) against the real app over HTTP, on SQLite and PostgreSQL, and on two
bot instances sharing one PostgreSQL schema. Prints p50, p99, errors, duplicates and peak RSS; never pass/fail.

The mix, all Action.Execute invokes posted together (one asyncio.gather) from the demo school's 40 staff:
* "request" — a supervision request (request.submit, a new draft id each: each one really writes a request and
  its allocation notices to the outbox);
* "group record" — a DSL records a group session (grouprec.submit; one seeded session per submit);
* "1:1 note" — a supervisor files a 1:1 supervision record (targeted.submit) for one of their supervisees (one
  seeded pairing with a session that happened, per submit; the card data taken from the supervisor's own record
  card first, as Teams would send it). Its .docx goes to the supervisor's OneDrive through the outbox.
The app runs in-process (create_app, a real aiohttp server on loopback) with its outbox worker on, delivering the
notices to a Bot Framework connector double; after the load the outbox is drained and the double's own log is
checked for duplicates (a notice to one person about one request twice), the store for requests and records
(group and 1:1) stored once per submit.

    .venv/bin/python bench/load.py [--n 200] [--store sqlite|postgres|two|all]

With `--in-process`, peak RSS is this process's (resource.getrusage, which includes the doubles and the client, so
it is an upper bound for one instance); with --store two both instances then share the process.
Last line per store: ``store= submits= p50_ms= p99_ms= errors= duplicates= peak_rss_mb=``.

By default each instance is `python -m bot` in a process of its own (local mode, the demo clock at NOW; on
PostgreSQL a database of its own beside the URL's), and its peak RSS is read from /proc/<pid>/status (VmHWM):
``rss_per_instance_mb=`` (and ``idle_rss_mb=``, just after start-up). Each is started with MALLOC_ARENA_MAX=2, as
infra/azure.bicep and scripts/run.sh start it (`--malloc-arena-max 0` for glibc's default, to see the difference).
`--in-process` runs the instances in this process as before (RSS then covers the client and doubles too).

The three kinds go round in turn (request, group record, 1:1 note) while each has work left; requests fill the rest.
`--staff 200` (the default) runs on a copy of the demo school with its roster filled to 200 people (invented
"Load Staff 041" … in the class and non-class groups): N = 200 is then 67 requests from 67 different people, 67
group records and 66 1:1 notes from 66 different pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import logging
import os
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What App Service sets (infra/azure.bicep): the bots this bench starts are started the same way.
MALLOC_ARENA_MAX = "2"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)  # a school-day morning in Autumn 2
REQUEST = {
    "kind": "one_to_one",
    "preferred": "priya.raman",
    "topics": "wellbeing,safeguarding",
    "urgency": "week",
    "times": "afternoon",
    "days": "",
    "note": "Load note.",
}
RECORDER = "amara.okafor"
GROUP_RECORD = {
    "att_group": "tom.hollis,isla.brennan,nadia.farouk",
    "att_other": "grace.mensah",
    "f_summary": "Load summary.",
    "f_confidentiality": "true",
}


def _title(body) -> str:
    """The answered card's first text block (a title such as "Request sent"; never what anyone wrote)."""
    try:
        card = body.get("value", body)
        return str(card["body"][0].get("text", ""))[:60]
    except (AttributeError, KeyError, IndexError, TypeError):
        return ""


def _error_type(error: str | None) -> str:
    words = (error or "").replace("gave up after", "").split(":")
    return next((w.strip().split()[-1] for w in words if w.strip() and w.strip().split()[-1][:1].isupper()), "?")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mb(pid: int) -> float:
    """A process's peak resident set (VmHWM in /proc/<pid>/status), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _Remote:
    """A TeamsDriver aimed at a bot in another process (its /api/messages URL)."""

    def __init__(self, url: str, connector):
        from aiohttp import ClientSession

        from tests.fakes.teams import TeamsDriver

        self.driver = TeamsDriver(None, connector)
        self.driver.url = url
        self.driver.http = ClientSession()

    async def stop(self) -> None:
        await self.driver.http.close()


async def _schema(url: str):
    from sqlalchemy import text

    from bot.store import Database

    schema = f"bench_load_{secrets.token_hex(5)}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.close()

    async def drop() -> None:
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.close()

    return schema, drop


async def _database(url: str):
    """A fresh PostgreSQL database beside `url`'s (for bots in other processes), and how to drop it."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"bench_load_{secrets.token_hex(5)}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()

    async def drop() -> None:
        admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    return url.rsplit("/", 1)[0] + "/" + name, drop


async def seed_sessions(db, n: int) -> list[int]:
    from bot.store.models_sessions import GroupSession

    ids = []
    async with db.session() as s:
        for i in range(n):
            # Spread over ten days: a record's file is named by group and date, and a hundred of one group on
            # one day would run out of "(2)" … "(99)" names.
            start = NOW - dt.timedelta(days=1 + i % 10, minutes=i)
            row = GroupSession(
                kind="class",
                group_id="willow",
                title="Group supervision",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                local_date=start.date(),
                half_term="2026-27 Autumn 2",
                facilitator_id=RECORDER,
                status="scheduled",
                external_support=False,
                created_by=RECORDER,
                created_at=start - dt.timedelta(days=7),
            )
            s.add(row)
            await s.flush()
            ids.append(row.id)
    return ids


def roster_of(staff: int | None, tmp: Path) -> Path:
    """The school file the bots run on: the demo school's, or with `staff`, a copy of it whose roster is filled up
    to that many people with invented members of the class and non-class groups ("Load Staff 041" …): each
    request of the burst then comes from a person of its own. (Invented names only, never a seed's.)"""
    import yaml

    from bot.settings import DEFAULT_SCHOOL

    if not staff:
        return DEFAULT_SCHOOL
    data = yaml.safe_load(DEFAULT_SCHOOL.read_text())
    groups = [g["id"] for g in data["groups"] if g["id"] != data["school"].get("senior_leaders_group")]
    for i in range(len(data["staff"]) + 1, staff + 1):
        data["staff"].append(
            {
                "id": f"load.staff{i:03d}",
                "name": f"Load Staff {i:03d}",
                "email": f"load.staff{i:03d}@kestrelbrook.example",
                "aad_object_id": f"5c1e0d7a-0000-4000-8001-{i:012d}",
                "job_title": "Teaching assistant",
                "group": groups[i % len(groups)],
                "roles": [],
            }
        )
    path = tmp / f"school-{staff}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def seed_pairs(db, school, n: int) -> list[tuple[str, str]]:
    """Up to `n` supervision pairings (a pool supervisor of the school and a member of staff), each with a session
    that happened on 19 November: what a supervisor needs before filing a 1:1 record. (No supervision agreement:
    the record card then says one is to be made, and files the record all the same.)"""
    from bot.records.dsl_supervision import receives_dsl_supervision
    from bot.school.config import Role
    from tests.journeys.one_to_one_kit import _meeting, _pair

    supervisors = [m.id for m in school.with_role(Role.SUPERVISOR) if not m.visiting and m.id != RECORDER]
    # The ordinary 1:1 record's people (the DSL team's own supervision is on another template, with other fields).
    supervisees = [
        sid
        for sid, m in school.staff.items()
        if sid not in supervisors and sid != RECORDER and not m.visiting and not receives_dsl_supervision(school, sid)
    ]
    pairs = [(supervisors[i % len(supervisors)], see) for i, see in enumerate(supervisees[:n])]
    for sup, see in pairs:
        pid = await _pair(db, sup, see)
        await _meeting(db, pid, dt.datetime(2026, 11, 19, 14, tzinfo=dt.timezone.utc), supervisor=sup, supervisee=see)
    return pairs


async def note_submits(driver, connector, school, pairs: list[tuple[str, str]]) -> list[tuple[str, dict]]:
    """For each pair, what the supervisor's record card submits: the card's own data (its submit key), taken from
    the card the bot answers `note` → supervisee with, plus the typed answers (no agreed actions)."""
    import json

    from tests.fakes.teams import person
    from tests.journeys.one_to_one_kit import answers
    from tests.journeys.test_request_kit import find_action

    out = []
    for sup, see in pairs:
        before = len(connector.sent)
        await driver.say(person(school, sup), "note")
        sent = [a["content"] for s in connector.sent[before:] for a in s.activity.get("attachments") or []]
        start = next(c for c in reversed(sent) if "targeted.open" in json.dumps(c))
        opened = dict(find_action(start, "targeted.open").get("data") or {}) | {"supervisee": see}
        status, body = await driver.submit(person(school, sup), "targeted.open", opened)
        if status != 200:
            raise RuntimeError(f"the record card did not open: HTTP {status}")
        data = dict(find_action(body["value"], "targeted.submit").get("data") or {})
        typed = {k: v for k, v in answers().items() if not k.startswith("act_")}
        out.append((sup, data | typed))
    return out


def plan(n: int, sessions: list[int], notes: list[tuple[str, dict]], requesters: list[str]) -> list[tuple]:
    """The n submits, in the order they are posted: (kind, who, verb, data, the answer's title)."""
    sessions, notes = list(sessions), list(notes)
    out = []
    for i in range(n):
        turn = i % 3
        if turn == 1 and sessions:
            data = dict(GROUP_RECORD, session_id=sessions.pop(), draft_key=secrets.token_hex(16))
            out.append(("group record", RECORDER, "grouprec.submit", data, "Record submitted"))
        elif turn == 2 and notes:
            who, data = notes.pop()
            out.append(("1:1 note", who, "targeted.submit", data, "Record submitted"))
        else:
            who = requesters[sum(1 for k, *_ in out if k == "request") % len(requesters)]
            data = dict(REQUEST, draft_id=secrets.token_hex(16))
            out.append(("request", who, "request.submit", data, "Request sent"))
    return out


async def run(
    n: int,
    store: str,
    tmp: Path,
    *,
    processes: bool = False,
    arena_max: str = MALLOC_ARENA_MAX,
    staff: int | None = None,
) -> dict:
    """One load run: `store` is "sqlite", "postgres" or "two" (two instances on one PostgreSQL schema). With
    `processes`, each instance is `python -m bot` in a process of its own (local mode, the demo clock at NOW), so
    its peak RSS is its own; otherwise the instances run in this process."""
    school_file = roster_of(staff, tmp)
    if processes:
        return await _run_processes(n, store, tmp, arena_max, school_file)
    from sqlalchemy import func, select

    from bot.app import DB, SERVICES, create_app
    from bot.settings import load_settings
    from bot.store import Database
    from bot.store.models_group_record import GroupRecordVersion
    from bot.store.models_outbox import OutboxRow
    from bot.store.models_request import SupervisionRequest
    from bot.store.models_targeted import TargetedRecord
    from tests.fakes.connector import ConnectorDouble
    from tests.fakes.teams import TeamsDriver, person

    connector = await ConnectorDouble().start()
    drop = None
    instances = 2 if store == "two" else 1
    settings = load_settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/load-{store}.sqlite3",
        WORKERS=True,
        LOCAL_M365_DIR=f"{tmp}/m365-{store}",
        SCHOOL_CONFIG=str(school_file),
    )
    dbs: list = [None]
    if store != "sqlite":
        schema, drop = await _schema(PG_URL)
        dbs = [Database(PG_URL, schema=schema) for _ in range(instances)]
    drivers = []
    for i in range(instances):
        app = create_app(settings, clock=lambda: NOW, db=dbs[i])
        drivers.append(await TeamsDriver(app, connector).start())
    db = drivers[0].app[DB]
    school = drivers[0].app[SERVICES].school
    staff = list(school.staff)
    # Requesters: ordinary staff (a supervisor asking for supervision from themselves gets the form back).
    requesters = [sid for sid in staff if sid not in {RECORDER, "priya.raman", "daniel.whitcombe"}]
    for sid in staff:
        await drivers[0].install(person(school, sid))
    sessions = await seed_sessions(db, (n + 1) // 3)
    notes = await note_submits(drivers[0], connector, school, await seed_pairs(db, school, n // 3))
    todo = plan(n, sessions, notes, requesters)
    connector.clear()

    latencies: dict[str, list[float]] = collections.defaultdict(list)
    errors: collections.Counter = collections.Counter()

    async def one(i: int) -> None:
        driver = drivers[i % instances]
        kind, who, verb, data, want = todo[i]
        t = time.perf_counter()
        try:
            status, body = await driver.submit(person(school, who), verb, data)
        except Exception as exc:  # noqa: BLE001 - counted, by type only
            errors[f"{kind}: {type(exc).__name__}"] += 1
            return
        latencies[kind].append(time.perf_counter() - t)
        if status != 200:
            errors[f"{kind}: HTTP {status}"] += 1
        elif want not in str(body):
            errors[f"{kind}: unexpected card {_title(body)!r}"] += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - t0
    # Let the outbox workers deliver the notices (their background loops may hold some claims for a while).
    for _ in range(60):
        for d in drivers:
            await d.app[SERVICES].outbox_worker.drain()
        async with db.session() as s:
            left = (
                await s.execute(select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending"))
            ).scalar_one()
        if not left:
            break
        await asyncio.sleep(0.5)
    async with db.session() as s:
        requests = (await s.execute(select(func.count()).select_from(SupervisionRequest))).scalar_one()
        records = (await s.execute(select(func.count()).select_from(GroupRecordVersion))).scalar_one()
        notes_stored = (await s.execute(select(func.count()).select_from(TargetedRecord))).scalar_one()
        # kind:status, and for a dead row the error's type only (its text may name a file).
        pending = dict(
            collections.Counter(
                f"{r.kind}:{r.status}" + (f":{_error_type(r.last_error)}" if r.status == "dead" else "")
                for r in (
                    await s.execute(
                        select(OutboxRow.kind, OutboxRow.status, OutboxRow.last_error).where(
                            OutboxRow.status != "delivered"
                        )
                    )
                ).all()
            )
        )
    posts = collections.Counter(
        (p.conversation_id, str(p.activity.get("attachments")))
        for p in connector.sent
        if p.reply_to is None and not p.updated
    )
    duplicates = sum(c - 1 for c in posts.values() if c > 1)
    for d in drivers:
        await d.stop()
    await connector.stop()
    if drop is not None:
        await drop()
    every = sorted(x for v in latencies.values() for x in v)

    def pct(xs, q):
        return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")

    return {
        "store": store,
        "instances": instances,
        "submits": n,
        "wall_s": wall,
        "p50_ms": pct(every, 0.5),
        "p99_ms": pct(every, 0.99),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "requests_stored": requests,
        "records_stored": records,
        "one_to_one_stored": notes_stored,
        "staff": len(staff),
        "requesters": len({who for k, who, *_ in todo if k == "request"}),
        "planned": dict(collections.Counter(k for k, *_ in todo)),
        "outbox_not_delivered": pending,
        "by_kind": {k: (len(v), pct(sorted(v), 0.5), pct(sorted(v), 0.99)) for k, v in latencies.items()},
        "duplicates": duplicates,
        "notices_posted": sum(posts.values()),
        "peak_rss_mb": peak_rss_mb(),
    }


async def _run_processes(n: int, store: str, tmp: Path, arena_max: str, school_file: Path) -> dict:
    from aiohttp import ClientSession
    from sqlalchemy import func, select

    from bot.school import load_school
    from bot.store import Database
    from bot.store.models_group_record import GroupRecordVersion
    from bot.store.models_outbox import OutboxRow
    from bot.store.models_request import SupervisionRequest
    from bot.store.models_targeted import TargetedRecord
    from tests.app.test_shutdown import Bot
    from tests.fakes.connector import ConnectorDouble
    from tests.fakes.teams import person

    connector = await ConnectorDouble().start()
    drop = None
    instances = 2 if store == "two" else 1
    if store == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/load-proc-{store}.sqlite3"
    else:
        # `python -m bot` takes a URL, not a schema: a database of its own on the same server, dropped afterwards.
        url, drop = await _database(PG_URL)
    os.environ["DEMO_TODAY"] = NOW.strftime("%Y-%m-%dT%H:%M")  # the children's clock (local mode only)
    bots = []
    try:
        for i in range(instances):
            # "0": glibc's own default (up to 8 arenas per core).
            env = {"MALLOC_ARENA_MAX": arena_max} if arena_max != "0" else {}
            env["SCHOOL_CONFIG"] = str(school_file)
            bots.append(await Bot(tmp / f"proc-{store}-{i}", url, f"load-{store}-{i}", env).start())
        async with ClientSession() as http:
            for b in bots:
                for _ in range(600):
                    if b.proc.returncode is not None:
                        raise RuntimeError(f"{b.instance} exited:\n{b.log()[-2000:]}")
                    try:
                        async with http.get(f"http://127.0.0.1:{b.port}/healthz") as r:
                            if r.status == 200:
                                break
                    except OSError:
                        pass
                    await asyncio.sleep(0.1)
        idle = [vm_hwm_mb(b.proc.pid) for b in bots]
        remotes = [_Remote(f"http://127.0.0.1:{b.port}/api/messages", connector) for b in bots]
        drivers = [r.driver for r in remotes]
        db = Database(url)
        school = load_school(school_file)
        staff = list(school.staff)
        requesters = [sid for sid in staff if sid not in {RECORDER, "priya.raman", "daniel.whitcombe"}]
        for sid in staff:
            await drivers[0].install(person(school, sid))
        sessions = await seed_sessions(db, (n + 1) // 3)
        notes = await note_submits(drivers[0], connector, school, await seed_pairs(db, school, n // 3))
        todo = plan(n, sessions, notes, requesters)
        connector.clear()
        latencies: dict[str, list[float]] = collections.defaultdict(list)
        errors: collections.Counter = collections.Counter()

        async def one(i: int) -> None:
            driver = drivers[i % instances]
            kind, who, verb, data, want = todo[i]
            t = time.perf_counter()
            try:
                status, body = await driver.submit(person(school, who), verb, data)
            except Exception as exc:  # noqa: BLE001 - counted, by type only
                errors[f"{kind}: {type(exc).__name__}"] += 1
                return
            latencies[kind].append(time.perf_counter() - t)
            if status != 200:
                errors[f"{kind}: HTTP {status}"] += 1
            elif want not in str(body):
                errors[f"{kind}: unexpected card {_title(body)!r}"] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
        for _ in range(240):  # the children's outbox workers deliver the notices
            async with db.session() as s:
                left = (
                    await s.execute(select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending"))
                ).scalar_one()
            if not left:
                break
            await asyncio.sleep(0.5)
        async with db.session() as s:
            requests = (await s.execute(select(func.count()).select_from(SupervisionRequest))).scalar_one()
            records = (await s.execute(select(func.count()).select_from(GroupRecordVersion))).scalar_one()
            notes_stored = (await s.execute(select(func.count()).select_from(TargetedRecord))).scalar_one()
            pending = dict(
                collections.Counter(
                    f"{k}:{st}"
                    for k, st in (
                        await s.execute(select(OutboxRow.kind, OutboxRow.status).where(OutboxRow.status != "delivered"))
                    ).all()
                )
            )
        await db.close()
        peaks = [vm_hwm_mb(b.proc.pid) for b in bots]
        for r in remotes:
            await r.stop()
    finally:
        for b in bots:
            if b.proc.returncode is None:
                await b.terminate()
        os.environ.pop("DEMO_TODAY", None)
        await connector.stop()
        if drop is not None:
            await drop()
    posts = collections.Counter(
        (p.conversation_id, str(p.activity.get("attachments")))
        for p in connector.sent
        if p.reply_to is None and not p.updated
    )
    every = sorted(x for v in latencies.values() for x in v)

    def pct(xs, q):
        return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")

    return {
        "store": store,
        "instances": instances,
        "submits": n,
        "wall_s": wall,
        "p50_ms": pct(every, 0.5),
        "p99_ms": pct(every, 0.99),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "requests_stored": requests,
        "records_stored": records,
        "one_to_one_stored": notes_stored,
        "staff": len(staff),
        "requesters": len({who for k, who, *_ in todo if k == "request"}),
        "planned": dict(collections.Counter(k for k, *_ in todo)),
        "outbox_not_delivered": pending,
        "by_kind": {k: (len(v), pct(sorted(v), 0.5), pct(sorted(v), 0.99)) for k, v in latencies.items()},
        "duplicates": sum(c - 1 for c in posts.values() if c > 1),
        "notices_posted": sum(posts.values()),
        "peak_rss_mb": max(peaks),
        "rss_per_instance_mb": peaks,
        "idle_rss_mb": idle,
        "malloc_arena_max": arena_max,
    }


def report(r: dict) -> None:
    for k, (count, p50, p99) in sorted(r["by_kind"].items()):
        print(f"  {k}: {count} submits p50_ms={p50:.0f} p99_ms={p99:.0f}")
    print(
        f"  stored: requests={r['requests_stored']} group_records={r['records_stored']} "
        f"one_to_one_records={r['one_to_one_stored']} staff={r['staff']} distinct_requesters={r['requesters']} "
        f"notices_posted={r['notices_posted']} outbox_not_delivered={r['outbox_not_delivered']} "
        f"wall_s={r['wall_s']:.1f} errors_by_kind={r['error_kinds']}"
    )
    print(
        f"store={r['store']} instances={r['instances']} submits={r['submits']} p50_ms={r['p50_ms']:.0f} "
        f"p99_ms={r['p99_ms']:.0f} errors={r['errors']} duplicates={r['duplicates']} "
        f"peak_rss_mb={r['peak_rss_mb']:.0f}"
        + (
            " rss_per_instance_mb="
            + ",".join(f"{x:.0f}" for x in r["rss_per_instance_mb"])
            + " idle_rss_mb="
            + ",".join(f"{x:.0f}" for x in r["idle_rss_mb"])
            + f" malloc_arena_max={r['malloc_arena_max']}"
            if "rss_per_instance_mb" in r
            else ""
        ),
        flush=True,
    )


async def main(args) -> None:
    logging.disable(logging.WARNING)
    stores = ["sqlite", "postgres", "two"] if args.store == "all" else [args.store]
    with tempfile.TemporaryDirectory() as tmp:
        for store in stores:
            report(
                await run(
                    args.n,
                    store,
                    Path(tmp),
                    processes=not args.in_process,
                    arena_max=args.malloc_arena_max,
                    staff=args.staff,
                )
            )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument(
        "--staff",
        type=int,
        default=200,
        help="people on the roster (the demo school's 40 and invented ones); 0: the demo's",
    )
    p.add_argument("--store", default="all", choices=["sqlite", "postgres", "two", "all"])
    p.add_argument(
        "--in-process", action="store_true", help="run the instances in this process (RSS is then the whole run's)"
    )
    p.add_argument(
        "--malloc-arena-max",
        default=MALLOC_ARENA_MAX,
        help="MALLOC_ARENA_MAX for the bots started (default: %(default)s, as deployed; 0: glibc's default)",
    )
    asyncio.run(main(p.parse_args()))
