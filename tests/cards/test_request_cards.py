"""Every card of the request, scheduling, pool and specialist journeys passes the v1.5 schema and Teams' size limit,
in its ordinary and its worst-case shapes (a full roster, long names, every error shown)."""

from __future__ import annotations

import json

import pytest

from cards import pool, request, scheduling, specialist
from cards.base import TEAMS_MAX_CARD_BYTES, card_size, validation_errors

ROSTER = [(f"person.{i}", f"Firstname{i} Longsurname-Doublebarrel{i}") for i in range(120)]
POOL = [(f"sup.{i}", f"Supervisor {i}, Deputy Designated Safeguarding Lead and Pastoral Lead") for i in range(20)]
ERRS = {
    k: f"Error for {k}"
    for k in (
        "kind",
        "preferred",
        "topics",
        "urgency",
        "times",
        "days",
        "note",
        "colleagues",
        "chosen",
        "slot",
        "staff",
        "trained_on",
        "capacity",
        "supervisors",
        "minutes",
        "soon",
        "date",
        "time",
        "invite",
    )
}
SLOTS = [
    ("2026-11-24T14:00:00+00:00", "Tue 24 Nov, 14:00–15:00"),
    ("2026-11-25T09:00:00+00:00", "Wed 25 Nov, 09:00–10:00"),
    ("2026-11-26T13:30:00+00:00", "Thu 26 Nov, 13:30–14:30"),
    ("2026-11-27T10:00:00+00:00", "Fri 27 Nov, 10:00–11:00"),
    ("2026-11-30T11:00:00+00:00", "Mon 30 Nov, 11:00–12:00"),
]


def ok(c: dict) -> dict:
    errs = validation_errors(c)
    assert not errs, errs
    assert card_size(c) < TEAMS_MAX_CARD_BYTES
    return c


def inputs(c: dict) -> dict[str, dict]:
    out = {}

    def walk(n):
        if isinstance(n, dict):
            if str(n.get("type", "")).startswith("Input."):
                out[n["id"]] = n
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(c)
    return out


@pytest.mark.parametrize(
    "current,enrichment,errors", [(None, None, {}), (("sup.1", "Supervisor 1"), "It's enrichment week", ERRS)]
)
def test_request_form(current, enrichment, errors):
    c = ok(
        request.request_form(
            request.RequestFormView(
                draft_id="abcdefgh1234",
                pool=POOL,
                colleagues=ROSTER[:60],
                current_supervisor=current,
                enrichment=enrichment,
                values={"note": "n" * 300, "topics": "wellbeing,other"},
                errors=errors,
                top_error="Check" if errors else None,
            )
        )
    )
    ins = inputs(c)
    assert ins["note"]["maxLength"] == 300
    assert all(ins[k]["isRequired"] for k in ("kind", "preferred", "topics", "urgency", "times"))
    assert ins["topics"]["isMultiSelect"] and ins["topics"]["value"] == "wellbeing,other"
    assert c["actions"][0]["data"] == {"draft_id": "abcdefgh1234"}
    if errors:
        assert "Error for note" in json.dumps(c)


@pytest.mark.parametrize("status", ["submitted", "allocated", "booked", "withdrawn"])
def test_status_card(status):
    c = ok(
        request.request_status(
            request.RequestStatusView(
                request_id=7,
                status=status,
                kind="one_to_one",
                topics=["wellbeing", "safeguarding"],
                urgency="week",
                supervisor_name="Priya Raman" if status != "submitted" else None,
                meeting_label="Tue 24 Nov, 14:00–15:00",
                meeting_id=3 if status == "booked" else None,
                message="Hello",
            )
        )
    )
    assert c["refresh"]["action"]["verb"] == "request.status" and c["refresh"]["action"]["data"] == {"request_id": 7}
    verbs = {a["verb"] for a in c.get("actions", [])}
    assert ("request.withdraw" in verbs) == (status in ("submitted", "allocated"))
    assert ("meeting.cancel_start" in verbs) == (status == "booked")


