"""Fixtures for the reminder tests: the demo calendar and a process time-zone switch."""

from __future__ import annotations

import os
import time

import pytest

from bot.domain.calendar import TermCalendar

#: Process time zones the time-sensitive tests run under (the code must never read the process's zone).
PROCESS_TZS = ["Europe/London", "UTC", "America/Los_Angeles", "Australia/Sydney"]


@pytest.fixture(scope="session")
def cal(school) -> TermCalendar:
    return TermCalendar.from_school(school)


@pytest.fixture(params=PROCESS_TZS)
def process_tz(request):
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
