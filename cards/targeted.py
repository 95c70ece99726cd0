"""Cards for 1:1 (targeted) supervision records, their agreed actions, and supervision agreements.

Seed 001 §3.2 "Meeting" and Appendix 2: the supervisor keeps notes of each 1:1 session and shares them with the
supervisee; they are not stored centrally. Seed 001 Appendix 1 / seed 002 "Contract" / seed 003 Appendix 1: a
supervision agreement made at the start, signed by both, reviewed at least once a year.

Pure builders: a view model in, a v1.5 card dict out. The record card reuses the group record card's field and
action rows (cards.group_record.template_fields / action_rows), so both records behave the same: no `isRequired`
(a draft may be half-written), each error directly under its field, every typed value kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import adaptive_cards.card as ac

from bot.records import case_summary
from bot.records.agreement_terms import AgreementDef, default_agreement
from bot.records.templates import RecordTemplate
from cards.base import card, choice_set, error, execute, facts, text, text_input, title
from cards.escalation import escalation_inputs
from cards.group_record import ReviewLine, action_rows, review_rows, template_fields

# Verbs (registered by bot/journeys/one_to_one.py, agreements.py and myactions.py).
V_START = "targeted.start"
V_OPEN = "targeted.open"
V_RESUME = "targeted.resume"
V_SAVE = "targeted.save"
V_SUBMIT = "targeted.submit"
V_DISCARD = "targeted.discard"
V_FILE = "targeted.file"
V_SIGN = "targeted.sign"
V_CHANGE = "targeted.change"
V_AMEND = "targeted.amend"
V_AMEND_SUBMIT = "targeted.amend_submit"
V_ACTIONS = "targeted.actions"
V_ACTION_DONE = "targeted.action_done"
V_ACTION_REOPEN = "targeted.action_reopen"
V_AGREEMENTS = "agreement.show"
V_AGREEMENT_FORM = "agreement.form"
V_AGREEMENT_SUBMIT = "agreement.submit"
V_AGREEMENT_CONFIRM = "agreement.confirm"

PRIVACY_NOTE = (
    "Only you and your supervisee see this. The record goes to your OneDrive, shared with them alone; "
    "this app keeps who, when, the link and the agreed actions, never what was said."
)


def _none(title_: str, verb: str, data: dict | None = None, *, style: str | None = None) -> ac.ActionExecute:
    """A button that sends no inputs (Back, Continue draft …), so Teams does not validate the form for it."""
    return ac.ActionExecute(title=title_, verb=verb, data=data or {}, style=style, associated_inputs="none")


def _refresh(verb: str, data: dict) -> dict:
    """In a 1:1 chat Teams runs this whenever the card is shown, so it shows the latest state to whoever looks."""
    return {"action": {"type": "Action.Execute", "verb": verb, "data": data}}


def _errors_for(errors: dict[str, str], key: str) -> list:
    msg = errors.get(key)
    return [error(msg)] if msg else []


def message_card(heading: str, message: str, *, back_verb: str | None = V_START, back: str = "Back") -> dict:
    return card([title(heading), text(message)], [_none(back, back_verb)] if back_verb else [])


# ---- 1. the supervisor's start card ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordLine:
    record_id: int
    label: str  # "Tom Hollis · Mon 23 Nov · shared · waiting for Tom Hollis to confirm"
    web_url: str | None = None
    amend: str | None = None  # "Amend" / "New version"; None: nothing to amend yet (not shared)


@dataclass
class PickerView:
    supervisees: list[tuple[str, str]]  # (staff id, name): this supervisor's active pairings
    drafts: list[tuple[str, str]] = field(default_factory=list)  # (draft key, label)
    recent: list[RecordLine] = field(default_factory=list)
    notice: str | None = None
    error: str | None = None


def picker_card(v: PickerView) -> dict:
    body: list[Any] = [title("Write up a 1:1 supervision session")]
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.error:
        body.append(error(v.error))
    actions: list[Any] = []
    if v.supervisees:
        body.append(
            choice_set(
                "supervisee",
                "Who was the session with?",
                v.supervisees,
                required=True,
                error_message="Choose the person you supervised.",
                value=v.supervisees[0][0] if len(v.supervisees) == 1 else None,
                placeholder="Choose a supervisee",
            )
        )
        actions.append(execute("Open the record", V_OPEN, style="positive"))
    else:
        body.append(text("You have no one allocated to you for 1:1 supervision at the moment."))
    if v.drafts:
        body.append(text("**Your drafts**"))
        body.append(
            ac.ActionSet(
                actions=[_none(f"Continue: {label}", V_RESUME, {"draft_key": key}) for key, label in v.drafts[:5]]
            )
        )
    if v.recent:
        body.append(text("**Recent records**"))
        for r in v.recent[:8]:
            cols = [
                ac.Column(width="stretch", items=[text(r.label, size="small")], vertical_content_alignment="center")
            ]
            buttons: list[Any] = []
            if r.web_url:
                buttons.append(ac.ActionOpenUrl(title="Open", url=r.web_url))
            if r.amend:
                buttons.append(_none(r.amend, V_AMEND, {"record_id": r.record_id}))
            if buttons:
                cols.append(ac.Column(width="auto", items=[ac.ActionSet(actions=buttons)]))
            body.append(ac.ColumnSet(columns=cols))
    body.append(text(PRIVACY_NOTE, subtle=True, size="small"))
    actions += [_none("1:1 actions", V_ACTIONS), _none("Agreements", V_AGREEMENTS)]
    return card(body, actions)


# ---- 2. the record card ----------------------------------------------------------------------------------------


@dataclass
class RecordView:
    template: RecordTemplate
    heading: list[tuple[str, str]]  # Supervisor, Supervisee, Agreement
    owners: list[tuple[str, str]]  # the supervisor and the supervisee
    default_owner: str
    data: dict[str, Any]  # carried on every button: draft key, supervisee
    session_date: str | None = None  # default: the latest booked meeting with them
    max_date: str | None = None  # today: you write up sessions that have happened
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    top_error: str | None = None
    notice: str | None = None
    has_draft: bool = False
    review: list[ReviewLine] = field(default_factory=list)  # earlier open actions: reviewed first
    agreement_missing: bool = False  # no agreement confirmed by both: flagged to the supervisor
    amend_version: int | None = None  # amending: the version this will make
    previous_file: str | None = None
    amend_signed: bool = False  # the version being amended was signed by both (locked)
    escalated: str | None = None  # an escalation already raised with this record: its category's label
    system_name: str = "the school's safeguarding system"


def record_card(v: RecordView) -> dict:
    heading = f"Amend the 1:1 record: version {v.amend_version}" if v.amend_version else "1:1 supervision record"
    body: list[Any] = [title(heading), facts(v.heading)]
    if v.agreement_missing:
        body.append(
            text(
                "You have no supervision agreement with this person yet: make one together (type agreement).",
                color="warning",
                size="small",
            )
        )
    if v.amend_version:
        body.append(
            text(
                (
                    "Both of you confirmed the current version, so it is locked. "
                    if v.amend_signed
                    else "The current version is waiting for your supervisee's confirmation. "
                )
                + f"Saving makes version {v.amend_version}: {v.previous_file or 'the earlier file'} is kept, and "
                "your supervisee is asked to confirm the new version.",
                subtle=True,
            )
        )
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.top_error:
        body.append(error(v.top_error))
    body.append(
        ac.InputDate(
            id="sess_date",
            label="Date of the session (required)",
            value=v.values.get("sess_date") or v.session_date,
            max=v.max_date,
        )
    )
    body += _errors_for(v.errors, "sess_date")
    body += review_rows(v.review, v.values, v.errors)
    body.append(ac.TextBlock(text="The record", weight="bolder", wrap=True, separator=True, spacing="medium"))
    body += template_fields(v.template, v.values, v.errors)
    body += case_rows(v.values, v.errors, v.system_name)
    if v.template.actions.enabled:
        body += action_rows(v.template, v.owners, v.default_owner, v.values, v.errors)
    body += escalation_inputs(v.values, v.errors, v.escalated, v.system_name)
    if v.amend_version:
        body.append(
            text_input(
                "amend_note",
                "What changed in this version? (required)",
                value=v.values.get("amend_note"),
                max_length=AMEND_NOTE_MAX,
                multiline=True,
                error_message=f"Up to {AMEND_NOTE_MAX} characters.",
            )
        )
        body += _errors_for(v.errors, "amend_note")
    body.append(
        text(
            "Use initials at most, never a pupil's full name: anything about a child goes on their record "
            "in the school's safeguarding system. " + PRIVACY_NOTE,
            subtle=True,
            size="small",
        )
    )
    if v.amend_version:
        return card(
            body,
            [
                execute(f"Save version {v.amend_version} and share", V_AMEND_SUBMIT, v.data, style="positive"),
                _none("Cancel", V_START),
            ],
        )
    actions: list[Any] = [
        execute("Submit and share", V_SUBMIT, v.data, style="positive"),
        execute("Save draft", V_SAVE, v.data),
    ]
    if v.has_draft:
        actions.append(_none("Delete draft", V_DISCARD, {"draft_key": v.data.get("draft_key")}, style="destructive"))
    return card(body, actions)


AMEND_NOTE_MAX = 300


def case_rows(values: dict[str, str], errors: dict[str, str], system_name: str) -> list:
    """Seed 003 Appendix 4's case summary: optional rows, by reference only, written into the document only."""
    val = values.get
    body: list[Any] = [
        ac.TextBlock(text="Cases discussed (optional)", weight="bolder", wrap=True, separator=True, spacing="medium"),
        text(
            "One row per pupil: initials or their id on the school's system, never a name. This table goes in "
            f"the record only; update each pupil's file in {system_name} too.",
            subtle=True,
            size="small",
        ),
    ]
    for i in range(case_summary.MAX_ROWS):
        cid = case_summary.input_id
        row: list[Any] = [
            ac.ColumnSet(
                columns=[
                    ac.Column(
                        width="stretch",
                        items=[
                            text_input(
                                cid(i, "ref"),
                                f"Pupil {i + 1}: initials or id",
                                value=val(cid(i, "ref")),
                                max_length=case_summary.REF_MAX,
                                error_message=f"Up to {case_summary.REF_MAX} characters.",
                            ),
                            *_errors_for(errors, cid(i, "ref")),
                        ],
                    ),
                    ac.Column(
                        width="auto",
                        vertical_content_alignment="bottom",
                        items=[
                            ac.InputToggle(
                                id=cid(i, "seen"),
                                title="File seen",
                                value="true" if val(cid(i, "seen")) == "true" else "false",
                                value_on="true",
                                value_off="false",
                            )
                        ],
                    ),
                ]
            )
        ]
        for part, label in (("needs", "Needs"), ("action", "Action"), ("progress", "Progress")):
            row.append(
                text_input(
                    cid(i, part),
                    f"Pupil {i + 1}: {label.lower()}",
                    value=val(cid(i, part)),
                    max_length=case_summary.TEXT_MAX,
                    error_message=f"Up to {case_summary.TEXT_MAX} characters.",
                )
            )
            row += _errors_for(errors, cid(i, part))
        body.append(ac.Container(items=row, spacing="small", separator=i > 0))
    return body


