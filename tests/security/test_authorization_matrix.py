"""The role × action authorisation matrix, generated from the router (issue 14 §1).

Every typed command (router.commands) and every card verb (router.verbs) is attempted by every role persona of the
demo school — a member of staff, a trained supervisor, an allocator who is also in the DSL team, the DSL, and
someone not on the staff list — over real HTTP, with the card data each verb expects but naming OTHER people's real
ids and keys, from a store where every kind of object exists for someone else (tests/security/matrix_kit.py: the
journeys themselves made them, as people who are not personas).

What each pair must do comes from `ROWS` below, one row per verb and per command:
- the router's own `Permission.allows(actor)` false → refused;
- `OWN`: the verb acts on an object that must be the actor's own (a draft, your request, your meeting, your 1:1
  record, your agreement…) → on someone else's it is refused, whatever the role;
- `TEAM(check)`: a legitimate team-wide action (the DSL team amending any group record, an allocator allocating
  any request) → allowed for whoever passes `check`, refused for others;
- `SELF`: names nobody else's object (opens a form, lists your own) → allowed whenever the permission allows.
A verb or command without a row fails the test: a new verb gets a row, and so a decision, before it ships.

Every refused pair: HTTP 200 with a refusal (a card or a message, never 5xx), and nothing changed — every row of
every table SQLAlchemy's metadata declares (the outbox and the local calendar tables included) and every file under
LOCAL_M365_DIR, before/after; a pair the router refuses shows the permission's own sentence; and no refused persona
is shown someone else's stored words (every text the seed typed says "Seeded"). Someone not on the staff list is
refused everything. Controls: with the very data the personas were refused, the object's owner does change the
store (so the refusals are about whose object it is, not about data that could never work). Allowed pairs run
after every refusal (they may change the store) and must answer 200 too. Run with -s for the figure. SQLite runs
the whole matrix; PostgreSQL a smoke subset.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import SERVICES
from bot.school import Role, StaffMember
from tests.fakes.teams import Person, person
from tests.security import matrix_kit

STRANGER = Person("stranger", "99999999-0000-4000-8000-000000000000", "A Stranger")
PERSONAS = ["grace.mensah", "tom.hollis", "priya.raman", "daniel.whitcombe", "amara.okafor", "stranger"]


@dataclass(frozen=True)
class Row:
    """What acting on someone else's object means for this verb: `others` says who may (None: nobody)."""

    kind: str
    others: Callable[[StaffMember], bool] | None = None

    def allowed(self, actor: StaffMember | None) -> bool:
        if actor is None:
            return False  # not on the staff list: nothing that names an object, nothing that writes
        if self.kind == "self":
            return True
        return self.others is not None and self.others(actor)


SELF = Row("self")
OWN = Row("own")


def TEAM(check: Callable[[StaffMember], bool]) -> Row:  # noqa: N802 — reads as a table entry
    return Row("team", check)


def dsl(a: StaffMember) -> bool:
    return a.has(Role.DSL)


def allocator(a: StaffMember) -> bool:
    return a.has(Role.ALLOCATOR)


