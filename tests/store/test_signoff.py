"""The sign-off store seam (bot/store/signoff.py), on SQLite and PostgreSQL: signatures once per person per
version, versions of a 1:1 record (the open actions move across; a second amendment of the same version is
refused), and escalations once per record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.store import signoff
from bot.store.errors import RecordedMeanwhile
from bot.store.models_targeted import DONE, TargetedAction, TargetedRecord
from tests.store.test_one_to_one import NOW, SEE, SUP, Act, _file, _pair


@dataclass(frozen=True)
class Edit:
    text: str
    owner_id: str
    due_on: dt.date
    action_id: int | None = None


async def _delivered(db, rid: int) -> TargetedRecord:
    async with db.session() as s:
        rec = await s.get(TargetedRecord, rid)
        rec.status, rec.item_id = "delivered", "item-1"
        return rec


async def test_the_supervisee_signs_once_and_a_replaced_version_is_stale(db):
    pid = await _pair(db)
    rid = await _file(db, pid, actions=[Act("Keep", SEE, dt.date(2026, 12, 1)), Act("Drop", SUP, dt.date(2026, 12, 1))])
    async with db.session() as s:
        rec = await s.get(TargetedRecord, rid)
        outcome, _ = await signoff.sign_targeted(s, rec, now=NOW)
        assert outcome is signoff.Signing.NOT_READY  # not shared yet
        await signoff.sign_as_supervisor_on_submit(s, rec, NOW)
    await _delivered(db, rid)
    async with db.session() as s:
        rec = await signoff.targeted_for_signing(s, rid, SEE)
        assert not await signoff.signed_by_both(s, rec)
        assert (await signoff.sign_targeted(s, rec, now=NOW))[0] is signoff.Signing.SIGNED
        assert (await signoff.sign_targeted(s, rec, now=NOW))[0] is signoff.Signing.ALREADY
        assert await signoff.signed_by_both(s, rec)
        acts = (await s.execute(select(TargetedAction).order_by(TargetedAction.id))).scalars().all()
        acts[0].status = DONE  # done actions stay with the version they were done in
        keep = acts[1]
    async with db.session() as s:
        old = await s.get(TargetedRecord, rid)
        new = await signoff.file_amendment(
            s,
            old,
            session_date=old.session_date,
            next_session_on=None,
            submit_key="b" * 32,
            file_name="f-v2.docx",
            actions=[Edit("Kept, edited", SEE, dt.date(2026, 12, 2), keep.id), Edit("New", SUP, dt.date(2026, 12, 3))],
            now=NOW,
        )
        assert (new.version, new.previous_id) == (2, rid)
    async with db.session() as s:
        old = await s.get(TargetedRecord, rid)
        assert old.superseded_by == new.id
        assert (await signoff.current_version(s, old)).id == new.id
        assert await signoff.first_version_id(s, await s.get(TargetedRecord, new.id)) == rid
        assert (await signoff.sign_targeted(s, old, now=NOW))[0] is signoff.Signing.STALE
        rows = (await s.execute(select(TargetedAction).order_by(TargetedAction.id))).scalars().all()
        assert [(a.record_id, a.text, a.status) for a in rows] == [
            (rid, "Keep", DONE),
            (new.id, "Kept, edited", "open"),
            (new.id, "New", "open"),
        ]
        # A second amendment of version 1 (another card open on it) is refused: version 2 replaced it.
        with pytest.raises(RecordedMeanwhile):
            await signoff.file_amendment(
                s,
                old,
                session_date=old.session_date,
                next_session_on=None,
                submit_key="c" * 32,
                file_name="f-v2.docx",
                actions=[],
                now=NOW,
            )


async def test_an_escalation_is_raised_once_per_record(db):
    async with db.session() as s:
        first = await signoff.raise_escalation(s, signoff.TARGETED, 7, "harm", SUP, now=NOW)
        assert first is not None
        assert await signoff.raise_escalation(s, signoff.TARGETED, 7, "illegal", SUP, now=NOW) is None
        assert await signoff.raise_escalation(s, signoff.GROUP, 7, "illegal", SUP, now=NOW) is not None
        assert (await signoff.escalation_for(s, signoff.TARGETED, 7)).category == "harm"