@dataclass
class SubmittedView:
    supervisee: str
    date_label: str
    action_count: int
    file_name: str
    already: bool = False
    version: int = 1
    escalation: str | None = None  # the category's label, when one was raised with this submit
    cases: int = 0
    system_name: str = "the school's safeguarding system"
    system_url: str | None = None


def log_prompt(v: SubmittedView) -> list:
    """The prompt to log a concern / update the case files in the school's safeguarding system."""
    out: list[Any] = []
    if v.escalation:
        out.append(
            error(
                f"You raised an escalation ({v.escalation}). The DSL team has been told it was raised - not what "
                f"was said. Log the concern in {v.system_name} now."
            )
        )
    if v.cases:
        out.append(
            text(
                f"You summarised {v.cases} case{'s' if v.cases != 1 else ''}: update each pupil's file in "
                f"{v.system_name}."
            )
        )
    return out


def submitted_card(v: SubmittedView) -> dict:
    body: list[Any] = [title("Record submitted" if v.version == 1 else f"Version {v.version} saved")]
    if v.already:
        body.append(text("This record was already submitted; nothing was created twice.", subtle=True))
    body.append(
        facts(
            [
                ("Supervisee", v.supervisee),
                ("Session", v.date_label),
                ("Agreed actions", str(v.action_count)),
                ("File", v.file_name),
            ]
        )
    )
    body.append(
        text(
            f"I'm saving it to your OneDrive (folder \"Supervision records\") and sharing it with "
            f"{v.supervisee} only; they'll get a message with the link and are asked to confirm it is accurate. "
            "Submitting it is your signature. The agreed actions are on both your 1:1 action lists."
        )
    )
    body += log_prompt(v)
    actions: list[Any] = []
    if (v.escalation or v.cases) and v.system_url:
        actions.append(ac.ActionOpenUrl(title=f"Open {v.system_name}", url=v.system_url))
    actions += [_none("Write up another session", V_START), _none("1:1 actions", V_ACTIONS)]
    return card(body, actions)