ROWS: dict[str, Row] = {
    # requests
    "request.open": SELF,
    "request.list": SELF,
    "request.submit": OWN,
    "request.status": OWN,
    "request.withdraw": OWN,
    "request.allocation": TEAM(allocator),
    "request.allocate": TEAM(allocator),
    # scheduling
    "schedule.mine": SELF,
    "schedule.offer": OWN,
    "schedule.book": OWN,
    "meeting.view": OWN,
    "meeting.rearrange": OWN,
    "meeting.cancel_start": OWN,
    "meeting.cancel": OWN,
    "schedule.pairing_offer": OWN,
    "schedule.pairing_end": OWN,
    "series.start": SELF,
    "series.preview": OWN,  # only with someone allocated to you
    "series.book": OWN,
    # group records (the DSL team's: any of them may record a session or amend a record; drafts are their owner's)
    "grouprec.start": SELF,
    "grouprec.open": TEAM(dsl),
    "grouprec.resume": OWN,
    "grouprec.adhoc": SELF,
    "grouprec.adhoc_next": SELF,
    "grouprec.save": OWN,
    "grouprec.submit": OWN,
    "grouprec.discard": OWN,
    "grouprec.amend": TEAM(dsl),
    # attendees confirm a group record (where the school asks for it): only someone who came, their own signature
    "grouprec.sign": OWN,
    "grouprec.change": OWN,
    "grouprec.schedule": SELF,
    "grouprec.schedule_submit": SELF,
    "actions.list": SELF,
    "actions.done": TEAM(dsl),
    "actions.reopen": TEAM(dsl),
    # compliance and reminders
    "compliance.attendance": SELF,
    "compliance.attend": SELF,
    "compliance.mopup.propose": TEAM(dsl),
    "compliance.mopup.confirm": TEAM(dsl),
    "compliance.mopup.decline": TEAM(dsl),
    "reminders.preview": SELF,
    "reminders.send": TEAM(dsl),
    # specialist and enrichment sessions
    "specialist.setup": SELF,
    "specialist.find": OWN,
    "specialist.book": OWN,
    "specialist.view": OWN,
    "specialist.cancel": OWN,
    "specnotes.open": OWN,  # the session's leaders only
    "specnotes.save": OWN,
    "specnotes.submit": OWN,
    "specnotes.discard": OWN,
    "specnotes.file": OWN,  # its supervisor and the attendees it was shared with
    "enrichment.open": SELF,
    "enrichment.find": SELF,
    # moving or cancelling any booked group session: the DSL team (or its facilitator / booker, who are not personas)
    "gsession.view": TEAM(dsl),
    "gsession.move": TEAM(dsl),
    "gsession.cancel": TEAM(dsl),
    # the supervisor pool (kept by the DSL team)
    "pool.show": SELF,
    "pool.add": TEAM(dsl),
    "pool.retire": TEAM(dsl),
    # 1:1 records, agreements, agreed actions: the two people in the pairing only
    "targeted.start": SELF,
    "targeted.open": OWN,
    "targeted.resume": OWN,
    "targeted.save": OWN,
    "targeted.submit": OWN,
    "targeted.discard": OWN,
    "targeted.file": OWN,
    # sign-off: only the supervisee confirms or asks for a change; only the supervisor amends
    "targeted.sign": OWN,
    "targeted.change": OWN,
    "targeted.amend": OWN,
    "targeted.amend_submit": OWN,
    "agreement.show": SELF,
    "agreement.form": OWN,
    "agreement.submit": OWN,
    "agreement.confirm": OWN,
    "targeted.actions": SELF,
    "targeted.action_done": OWN,
    "targeted.action_reopen": OWN,
    "help.show": SELF,
    "audit.show": TEAM(dsl),  # the DSL team reads anyone's trail (ids and action names only)
    "trust.show": SELF,  # figures only, for the trust file's leads (nobody here: one school); writes only audit
    # exports: a half term's files for the channel; names nobody's object (the permission decides, and the journey
    # refuses parts not offered to the person)
    "export.start": SELF,
    "export.run": SELF,
    # handover of a supervisee to a new supervisor (seed 004 §5): the DSL team's decision, for anyone
    "handover.form": SELF,
    "handover.submit": TEAM(dsl),
}
#: Typed commands (by their first word): none names an object; the permission decides.
COMMAND_ROWS: dict[str, Row] = {
    w: SELF
    for w in (
        "request",
        "requests",
        "sessions",
        "series",
        "record",
        "schedule",
        "actions",
        "attendance",
        "reminders",
        "specialist",
        "enrichment",
        "pool",
        "note",
        "agreement",
        "myactions",
        "audit",
        "trust",
        "export",
        "handover",
        "help",
    )
}


def _router(teams):
    return teams.app[SERVICES].router


