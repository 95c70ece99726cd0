"""A term of 1:1 sessions booked in one go (seed 003 Appendix 1 §1–2: dates fixed a term ahead, at least six
weekly): every N school days over holidays and closures, both calendars, each session moved on its own later."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.domain.calendar import TermCalendar
from bot.domain.series import series_dates, term_end
from bot.store.models_request import Meeting
from tests.journeys.one_to_one_kit import _pair, kit  # noqa: F401
from tests.journeys.test_request_kit import errors_on, find_action, find_input, texts_of

UTC = dt.timezone.utc
SUP, SEE = "priya.raman", "tom.hollis"
FORM = {"sr_supervisee": SEE, "sr_first": "2026-11-26", "sr_time": "15:00", "sr_every": "10", "sr_until": "2027-02-12"}


# ---- the pure rule ----------------------------------------------------------------------------------------------
def test_dates_step_over_holidays_and_closures(school):
    cal = TermCalendar.from_school(school)
    days = series_dates(cal, dt.date(2026, 11, 26), 10, dt.date(2027, 2, 12))
    # Thu 26 Nov, Thu 10 Dec; the Christmas holiday and the INSET day on 4 Jan don't count; then every 10 school days.
    assert days[:3] == [dt.date(2026, 11, 26), dt.date(2026, 12, 10), dt.date(2027, 1, 8)]
    assert all(cal.is_school_day(d) for d in days) and days[-1] <= dt.date(2027, 2, 12)
    assert all(cal.school_days_between(a, b) == 10 for a, b in zip(days, days[1:]))
    assert series_dates(cal, dt.date(2026, 11, 28), 5, dt.date(2026, 12, 18))[0] == dt.date(2026, 11, 30)  # Sat → Mon
    assert len(series_dates(cal, dt.date(2026, 9, 2), 5, dt.date(2027, 7, 21))) == 16  # capped


def test_the_coming_term_is_both_its_half_terms(school):
    cal = TermCalendar.from_school(school)
    assert term_end(cal, dt.date(2026, 11, 23)).name == "Autumn 2"
    assert term_end(cal, dt.date(2026, 9, 10)).name == "Autumn 2"
    assert term_end(cal, dt.date(2026, 12, 25)).name == "Spring 2"  # in the holiday: the next term


# ---- the journey ------------------------------------------------------------------------------------------------
async def _ready(kit):  # noqa: F811
    pid = await _pair(kit.db, SUP, SEE)
    await kit.install(SUP, SEE, "grace.mensah")
    return pid


async def test_a_supervisor_books_a_term_and_each_session_moves_on_its_own(kit):  # noqa: F811
    await _ready(kit)
    form = await kit.say(SUP, "series")
    assert find_input(form, "sr_until")["value"] == "2026-12-18"  # the end of the coming term (Autumn 2)
    preview = await kit.press(SUP, form, "series.preview", FORM)
    flat = texts_of(preview)
    assert "Thu 26 Nov 2026 15:00–16:00" in flat and "Fri 8 Jan 2027 15:00–16:00" in flat
    async with kit.db.session() as s:
        assert (await s.execute(select(Meeting))).scalars().all() == []  # nothing booked before "Book"
    offered = int(find_action(preview, "series.book")["title"].split()[2])  # "Book these N sessions"
    done = await kit.press(SUP, preview, "series.book")
    again = await kit.press(SUP, preview, "series.book")  # a double click
    assert "sessions booked" in texts_of(done) and "Already booked" in texts_of(again)
    async with kit.db.session() as s:
        ms = (await s.execute(select(Meeting).order_by(Meeting.starts_at))).scalars().all()
    assert [m.local_date for m in ms][:3] == [dt.date(2026, 11, 26), dt.date(2026, 12, 10), dt.date(2027, 1, 8)]
    assert {(m.supervisor_id, m.supervisee_id, m.status, m.kind) for m in ms} == {(SUP, SEE, "booked", "one_to_one")}
    assert len(ms) == offered == 5  # 26 Nov, 10 Dec, 8 Jan, 22 Jan, 5 Feb (to the end of Spring 1)
    assert len(await kit.outbox("calendar.create")) == len(ms)
    await kit.deliver()
    assert sorted(e.start for e in await kit.events_for(SEE)) == [m.starts_at for m in ms]
    assert sorted(e.start for e in await kit.events_for(SUP)) == [m.starts_at for m in ms]
    told = [c for c in kit.sent_to(SEE) if "booked your supervision for the term" in texts_of(c)]
    assert len(told) == 1 and find_action(told[0], "meeting.view")["data"] == {"meeting_id": ms[0].id}
    assert not [c for c in kit.sent_to(SEE) if "Supervision booked" in texts_of(c)]  # one card, not one per date
    # Each session's own card carries its join link.
    own = await kit.click(SEE, "meeting.view", {"meeting_id": ms[0].id})
    assert [a["url"] for a in own["actions"] if a.get("type") == "Action.OpenUrl"][0].startswith("https://")
    # Rearrange the second one only: the others stay.
    offer = await kit.click(SEE, "meeting.rearrange", {"meeting_id": ms[1].id})
    slot = [c["value"] for c in find_input(offer, "slot")["choices"]][0]
    await kit.press(SEE, offer, "schedule.book", {"slot": slot})
    async with kit.db.session() as s:
        after = {m.id: m.status for m in (await s.execute(select(Meeting))).scalars()}
    assert after[ms[1].id] == "rearranged" and all(after[m.id] == "booked" for m in ms if m.id != ms[1].id)


async def test_a_date_busy_in_a_calendar_is_left_out_and_named(kit):  # noqa: F811
    from bot.domain.slots import Busy

    await _ready(kit)
    clash = dt.datetime(2026, 12, 10, 15, tzinfo=UTC)

    async def lookup(ids, start, end):
        return {
            i: ([Busy(clash, clash + dt.timedelta(hours=1))] if i == SEE and start <= clash < end else []) for i in ids
        }

    kit.services.busy_lookup = lookup
    form = await kit.say(SUP, "series")
    preview = await kit.press(SUP, form, "series.preview", FORM)
    assert "Not booked" in texts_of(preview) and "Thu 10 Dec 2026 15:00–16:00" in texts_of(preview)
    await kit.press(SUP, preview, "series.book")
    async with kit.db.session() as s:
        days = [m.local_date for m in (await s.execute(select(Meeting))).scalars()]
    assert dt.date(2026, 12, 10) not in days and dt.date(2026, 11, 26) in days


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"sr_first": "2026-11-28"}, "sr_first", "isn't a school day (Saturday)"),
        ({"sr_first": "2026-11-20"}, "sr_first", "That date has passed."),
        ({"sr_time": "16:00"}, "sr_time", "must fit in the school day"),
        ({"sr_every": "7"}, "sr_every", "Choose how often."),
        ({"sr_until": "2026-12-01"}, "sr_until", "Choose until when."),
        ({"sr_supervisee": "grace.mensah"}, "sr_supervisee", "Choose someone you supervise."),
    ],
)
async def test_mistakes_are_shown_beside_the_field_and_nothing_is_booked(kit, change, field, message):  # noqa: F811
    await _ready(kit)
    form = await kit.say(SUP, "series")
    again = await kit.press(SUP, form, "series.preview", FORM | change)
    assert any(message in e for e in errors_on(again)), errors_on(again)
    assert find_input(again, "sr_first")["value"] == (FORM | change)["sr_first"]
    assert await kit.outbox() == [] or all(r.kind != "calendar.create" for r in await kit.outbox())


async def test_only_the_supervisor_books_the_series(kit, caplog):  # noqa: F811
    await _ready(kit)
    form = await kit.say(SUP, "series")
    preview = await kit.press(SUP, form, "series.preview", FORM)
    nonce = find_action(preview, "series.book")["data"]["offer"]
    for who in (SEE, "grace.mensah", "amara.okafor"):
        out = await kit.click(who, "series.book", {"offer": nonce})
        assert "worked out for someone else" in texts_of(out)
    # Someone with nobody allocated cannot preview a series for another supervisor's supervisee.
    out = await kit.click("grace.mensah", "series.preview", FORM)
    assert "Only a supervisor" in texts_of(out)
    async with kit.db.session() as s:
        assert (await s.execute(select(Meeting))).scalars().all() == []
