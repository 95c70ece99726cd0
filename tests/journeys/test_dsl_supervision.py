"""The DSL team's own supervision (seed 002 Appendix 2, seed 003 Appendix 1–2): written on the DSL supervision
record, and counted in the compliance picture once it was held and recorded — never just because it was booked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import SERVICES
from bot.reminders import facts
from bot.store.models_targeted import TargetedRecord
from tests.journeys.one_to_one_kit import _meeting, _pair, kit, open_card  # noqa: F401
from tests.journeys.test_request_kit import find_input, texts_of

SUP, DSL = "priya.raman", "amara.okafor"


def _dsl_answers() -> dict:
    return {
        "sess_date": "2026-11-19",
        "f_since_last": "No absence; did the refresher course.",
        "f_cases_discussed": "Two cases by theme; one needs escalating to early help.",
        "f_wellbeing": "Heavy term.",
        "f_confidentiality": "true",
        "act_0_text": "Book the team's training day",
        "act_0_owner": DSL,
        "act_0_due": "2026-12-10",
    }


async def _dsl_status(kit, today: dt.date) -> str:  # noqa: F811
    services = kit.teams.app[SERVICES]
    ctx = facts.context_for(services, today)
    async with kit.db.session() as s:
        report = await facts.compliance_for(s, ctx, today, with_dsl=True)
    return next(d.status.value for d in report.dsl if d.staff_id == DSL)


async def test_the_dsl_is_supervised_on_the_dsl_record_and_counted_once_it_is_recorded(kit):  # noqa: F811
    pid = await _pair(kit.db, SUP, DSL)
    await _meeting(kit.db, pid, dt.datetime(2026, 11, 19, 14, tzinfo=dt.timezone.utc), supervisee=DSL)
    await kit.install(SUP, DSL)
    # Booked and held, but not written up: still due.
    assert await _dsl_status(kit, dt.date(2026, 11, 23)) == "outstanding"

    card = await open_card(kit, SUP, DSL)
    flat = texts_of(card)
    for label in (
        "sickness absence",
        "Review of the actions agreed last time",
        "one chosen by the supervisor and one by you",
        "Quality of safeguarding practice",
        "Developing trends",
        "Has supervision met your needs today?",
        "Points for development or focus",
    ):
        assert label in flat, label
    assert "What we talked about" not in flat  # the ordinary 1:1 record's question
    done = await kit.press(SUP, card, "targeted.submit", _dsl_answers())
    assert "Record submitted" in texts_of(done)
    async with kit.db.session() as s:
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
    assert (rec.supervisee_id, rec.template_id, rec.session_date) == (DSL, "dsl_supervision", dt.date(2026, 11, 19))
    assert await _dsl_status(kit, dt.date(2026, 11, 23)) == "compliant"


async def test_an_ordinary_supervisee_keeps_the_ordinary_record(kit):  # noqa: F811
    await _pair(kit.db, SUP, "tom.hollis")
    await kit.install(SUP, "tom.hollis")
    card = await open_card(kit, SUP, "tom.hollis")
    assert "What we talked about" in texts_of(card) and "Quality of safeguarding practice" not in texts_of(card)
    assert find_input(card, "f_discussion")