def test_every_verb_and_command_has_a_row():
    """A new verb or command without a row fails here, before it can ship without a decision."""
    from bot.journeys import build_router

    router = build_router()
    assert sorted(set(router.verbs) - set(ROWS)) == [], "verbs without a row in ROWS"
    assert sorted(set(ROWS) - set(router.verbs)) == [], "rows for verbs the router no longer has"
    words = {c.words[0] for c in router.commands}
    assert sorted(words - set(COMMAND_ROWS)) == [], "commands without a row in COMMAND_ROWS"
    assert sorted(set(COMMAND_ROWS) - words) == [], "rows for commands the router no longer has"


# ---- other people's real objects, by the field names the verbs read ----------------------------------------
NOT_PERSONAS = set(matrix_kit.SEED_PEOPLE) | {"nadia.farouk"}
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)  # the `clock` fixture's


#: Controls, filled in by `real_ids`: the owner of the object a verb's data names. With the very data every
#: persona was refused, the owner's click must change the store — so the refusals were about whose object it
#: is, not about data that could never have worked.
owners: dict[str, str] = {}


async def real_ids(db) -> dict[str, dict]:
    """Per verb family, the card data naming someone else's real object (never a persona's)."""
    from bot.store.models_compliance import MopUpProposal
    from bot.store.models_group_record import GroupRecord, GroupRecordDraft, RecordAction
    from bot.store.models_request import Meeting, Pairing, SupervisionRequest
    from bot.store.models_targeted import SupervisionAgreement, TargetedAction, TargetedRecord, TargetedRecordDraft

    async def first(query):
        async with db.session() as s:
            return (await s.execute(query.limit(1))).scalars().first()

    req = await first(
        select(SupervisionRequest)
        .where(
            SupervisionRequest.requester_id.in_(NOT_PERSONAS), SupervisionRequest.status.in_(("submitted", "allocated"))
        )
        .order_by(SupervisionRequest.id)
    )
    meeting = await first(
        select(Meeting)
        .where(Meeting.supervisor_id.in_(NOT_PERSONAS), Meeting.status == "booked", Meeting.starts_at > NOW)
        .order_by(Meeting.id)
    )
    pairing = await first(
        select(Pairing).where(Pairing.supervisor_id.in_(NOT_PERSONAS), Pairing.ended_at.is_(None)).order_by(Pairing.id)
    )
    grec = await first(select(GroupRecord).order_by(GroupRecord.id))
    gdraft = await first(select(GroupRecordDraft).order_by(GroupRecordDraft.id))
    gaction = await first(select(RecordAction).order_by(RecordAction.id))
    trec = await first(select(TargetedRecord).order_by(TargetedRecord.id))
    tdraft = await first(select(TargetedRecordDraft).order_by(TargetedRecordDraft.id))
    taction = await first(select(TargetedAction).order_by(TargetedAction.id))
    agreement = await first(select(SupervisionAgreement).order_by(SupervisionAgreement.id.desc()))
    proposal = await first(select(MopUpProposal).order_by(MopUpProposal.id))
    assert all(
        o is not None
        for o in (req, meeting, pairing, grec, gdraft, gaction, trec, tdraft, taction, agreement, proposal)
    )
    assert gdraft.owner_id in NOT_PERSONAS and tdraft.owner_id in NOT_PERSONAS
    assert {
        trec.supervisor_id,
        trec.supervisee_id,
        taction.supervisor_id,
        taction.supervisee_id,
        agreement.supervisor_id,
        agreement.supervisee_id,
    } <= NOT_PERSONAS
    owners.clear()
    owners.update(
        {
            "request.withdraw": req.requester_id,
            "grouprec.save": gdraft.owner_id,
            "grouprec.submit": gdraft.owner_id,
            "targeted.save": tdraft.owner_id,
            "targeted.submit": tdraft.owner_id,
            "agreement.confirm": agreement.supervisee_id,
            "targeted.action_done": taction.owner_id,
            "meeting.cancel": meeting.supervisor_id,
            "schedule.pairing_end": pairing.supervisor_id,
        }
    )
    return {
        "request": {"request_id": req.id, "supervisor_id": "kate.lowther"},
        "schedule": {"request_id": req.id, "pairing_id": pairing.id, "meeting_id": meeting.id, "confirm": True},
        "meeting": {"meeting_id": meeting.id, "cancelling": True},
        "grouprec": {
            **matrix_kit.PRESSED["grouprec.save"],
            "session_id": gdraft.session_id,
            "draft_key": gdraft.draft_key,
            "record_id": None,
        },
        # A record card carries the record instead of the session (amending: bot/journeys/group_record.py).
        "grouprec.amend": {"record_id": grec.id},
        "actions": {"action_id": gaction.id, "action_ids": [gaction.id]},
        "compliance": {"proposal": proposal.id},
        "pool": {"staff_id": "kate.lowther"},
        "targeted": {
            **matrix_kit.PRESSED["targeted.save"],
            "draft_key": tdraft.draft_key,
            "supervisee": tdraft.supervisee_id,
            "record_id": trec.id,
            "action_id": taction.id,
        },
        "agreement": {"pairing_id": agreement.pairing_id, "agreement_id": agreement.id, **matrix_kit.AGREE},
    }