@pytest.mark.parametrize(
    "status,can", [("submitted", True), ("submitted", False), ("allocated", True), ("withdrawn", True)]
)
def test_allocation_card(status, can):
    choices = [
        request.PoolChoice(i, n, load=i.endswith("1") and 4 or 1, capacity=4, full=i.endswith("1")) for i, n in POOL
    ]
    c = ok(
        request.allocation_card(
            request.AllocationView(
                request_id=9,
                status=status,
                requester_name="Tom Hollis",
                requester_role="Teaching assistant",
                kind="specialist",
                topics=["wellbeing"],
                urgency="urgent",
                preferred_name="Priya Raman",
                continue_name=None,
                suggested_id="sup.2",
                suggested_name="Supervisor 2",
                suggestion_reason="lightest caseload",
                choices=choices,
                created_label="Mon 23 Nov, 10:00",
                supervisor_name="Priya Raman",
                allocated_by_name="Daniel Whitcombe",
                can_allocate=can,
                errors={"chosen": "full"},
            )
        )
    )
    text = json.dumps(c)
    assert c["body"][0]["text"].startswith("Urgent: ")
    if status == "submitted" and can:
        assert {a["data"].get("use") for a in c["actions"]} == {"suggested", "chosen"}
        one_click = next(a for a in c["actions"] if a["data"].get("use") == "suggested")
        assert one_click["associatedInputs"] == "none"
    else:
        assert not c.get("actions")
    assert "note" not in text.lower()


def test_allocation_card_with_nobody_free():
    c = ok(
        request.allocation_card(
            request.AllocationView(
                request_id=1,
                status="submitted",
                requester_name="A",
                requester_role="",
                kind="group",
                topics=[],
                urgency="routine",
                preferred_name=None,
                continue_name="B",
                suggested_id=None,
                suggested_name=None,
                suggestion_reason=None,
                choices=[],
                created_label="x",
            )
        )
    )
    assert "Nobody in the pool has room" in json.dumps(c)


def test_lists_and_notices():
    items = [
        request.WaitingRequest(i, f"Person {i}", "one_to_one", "urgent" if i % 3 == 0 else "routine", "Mon")
        for i in range(10)
    ]
    ok(request.requests_list(items, total_open=25))
    ok(request.requests_list([], total_open=0))
    n = ok(
        request.supervisor_allocated_notice(
            request_id=4, supervisee_name="Tom", kind="one_to_one", urgency="urgent", route="enrichment"
        )
    )
    assert n["refresh"]["action"]["verb"] == "schedule.offer"
    ok(request.requester_allocated_notice(request_id=4, supervisor_name="Priya", route="continue"))
    a = ok(request.allocation_notice(request_id=4, requester_name="Tom Hollis", kind="specialist", urgency="urgent"))
    assert a["refresh"]["action"] == {"type": "Action.Execute", "verb": "request.allocation", "data": {"request_id": 4}}
    assert a["body"][0]["text"] == "Urgent: Supervision request from Tom Hollis"


@pytest.mark.parametrize("cancel", [False, True])
def test_offer_cards(cancel):
    details = scheduling.RequestDetails(
        kind="group",
        topics=["other"],
        urgency="routine",
        times=["morning", "midday"],
        days=["mon", "fri"],
        note="n" * 300,
        colleagues=[n for _, n in ROSTER[:15]],
    )
    c = ok(
        scheduling.offer_card(
            scheduling.OfferView(
                nonce="nonce-123",
                heading="Book",
                slots=SLOTS,
                minutes=60,
                details=details,
                warning="calendars unread",
                errors={"slot": "Choose"},
                message="Taken",
                later_data={"request_id": 1, "after": "x"},
                cancel_data={"meeting_id": 2} if cancel else None,
                back=("Keep", "meeting.view", {"meeting_id": 2}),
            )
        )
    )
    book = next(a for a in c["actions"] if a["verb"] == "schedule.book")
    assert book["data"] == {"offer": "nonce-123"} and book.get("associatedInputs") == "auto"
    later = next(a for a in c["actions"] if a["verb"] == "schedule.offer")
    assert later["associatedInputs"] == "none"
    ok(scheduling.offer_card(scheduling.OfferView(nonce="n", heading="Book", slots=[], minutes=60)))