# ---- 3. the supervisee's notice and the file link --------------------------------------------------------------


def shared_notice_card(*, record_id: int, supervisor: str, date_label: str) -> dict:
    """Sent 1:1 to the supervisee once the file is shared. No content: who, when, and a way to the link."""
    body = [
        title("A supervision record was shared with you"),
        facts([("Supervisor", supervisor), ("Session", date_label)]),
        text(
            "It's in your supervisor's OneDrive, shared with you only. Read it, then confirm it is accurate or "
            "ask for a change.",
            size="small",
        ),
    ]
    return card(
        body,
        [
            _none("Open the record", V_FILE, {"record_id": record_id}, style="positive"),
            _none("My 1:1 actions", V_ACTIONS),
        ],
        refresh=_refresh(V_FILE, {"record_id": record_id}),
    )


@dataclass
class FileView:
    record_id: int
    other_label: str  # "Supervisor" or "Supervisee"
    other_name: str
    date_label: str
    state: str  # delivered | pending | failed
    web_url: str | None = None
    file_name: str = ""
    version: int = 1
    signoff: list[tuple[str, str, str]] = field(default_factory=list)  # (role, name, "23 Nov 2026 10:05" or "")
    supervisee_view: bool = False  # the viewer is the supervisee (may confirm or ask for a change)
    replaced_by: int | None = None  # a newer version's record id: this one can't be confirmed any more
    change_asked: str | None = None  # "24 Nov 2026 09:10": the supervisee asked for a change then
    can_amend: bool = False  # the viewer is the supervisor of a current, shared version
    notice: str | None = None
    error: str | None = None
    change_value: str | None = None  # the comment typed, kept on an error
    # The viewer is neither of the two: a successor who was given the record by a handover (seed 004 §5).
    supervisee_name: str | None = None


