"""The 1:1 (targeted) supervision record, end to end through the real app (HTTP → router → store → outbox →
local Microsoft 365), on SQLite and PostgreSQL.

The record is kept by the supervisor and shared with the supervisee only (seed 001 §3.2, Appendix 2)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging

from docx import Document
from sqlalchemy import select, update

from bot.journeys import one_to_one_delivery as delivery
from bot.store.models_outbox import OutboxRow
from bot.store.models_request import Pairing
from bot.store.models_targeted import DELIVERED, TargetedAction, TargetedRecord, TargetedRecordDraft
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
    said,
    submitted,
)
from tests.journeys.test_request_kit import errors_on, find_input, texts_of

# ---- who may record -----------------------------------------------------------------------------------------


async def test_only_the_allocated_supervisor_can_open_and_submit(kit, pairs, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING, logger="bot.journeys")
    # Someone supervised (not a supervisor) and a DSL lead with no supervisees are turned away.
    assert "allocated supervisor" in await said(kit, SEE, "note")
    assert "allocated supervisor" in await said(kit, "amara.okafor", "1to1")
    # Priya's own start card offers only her supervisee.
    start = await kit.say(SUP, "note")
    assert [c["value"] for c in find_input(start, "supervisee")["choices"]] == [SEE]
    # A tampered supervisee id (Marcus's supervisee) is refused at open, save and submit.
    key = "a" * 32
    for verb, data in (
        ("targeted.open", {"supervisee": "grace.mensah"}),
        ("targeted.save", {"draft_key": key, "supervisee": "grace.mensah", **answers()}),
        ("targeted.submit", {"draft_key": key, "supervisee": "grace.mensah", **answers()}),
    ):
        card = await kit.click(SUP, verb, data)
        assert "only write up 1:1 supervision for people currently allocated to you" in texts_of(card)
    # Marcus can't submit a record for Tom either, even with a well-formed card.
    card = await kit.click("marcus.fenwick", "targeted.submit", {"draft_key": key, "supervisee": SEE, **answers()})
    assert "allocated to you" in texts_of(card)
    # An action owner who is neither of the two is tampering.
    card = await kit.click(
        SUP, "targeted.submit", {"draft_key": key, "supervisee": SEE, **answers(act_0_owner="isla.brennan")}
    )
    assert "can't do that with this card" in texts_of(card)
    assert await count(kit.db, TargetedRecord) == 0 and await count(kit.db, TargetedRecordDraft) == 0
    assert not await kit.outbox("files.personal_share")
    # Refusals are logged without any of the card's text.
    assert "refused 1:1 record" in caplog.text and NARRATIVE not in caplog.text


async def test_an_ended_pairing_can_no_longer_be_recorded(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    async with kit.db.session() as s:
        (await s.get(Pairing, pairs)).ended_at = kit.clock.now
    out = await kit.press(SUP, card, "targeted.submit", answers())
    assert "allocated to you" in texts_of(out)
    assert await count(kit.db, TargetedRecord) == 0


# ---- the card, drafts and validation -----------------------------------------------------------------------------


async def test_record_card_defaults_to_the_latest_booked_meeting_and_carries_the_seed_fields(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    assert find_input(card, "sess_date")["value"] == "2026-11-19"
    assert find_input(card, "sess_date")["max"] == "2026-11-23"
    flat = texts_of(card)
    for label in (
        "Actions from last time",
        "What we talked about (required)",
        "Wellbeing and workload",
        "Reflections and learning",
        "Date of the next session",
        "Agreed actions",
    ):
        assert label in flat
    assert "never a pupil's full name" in flat and "safeguarding system" in flat
    owners = [c["value"] for c in find_input(card, "act_0_owner")["choices"]]
    assert owners == [SUP, SEE]


async def test_validation_errors_are_shown_beside_fields_and_the_draft_is_kept(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    saved = await kit.press(SUP, card, "targeted.save", {"f_wellbeing": "Tired but coping.", "sess_date": "2026-11-19"})
    assert "Draft saved" in texts_of(saved)
    assert await count(kit.db, TargetedRecordDraft) == 1
    bad = await kit.press(
        SUP,
        saved,
        "targeted.submit",
        {"f_wellbeing": "Tired but coping.", "sess_date": "2026-11-30", "act_0_text": "Something", "act_0_owner": SEE},
    )
    errs = errors_on(bad)
    assert any("nothing you typed has been lost" in e for e in errs)
    assert "Please fill this in." in errs  # what we talked about
    assert "Please confirm this before submitting." in errs  # confidentiality
    assert any("in the future" in e for e in errs)  # session date
    assert "Give a due date." in errs  # action without a date
    assert find_input(bad, "f_wellbeing")["value"] == "Tired but coping."
    assert await count(kit.db, TargetedRecordDraft) == 1 and await count(kit.db, TargetedRecord) == 0
    # Coming back later resumes the draft.
    again = await open_card(kit)
    assert find_input(again, "f_wellbeing")["value"] == "Tired but coping."
    assert "Your draft is back" in texts_of(again)


async def test_double_submit_makes_one_record_and_one_share(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    first = await kit.press(SUP, card, "targeted.submit", answers())
    second = await kit.press(SUP, card, "targeted.submit", answers())
    assert "Record submitted" in texts_of(first) and "already submitted" in texts_of(second)
    assert await count(kit.db, TargetedRecord) == 1
    assert len(await kit.outbox("files.personal_share")) == 1
    # Someone else replaying Priya's submit key is refused.
    out = await kit.press("marcus.fenwick", card, "targeted.submit", answers())
    assert "can't do that" in texts_of(out)


# ---- where the record goes, and what stays --------------------------------------------------------------------


async def test_submit_enqueues_one_personal_share_owned_by_the_supervisor_for_the_supervisee(kit, pairs):  # noqa: F811
    await submitted(kit)
    [row] = await kit.outbox("files.personal_share")
    p = row.payload
    assert p["owner_id"] == SUP and p["share_with_id"] == SEE and p["role"] == "read"
    assert p["name"] == "2026-11-19 Supervision record - Tom Hollis.docx"
    doc = Document(io.BytesIO(base64.b64decode(p["content_b64"])))
    body = "\n".join(x.text for x in doc.paragraphs)
    assert NARRATIVE in body and REFLECTION in body and "1:1 supervision record" in body
    # Nothing to any channel, nothing to the DSL team; the supervisee's notice is chained after the share.
    assert not await kit.outbox("teams.channel") and not await kit.outbox("files.channel_upload")
    notify = await kit.outbox("teams.notify")
    assert [n.payload["staff_id"] for n in notify] == [SEE]
    assert notify[0].chain == row.chain
    assert NARRATIVE not in json.dumps(notify[0].payload)
    async with kit.db.session() as s:
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
        acts = (await s.execute(select(TargetedAction).order_by(TargetedAction.id))).scalars().all()
    assert (rec.supervisor_id, rec.supervisee_id, rec.session_date) == (SUP, SEE, dt.date(2026, 11, 19))
    assert rec.meeting_id is not None and rec.next_session_on == dt.date(2026, 12, 3)
    assert [(a.owner_id, a.due_on, a.text) for a in acts] == [
        (SEE, dt.date(2026, 12, 1), "Ask for a lunchtime swap"),
        (SUP, dt.date(2026, 11, 27), "Find the wellbeing leaflet"),
    ]


async def test_after_delivery_no_narrative_stays_and_the_supervisee_is_told(kit, pairs, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    await submitted(kit)
    await kit.deliver()
    [row] = await kit.outbox("files.personal_share")
    assert row.status == "delivered" and "content_b64" not in row.payload
    stored = await everything_stored(kit.db)
    for secret in (NARRATIVE, REFLECTION, "Tired but coping", "First session, nothing to review"):
        assert secret not in stored
        assert secret not in caplog.text
    # The file is in Priya's OneDrive, shared with Tom alone.
    [share] = await kit.view.shares()
    assert share.owner == SUP and share.path.startswith("Supervision records/") and share.path.endswith(".docx")
    assert share.recipients == (kit.school.staff[SEE].email.lower(),)
    assert share.content.startswith(b"PK")  # a real .docx
    # Tom is told, with no content; opening it shows the link (the app records the URL, metadata only).
    told = kit.journey_cards(SEE)
    assert any("A supervision record was shared with you" in texts_of(c) for c in told)
    assert all(NARRATIVE not in texts_of(c) for c in told)
    card = await kit.open_latest(SEE)
    urls = [a["url"] for a in card.get("actions", []) if a["type"] == "Action.OpenUrl"]
    assert urls and urls[0].startswith("file:" if kit.view.kind == "local" else "https://")
    async with kit.db.session() as s:
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
    assert rec.status == DELIVERED and rec.web_url == urls[0]
    # Nobody else sees the link; the DSL team got nothing.
    out = await kit.click("isla.brennan", "targeted.file", {"record_id": rec.id})
    assert "can't do that" in texts_of(out)
    assert kit.journey_cards("amara.okafor") == []
    # The supervisor's start card lists it as shared, with the link.
    start = await kit.say(SUP, "note")
    assert "Tom Hollis · Thu 19 Nov · shared" in texts_of(start) and urls[0] in texts_of(start)


async def test_a_failed_share_holds_back_the_notice_and_tells_the_supervisor(kit, pairs):  # noqa: F811
    await submitted(kit)
    async with kit.db.session() as s:
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
        await delivery.on_share_failed(s, f"targeted:file:{rec.id}", now=kit.clock.now)
        await delivery.on_share_failed(s, "group_record:file:1", now=kit.clock.now)  # not ours: ignored
    notify = await kit.outbox("teams.notify")
    assert [n.payload["staff_id"] for n in notify] == [SUP]
    assert "not shared yet" in texts_of(notify[0].payload["card"])


async def test_a_record_already_seen_as_failed_still_holds_back_the_notice(kit, pairs):  # noqa: F811
    """The start card can read the dead outbox row before the dead-letter hook has run: the hook still takes back
    the supervisee's notice and tells the supervisor."""
    await submitted(kit)
    async with kit.db.session() as s:
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
        await s.execute(update(OutboxRow).where(OutboxRow.key == f"targeted:file:{rec.id}").values(status="dead"))
    assert "Tom Hollis · Thu 19 Nov · not shared yet" in texts_of(await kit.say(SUP, "note"))
    async with kit.db.session() as s:
        assert (await s.get(TargetedRecord, rec.id)).status == "failed"
        await delivery.on_share_failed(s, f"targeted:file:{rec.id}", now=kit.clock.now)
    notify = await kit.outbox("teams.notify")
    assert [n.payload["staff_id"] for n in notify] == [SUP]


