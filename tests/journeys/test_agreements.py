"""The supervision agreement: confirmed by both, reviewed yearly (seed 001 Appendix 1, seed 003 "signed by both"),
through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.journeys import agreements as journey
from bot.store.models_request import Pairing
from bot.store.models_targeted import AGREED, SupervisionAgreement
from tests.journeys.one_to_one_kit import SEE, SUP, count, kit, pairs  # noqa: F401
from tests.journeys.test_request_kit import errors_on, texts_of

# ---- supervision agreements --------------------------------------------------------------------------------------

AGREE = {
    "ag_date": "2026-11-19",
    "ag_frequency": "half_termly",
    "ag_minutes": "60",
    "ag_confidential": "true",
    "ag_records": "true",
    "ag_cancel": "true",
    "ag_difficulty": "true",
}


async def test_agreement_needs_both_confirmations_and_is_due_for_review_a_year_later(kit, pairs):  # noqa: F811
    status = await kit.say(SUP, "agreement")
    assert "No agreement recorded yet" in texts_of(status)
    form = await kit.press(SUP, status, "agreement.form")
    bad = await kit.press(SUP, form, "agreement.submit", {**AGREE, "ag_cancel": "false"})
    assert "Tick this once you have both agreed it." in errors_on(bad)
    assert await count(kit.db, SupervisionAgreement) == 0
    out = await kit.press(SUP, bad, "agreement.submit", AGREE)
    assert "waiting for Tom Hollis to confirm" in texts_of(out)
    again = await kit.press(SUP, bad, "agreement.submit", AGREE)  # a double click records it once
    assert "already recorded" in texts_of(again)
    async with kit.db.session() as s:
        row = (await s.execute(select(SupervisionAgreement))).scalar_one()
    assert row.status != AGREED and row.supervisor_confirmed_at is not None and row.supervisee_confirmed_at is None
    # Priya clicking again doesn't count as Tom's confirmation; a third person is refused.
    mine = await kit.click(SUP, "agreement.confirm", {"agreement_id": row.id})
    assert "waiting for Tom Hollis" in texts_of(mine)
    other = await kit.click("isla.brennan", "agreement.confirm", {"agreement_id": row.id})
    assert "can't do that" in texts_of(other)
    # Tom gets a card asking him to confirm; one click does it.
    await kit.deliver()
    ask = [c for c in kit.journey_cards(SEE) if "Please confirm your supervision agreement" in texts_of(c)]
    assert ask
    done = await kit.press(SEE, ask[-1], "agreement.confirm")
    assert "Confirmed by both of you. Review due by Fri 19 Nov 2027." in texts_of(done)
    async with kit.db.session() as s:
        row = (await s.execute(select(SupervisionAgreement))).scalar_one()
    assert row.status == AGREED and row.review_due == dt.date(2027, 11, 19)
    assert row.frequency == "half_termly" and row.minutes == 60
    both = texts_of(await kit.say(SUP, "agreement"))
    assert "confirmed by both" in both and "Review due by Fri 19 Nov 2027" in both
    # Priya is told Tom confirmed.
    await kit.deliver()
    assert any("Supervision agreement confirmed" in texts_of(c) for c in kit.journey_cards(SUP))


async def test_an_overdue_agreement_review_shows_on_the_dsl_attendance_card(kit, pairs):  # noqa: F811
    async with kit.db.session() as s:
        s.add(
            SupervisionAgreement(
                nonce="b" * 32,
                pairing_id=pairs,
                supervisor_id=SUP,
                supervisee_id=SEE,
                agreed_on=dt.date(2025, 11, 2),
                review_due=dt.date(2026, 11, 2),
                status=AGREED,
                proposed_by=SUP,
                created_at=kit.clock.now - dt.timedelta(days=386),
                supervisor_confirmed_at=kit.clock.now,
                supervisee_confirmed_at=kit.clock.now,
            )
        )
    card = await kit.say("amara.okafor", "attendance")
    flat = texts_of(card)
    assert "agreements overdue for review** (1)" in flat
    assert "Tom Hollis with Priya Raman (due 2 Nov 2026)" in flat
    # The pair see it as overdue too; once the pairing ends it no longer counts.
    assert "Review overdue since Mon 2 Nov 2026" in texts_of(await kit.say(SEE, "agreement"))
    async with kit.db.session() as s:
        (await s.get(Pairing, pairs)).ended_at = kit.clock.now
    assert "overdue for review" not in texts_of(await kit.say("amara.okafor", "attendance"))


def test_add_year_handles_the_leap_day():
    assert journey.add_year(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)
    assert journey.add_year(dt.date(2026, 11, 19)) == dt.date(2027, 11, 19)
