"""Every card builder in cards/*.py, built with representative view models (the other card tests' fixtures): each
card validates against Teams' v1.5 schema, and no input carries two required-field markers. Teams draws its own
marker beside the label of an input with `isRequired`; our own "*" or "(required)" is only for inputs that cannot
be `isRequired` (a record draft must save half-written), never both. A new builder without samples fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import replace

import pytest

import cards
from bot.records.templates import builtin_templates, one_to_one_template
from cards import actions as action_cards
from cards import audit as audit_cards
from cards import compliance as comp
from cards import escalation as esc_cards
from cards import exports as export_cards
from cards import followup as fu
from cards import group_changes as gchg
from cards import group_record as grec
from cards import handover as ho
from cards import help as help_cards
from cards import pool, reminders, request, scheduling, specialist, understanding
from cards import series as ser
from cards import specialist_notes as snotes
from cards import targeted as tgt
from cards.base import card, choice_set, validation_errors
from tests.cards import test_compliance_cards as tc
from tests.cards import test_group_record_cards as tg
from tests.cards import test_request_cards as tr
from tests.cards import test_targeted_cards as tt

#: Functions in cards/ that return a dict but are not cards.
NOT_CARDS = {"cards.request.refresh"}


def _builders() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(cards.__path__):
        if info.name == "base":
            continue
        mod = importlib.import_module(f"cards.{info.name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != mod.__name__:
                continue
            if inspect.signature(fn).return_annotation in ("dict", dict):
                found.add(f"{mod.__name__}.{name}")
    return found - NOT_CARDS


def _samples() -> dict[str, list]:
    from cards import trust as trust_cards

    """builder → cards built from it (ordinary, empty, error and large shapes)."""
    t1 = one_to_one_template()
    t_dsl = one_to_one_template("dsl")
    reqs = [request.WaitingRequest(i, f"Person {i}", "one_to_one", "urgent", "Mon") for i in range(4)]
    choices = [request.PoolChoice(i, n, load=1, capacity=4, full=False) for i, n in tr.POOL[:5]]
    alloc = dict(
        request_id=9,
        requester_name="Tom Hollis",
        requester_role="Teaching assistant",
        kind="one_to_one",
        topics=["wellbeing"],
        urgency="routine",
        preferred_name=None,
        continue_name=None,
        suggested_id="sup.2",
        suggested_name="Supervisor 2",
        suggestion_reason="lightest caseload",
        choices=choices,
        created_label="Mon 23 Nov, 10:00",
    )
    return {
        "cards.trust.choose_school_card": [
            trust_cards.choose_school_card(
                "Heron Vale Learning Trust", [("a", "Kestrel Brook School"), ("b", "Saltmarsh Lane Primary")]
            ),
            trust_cards.choose_school_card("T", [("a", "A")], said="x" * 5000),
        ],
        "cards.trust.trust_card": [
            trust_cards.trust_card(
                trust_cards.TrustView(
                    "Heron Vale Learning Trust",
                    tuple(
                        trust_cards.SchoolFigures(
                            f"School {i}",
                            "Autumn 2",
                            "Fri 18 Dec",
                            12,
                            due,
                            att,
                            100 * att / due if due else None,
                            due - att,
                            (("internal", 4), ("from another school", 1), ("external", 1)),
                            i % 2 == 0,
                        )
                        for i, (due, att) in enumerate([(60, 41), (3, 1), (0, 0), (200, 199)] * 5)
                    ),
                    5,
                    "Trust Lead",
                )
            )
        ],
        "cards.audit.trail_card": [
            audit_cards.trail_card(audit_cards.TrailView()),
            audit_cards.trail_card(audit_cards.TrailView(error="Choose what to look up and give its id.")),
            audit_cards.trail_card(
                audit_cards.TrailView(subject_label="1:1 record 3", kind="targeted_record", object_id="3")
            ),
            audit_cards.trail_card(
                audit_cards.TrailView(
                    subject_label="Tom Hollis",
                    object_id="tom.hollis",
                    more=True,
                    lines=[
                        audit_cards.EventLine("Mon 23 Nov 2026, 10:00", f"Person {i}", "viewed 1:1 record 3")
                        for i in range(30)
                    ],
                )
            ),
        ],
        "cards.exports.export_form": [
            export_cards.export_form(
                export_cards.ExportFormView(
                    nonce="a" * 32,
                    half_terms=tuple((str(i), f"Half term {i}") for i in range(6)),
                    selected="1",
                    parts=export_cards.PARTS,
                    chosen=("register", "summary", "governors"),
                )
            ),
            export_cards.export_form(
                export_cards.ExportFormView(
                    nonce="a" * 32,
                    half_terms=(("0", "Autumn 1"),),
                    selected="0",
                    parts=export_cards.PARTS[2:],
                    chosen=(),
                    error="Choose at least one thing to export.",
                )
            ),
        ],
        "cards.exports.queued_card": [
            export_cards.queued_card(export_cards.ExportQueuedView("2026-27 Autumn 2", ("a.csv", "b.xlsx"))),
            export_cards.queued_card(export_cards.ExportQueuedView("2026-27 Autumn 2", (), already=True)),
        ],
        "cards.exports.done_card": [
            export_cards.done_card(
                export_cards.ExportDoneView(
                    "2026-27 Autumn 2",
                    tuple(export_cards.ExportFile(f"file {i}.csv", f"https://example.test/{i}") for i in range(5)),
                )
            ),
            export_cards.done_card(
                export_cards.ExportDoneView(
                    "2026-27 Autumn 2", (export_cards.ExportFile("a.csv", None),), failed=("b.xlsx",)
                )
            ),
            export_cards.done_card(export_cards.ExportDoneView("2026-27 Autumn 2", (), failed=("b.xlsx",))),
        ],
        "cards.actions.action_list_card": [
            action_cards.action_list_card(action_cards.ActionListView()),
            action_cards.action_list_card(
                action_cards.ActionListView(mine=[tg._line(1, overdue=True)], others=[tg._line(i) for i in range(2, 9)])
            ),
        ],
        "cards.specialist_notes.notes_card": [
            snotes.notes_card(
                snotes.NotesView(
                    4,
                    "a" * 32,
                    one_to_one_template("specialist_group"),
                    "Specialist supervision",
                    "Tue 24 Nov 2026 10:00–11:00",
                    [(f"p{i}", f"Person {i}") for i in range(30)],
                    values={
                        f.input_id: "x" * (f.max_length or 10)
                        for f in one_to_one_template("specialist_group").fields
                        if f.kind in ("text", "multiline")
                    },
                    errors={f.input_id: "Fill this in." for f in one_to_one_template("specialist_group").fields}
                    | {"sn_attendees": "Tick who came"},
                    message="Please check",
                    has_draft=True,
                )
            ),
            snotes.notes_card(
                snotes.NotesView(4, "a" * 32, one_to_one_template("specialist_group"), "S", "Tue", [("p", "P")])
            ),
        ],
        "cards.specialist_notes.done_card": [
            snotes.done_card(snotes.NotesDoneView(1, "Specialist supervision", "Tue", 2, "sharing")),
            snotes.done_card(
                snotes.NotesDoneView(1, "Specialist supervision", "Tue", 2, "shared", "https://x.test/f", True)
            ),
        ],
        "cards.specialist_notes.shared_notice": [
            snotes.shared_notice(note_id=1, heading="Specialist supervision", when="Tue", supervisor="Amara Okafor")
        ],
        "cards.series.form_card": [
            ser.form_card(
                ser.SeriesFormView(
                    supervisees=[("tom.hollis", "Tom Hollis")],
                    every=[("10", "Every 2 weeks")],
                    until=[("2026-12-18", "End of Autumn 2")],
                )
            ),
            ser.form_card(
                ser.SeriesFormView(
                    supervisees=[("tom.hollis", "Tom Hollis"), ("grace.mensah", "Grace Mensah")],
                    every=[("10", "Every 2 weeks")],
                    until=[("2026-12-18", "End of Autumn 2")],
                    values={"sr_first": "2026-11-28"},
                    errors={k: "Wrong." for k in ("sr_supervisee", "sr_first", "sr_time", "sr_every", "sr_until")},
                    message="Please check",
                    min_date="2026-11-23",
                    max_date="2027-07-21",
                )
            ),
            ser.form_card(ser.SeriesFormView(supervisees=[], every=[], until=[])),
        ],
        "cards.series.preview_card": [
            ser.preview_card(
                ser.SeriesPreviewView(
                    "n" * 22, "Tom Hollis", [f"Thu {i} Nov 2026 15:00–16:00" for i in range(16)], ["Thu"], {}, "x"
                )
            ),
            ser.preview_card(ser.SeriesPreviewView("n", "Tom Hollis", [], ["Thu"], {"sr_first": "2026-11-26"})),
        ],
        "cards.series.booked_card": [
            ser.booked_card(ser.SeriesBookedView("Tom Hollis", [(i, f"Thu {i} Nov") for i in range(16)], "Booked")),
            ser.booked_card(
                ser.SeriesBookedView("Tom Hollis", [(1, "Thu")], for_supervisee=True, supervisor_name="Priya Raman")
            ),
        ],
        "cards.group_changes.session_card": [
            gchg.session_card(
                gchg.SessionView(
                    3, "Group supervision – Willow Class", "Wed 25 Nov 2026 14:00–15:00", "Amara Okafor", 5, "scheduled"
                )
            ),
            gchg.session_card(
                gchg.SessionView(
                    3,
                    "Group supervision – mop-up",
                    "Tue 15 Dec 2026 10:00–11:00",
                    "Amara Okafor",
                    60,
                    "scheduled",
                    can_change=True,
                    rule="The mop-up goes in the last week of the half term: Mon 14 Dec to Fri 18 Dec.",
                    values={"gs_date": "2026-12-08", "gs_time": "10:00"},
                    errors={"gs_date": "The mop-up goes in the last week.", "gs_time": "That time has passed."},
                    message="Moved.",
                    min_date="2026-12-14",
                    max_date="2026-12-18",
                    join_url="https://teams.microsoft.com/l/meetup-join/x",
                )
            ),
            gchg.session_card(gchg.SessionView(3, "Specialist supervision", "Wed", "Priya Raman", 2, "cancelled")),
        ],
        "cards.group_changes.change_notice": [
            gchg.change_notice(
                session_id=3,
                heading="Group supervision – Willow Class",
                actor_name="Amara Okafor",
                old_when="Wed 25 Nov 2026 14:00–15:00",
                new_when="Thu 26 Nov 2026 10:30–11:30",
                join_url="https://teams.microsoft.com/l/meetup-join/x",
            ),
            gchg.change_notice(
                session_id=3, heading="Specialist supervision", actor_name="A", old_when="Wed", new_when=None
            ),
        ],
        "cards.compliance.notice_card": [comp.notice_card("Only the DSL team can do that.")],
        "cards.compliance.reminder_card": [tc._reminder(), tc._reminder(choices=(), error="Cancelled.")],
        "cards.compliance.attend_done_card": [
            comp.attend_done_card(comp.AttendDoneView("Tom", "Mop-up", "Autumn 2", False))
        ],
        "cards.compliance.attendance_card": [
            tc._attendance(),
            tc._attendance(n_people=400),
            tc._attendance(
                no_agreement=tuple(f"Person {i} with Priya Raman (since 1 Oct)" for i in range(40)),
                entitlement=tuple(
                    f"Person {i} with Priya Raman: every six weeks, missed since 22 Oct" for i in range(40)
                ),
            ),
        ],
        "cards.compliance.governor_card": [
            comp.governor_card(
                comp.GovernorView(
                    half_term_name="Autumn 2",
                    half_term_index=1,
                    phase="current",
                    deadline_label="Fri 18 Dec",
                    days_left=20,
                    mop_up_week_label="Mon 14 Dec – Fri 18 Dec",
                    compliant=24,
                    due=39,
                    percent=61.5,
                    exempt=1,
                    groups=(comp.SummaryGroupRow("Willow Class", 3, 5, 60.0),),
                    mop_up="booked.",
                    suppressed_below=3,
                )
            )
        ],
        "cards.compliance.mop_up_proposal_card": [
            tc._proposal(),
            tc._proposal(options=()),
            tc._proposal(errors={"facilitator": "Busy then."}),
        ],
        "cards.compliance.mop_up_outcome_card": [
            comp.mop_up_outcome_card(
                comp.MopUpOutcomeView(
                    "Autumn 2", True, "Tue 15 Dec, 15:30–16:30", "Marcus Fenwick", 12, "Daniel Whitcombe"
                )
            )
        ],
        "cards.compliance.mop_up_invite_card": [
            comp.mop_up_invite_card(
                comp.MopUpInviteView("Tom", "Autumn 2", "Tue 15 Dec, 15:30–16:30", "Marcus Fenwick")
            )
        ],
        "cards.compliance.digest_card": [tc._digest(), tc._digest(0, 0)],
        "cards.compliance.weekly_digest_card": [
            comp.weekly_digest_card(
                comp.WeeklyDigestView(
                    "Autumn 2",
                    "week of 30 Nov 2026",
                    (
                        comp.WeeklyFigure("Attended this half term", "13%", "\u2191 8 points (better)"),
                        comp.WeeklyFigure("Staff still to attend", "34", "\u2193 3 (better)"),
                    ),
                    dashboard_url="https://teams.microsoft.com/l/entity/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/dashboard",
                    compared_with="last week",
                    marker="digest-12",
                )
            ),
            comp.weekly_digest_card(
                comp.WeeklyDigestView("Autumn 2", "week of 23 Nov 2026", (comp.WeeklyFigure("Open actions", "0"),))
            ),
        ],
        "cards.group_record.picker_card": [
            grec.picker_card(grec.PickerView(half_term="2026-27 Autumn 2", upcoming=2)),
            grec.picker_card(
                grec.PickerView(
                    half_term="2026-27 Autumn 2",
                    sessions=[grec.SessionChoice(1, "Willow Class · Mon 23 Nov")],
                    error="Choose the session.",
                )
            ),
        ],
        "cards.group_record.adhoc_card": [
            grec.adhoc_card(
                grec.AdhocView(
                    groups=[("willow", "Willow Class")],
                    facilitators=tg.OWNERS,
                    errors={"adhoc_time": "Give the time"},
                    max_date="2026-11-23",
                )
            )
        ],
        "cards.group_record.record_card": [grec.record_card(tg._view(t)) for t in builtin_templates()]
        + [
            grec.record_card(
                replace(
                    tg._view(builtin_templates()[0]),
                    review=[
                        grec.ReviewLine(i, f"Action {i}", "Amara Okafor", "Fri 20 Nov", True, "from 9 Nov")
                        for i in range(8)
                    ],
                    errors={"rev_1": "Mark this one: done, carry forward or drop it."},
                )
            )
        ]
        + [
            grec.record_card(
                tg._view(
                    amend_version=2,
                    previous_file="x.docx",
                    has_draft=True,
                    errors={"f_summary": "Please fill this in.", "esc_category": "Choose"},
                )
            ),
            grec.record_card(tg._view(escalated="A child protection concern")),
        ],
        "cards.group_record.submitted_card": [
            grec.submitted_card(grec.SubmittedView("Willow Class", "Mon 23 Nov 2026", 9, 2, 1, "f.docx")),
            grec.submitted_card(
                grec.SubmittedView(
                    "Willow Class", "Mon 23 Nov 2026", 9, 2, 1, "f.docx", escalation="Harm", system_url="https://s.test"
                )
            ),
        ],
        "cards.group_record.confirm_card": [
            grec.confirm_card(
                grec.ConfirmView(4, "Willow Class", "Mon 23 Nov 2026", "Amara Okafor", 2, "https://f.test")
            ),
            grec.confirm_card(
                grec.ConfirmView(4, "Willow Class", "Mon 23 Nov", "Amara", signed="24 Nov 2026 09:10", notice="Thanks")
            ),
            grec.confirm_card(grec.ConfirmView(4, "Willow Class", "Mon 23 Nov", "Amara", replaced=True, error="Old")),
        ],
        "cards.group_record.change_request_card": [
            grec.change_request_card(record_id=1, who="Tom", group_label="Willow", date_label="Mon", comment="Fix")
        ],
        "cards.escalation.escalation_notice_card": [
            esc_cards.escalation_notice_card(
                esc_cards.EscalationNotice(
                    "Priya Raman",
                    "23 Nov 2026 15:10",
                    "Possible illegal activity",
                    "a 1:1 supervision record",
                    "targeted_record 3",
                    "MyConcern",
                    "https://concern.test",
                )
            ),
            esc_cards.escalation_notice_card(
                esc_cards.EscalationNotice("P", "t", "c", "a group supervision record", "group_record 1", "the system")
            ),
        ],
        "cards.group_record.channel_summary_card": [
            grec.channel_summary_card(
                grec.ChannelSummaryView(
                    group_label="Willow Class",
                    date_label="Mon 23 Nov 2026",
                    facilitator="Amara Okafor",
                    attendee_count=9,
                    action_count=2,
                    file_name="f.docx",
                    web_url="https://files.example/f.docx",
                )
            )
        ],
        "cards.group_record.record_prompt_card": [
            grec.record_prompt_card(session_id=3, group_label="Willow Class", date_label="Mon 23 Nov, 14:00")
        ],
        "cards.group_record.schedule_card": [
            grec.schedule_card(
                grec.ScheduleView(
                    half_term="2026-27 Autumn 2",
                    groups=[("willow", "Willow Class")],
                    facilitators=tg.OWNERS,
                    durations=[("60", "60 minutes")],
                    nonce="c" * 32,
                    errors={"sched_date": "Not a school day"},
                )
            )
        ],
        "cards.group_record.message_card": [grec.message_card("Already recorded", "Use Amend.")],
        "cards.help.help_card": [
            help_cards.help_card(school_name="Kestrel Brook School", person_name=None, role_names=[], commands=[]),
            help_cards.help_card(
                school_name="Kestrel Brook School",
                person_name="Tom",
                role_names=[],
                commands=[("Request supervision", "Ask", "request", "request.open")],
                unknown_text="x",
            ),
        ],
        "cards.pool.pool_card": [
            pool.pool_card(
                pool.PoolView(
                    active=[pool.PoolRow(i, n, "Teacher", "1 Sep 2024", 2, 4, True) for i, n in tr.POOL[:3]],
                    retired=[],
                    candidates=tr.ROSTER[:10],
                    today_iso="2026-11-23",
                    default_capacity=4,
                    errors=tr.ERRS,
                )
            )
        ],
        "cards.pool.retire_confirm": [pool.retire_confirm(staff_id="x", name="Priya", load=3)],
        "cards.request.request_form": [
            request.request_form(
                request.RequestFormView(
                    draft_id="abcdefgh1234",
                    pool=tr.POOL,
                    colleagues=tr.ROSTER[:20],
                    current_supervisor=None,
                    enrichment=None,
                )
            ),
            request.request_form(
                request.RequestFormView(
                    draft_id="abcdefgh1234",
                    pool=tr.POOL,
                    colleagues=tr.ROSTER[:20],
                    current_supervisor=("sup.1", "S"),
                    enrichment="Enrichment week",
                    errors=tr.ERRS,
                    top_error="Check",
                )
            ),
        ],
        "cards.request.request_status": [
            request.request_status(
                request.RequestStatusView(
                    request_id=7,
                    status="submitted",
                    kind="one_to_one",
                    topics=["wellbeing"],
                    urgency="week",
                    supervisor_name=None,
                    meeting_label=None,
                    meeting_id=None,
                )
            )
        ],
        "cards.request.allocation_card": [
            request.allocation_card(request.AllocationView(status="submitted", can_allocate=True, **alloc)),
            request.allocation_card(
                request.AllocationView(
                    status="allocated", supervisor_name="Priya Raman", allocated_by_name="Daniel Whitcombe", **alloc
                )
            ),
        ],
        "cards.request.allocation_notice": [
            request.allocation_notice(request_id=4, requester_name="Tom Hollis", kind="specialist", urgency="urgent")
        ],
        "cards.request.requests_list": [
            request.requests_list(reqs, total_open=4),
            request.requests_list([], total_open=0),
        ],
        "cards.request.supervisor_allocated_notice": [
            request.supervisor_allocated_notice(
                request_id=4, supervisee_name="Tom", kind="one_to_one", urgency="urgent", route="enrichment"
            )
        ],
        "cards.request.requester_allocated_notice": [
            request.requester_allocated_notice(request_id=4, supervisor_name="Priya", route="continue")
        ],
        "cards.scheduling.offer_card": [
            scheduling.offer_card(
                scheduling.OfferView(nonce="n", heading="Book", slots=tr.SLOTS, minutes=60, errors={"slot": "Choose"})
            ),
            scheduling.offer_card(scheduling.OfferView(nonce="n", heading="Book", slots=[], minutes=60)),
        ],
        "cards.scheduling.meeting_card": [
            scheduling.meeting_card(
                scheduling.MeetingView(
                    meeting_id=5,
                    status="booked",
                    when="Tue 24 Nov, 14:00–15:00",
                    other_name="Priya Raman",
                    viewer_is_supervisor=False,
                )
            )
        ],
        "cards.scheduling.change_notice": [
            scheduling.change_notice(
                meeting_id=5, actor_name="Tom", old_when="Tue", new_when="Wed", supervisor_will_propose=False
            )
        ],
        "cards.scheduling.mine_card": [
            scheduling.mine_card(
                scheduling.MineView(
                    person_name="Tom", supervisor_name=None, upcoming=[], open_requests=[], supervisees=None
                )
            )
        ],
        "cards.scheduling.pairing_end_confirm": [
            scheduling.pairing_end_confirm(
                pairing_id=1, supervisee_name="Tom", supervisor_name="Priya", viewer_is_supervisor=True
            )
        ],
        "cards.specialist.setup_card": [
            specialist.setup_card(
                specialist.SetupView(nonce="n", staff=tr.ROSTER[:10], supervisors=tr.POOL[:4], errors=tr.ERRS)
            )
        ],
        "cards.specialist.group_offer_card": [
            specialist.group_offer_card(
                specialist.GroupOfferView(
                    nonce="n",
                    heading="Book",
                    people=["A"],
                    leaders=["B"],
                    minutes=60,
                    slots=tr.SLOTS,
                    errors=tr.ERRS,
                    min_date="2026-11-23",
                    max_date="2026-12-18",
                )
            )
        ],
        "cards.specialist.group_session_card": [
            specialist.group_session_card(
                specialist.GroupSessionView(
                    session_id=1,
                    heading="Emergency",
                    when="Tue",
                    leaders=["A"],
                    people_count=4,
                    status="scheduled",
                    external=False,
                    can_cancel=True,
                )
            )
        ],
        "cards.specialist.enrichment_card": [
            specialist.enrichment_card(
                specialist.EnrichmentView(week_label="8–12 Feb 2027", requested=1, errors=tr.ERRS)
            )
        ],
        "cards.targeted.message_card": [tgt.message_card("Heading", "Message")],
        "cards.targeted.picker_card": [
            tgt.picker_card(tgt.PickerView(supervisees=[("tom.hollis", "Tom Hollis")], error="Choose")),
            tgt.picker_card(tgt.PickerView(supervisees=[])),
        ],
        "cards.targeted.record_card": [
            tgt.record_card(
                tgt.RecordView(
                    template=t1,
                    heading=[("Supervisee", "Tom Hollis")],
                    owners=[("tom.hollis", "Tom Hollis")],
                    default_owner="tom.hollis",
                    data={"draft_key": "a" * 32},
                    session_date="2026-11-19",
                    max_date="2026-11-23",
                    values=tt._full_values(),
                    errors={f.input_id: "Fill this in." for f in t1.fields},
                    has_draft=True,
                )
            ),
            # Follow-through: earlier actions to review first (one unmarked, one overdue), no agreement yet.
            tgt.record_card(
                tgt.RecordView(
                    template=t1,
                    heading=[("Supervisee", "Tom Hollis")],
                    owners=[("tom.hollis", "Tom Hollis")],
                    default_owner="tom.hollis",
                    data={"draft_key": "a" * 32},
                    values={"rev_4": "carried"},
                    errors={"rev_5": "Mark this one: done, carry forward or drop it."},
                    review=[
                        tgt.ReviewLine(4, "Ask for a lunchtime swap", "Tom Hollis", "Tue 1 Dec"),
                        tgt.ReviewLine(5, "Find the leaflet", "Priya Raman", "Fri 20 Nov", overdue=True),
                    ],
                    agreement_missing=True,
                )
            ),
            tgt.record_card(
                tgt.RecordView(
                    template=t_dsl,
                    heading=[("Supervisee", "Amara Okafor")],
                    owners=[("amara.okafor", "Amara Okafor")],
                    default_owner="amara.okafor",
                    data={"draft_key": "b" * 32},
                    session_date="2026-11-19",
                    max_date="2026-11-23",
                    values=tt._full_values("dsl"),
                    errors={f.input_id: "Fill this in." for f in t_dsl.fields},
                    has_draft=True,
                )
            ),
        ],
        "cards.targeted.submitted_card": [
            tgt.submitted_card(tgt.SubmittedView("Tom Hollis", "Thu 19 Nov 2026", 2, "x.docx")),
            tgt.submitted_card(
                tgt.SubmittedView(
                    "Tom Hollis",
                    "Thu 19 Nov 2026",
                    2,
                    "x.docx",
                    version=2,
                    escalation="Harm",
                    cases=2,
                    system_url="https://s.test",
                )
            ),
        ],
        "cards.targeted.signed_notice_card": [
            tgt.signed_notice_card(record_id=3, supervisee="Tom Hollis", date_label="Thu 19 Nov 2026", version=2)
        ],
        "cards.targeted.change_request_card": [
            tgt.change_request_card(record_id=3, supervisee="Tom", date_label="Thu", version=1, comment="Fix it")
        ],
        "cards.targeted.shared_notice_card": [
            tgt.shared_notice_card(record_id=3, supervisor="Priya Raman", date_label="Thu 19 Nov 2026")
        ],
        "cards.targeted.file_card": [
            tgt.file_card(tgt.FileView(3, "Supervisee", "Tom Hollis", "Thu 19 Nov", "pending")),
            tgt.file_card(
                tgt.FileView(
                    3,
                    "Supervisor",
                    "Priya",
                    "Thu 19 Nov",
                    "delivered",
                    "https://f.test",
                    "f.docx",
                    signoff=[("Supervisor", "Priya", "19 Nov 2026 15:00"), ("Supervisee", "Tom", "")],
                    supervisee_view=True,
                    change_asked="20 Nov 2026 09:00",
                    error="Say what",
                    change_value="x",
                )
            ),
            tgt.file_card(
                tgt.FileView(
                    3,
                    "Supervisee",
                    "Tom",
                    "Thu 19 Nov",
                    "delivered",
                    "https://f.test",
                    "f.docx",
                    version=2,
                    signoff=[("Supervisor", "Priya", "19 Nov"), ("Supervisee", "Tom", "20 Nov")],
                    can_amend=True,
                    notice="ok",
                )
            ),
            tgt.file_card(  # a successor's view after a handover: both people named, "with you to read"
                tgt.FileView(
                    3,
                    "Supervisor",
                    "Samuel",
                    "Thu 19 Nov",
                    "delivered",
                    "https://f.test",
                    "f.docx",
                    supervisee_name="Tom",
                )
            ),
            tgt.file_card(tgt.FileView(3, "Supervisor", "P", "Thu", "delivered", "https://f.test", replaced_by=4)),
        ],
        "cards.targeted.actions_card": [
            tgt.actions_card(tgt.ActionsView()),
            tgt.actions_card(
                tgt.ActionsView(
                    mine=[tgt.ActionLine(1, "Swap", "Tom Hollis", "Tue 1 Dec", "1:1 with Priya Raman, 19 Nov")],
                    group=[
                        tgt.ActionLine(
                            2,
                            "Share the rota",
                            "Tom Hollis",
                            "Fri 20 Nov",
                            "Group record",
                            overdue=True,
                            can_mark=False,
                        )
                    ],
                )
            ),
        ],
        "cards.targeted.agreements_card": [
            tgt.agreements_card(
                tgt.AgreementsView(lines=[tgt.AgreementLine(2, "Priya", "Review overdue", overdue=True, confirm_id=4)])
            )
        ],
        "cards.targeted.agreement_form_card": [
            tgt.agreement_form_card(
                tgt.AgreementFormView(
                    1,
                    "Tom Hollis",
                    "Supervisee",
                    "a" * 32,
                    "2026-11-23",
                    errors={"ag_cancel": "Tick this"},
                    review=True,
                )
            ),
            tgt.agreement_form_card(
                tgt.AgreementFormView(
                    1,
                    "Tom Hollis",
                    "Supervisee",
                    "a" * 32,
                    "2026-11-23",
                    values={"ag_venue": "x" * 200, "ag_supervisee_brings": "y" * 500, "ag_review": "2027-11-23"},
                    errors={"ag_between": "Write down what you agreed about this.", "ag_review": "Too late"},
                    top_error="Please check 2 fields marked below; nothing you typed has been lost.",
                    max_review="2027-11-23",
                )
            ),
        ],
        "cards.targeted.confirm_request_card": [
            tgt.confirm_request_card(
                agreement_id=1,
                proposer="Priya Raman",
                agreed_on="Thu 19 Nov 2026",
                review_due="Fri 19 Nov 2027",
                arrangements="Once a half term, 60 minutes",
            )
        ],
        "cards.reminders.preview_card": [
            reminders.preview_card(reminders.PreviewView(None)),
            reminders.preview_card(
                reminders.PreviewView(
                    "Autumn 2",
                    facts=(("Last day", "Fri 18 Dec"),),
                    round_line="Send now sends today's round.",
                    reachable=tuple(n for _, n in tr.ROSTER),
                    unreachable=tuple((n, "hasn't opened the bot in Teams") for _, n in tr.ROSTER[:60]),
                    already_line="Already reminded: 3.",
                    progress=("Reminders at 10 school days left: 4 sent.",),
                    notice="Sent 4 reminders.",
                    send_data={"ht": "2026-27 Autumn 2", "point": 10},
                )
            ),
            reminders.preview_card(reminders.PreviewView("Autumn 2", window_line="Reminders go on school days.")),
        ],
        "cards.understanding.choice_card": [
            understanding.choice_card(
                person_name="Tom",
                options=[
                    understanding.Option("Request supervision", "Ask for 1:1 support.", "request.open"),
                    understanding.Option("My supervision", "Your sessions.", "schedule.mine"),
                ],
            )
        ],
        "cards.understanding.safeguarding_card": [
            understanding.safeguarding_card(understanding.SafeguardingView("your school's safeguarding system")),
            understanding.safeguarding_card(
                understanding.SafeguardingView(
                    "the concerns log", "https://concerns.example/log", ("Amara Okafor", "Marcus Fenwick")
                )
            ),
        ],
        # Follow-through reminders and the handover (issue 11 parts 4 and 8).
        "cards.followup.action_overdue_card": [
            fu.action_overdue_card(action_text="Swap", due_label="Fri 20 Nov 2026", source="1:1 supervision"),
            fu.action_overdue_card(action_text="Rota", due_label="Fri 20 Nov 2026", source="a group", group=True),
        ],
        "cards.followup.review_due_card": [
            fu.review_due_card(other="Tom Hollis", other_label="Supervisee", review_label="Thu 10 Dec", weeks="a week")
        ],
        "cards.followup.no_agreement_card": [fu.no_agreement_card(supervisee="Tom Hollis", since_label="1 Oct")],
        "cards.followup.entitlement_card": [
            fu.entitlement_card(
                supervisor="Priya Raman",
                supervisee="Tom Hollis",
                frequency="every six weeks",
                missed_label="22 Oct",
                for_whom=who,
            )
            for who in ("supervisor", "supervisee", "dsl")
        ],
        "cards.handover.form_card": [
            ho.form_card(
                ho.HandoverFormView(
                    supervisees=[(f"p{i}", f"Person {i}, now with Priya Raman") for i in range(60)],
                    supervisors=[(f"s{i}", f"Supervisor {i} (2 supervisees)") for i in range(20)],
                    nonce="a" * 32,
                    values={"ho_supervisee": "p1"},
                    errors={"ho_successor": "Choose their new supervisor."},
                )
            ),
            ho.form_card(ho.HandoverFormView(supervisees=[], supervisors=[], nonce="a" * 32)),
        ],
        "cards.handover.done_card": [
            ho.done_card(ho.HandoverDoneView("Tom Hollis", "Priya Raman", "Marcus Fenwick", "Sat 23 May 2026", 2, 1))
        ],
        "cards.handover.successor_notice": [
            ho.successor_notice(
                supervisee="Tom Hollis", since_label="23 May", records=[(i, f"{i} Jun") for i in range(9)], by="Amara"
            )
        ],
        "cards.handover.predecessor_notice": [ho.predecessor_notice(supervisee="Tom Hollis", successor="Marcus")],
        "cards.handover.supervisee_notice": [ho.supervisee_notice(successor="Marcus", predecessor="Priya")],
    }


MARKERS = (re.compile(r"\*\s*$"), re.compile(r"\(required\)", re.I))


def doubled_markers(card_dict: dict) -> list[str]:
    """Inputs whose label says "required" more than once: Teams' own marker (isRequired) and/or ours."""
    bad = []

    def walk(n):
        if isinstance(n, dict):
            if str(n.get("type", "")).startswith("Input."):
                for key in ("label", "title"):
                    label = n.get(key) or ""
                    marks = sum(1 for m in MARKERS if m.search(label)) + (
                        1 if n.get("isRequired") and key == "label" else 0
                    )
                    if marks > 1 or label.count("*") > 1:
                        bad.append(f"{n.get('id')}: {label!r}{' (isRequired)' if n.get('isRequired') else ''}")
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(card_dict)
    return bad