@pytest.mark.parametrize("status", ["booked", "cancelled", "rearranged"])
def test_meeting_and_notices(status):
    c = ok(
        scheduling.meeting_card(
            scheduling.MeetingView(
                meeting_id=5,
                status=status,
                when="Tue 24 Nov, 14:00–15:00",
                other_name="Priya Raman",
                viewer_is_supervisor=False,
                new_when="Wed",
                propose_request_id=3,
            )
        )
    )
    assert c["refresh"]["action"]["data"] == {"meeting_id": 5}
    ok(
        scheduling.change_notice(
            meeting_id=5, actor_name="Tom", old_when="Tue", new_when=None, supervisor_will_propose=True
        )
    )
    ok(
        scheduling.change_notice(
            meeting_id=5, actor_name="Tom", old_when="Tue", new_when="Wed", supervisor_will_propose=False
        )
    )


def test_mine_card_big():
    ok(
        scheduling.mine_card(
            scheduling.MineView(
                person_name="Priya",
                supervisor_name="Amara",
                upcoming=[scheduling.UpcomingItem(i, f"Day {i}", f"Person {i}", group=i % 4 == 0) for i in range(12)],
                open_requests=[(1, "waiting")],
                supervisees=[scheduling.SuperviseeItem(i, f"Person {i}", "1 Sep 2026", None) for i in range(12)],
            )
        )
    )
    ok(
        scheduling.mine_card(
            scheduling.MineView(
                person_name="Tom", supervisor_name=None, upcoming=[], open_requests=[], supervisees=None
            )
        )
    )
    ok(
        scheduling.pairing_end_confirm(
            pairing_id=1, supervisee_name="Tom", supervisor_name="Priya", viewer_is_supervisor=True
        )
    )


def test_pool_cards():
    rows = [pool.PoolRow(i, n, "Teacher", "1 Sep 2024", 2, 4, True) for i, n in POOL]
    c = ok(
        pool.pool_card(
            pool.PoolView(
                active=rows,
                retired=[("Someone", "1 Jan 2026")],
                candidates=ROSTER,
                today_iso="2026-11-23",
                default_capacity=4,
                values={"capacity": "3", "trained_on": "2026-01-01"},
                errors=ERRS,
                message="Saved",
            )
        )
    )
    assert inputs(c)["trained_on"]["max"] == "2026-11-23" and inputs(c)["capacity"]["value"] == 3
    ok(
        pool.pool_card(
            pool.PoolView(
                active=[],
                retired=[],
                candidates=ROSTER[:3],
                today_iso="2026-11-23",
                default_capacity=4,
                values={"capacity": "nonsense"},
            )
        )
    )
    ok(pool.retire_confirm(staff_id="x", name="Priya", load=3))
    ok(pool.retire_confirm(staff_id="x", name="Priya", load=0))


def test_specialist_cards():
    s = ok(
        specialist.setup_card(
            specialist.SetupView(
                nonce="n",
                staff=ROSTER,
                supervisors=POOL,
                errors=ERRS,
                values={"external": "true", "staff": "person.1,person.2"},
            )
        )
    )
    assert inputs(s)["external"]["valueOn"] == "true"
    g = ok(
        specialist.group_offer_card(
            specialist.GroupOfferView(
                nonce="n",
                heading="Book",
                people=[n for _, n in ROSTER[:13]],
                leaders=["A", "B"],
                minutes=60,
                slots=SLOTS,
                external=True,
                warning="w",
                errors=ERRS,
                values={"date": "2026-11-24", "time": "15:30"},
                min_date="2026-11-23",
                max_date="2026-12-18",
            )
        )
    )
    assert inputs(g)["date"]["min"] == "2026-11-23" and inputs(g)["slot"].get("isRequired") is None
    ok(
        specialist.group_offer_card(
            specialist.GroupOfferView(nonce="n", heading="Book", people=[], leaders=["A"], minutes=30, slots=[])
        )
    )
    for status in ("scheduled", "cancelled"):
        ok(
            specialist.group_session_card(
                specialist.GroupSessionView(
                    session_id=1,
                    heading="Emergency",
                    when="Tue",
                    leaders=["A"],
                    people_count=40,
                    status=status,
                    external=True,
                    can_cancel=True,
                )
            )
        )
    ok(
        specialist.enrichment_card(
            specialist.EnrichmentView(week_label="8–12 Feb 2027", requested=1, errors=ERRS, booked_label="Thu 11 Feb")
        )
    )
