"""Handover of a supervisee to a new supervisor (seed 004 §5: the replacement sees the previous six months of
records), end to end through the real app on both Microsoft 365 backends: the six months and no more are
re-shared with the successor through the files port, the predecessor's access ends (their grants revoked in
Microsoft 365, the bot no longer opens the records for them), all of it audited, and only the DSL team can do it."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models_audit import AuditEvent
from bot.store.models_followup import Handover, RecordAccess
from bot.store.models_request import Pairing
from bot.store.models_targeted import TargetedAction, TargetedRecord
from tests.journeys.one_to_one_kit import SEE, SUP, answers, count, kit, open_card, pairs, said  # noqa: F401
from tests.journeys.test_request_kit import errors_on, texts_of

DATES = ("2026-05-20", "2026-05-23", "2026-11-19")  # today is 23 Nov 2026: six months back is 23 May
SUCCESSOR = "marcus.fenwick"


async def _records(k) -> dict[str, int]:
    for day in DATES:
        card = await open_card(k)
        marks = {i: "carried" for i in _input_ids(card) if i.startswith("rev_")}  # earlier actions carried on
        out = await k.press(SUP, card, "targeted.submit", answers(sess_date=day, act_0_due="2026-12-01", **marks))
        assert "Record submitted" in texts_of(out), texts_of(out)
    await k.deliver()
    async with k.db.session() as s:
        rows = (await s.execute(select(TargetedRecord))).scalars().all()
    assert all(r.status == "delivered" for r in rows)
    return {r.session_date.isoformat(): r.id for r in rows}


def _input_ids(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["id"]] if str(node.get("type", "")).startswith("Input.") else []
        return own + [i for v in node.values() for i in _input_ids(v)]
    if isinstance(node, list):
        return [i for v in node for i in _input_ids(v)]
    return []


async def _recipients(k) -> dict[str, set[str]]:
    """Session date → who (besides the owner) the record's file is shared with."""
    out = {}
    for sh in await k.view.shares():
        for day in DATES:
            if sh.path.endswith(f"{day} Supervision record - Tom Hollis.docx"):
                out[day] = set(sh.recipients)
    return out


def _email(k, sid: str) -> str:
    return k.school.staff.get(sid).email.lower()


async def _hand_over(k, who: str, supervisee: str, successor: str) -> dict:
    form = await k.say(who, "handover")
    return await k.press(who, form, "handover.submit", {"ho_supervisee": supervisee, "ho_successor": successor})


