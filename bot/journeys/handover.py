"""Journey: the DSL team hands a supervisee over to a new supervisor (seed 004 §5: "Should the supervisor leave
then the replacement would have access to the previous six months records"; seed 002 "Roles and
Responsibility": a handover process between all parties when the supervisor changes).

`handover` (DSL team only) → choose the supervisee and the new supervisor → one transaction: the old 1:1 pairing
ends and the new one starts; each 1:1 record of the last six months is re-shared read-only with the successor
through the files port (an outbox row per file: the grant on the file in its writer's OneDrive); every earlier
grant on that supervisee's records that the new arrangement does not keep (a predecessor's from an earlier
handover, anything older than six months) is revoked the same way; the handover, each grant and each revocation
go on the audit trail; the three people are told. From then on the bot opens those records for the successor and
not for the predecessor (bot/store/handover.may_open). Allocation of a *new* request is bot/journeys/allocation.py.
"""

from __future__ import annotations

import logging
import uuid

from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_key, tampered
from bot.journeys.router import Router
from bot.labels import date_label, name_of, short_date
from bot.outbox import effects
from bot.records.rules import clean_text
from bot.school import Role
from bot.store import audit
from bot.store import handover as store
from bot.store.errors import AlreadyRecorded
from bot.store.pool import caseloads
from cards import handover as cards

log = logging.getLogger("bot.journeys.handover")

DSL_ONLY = "Only the DSL team can hand a supervisee over to a new supervisor."
DSL_TEAM = permissions.role(Role.DSL, DSL_ONLY, "DSL team")
TAMPERED = "Sorry, I can't do that with this card. Type handover to start again."
FORMER = "a former member of staff"


def register(router: Router) -> None:
    router.command(
        "handover",
        title="Hand over a supervisee",
        description="Move someone to a new 1:1 supervisor; the new supervisor can read the last six months of "
        "their records.",
        handler=show_form,
        allowed=DSL_TEAM,
        verb=cards.V_FORM,
    )
    router.verb(cards.V_SUBMIT, submit, allowed=DSL_TEAM)


def _name(services: Services, staff_id: str) -> str:
    return name_of(services.school, staff_id, missing=FORMER)


def _supervisors(services: Services, today) -> list[str]:
    """Trained supervisors on the staff today (the pool's people), in roster order."""
    return [m.id for m in services.school.with_role(Role.SUPERVISOR, on=today)]


async def _form(services: Services, turn: Turn, s, nonce: str, values=None, errors=None, notice=None) -> dict:
    today = turn.now.astimezone(services.school.tz).date()
    pairings = await store.supervisees_with_a_supervisor(s)
    load = await caseloads(s)
    view = cards.HandoverFormView(
        supervisees=[
            (p.supervisee_id, f"{_name(services, p.supervisee_id)}, now with {_name(services, p.supervisor_id)}")
            for p in pairings
        ],
        supervisors=[
            (sid, f"{_name(services, sid)} ({load.get(sid, 0)} supervisees)") for sid in _supervisors(services, today)
        ],
        nonce=nonce,
        values=values or {},
        errors=errors or {},
        notice=notice,
    )
    return cards.form_card(view)


async def show_form(services: Services, turn: Turn) -> Reply:
    """Shows the DSL team who has a 1:1 supervisor and the trained supervisors they could move to."""
    async with services.db.session() as s:
        return Reply.of(await _form(services, turn, s, uuid.uuid4().hex))


async def submit(services: Services, turn: Turn) -> Reply:
    """Hands the supervisee over: pairings, record access (re-shared, revoked), audit and notices, at once."""
    nonce = parse_key(turn.data.get("nonce"))
    if nonce is None:
        return tampered(turn, "handover: nonce", TAMPERED)
    try:
        async with services.db.session() as s:
            reply = await _hand_over(services, turn, s, nonce)
        services.wake_outbox()  # after the commit: the shares and notices are there to deliver
        return reply
    except AlreadyRecorded:  # a second click raced the first: this one's transaction was rolled back
        async with services.db.session() as s:
            return await _already(services, s, nonce)


