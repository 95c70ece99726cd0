"""Validate and sign a 1:1 record (issue 11 part 1), end to end through the real app on both Microsoft 365 backends:
the supervisee confirms or asks for a change from the shared file's card, the supervisor amends into a new
version read back from the document, a version both confirmed is locked, and who signed is in the .docx.

Seed 003 App. 1 §5 ("signed by both parties"), seed 002 "Recording", seed 004 §5."""

from __future__ import annotations

import io
import logging

from docx import Document
from sqlalchemy import select

from bot.records import docx_writer
from bot.store.models_signoff import RecordChangeRequest, RecordSignature
from bot.store.models_targeted import TargetedAction, TargetedRecord
from tests.journeys.one_to_one_kit import (  # noqa: F401
    NARRATIVE,
    SEE,
    SUP,
    count,
    everything_stored,
    kit,
    pairs,
    submitted,
)
from tests.journeys.test_request_kit import errors_on, find_action, find_input, texts_of

COMMENT = "The second action was mine to do, not yours; and I said lunchtimes, not break times."


async def _records(db) -> list[TargetedRecord]:
    async with db.session() as s:
        return list((await s.execute(select(TargetedRecord).order_by(TargetedRecord.id))).scalars())


async def _file_of(k, name_part: str) -> bytes:
    shares = [x for x in await k.view.shares() if name_part in x.path]
    assert len(shares) == 1, [x.path for x in await k.view.shares()]
    return shares[0].content


async def _shared(k) -> TargetedRecord:
    await submitted(k)
    await k.deliver()
    [rec] = await _records(k.db)
    return rec


async def test_the_supervisee_confirms_and_the_record_is_signed_by_both_in_the_store_and_the_document(kit, pairs):  # noqa: F811
    rec = await _shared(kit)
    # Submitting was Priya's signature; the document says so, and waits for Tom.
    rows = docx_writer.read_signoff(await _file_of(kit, "Tom Hollis.docx"))
    assert [(r.role, r.name, bool(r.signed)) for r in rows] == [
        ("Supervisor", "Priya Raman", True),
        ("Supervisee", "Tom Hollis", False),
    ]
    # Tom opens the record from the notice: the link, and the two choices — never the content.
    card = await kit.open_latest(SEE)
    assert "Confirm it's accurate" in texts_of(card) and "Ask for a change" in texts_of(card)
    assert NARRATIVE not in texts_of(card)
    signed = await kit.press(SEE, card, "targeted.sign")
    assert "signed by both of you and locked" in texts_of(signed)
    assert "Confirm it's accurate" not in texts_of(signed)
    async with kit.db.session() as s:
        sigs = (await s.execute(select(RecordSignature).order_by(RecordSignature.id))).scalars().all()
    assert [(x.staff_id, x.role, x.version, x.record_id) for x in sigs] == [
        (SUP, "supervisor", 1, rec.id),
        (SEE, "supervisee", 1, rec.id),
    ]
    # A second click signs nothing twice.
    again = await kit.click(SEE, "targeted.sign", {"record_id": rec.id})
    assert "You confirmed it on" in texts_of(again)
    assert await count(kit.db, RecordSignature) == 2
    await kit.deliver()
    # The document in Priya's OneDrive now carries both signatures, in place (same file, still shared with Tom).
    content = await _file_of(kit, "Tom Hollis.docx")
    rows = docx_writer.read_signoff(content)
    assert [(r.role, bool(r.signed)) for r in rows] == [("Supervisor", True), ("Supervisee", True)]
    assert "confirmed by everyone above" in "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    # Priya hears who confirmed; her list shows it signed and offers a new version, not an edit.
    assert any("Tom Hollis confirmed the record is accurate" in texts_of(c) for c in kit.journey_cards(SUP))
    start = await kit.say(SUP, "note")
    assert "signed by both" in texts_of(start)
    assert find_action(start, "targeted.amend")["title"] == "New version"


async def test_only_the_supervisee_can_sign_as_supervisee(kit, pairs):  # noqa: F811
    rec = await _shared(kit)
    out = await kit.click(SUP, "targeted.sign", {"record_id": rec.id})
    assert "Only the supervisee can confirm" in texts_of(out)
    out = await kit.click(SUP, "targeted.change", {"record_id": rec.id, "change_note": "x"})
    assert "Only the supervisee can confirm" in texts_of(out)
    for who in ("marcus.fenwick", "amara.okafor"):
        out = await kit.click(who, "targeted.sign", {"record_id": rec.id})
        assert "can't do that" in texts_of(out)
    for bad in ({}, {"record_id": "x"}, {"record_id": 99999}):
        assert "can't do that" in texts_of(await kit.click(SEE, "targeted.sign", bad))
    assert await count(kit.db, RecordSignature) == 1  # Priya's own, from submitting
    assert await count(kit.db, RecordChangeRequest) == 0
    # And only the supervisor may amend.
    out = await kit.click(SEE, "targeted.amend", {"record_id": rec.id})
    assert "Only the supervisor who wrote" in texts_of(out)


