"""bench/load.py scaled down: 20 card submits at once (requests, group records, 1:1 notes) against the real app over HTTP,
on SQLite, on PostgreSQL, and on two instances sharing one PostgreSQL schema. No errors, every submit stored
once, no Teams notice posted twice (the connector double's own log). Never asserts on time."""

from __future__ import annotations

import logging

import pytest

from bench.load import run

N = 20
STAFF = 50  # the demo school's 40 and ten invented ones (bench/load.py's roster_of)


@pytest.mark.parametrize(
    "store",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("two", marks=pytest.mark.postgres)],
)
async def test_twenty_submits_at_once_no_errors_no_duplicates(store, tmp_path):
    try:
        r = await run(N, store, tmp_path, staff=STAFF)
    finally:
        logging.disable(logging.NOTSET)
    assert r["errors"] == 0, r["error_kinds"]
    assert r["staff"] == STAFF and r["requesters"] == r["planned"]["request"]  # each request its own person
    planned = r["planned"]
    assert set(planned) == {"request", "group record", "1:1 note"} and sum(planned.values()) == N, planned
    assert (r["requests_stored"], r["records_stored"], r["one_to_one_stored"]) == (
        planned["request"],
        planned["group record"],
        planned["1:1 note"],
    )
    assert r["notices_posted"] > 0 and r["duplicates"] == 0
    assert r["outbox_not_delivered"] == {}
