"""The 1:1 store seam (bot/store/one_to_one.py), on SQLite and PostgreSQL: each function's rows and its domain
errors, without the journeys on top (drafts, submit keys and the file's delivery are the record lifecycle's:
tests/records/test_lifecycle.py). Priya supervises Tom; Marcus supervises Grace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from bot.outbox import effects
from bot.outbox.api import withdraw
from bot.store import one_to_one as store
from bot.store.errors import AlreadyRecorded, NotFound, NotYours
from bot.store.models_outbox import OutboxRow
from bot.store.models_request import Meeting, Pairing
from bot.store.models_targeted import (
    AGREED,
    AWAITING,
    DONE,
    OPEN,
    PENDING,
    REPLACED,
    SupervisionAgreement,
    TargetedAction,
)
from bot.store.one_to_one import Confirmation

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)
SUP, SEE = "priya.raman", "tom.hollis"
DAY = dt.date(2026, 11, 19)
KEY = "a" * 32


@dataclass(frozen=True)
class Act:
    text: str
    owner_id: str
    due_on: dt.date


async def _pair(db, supervisor=SUP, supervisee=SEE, *, started=NOW - dt.timedelta(days=50), ended=None) -> int:
    async with db.session() as s:
        p = Pairing(supervisor_id=supervisor, supervisee_id=supervisee, started_at=started, ended_at=ended)
        s.add(p)
        await s.flush()
        return p.id


async def _meeting(db, pairing_id: int, start: dt.datetime, *, status="booked") -> int:
    async with db.session() as s:
        m = Meeting(
            kind="one_to_one",
            pairing_id=pairing_id,
            supervisor_id=SUP,
            supervisee_id=SEE,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            local_date=start.date(),
            half_term="2026-27 Autumn 2",
            status=status,
            event_key=f"e{start:%j%H}",
            offer_nonce=f"o{start:%j%H}",
            booked_by=SUP,
            booked_at=start - dt.timedelta(days=3),
        )
        s.add(m)
        await s.flush()
        return m.id


async def _file(db, pid: int, key: str = KEY, *, day: dt.date = DAY, actions=()) -> int:
    async with db.session() as s:
        pairing = await s.get(Pairing, pid)
        rec = await store.file_record(
            s,
            pairing,
            session_date=day,
            next_session_on=None,
            template_id="default",
            submit_key=key,
            file_name="f.docx",
            actions=list(actions),
            now=NOW,
        )
        return rec.id


# ---- pairings and meetings -------------------------------------------------------------------------------------


async def test_pairings_who_supervises_whom(db):
    first = await _pair(db)
    await _pair(db, started=NOW - dt.timedelta(days=10))  # a second pairing with Tom
    await _pair(db, SUP, "grace.mensah", started=NOW - dt.timedelta(days=20))
    await _pair(db, SUP, "isla.brennan", ended=NOW - dt.timedelta(days=1))  # ended: not hers any more
    marcus = await _pair(db, "marcus.fenwick", SUP)  # Priya is supervised too
    async with db.session() as s:
        assert await store.supervisees(s, SUP) == [SEE, "grace.mensah"]
        assert await store.supervisees(s, SEE) == []
        assert (await store.supervision(s, SUP, SEE)).id > first  # the latest pairing
        assert await store.find_supervision(s, SUP, "isla.brennan") is None
        with pytest.raises(NotYours):
            await store.supervision(s, SUP, "isla.brennan")
        with pytest.raises(NotYours):
            await store.supervision(s, "marcus.fenwick", SEE)
        assert [p.supervisee_id for p in await store.pairings_of(s, SUP)] == [SEE, SUP, "grace.mensah", SEE]
        assert (await store.pairing_of(s, marcus, SUP)).supervisor_id == "marcus.fenwick"
        with pytest.raises(NotYours):
            await store.pairing_of(s, marcus, SEE)
        with pytest.raises(NotFound):
            await store.pairing_of(s, 999_999, SUP)


async def test_latest_started_meeting_and_the_meeting_of_a_day(db):
    pid = await _pair(db)
    await _meeting(db, pid, dt.datetime(2026, 11, 12, 14, tzinfo=dt.timezone.utc))
    latest = await _meeting(db, pid, dt.datetime(2026, 11, 19, 14, tzinfo=dt.timezone.utc))
    await _meeting(db, pid, dt.datetime(2026, 11, 20, 14, tzinfo=dt.timezone.utc), status="cancelled")
    await _meeting(db, pid, dt.datetime(2026, 12, 3, 14, tzinfo=dt.timezone.utc))  # still to come
    async with db.session() as s:
        assert (await store.latest_meeting(s, SUP, SEE, NOW)).id == latest
        assert await store.latest_meeting(s, "marcus.fenwick", SEE, NOW) is None
        assert (await store.meeting_on(s, SUP, SEE, DAY)).id == latest
        assert await store.meeting_on(s, SUP, SEE, dt.date(2026, 11, 20)) is None  # cancelled


# ---- records ---------------------------------------------------------------------------------------------------


async def test_file_record_links_the_meeting_keeps_actions_and_refuses_a_second_submit(db):
    pid = await _pair(db)
    mid = await _meeting(db, pid, dt.datetime(2026, 11, 19, 14, tzinfo=dt.timezone.utc))
    rid = await _file(
        db,
        pid,
        actions=[Act("Ask for a swap", SEE, dt.date(2026, 12, 1)), Act("Find the leaflet", SUP, dt.date(2026, 11, 27))],
    )
    async with db.session() as s:
        rec = await store.record_of(s, rid, SUP)
        assert rec.submit_key == KEY and rec.meeting_id == mid and rec.pairing_id == pid
        assert (rec.status, rec.action_count, rec.supervisor_id, rec.supervisee_id) == (PENDING, 2, SUP, SEE)
        acts = (await s.execute(select(TargetedAction).order_by(TargetedAction.id))).scalars().all()
        assert [(a.owner_id, a.status, a.supervisor_id) for a in acts] == [(SEE, OPEN, SUP), (SUP, OPEN, SUP)]
    with pytest.raises(AlreadyRecorded):
        await _file(db, pid)
    async with db.session() as s:
        assert len(await store.recent_records(s, SUP)) == 1
        assert (await store.record_of(s, rid, SEE)).id == rid
        with pytest.raises(NotYours):
            await store.record_of(s, rid, "marcus.fenwick")
        with pytest.raises(NotFound):
            await store.record_of(s, 999_999, SUP)


async def test_recent_records_are_the_supervisors_latest_sessions_first(db):
    pid = await _pair(db)
    older = await _file(db, pid, "1" * 32, day=dt.date(2026, 11, 5))
    newer = await _file(db, pid, "2" * 32, day=DAY)
    async with db.session() as s:
        assert [r.id for r in await store.recent_records(s, SUP)] == [newer, older]
        assert [r.id for r in await store.recent_records(s, SUP, limit=1)] == [newer]
        assert await store.recent_records(s, SEE) == []
        assert await store.recent_records(s, "marcus.fenwick") == []


async def test_withdraw_takes_back_only_a_pending_row(db):
    async with db.session() as s:
        await effects.add(s, effects.notify(SEE, {}, key="k1"), effects.notify(SEE, {}, key="k2"), now=NOW)
        await s.execute(update(OutboxRow).where(OutboxRow.key == "k2").values(status="delivered"))
    async with db.session() as s:
        assert await withdraw(s, "k1") is True and await withdraw(s, "k2") is False
        assert await withdraw(s, "never-queued") is False
        assert (await s.execute(select(OutboxRow.key))).scalars().all() == ["k2"]


# ---- actions ---------------------------------------------------------------------------------------------------


async def test_actions_are_the_two_peoples_open_or_lately_done(db):
    pid = await _pair(db)
    rid = await _file(
        db,
        pid,
        actions=[
            Act("later", SEE, dt.date(2026, 12, 9)),
            Act("sooner", SUP, dt.date(2026, 12, 1)),
            Act("done long ago", SEE, dt.date(2026, 11, 20)),
            Act("done lately", SUP, dt.date(2026, 11, 21)),
        ],
    )
    async with db.session() as s:
        ids = (
            await s.execute(select(TargetedAction.id, TargetedAction.text).where(TargetedAction.record_id == rid))
        ).all()
        by_text = {t: i for i, t in ids}
        await s.execute(
            update(TargetedAction)
            .where(TargetedAction.id == by_text["done long ago"])
            .values(status=DONE, done_at=NOW - dt.timedelta(days=40))
        )
        await s.execute(
            update(TargetedAction)
            .where(TargetedAction.id == by_text["done lately"])
            .values(status=DONE, done_at=NOW - dt.timedelta(days=2))
        )
    async with db.session() as s:
        for who in (SUP, SEE):
            rows = await store.actions_of(s, who, done_since=NOW - dt.timedelta(days=30))
            assert [(a.text, day) for a, day in rows] == [("done lately", DAY), ("sooner", DAY), ("later", DAY)]
        assert await store.actions_of(s, "marcus.fenwick", done_since=NOW) == []
        assert (await store.action_of(s, by_text["later"], SUP)).text == "later"
        with pytest.raises(NotYours):
            await store.action_of(s, by_text["later"], "marcus.fenwick")
        with pytest.raises(NotFound):
            await store.action_of(s, 999_999, SUP)


# ---- agreements ------------------------------------------------------------------------------------------------


async def _propose(db, pid: int, nonce: str, by: str, *, on=DAY, now=NOW) -> int:
    async with db.session() as s:
        row = await store.propose_agreement(
            s,
            await s.get(Pairing, pid),
            nonce=nonce,
            proposed_by=by,
            agreed_on=on,
            review_due=on.replace(year=on.year + 1),
            frequency="half_termly",
            minutes=60,
            now=now,
        )
        return row.id


async def test_an_agreement_is_proposed_once_and_confirmed_by_the_other(db):
    pid = await _pair(db)
    first = await _propose(db, pid, "1" * 32, SUP)
    with pytest.raises(AlreadyRecorded):
        await _propose(db, pid, "1" * 32, SUP)
    async with db.session() as s:
        assert await store.agreement_recorded(s, "1" * 32) and not await store.agreement_recorded(s, "2" * 32)
        row = await s.get(SupervisionAgreement, first)
        assert (row.status, row.proposed_by, row.supervisor_confirmed_at, row.supervisee_confirmed_at) == (
            AWAITING,
            SUP,
            NOW,
            None,
        )
        assert store.waiting_for(row) == SEE
        assert await store.agreement_in_force(s, SUP, SEE) is None
    # Tom's own proposal replaces Priya's waiting one; it waits for Priya.
    second = await _propose(db, pid, "2" * 32, SEE, now=NOW + dt.timedelta(minutes=5))
    async with db.session() as s:
        assert (await s.get(SupervisionAgreement, first)).status == REPLACED
        agreed, waiting = await store.agreements_of(s, await s.get(Pairing, pid))
        assert agreed is None and waiting.id == second and store.waiting_for(waiting) == SUP
        outcome, _ = await store.confirm_agreement(s, first, SUP, now=NOW)
        assert outcome is Confirmation.STALE
        outcome, _ = await store.confirm_agreement(s, second, SEE, now=NOW)
        assert outcome is Confirmation.NOT_THEIR_TURN
        with pytest.raises(NotYours):
            await store.confirm_agreement(s, second, "marcus.fenwick", now=NOW)
        with pytest.raises(NotFound):
            await store.confirm_agreement(s, 999_999, SUP, now=NOW)
        outcome, row = await store.confirm_agreement(s, second, SUP, now=NOW + dt.timedelta(hours=1))
        assert outcome is Confirmation.CONFIRMED and row.status == AGREED
        assert row.supervisor_confirmed_at == NOW + dt.timedelta(hours=1)
    async with db.session() as s:
        assert (await store.agreement_in_force(s, SUP, SEE)).id == second
        outcome, _ = await store.confirm_agreement(s, second, SEE, now=NOW)
        assert outcome is Confirmation.ALREADY_AGREED


async def test_a_confirmed_review_replaces_the_agreement_in_force_and_an_ended_pairing_takes_no_confirmation(db):
    pid = await _pair(db)
    old = await _propose(db, pid, "1" * 32, SUP, on=dt.date(2025, 11, 20))
    async with db.session() as s:
        await store.confirm_agreement(s, old, SEE, now=NOW)
    review = await _propose(db, pid, "2" * 32, SEE)
    async with db.session() as s:
        agreed, waiting = await store.agreements_of(s, await s.get(Pairing, pid))
        assert (agreed.id, waiting.id) == (old, review)
        await store.confirm_agreement(s, review, SUP, now=NOW)
    async with db.session() as s:
        assert (await s.get(SupervisionAgreement, old)).status == REPLACED
        assert (await store.agreement_in_force(s, SUP, SEE)).id == review
    pending = await _propose(db, pid, "3" * 32, SUP)
    async with db.session() as s:
        (await s.get(Pairing, pid)).ended_at = NOW
    async with db.session() as s:
        outcome, row = await store.confirm_agreement(s, pending, SEE, now=NOW)
        assert outcome is Confirmation.STALE and row.status == AWAITING


async def test_overdue_agreement_reviews_count_only_active_pairings(db):
    pid = await _pair(db)
    ended = await _pair(db, SUP, "grace.mensah", ended=NOW)
    for p in (pid, ended):
        aid = await _propose(db, p, f"{p:032d}", SUP, on=dt.date(2025, 11, 2))
        async with db.session() as s:
            row = await s.get(SupervisionAgreement, aid)
            row.status, row.supervisee_confirmed_at = AGREED, NOW
    async with db.session() as s:
        items = await store.overdue_agreement_items(s, NOW.date())
        assert [(i.staff_id, i.kind, i.due_on, i.ref) for i in items] == [
            (SEE, "agreement_review", dt.date(2026, 11, 2), SUP)
        ]
        assert await store.overdue_agreement_items(s, dt.date(2026, 11, 2)) == []