async def test_a_change_request_reaches_the_supervisor_and_its_comment_is_not_kept(kit, pairs, caplog):  # noqa: F811
    # The bot's own loggers at their most verbose (the database drivers stay at WARNING whatever LOG_LEVEL says:
    # at DEBUG they would print every statement's parameters).
    for name in ("bot", "graph"):
        caplog.set_level(logging.DEBUG, logger=name)
    rec = await _shared(kit)
    card = await kit.open_latest(SEE)
    # An empty comment is a clear error on the card.
    empty = await kit.click(SEE, "targeted.change", {"record_id": rec.id, "change_note": "  "})
    assert "Say what should be corrected." in errors_on(empty)
    sent = await kit.press(SEE, card, "targeted.change", {"change_note": COMMENT})
    assert "Sent to Priya Raman" in texts_of(sent)
    await kit.deliver()
    [told] = [c for c in kit.journey_cards(SUP) if "A change was asked for" in texts_of(c)]
    assert COMMENT in texts_of(told)
    # Stored: that a change was asked, by whom and when — never the comment (its outbox copy is gone too).
    async with kit.db.session() as s:
        [req] = (await s.execute(select(RecordChangeRequest))).scalars().all()
    assert (req.record_id, req.requested_by, req.version) == (rec.id, SEE, 1)
    stored = await everything_stored(kit.db)
    assert COMMENT not in stored and "lunchtimes, not break times" not in stored
    assert COMMENT not in caplog.text
    # Priya's list says a change was asked.
    assert "change asked" in texts_of(await kit.say(SUP, "note"))
    # Tom's card shows it.
    assert "A change was asked for on" in texts_of(await kit.click(SEE, "targeted.file", {"record_id": rec.id}))


async def test_amending_makes_a_new_version_read_back_from_the_document_and_the_old_card_is_stale(kit, pairs):  # noqa: F811
    await _shared(kit)
    tom_card = await kit.open_latest(SEE)
    await kit.press(SEE, tom_card, "targeted.change", {"change_note": COMMENT})
    await kit.deliver()
    [told] = [c for c in kit.journey_cards(SUP) if "A change was asked for" in texts_of(c)]
    card = await kit.press(SUP, told, "targeted.amend")
    # Filled in from the .docx in Priya's OneDrive (the database holds no content) and the open actions.
    assert "version 2" in texts_of(card)
    assert find_input(card, "f_discussion")["value"] == NARRATIVE
    assert find_input(card, "act_0_text")["value"] == "Ask for a lunchtime swap"
    assert find_input(card, "sess_date")["value"] == "2026-11-19"
    # No "what changed": a clear error, and everything typed comes back.
    bad = await kit.press(
        SUP, card, "targeted.amend_submit", {"f_discussion": NARRATIVE + " Lunchtimes.", "amend_note": ""}
    )
    assert any("Say briefly what changed" in e for e in errors_on(bad))
    assert find_input(bad, "f_discussion")["value"] == NARRATIVE + " Lunchtimes."
    assert len(await _records(kit.db)) == 1
    inputs = {
        "sess_date": "2026-11-19",
        "f_discussion": NARRATIVE + " Lunchtimes.",
        "f_confidentiality": "true",
        "amend_note": "Corrected who owns the second action.",
        "act_0_text": "Ask for a lunchtime swap",
        "act_0_owner": SEE,
        "act_0_due": "2026-12-01",
        "act_1_text": "Find the wellbeing leaflet",
        "act_1_owner": SEE,
        "act_1_due": "2026-11-27",
    }
    done = await kit.press(SUP, bad, "targeted.amend_submit", inputs)
    assert "Version 2 saved" in texts_of(done)
    old, new = await _records(kit.db)
    assert (old.superseded_by, new.version, new.previous_id) == (new.id, 2, old.id)
    assert new.file_name.endswith("Tom Hollis-v2.docx")
    async with kit.db.session() as s:
        acts = (await s.execute(select(TargetedAction).order_by(TargetedAction.id))).scalars().all()
    # The open actions moved to version 2 (edited in place, not duplicated).
    assert [(a.record_id, a.owner_id) for a in acts] == [(new.id, SEE), (new.id, SEE)]
    # A second click makes nothing twice.
    again = await kit.press(SUP, bad, "targeted.amend_submit", inputs)
    assert "already submitted" in texts_of(again)
    assert len(await _records(kit.db)) == 2
    await kit.deliver()
    # Version 1 is kept beside version 2; version 2 has the correction, and Priya's signature only.
    assert NARRATIVE in "\n".join(
        p.text for p in Document(io.BytesIO(await _file_of(kit, "Tom Hollis.docx"))).paragraphs
    )
    v2 = await _file_of(kit, "-v2.docx")
    body = "\n".join(p.text for p in Document(io.BytesIO(v2)).paragraphs)
    assert "Lunchtimes." in body and "Corrected who owns the second action." in body
    assert [bool(r.signed) for r in docx_writer.read_signoff(v2)] == [True, False]
    # Tom's old card: a clear message that it was replaced, and the way to the new one. Nothing is signed.
    stale = await kit.click(SEE, "targeted.sign", {"record_id": old.id})
    assert "replaced by a newer one" in texts_of(stale)
    assert find_action(stale, "targeted.file")["data"] == {"record_id": new.id}
    assert await count(kit.db, RecordSignature, RecordSignature.staff_id == SEE) == 0
    # He signs version 2: locked.
    signed = await kit.click(SEE, "targeted.sign", {"record_id": new.id})
    assert "signed by both of you and locked" in texts_of(signed)
    # A later change is version 3, which needs confirming again.
    v3card = await kit.click(SUP, "targeted.amend", {"record_id": new.id})
    assert "Both of you confirmed the current version, so it is locked" in texts_of(v3card)
    out = await kit.press(SUP, v3card, "targeted.amend_submit", {**inputs, "amend_note": "Added the date."})
    assert "Version 3 saved" in texts_of(out)
    *_, v3 = await _records(kit.db)
    assert v3.version == 3
    async with kit.db.session() as s:
        who = (await s.execute(select(RecordSignature.staff_id).where(RecordSignature.record_id == v3.id))).all()
    assert [w for (w,) in who] == [SUP]
    # Amending a replaced version opens the newest one instead of forking the record.
    fork = await kit.click(SUP, "targeted.amend", {"record_id": old.id})
    assert "version 4" in texts_of(fork)
