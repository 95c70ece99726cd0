"""The audit trail through the real app (HTTP → router → journey → store), on SQLite and PostgreSQL: a filed 1:1
record and a view of it are audited in their own transaction, a rolled-back submit leaves no row, refusals from
the router's permission check land in the trail, no content ever does, and only the DSL team reads it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.journeys import one_to_one as journey
from bot.store.models_audit import AuditEvent
from bot.store.models_targeted import TargetedRecord
from tests.journeys.one_to_one_kit import (  # noqa: F401
    NARRATIVE,
    REFLECTION,
    SEE,
    SUP,
    count,
    kit,
    pairs,
    said,
    submitted,
)
from tests.journeys.test_request_kit import texts_of

DSL = "amara.okafor"


async def _events(db) -> list[AuditEvent]:
    async with db.session() as s:
        return list((await s.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars())


def _row(e: AuditEvent) -> tuple:
    return (e.actor_id, e.action, e.object_kind, e.object_id)


async def test_a_filed_record_and_its_viewing_are_audited_without_content(kit, pairs):  # noqa: F811
    await submitted(kit)
    async with kit.db.session() as s:
        rid = (await s.execute(select(TargetedRecord.id))).scalar_one()
    await kit.click(SEE, "targeted.file", {"record_id": rid})
    events = await _events(kit.db)
    assert [_row(e) for e in events] == [
        (SUP, "created", "targeted_record", str(rid)),
        (SEE, "viewed", "targeted_record", str(rid)),
    ]
    assert events[0].school_time.startswith("2026-11-23T10:00:00")
    stored = " ".join(str(v) for e in events for v in _row(e) + (e.school_time,))
    for content in (NARRATIVE, REFLECTION, "Ask for a lunchtime swap", "Tom Hollis", "Priya"):
        assert content not in stored


async def test_a_submit_rolled_back_after_its_audit_row_leaves_neither(kit, pairs, monkeypatch):  # noqa: F811
    class Late(Exception):
        pass

    async def fail(*_a, **_k):
        raise Late

    # The draft clean-up runs after the audit row is added, inside the same transaction.
    monkeypatch.setattr(type(journey.ONE_TO_ONE), "drop", fail)
    with pytest.raises(AssertionError):  # the turn fails (the bot answers 500), nothing is kept
        await submitted(kit)
    assert await count(kit.db, TargetedRecord) == 0
    assert await _events(kit.db) == []


async def test_refusals_from_the_permission_check_are_audited(kit, pairs):  # noqa: F811
    await kit.install(DSL)
    answer = await said(kit, SEE, "audit")
    assert "Only the DSL team" in answer
    await kit.click(SEE, "audit.show", {"audit_kind": "person", "audit_id": SUP})
    assert [_row(e) for e in await _events(kit.db)] == [
        (SEE, "refused", "command", "audit"),
        (SEE, "refused", "verb", "audit.show"),
    ]


async def test_the_dsl_sees_a_person_trail_and_looking_is_audited(kit, pairs):  # noqa: F811
    await kit.install(DSL)
    await said(kit, SEE, "audit")  # refused: in Tom's trail
    await submitted(kit)
    card = await kit.say(DSL, f"audit {SEE}")
    shown = texts_of(card)
    assert "Trail for Tom Hollis" in shown and "was refused: command audit" in shown
    card = await kit.click(DSL, "audit.show", {"audit_kind": "targeted_record", "audit_id": "1"})
    assert "Priya Raman created 1:1 record 1" in texts_of(card)
    rows = [_row(e) for e in await _events(kit.db)]
    assert (DSL, "viewed", "audit_trail", f"person:{SEE}") in rows
    assert (DSL, "viewed", "audit_trail", "targeted_record:1") in rows


async def test_an_id_that_is_not_one_gets_the_form_back(kit, pairs):  # noqa: F811
    await kit.install(DSL)
    card = await kit.click(DSL, "audit.show", {"audit_kind": "targeted_record", "audit_id": "twelve; drop"})
    assert "Choose what to look up" in texts_of(card)
    assert await _events(kit.db) == []


async def test_a_card_refused_by_the_journey_own_check_is_audited(kit, pairs):  # noqa: F811
    # Grace's supervisor is Marcus, not Priya: opening her record from a forged card is refused by the journey.
    await kit.click(SUP, "targeted.open", {"supervisee": "grace.mensah"})
    assert [_row(e) for e in await _events(kit.db)] == [(SUP, "refused", "verb", "targeted.open")]