CHANGE_NOTE_MAX = 500


def _locked(v: FileView) -> bool:
    return bool(v.signoff) and all(signed for _, _, signed in v.signoff)


def file_card(v: FileView) -> dict:
    heading = "Supervision record" if v.state == "delivered" else "Supervision record: not shared yet"
    if v.version > 1:
        heading += f" (version {v.version})"
    people = [(v.other_label, v.other_name)] + ([("Supervisee", v.supervisee_name)] if v.supervisee_name else [])
    body: list[Any] = [title(heading), facts([*people, ("Session", v.date_label)])]
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.error:
        body.append(error(v.error))
    actions: list[Any] = []
    if v.replaced_by is not None:
        body.append(
            text(
                f"This version has been replaced by a newer one. Open the newest version"
                f"{' to confirm it' if v.supervisee_view else ''}.",
                size="small",
            )
        )
        actions.append(_none("Open the newest version", V_FILE, {"record_id": v.replaced_by}, style="positive"))
    elif v.state == "delivered" and v.web_url:
        where = (
            "kept in the supervisor's OneDrive, shared with the supervisee and, since the handover, with you to read"
            if v.supervisee_name
            else "kept in the supervisor's OneDrive and shared with the supervisee only"
        )
        body.append(text(f"{v.file_name}: {where}.", size="small"))
        actions.append(ac.ActionOpenUrl(title="Open the record", url=v.web_url))
    elif v.state == "failed":
        body.append(
            text(
                "The file couldn't be saved and shared after several tries. It is kept safely and will be "
                "sent again once the connection is fixed; the supervisor has been told.",
                size="small",
            )
        )
    else:
        body.append(text("The file is still being saved and shared. Try again in a minute.", size="small"))
        actions.append(_none("Check again", V_FILE, {"record_id": v.record_id}))
    if v.signoff:
        body.append(ac.TextBlock(text="Sign-off", weight="bolder", wrap=True, separator=True, spacing="medium"))
        body.append(
            facts([(f"{role}: {name}", f"confirmed {when}" if when else "not yet") for role, name, when in v.signoff])
        )
        if _locked(v):
            body.append(
                text(
                    "Signed by both of you: this version is final. Any change makes a new version, which you "
                    "both confirm again.",
                    size="small",
                )
            )
        elif v.change_asked:
            body.append(text(f"A change was asked for on {v.change_asked}.", size="small"))
    if v.replaced_by is None and v.state == "delivered" and v.supervisee_view and not _locked(v):
        body.append(
            text(
                "Read the record first. Confirming is your signature: it is written into the document, with the date.",
                subtle=True,
                size="small",
            )
        )
        actions.append(_none("Confirm it's accurate", V_SIGN, {"record_id": v.record_id}, style="positive"))
        actions.append(
            ac.ActionShowCard(
                title="Ask for a change",
                card=ac.AdaptiveCard.new()
                .version("1.5")
                .add_items(
                    [
                        text_input(
                            "change_note",
                            "What should be corrected? (goes to your supervisor only)",
                            value=v.change_value,
                            max_length=CHANGE_NOTE_MAX,
                            multiline=True,
                            error_message=f"Up to {CHANGE_NOTE_MAX} characters.",
                        ),
                        text(
                            "Your supervisor gets this in Teams; the app keeps only that you asked, not what "
                            "you wrote.",
                            subtle=True,
                            size="small",
                        ),
                    ]
                )
                .add_actions([execute("Send to my supervisor", V_CHANGE, {"record_id": v.record_id})])
                .create(),
            )
        )
    if v.can_amend and v.replaced_by is None:
        actions.append(_none("New version" if _locked(v) else "Amend", V_AMEND, {"record_id": v.record_id}))
    actions.append(_none("1:1 actions", V_ACTIONS))
    return card(body, actions, refresh=_refresh(V_FILE, {"record_id": v.record_id}))


