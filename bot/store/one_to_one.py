"""1:1 (targeted) supervision: who supervises whom, their booked meetings, records and their actions, and
supervision agreements (seed 001 App. 1–2, seed 003 "signed by both"): the rows the 1:1 journeys and the
compliance picture read and write. Metadata only — the record itself lives in the supervisor's OneDrive. A
record's drafts, submit key and file delivery state go through bot/records/lifecycle.py (`ONE_TO_ONE`).

Every function takes the caller's session (the journey opens one transaction per turn) and raises the domain
errors of bot/store/errors.py: `NotFound` (no such row), `NotYours` (a row of someone else's: a tampered or
forwarded card), `AlreadyRecorded` (a one-time key that already made its row: a second click).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.errors import AlreadyRecorded, NotFound, NotYours
from bot.store.models_request import Meeting, Pairing
from bot.store.models_targeted import (
    AGREED,
    AWAITING,
    OPEN,
    PENDING,
    REPLACED,
    SupervisionAgreement,
    TargetedAction,
    TargetedRecord,
)

RECENT_RECORDS = 8


# ---- who supervises whom (active pairings) --------------------------------------------------------------------


async def supervisees(s: AsyncSession, supervisor_id: str) -> list[str]:
    """The people this supervisor is currently allocated, once each, in the order the pairings started."""
    rows = (
        await s.execute(
            select(Pairing.supervisee_id)
            .where(Pairing.supervisor_id == supervisor_id, Pairing.ended_at.is_(None))
            .order_by(Pairing.started_at)
        )
    ).scalars()
    return list(dict.fromkeys(rows))


async def find_supervision(s: AsyncSession, supervisor_id: str, supervisee_id: str) -> Pairing | None:
    """The active pairing in which this person is the allocated supervisor of that one, or None."""
    return (
        await s.execute(
            select(Pairing)
            .where(
                Pairing.supervisor_id == supervisor_id,
                Pairing.supervisee_id == supervisee_id,
                Pairing.ended_at.is_(None),
            )
            .order_by(Pairing.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def supervision(s: AsyncSession, supervisor_id: str, supervisee_id: str) -> Pairing:
    """The active pairing of this supervisor with that supervisee; NotYours if they are not (or no longer)
    allocated to them."""
    pairing = await find_supervision(s, supervisor_id, supervisee_id)
    if pairing is None:
        raise NotYours()
    return pairing


async def pairings_of(s: AsyncSession, staff_id: str) -> list[Pairing]:
    """This person's active pairings, as supervisor or as supervisee, oldest first."""
    return list(
        (
            await s.execute(
                select(Pairing)
                .where(
                    or_(Pairing.supervisor_id == staff_id, Pairing.supervisee_id == staff_id),
                    Pairing.ended_at.is_(None),
                )
                .order_by(Pairing.started_at, Pairing.id)
            )
        ).scalars()
    )


async def pairing_of(s: AsyncSession, pairing_id: int, staff_id: str) -> Pairing:
    """A pairing this person is one of the two in (ended or not): NotFound / NotYours otherwise."""
    pairing = await s.get(Pairing, pairing_id)
    if pairing is None:
        raise NotFound()
    if staff_id not in (pairing.supervisor_id, pairing.supervisee_id):
        raise NotYours()
    return pairing


# ---- their booked meetings --------------------------------------------------------------------------------------


