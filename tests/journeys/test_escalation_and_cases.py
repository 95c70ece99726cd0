"""Confidentiality escalation (seed 004 §6) and the case summary (seed 003 App. 4) on the 1:1 and group record
cards, end to end through the real app on both Microsoft 365 backends (issue 11 parts 2 and 3).

The DSL team hears *that* an escalation was raised, by whom, when and in which category — never anything typed on
the record: not in their notice, not in any table of the database, not in the logs."""

from __future__ import annotations

import io
import json
import logging

from docx import Document
from sqlalchemy import select

from bot.records import case_summary
from bot.store.models_audit import AuditEvent
from bot.store.models_signoff import Escalation
from bot.store.models_targeted import TargetedRecord, TargetedRecordDraft
from tests.journeys.one_to_one_kit import (  # noqa: F401
    NARRATIVE,
    REFLECTION,
    SEE,
    SUP,
    answers,
    count,
    everything_stored,
    kit,
    open_card,
    pairs,
)
from tests.journeys.test_request_kit import errors_on, find_input, texts_of

DSL_TEAM = ["amara.okafor", "daniel.whitcombe", "helen.ashdown", "marcus.fenwick"]
CASE = {
    "cs_0_ref": "J.S.",
    "cs_0_needs": "Worried about attendance since the move",
    "cs_0_action": "Early help meeting to be booked",
    "cs_0_progress": "Attendance up to four days a week",
    "cs_0_seen": "true",
    "cs_1_ref": "CP-1043",
    "cs_1_needs": "Needs a quiet space at lunch",
    "cs_1_action": "Lunch club place offered",
}
FREE_TEXT = [NARRATIVE, REFLECTION, "Tired but coping", "First session, nothing to review"]
FREE_TEXT += [v for k, v in CASE.items() if not k.endswith(("_ref", "_seen"))] + ["J.S.", "CP-1043"]
#: The agreed actions' short titles are kept by design (both people's 1:1 action lists), never anywhere else.
ACTION_TEXT = ["Ask for a lunchtime swap", "Find the wellbeing leaflet"]


def _quiet_drivers(caplog) -> None:
    # The bot's own loggers at their most verbose; the database drivers stay at WARNING whatever LOG_LEVEL says.
    for name in ("bot", "graph"):
        caplog.set_level(logging.DEBUG, logger=name)


async def test_an_escalation_tells_the_dsl_team_that_it_happened_and_nothing_of_what_was_said(kit, pairs, caplog):  # noqa: F811
    _quiet_drivers(caplog)
    card = await open_card(kit)
    flat = texts_of(card)
    assert "Does something discussed have to be passed on?" in flat and "Cases discussed (optional)" in flat
    done = await kit.press(SUP, card, "targeted.submit", answers(esc_category="child_protection", **CASE))
    shown = texts_of(done)
    # Priya is prompted to log the concern (and update the case files) in the school's safeguarding system.
    system = kit.school.settings.safeguarding_system.name
    assert "You raised an escalation" in shown and f"Log the concern in {system} now" in shown
    assert f"update each pupil's file in {system}" in shown
    await kit.deliver()
    async with kit.db.session() as s:
        [esc] = (await s.execute(select(Escalation))).scalars().all()
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
        audited = (await s.execute(select(AuditEvent).where(AuditEvent.object_kind == "escalation"))).scalars().all()
    assert (esc.record_kind, esc.record_id, esc.category, esc.raised_by) == (
        "targeted",
        rec.id,
        "child_protection",
        SUP,
    )
    assert [(a.actor_id, a.action, a.object_id) for a in audited] == [(SUP, "created", str(esc.id))]
    # Every member of the DSL team is told: who, when, the category. Never the supervisee, never the content.
    rows = [r for r in await kit.outbox("teams.notify") if r.key.startswith("escalation:")]
    assert sorted(r.payload["staff_id"] for r in rows) == DSL_TEAM
    for dsl in ("amara.okafor", "marcus.fenwick"):  # the two with a chat with the bot in this test
        notices = [c for c in kit.journey_cards(dsl) if "A confidentiality escalation was raised" in texts_of(c)]
        assert len(notices) == 1, dsl
    for notice in [r.payload["card"] for r in rows]:
        notices = [notice]
        text = texts_of(notices[0])
        assert "Priya Raman" in text and "A child protection" in text and "23 Nov 2026" in text
        assert "Tom Hollis" not in text and "tom.hollis" not in json.dumps(notices[0])
        for secret in FREE_TEXT + ACTION_TEXT:
            assert secret not in json.dumps(notices[0]), secret
    # Nothing typed on the record is in any table after the submit and delivery, nor in the logs.
    stored = await everything_stored(kit.db)
    for secret in FREE_TEXT:
        assert secret not in stored, secret
    for secret in FREE_TEXT + ACTION_TEXT:
        assert secret not in caplog.text, secret
    # The document (only in Priya's OneDrive) has the case summary and says an escalation was raised.
    [share] = await kit.view.shares()
    doc = Document(io.BytesIO(share.content))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Raised with the DSL team: A child protection" in body
    [cases] = [t for t in doc.tables if t.rows[0].cells[0].text.startswith("Pupil")]
    assert [[c.text for c in r.cells] for r in cases.rows[1:]] == [
        ["J.S.", CASE["cs_0_needs"], CASE["cs_0_action"], CASE["cs_0_progress"], "Yes"],
        ["CP-1043", CASE["cs_1_needs"], CASE["cs_1_action"], "", "No"],
    ]


