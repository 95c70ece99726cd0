"""Every fault of tests/faults, run N rounds, with counts per fault.

Faults: Microsoft Graph down for 20 and 90 minutes (moved clock), an outage beyond the outbox's patience, a 429
storm with Retry-After, timeouts whose work went through anyway, a 5xx on an upload session's last chunk (refused,
or done with the answer lost), kill -9 of `python -m bot` during an outbox drain (SQLite, PostgreSQL), kill -9 of
`python -m bot` during group and 1:1 record submits (before the commit, after it before the answer, while the outbox
delivers; SQLite, PostgreSQL), kill -9 of the reminder fan-out sender (bench/fanout.py at 240 staff, SQLite,
PostgreSQL).

    .venv/bin/python bench/faults.py [--rounds 3] [-k EXPR]

Each round is one pytest run of tests/faults in a subprocess (JUnit XML read back). Per fault it prints runs,
held (passed), xfail (a known gap, with its reason), failed, and the sums of the figures the tests record
(lost, duplicates, graph_requests, faults_injected …). Last line: ``faults= runs= held= xfail= failed=``.
Prints figures; never a pass/fail.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_round(k: str | None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "faults.xml"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "not e2e",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/faults",
            f"--junitxml={xml}",
            "-o",
            "junit_family=xunit1",
        ] + (["-k", k] if k else [])
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if not xml.exists():
            raise SystemExit("pytest produced no report (run the command above by hand to see why)")
        out = []
        for case in ET.parse(xml).getroot().iter("testcase"):
            outcome, reason = "held", ""
            for tag in ("failure", "error"):
                if case.find(tag) is not None:
                    outcome, reason = "failed", (case.find(tag).get("message") or "")[:160]
            skipped = case.find("skipped")
            if skipped is not None:
                is_xfail = (skipped.get("type") or "").endswith("xfail")
                outcome, reason = ("xfail" if is_xfail else "skipped"), (skipped.get("message") or "")[:160]
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            out.append(
                {
                    "fault": case.get("name"),
                    "outcome": outcome,
                    "reason": reason,
                    "props": props,
                    "seconds": float(case.get("time") or 0),
                }
            )
        return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("-k", help="pytest -k expression, to run some faults only")
    args = p.parse_args()
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    sums: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    reasons: dict[str, set[str]] = collections.defaultdict(set)
    seconds: dict[str, float] = collections.defaultdict(float)
    t0 = time.monotonic()
    for r in range(args.rounds):
        for case in one_round(args.k):
            f = case["fault"]
            counts[f][case["outcome"]] += 1
            seconds[f] += case["seconds"]
            if case["reason"]:
                reasons[f].add(case["reason"].split("\n")[0])
            for name, value in case["props"].items():
                try:
                    sums[f][name] += int(value)
                except (TypeError, ValueError):
                    pass
        print(f"round {r + 1}/{args.rounds} done, {time.monotonic() - t0:.0f} s", flush=True)
    total: collections.Counter = collections.Counter()
    for f in sorted(counts):
        c = counts[f]
        total.update(c)
        figures = " ".join(f"{k}={v}" for k, v in sorted(sums[f].items()))
        print(
            f"{f}: runs={sum(c.values())} held={c['held']} xfail={c['xfail']} failed={c['failed']} "
            f"mean_s={seconds[f] / sum(c.values()):.1f} {figures}".rstrip()
        )
        for reason in sorted(reasons[f]):
            print(f"    {reason}")
    print(
        f"faults={len(counts)} runs={sum(total.values())} held={total['held']} xfail={total['xfail']} "
        f"failed={total['failed']}"
    )


if __name__ == "__main__":
    main()
