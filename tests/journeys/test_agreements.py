"""The supervision agreement: confirmed by both, reviewed yearly (seed 001 Appendix 1, seed 003 "signed by both"),
through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document
from sqlalchemy import select

from bot.journeys import agreements as journey
from bot.store.models_request import Pairing
from bot.store.models_targeted import AGREED, SupervisionAgreement
from tests.journeys.one_to_one_kit import SEE, SUP, count, kit, pairs  # noqa: F401
from tests.journeys.test_request_kit import errors_on, find_input, texts_of

# ---- supervision agreements --------------------------------------------------------------------------------------

AGREE = {
    "ag_date": "2026-11-19",
    "ag_frequency": "half_termly",
    "ag_minutes": "60",
    "ag_confidential": "true",
    "ag_records": "true",
    "ag_cancel": "true",
    "ag_difficulty": "true",
    "ag_venue": "The small meeting room by the library",
    "ag_cancelling": "We tell each other as early as we can and agree another date there and then.",
    "ag_between": "A quick word at the end of the day, or a Teams message",
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


# ---- the agreement as the policies write it (seed 001 App. 1, seed 002 Contract, seed 003 App. 1) ---------------


async def test_the_contract_terms_are_checked_and_kept_on_the_card_when_something_is_wrong(kit, pairs):  # noqa: F811
    form = await kit.press(SUP, await kit.say(SUP, "agreement"), "agreement.form")
    for term in ("ag_venue", "ag_cancelling", "ag_between", "ag_review", "ag_supervisee_brings"):
        assert find_input(form, term), term
    typed = {
        **AGREE,
        "ag_venue": "",
        "ag_frequency": "",
        "ag_supervisee_brings": "Likes to think out loud; first time in supervision.",
        "ag_review": "2028-01-01",
    }
    bad = await kit.press(SUP, form, "agreement.submit", typed)
    problems = " ".join(errors_on(bad))
    assert "Write down what you agreed about this." in problems
    assert "Choose how often you'll meet." in problems
    assert "at least once a year" in problems
    assert "nothing you typed has been lost" in texts_of(bad)
    # Everything typed is back on the card; nothing was written.
    assert find_input(bad, "ag_supervisee_brings")["value"] == typed["ag_supervisee_brings"]
    assert find_input(bad, "ag_between")["value"] == AGREE["ag_between"]
    assert await count(kit.db, SupervisionAgreement) == 0 and not await kit.outbox("files.personal_share")
    too_long = await kit.press(SUP, bad, "agreement.submit", {**AGREE, "ag_venue": "x" * 201})
    assert "Keep this to 200 characters" in " ".join(errors_on(too_long))


async def test_the_terms_go_into_the_document_in_the_supervisors_onedrive_and_only_there(kit, pairs):  # noqa: F811
    from tests.journeys.one_to_one_kit import everything_stored

    brings = "Likes to think out loud; first time in supervision."
    form = await kit.press(SEE, await kit.say(SEE, "agreement"), "agreement.form")  # the supervisee records it
    out = await kit.press(
        SEE, form, "agreement.submit", {**AGREE, "ag_supervisee_brings": brings, "ag_review": "2027-07-01"}
    )
    assert "waiting for Priya Raman to confirm" in texts_of(out)
    await kit.deliver()
    shares = [sh for sh in await kit.view.shares() if "Supervision agreement" in sh.path]
    assert len(shares) == 1
    doc = shares[0]
    assert doc.owner == SUP  # the supervisor holds it, whoever recorded it
    assert doc.recipients == (kit.school.staff.get(SEE).email.lower(),)
    text = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    for expected in (AGREE["ag_venue"], AGREE["ag_cancelling"], AGREE["ag_between"], brings, "its limits"):
        assert expected in text, expected
    tables = " ".join(c.text for t in Document(io.BytesIO(doc.content)).tables for r in t.rows for c in r.cells)
    assert "Once a half term" in tables and "60 minutes" in tables and "Thursday 1 July 2027" in tables
    # The database keeps the arrangements and dates, never the typed terms (the outbox copy is scrubbed).
    async with kit.db.session() as s:
        row = (await s.execute(select(SupervisionAgreement))).scalar_one()
    assert (row.frequency, row.minutes, row.review_due) == ("half_termly", 60, dt.date(2027, 7, 1))
    assert row.file_status == "delivered" and row.web_url
    stored = await everything_stored(kit.db)
    for typed in (AGREE["ag_venue"], AGREE["ag_between"], brings):
        assert typed not in stored
    # Once confirmed, both see a link to the document on their agreements card.
    await kit.click(SUP, "agreement.confirm", {"agreement_id": row.id})
    assert row.web_url in str(await kit.say(SEE, "agreement"))
