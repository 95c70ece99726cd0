"""Cards for recording group safeguarding supervision (seed 001 "Safeguarding Supervision – Group", "Record Keeping").

Pure builders: a view model in, a v1.5 card dict out. Every input keeps the value the person typed, and every
error appears directly under its field. The record card deliberately uses no `isRequired`: Teams would then refuse
"Save draft" on a half-written record, and saving half-written work is the point of a draft. The server checks
required fields on submit and shows each error beside its field instead (labels say which are required).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import adaptive_cards.card as ac

from bot.records.templates import ACTION_TEXT_MAX, RecordTemplate
from cards.base import TEAMS_MAX_CARD_BYTES, card, card_size, choice_set, error, execute, facts, text, text_input, title

# Verbs (registered by bot/journeys/group_record.py).
V_START = "grouprec.start"
V_OPEN = "grouprec.open"
V_RESUME = "grouprec.resume"
V_ADHOC = "grouprec.adhoc"
V_ADHOC_NEXT = "grouprec.adhoc_next"
V_SAVE = "grouprec.save"
V_SUBMIT = "grouprec.submit"
V_DISCARD = "grouprec.discard"
V_AMEND = "grouprec.amend"
V_SCHEDULE = "grouprec.schedule"
V_SCHEDULE_SUBMIT = "grouprec.schedule_submit"
V_ACTIONS = "actions.list"
V_SIGN = "grouprec.sign"
V_CHANGE = "grouprec.change"

# Cards with a typed "others" list longer than this switch to a type-the-names box (keeps big schools under 28 KB).
CARD_BUDGET_BYTES = TEAMS_MAX_CARD_BYTES - 2 * 1024
AMEND_NOTE_MAX = 300


def _none(title_: str, verb: str, data: dict | None = None, *, style: str | None = None) -> ac.ActionExecute:
    """A button that sends no inputs (so Teams does not validate the form for it): Back, Continue draft …"""
    return ac.ActionExecute(title=title_, verb=verb, data=data or {}, style=style, associated_inputs="none")


def _errors_for(errors: dict[str, str], key: str) -> list:
    msg = errors.get(key)
    return [error(msg)] if msg else []


# ---- 1. choose a session ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionChoice:
    id: int
    label: str  # "Willow Class · Mon 23 Nov, 14:00 · Amara Okafor"


@dataclass(frozen=True)
class DraftChoice:
    draft_key: str
    label: str


@dataclass(frozen=True)
class RecordedChoice:
    record_id: int
    label: str
    web_url: str | None = None


@dataclass
class PickerView:
    half_term: str | None
    sessions: list[SessionChoice] = field(default_factory=list)
    upcoming: int = 0  # sessions scheduled later this half term (not yet recordable)
    drafts: list[DraftChoice] = field(default_factory=list)
    recorded: list[RecordedChoice] = field(default_factory=list)
    notice: str | None = None
    error: str | None = None


def picker_card(v: PickerView) -> dict:
    body: list[Any] = [title("Record a group supervision session")]
    if v.half_term:
        body.append(text(v.half_term, subtle=True))
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.error:
        body.append(error(v.error))
    actions: list[Any] = []
    if v.sessions:
        body.append(
            choice_set(
                "session_id",
                "Which session are you recording?",
                [(str(s.id), s.label) for s in v.sessions],
                required=True,
                error_message="Choose the session you are recording.",
                value=str(v.sessions[0].id) if len(v.sessions) == 1 else None,
                placeholder="Choose a session",
            )
        )
        actions.append(execute("Open the record", V_OPEN, style="positive"))
    else:
        msg = "No group sessions are waiting to be recorded this half term."
        if v.upcoming:
            msg += f" {v.upcoming} more {'is' if v.upcoming == 1 else 'are'} scheduled for later dates."
        body.append(text(msg))
    if v.drafts:
        body.append(text("**Your drafts**"))
        body.append(
            ac.ActionSet(
                actions=[_none(f"Continue: {d.label}", V_RESUME, {"draft_key": d.draft_key}) for d in v.drafts[:5]]
            )
        )
    if v.recorded:
        body.append(text("**Recorded this half term**"))
        for r in v.recorded[:8]:
            row_actions: list[Any] = [_none("Amend", V_AMEND, {"record_id": r.record_id})]
            if r.web_url:
                row_actions.insert(0, ac.ActionOpenUrl(title="Open file", url=r.web_url))
            body.append(
                ac.ColumnSet(
                    columns=[
                        ac.Column(
                            width="stretch", items=[text(r.label, size="small")], vertical_content_alignment="center"
                        ),
                        ac.Column(width="auto", items=[ac.ActionSet(actions=row_actions)]),
                    ]
                )
            )
    actions.append(_none("Session not listed", V_ADHOC))
    actions.append(_none("Schedule sessions", V_SCHEDULE))
    return card(body, actions)


# ---- 2. an ad-hoc session: when, which group, who facilitated ----------------------------------------------------


@dataclass
class AdhocView:
    groups: list[tuple[str, str]]  # (group id, name)
    facilitators: list[tuple[str, str]]  # DSL team (id, name)
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    max_date: str | None = None  # today (school-local): you record sessions that have happened


MIXED_GROUP = "_mixed"


def adhoc_card(v: AdhocView) -> dict:
    val = v.values.get
    body: list[Any] = [
        title("Record a session that wasn't scheduled"),
        text("Tell me when it was and who it was for; next you'll tick who came.", subtle=True),
    ]
    body.append(
        choice_set(
            "adhoc_kind",
            "Kind of session",
            [("ad_hoc", "Group supervision"), ("emergency", "Emergency group supervision")],
            value=val("adhoc_kind") or "ad_hoc",
            required=True,
            error_message="Choose the kind of session.",
        )
    )
    body += _errors_for(v.errors, "adhoc_kind")
    body.append(
        ac.InputDate(
            id="adhoc_date",
            label="Date of the session",
            value=val("adhoc_date"),
            is_required=True,
            error_message="Give the date of the session.",
            max=v.max_date,
        )
    )
    body += _errors_for(v.errors, "adhoc_date")
    body.append(
        ac.InputTime(
            id="adhoc_time",
            label="Start time",
            value=val("adhoc_time"),
            is_required=True,
            error_message="Give the start time.",
        )
    )
    body += _errors_for(v.errors, "adhoc_time")
    body.append(
        choice_set(
            "adhoc_group",
            "Which group?",
            v.groups + [(MIXED_GROUP, "Staff from several groups")],
            value=val("adhoc_group"),
            required=True,
            error_message="Choose the group.",
            placeholder="Choose a group",
        )
    )
    body += _errors_for(v.errors, "adhoc_group")
    body.append(
        choice_set(
            "adhoc_facilitator",
            "Facilitated by (DSL team)",
            v.facilitators,
            value=val("adhoc_facilitator"),
            required=True,
            error_message="Choose who facilitated.",
        )
    )
    body += _errors_for(v.errors, "adhoc_facilitator")
    return card(body, [execute("Next: who came", V_ADHOC_NEXT, style="positive"), _none("Back", V_START)])


# ---- 3. the record card ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewLine:
    """An action still open from an earlier session (of the same 1:1 pair, or the same group), to be marked on
    this record."""

    id: int
    text: str
    owner: str
    due_label: str
    overdue: bool = False
    source: str = ""  # group records: the earlier session it came from


REVIEW_CHOICES = [("done", "Done"), ("carried", "Carry forward"), ("dropped", "Drop it")]


def review_rows(lines: list[ReviewLine], values: dict[str, str], errors: dict[str, str]) -> list:
    """The "review of actions" that opens a record (seed 002 App. 2: "Review of agreed Actions from the last
    meeting"): each open action from earlier sessions, marked done, carried forward or dropped (`rev_<id>`)."""
    if not lines:
        return []
    out: list[Any] = [
        ac.TextBlock(
            text="Review of actions from last time", weight="bolder", wrap=True, separator=True, spacing="medium"
        ),
        text("Mark each one. Carried-forward actions stay open and come back next time.", subtle=True, size="small"),
    ]
    for r in lines:
        key = f"rev_{r.id}"
        meta = " · ".join(x for x in (r.owner, f"due {r.due_label}", "overdue" if r.overdue else "", r.source) if x)
        out.append(text(r.text))
        out.append(text(meta, size="small", subtle=not r.overdue, color="attention" if r.overdue else None))
        out.append(choice_set(key, "What happened with it?", REVIEW_CHOICES, value=values.get(key), expanded=True))
        if errors.get(key):
            out.append(error(errors[key]))
    return out


@dataclass
class RecordView:
    template: RecordTemplate
    heading: list[tuple[str, str]]  # facts: Group, Session, Date, Facilitator, Half term
    tick_label: str | None  # "Tick who came from Willow Class"; None: no tick list (mixed group)
    group_people: list[tuple[str, str]]  # (id, name) — tick boxes, nobody pre-ticked
    others: list[tuple[str, str]]  # everyone else who may be added
    owners: list[tuple[str, str]]  # DSL team: who may own an action
    default_owner: str | None
    data: dict[str, Any]  # carried on every button (session/draft/nonce …)
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    top_error: str | None = None
    notice: str | None = None  # e.g. "Draft saved at 14:05."
    amend_version: int | None = None  # set when amending: the version this will create
    previous_file: str | None = None
    done_actions: list[str] = field(default_factory=list)  # amendments: actions already done (not editable)
    has_draft: bool = False
    others_as_text: bool | None = None  # None: decide by size
    review: list[ReviewLine] = field(default_factory=list)  # the group's earlier open actions: reviewed first
    escalated: str | None = None  # an escalation already raised with this record: its category's label
    system_name: str = "the school's safeguarding system"


def record_card(v: RecordView) -> dict:
    """The record card; falls back to typing other attendees' names when listing the whole roster won't fit."""
    if v.others_as_text is None:
        built = _record_card(v, others_as_text=False)
        if card_size(built) <= CARD_BUDGET_BYTES or not v.others:
            return built
        return _record_card(_others_to_names(v), others_as_text=True)
    return _record_card(_others_to_names(v) if v.others_as_text else v, others_as_text=v.others_as_text)


def _others_to_names(v: RecordView) -> RecordView:
    """Switching to the typed box: people already picked from the list are carried over as names, not lost."""
    picked = [x for x in (v.values.get("att_other") or "").split(",") if x]
    if not picked:
        return v
    names = dict(v.others)
    typed = [names[i] for i in picked if i in names]
    current = v.values.get("att_other_text") or ""
    merged = ", ".join([current] + typed if current else typed)
    values = {k: val for k, val in v.values.items() if k != "att_other"}
    values["att_other_text"] = merged
    from dataclasses import replace

    return replace(v, values=values)


def _record_card(v: RecordView, *, others_as_text: bool) -> dict:
    t = v.template
    val = v.values.get
    heading = "Amend the group record" if v.amend_version else "Group supervision record"
    body: list[Any] = [title(heading), facts(v.heading)]
    if v.amend_version:
        body.append(
            text(
                f"This makes version {v.amend_version}. "
                f"{v.previous_file or 'The previous version'} stays in the channel's files.",
                subtle=True,
            )
        )
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.top_error:
        body.append(error(v.top_error))
    body += review_rows(v.review, v.values, v.errors)

    body.append(ac.TextBlock(text="Who came", weight="bolder", wrap=True, separator=True, spacing="medium"))
    ticks = bool(v.tick_label and v.group_people)
    if ticks:
        body.append(
            choice_set("att_group", v.tick_label, v.group_people, value=val("att_group"), multi=True, expanded=True)
        )
        body += _errors_for(v.errors, "att_group")
    if others_as_text:
        body.append(
            text_input(
                "att_other_text",
                ("Anyone else who came" if ticks else "Who came")
                + " (full names or school e-mails, separated by commas)",
                value=val("att_other_text"),
                max_length=1000,
                multiline=True,
            )
        )
        body += _errors_for(v.errors, "att_other_text")
    elif v.others:
        body.append(
            choice_set(
                "att_other",
                "Anyone else who came" if ticks else "Who came",
                v.others,
                value=val("att_other"),
                multi=True,
                placeholder="Add people from the staff list",
            )
        )
    if not ticks:
        body += _errors_for(v.errors, "att_group")

    body.append(ac.TextBlock(text="The record", weight="bolder", wrap=True, separator=True, spacing="medium"))
    body += template_fields(t, v.values, v.errors)
    if t.actions.enabled:
        body += action_rows(t, v.owners, v.default_owner, v.values, v.errors, done=v.done_actions)
    from cards.escalation import escalation_inputs  # cards.escalation is imported by cards.targeted, which needs us

    body += escalation_inputs(v.values, v.errors, v.escalated, v.system_name)

    if v.amend_version:
        body.append(
            text_input(
                "amend_note",
                "What changed in this version? (required)",
                value=val("amend_note"),
                max_length=AMEND_NOTE_MAX,
                multiline=True,
                error_message=f"Up to {AMEND_NOTE_MAX} characters.",
            )
        )
        body += _errors_for(v.errors, "amend_note")

    body.append(
        text(
            "Use initials or references, never a pupil's full name. The finished record goes to the "
            "Safeguarding channel's files; only who came and the actions stay in this app.",
            subtle=True,
            size="small",
        )
    )
    submit_title = f"Save version {v.amend_version}" if v.amend_version else "Submit record"
    actions: list[Any] = [
        execute(submit_title, V_SUBMIT, v.data, style="positive"),
        execute("Save draft", V_SAVE, v.data),
    ]
    if v.has_draft:
        actions.append(_none("Delete draft", V_DISCARD, {"draft_key": v.data.get("draft_key")}, style="destructive"))
    return card(body, actions)


def template_fields(t: RecordTemplate, values: dict[str, str], errors: dict[str, str]) -> list:
    """A record template's fields as card inputs, each with its help line and its error (if any) below it.
    Shared by every record card (group and 1:1)."""
    val = values.get
    body: list[Any] = []
    section: str | None = None
    for f in t.fields:
        if f.section != section and f.section:  # a grid row's topic (seed 001 Appendix 2)
            body.append(ac.TextBlock(text=f.section, weight="bolder", wrap=True, separator=True, spacing="medium"))
        section = f.section
        label = f.label + (" (required)" if f.required and f.kind != "confirm" else "")
        if f.kind == "checklist":
            body.append(
                choice_set(
                    f.input_id,
                    label,
                    [(o.id, o.label) for o in f.options],
                    value=val(f.input_id) or None,
                    multi=True,
                    expanded=True,
                )
            )
        elif f.kind == "confirm":
            body.append(
                ac.InputToggle(
                    id=f.input_id,
                    title=f.label + (" (required)" if f.required else ""),
                    value="true" if val(f.input_id) == "true" else "false",
                    value_on="true",
                    value_off="false",
                    wrap=True,
                )
            )
        elif f.kind == "date":
            body.append(ac.InputDate(id=f.input_id, label=label, value=val(f.input_id) or None))
        else:
            body.append(
                text_input(
                    f.input_id,
                    label,
                    value=val(f.input_id),
                    max_length=f.max_length,
                    multiline=f.kind == "multiline",
                    error_message=f"Up to {f.max_length} characters.",
                )
            )
        if f.help:
            body.append(text(f.help, subtle=True, size="small"))
        body += _errors_for(errors, f.input_id)
    return body


def action_rows(
    t: RecordTemplate,
    owners: list[tuple[str, str]],
    default_owner: str | None,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    done: list[str] | None = None,
) -> list:
    """A template's action rows (text, owner, due by), headed by its label. Shared by every record card."""
    val = values.get
    body: list[Any] = [ac.TextBlock(text=t.actions.label, weight="bolder", wrap=True, separator=True, spacing="medium")]
    if t.actions.help:
        body.append(text(t.actions.help, subtle=True, size="small"))
    for d in done or []:
        body.append(text(f"Done: {d}", subtle=True, size="small"))
    for i in range(t.actions.max_items):
        row: list[Any] = [
            text_input(
                f"act_{i}_text",
                f"Action {i + 1}",
                value=val(f"act_{i}_text"),
                max_length=ACTION_TEXT_MAX,
                error_message=f"Up to {ACTION_TEXT_MAX} characters.",
            )
        ]
        row += _errors_for(errors, f"act_{i}_text")
        row.append(
            ac.ColumnSet(
                columns=[
                    ac.Column(
                        width="stretch",
                        items=[
                            choice_set(
                                f"act_{i}_owner",
                                f"Action {i + 1}: owner",
                                owners,
                                value=val(f"act_{i}_owner") or default_owner,
                            ),
                            *_errors_for(errors, f"act_{i}_owner"),
                        ],
                    ),
                    ac.Column(
                        width="stretch",
                        items=[
                            ac.InputDate(
                                id=f"act_{i}_due", label=f"Action {i + 1}: due by", value=val(f"act_{i}_due") or None
                            ),
                            *_errors_for(errors, f"act_{i}_due"),
                        ],
                    ),
                ]
            )
        )
        body.append(ac.Container(items=row, spacing="small"))
    return body


# ---- 4. after submit -------------------------------------------------------------------------------------------


@dataclass
class SubmittedView:
    group_label: str
    date_label: str
    attendee_count: int
    action_count: int
    version: int
    file_name: str
    already: bool = False  # a repeated click: nothing new was made
    escalation: str | None = None  # the category's label, when one was raised with this submit
    system_name: str = "the school's safeguarding system"
    system_url: str | None = None
    signoff: bool = False  # attendees are asked to confirm it (school setting group_record_signoff)


def submitted_card(v: SubmittedView) -> dict:
    head = f"Version {v.version} saved" if v.version > 1 else "Record submitted"
    body: list[Any] = [title(head)]
    if v.already:
        body.append(text("This record was already submitted; nothing was created twice.", subtle=True))
    body.append(
        facts(
            [
                ("Group", v.group_label),
                ("Date", v.date_label),
                ("Attended", str(v.attendee_count)),
                ("Actions", str(v.action_count)),
                ("File", v.file_name),
            ]
        )
    )
    body.append(
        text(
            "I'm saving the record to the Safeguarding channel's files and will post a short summary "
            "with the link there. Attendance is marked for everyone who came."
            + (" Everyone who came is asked to confirm it is accurate." if v.signoff else "")
        )
    )
    actions: list[Any] = []
    if v.escalation:
        body.append(
            error(
                f"You raised an escalation ({v.escalation}). The rest of the DSL team has been told it was raised - "
                f"not what was said. Log the concern in {v.system_name} now."
            )
        )
        if v.system_url:
            actions.append(ac.ActionOpenUrl(title=f"Open {v.system_name}", url=v.system_url))
    actions += [_none("Record another session", V_START), _none("Open the action list", V_ACTIONS)]
    return card(body, actions)


@dataclass
class ConfirmView:
    """One attendee's view of a group record they are asked to confirm (school setting group_record_signoff)."""

    version_id: int
    group_label: str
    date_label: str
    facilitator: str
    version: int = 1
    web_url: str | None = None
    signed: str | None = None  # "24 Nov 2026 09:10": they confirmed it then
    replaced: bool = False  # a newer version was saved: they'll be asked about that one
    notice: str | None = None
    error: str | None = None


CHANGE_NOTE_MAX = 500


def confirm_card(v: ConfirmView) -> dict:
    """Sent 1:1 to each attendee once the record is in the channel's files: who/when and the link, never content."""
    body: list[Any] = [
        title("Please confirm the group supervision record"),
        facts(
            [("Group", v.group_label), ("Session", v.date_label), ("Facilitator", v.facilitator)]
            + ([("Version", str(v.version))] if v.version > 1 else [])
        ),
    ]
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.error:
        body.append(error(v.error))
    actions: list[Any] = []
    if v.web_url:
        actions.append(ac.ActionOpenUrl(title="Open the record", url=v.web_url))
    if v.replaced:
        body.append(
            text("A newer version of this record was saved; you'll be asked to confirm that one.", size="small")
        )
    elif v.signed:
        body.append(text(f"You confirmed it is accurate on {v.signed}.", size="small"))
    else:
        body.append(
            text(
                "Read it in the Safeguarding channel's files (ask the facilitator to show you if you can't open it), "
                "then confirm it is accurate or ask for a change. Confirming is your signature on the record.",
                size="small",
            )
        )
        actions.append(_none("Confirm it's accurate", V_SIGN, {"version_id": v.version_id}, style="positive"))
        actions.append(
            ac.ActionShowCard(
                title="Ask for a change",
                card=ac.AdaptiveCard.new()
                .version("1.5")
                .add_items(
                    [
                        text_input(
                            "change_note",
                            "What should be corrected? (goes to whoever wrote the record)",
                            max_length=CHANGE_NOTE_MAX,
                            multiline=True,
                            error_message=f"Up to {CHANGE_NOTE_MAX} characters.",
                        ),
                        text("Only that you asked is kept by the app, not what you wrote.", subtle=True, size="small"),
                    ]
                )
                .add_actions([execute("Send", V_CHANGE, {"version_id": v.version_id})])
                .create(),
            )
        )
    return card(body, actions)


def change_request_card(*, record_id: int, who: str, group_label: str, date_label: str, comment: str) -> dict:
    """To whoever wrote the group record: an attendee's correction. The outbox drops this card once delivered."""
    return card(
        [
            title("A change to a group record was asked for"),
            facts([("From", who), ("Group", group_label), ("Session", date_label)]),
            text(comment),
            text("Amend the record to save a new version; everyone who came is asked to confirm it.", size="small"),
        ],
        [_none("Amend the record", V_AMEND, {"record_id": record_id}, style="positive")],
    )


# ---- 5. the Safeguarding channel summary and the 1:1 prompt ------------------------------------------------------


@dataclass
class ChannelSummaryView:
    group_label: str
    date_label: str
    facilitator: str
    attendee_count: int
    action_count: int
    file_name: str
    web_url: str | None
    version: int = 1
    previous_file: str | None = None


def channel_summary_card(v: ChannelSummaryView) -> dict:
    """Posted in the Safeguarding channel: who/when/how many and the file link — never the discussion."""
    if v.version > 1:
        head = f"Group supervision record amended (version {v.version})"
    else:
        head = "Group supervision recorded"
    body: list[Any] = [
        title(head),
        facts(
            [
                ("Group", v.group_label),
                ("Date", v.date_label),
                ("Facilitator", v.facilitator),
                ("Attended", str(v.attendee_count)),
                ("Actions for the DSL meeting", str(v.action_count)),
                ("File", v.file_name),
            ]
        ),
    ]
    if v.version > 1:
        body.append(
            text(
                f"Earlier versions are kept{f' ({v.previous_file})' if v.previous_file else ''}.",
                subtle=True,
                size="small",
            )
        )
    actions = [ac.ActionOpenUrl(title="Open the record", url=v.web_url)] if v.web_url else []
    return card(body, actions)


def record_prompt_card(*, session_id: int, group_label: str, date_label: str) -> dict:
    """Sent 1:1 to the facilitator when a scheduled group session ends."""
    body = [
        title("Time to record your group session"),
        facts([("Group", group_label), ("Session", date_label)]),
        text("Tick who came and add the summary while it's fresh; you can save a draft and finish later."),
    ]
    return card(body, [_none("Record it now", V_OPEN, {"session_id": session_id}, style="positive")])


# ---- 6. scheduling the half term's group sessions ---------------------------------------------------------------


@dataclass
class ScheduleView:
    half_term: str
    groups: list[tuple[str, str]]  # choice value → label (groups + mop-up + emergency)
    facilitators: list[tuple[str, str]]
    durations: list[tuple[str, str]]
    nonce: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    scheduled: list[str] = field(default_factory=list)  # "Willow Class · Tue 24 Nov 14:00"
    unscheduled: list[str] = field(default_factory=list)  # group names with nothing this half term
    notice: str | None = None
    min_date: str | None = None
    max_date: str | None = None
    changeable: list[tuple[int, str]] = field(default_factory=list)  # (session id, label) still ahead


def schedule_card(v: ScheduleView) -> dict:
    val = v.values.get
    body: list[Any] = [title("Schedule group supervision"), text(v.half_term, subtle=True)]
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.unscheduled:
        body.append(text("Still to schedule this half term: " + ", ".join(v.unscheduled), size="small"))
    if v.scheduled:
        body.append(
            text(
                "Already scheduled: "
                + "; ".join(v.scheduled[:12])
                + (f" and {len(v.scheduled) - 12} more" if len(v.scheduled) > 12 else ""),
                subtle=True,
                size="small",
            )
        )
    if v.changeable:
        body.append(text("To move or cancel one of them:", size="small"))
        body.append(
            ac.ActionSet(
                actions=[_none(label, "gsession.view", {"session_id": sid}) for sid, label in v.changeable[:6]]
            )
        )
    body.append(
        choice_set(
            "sched_group",
            "Group",
            v.groups,
            value=val("sched_group"),
            required=True,
            error_message="Choose the group.",
            placeholder="Choose a group",
        )
    )
    body += _errors_for(v.errors, "sched_group")
    body.append(
        ac.InputDate(
            id="sched_date",
            label="Date",
            value=val("sched_date"),
            is_required=True,
            error_message="Choose the date.",
            max=v.max_date,
        )
    )
    body += _errors_for(v.errors, "sched_date")
    body.append(
        ac.InputTime(
            id="sched_time",
            label="Start time",
            value=val("sched_time"),
            is_required=True,
            error_message="Choose the start time.",
        )
    )
    body += _errors_for(v.errors, "sched_time")
    body.append(
        choice_set(
            "sched_minutes",
            "Length",
            v.durations,
            value=val("sched_minutes"),
            required=True,
            error_message="Choose how long.",
        )
    )
    body += _errors_for(v.errors, "sched_minutes")
    body.append(
        choice_set(
            "sched_facilitator",
            "Facilitator (DSL team)",
            v.facilitators,
            value=val("sched_facilitator"),
            required=True,
            error_message="Choose the facilitator.",
        )
    )
    body += _errors_for(v.errors, "sched_facilitator")
    body.append(
        text(
            "Everyone in the group is invited; the calendar entry just says \"Group supervision\". "
            "A mop-up session invites everyone who hasn't attended this half term yet.",
            subtle=True,
            size="small",
        )
    )
    return card(
        body, [execute("Schedule", V_SCHEDULE_SUBMIT, {"nonce": v.nonce}, style="positive"), _none("Back", V_START)]
    )


def message_card(heading: str, message: str, *, back: bool = True) -> dict:
    """A short message with a way back to the start (used for "already recorded", "draft deleted" …)."""
    return card([title(heading), text(message)], [_none("Back to group records", V_START)] if back else [])