def signed_notice_card(*, record_id: int, supervisee: str, date_label: str, version: int) -> dict:
    """To the supervisor: the supervisee confirmed the record. Who and when, no content."""
    return card(
        [
            title("Supervision record confirmed"),
            facts([("Supervisee", supervisee), ("Session", date_label), ("Version", str(version))]),
            text(
                f"{supervisee} confirmed the record is accurate. It is signed by both of you and locked; the "
                "sign-off is written into the document.",
                size="small",
            ),
        ],
        [_none("Open the record", V_FILE, {"record_id": record_id})],
    )


def change_request_card(*, record_id: int, supervisee: str, date_label: str, version: int, comment: str) -> dict:
    """To the supervisor: what the supervisee asked to be corrected. This card is the only place the comment goes:
    the outbox drops it once Teams has it."""
    return card(
        [
            title("A change was asked for"),
            facts([("Supervisee", supervisee), ("Session", date_label), ("Version", str(version))]),
            text(f"{supervisee} wrote:", size="small", subtle=True),
            text(comment),
            text("Amend the record to make a new version; they'll be asked to confirm it.", size="small"),
        ],
        [_none("Amend the record", V_AMEND, {"record_id": record_id}, style="positive")],
    )


# ---- 4. 1:1 actions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionLine:
    id: int
    text: str
    owner: str
    due_label: str
    source: str  # "1:1 with Tom Hollis, 23 Nov"
    overdue: bool = False
    done: bool = False
    can_mark: bool = True  # False for a group-record action: the DSL team ticks those off