async def test_the_successor_gets_six_months_and_no_more_and_the_predecessor_loses_access(kit, pairs):  # noqa: F811
    ids = await _records(kit)
    done = await _hand_over(kit, "amara.okafor", SEE, SUCCESSOR)
    assert "Handover done" in texts_of(done) and "2 (sessions since" in texts_of(done)
    await kit.deliver()

    shared = await _recipients(kit)
    tom, marcus = _email(kit, SEE), _email(kit, SUCCESSOR)
    assert shared["2026-05-20"] == {tom}  # older than six months: not handed over
    assert shared["2026-05-23"] == {tom, marcus}
    assert shared["2026-11-19"] == {tom, marcus}

    # The pairing moved: Priya's ended, Marcus's started (his other supervisee untouched).
    async with kit.db.session() as s:
        live = {
            (p.supervisor_id, p.supervisee_id) for p in (await s.execute(select(Pairing))).scalars() if not p.ended_at
        }
    assert live == {(SUCCESSOR, SEE), (SUCCESSOR, "grace.mensah")}

    # The pair's open actions moved with Tom: Priya's own became Marcus's; they open Marcus's first record.
    async with kit.db.session() as s:
        acts = (await s.execute(select(TargetedAction).where(TargetedAction.status == "open"))).scalars().all()
    assert acts and {a.supervisor_id for a in acts} == {SUCCESSOR}
    assert {a.owner_id for a in acts} == {SEE, SUCCESSOR}
    assert "Review of actions from last time" in texts_of(await open_card(kit, who=SUCCESSOR))

    # The bot opens the six months for Marcus, nothing older, and nothing of Tom's for Priya any more.
    for day in ("2026-05-23", "2026-11-19"):
        card = await kit.click(SUCCESSOR, "targeted.file", {"record_id": ids[day]})
        assert "Open the record" in str(card), day
    assert "can't do that" in texts_of(await kit.click(SUCCESSOR, "targeted.file", {"record_id": ids["2026-05-20"]}))
    for day in DATES:
        assert "can't do that" in texts_of(await kit.click(SUP, "targeted.file", {"record_id": ids[day]}))
        assert "Open the record" in str(await kit.click(SEE, "targeted.file", {"record_id": ids[day]}))
    assert "allocated supervisor" in await said(kit, SUP, "note")  # she supervises nobody now

    # Each of the three is told; the successor's notice lists the two records.
    assert any("handed over to you" in texts_of(c) for c in kit.journey_cards(SUCCESSOR))
    assert any("moved to a new supervisor" in texts_of(c) for c in kit.journey_cards(SUP))
    assert any("You have a new supervisor" in texts_of(c) for c in kit.journey_cards(SEE))

    # All of it audited: the handover, each grant, the person.
    async with kit.db.session() as s:
        trail = [(e.action, e.object_kind) for e in (await s.execute(select(AuditEvent))).scalars()]
    assert ("created", "handover") in trail
    assert trail.count(("created", "record_access")) == 2

    # A second handover (Marcus → Amara): Marcus's grants are revoked in Microsoft 365 and in the bot.
    await _hand_over(kit, "daniel.whitcombe", SEE, "amara.okafor")
    await kit.deliver()
    shared = await _recipients(kit)
    amara = _email(kit, "amara.okafor")
    assert shared["2026-05-23"] == {tom, amara} and shared["2026-11-19"] == {tom, amara}
    assert shared["2026-05-20"] == {tom}
    for day in ("2026-05-23", "2026-11-19"):
        assert "can't do that" in texts_of(await kit.click(SUCCESSOR, "targeted.file", {"record_id": ids[day]}))
        assert "Open the record" in str(await kit.click("amara.okafor", "targeted.file", {"record_id": ids[day]}))
    async with kit.db.session() as s:
        access = (await s.execute(select(RecordAccess))).scalars().all()
        trail = [(e.action, e.object_kind) for e in (await s.execute(select(AuditEvent))).scalars()]
    assert sorted((a.staff_id, a.revoked_at is None) for a in access) == [
        ("amara.okafor", True),
        ("amara.okafor", True),
        (SUCCESSOR, False),
        (SUCCESSOR, False),
    ]
    assert trail.count(("deleted", "record_access")) == 2


async def test_a_teaching_assistant_or_a_supervisor_cannot_hand_over(kit, pairs):  # noqa: F811
    await _records(kit)
    data = {"nonce": "b" * 32, "ho_supervisee": SEE, "ho_successor": SUCCESSOR}
    for who in (SEE, SUP):
        out = await kit.click(who, "handover.submit", data)
        assert "Only the DSL team" in (out if isinstance(out, str) else texts_of(out))
    assert await count(kit.db, Handover) == 0 and await count(kit.db, RecordAccess) == 0
    assert not await kit.outbox("files.personal_grant")
    async with kit.db.session() as s:
        assert (await s.get(Pairing, pairs)).ended_at is None


async def test_mistakes_are_shown_on_the_form_and_nothing_is_written(kit, pairs):  # noqa: F811
    form = await kit.say("amara.okafor", "handover")
    out = await kit.press("amara.okafor", form, "handover.submit", {"ho_supervisee": SEE, "ho_successor": SUP})
    assert "their supervisor already" in " ".join(errors_on(out))
    out = await kit.press("amara.okafor", form, "handover.submit", {"ho_successor": SUCCESSOR})
    assert "Choose who is moving" in " ".join(errors_on(out))
    # A successor the card never offered (not a trained supervisor) is tampering.
    out = await kit.press(
        "amara.okafor", form, "handover.submit", {"ho_supervisee": SEE, "ho_successor": "isla.brennan"}
    )
    assert "can't do that" in texts_of(out)
    assert await count(kit.db, Handover) == 0
    # The same card pressed twice hands over once.
    ok = {"ho_supervisee": SEE, "ho_successor": SUCCESSOR}
    await kit.press("amara.okafor", form, "handover.submit", ok)
    again = await kit.press("amara.okafor", form, "handover.submit", ok)
    assert "already made" in texts_of(again)
    assert await count(kit.db, Handover) == 1
