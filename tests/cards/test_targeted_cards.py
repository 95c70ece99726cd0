"""Every 1:1 record and agreement card is valid for Teams, including a record card filled to every limit."""

from __future__ import annotations

import pytest

from bot.records import case_summary
from bot.records.templates import ACTION_TEXT_MAX, one_to_one_template, one_to_one_templates
from cards import targeted as c
from cards.base import TEAMS_MAX_CARD_BYTES, card_size, validation_errors


def _full_values(name: str = "default") -> dict[str, str]:
    t = one_to_one_template(name)
    vals = {f.input_id: "x" * (f.max_length or 10) for f in t.fields if f.kind in ("text", "multiline")}
    vals.update({f.input_id: "true" for f in t.fields if f.kind == "confirm"})
    vals.update({f.input_id: ",".join(o.id for o in f.options) for f in t.fields if f.kind == "checklist"})
    for i in range(t.actions.max_items):
        vals.update(
            {f"act_{i}_text": "y" * ACTION_TEXT_MAX, f"act_{i}_owner": "tom.hollis", f"act_{i}_due": "2026-12-01"}
        )
    # The case summary, every row at its limit (seed 003 App. 4), and an escalation chosen.
    for i in range(case_summary.MAX_ROWS):
        vals[case_summary.input_id(i, "ref")] = "z" * case_summary.REF_MAX
        vals[case_summary.input_id(i, "seen")] = "true"
        for part in case_summary.COLUMNS:
            vals[case_summary.input_id(i, part)] = "w" * case_summary.TEXT_MAX
    vals["esc_category"] = "child_protection"
    vals["amend_note"] = "v" * 300
    return vals


# Every shipped 1:1 template: the record, the DSL supervision record and each policy pack's (bot/records/packs.py).
@pytest.mark.parametrize("name", one_to_one_templates())
def test_a_record_card_filled_to_every_limit_with_errors_fits_teams(name):
    t = one_to_one_template(name)
    errors = {f.input_id: "Please fill this in." for f in t.fields}
    v = c.RecordView(
        template=t,
        heading=[("Supervisor", "Priya Raman"), ("Supervisee", "Tom Hollis")],
        owners=[("priya.raman", "Priya Raman (supervisor)"), ("tom.hollis", "Tom Hollis (supervisee)")],
        default_owner="tom.hollis",
        data={"draft_key": "a" * 32, "supervisee": "tom.hollis"},
        session_date="2026-11-19",
        max_date="2026-11-23",
        values=_full_values(name),
        errors=errors,
        top_error="Please check",
        notice="Draft saved",
        has_draft=True,
    )
    built = c.record_card(v)
    assert validation_errors(built) == []
    assert card_size(built) < TEAMS_MAX_CARD_BYTES
    # The amend card (version N+1, "what changed" too) with an error beside every case summary field.
    errors |= {case_summary.input_id(i, p): case_summary.NAME_ERROR for i in range(4) for p in ("ref", "needs")}
    amend = c.record_card(
        c.RecordView(**{**v.__dict__, "errors": errors, "amend_version": 2, "previous_file": "f" * 80, "data": {}})
    )
    assert validation_errors(amend) == []
    assert card_size(amend) < TEAMS_MAX_CARD_BYTES, card_size(amend)


@pytest.mark.parametrize(
    "built",
    [
        c.picker_card(
            c.PickerView(
                supervisees=[("tom.hollis", "Tom Hollis")],
                drafts=[("a" * 32, "Tom, saved Mon")],
                recent=[
                    c.RecordLine(1, "Tom · Thu 19 Nov · shared", "https://example.test/f"),
                    c.RecordLine(2, "Tom · Thu 12 Nov · sharing"),
                ],
                notice="ok",
                error="bad",
            )
        ),
        c.picker_card(c.PickerView(supervisees=[])),
        c.submitted_card(c.SubmittedView("Tom Hollis", "Thu 19 Nov 2026", 2, "x.docx", already=True)),
        c.shared_notice_card(record_id=3, supervisor="Priya Raman", date_label="Thu 19 Nov 2026"),
        c.file_card(
            c.FileView(3, "Supervisor", "Priya Raman", "Thu 19 Nov", "delivered", "https://example.test/f", "x")
        ),
        c.file_card(c.FileView(3, "Supervisee", "Tom Hollis", "Thu 19 Nov", "pending")),
        c.file_card(c.FileView(3, "Supervisee", "Tom Hollis", "Thu 19 Nov", "failed")),
        c.actions_card(
            c.ActionsView(
                mine=[c.ActionLine(1, "a", "Tom", "Tue 1 Dec", "1:1 with Priya", overdue=True)],
                theirs=[c.ActionLine(2, "b", "Priya", "Fri 27 Nov", "1:1 with Priya")],
                done=[c.ActionLine(3, "c", "Tom", "Fri 27 Nov", "1:1", done=True)],
                notice="ok",
            )
        ),
        c.actions_card(c.ActionsView()),
        c.agreements_card(
            c.AgreementsView(
                lines=[
                    c.AgreementLine(1, "Tom (you supervise them)", "No agreement recorded"),
                    c.AgreementLine(2, "Priya", "Review overdue", overdue=True, confirm_id=4),
                ],
                notice="ok",
            )
        ),
        c.agreements_card(c.AgreementsView()),
        c.agreement_form_card(
            c.AgreementFormView(
                1,
                "Tom Hollis",
                "Supervisee",
                "a" * 32,
                "2026-11-23",
                values={"ag_date": "2026-11-19", "ag_confidential": "true"},
                errors={"ag_cancel": "Tick this"},
                review=True,
            )
        ),
        c.confirm_request_card(
            agreement_id=1,
            proposer="Priya Raman",
            agreed_on="Thu 19 Nov 2026",
            review_due="Fri 19 Nov 2027",
            arrangements="Once a half term, 60 minutes",
        ),
        c.message_card("Heading", "Message"),
        c.message_card("Heading", "Message", back_verb=None),
    ],
)
def test_cards_are_valid_for_teams(built):
    assert validation_errors(built) == []
