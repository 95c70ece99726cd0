"""The half-term compliance report for a large trust: 10 000 staff × 6 half terms, realistic attendance.

Realistic means: most people attend once a half term, some twice (an alternative session as well as their own),
a few not at all; 3 % join during the year, 3 % leave, 2 % are on long-term absence; 40 are in DSL teams with
individual supervision every half term or so. The report is the whole year as of the last day (every half term
closed, every rule exercised), by ``bot.domain.compliance.compliance_report``.

Figures, each the median of several runs:
* floor — just reading every attendance fact once (``staff_id`` and date): no rules, no grouping;
* report — the full report, all half terms, every group, DSL supervision, joiners/leavers/absence;
* one half term — what the ``attendance`` card asks for;
* from the store — the attendance card's real path: load one half term's facts from SQLite, then the report.

    .venv/bin/python bench/compliance.py [--staff 10000] [--runs 7]

Goal (issue #5): the full report under 200 ms. Prints figures; never a pass/fail.
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


def build(n: int, seed: int = 7):
    from bot.domain import compliance as rules
    from bot.domain.calendar import TermCalendar
    from bot.school import load_school

    rng = random.Random(seed)
    cal = TermCalendar.from_school(load_school(ROOT / "infra" / "demo" / "school.yaml"))
    days = [cal.school_days_in(ht) for ht in cal.half_terms]
    all_days = [d for ds in days for d in ds]
    groups = [f"g{i:03d}" for i in range(400)]
    staff: list[rules.StaffRecord] = []
    for i in range(n):
        kind = rng.random()
        started = left = absent = None
        if kind < 0.03:
            started = rng.choice(all_days)
        elif kind < 0.06:
            left = rng.choice(all_days)
        elif kind < 0.08:
            absent = rng.choice(all_days)
        staff.append(
            rules.StaffRecord(
                id=f"s{i:05d}",
                group=groups[i % len(groups)],
                roles=frozenset({"dsl"}) if i < 40 else frozenset(),
                started_on=started,
                left_on=left,
                absence_from=absent,
            )
        )
    attendance: list[rules.Attendance] = []
    dsl: list[rules.IndividualSupervision] = []
    for s in staff:
        for ht_days in days:
            r = rng.random()
            times = 0 if r < 0.05 else (2 if r > 0.80 else 1)
            for _ in range(times):
                attendance.append(rules.Attendance(s.id, rng.choice(ht_days)))
            if s.is_dsl and rng.random() < 0.9:
                dsl.append(rules.IndividualSupervision(s.id, rng.choice(ht_days)))
    rng.shuffle(attendance)
    return cal, staff, attendance, dsl


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


async def from_store(cal, staff, attendance, runs: int) -> float:
    """Load one half term's attendance rows from SQLite and report on it — what the attendance card does."""
    import logging

    from bot.domain import compliance as rules
    from bot.reminders import facts
    from bot.store import Database
    from bot.store.models_sessions import Attendance, GroupSession
    from bot.store.tenancy import DEFAULT_SCHOOL_KEY

    logging.disable(logging.WARNING)
    ht = cal.half_terms[1]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
        await db.migrate()
        now = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
        async with db.session() as s:
            sess = GroupSession(
                kind="class",
                group_id="g000",
                title="Group supervision",
                starts_at=now,
                ends_at=now,
                local_date=ht.start,
                half_term="bench",
                facilitator_id="s00000",
                status="recorded",
                external_support=False,
                created_by="s00000",
                created_at=now,
            )
            s.add(sess)
            await s.flush()
            rows = [
                dict(
                    staff_id=a.staff_id,
                    session_id=sess.id,
                    local_date=a.on,
                    half_term="bench",
                    recorded_by="s00000",
                    recorded_at=now,
                )
                for a in attendance
                if ht.start <= a.on <= ht.end
            ]
            seen = set()
            rows = [
                r
                for r in rows
                if (r["staff_id"], r["session_id"]) not in seen and not seen.add((r["staff_id"], r["session_id"]))
            ]
            for i in range(0, len(rows), 2000):
                await s.execute(
                    Attendance.__table__.insert(), [{**r, "school_id": DEFAULT_SCHOOL_KEY} for r in rows[i : i + 2000]]
                )
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            async with db.session() as s:
                got = await facts.attendance_facts(s, ht.start, ht.end)
            rules.compliance_report(staff, cal, got, cal.deadline(ht), half_terms=[ht])
            samples.append((time.perf_counter() - t) * 1000)
        await db.close()
    return statistics.median(samples)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--staff", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    from bot.domain import compliance as rules

    t = time.perf_counter()
    cal, staff, attendance, dsl = build(args.staff)
    print(
        f"staff={len(staff)} half_terms={len(cal.half_terms)} attendance_facts={len(attendance)} "
        f"dsl_sessions={len(dsl)} (built in {time.perf_counter() - t:.1f} s)"
    )
    today = cal.last_day

    def floor():
        n = 0
        for a in attendance:
            if a.on <= today and a.staff_id:
                n += 1
        return n

    def full():
        return rules.compliance_report(staff, cal, attendance, today, dsl_sessions=dsl)

    def one():
        return rules.compliance_report(staff, cal, attendance, today, half_terms=[cal.half_terms[1]])

    report = full()
    missed = sum(len(h.missed) for h in report.half_terms)
    exempt = sum(len(h.exempt) for h in report.half_terms)
    print(
        f"report: {len(report.half_terms)} half terms, {missed} missed, {exempt} exempt, "
        f"{len(report.half_terms[0].groups)} groups, {len(report.half_terms[0].dsl)} DSL statuses"
    )
    floor_ms = timed(floor, args.runs)
    full_ms = timed(full, args.runs)
    one_ms = timed(one, args.runs)
    store_ms = asyncio.run(from_store(cal, staff, attendance, max(3, args.runs // 2)))
    print(f"floor (read every fact once)   {floor_ms:8.1f} ms")
    print(f"full report, 6 half terms      {full_ms:8.1f} ms   ({full_ms / floor_ms:.1f}x the floor)")
    print(f"one half term                  {one_ms:8.1f} ms   ({one_ms / floor_ms:.1f}x the floor)")
    print(f"one half term from SQLite      {store_ms:8.1f} ms")
    print(f"full_report_ms={full_ms:.1f} floor_ms={floor_ms:.1f} ratio={full_ms / floor_ms:.1f} goal_ms=200")


if __name__ == "__main__":
    main()