def card_data(verb: str, harvested: dict[str, list[dict]], ids: dict[str, dict]) -> dict:
    """What the bot's own button for this verb carried (as seen by its owner), with someone else's real ids (a
    None drops a field the button carried: a group record card names the record or the session, not both)."""
    family = verb.split(".", 1)[0]
    data = {**(harvested.get(verb) or [{}])[0], **ids.get(family, {}), **ids.get(verb, {})}
    # The text differs from what was seeded (a save changes the draft; and a refusal showing "Seeded" shows
    # someone else's stored words).
    return {k: (MATRIX_TEXT if isinstance(v, str) and SEEDED in v else v) for k, v in data.items() if v is not None}


# ---- one attempt -------------------------------------------------------------------------------------------
def _answered(status: int, body, sent: list) -> bool:
    """A 200 (201 for a typed message: botbuilder's answer to a message activity) with something shown: the card
    or message in place of the clicked one, or a message in the chat."""
    if status not in (200, 201):
        return False
    if isinstance(body, dict) and body.get("value"):
        return True
    return any(s.activity.get("text") or s.activity.get("attachments") for s in sent)


LAST_SHOWN: list[str] = [""]
SEEDED = "Seeded"  # in every text the seed typed (matrix_kit answers, hostile._filled)
MATRIX_TEXT = "Typed during the matrix."


async def attempt(teams, who: Person, what: str, data: dict | None) -> tuple[int, bool]:
    teams.connector.clear()
    if data is None:  # a typed command
        status = await teams.say(who, what)
        body = None
    else:
        status, body = await teams.submit(who, what, data)
    LAST_SHOWN[0] = json.dumps([body, [s.activity for s in teams.connector.sent]], ensure_ascii=False)
    return status, _answered(status, body, teams.connector.sent)


def leaked(shown: str) -> bool:
    """Someone else's stored words (every text the seed typed says "Seeded") in what a refused persona saw."""
    return SEEDED in shown


async def controls(teams, db, school, m365: Path, harvested, ids, failures: list[str]) -> None:
    """The owner, with the very data every persona was refused, does change the store."""
    for verb, owner in owners.items():
        before = await matrix_kit.snapshot(db, m365)
        status, _ = await attempt(teams, person(school, owner), verb, card_data(verb, harvested, ids))
        if status != 200 or not matrix_kit.diff(before, await matrix_kit.snapshot(db, m365)):
            failures.append(f"control: {verb} by its owner {owner} with the same data changed nothing")


