"""Supervision requests (seed 001 §3.2: request → allocate → meet): submitting one, allocating a supervisor within
their capacity, withdrawing, the allocators' list, the pairings an allocation starts, and which Teams message holds
the requester's status card.

Functions take the journey's session (the journey owns the transaction) and raise the domain errors of
bot/store/errors.py. Rows carry choices from fixed lists and ids; the optional note is erased when the request is
withdrawn or its supervision ends.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.allocation import Supervisor
from bot.domain.request_rules import RequestForm, Route, allocation_problem
from bot.store import batch
from bot.store.errors import AlreadySent, Concurrent, NotFound, OverCapacity
from bot.store.models import SentCard
from bot.store.models_request import Meeting, Pairing, PoolMember, SupervisionRequest
from bot.store.pool import caseloads, regular_pairings

WAITING, ALLOCATED, BOOKED, WITHDRAWN = "submitted", "allocated", "booked", "withdrawn"
OPEN = (WAITING, ALLOCATED)
#: The allocators' list: urgent first, then by age.
URGENCY_ORDER = {"urgent": 0, "week": 1, "routine": 2}


async def add(
    s: AsyncSession,
    *,
    draft_id: str,
    requester_id: str,
    form: RequestForm,
    route: Route,
    now: dt.datetime,
    with_last_batch: bool = False,
) -> SupervisionRequest:
    """Store a valid request, in one statement (bot/store/batch.py's `insert_object`). A second submit of the same
    form raises AlreadySent: the draft id is unique, so a double click is caught by the write rather than looked
    up first.

    `with_last_batch`: the caller's next write is `write_submitted` and it reads no requests before it. On
    PostgreSQL the request's id is then taken now and its INSERT goes with that batch, in one statement with the
    rows that carry its id (`batch.defer_insert`); a second submit is then refused there, as AlreadySent too."""
    req = SupervisionRequest(
        draft_id=draft_id,
        requester_id=requester_id,
        kind=form.kind,
        preferred_id=form.preferred_id,
        continue_current=form.continue_current,
        topics=list(form.topics),
        urgency=form.urgency,
        times=list(form.times),
        days=list(form.days),
        colleagues=list(form.colleagues),
        note=form.note,
        pupil_cases=form.pupil_cases,
        route=route.value,
        status=WAITING,
        created_at=now,
        updated_at=now,
    )
    if with_last_batch and await batch.defer_insert(s, req):
        return req
    try:
        return await batch.insert_object(s, req)
    except IntegrityError:
        raise AlreadySent() from None


async def by_draft(s: AsyncSession, draft_id: str) -> SupervisionRequest | None:
    return (
        await s.execute(select(SupervisionRequest).where(SupervisionRequest.draft_id == draft_id))
    ).scalar_one_or_none()


async def get(s: AsyncSession, request_id: int | None, *, fresh: bool = False) -> SupervisionRequest:
    """One request; NotFound for an unknown id (or none). `fresh` re-reads a row this session already holds."""
    req = await s.get(SupervisionRequest, request_id, populate_existing=fresh) if request_id is not None else None
    if req is None:
        raise NotFound()
    return req


async def waiting(s: AsyncSession) -> list[SupervisionRequest]:
    """Requests still waiting for a supervisor, urgent first, oldest first within each urgency."""
    rows = (await s.execute(select(SupervisionRequest).where(SupervisionRequest.status == WAITING))).scalars().all()
    return sorted(rows, key=lambda r: (URGENCY_ORDER.get(r.urgency, 3), r.created_at))


async def open_for(s: AsyncSession, requester_id: str) -> list[SupervisionRequest]:
    """This person's requests not yet booked or withdrawn."""
    return list(
        (
            await s.execute(
                select(SupervisionRequest).where(
                    SupervisionRequest.requester_id == requester_id, SupervisionRequest.status.in_(OPEN)
                )
            )
        ).scalars()
    )


async def latest_by(s: AsyncSession, requester_id: str) -> SupervisionRequest | None:
    """This person's most recent request (its usual times guide follow-up sessions)."""
    return (
        await s.execute(
            select(SupervisionRequest)
            .where(SupervisionRequest.requester_id == requester_id)
            # Not by id alone: on PostgreSQL each instance gives out ids from a block of its own (batch.reserve_id).
            .order_by(SupervisionRequest.created_at.desc(), SupervisionRequest.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


# ---- pairings an allocation starts ---------------------------------------------------------------------------
async def pairing_between(s: AsyncSession, supervisee_id: str, supervisor_id: str) -> Pairing | None:
    """Their ongoing pairing (1:1 or specialist support), if any."""
    return (
        await s.execute(
            select(Pairing)
            .where(
                Pairing.supervisee_id == supervisee_id,
                Pairing.supervisor_id == supervisor_id,
                Pairing.ended_at.is_(None),
            )
            .limit(1)
        )
    ).scalar_one_or_none()


async def assign(
    s: AsyncSession, req: SupervisionRequest, supervisor_id: str, *, by: str | None, now: dt.datetime
) -> None:
    """Record the supervisor on the request. For 1:1 and specialist requests (not enrichment week's one-offs) the
    supervisor takes the person onto their caseload; a new 1:1 supervisor replaces any earlier one, while
    specialist support sits alongside it."""
    req.status, req.supervisor_id, req.allocated_by, req.allocated_at, req.updated_at = (
        ALLOCATED,
        supervisor_id,
        by,
        now,
        now,
    )
    if req.route == Route.ENRICHMENT.value or req.kind not in ("one_to_one", "specialist"):
        return
    if req.kind == "one_to_one":
        current = await regular_pairings(s, req.requester_id)
        if any(p.supervisor_id == supervisor_id for p in current):
            return
        for p in current:
            p.ended_at, p.ended_by = now, by or req.requester_id
    elif await pairing_between(s, req.requester_id, supervisor_id) is not None:
        return
    s.add(Pairing(supervisee_id=req.requester_id, supervisor_id=supervisor_id, request_id=req.id, started_at=now))


async def allocate(
    s: AsyncSession,
    request_id: int,
    supervisor: Supervisor,
    *,
    by: str,
    now: dt.datetime,
    suggested_id: str | None,
    already_supervises: bool,
) -> SupervisionRequest:
    """An allocator's choice, written once and within the supervisor's capacity.

    Raises Concurrent when the request is no longer waiting (another allocator, or the requester withdrew: the
    session's copy of the row is refreshed), and OverCapacity (its message says why) when the supervisor's last
    place went to someone else since the allocator's card was checked. The capacity check runs again here, inside
    the write: SQLite has one writer at a time (the claiming UPDATE took it); PostgreSQL locks the supervisor's
    pool row, so allocations to one supervisor go one at a time."""
    claimed = await s.execute(
        update(SupervisionRequest)
        .where(SupervisionRequest.id == request_id, SupervisionRequest.status == WAITING)
        .values(updated_at=now)
    )
    req = await get(s, request_id, fresh=True)
    if claimed.rowcount != 1 or req.status != WAITING:
        raise Concurrent()
    if not already_supervises:
        if s.bind.dialect.name == "postgresql":
            await s.execute(select(PoolMember.id).where(PoolMember.staff_id == supervisor.id).with_for_update())
        problem = allocation_problem(
            supervisor, await caseloads(s), requester_id=req.requester_id, already_supervises=False
        )
        if problem:
            raise OverCapacity(problem)
    req.suggested_id = suggested_id  # what the allocator was shown, for the record
    await assign(s, req, supervisor.id, by=by, now=now)
    return req


async def withdraw(s: AsyncSession, req: SupervisionRequest, *, now: dt.datetime) -> None:
    """The requester takes back a request with nothing booked; the note goes with it. A pairing this request
    started, with no session ever booked, ends too. Raises Concurrent when it was booked or withdrawn meanwhile."""
    done = await s.execute(
        update(SupervisionRequest)
        .where(SupervisionRequest.id == req.id, SupervisionRequest.status.in_(OPEN))
        .values(status=WITHDRAWN, note=None, updated_at=now)
    )
    if done.rowcount != 1:
        raise Concurrent()
    req.status, req.note = WITHDRAWN, None
    started = (
        await s.execute(select(Pairing).where(Pairing.request_id == req.id, Pairing.ended_at.is_(None)))
    ).scalar_one_or_none()
    if started is not None:
        booked = (await s.execute(select(Meeting.id).where(Meeting.pairing_id == started.id).limit(1))).first()
        if booked is None:
            started.ended_at, started.ended_by = now, req.requester_id


def mark_booked(req: SupervisionRequest, *, now: dt.datetime) -> None:
    """A session (1:1 or group) is booked for the request."""
    req.status, req.updated_at = BOOKED, now


def reopen(req: SupervisionRequest, *, now: dt.datetime) -> None:
    """Its session was cancelled without a new time: back to "the supervisor will propose a time" (seed 003)."""
    req.status, req.updated_at = ALLOCATED, now


# ---- the requester's status card -----------------------------------------------------------------------------
def status_ref(request_id: int) -> str:
    """The name the requester's status card is sent and updated under."""
    return f"request:{request_id}:status"


async def write_submitted(
    s: AsyncSession, *, events: list[dict], effects: list, status_card: dict | None, now: dt.datetime
) -> int:
    """A new request's other rows — its audit events (`audit.event_row`), its outbox effects and its status card's
    message (`status_card_row`) — in one trip to the database (bot/store/batch.py), as the journey's last write:
    on SQLite its commit goes in the same trip. Returns how many effects were new."""
    from bot.store.models_audit import AuditEvent

    try:
        _, added, _ = await batch.insert_all(
            s,
            batch.Insert(AuditEvent, events),
            batch.outbox(s, effects, now=now),
            batch.Insert(SentCard, [status_card] if status_card else []),
            last=True,
        )
    except IntegrityError as exc:  # the request's own INSERT, when it came with the batch (add): a second submit
        raise AlreadySent() from exc
    return added


def status_card_row(req: SupervisionRequest, *, activity_id: str, conversation_id: str, now: dt.datetime) -> dict:
    """`remember_status_card`'s row, for a write batched with the submit's other rows (bot/store/batch.py)."""
    return dict(
        staff_id=req.requester_id,
        ref=status_ref(req.id),
        activity_id=activity_id,
        conversation_id=conversation_id,
        sent_at=now,
    )


def remember_status_card(
    s: AsyncSession, req: SupervisionRequest, *, activity_id: str, conversation_id: str, now: dt.datetime
) -> None:
    """The card the requester submitted is their status card: remember which message holds it so later changes
    update it in place. Written with the request (no statement of its own until the commit's flush)."""
    s.add(
        SentCard(
            staff_id=req.requester_id,
            ref=status_ref(req.id),
            activity_id=activity_id,
            conversation_id=conversation_id,
            sent_at=now,
        )
    )
