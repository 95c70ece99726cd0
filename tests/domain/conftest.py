"""Shared fixtures for the pure domain tests: the demo school, its calendar, and a process-time-zone switch."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.domain.calendar import TermCalendar
from bot.school.config import School, load_school

ROOT = Path(__file__).resolve().parents[2]

DEMO = ROOT / "infra" / "demo" / "school.yaml"

#: Process time zones the time-sensitive tests run under: the school's own, UTC, both sides of the date line,
#: a half-hour offset and a southern-hemisphere zone whose DST runs opposite to London's.
PROCESS_TZS = ["Europe/London", "UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati", "Australia/Sydney"]


@pytest.fixture(scope="session")
def school() -> School:
    return load_school(DEMO)


@pytest.fixture(scope="session")
def cal(school: School) -> TermCalendar:
    return TermCalendar.from_school(school)


@pytest.fixture(params=PROCESS_TZS)
def process_tz(request):
    """Run the test with the process's local time zone set to each of PROCESS_TZS, then restore it."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()