@dataclass
class ActionsView:
    mine: list[ActionLine] = field(default_factory=list)
    theirs: list[ActionLine] = field(default_factory=list)
    done: list[ActionLine] = field(default_factory=list)
    group: list[ActionLine] = field(default_factory=list)  # open group-record actions this person owns
    notice: str | None = None


def _action_line(a: ActionLine) -> ac.Container:
    meta = f"{a.owner} · due {a.due_label}" + (" · **overdue**" if a.overdue and not a.done else "")
    items: list[Any] = [
        text(a.text),
        text(meta, subtle=not a.overdue, size="small", color="attention" if a.overdue and not a.done else None),
        text(a.source, subtle=True, size="small"),
    ]
    btn = (
        _none("Reopen", V_ACTION_REOPEN, {"action_id": a.id})
        if a.done
        else _none("Mark done", V_ACTION_DONE, {"action_id": a.id}, style="positive")
    )
    columns = [ac.Column(width="stretch", items=items)]
    if a.can_mark:
        columns.append(
            ac.Column(width="auto", vertical_content_alignment="center", items=[ac.ActionSet(actions=[btn])])
        )
    return ac.Container(separator=True, items=[ac.ColumnSet(columns=columns)])


def actions_card(v: ActionsView) -> dict:
    body: list[Any] = [title("My 1:1 supervision actions")]
    if v.notice:
        body.append(text(v.notice, color="good"))
    body.append(
        text(
            "Agreed in 1:1 supervision records. Only the supervisor and supervisee of each record see "
            "these; they are not on the DSL team's list.",
            subtle=True,
            size="small",
        )
    )
    sections = (
        ("Yours", v.mine),
        ("The other person's", v.theirs),
        ("Yours from group supervision (the DSL team ticks these off)", v.group),
        ("Done in the last 30 days", v.done),
    )
    for heading, lines in sections:
        if lines:
            body.append(ac.TextBlock(text=heading, weight="bolder", wrap=True, spacing="medium"))
            body += [_action_line(a) for a in lines[:20]]
            if len(lines) > 20:
                body.append(text(f"… and {len(lines) - 20} more not shown.", subtle=True, size="small"))
    if not (v.mine or v.theirs or v.group):
        body.append(text("Nothing open."))
    return card(body, [_none("Refresh", V_ACTIONS)])


# ---- 5. supervision agreements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementLine:
    pairing_id: int
    label: str  # "Tom Hollis (you supervise)" / "Priya Raman (your supervisor)"
    status: str  # readable status
    overdue: bool = False
    confirm_id: int | None = None  # an agreement waiting for *this* viewer's confirmation
    web_url: str | None = None  # the agreement document in the supervisor's OneDrive, once it is there


