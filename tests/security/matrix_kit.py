"""Helpers for the role × action matrix (tests/security/test_authorization_matrix.py): a store seeded with other
people's real objects, and a before/after snapshot of the store and the local Microsoft 365 backend.

Seeding drives the real journeys (tests/fakes/hostile.py `seed`: install, type every command, click every button
the bot's own cards offer, with their inputs filled in) as people who are NOT the matrix's personas, after two
supervision pairings between those people (a store insert, as in tests/journeys/one_to_one_kit.py: no journey
makes a pairing without an allocator, and the allocators are personas). What the seed could not reach is reported
by `missing_kinds`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy import func, select

from tests.fakes import hostile

# Nobody here is a matrix persona: every object they make is "someone else's" for every persona.
SEED_PEOPLE = ["isla.brennan", "joseph.adeyemi", "kate.lowther", "samuel.kerr", "marcus.fenwick", "helen.ashdown"]
PAIRINGS = [("kate.lowther", "isla.brennan"), ("marcus.fenwick", "joseph.adeyemi")]

#: Every kind of object the matrix names (table → what it is); each must exist for someone else after seeding.
KINDS = {
    "supervision_requests": "requests",
    "slot_offers": "slot offers",
    "supervision_meetings": "meetings",
    "group_sessions": "group sessions",
    "group_records": "group records",
    "group_record_versions": "group record versions",
    "record_actions": "group record actions",
    "group_record_drafts": "group-record drafts",
    "targeted_records": "1:1 records",
    "targeted_record_drafts": "1:1 drafts",
    "targeted_actions": "1:1 actions",
    "supervision_agreements": "agreements",
    "supervisor_pool": "pool members",
    "mop_up_proposals": "mop-up proposals",
}


async def pair(db, supervisor: str, supervisee: str) -> int:
    from bot.store.models_request import Meeting, Pairing

    started = dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)
    async with db.session() as s:
        p = Pairing(supervisee_id=supervisee, supervisor_id=supervisor, started_at=started)
        s.add(p)
        await s.flush()
        n = (await s.execute(select(func.count()).select_from(Meeting))).scalar_one()
        for i, day in enumerate((12, 19, 33)):  # two that happened, one still to come (3 December)
            start = dt.datetime(2026, 11, 1, 14, tzinfo=dt.timezone.utc) + dt.timedelta(days=day - 1)
            s.add(
                Meeting(
                    kind="one_to_one",
                    pairing_id=p.id,
                    supervisor_id=supervisor,
                    supervisee_id=supervisee,
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=1),
                    local_date=start.date(),
                    half_term="2026-27 Autumn 2",
                    status="booked",
                    event_key=f"seed-m{n + i}",
                    offer_nonce=f"seed-o{n + i}",
                    booked_by=supervisor,
                    booked_at=start - dt.timedelta(days=3),
                )
            )
        return p.id


def _card(body) -> dict:
    assert body and body.get("type") == "application/vnd.microsoft.card.adaptive", body
    return body["value"]


def _button(card: dict, verb: str) -> dict:
    for node in hostile._walk(card):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            return node
    raise AssertionError(f"no {verb} button on the card")


#: The data of the last press of each verb while seeding (the card's own inputs filled in, as its owner sent it).
PRESSED: dict[str, dict] = {}


async def press(driver, who, card: dict, verb: str, answers: dict) -> dict:
    """Press a button as Teams would (its data with the card's inputs); returns the card shown in place."""
    data = {**hostile._filled(card), **answers, **(_button(card, verb).get("data") or {})}
    PRESSED[verb] = data
    status, body = await driver.submit(who, verb, data)
    assert status == 200, (verb, status)
    return _card(body)


GROUP_ANSWERS = {
    "f_summary": "Seeded group discussion.",
    "f_confidentiality": "true",
    "act_0_text": "Seeded group action",
    "act_0_due": "2026-12-01",
}
ONE_TO_ONE_ANSWERS = {
    "sess_date": "2026-11-19",
    "f_previous_actions": "None.",
    "f_discussion": "Seeded 1:1 talk.",
    "f_wellbeing": "Fine.",
    "f_reflections": "Seeded.",
    "f_confidentiality": "true",
    "f_next_session": "2026-12-03",
    "act_0_text": "Seeded 1:1 action",
    "act_0_due": "2026-12-01",
    # The optional case summary left empty (a filled-in row needs a pupil's initials, not the fuzz bench's text).
    **{f"cs_{i}_{part}": "" for i in range(4) for part in ("ref", "needs", "action", "progress")},
}
AGREE = {
    "ag_date": "2026-11-19",
    "ag_frequency": "half_termly",
    "ag_minutes": "60",
    "ag_confidential": "true",
    "ag_records": "true",
    "ag_cancel": "true",
    "ag_difficulty": "true",
    "ag_venue": "The small meeting room by the library",
    "ag_cancelling": "We tell each other as early as we can and agree another date there and then.",
    "ag_between": "A quick word at the end of the day, or a Teams message",
}


async def group_session(db, day: int, facilitator: str) -> int:
    """A scheduled class session (a store insert, as tests/journeys/test_group_record.py does)."""
    from bot.store.models_sessions import GroupSession

    start = dt.datetime(2026, 11, day, 9, tzinfo=dt.timezone.utc)
    async with db.session() as s:
        row = GroupSession(
            kind="class",
            group_id="birch",
            title="Group supervision",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            local_date=start.date(),
            half_term="2026-27 Autumn 2",
            facilitator_id=facilitator,
            status="scheduled",
            external_support=False,
            created_by=facilitator,
            created_at=start - dt.timedelta(days=7),
        )
        s.add(row)
        await s.flush()
        return row.id


async def _drafts(driver, db, school) -> None:
    """Last, what the button sweep would have consumed (it submits or discards every draft, withdraws every request,
    ends every pairing, cancels every meeting it finds): a DSL's group-record draft, a new pairing (Samuel Kerr
    supervises Nadia Farouk) with a session to come, his 1:1 draft and the agreement he proposed, and a request
    Isla Brennan has just made."""
    from tests.fakes.teams import person

    marcus, samuel = person(school, "marcus.fenwick"), person(school, "samuel.kerr")
    isla = person(school, "isla.brennan")
    sid = await group_session(db, 18, "marcus.fenwick")
    _, body = await driver.submit(marcus, "grouprec.open", {"session_id": sid})
    await press(driver, marcus, _card(body), "grouprec.save", GROUP_ANSWERS)
    pid = await pair(db, "samuel.kerr", "nadia.farouk")
    _, body = await driver.submit(samuel, "agreement.form", {"pairing_id": pid})
    await press(driver, samuel, _card(body), "agreement.submit", AGREE)
    _, body = await driver.submit(isla, "request.open", {})
    await press(driver, isla, _card(body), "request.submit", {})
    _, body = await driver.submit(samuel, "targeted.open", {"supervisee": "nadia.farouk"})
    await press(driver, samuel, _card(body), "targeted.save", {**ONE_TO_ONE_ANSWERS, "act_0_owner": "nadia.farouk"})


async def _journeys(driver, db, school, services) -> None:
    """The objects the button sweep does not reach, made by the journeys themselves (as the journey tests do)."""
    from tests.fakes.teams import person

    sessions = [await group_session(db, 16, "helen.ashdown"), await group_session(db, 17, "marcus.fenwick")]
    helen, marcus = person(school, "helen.ashdown"), person(school, "marcus.fenwick")
    kate = person(school, "kate.lowther")
    # A submitted group record (version 1, with an action), delivered to the local Microsoft 365 backend, then
    # amended (version 2); and another DSL's draft left saved.
    _, body = await driver.submit(helen, "grouprec.open", {"session_id": sessions[0]})
    await press(driver, helen, _card(body), "grouprec.submit", GROUP_ANSWERS)
    await services.outbox_worker.drain()
    _, body = await driver.submit(marcus, "grouprec.open", {"session_id": sessions[1]})
    await press(driver, marcus, _card(body), "grouprec.submit", GROUP_ANSWERS)
    # A 1:1 record with an action (Kate supervises Isla), an agreement, and Marcus's saved 1:1 draft for Joseph.
    _, body = await driver.submit(kate, "targeted.open", {"supervisee": "isla.brennan"})
    await press(driver, kate, _card(body), "targeted.submit", {**ONE_TO_ONE_ANSWERS, "act_0_owner": "isla.brennan"})
    _, body = await driver.submit(marcus, "targeted.open", {"supervisee": "joseph.adeyemi"})
    await press(driver, marcus, _card(body), "targeted.submit", {**ONE_TO_ONE_ANSWERS, "act_0_owner": "marcus.fenwick"})
    await services.outbox_worker.drain()


async def seed(driver, db, school, router, services) -> hostile.Harvest:
    PRESSED.clear()
    for supervisor, supervisee in PAIRINGS:
        await pair(db, supervisor, supervisee)
    await _journeys(driver, db, school, services)
    harvest = await hostile.seed(driver, school, router, people=SEED_PEOPLE, depth=3, rounds=2)
    await _drafts(driver, db, school)
    driver.connector.clear()
    return harvest


async def missing_kinds(db) -> list[str]:
    counts = await hostile.row_counts(db)
    return [label for table, label in KINDS.items() if not counts.get(table)]


# ---- snapshot -----------------------------------------------------------------------------------------------
async def store_snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table the models declare (the outbox and the local calendar tables included)."""
    out = {}
    async with db.engine.connect() as conn:
        for table in hostile.all_tables():
            rows = (await conn.execute(select(table))).all()
            out[table.name] = sorted(tuple(repr(v) for v in r) for r in rows)
    return out


def files_snapshot(root: Path) -> dict[str, str]:
    """Every file under LOCAL_M365_DIR (uploaded documents, the local backend's own state), by content hash."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


async def snapshot(db, m365_dir: Path) -> tuple[dict, dict]:
    return await store_snapshot(db), files_snapshot(m365_dir)


AUDIT_TABLE = "audit_events"
_ACTION = 4  # the action column of audit_events (id, at, school_time, actor_id, action, …)


def diff(before: tuple[dict, dict], after: tuple[dict, dict]) -> list[str]:
    """What changed, by table and file name and row count only (never content: it is safeguarding data).

    A refused attempt may add one row to the audit trail, saying it was refused (bot/store/audit.py): that is the
    refusal being recorded, not a change; anything else in the trail is reported. (Not every pair the table calls
    refused is refused by a check: a read-only card shown to someone involved, or help for a stranger, writes
    nothing at all, which the no-change check already covers.)"""
    (sb, fb), (sa, fa) = before, after
    out = [
        f"{t}: {len(sb.get(t, []))}→{len(sa.get(t, []))} rows"
        for t in sorted(set(sb) | set(sa))
        if t != AUDIT_TABLE and sb.get(t) != sa.get(t)
    ]
    old_audit, new_audit = sb.get(AUDIT_TABLE, []), sa.get(AUDIT_TABLE, [])
    added = [r for r in new_audit if r not in old_audit]
    if any(r not in new_audit for r in old_audit):
        out.append(f"{AUDIT_TABLE}: rows changed or removed")
    if [r[_ACTION] for r in added] not in ([], [repr("refused")]):
        out.append(f"{AUDIT_TABLE}: {[r[_ACTION] for r in added]} added (a refusal adds at most one 'refused' row)")
    out += [f"file {name}" for name in sorted(set(fb) | set(fa)) if fb.get(name) != fa.get(name)]
    return out
