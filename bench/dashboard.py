"""The dashboard page for a large school: 2 000 staff × 6 half terms, realistic attendance.

Realistic: 40 groups (a few under the small-number threshold), most people attend once a half term, some twice,
5 % not at all; the date is in the last half term, so every chart is full. 300 agreements, 3 000 open actions,
60 supervisors.

Figures, each the median of several runs, and their ratio to the floor measured in the same run:
* floor — reading every attendance fact once into per-half-term sets (what any dashboard must at least do);
* figures — bot.dashboard.figures.build (protection, folding, every count);
* page — figures + the four pygal SVG charts + the HTML (what GET /dashboard renders, server-side);
* from the store — the same page with the attendance facts read from SQLite first (the real handler's path).

    .venv/bin/python bench/dashboard.py [--staff 2000] [--runs 7]

Goal (issue 12): the page under 300 ms server-side. Prints figures; never a pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(n: int, seed: int = 11):
    from bot.dashboard import figures

    rng = random.Random(seed)
    hts = [
        figures.HalfTermRef(
            f"2026-27 H{i + 1}",
            f"Half term {i + 1}",
            dt.date(2026, 9, 1) + dt.timedelta(weeks=7 * i),
            dt.date(2026, 9, 1) + dt.timedelta(weeks=7 * i + 6),
        )
        for i in range(6)
    ]
    sizes = [3 if g % 13 == 0 else 1 for g in range(40)]
    groups = [f"Group {g:02d}" for g in range(40) for _ in range(sizes[g])]
    staff = [figures.Person(f"s{i:05d}", f"Person {i}", groups[i % len(groups)]) for i in range(n)]
    attended = []
    for p in staff:
        for ht in hts:
            r = rng.random()
            for _ in range(0 if r < 0.05 else (2 if r > 0.8 else 1)):
                attended.append((ht.label, p.id))
    rng.shuffle(attended)
    today = hts[-1].start + dt.timedelta(days=10)
    reviews = [today + dt.timedelta(days=rng.randint(-60, 300)) for _ in range(300)]
    dues = [today + dt.timedelta(days=rng.randint(-30, 60)) for _ in range(3000)]
    load = [(f"Supervisor {i}", rng.randint(0, 5), 4) for i in range(60)]
    return dict(
        threshold=5,
        today=today,
        half_terms=hts,
        staff=staff,
        attended=attended,
        reviews=reviews,
        action_dues=dues,
        load=load,
    )


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def floor(args) -> None:
    seen: dict[str, set[str]] = {}
    for label, sid in args["attended"]:
        seen.setdefault(label, set()).add(sid)


def page(args) -> str:
    from bot.dashboard import figures, render

    return render.page(figures.build(**args), school_name="Bench School", viewer="Bench DSL")


async def from_store(args, runs: int) -> float:
    import logging

    from bot.dashboard import figures, render
    from bot.store import Database
    from bot.store import dashboard as store
    from bot.store.models_sessions import Attendance, GroupSession
    from bot.store.tenancy import DEFAULT_SCHOOL_KEY

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
        await db.migrate()
        now = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
        async with db.session() as s:
            sessions = {}
            for ht in args["half_terms"]:
                sess = GroupSession(
                    kind="class",
                    title="Group supervision",
                    starts_at=now,
                    ends_at=now,
                    local_date=ht.start,
                    half_term=ht.label,
                    facilitator_id="s00000",
                    status="recorded",
                    created_by="s00000",
                    created_at=now,
                )
                s.add(sess)
                await s.flush()
                sessions[ht.label] = sess.id
            rows = {(sid, sessions[label]): label for label, sid in args["attended"]}
            batch = [
                dict(
                    staff_id=sid,
                    session_id=sess,
                    local_date=now.date(),
                    half_term=label,
                    recorded_by="s00000",
                    recorded_at=now,
                )
                for (sid, sess), label in rows.items()
            ]
            for i in range(0, len(batch), 2000):
                await s.execute(
                    Attendance.__table__.insert(), [{**r, "school_id": DEFAULT_SCHOOL_KEY} for r in batch[i : i + 2000]]
                )
        labels = [h.label for h in args["half_terms"]]
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            async with db.session() as s:
                got = await store.attended(s, labels)
            render.page(figures.build(**{**args, "attended": got}), school_name="Bench School", viewer="Bench DSL")
            samples.append((time.perf_counter() - t) * 1000)
        await db.close()
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--staff", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    args = build(a.staff)
    page(args)  # warm-up: imports, pygal's first render
    f = timed(lambda: floor(args), a.runs)
    fig = timed(lambda: __import__("bot.dashboard.figures", fromlist=["build"]).build(**args), a.runs)
    p = timed(lambda: page(args), a.runs)
    st = asyncio.run(from_store(args, a.runs))
    print(f"staff={a.staff} half_terms=6 facts={len(args['attended'])} runs={a.runs}")
    print(f"floor_ms={f:.2f} figures_ms={fig:.2f} page_ms={p:.2f} store_page_ms={st:.2f}")
    print(
        f"ratio figures/floor={fig / f:.1f} page/floor={p / f:.1f} store_page/floor={st / f:.1f} "
        f"goal: page < 300 ms ({'met' if st < 300 else 'not met'})"
    )


if __name__ == "__main__":
    main()
