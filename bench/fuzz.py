"""Hostile input against the real app: ≥ 10 000 generated Teams activities and card submits (tests/fakes/hostile.py)
posted over HTTP to a running app on a fresh store, after a seeding pass that leaves real objects for several people
and harvests their real ids from the bot's own cards. Prints counts, never pass/fail; the last line is

    cases= errors_5xx= crashes= hangs= partial_writes=

    .venv/bin/python bench/fuzz.py [cases] [--seed=N] [--postgres=postgresql+asyncpg://user@host:5432/db]

A case is a 5xx on any HTTP status ≥ 500, a crash when a turn reached on_turn_error or aiohttp caught an
exception, a hang when it took longer than tests/fakes/hostile.py's HANG_GUARD, and a partial write when a case
that may not write (refused 4xx, dropped 202, or from someone not on the staff list) changed any table's row count.
The first failures are described by shape (type, verb, status), never by content.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED_PEOPLE = ["tom.hollis", "grace.mensah", "priya.raman", "amara.okafor", "daniel.whitcombe"]


def draw_cases(strategy, n: int, seed: int) -> list:
    """n examples of `strategy`, reproducible for a seed (hypothesis draws them; nothing fails, so no shrinking)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    out: list = []

    @hseed(seed)
    @settings(
        max_examples=n, database=None, deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def collect(case):
        out.append(case)

    collect()
    return out


async def main(n: int, seed: int, postgres: str | None, dump: Path | None = None) -> int:
    from bot.app import create_app
    from bot.journeys import build_router
    from bot.school import load_school
    from bot.settings import load_settings
    from bot.store import Database
    from tests.fakes import hostile
    from tests.fakes.connector import ConnectorDouble
    from tests.fakes.teams import TeamsDriver

    logging.basicConfig(level=logging.CRITICAL)  # the counters listen on their own handler
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    schema = None
    if postgres:
        from sqlalchemy import text

        schema = f"fuzz_{uuid.uuid4().hex[:10]}"
        admin = Database(postgres)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.close()
        db = Database(postgres, schema=schema)
    else:
        db = Database(f"sqlite+aiosqlite:///{tmp / 'fuzz.sqlite3'}")
    await db.migrate()
    settings = load_settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'unused.sqlite3'}", LOCAL_M365_DIR=str(tmp / "m365"), WORKERS=False
    )
    school = load_school(settings.school_config)
    now = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)  # inside the demo school's Autumn 2
    connector = await ConnectorDouble().start()
    driver = await TeamsDriver(create_app(settings, clock=lambda: now, db=db), connector).start()
    try:
        router = build_router()
        t0 = time.perf_counter()
        harvest = await hostile.seed(driver, school, router, people=SEED_PEOPLE)
        print(
            f"seeded: {len(harvest.actions)} (verb, data) pairs from the bot's own cards, "
            f"{len(harvest.inputs)} input ids, {sum((await hostile.row_counts(db)).values())} rows "
            f"({time.perf_counter() - t0:.1f}s)",
            flush=True,
        )
        staff = sorted(school.staff)
        t0 = time.perf_counter()
        all_cases = draw_cases(hostile.cases(driver, school, router, harvest, staff), n, seed)
        print(f"drew {len(all_cases)} cases ({time.perf_counter() - t0:.1f}s)", flush=True)
        counts = collections.Counter()
        statuses = collections.Counter()
        failures: list[str] = []
        t0 = time.perf_counter()
        with hostile.CrashCounter() as crashes:
            for i, case in enumerate(all_cases, 1):
                verdict = await hostile.run_case(driver, db, case, crashes)
                statuses[verdict.status] += 1
                counts["errors_5xx"] += verdict.error_5xx
                counts["crashes"] += verdict.crash
                counts["hangs"] += verdict.hang
                counts["partial_writes"] += verdict.partial_write
                if not verdict.ok and len(failures) < 20:
                    failures.append(hostile.describe(case, verdict))
                if not verdict.ok and dump:
                    (dump / f"case-{i}.json").write_bytes(hostile.encode(case))
                connector.clear()
                if i % 1000 == 0:
                    print(
                        f"  {i} cases, {time.perf_counter() - t0:.0f}s, failures so far {sum(counts.values())}",
                        flush=True,
                    )
            crash_types = collections.Counter(r.getMessage() for r in crashes.records)
        print("statuses:", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
        if crash_types:
            print("crash log lines:", dict(crash_types.most_common(10)))
        for line in failures:
            print("  failure:", line)
        print(f"backend={'postgresql' if postgres else 'sqlite'} seed={seed} seconds={time.perf_counter() - t0:.0f}")
        print(
            f"cases={len(all_cases)} errors_5xx={counts['errors_5xx']} crashes={counts['crashes']} "
            f"hangs={counts['hangs']} partial_writes={counts['partial_writes']}"
        )
        return 0
    finally:
        await driver.stop()
        await connector.stop()
        await db.close()
        if schema:
            from sqlalchemy import text

            admin = Database(postgres)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="?", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--postgres", default=None)
    ap.add_argument(
        "--dump",
        type=Path,
        default=None,
        help="write each failing case's body to this folder (synthetic data only), to replay it",
    )
    args = ap.parse_args()
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(args.cases, args.seed, args.postgres, args.dump)))