async def test_a_share_that_gives_up_in_the_app_tells_the_supervisor_not_the_supervisee(kit, pairs):  # noqa: F811
    """The same, through the app's own outbox worker and its dead-letter wiring (bot/app.py)."""
    from bot.outbox import PermanentFailure

    async def refused(payload):
        raise PermanentFailure("OneDrive refused the upload (403)")

    kit.worker.handlers["files.personal_share"] = refused
    await submitted(kit)
    await kit.worker.drain()
    async with kit.db.session() as s:
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
    assert rec.status == "failed"
    assert [c for c in kit.journey_cards(SEE) if "shared" in texts_of(c)] == []  # no "shared with you"
    assert any("not shared yet" in texts_of(c) for c in kit.sent_to(SUP))
    # The DSL team hears that a 1:1 record file failed, with its key: no names, no content.
    notices = [c for c in kit.sent_to("amara.okafor") if "could not be delivered" in texts_of(c)]
    assert len(notices) == 1 and "a 1:1 record file" in texts_of(notices[0])
    assert "Tom Hollis" not in texts_of(notices[0]) and NARRATIVE not in texts_of(notices[0])


async def test_help_lists_the_new_commands_by_role(kit, pairs):  # noqa: F811
    sup = texts_of(await kit.say(SUP, "help"))
    see = texts_of(await kit.say(SEE, "help"))
    assert "Write up 1:1 supervision" in sup and "Supervision agreement" in sup
    assert "Write up 1:1 supervision" not in see and "Supervision agreement" in see and "My 1:1 actions" in see
