"""Notes of specialist group supervision (seed 001 §3.3): kept by the session's supervisor, shared with the people
who came — one file in the supervisor's OneDrive, shared with each of them, nothing stored centrally (both
Microsoft 365 backends)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.store.models_outbox import OutboxRow
from bot.store.models_sessions import GroupSession
from bot.store.models_specialist_notes import SpecialistNote, SpecialistNoteDraft
from tests.journeys.test_request_kit import errors_on, find_action, find_input, kit, texts_of  # noqa: F401
from tests.journeys.test_specialist_journey import SETUP, _offer, _slots

SPECIALIST = dict(SETUP, kind="specialist", staff="tom.hollis,isla.brennan,nadia.farouk", soon="week", external="")
NARRATIVE = "Talked through the loss in the class and how the team is coping."
ANSWERS = {
    "f_focus": "Bereavement in the class",
    "f_discussion": NARRATIVE,
    "f_support": "The employee assistance line; each other.",
    "f_confidentiality": "true",
}


async def _held(kit):  # noqa: F811
    """Amara books a specialist session; it happens."""
    offer = await _offer(kit, SPECIALIST)
    await kit.press("amara.okafor", offer, "specialist.book", {"slot": _slots(offer)[0]})
    await kit.deliver()
    async with kit.db.session() as s:
        sess = (await s.execute(select(GroupSession))).scalar_one()
    kit.clock.now = sess.ends_at + dt.timedelta(minutes=5)
    return sess


async def test_the_supervisor_writes_up_notes_shared_with_those_who_came(kit):  # noqa: F811
    sess = await _held(kit)
    await kit.deliver()  # the "time to write up" prompt, due at the end
    prompt = [c for c in kit.sent_to("amara.okafor") if "Time to write up the session notes" in texts_of(c)]
    assert len(prompt) == 1
    card = await kit.press("amara.okafor", prompt[0], "specnotes.open")
    assert "Who came" in texts_of(card) and "What the group talked through (required)" in texts_of(card)
    done = await kit.press(
        "amara.okafor", card, "specnotes.submit", ANSWERS | {"sn_attendees": "tom.hollis,isla.brennan"}
    )
    again = await kit.press("amara.okafor", card, "specnotes.submit", ANSWERS | {"sn_attendees": "tom.hollis"})
    assert "2 attendees" in texts_of(done) and "submitted already" in texts_of(again)
    async with kit.db.session() as s:
        [note] = (await s.execute(select(SpecialistNote))).scalars().all()
        assert (await s.execute(select(SpecialistNoteDraft))).scalars().all() == []
    assert note.shared_with == ["tom.hollis", "isla.brennan"] and note.session_id == sess.id
    await kit.deliver()
    shares = [x for x in await kit.view.shares() if x.path.endswith("notes.docx")]
    assert len(shares) == 1, shares  # one file, shared with each attendee
    [f] = shares
    assert f.owner == "amara.okafor"
    assert sorted(f.recipients) == sorted(kit.school.staff[x].email.lower() for x in ("tom.hollis", "isla.brennan"))
    assert NARRATIVE.encode() not in b"".join(str(r.payload).encode() for r in await kit.outbox())  # scrubbed
    async with kit.db.session() as s:
        note = await s.get(SpecialistNote, note.id)
    assert note.status == "delivered" and note.web_url
    for who in ("tom.hollis", "isla.brennan"):
        [notice] = [c for c in kit.sent_to(who) if "Notes from your supervision session" in texts_of(c)]
        opened = await kit.press(who, notice, "specnotes.file")
        assert "shared" in texts_of(opened)
    assert not [c for c in kit.sent_to("nadia.farouk") if "Notes from your supervision" in texts_of(c)]
    out = await kit.click("nadia.farouk", "specnotes.file", {"note_id": note.id})  # invited, did not come
    assert "aren't shared with you" in texts_of(out)


async def test_only_a_leader_writes_notes_and_only_after_the_session(kit, caplog):  # noqa: F811
    offer = await _offer(kit, SPECIALIST)
    await kit.press("amara.okafor", offer, "specialist.book", {"slot": _slots(offer)[0]})
    async with kit.db.session() as s:
        sess = (await s.execute(select(GroupSession))).scalar_one()
    early = await kit.click("amara.okafor", "specnotes.open", {"session_id": sess.id})
    assert "once the session has happened" in texts_of(early)
    kit.clock.now = sess.ends_at + dt.timedelta(minutes=1)
    for who in ("tom.hollis", "marcus.fenwick"):  # an attendee; a DSL who did not lead it
        out = await kit.click(who, "specnotes.open", {"session_id": sess.id})
        assert "Only the supervisor who led this session" in texts_of(out)
    card = await kit.click("amara.okafor", "specnotes.open", {"session_id": sess.id})
    key = find_action(card, "specnotes.submit")["data"]["draft_key"]
    out = await kit.click("tom.hollis", "specnotes.submit", {"session_id": sess.id, "draft_key": key, **ANSWERS})
    assert "Only the supervisor" in texts_of(out)
    # An attendee who was never invited is a tampered card.
    out = await kit.press("amara.okafor", card, "specnotes.submit", ANSWERS | {"sn_attendees": "grace.mensah"})
    assert "can't do that" in texts_of(out)
    async with kit.db.session() as s:
        assert (await s.execute(select(SpecialistNote))).scalars().all() == []


async def test_mistakes_keep_the_draft_and_what_was_typed(kit):  # noqa: F811
    sess = await _held(kit)
    card = await kit.click("amara.okafor", "specnotes.open", {"session_id": sess.id})
    saved = await kit.press(
        "amara.okafor", card, "specnotes.save", {"f_focus": "Bereavement", "sn_attendees": "tom.hollis"}
    )
    assert "Draft saved" in texts_of(saved)
    bad = await kit.press("amara.okafor", saved, "specnotes.submit", {"f_focus": "Bereavement", "sn_attendees": ""})
    errs = errors_on(bad)
    assert "Please fill this in." in errs and "Please confirm this before submitting." in errs
    assert any("Tick who came" in e for e in errs)
    assert find_input(bad, "f_focus")["value"] == "Bereavement"
    again = await kit.click("amara.okafor", "specnotes.open", {"session_id": sess.id})
    assert find_input(again, "f_focus")["value"] == "Bereavement" and "Your draft is back" in texts_of(again)
    async with kit.db.session() as s:
        assert len((await s.execute(select(SpecialistNoteDraft))).scalars().all()) == 1
        assert (await s.execute(select(SpecialistNote))).scalars().all() == []
    assert not [r for r in await kit.outbox("files.personal_share")]


async def test_emergency_sessions_are_not_written_up_here(kit):  # noqa: F811
    offer = await _offer(kit)  # emergency: recorded centrally in the Safeguarding channel instead
    await kit.press("amara.okafor", offer, "specialist.book", {"slot": _slots(offer)[0]})
    async with kit.db.session() as s:
        sess = (await s.execute(select(GroupSession))).scalar_one()
        prompts = (await s.execute(select(OutboxRow).where(OutboxRow.key.like("specialist_notes:prompt:%")))).all()
    assert prompts == []
    kit.clock.now = sess.ends_at + dt.timedelta(minutes=1)
    out = await kit.click("amara.okafor", "specnotes.open", {"session_id": sess.id})
    assert "Only the supervisor who led" in texts_of(out)


async def test_a_share_that_gives_up_holds_back_every_notice_and_tells_the_supervisor(kit):  # noqa: F811
    from bot.outbox import PermanentFailure

    async def refused(payload):
        raise PermanentFailure("OneDrive refused the upload (403)")

    sess = await _held(kit)
    kit.worker.handlers["files.personal_share"] = refused
    card = await kit.click("amara.okafor", "specnotes.open", {"session_id": sess.id})
    await kit.press("amara.okafor", card, "specnotes.submit", ANSWERS | {"sn_attendees": "tom.hollis,isla.brennan"})
    await kit.worker.drain()
    async with kit.db.session() as s:
        note = (await s.execute(select(SpecialistNote))).scalar_one()
    assert note.status == "failed"
    for who in ("tom.hollis", "isla.brennan"):
        assert not [c for c in kit.sent_to(who) if "Notes from your supervision" in texts_of(c)]
    assert any("Session notes not shared yet" in texts_of(c) for c in kit.sent_to("amara.okafor"))
    assert all(NARRATIVE not in texts_of(c) for c in kit.sent_to("amara.okafor"))