async def _already(services: Services, s, nonce: str) -> Reply:
    done = await store.handover_done(s, nonce)
    if done is None:
        raise AlreadyRecorded()
    return Reply.of(
        cards.done_card(
            cards.HandoverDoneView(
                supervisee=_name(services, done.supervisee_id),
                predecessor=_name(services, done.from_id),
                successor=_name(services, done.to_id),
                since_label=date_label(done.records_since),
                shared=done.record_count,
                revoked=0,
                already=True,
            )
        )
    )


async def _hand_over(services: Services, turn: Turn, s, nonce: str) -> Reply:
    """The submit's one transaction."""
    if await store.handover_done(s, nonce) is not None:
        return await _already(services, s, nonce)
    today = turn.now.astimezone(services.school.tz).date()
    d = turn.data
    values = {k: clean_text(d.get(k), multiline=False) for k in ("ho_supervisee", "ho_successor") if d.get(k)}
    supervisee, successor = values.get("ho_supervisee"), values.get("ho_successor")
    errors: dict[str, str] = {}
    current = await store.current_pairing(s, supervisee) if supervisee else None
    if not supervisee:
        errors["ho_supervisee"] = "Choose who is moving."
    elif current is None:
        errors["ho_supervisee"] = "They have no 1:1 supervisor at the moment: allocate one from their request."
    if not successor:
        errors["ho_successor"] = "Choose their new supervisor."
    elif successor not in _supervisors(services, today):
        # The card only offers trained supervisors on the staff: anything else came from a tampered card.
        return tampered(turn, "handover: successor not a trained supervisor", TAMPERED)
    elif current is not None and successor == current.supervisor_id:
        errors["ho_successor"] = "That is their supervisor already: choose someone else."
    elif successor == supervisee:
        errors["ho_successor"] = "Someone can't supervise themselves: choose someone else."
    if errors:
        return Reply.of(await _form(services, turn, s, nonce, values, errors))
    predecessor = current.supervisor_id
    row, granted, revoked = await store.hand_over(
        s, current, successor, nonce=nonce, by=turn.actor.id, today=today, now=turn.now
    )
    chain = f"handover:{row.id}"
    queued = []
    # Revocations first (same chain, in order), so nobody holds two sets of access at any point after delivery.
    for access, record in revoked:
        queued.append(
            effects.personal_revoke(
                record.supervisor_id,
                record.item_id,
                recipient_id=access.staff_id,
                key=f"handover:{row.id}:revoke:{access.id}",
                chain=chain,
            )
        )
    for _access, record in granted:
        queued.append(
            effects.personal_grant(
                record.supervisor_id,
                record.item_id,
                share_with_id=successor,
                key=f"handover:{row.id}:grant:{record.id}",
                chain=chain,
            )
        )
    since = date_label(row.records_since)
    queued += [
        effects.notify(
            successor,
            cards.successor_notice(
                supervisee=_name(services, supervisee),
                since_label=since,
                records=[(r.id, short_date(r.session_date)) for _, r in granted],
                by=turn.actor.name,
            ),
            key=f"handover:{row.id}:successor",
            chain=chain,  # after the grants: the buttons work once the files are shared
        ),
        effects.notify(
            predecessor,
            cards.predecessor_notice(supervisee=_name(services, supervisee), successor=_name(services, successor)),
            key=f"handover:{row.id}:predecessor",
        ),
        effects.notify(
            supervisee,
            cards.supervisee_notice(successor=_name(services, successor), predecessor=_name(services, predecessor)),
            key=f"handover:{row.id}:supervisee",
        ),
    ]
    await effects.add(s, *queued, now=turn.now)
    await audited(services, turn, s, audit.CREATED, audit.HANDOVER, row.id)
    for access, _ in granted:
        await audited(services, turn, s, audit.CREATED, audit.RECORD_ACCESS, access.id)
    for access, _ in revoked:
        await audited(services, turn, s, audit.DELETED, audit.RECORD_ACCESS, access.id)
    await audited(services, turn, s, audit.CHANGED, audit.PERSON, supervisee)
    log.info("handover: handover=%s granted=%s revoked=%s", row.id, len(granted), len(revoked))
    return Reply.of(
        cards.done_card(
            cards.HandoverDoneView(
                supervisee=_name(services, supervisee),
                predecessor=_name(services, predecessor),
                successor=_name(services, successor),
                since_label=since,
                shared=len(granted),
                revoked=len(revoked),
            )
        )
    )