async def latest_meeting(s: AsyncSession, supervisor_id: str, supervisee_id: str, now: dt.datetime) -> Meeting | None:
    """The latest booked meeting of the two that has started (the session being written up, usually)."""
    return (
        await s.execute(
            select(Meeting)
            .where(
                Meeting.supervisor_id == supervisor_id,
                Meeting.supervisee_id == supervisee_id,
                Meeting.status == "booked",
                Meeting.starts_at <= now,
            )
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def meeting_on(s: AsyncSession, supervisor_id: str, supervisee_id: str, day: dt.date) -> Meeting | None:
    """A booked meeting of the two on that (school-local) day, or None."""
    return (
        await s.execute(
            select(Meeting)
            .where(
                Meeting.supervisor_id == supervisor_id,
                Meeting.supervisee_id == supervisee_id,
                Meeting.status == "booked",
                Meeting.local_date == day,
            )
            .order_by(Meeting.starts_at)
            .limit(1)
        )
    ).scalar_one_or_none()


# ---- records ----------------------------------------------------------------------------------------------------


async def file_record(
    s: AsyncSession,
    pairing: Pairing,
    *,
    session_date: dt.date,
    next_session_on: dt.date | None,
    template_id: str,
    submit_key: str,
    file_name: str,
    actions: Sequence[Any],
    now: dt.datetime,
) -> TargetedRecord:
    """A record of a session of this pairing and its agreed actions (`text`, `owner_id`, `due_on` each), linked to
    the booked meeting of that day if there is one. The file is not here: the caller queues it in the same
    transaction. AlreadyRecorded if `submit_key` filed a record meanwhile (a second click raced this one)."""
    meeting = await meeting_on(s, pairing.supervisor_id, pairing.supervisee_id, session_date)
    record = TargetedRecord(
        pairing_id=pairing.id,
        meeting_id=meeting.id if meeting else None,
        supervisor_id=pairing.supervisor_id,
        supervisee_id=pairing.supervisee_id,
        session_date=session_date,
        next_session_on=next_session_on,
        template_id=template_id,
        submit_key=submit_key,
        file_name=file_name,
        status=PENDING,
        action_count=len(actions),
        submitted_at=now,
    )
    s.add(record)
    try:
        await s.flush()
    except IntegrityError as exc:
        raise AlreadyRecorded() from exc
    s.add_all(
        [
            TargetedAction(
                record_id=record.id,
                supervisor_id=pairing.supervisor_id,
                supervisee_id=pairing.supervisee_id,
                owner_id=a.owner_id,
                text=a.text,
                due_on=a.due_on,
                status=OPEN,
                created_at=now,
            )
            for a in actions
        ]
    )
    await s.flush()
    return record


async def record_of(s: AsyncSession, record_id: int, staff_id: str) -> TargetedRecord:
    """A record for its supervisee, for whoever wrote it (until a handover moved the supervisee on) and for a
    successor a handover gave it to (bot/store/handover.py): NotFound / NotYours for anyone else."""
    from bot.store.handover import may_open

    record = await s.get(TargetedRecord, record_id)
    if record is None:
        raise NotFound()
    if not await may_open(s, record, staff_id):
        raise NotYours()
    return record


async def recent_records(
    s: AsyncSession, supervisor_id: str, *, limit: int = RECENT_RECORDS
) -> Sequence[TargetedRecord]:
    """The supervisor's latest records (the current version of each), by session date (not those of someone
    handed over to a successor)."""
    from bot.store.handover import handed_away

    away = await handed_away(s, supervisor_id)
    rows = (
        (
            await s.execute(
                select(TargetedRecord)
                .where(TargetedRecord.supervisor_id == supervisor_id, TargetedRecord.superseded_by.is_(None))
                .order_by(TargetedRecord.session_date.desc(), TargetedRecord.id.desc())
                .limit(limit + len(away) * limit)
            )
        )
        .scalars()
        .all()
    )
    if away:
        current = set(await supervisees(s, supervisor_id))
        rows = [
            r
            for r in rows
            if r.supervisee_id in current or r.supervisee_id not in away or away[r.supervisee_id] < r.submitted_at
        ]
    return rows[:limit]


# ---- agreed actions (seen by the two people only) -------------------------------------------------------------


async def actions_of(
    s: AsyncSession, staff_id: str, *, done_since: dt.datetime
) -> list[tuple[TargetedAction, dt.date]]:
    """Actions from this person's 1:1 records (as supervisor or supervisee) that are open or were done since
    `done_since`, each with its session's date, by due date."""
    mine = or_(TargetedAction.supervisor_id == staff_id, TargetedAction.supervisee_id == staff_id)
    rows = await s.execute(
        select(TargetedAction, TargetedRecord.session_date)
        .join(TargetedRecord, TargetedRecord.id == TargetedAction.record_id)
        .where(mine, or_(TargetedAction.status == OPEN, TargetedAction.done_at >= done_since))
        .order_by(TargetedAction.due_on, TargetedAction.id)
    )
    return [(a, day) for a, day in rows.all()]


async def open_actions_of_pair(s: AsyncSession, supervisor_id: str, supervisee_id: str) -> list[TargetedAction]:
    """The pair's actions still open from earlier records (carried forward ones included), by due date: the
    "review of actions" that opens their next record (seed 002 App. 2 item 1)."""
    return list(
        (
            await s.execute(
                select(TargetedAction)
                .where(
                    TargetedAction.supervisor_id == supervisor_id,
                    TargetedAction.supervisee_id == supervisee_id,
                    TargetedAction.status == OPEN,
                )
                .order_by(TargetedAction.due_on, TargetedAction.id)
            )
        ).scalars()
    )


async def action_of(s: AsyncSession, action_id: int, staff_id: str) -> TargetedAction:
    """An action for the supervisor or supervisee of its record: NotFound / NotYours for anyone else."""
    action = await s.get(TargetedAction, action_id)
    if action is None:
        raise NotFound()
    if staff_id not in (action.supervisor_id, action.supervisee_id):
        raise NotYours()
    return action


# ---- supervision agreements -------------------------------------------------------------------------------------


def waiting_for(agreement: SupervisionAgreement) -> str:
    """Whose confirmation an agreement still waits for (the supervisee's first, if neither has confirmed)."""
    return agreement.supervisee_id if agreement.supervisee_confirmed_at is None else agreement.supervisor_id


async def agreement_in_force(s: AsyncSession, supervisor_id: str, supervisee_id: str) -> SupervisionAgreement | None:
    """The pair's agreement confirmed by both (the latest, should there ever be two), or None."""
    return (
        await s.execute(
            select(SupervisionAgreement)
            .where(
                SupervisionAgreement.supervisor_id == supervisor_id,
                SupervisionAgreement.supervisee_id == supervisee_id,
                SupervisionAgreement.status == AGREED,
            )
            .order_by(SupervisionAgreement.agreed_on.desc(), SupervisionAgreement.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def agreements_of(
    s: AsyncSession, pairing: Pairing
) -> tuple[SupervisionAgreement | None, SupervisionAgreement | None]:
    """(the agreement in force, one waiting for confirmation) for a pair."""
    rows = (
        (
            await s.execute(
                select(SupervisionAgreement)
                .where(
                    SupervisionAgreement.supervisor_id == pairing.supervisor_id,
                    SupervisionAgreement.supervisee_id == pairing.supervisee_id,
                    SupervisionAgreement.status.in_((AGREED, AWAITING)),
                )
                .order_by(SupervisionAgreement.agreed_on.desc(), SupervisionAgreement.id.desc())
            )
        )
        .scalars()
        .all()
    )
    agreed = next((r for r in rows if r.status == AGREED), None)
    waiting = next((r for r in rows if r.status == AWAITING), None)
    return agreed, waiting


async def agreement_recorded(s: AsyncSession, nonce: str) -> bool:
    """Whether the form with this one-time key was already recorded (a second click)."""
    return (
        await s.execute(select(SupervisionAgreement.id).where(SupervisionAgreement.nonce == nonce))
    ).first() is not None


async def propose_agreement(
    s: AsyncSession,
    pairing: Pairing,
    *,
    nonce: str,
    proposed_by: str,
    agreed_on: dt.date,
    review_due: dt.date,
    frequency: str | None,
    minutes: int | None,
    now: dt.datetime,
) -> SupervisionAgreement:
    """Record that the pair made (or reviewed) their agreement, confirmed by whoever proposes it. It replaces one
    still waiting for confirmation (never one agreed by both). AlreadyRecorded if the form's nonce was used."""
    await s.execute(
        update(SupervisionAgreement)
        .where(
            SupervisionAgreement.supervisor_id == pairing.supervisor_id,
            SupervisionAgreement.supervisee_id == pairing.supervisee_id,
            SupervisionAgreement.status == AWAITING,
        )
        .values(status=REPLACED)
    )
    row = SupervisionAgreement(
        nonce=nonce,
        pairing_id=pairing.id,
        supervisor_id=pairing.supervisor_id,
        supervisee_id=pairing.supervisee_id,
        agreed_on=agreed_on,
        review_due=review_due,
        frequency=frequency,
        minutes=minutes,
        status=AWAITING,
        proposed_by=proposed_by,
        created_at=now,
        supervisor_confirmed_at=now if proposed_by == pairing.supervisor_id else None,
        supervisee_confirmed_at=now if proposed_by == pairing.supervisee_id else None,
    )
    s.add(row)
    try:
        await s.flush()
    except IntegrityError as exc:
        raise AlreadyRecorded() from exc
    return row


class Confirmation(enum.Enum):
    """What one person's confirming click did."""

    CONFIRMED = "confirmed"  # now agreed by both; any older agreement in force is replaced
    ALREADY_AGREED = "already"  # both had confirmed already
    STALE = "stale"  # replaced by a newer proposal, or the supervision has ended
    NOT_THEIR_TURN = "not_theirs"  # they confirmed it already; it waits for the other person


async def confirm_agreement(
    s: AsyncSession, agreement_id: int, staff_id: str, *, now: dt.datetime
) -> tuple[Confirmation, SupervisionAgreement]:
    """This person's confirmation of an agreement of theirs (NotFound / NotYours for anyone else's)."""
    row = await s.get(SupervisionAgreement, agreement_id)
    if row is None:
        raise NotFound()
    if staff_id not in (row.supervisor_id, row.supervisee_id):
        raise NotYours()
    if row.status == AGREED:
        return Confirmation.ALREADY_AGREED, row
    if row.status == REPLACED or await find_supervision(s, row.supervisor_id, row.supervisee_id) is None:
        return Confirmation.STALE, row
    if waiting_for(row) != staff_id:
        return Confirmation.NOT_THEIR_TURN, row
    if staff_id == row.supervisor_id:
        row.supervisor_confirmed_at = now
    else:
        row.supervisee_confirmed_at = now
    row.status = AGREED
    await s.execute(
        update(SupervisionAgreement)
        .where(
            SupervisionAgreement.supervisor_id == row.supervisor_id,
            SupervisionAgreement.supervisee_id == row.supervisee_id,
            SupervisionAgreement.status == AGREED,
            SupervisionAgreement.id != row.id,
        )
        .values(status=REPLACED)
    )
    return Confirmation.CONFIRMED, row


async def overdue_agreement_items(s, today: dt.date) -> list:
    """Agreements in force for active pairings whose annual review date has passed, as compliance OpenItems
    (kind "agreement_review", staff_id the supervisee, ref "supervisor id"). Dates and people only."""
    from bot.domain.compliance import OpenItem

    rows = (
        (
            await s.execute(
                select(SupervisionAgreement)
                .join(
                    Pairing,
                    (Pairing.supervisor_id == SupervisionAgreement.supervisor_id)
                    & (Pairing.supervisee_id == SupervisionAgreement.supervisee_id),
                )
                .where(
                    SupervisionAgreement.status == AGREED,
                    Pairing.ended_at.is_(None),
                    SupervisionAgreement.review_due < today,
                )
            )
        )
        .scalars()
        .unique()
        .all()
    )
    return [
        OpenItem(staff_id=r.supervisee_id, kind="agreement_review", due_on=r.review_due, ref=r.supervisor_id)
        for r in rows
    ]
