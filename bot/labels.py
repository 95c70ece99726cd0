"""How dates, times and people are named on cards, reminders and record documents — one set of labels.

Month and day names are English whatever the machine's locale (strftime's %a/%b follow the C locale here, and a
school's cards must not change language with the server's settings).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.school import School

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS_LONG = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_LONG = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

#: What a card says for a staff id that is no longer on the roster (a leaver's old records still name them).
NO_LONGER_ON_STAFF = "someone no longer on the staff list"


def date_label(d: dt.date) -> str:
    """ "Mon 23 Nov 2026"."""
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def short_date(d: dt.date) -> str:
    """ "Mon 23 Nov" (within the current school year, where the year goes without saying)."""
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def day_month(d: dt.date) -> str:
    """ "23 Nov"."""
    return f"{d.day} {_MONTHS[d.month - 1]}"


def day_label(d: dt.date) -> str:
    """ "23 Nov 2026"."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def long_date(d: dt.date) -> str:
    """ "Monday 23 November 2026" (record documents)."""
    return f"{_DAYS_LONG[d.weekday()]} {d.day} {_MONTHS_LONG[d.month - 1]} {d.year}"


def numeric_date(d: dt.date) -> str:
    """ "23 Nov 2026" with a two-digit day, as tables in record documents print it ("03 Dec 2026")."""
    return f"{d.day:02d} {_MONTHS[d.month - 1]} {d.year}"


def stamp(instant: dt.datetime, tz) -> str:
    """ "23 Nov 2026 10:05" in the school's time zone (who recorded something, and when)."""
    local = instant.astimezone(tz)
    return f"{local.day:02d} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M}"


def time_range(start: dt.datetime, end: dt.datetime, tz) -> str:
    """ "10:00–11:00" in the school's time zone."""
    return f"{start.astimezone(tz):%H:%M}–{end.astimezone(tz):%H:%M}"


def when(instant: dt.datetime, tz) -> str:
    """ "Mon 23 Nov, 10:00" in the school's time zone."""
    local = instant.astimezone(tz)
    return f"{short_date(local.date())}, {local:%H:%M}"


def name_of(school: School, staff_id: str | None, *, missing: str = NO_LONGER_ON_STAFF) -> str:
    """A colleague's name from the roster; `missing` for an id the roster no longer has ("" for no id)."""
    if not staff_id:
        return ""
    member = school.staff.get(staff_id)
    return member.name if member else missing


def helpline_text(school) -> str | None:
    """The school's employee assistance helpline as one line for the request and help cards (seed 001: a
    confidential helpline, day and night), or None when the school has not set one."""
    eap = getattr(school.settings, "employee_assistance", None)
    if eap is None:
        return None
    how = " or ".join(
        x
        for x in (f"call {eap.phone}" if eap.phone else None, f"[visit the site]({eap.url})" if eap.url else None)
        if x
    )
    hours = f" ({eap.hours})" if eap.hours else ""
    return f"Need to talk to someone in confidence, outside school? {eap.name}{hours}: {how}."