async def test_a_second_version_does_not_raise_the_same_escalation_twice(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    await kit.press(SUP, card, "targeted.submit", answers(esc_category="harm"))
    await kit.deliver()
    [rec] = [r for r in await _records(kit)]
    amend = await kit.click(SUP, "targeted.amend", {"record_id": rec.id})
    assert "An escalation was raised with this record" in texts_of(amend)
    assert "esc_category" not in json.dumps(amend)
    out = await kit.press(SUP, amend, "targeted.amend_submit", answers(amend_note="Dates.", esc_category="illegal"))
    assert "Version 2 saved" in texts_of(out) and "You raised an escalation" not in texts_of(out)
    await kit.deliver()
    assert await count(kit.db, Escalation) == 1
    assert len([c for c in kit.journey_cards("amara.okafor") if "escalation was raised" in texts_of(c)]) == 1


async def _records(k):
    async with k.db.session() as s:
        return list((await s.execute(select(TargetedRecord).order_by(TargetedRecord.id))).scalars())


async def test_an_escalation_category_the_card_never_offered_is_refused(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    out = await kit.press(SUP, card, "targeted.submit", answers(esc_category="gossip"))
    assert "can't do that" in texts_of(out)
    assert await count(kit.db, TargetedRecord) == 0 and await count(kit.db, Escalation) == 0
    assert not await kit.outbox("teams.notify")


async def test_a_pupils_full_name_in_the_case_summary_is_refused_and_nothing_is_lost(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    saved = await kit.press(SUP, card, "targeted.save", answers(cs_0_ref="J.S.", cs_0_needs="Needs"))
    assert "Draft saved" in texts_of(saved)
    for name in ("Jane Smith", "jane smith", "Jane", "Smith-Jones J"):
        bad = await kit.press(SUP, saved, "targeted.submit", answers(cs_0_ref=name, cs_0_needs="Needs a quiet space"))
        assert case_summary.NAME_ERROR in errors_on(bad), name
        assert any("nothing you typed has been lost" in e for e in errors_on(bad))
        assert find_input(bad, "cs_0_needs")["value"] == "Needs a quiet space"
        assert find_input(bad, "f_discussion")["value"] == NARRATIVE
    # A row with needs but no reference is a clear error too.
    bad = await kit.press(SUP, saved, "targeted.submit", answers(cs_1_needs="Something"))
    assert any("initials or system id for this row" in e for e in errors_on(bad))
    assert await count(kit.db, TargetedRecord) == 0 and await count(kit.db, TargetedRecordDraft) == 1
    # The saved draft still has its case summary row.
    again = await open_card(kit)
    assert find_input(again, "cs_0_ref")["value"] == "J.S."


async def test_the_amend_card_reads_the_case_summary_back_from_the_document(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    await kit.press(SUP, card, "targeted.submit", answers(**CASE))
    await kit.deliver()
    [rec] = await _records(kit)
    amend = await kit.click(SUP, "targeted.amend", {"record_id": rec.id})
    for key, value in CASE.items():
        assert find_input(amend, key)["value"] == value, key
