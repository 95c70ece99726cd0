"""A clock that starts at a chosen moment and runs on in real time: for local mode only (DEMO_TODAY, run.sh
--today; `python -m bot.reminders --at`), so a school trying the product can see a half term's reminders and the
mop-up without waiting for the real date. Production never uses it (bot/settings.py refuses DEMO_TODAY there)."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}$")


def parse_moment(value: str) -> tuple[dt.date, dt.time | None]:
    """'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM' (school time). Raises ValueError naming the expected form."""
    v = value.strip()
    try:
        if _DATE.match(v):
            return dt.date.fromisoformat(v), None
        if _DATETIME.match(v):
            moment = dt.datetime.fromisoformat(v.replace(" ", "T"))
            return moment.date(), moment.time()
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")


def start_of(value: str, school) -> dt.datetime:
    """The moment as aware UTC: in the school's time zone; a date alone is that day at reminders.send_at (when
    the automatic round would go)."""
    day, at = parse_moment(value)
    at = at or school.settings.reminders.send_at
    return dt.datetime.combine(day, at, tzinfo=school.tz).astimezone(dt.timezone.utc)


class DemoClock:
    """Returns ``start`` plus the real time elapsed since it was made (so timers and the scheduler still work)."""

    def __init__(self, start: dt.datetime, monotonic: Callable[[], float] = time.monotonic):
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        self.start = start
        self._monotonic = monotonic
        self._t0 = monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self._monotonic() - self._t0)