async def _matrix(
    teams, db, school, settings, *, only: set[str] | None = None, personas: list[str] = PERSONAS
) -> tuple[int, int, list[str]]:
    """The matrix (every verb and command × `personas`, or only the verbs and commands in `only`)."""
    router = _router(teams)
    harvest = await matrix_kit.seed(teams, db, school, router, teams.app[SERVICES])
    assert await matrix_kit.missing_kinds(db) == [], "the seed must hold every kind of object"
    harvested: dict[str, list[dict]] = {}
    for verb, d in harvest.actions:
        harvested.setdefault(verb, []).append(d)
    ids = await real_ids(db)
    people = {p: (STRANGER if p == "stranger" else person(school, p)) for p in personas}
    for p in people.values():
        await teams.install(p)
    m365 = Path(settings.local_m365_dir)

    # (what, data or None for a command, persona, expected refused, the router's refusal sentence if it refuses)
    attempts = []
    for c in router.commands:
        if only is not None and c.words[0] not in only:
            continue
        for p in personas:
            actor = school.staff.get(p)
            by_router = None if c.allowed.allows(actor, school) else c.allowed.refusal
            refused = by_router is not None or not COMMAND_ROWS[c.words[0]].allowed(actor)
            attempts.append((c.words[0], None, p, refused, by_router))
    for name, verb in sorted(router.verbs.items()):
        if only is not None and name not in only:
            continue
        for p in personas:
            actor = school.staff.get(p)
            by_router = None if verb.allowed.allows(actor, school) else verb.allowed.refusal
            refused = by_router is not None or not ROWS[name].allowed(actor)
            attempts.append((name, card_data(name, harvested, ids), p, refused, by_router))

    failures: list[str] = []
    refused_n = 0
    refused_first = sorted(attempts, key=lambda a: not a[3])
    allowed_from = next(i for i, a in enumerate(refused_first) if not a[3])
    for i, (what, data, p, refused, by_router) in enumerate(refused_first):  # every refused pair first
        if i == allowed_from:
            await controls(teams, db, school, m365, harvested, ids, failures)
        before = await matrix_kit.snapshot(db, m365) if refused else None
        status, answered = await attempt(teams, people[p], what, data)
        if status >= 500 or not answered:
            failures.append(f"{what} as {p}: HTTP {status}, answered={answered}")
        if refused:
            refused_n += 1
            changed = matrix_kit.diff(before, await matrix_kit.snapshot(db, m365))
            if changed:
                failures.append(f"{what} as {p} must be refused but changed: {', '.join(changed)}")
            if by_router is not None and by_router not in LAST_SHOWN[0]:
                failures.append(f"{what} as {p}: not answered with the permission's refusal")
            if leaked(LAST_SHOWN[0]):
                failures.append(f"{what} as {p} was refused but shown someone else's stored text")
    n_verbs = len({a[0] for a in attempts})
    print(f"matrix: {n_verbs} verbs × {len(personas)} personas = {len(attempts)} attempts, {refused_n} refused")
    return len(attempts), refused_n, failures


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_role_by_action_matrix(teams, db, school, settings):
    n, refused, failures = await _matrix(teams, db, school, settings)
    assert not failures, "\n".join(failures)
    router = _router(teams)
    assert n == (len(router.verbs) + len(router.commands)) * len(PERSONAS) and refused > n // 2


#: The PostgreSQL smoke subset: the object-owning verbs (drafts, records, requests, meetings, agreements, actions)
#: and a few team-wide ones, by a member of staff, a supervisor, the DSL and someone not on the staff list.
SMOKE = {
    "request.status",
    "request.withdraw",
    "request.allocate",
    "meeting.view",
    "meeting.cancel",
    "schedule.pairing_end",
    "grouprec.save",
    "grouprec.submit",
    "grouprec.discard",
    "grouprec.amend",
    "actions.done",
    "targeted.open",
    "targeted.save",
    "targeted.submit",
    "targeted.file",
    "agreement.confirm",
    "targeted.action_done",
    "pool.retire",
    "compliance.mopup.confirm",
    "record",
    "note",
}


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_role_by_action_matrix_smoke_on_postgres(teams, db, school, settings):
    n, refused, failures = await _matrix(
        teams, db, school, settings, only=SMOKE, personas=["tom.hollis", "priya.raman", "amara.okafor", "stranger"]
    )
    assert not failures, "\n".join(failures)
    assert n == len(SMOKE) * 4 and refused > n // 2