@dataclass
class AgreementsView:
    lines: list[AgreementLine] = field(default_factory=list)
    notice: str | None = None


def agreements_card(v: AgreementsView) -> dict:
    body: list[Any] = [title("Supervision agreements")]
    if v.notice:
        body.append(text(v.notice, color="good"))
    body.append(
        text(
            "Made at the start of a 1:1 supervision, confirmed by both of you, and reviewed at least once "
            "a year. What you agreed is in the agreement document in the supervisor's OneDrive; only the dates, "
            "how often and how long, and your confirmations are kept here.",
            subtle=True,
            size="small",
        )
    )
    if not v.lines:
        body.append(text("You aren't in a 1:1 supervision at the moment, so there's no agreement to make."))
    for line in v.lines:
        btns: list[Any] = []
        if line.confirm_id is not None:
            btns.append(_none("Confirm", V_AGREEMENT_CONFIRM, {"agreement_id": line.confirm_id}, style="positive"))
        if line.web_url:
            btns.append(ac.ActionOpenUrl(title="Open", url=line.web_url))
        btns.append(
            _none(
                "Record agreement" if "No agreement" in line.status else "Record a review",
                V_AGREEMENT_FORM,
                {"pairing_id": line.pairing_id},
            )
        )
        body.append(
            ac.Container(
                separator=True,
                items=[
                    ac.ColumnSet(
                        columns=[
                            ac.Column(
                                width="stretch",
                                items=[
                                    text(line.label),
                                    text(
                                        line.status,
                                        size="small",
                                        subtle=not line.overdue,
                                        color="attention" if line.overdue else None,
                                    ),
                                ],
                            ),
                            ac.Column(
                                width="auto", vertical_content_alignment="center", items=[ac.ActionSet(actions=btns)]
                            ),
                        ]
                    )
                ],
            )
        )
    return card(body, [_none("Refresh", V_AGREEMENTS)])


#: The practical arrangements of seed 001 Appendix 1, as fixed choices (nothing typed is kept).
FREQUENCIES = [
    ("half_termly", "Once a half term"),
    ("six_weekly", "Every six weeks"),
    ("monthly", "Monthly"),
    ("fortnightly", "Every two weeks"),
    ("as_needed", "As needed"),
]
LENGTHS = [("30", "30 minutes"), ("45", "45 minutes"), ("60", "An hour"), ("90", "90 minutes")]
#: What both people confirm (seed 001 Appendix 1 "Making supervision work"; seed 003 Appendix 1; seed 004 §6).
AGREEMENT_POINTS = [
    (
        "ag_confidential",
        "What we discuss stays between us, unless something has to be passed on - a safeguarding concern always is.",
    ),
    (
        "ag_records",
        "The supervisor keeps a record of each session and shares it with the supervisee; agreed "
        "actions are followed up next time.",
    ),
    ("ag_cancel", "If either of us has to cancel, we agree another date at the time."),
    ("ag_difficulty", "If supervision isn't working for either of us, we'll say so and look for a way forward."),
]


def contract_terms(v: AgreementFormView) -> list:
    """The agreement's contract terms (bot/records/agreement_terms.py): the review date, each term as a text box
    (kept only in the agreement's document), and the fixed limits of confidentiality and who holds the record."""
    val = v.values.get
    out: list[Any] = [
        ac.InputDate(
            id="ag_review",
            label="Review it by (empty: a year after the date agreed)",
            value=val("ag_review"),
            min=v.min_review,
            max=v.max_review,
        )
    ]
    out += _errors_for(v.errors, "ag_review")
    out.append(ac.TextBlock(text="What we have agreed", weight="bolder", wrap=True, spacing="medium"))
    ag = v.agreement or default_agreement()
    for t in ag.terms:
        out.append(
            text_input(
                t.id,
                f"{t.label} (required)" if t.required else t.label,
                value=val(t.id) if t.id in v.values else (t.default or None),
                max_length=t.max_length,
                multiline=t.max_length > 200,
                placeholder=t.placeholder or None,
            )
        )
        out += _errors_for(v.errors, t.id)
    out.append(text(f"**Confidentiality and its limits.** {ag.confidentiality_limits}", size="small"))
    out.append(text(f"**Who keeps the record.** {ag.record_holder}", size="small"))
    out.append(
        text(
            "What you type here goes into the agreement document in the supervisor's OneDrive, shared with the "
            "supervisee only; this app keeps the dates, how often and how long.",
            size="small",
            subtle=True,
        )
    )
    return out


