"""Issue #5 end to end in the Agents Playground: the teaching assistant who has not been to group supervision this
half term gets a reminder in his chat with the bot, says "I'll attend" with one click, and the DSL gets the digest.

The bot runs as `python -m bot` (its own scheduler on the real clock). This test drives the *same* scheduler code
from the test process — `Scheduler.tick(at)` against the bot's database, at 09:00 on the day the next reminder
point falls — so the half term does not have to pass in real time. The reminder goes out through the real throttled
sender and Bot Framework client to Tom's Playground; the click goes through the bot process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.processes import e2e_school

pytestmark = pytest.mark.e2e

LONDON = ZoneInfo("Europe/London")


def _in_thread(fn):
    """Playwright's sync API keeps an event loop running in this thread: async work runs on another one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(fn())).result(timeout=120)


def _dates(school):
    """The half term in progress, the next reminder point's day in it, and a later school day for a session."""
    from bot.domain.calendar import TermCalendar
    from bot.domain.reminder_rules import half_term_label, point_day

    cal = TermCalendar.from_school(school)
    today = dt.datetime.now(LONDON).date()
    ht = cal.half_term_for(today)
    if ht is None:
        pytest.fail(f"{today} is outside the e2e school's half terms: tests/e2e/processes.py school_around is wrong")
    for point in sorted(school.settings.reminders.school_days_before_deadline, reverse=True):
        day = point_day(point, ht, cal)
        if day is None or day < today:
            continue
        later = [d for d in cal.school_days_in(ht) if d > day]
        if later:
            return cal, ht, half_term_label(school.terms.academic_year, ht.name), day, later[0]
    pytest.fail(f"no reminder point left after {today} in {ht.name}: tests/e2e/processes.py school_around is wrong")


def test_teaching_assistant_who_has_not_attended_gets_a_reminder(teams, e2e_bot):
    from bot.school import load_school

    school = load_school(e2e_school())
    cal, ht, label, point_day, session_day = _dates(school)
    tick_at = dt.datetime.combine(point_day, school.settings.reminders.send_at, tzinfo=LONDON).astimezone(
        dt.timezone.utc
    )

    tom = teams("tom.hollis").open_personal_chat()
    amara = teams("amara.okafor").open_personal_chat()

    async def seed():
        """Everyone but Tom has been to a session this half term; a mop-up session is booked after the point."""
        from sqlalchemy import delete

        from bot.store import Database
        from bot.store.models_sessions import Attendance, GroupSession

        db = Database(e2e_bot.database_url)
        first = cal.school_days_in(ht)[0]
        held = dt.datetime.combine(first, dt.time(15, 30), tzinfo=LONDON).astimezone(dt.timezone.utc)
        mop = dt.datetime.combine(session_day, dt.time(15, 30), tzinfo=LONDON).astimezone(dt.timezone.utc)
        try:
            async with db.session() as s:
                # Tom has not attended (an earlier end-to-end test may have recorded him at a session).
                await s.execute(
                    delete(Attendance).where(Attendance.staff_id == "tom.hollis", Attendance.half_term == label)
                )
                past = GroupSession(
                    kind="non_class",
                    group_id=None,
                    title="Group supervision",
                    starts_at=held,
                    ends_at=held + dt.timedelta(hours=1),
                    local_date=first,
                    half_term=label,
                    facilitator_id="amara.okafor",
                    status="recorded",
                    external_support=False,
                    created_by="amara.okafor",
                    created_at=held,
                )
                mop_up = GroupSession(
                    kind="mop_up",
                    group_id=None,
                    title="Group supervision – mop-up",
                    starts_at=mop,
                    ends_at=mop + dt.timedelta(hours=1),
                    local_date=session_day,
                    half_term=label,
                    facilitator_id="marcus.fenwick",
                    status="scheduled",
                    external_support=False,
                    created_by="amara.okafor",
                    created_at=held,
                )
                s.add_all([past, mop_up])
                await s.flush()
                for m in school.data.staff:
                    if m.id != "tom.hollis":
                        s.add(
                            Attendance(
                                staff_id=m.id,
                                session_id=past.id,
                                local_date=first,
                                half_term=label,
                                recorded_by="amara.okafor",
                                recorded_at=held,
                            )
                        )
        finally:
            await db.close()

    async def tick():
        """The scheduler's own tick, at 09:00 on the reminder point's day, sending through the real stack."""
        from bot.delivery import ThrottledSender
        from bot.journeys.base import Services
        from bot.reminders.scheduler import Scheduler
        from bot.settings import load_settings
        from bot.store import Database
        from bot.teams.adapter import build_adapter
        from bot.teams.sender import BotFrameworkSender

        db = Database(e2e_bot.database_url)
        settings = load_settings(MicrosoftAppId="", MicrosoftAppPassword="", WORKERS=False)
        _, auth = build_adapter(settings)
        try:
            services = Services(school=school, db=db, clock=lambda: tick_at, calendar=cal)
            scheduler = Scheduler(
                services,
                lambda: tick_at,
                sender=ThrottledSender(BotFrameworkSender(auth, settings.app_id)),
                owner="e2e-reminder-test",
            )
            return await scheduler.tick(tick_at)
        finally:
            await auth.close()
            await db.close()

    _in_thread(seed)
    tom.mark_cards_seen()
    amara.mark_cards_seen()
    report = _in_thread(tick)
    assert report.window_open and report.planned is not None and report.planned[0] == label
    assert report.delivery.sent >= 2  # Tom's reminder and at least Amara's digest

    reminder = tom.wait_for_new_card(timeout_ms=30_000)
    assert reminder.title() == "Group supervision this half term"
    text = reminder.text()
    assert "haven't been to a group safeguarding supervision session" in text and "school days" in text
    assert reminder.buttons() == ["I'll attend"]

    digest_title = f"Supervision reminders sent — {ht.name}"
    digest = amara.wait_for_new_card(timeout_ms=30_000)
    for _ in range(4):  # the same tick may tell Amara other things first (an overdue action another module left)
        if digest.title() == digest_title:
            break
        digest = amara.wait_for_new_card(timeout_ms=30_000)
    assert digest.title() == digest_title
    assert "Willow Class: Tom Hollis" in digest.text()

    done = reminder.click("I'll attend")
    assert done.title() == "See you there"
    assert "you're on the list" in done.text()

    with sqlite3.connect(e2e_bot.db_path) as conn:
        rows = conn.execute(
            "SELECT i.added_via FROM session_invitees i JOIN group_sessions g ON g.id = i.session_id "
            "WHERE i.staff_id = 'tom.hollis' AND g.half_term = ?",
            (label,),
        ).fetchall()
        sent = conn.execute(
            "SELECT status FROM reminder_claims WHERE staff_id = 'tom.hollis' AND half_term = ?", (label,)
        ).fetchall()
    assert ("self",) in rows
    assert sent == [("sent",)]
