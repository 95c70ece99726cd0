"""Reminder fan-out at Teams' limits, through a crash: N staff (default 5 000) in one tenant are all due a reminder.

* A Teams double (this process) enforces the documented limits — per conversation 7/1 s, 8/2 s, 60/30 s,
  1 800/h; per app 50 requests/s — answering 429 with Retry-After when they are exceeded, and injects further
  429s at random. It takes 5–30 ms to answer, and it keeps what it accepted even if the caller has died.
* The sender is a separate process running the real scheduler tick (claims in PostgreSQL, the throttled sender,
  the Bot Framework REST client). Part-way through it is killed with SIGKILL, then started again (same instance
  id), as a crash and restart would: it must find its in-doubt sends, ask the chat whether they arrived (by the
  marker each card carries, as Graph's chat messages would let it), and carry on.
* Figures: messages/s over the whole run (restart gap included), lost (due staff with no reminder), duplicates
  (reminders beyond one per person). Goal: >= 45 msgs/s (90 % of 50 RPS), lost = 0, duplicates = 0.

    .venv/bin/python bench/fanout.py [--staff 5000] [--kill-at 0.4] [--headroom 0.97] [--sqlite]
    FANOUT_TIMELINE=1 … also prints the rate and 429s per 5 s

Last line: ``msgs_per_s=… lost=… duplicates=…``. Prints figures; never a pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import math
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
#: 09:00 on Mon 7 Dec 2026, London (GMT): point 10 of Autumn 2 in the demo calendar, inside the sending window.
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)
REMINDER_TITLE = "Group supervision this half term"
DSL_COUNT = 4


# ---- the synthetic school ----------------------------------------------------------------------------------------
def make_school(n: int, path: Path) -> None:
    """The demo school's settings and terms with ``n`` invented staff in 60 groups, written as YAML (what the bot
    reads) and as JSON beside it (what the sender process reads: PyYAML's pure-Python loader takes over a second
    for 5 000 people, which would otherwise be most of the restart time measured here)."""
    import yaml

    demo = yaml.safe_load((ROOT / "infra" / "demo" / "school.yaml").read_text(encoding="utf-8"))
    demo["terms"]["enrichment_weeks"] = []
    groups = [{"id": f"class{i:02d}", "name": f"Class {i:02d}", "kind": "class"} for i in range(50)]
    groups += [{"id": f"team{i:02d}", "name": f"Team {i:02d}", "kind": "non_class"} for i in range(10)]
    staff = []
    for i in range(n):
        member = {
            "id": f"staff{i:05d}",
            "name": f"Bench Person{i:05d}",
            "email": f"staff{i:05d}@bench.example",
            "aad_object_id": str(uuid.UUID(int=i + 1)),
            "group": groups[i % len(groups)]["id"],
        }
        if i < DSL_COUNT:
            member["roles"] = ["dsl", "allocator"] if i == 0 else ["dsl"]
        staff.append(member)
    demo["groups"], demo["staff"] = groups, staff
    path.write_text(yaml.safe_dump(demo, sort_keys=False), encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps(demo, default=str), encoding="utf-8")


def load_bench_school(path: str):
    """The same School the YAML gives, validated by the same model, read from the JSON copy."""
    from bot.school.config import School, SchoolFile

    return School(SchoolFile.model_validate(json.loads(Path(path).with_suffix(".json").read_text())), Path(path))


# ---- the Teams double ------------------------------------------------------------------------------------------
class TeamsDouble:
    PER_CONVERSATION = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
    PER_APP = ((50, 1.0),)

    def __init__(self, inject_429: float, seed: int = 1):
        self.rng = random.Random(seed)
        self.inject_429 = inject_429
        self.app_times: collections.deque[float] = collections.deque()
        self.conv_times: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.accepted: list[tuple[float, str, str, str | None]] = []  # (t, conversation, title, marker)
        self.by_conv: dict[str, list[str]] = collections.defaultdict(list)
        self.limit_429 = 0
        self.limit_429_app = 0
        self.rejected: list[float] = []
        self.injected_429 = 0
        self.requests = 0
        self.url = ""
        self._runner = None

    @staticmethod
    def _over(times: collections.deque[float], limits, now: float) -> float:
        """Seconds until one more request fits every window (0 if it fits now)."""
        wait = 0.0
        for count, seconds in limits:
            inside = [t for t in list(times)[-count:] if t > now - seconds]
            if len(inside) >= count:
                wait = max(wait, inside[0] + seconds - now)
        return wait

    async def post(self, request):
        from aiohttp import web

        self.requests += 1
        now = time.monotonic()
        cid = request.match_info["cid"]
        body = await request.json()
        conv = self.conv_times[cid]
        while self.app_times and self.app_times[0] <= now - 1.0:
            self.app_times.popleft()
        app_wait = self._over(self.app_times, self.PER_APP, now)
        wait = max(app_wait, self._over(conv, self.PER_CONVERSATION, now))
        if wait > 0:
            self.limit_429 += 1
            self.limit_429_app += app_wait > 0
            self.rejected.append(now)
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))}
            )
        if self.rng.random() < self.inject_429:
            self.injected_429 += 1
            return web.json_response({"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"})
        self.app_times.append(now)
        conv.append(now)
        if len(conv) > 1800:
            conv.popleft()
        content = (body.get("attachments") or [{}])[0].get("content") or {}
        first = (content.get("body") or [{}])[0]
        self.accepted.append((now, cid, first.get("text", ""), first.get("id")))
        if first.get("id"):
            self.by_conv[cid].append(first["id"])
        # Accepted: it is in the chat now, whatever happens to the caller while we take our time answering.
        await asyncio.sleep(self.rng.uniform(0.005, 0.03))
        return web.json_response({"id": str(uuid.uuid4())})

    async def chat_messages(self, request):
        """A Graph-like read of one chat: the markers of the cards in it (what reconcile needs)."""
        from aiohttp import web

        return web.json_response({"value": self.by_conv.get(request.match_info["cid"], [])})

    async def start(self) -> TeamsDouble:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self.post)
        app.router.add_get("/v1.0/chats/{cid}/messages", self.chat_messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        await self._runner.cleanup()

    def reminders(self) -> int:
        return sum(1 for _, _, title, _ in self.accepted if title == REMINDER_TITLE)


# ---- the sender process ---------------------------------------------------------------------------------------
async def sender_main(args) -> None:
    import logging

    from aiohttp import ClientSession

    from bot.delivery import RateLimiter, ThrottledSender
    from bot.domain.calendar import TermCalendar
    from bot.journeys.base import Services
    from bot.reminders import facts
    from bot.reminders.scheduler import Scheduler
    from bot.settings import load_settings
    from bot.store import Database
    from bot.teams.adapter import build_adapter
    from bot.teams.sender import BotFrameworkSender

    logging.basicConfig(level=logging.WARNING)
    school = load_bench_school(args.school)
    db = Database(args.db_url, schema=args.schema or None)

    def clock():
        return NOW

    services = Services(school=school, db=db, clock=clock, calendar=TermCalendar.from_school(school))
    settings = load_settings(
        DATABASE_URL=args.db_url if args.db_url.startswith("sqlite") else "sqlite+aiosqlite:///:memory:",
        SCHOOL_CONFIG=args.school,
        WORKERS=False,
    )
    _, auth = build_adapter(settings)
    send = BotFrameworkSender(auth, settings.app_id)
    sender = ThrottledSender(send, limiter=RateLimiter(headroom=args.headroom), concurrency=48)
    async with ClientSession() as http:

        async def reconcile(rows):
            async with db.session() as s:
                refs = await facts.personal_refs(s, [r.staff_id for r in rows])

            async def one(r):
                ref = refs.get(r.staff_id)
                if ref is None:
                    return r.claim_id, None
                async with http.get(f"{args.teams}/v1.0/chats/{ref.conversation_id}/messages") as resp:
                    return r.claim_id, r.marker in (await resp.json())["value"]

            return dict(await asyncio.gather(*(one(r) for r in rows)))

        scheduler = Scheduler(services, clock, sender=sender, owner="bench-sender", reconcile=reconcile)
        t0 = time.monotonic()
        report = await scheduler.tick(NOW)
        d = report.delivery
        print(
            json.dumps(
                {
                    "seconds": round(time.monotonic() - t0, 2),
                    "planned": report.planned,
                    "sent": d.sent,
                    "unreachable": d.unreachable,
                    "failed": d.failed,
                    "later": d.later,
                    "in_doubt": d.in_doubt,
                    "reconciled": d.reconciled,
                }
            ),
            flush=True,
        )
    await auth.close()
    await db.close()


# ---- the run --------------------------------------------------------------------------------------------------
async def prepare(args, tmp: Path, teams_url: str) -> tuple[str, str]:
    from sqlalchemy import text

    from bot.store import Database
    from bot.store.models import ConversationRef
    from bot.store.tenancy import DEFAULT_SCHOOL_KEY

    school_path = tmp / "school.yaml"
    make_school(args.staff, school_path)
    if args.sqlite:
        url, schema = f"sqlite+aiosqlite:///{tmp / 'fanout.sqlite3'}", ""
        db = Database(url)
    else:
        url, schema = PG_URL, f"bench_{uuid.uuid4().hex[:10]}"
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.close()
        db = Database(url, schema=schema)
    await db.migrate()
    rows = []
    for i in range(args.staff):
        sid = f"staff{i:05d}"
        conv = f"a:personal-{sid}"
        rows.append(
            dict(
                kind="personal",
                key=sid,
                staff_id=sid,
                conversation_id=conv,
                service_url=teams_url,
                reference={
                    "channelId": "msteams",
                    "serviceUrl": teams_url,
                    "conversation": {"id": conv, "conversationType": "personal"},
                    "user": {"id": f"29:{sid}"},
                    "bot": {"id": "28:bench-bot"},
                },
                updated_at=NOW,
            )
        )
    async with db.session() as s:
        for i in range(0, len(rows), 1000):
            await s.execute(
                ConversationRef.__table__.insert(), [{**r, "school_id": DEFAULT_SCHOOL_KEY} for r in rows[i : i + 1000]]
            )
    await db.close()
    return url, schema


async def drop_schema(url: str, schema: str) -> None:
    if not schema:
        return
    from sqlalchemy import text

    from bot.store import Database

    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.close()


async def spawn(args, tmp: Path, url: str, schema: str, teams_url: str):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve()),
        "--sender",
        "--school",
        str(tmp / "school.yaml"),
        "--db-url",
        url,
        "--schema",
        schema,
        "--teams",
        teams_url,
        "--headroom",
        str(args.headroom),
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )


async def main(args) -> dict:
    """The run; prints the figures and returns them (tests/faults runs a small one)."""
    import logging

    logging.disable(logging.WARNING)
    teams = await TeamsDouble(args.inject_429).start()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        url, schema = await prepare(args, tmp, teams.url)
        print(
            f"staff={args.staff} store={'sqlite' if args.sqlite else 'postgresql'} "
            f"kill_at={args.kill_at:.0%} injected_429_rate={args.inject_429:.1%}",
            flush=True,
        )
        try:
            t0 = time.monotonic()
            first = await spawn(args, tmp, url, schema, teams.url)
            target = int(args.staff * args.kill_at)
            while teams.reminders() < target and first.returncode is None:
                await asyncio.sleep(0.05)
            killed_at = teams.reminders()
            first.send_signal(signal.SIGKILL)
            await first.wait()
            t_kill = time.monotonic()
            print(f"killed the sender (SIGKILL) after {killed_at} reminders, {t_kill - t0:.1f} s in", flush=True)
            second = await spawn(args, tmp, url, schema, teams.url)
            out, _ = await second.communicate()
            t_end = time.monotonic()
            print(f"restarted sender: {out.decode().strip()}", flush=True)
        finally:
            await drop_schema(url, schema)
    await teams.stop()

    per_conv = collections.Counter(cid for _, cid, title, _ in teams.accepted if title == REMINDER_TITLE)
    due = {f"a:personal-staff{i:05d}" for i in range(args.staff)}
    lost = len(due - set(per_conv))
    duplicates = sum(n - 1 for n in per_conv.values() if n > 1)
    times = [t for t, _, title, _ in teams.accepted if title == REMINDER_TITLE]
    digests = sum(1 for _, _, title, _ in teams.accepted if title.startswith("Supervision reminders sent"))
    span = max(times) - min(times) if len(times) > 1 else float("nan")
    rate = len(per_conv) / span
    gap = [b - a for a, b in zip(sorted(times), sorted(times)[1:])]
    print(
        f"reminders accepted={len(times)} unique={len(per_conv)} digests={digests} "
        f"requests={teams.requests} limit_429={teams.limit_429} (app {teams.limit_429_app}) "
        f"injected_429={teams.injected_429}"
    )
    print(
        f"first-to-last reminder {span:.1f} s (largest gap {max(gap):.1f} s: the restart); "
        f"rate excluding the gap {len(per_conv) / (span - max(gap)):.1f} msgs/s; wall clock {t_end - t0:.1f} s"
    )
    if os.environ.get("FANOUT_TIMELINE"):
        t0_ = min(times)
        for k in range(int(span // 5) + 1):
            a, b = t0_ + 5 * k, t0_ + 5 * (k + 1)
            print(
                f"  {5 * k:4d}s  {sum(1 for t in times if a <= t < b) / 5:5.1f}/s  "
                f"429s={sum(1 for t in teams.rejected if a <= t < b)}"
            )
    print(f"msgs_per_s={rate:.1f} lost={lost} duplicates={duplicates}")
    return {
        "staff": args.staff,
        "killed_at": killed_at,
        "accepted": len(times),
        "unique": len(per_conv),
        "msgs_per_s": rate,
        "lost": lost,
        "duplicates": duplicates,
    }


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--staff", type=int, default=5000)
    p.add_argument("--kill-at", type=float, default=0.4, help="fraction of reminders delivered before SIGKILL")
    p.add_argument("--inject-429", type=float, default=0.01, help="share of requests answered 429 at random")
    p.add_argument(
        "--headroom",
        type=float,
        default=0.97,
        help="share of Teams' app limit the sender aims for (the app uses 0.95, leaving room for "
        "replies to people's own turns; here nothing else is talking)",
    )
    p.add_argument("--sqlite", action="store_true", help="claims in SQLite instead of PostgreSQL")
    p.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--school", help=argparse.SUPPRESS)
    p.add_argument("--db-url", help=argparse.SUPPRESS)
    p.add_argument("--schema", default="", help=argparse.SUPPRESS)
    p.add_argument("--teams", help=argparse.SUPPRESS)
    return p.parse_args(argv)


if __name__ == "__main__":
    ns = parse()
    asyncio.run(sender_main(ns) if ns.sender else main(ns))