@dataclass
class AgreementFormView:
    pairing_id: int
    other_name: str
    other_label: str  # "Supervisee" / "Supervisor"
    nonce: str
    max_date: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    review: bool = False
    top_error: str | None = None
    min_review: str | None = None  # the day after the date agreed (when known)
    max_review: str | None = None  # a year after it
    agreement: AgreementDef | None = None  # the school's pack's terms (None: the default pack's)


def agreement_form_card(v: AgreementFormView) -> dict:
    val = v.values.get
    body: list[Any] = [
        title("Review our supervision agreement" if v.review else "Our supervision agreement"),
        facts([(v.other_label, v.other_name)]),
        text(
            "Talk these through together first; then record it here. The other person confirms "
            "with one click. Review it at least once a year.",
            subtle=True,
            size="small",
        ),
    ]
    if v.top_error:
        body.append(error(v.top_error))
    body.append(ac.InputDate(id="ag_date", label="Date we agreed it (required)", value=val("ag_date"), max=v.max_date))
    body += _errors_for(v.errors, "ag_date")
    body.append(choice_set("ag_frequency", "How often we'll meet (required)", FREQUENCIES, value=val("ag_frequency")))
    body += _errors_for(v.errors, "ag_frequency")
    body.append(choice_set("ag_minutes", "How long a session lasts (required)", LENGTHS, value=val("ag_minutes")))
    body += _errors_for(v.errors, "ag_minutes")
    body += contract_terms(v)
    body.append(ac.TextBlock(text="We both agree that (tick each)", weight="bolder", wrap=True, spacing="medium"))
    for key, label in AGREEMENT_POINTS:
        body.append(
            ac.InputToggle(
                id=key,
                title=label,
                value="true" if val(key) == "true" else "false",
                value_on="true",
                value_off="false",
                wrap=True,
            )
        )
        body += _errors_for(v.errors, key)
    return card(
        body,
        [
            execute(
                "Agree and send to confirm",
                V_AGREEMENT_SUBMIT,
                {"pairing_id": v.pairing_id, "nonce": v.nonce},
                style="positive",
            ),
            _none("Back", V_AGREEMENTS),
        ],
    )


def confirm_request_card(
    *, agreement_id: int, proposer: str, agreed_on: str, review_due: str, arrangements: str
) -> dict:
    """Sent 1:1 to the other person: one click confirms the agreement."""
    body: list[Any] = [
        title("Please confirm your supervision agreement"),
        facts(
            [
                ("Recorded by", proposer),
                ("Agreed on", agreed_on),
                ("Arrangements", arrangements),
                ("Review due", review_due),
            ]
        ),
        text(
            "Confirm that you made this agreement together: confidentiality (safeguarding concerns "
            "are always passed on), records kept by the supervisor and shared with you, cancelling "
            "with a new date, and raising it if supervision isn't working.",
            size="small",
        ),
    ]
    for _, label in AGREEMENT_POINTS:
        body.append(text(f"• {label}", size="small", subtle=True))
    return card(
        body,
        [
            _none("Confirm", V_AGREEMENT_CONFIRM, {"agreement_id": agreement_id}, style="positive"),
            _none("Not now", V_AGREEMENTS),
        ],
    )