SAMPLES = _samples()


def test_every_card_builder_has_samples():
    assert set(SAMPLES) == _builders()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_card_is_valid_and_marks_required_fields_once(name):
    built = SAMPLES[name]
    assert built, name
    for c in built:
        assert validation_errors(c) == [], name
        assert doubled_markers(c) == [], name


def test_the_marker_check_can_fail():
    doubled = card([choice_set("x", "Preferred supervisor *", [("a", "A")], required=True)])
    assert doubled_markers(doubled) == ["x: 'Preferred supervisor *' (isRequired)"]
    both = card([choice_set("y", "Date (required) *", [("a", "A")])])
    assert doubled_markers(both)
    assert not doubled_markers(card([choice_set("z", "Preferred supervisor", [("a", "A")], required=True)]))


@pytest.mark.parametrize("typed", ["2.5", "nan", "1e999", "-inf", "four", "3"])
def test_the_pool_card_gives_back_what_was_typed_as_json_can_carry_it(typed):
    import json

    from cards import pool

    built = pool.pool_card(
        pool.PoolView(
            active=[],
            retired=[],
            candidates=[("a", "A")],
            today_iso="2026-11-23",
            default_capacity=4,
            values={"capacity": typed},
        )
    )
    json.dumps(built, allow_nan=False)  # NaN or infinity would not be JSON Teams accepts
    assert validation_errors(built) == []
