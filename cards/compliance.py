"""Cards of the half-term compliance journey (issue #5): the DSL team's attendance card, the governor's summary,
the reminder with its one-click "I'll attend", the mop-up proposal and its outcomes, and the DSL digest.

Pure builders: view model in, card dict out. Names of staff appear only on cards for the DSL team; the governor's
card and every card sent to a member of staff carry counts or their own details only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from cards.base import card, choice_set, error, execute, facts, text, title

ATTEND = "compliance.attend"
ATTENDANCE = "compliance.attendance"
MOPUP_PROPOSE = "compliance.mopup.propose"
MOPUP_CONFIRM = "compliance.mopup.confirm"
MOPUP_DECLINE = "compliance.mopup.decline"

#: How many names a card lists per group, and in all, before it says "and N more" (keeps cards under 28 KB).
NAMES_PER_GROUP = 30
NAMES_IN_ALL = 200


def _execute(
    title_: str, verb: str, data: dict | None = None, *, inputs: bool = True, style: str | None = None
) -> ac.ActionExecute:
    return ac.ActionExecute(
        title=title_, verb=verb, data=data or {}, style=style, associated_inputs="auto" if inputs else "none"
    )


def _title(value: str, marker: str | None) -> ac.TextBlock:
    """The card's title; a sent card's claim marker rides on its element id (invisible, not content)."""
    block = title(value)
    if marker:
        block.id = marker
    return block


def _names(names: list[str], limit: int) -> str:
    shown = names[:limit]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _percent(p: float | None) -> str:
    return "—" if p is None else f"{p:.0f}%"


def _days(n: int) -> str:
    return f"{n} school day{'s' if n != 1 else ''}"


def notice_card(message: str) -> dict:
    """A one-line card: what a clicked card turns into when the answer is a sentence (a refusal, "that's over")."""
    return card([text(message)])


# ---- reminder ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionChoice:
    id: int
    label: str  # e.g. "Mop-up session · Wed 16 Dec, 15:30–16:30"
    invited: bool = False  # they are already on the list for it


@dataclass(frozen=True)
class ReminderView:
    first_name: str
    half_term_name: str
    half_term_index: int
    days_left: int
    deadline_label: str  # e.g. "Fri 18 Dec"
    choices: tuple[SessionChoice, ...] = ()
    selected: int | None = None
    error: str | None = None
    marker: str | None = None  # the claim it was sent for, so a restart can tell whether Teams already has it


def reminder_card(v: ReminderView) -> dict:
    """A reminder to someone who has not yet attended group supervision this half term (seed 001 §3.1)."""
    body: list = [
        _title("Group supervision this half term", v.marker),
        text(
            f"Hi {v.first_name}, our records show you haven't been to a group safeguarding supervision session "
            f"in {v.half_term_name} yet. Everyone attends at least one each half term."
        ),
        facts([("Time left", f"{_days(v.days_left)} (last day {v.deadline_label})")]),
    ]
    actions: list = []
    booked = [c for c in v.choices if c.invited]
    if booked:
        body.append(
            text(f"You're on the list for **{booked[0].label}**. It should already be in your calendar.", color="good")
        )
    if v.choices and not (booked and len(v.choices) == 1):
        default = (
            v.selected if v.selected is not None else next((c.id for c in v.choices if not c.invited), v.choices[0].id)
        )
        body.append(
            choice_set(
                "session_id",
                "A session you can join" if not booked else "Or join another session",
                [(str(c.id), c.label + (" (you're on the list)" if c.invited else "")) for c in v.choices],
                value=str(default),
                required=True,
                error_message="Choose a session to join.",
            )
        )
        if v.error:
            body.append(error(v.error))
        actions.append(_execute("I'll attend", ATTEND, {"ht": v.half_term_index}, style="positive"))
    elif not v.choices:
        if v.error:
            body.append(error(v.error))
        body.append(
            text(
                "There isn't a session you can join yet. Your DSL team has been told and will arrange "
                "one, or ask them directly."
            )
        )
    body.append(text("If you have attended and this looks wrong, let your DSL team know.", subtle=True, size="small"))
    return card(body, actions)


@dataclass(frozen=True)
class AttendDoneView:
    first_name: str
    session_label: str
    half_term_name: str
    already: bool = False


def attend_done_card(v: AttendDoneView) -> dict:
    """Shown in place of the reminder once someone has said they'll attend."""
    lead = "You were already on the list" if v.already else "Thanks — you're on the list"
    return card(
        [
            title("See you there"),
            text(f"{lead} for **{v.session_label}** ({v.half_term_name}), {v.first_name}."),
            text(
                "We've put it in your calendar. If you can't make it after all, choose another session from your "
                "next reminder or tell your DSL team.",
                subtle=True,
            ),
        ]
    )


# ---- the DSL team's attendance card and the governor's summary -----------------------------------------------
@dataclass(frozen=True)
class GroupRow:
    name: str
    compliant: int
    due: int
    percent: float | None
    outstanding: tuple[str, ...] = ()  # names (DSL card only)
    missed: tuple[str, ...] = ()  # names (DSL card only), once the half term is over
    exempt: int = 0


@dataclass(frozen=True)
class DslRow:
    name: str
    status: str  # e.g. "up to date (last 12 Nov)", "due — 9 school days left"


@dataclass(frozen=True)
class AttendanceView:
    half_term_name: str
    half_term_index: int
    phase: str  # upcoming | current | closed
    deadline_label: str
    days_left: int
    mop_up_week_label: str
    compliant: int
    due: int
    percent: float | None
    groups: tuple[GroupRow, ...]
    mop_up: str  # one line: what is happening about the mop-up session
    exempt: tuple[str, ...] = ()  # "Name — reason" (DSL card only)
    reminders: tuple[str, ...] = ()  # one line per reminder point already reached
    can_propose_mop_up: bool = False
    previous_index: int | None = None
    next_index: int | None = None
    unplaced_attendance: int = 0
    dsl: tuple[DslRow, ...] = ()  # the DSL team's own individual supervision
    dsl_frequency: str = ""  # "every half term" / "every six weeks (30 school days)"
    # 1:1 supervision agreements past their annual review (seed 001 Appendix 1): "Supervisee — with Supervisor,
    # due 1 Oct 2026". Dates and names only: the DSL team never sees an agreement's or a record's content.
    agreement_reviews: tuple[str, ...] = ()
    dashboard_url: str | None = None  # the dashboard tab (or the local page) for this viewer, when they may see it
    # 1:1 pairings with no agreement confirmed by both, and pairs behind their agreed frequency (rule 11, seed 002
    # "Entitlement"): "Grace Mensah with Marcus Fenwick (since 1 Oct)". Names and dates only.
    no_agreement: tuple[str, ...] = ()
    entitlement: tuple[str, ...] = ()


def _dashboard(url: str | None) -> list:
    """A button to the dashboard: the charts and trends behind these figures."""
    return [ac.ActionOpenUrl(title="Open the dashboard", url=url)] if url else []


def _one_to_one_follow_through(v: AttendanceView) -> list:
    """The 1:1 pairs without an agreement, and those behind the frequency their agreement sets."""
    out = []
    if v.no_agreement:
        out.append(text(f"**1:1 supervision with no agreement yet** ({len(v.no_agreement)})"))
        out.append(text(_names(list(v.no_agreement), NAMES_PER_GROUP), size="small"))
    if v.entitlement:
        out.append(text(f"**1:1 supervision behind the agreed frequency** ({len(v.entitlement)})"))
        out.append(text(_names(list(v.entitlement), NAMES_PER_GROUP), size="small", color="attention"))
    return out


def _phase_line(v: AttendanceView) -> str:
    if v.phase == "closed":
        return f"This half term ended on {v.deadline_label}."
    if v.phase == "upcoming":
        return f"Starts soon; last day {v.deadline_label}."
    return f"{_days(v.days_left)} left (last day {v.deadline_label}); mop-up week {v.mop_up_week_label}."


def _nav(v: AttendanceView, verb: str) -> list:
    out = []
    if v.previous_index is not None:
        out.append(_execute("Previous half term", verb, {"ht": v.previous_index}, inputs=False))
    if v.next_index is not None:
        out.append(_execute("Next half term", verb, {"ht": v.next_index}, inputs=False))
    return out


def attendance_card(v: AttendanceView) -> dict:
    """The DSL team's view of this half term: % attended per group, who is outstanding, days left, mop-up."""
    body: list = [
        title(f"Group supervision attendance — {v.half_term_name}"),
        text(_phase_line(v), subtle=True),
        facts(
            [("Whole school", f"{v.compliant} of {v.due} attended ({_percent(v.percent)})")]
            + [
                (
                    g.name,
                    f"{g.compliant} of {g.due} ({_percent(g.percent)})" + (f", {g.exempt} exempt" if g.exempt else ""),
                )
                for g in v.groups
            ]
        ),
    ]
    listed = 0
    waiting = [g for g in v.groups if g.outstanding or g.missed]
    if waiting:
        word = "Missed" if v.phase == "closed" else "Still to attend"
        body.append(text(f"**{word}**"))
        for g in waiting:
            names = list(g.missed or g.outstanding)
            room = max(0, min(NAMES_PER_GROUP, NAMES_IN_ALL - listed))
            body.append(text(f"{g.name}: {_names(names, room) if room else f'{len(names)} people'}", size="small"))
            listed += min(room, len(names))
    elif v.due:
        body.append(text("Everyone due has attended.", color="good"))
    if v.exempt:
        body.append(text("**Not counted this half term**"))
        body.append(text(_names(list(v.exempt), NAMES_PER_GROUP), size="small", subtle=True))
    body.append(text(f"**Mop-up:** {v.mop_up}"))
    if v.dsl:
        body.append(text(f"**DSL team's own supervision** ({v.dsl_frequency})"))
        body.append(facts([(d.name, d.status) for d in v.dsl]))
    if v.agreement_reviews:
        body.append(text(f"**1:1 supervision agreements overdue for review** ({len(v.agreement_reviews)})"))
        body.append(text(_names(list(v.agreement_reviews), NAMES_PER_GROUP), size="small"))
    body += _one_to_one_follow_through(v)
    for line in v.reminders:
        body.append(text(line, subtle=True, size="small"))
    if v.unplaced_attendance:
        body.append(
            text(
                f"{v.unplaced_attendance} attendance entries are dated outside every half term; "
                "check the session dates.",
                color="warning",
                size="small",
            )
        )
    actions = [_execute("Refresh", ATTENDANCE, {"ht": v.half_term_index}, inputs=False)]
    if v.can_propose_mop_up:
        actions.append(_execute("Plan the mop-up session", MOPUP_PROPOSE, {"ht": v.half_term_index}, inputs=False))
    actions.extend(_nav(v, ATTENDANCE))
    actions.extend(_dashboard(v.dashboard_url))
    return card(body, actions)


@dataclass(frozen=True)
class SummaryGroupRow:
    name: str
    compliant: int | None  # None: too few people to show without identifying someone
    due: int | None
    percent: float | None


@dataclass(frozen=True)
class GovernorView:
    half_term_name: str
    half_term_index: int
    phase: str
    deadline_label: str
    days_left: int
    mop_up_week_label: str
    compliant: int
    due: int
    percent: float | None
    exempt: int
    groups: tuple[SummaryGroupRow, ...]
    mop_up: str
    suppressed_below: int
    dsl_line: str | None = None  # e.g. "3 of 4 up to date" — a count, never names
    previous_index: int | None = None
    next_index: int | None = None
    dashboard_url: str | None = None  # only for senior leaders, who may open the dashboard; governors may not


def governor_card(v: GovernorView) -> dict:
    """The safeguarding governor's view: the process in general terms (seed 004 §4) — counts, never names."""
    av = AttendanceView(
        v.half_term_name,
        v.half_term_index,
        v.phase,
        v.deadline_label,
        v.days_left,
        v.mop_up_week_label,
        v.compliant,
        v.due,
        v.percent,
        (),
        v.mop_up,
    )
    rows = [("Whole school", f"{v.compliant} of {v.due} attended ({_percent(v.percent)})")]
    for g in v.groups:
        if g.due is None:
            rows.append((g.name, f"fewer than {v.suppressed_below} staff — in the whole-school figure"))
        else:
            rows.append((g.name, f"{g.compliant} of {g.due} ({_percent(g.percent)})"))
    body: list = [
        title(f"Supervision summary — {v.half_term_name}"),
        text(_phase_line(av), subtle=True),
        facts(rows),
        text(f"**Mop-up:** {v.mop_up}"),
    ]
    if v.dsl_line:
        body.append(text(f"**DSL team's own supervision:** {v.dsl_line}"))
    if v.exempt:
        body.append(
            text(
                f"{v.exempt} staff not counted this half term (joined late, left, or on long-term absence).",
                subtle=True,
                size="small",
            )
        )
    body.append(text("Figures only: individual attendance stays with the DSL team.", subtle=True, size="small"))
    actions = [_execute("Refresh", ATTENDANCE, {"ht": v.half_term_index}, inputs=False)] + _nav(av, ATTENDANCE)
    actions += _dashboard(v.dashboard_url)
    return card(body, actions)


# ---- mop-up -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MopUpOption:
    value: str  # index into the proposal's stored options, as a string
    label: str  # "Wed 16 Dec, 15:30–16:30 · 9 of 12 free"


@dataclass(frozen=True)
class MopUpProposalView:
    proposal_id: int
    half_term_name: str
    outstanding: int
    week_label: str
    options: tuple[MopUpOption, ...]
    facilitators: tuple[tuple[str, str], ...]  # (staff id, name) of the DSL team
    selected_option: str | None = None
    selected_facilitator: str | None = None
    calendars_checked: bool = True
    errors: dict = field(default_factory=dict)  # field id → message
    banner: str | None = None


def mop_up_proposal_card(v: MopUpProposalView) -> dict:
    """Asks the DSL team to book the half term's mop-up session (seed 001 §3.1: in the last week)."""
    body: list = [
        title(f"Mop-up session — {v.half_term_name}"),
        text(
            f"{v.outstanding} {'person has' if v.outstanding == 1 else 'people have'} not yet been to group "
            f"supervision this half term. The mop-up session goes in the last week ({v.week_label})."
        ),
    ]
    if v.banner:
        body.append(error(v.banner))
    actions: list = []
    if v.options:
        body.append(
            choice_set(
                "slot",
                "Time",
                [(o.value, o.label) for o in v.options],
                value=v.selected_option or v.options[0].value,
                required=True,
                error_message="Choose a time.",
            )
        )
        if v.errors.get("slot"):
            body.append(error(v.errors["slot"]))
        body.append(
            choice_set(
                "facilitator",
                "Facilitator (DSL team)",
                list(v.facilitators),
                value=v.selected_facilitator or (v.facilitators[0][0] if v.facilitators else None),
                required=True,
                error_message="Choose who will run it.",
            )
        )
        if v.errors.get("facilitator"):
            body.append(error(v.errors["facilitator"]))
        note = (
            "Times are free in the facilitator's calendar; the count is how many of those still to attend are "
            "free then."
            if v.calendars_checked
            else "Calendars could not be checked, so these are simply times in the last week."
        )
        body.append(text(note, subtle=True, size="small"))
        body.append(
            text("Booking puts it in everyone's calendar and tells them in a chat message.", subtle=True, size="small")
        )
        actions.append(_execute("Book mop-up", MOPUP_CONFIRM, {"proposal": v.proposal_id}, style="positive"))
    else:
        body.append(
            error(
                "No free time was found in the last week. Book a session yourself and record "
                "attendance as usual, or ask me again after changing calendars."
            )
        )
    actions.append(_execute("Not needed", MOPUP_DECLINE, {"proposal": v.proposal_id}, inputs=False))
    return card(body, actions)


@dataclass(frozen=True)
class MopUpOutcomeView:
    half_term_name: str
    booked: bool
    when_label: str | None = None
    facilitator_name: str | None = None
    invited: int = 0
    decided_by: str | None = None
    session_id: int | None = None  # the booked session: the DSL team may move or cancel it
    automatic: bool = False  # booked by the bot (seed 001: the mop-up "will be scheduled")


def mop_up_outcome_card(v: MopUpOutcomeView) -> dict:
    """Replaces the proposal (for every DSL who got it) once someone has booked or declined it."""
    actions: list = []
    if v.booked:
        body = [
            title(f"Mop-up booked — {v.half_term_name}"),
            facts(
                [
                    ("When", v.when_label or "—"),
                    ("Facilitator", v.facilitator_name or "—"),
                    ("Invited", f"{v.invited} still to attend"),
                    ("Booked by", "the bot, automatically" if v.automatic else (v.decided_by or "—")),
                ]
            ),
            text("It's in their calendars and they have been told. Reminders will name it.", subtle=True),
        ]
        if v.automatic:
            body.append(
                text(
                    "The policy says a mop-up is held in the last week of every half term, so I booked the time most "
                    "of them are free. Move it or cancel it if it doesn't suit.",
                    size="small",
                )
            )
        if v.session_id is not None:
            actions.append(execute("Move or cancel", "gsession.view", {"session_id": v.session_id}))
    else:
        body = [
            title(f"No mop-up — {v.half_term_name}"),
            text(
                f"{v.decided_by or 'The DSL team'} said a mop-up session is not needed. Type **attendance** "
                "to plan one later.",
                subtle=True,
            ),
        ]
    return card(body, actions)


@dataclass(frozen=True)
class MopUpInviteView:
    first_name: str
    half_term_name: str
    when_label: str
    facilitator_name: str
    session_id: int | None = None


def mop_up_invite_card(v: MopUpInviteView) -> dict:
    """Tells someone still to attend that they are booked into the mop-up session."""
    return card(
        [
            title("You're booked into the mop-up session"),
            text(
                f"Hi {v.first_name}, you haven't been to group safeguarding supervision in {v.half_term_name} yet, "
                f"so you're booked into the mop-up session."
            ),
            facts([("When", v.when_label), ("Facilitator", v.facilitator_name)]),
            text("It's in your calendar. If you attend another session first, that counts too.", subtle=True),
        ],
        [execute("See the session", "gsession.view", {"session_id": v.session_id})] if v.session_id else [],
    )


# ---- the DSL digest ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestView:
    half_term_name: str
    half_term_index: int
    days_left: int
    deadline_label: str
    compliant: int
    due: int
    percent: float | None
    outstanding_by_group: tuple[tuple[str, tuple[str, ...]], ...]
    unreachable: tuple[tuple[str, str], ...]  # (name, why)
    reminded: int
    mop_up: str
    marker: str | None = None


def digest_card(v: DigestView) -> dict:
    """After a reminder round: who is still outstanding, by group, and who the bot could not reach."""
    body: list = [
        _title(f"Supervision reminders sent — {v.half_term_name}", v.marker),
        text(f"{_days(v.days_left)} left (last day {v.deadline_label}).", subtle=True),
        facts(
            [
                ("Attended", f"{v.compliant} of {v.due} ({_percent(v.percent)})"),
                ("Reminders sent", str(v.reminded)),
                ("Could not reach", str(len(v.unreachable))),
            ]
        ),
    ]
    if v.outstanding_by_group:
        body.append(text("**Still to attend**"))
        listed = 0
        for group, names in v.outstanding_by_group:
            room = max(0, min(NAMES_PER_GROUP, NAMES_IN_ALL - listed))
            body.append(text(f"{group}: {_names(list(names), room) if room else f'{len(names)} people'}", size="small"))
            listed += min(room, len(names))
    else:
        body.append(text("Everyone due has attended.", color="good"))
    if v.unreachable:
        body.append(text("**Could not reach** — please tell them in person"))
        shown = [f"{n} ({why})" for n, why in v.unreachable]
        body.append(text(_names(shown, NAMES_PER_GROUP * 2), size="small"))
    body.append(text(f"**Mop-up:** {v.mop_up}"))
    return card(body, [_execute("Open attendance", ATTENDANCE, {"ht": v.half_term_index}, inputs=False)])


# ---- the weekly digest (issue 12) ----------------------------------------------------------------------------
@dataclass(frozen=True)
class WeeklyFigure:
    label: str  # "Attended this half term"
    value: str  # "62%", "14"
    trend: str = ""  # "↑ 5 points since last week", "no change since last week", "" (nothing to compare with)


@dataclass(frozen=True)
class WeeklyDigestView:
    half_term_name: str
    week_label: str  # "week of 7 Dec 2026"
    figures: tuple[WeeklyFigure, ...]
    dashboard_url: str | None = None
    compared_with: str | None = None  # "last week" / "the week of 23 Nov 2026"; None: the first digest
    marker: str | None = None


def weekly_digest_card(v: WeeklyDigestView) -> dict:
    """Once a week, to the DSL team: the key figures with trend arrows against the last digest, and the dashboard."""
    body: list = [
        _title(f"Supervision this week — {v.half_term_name}", v.marker),
        text(
            f"Key figures for the {v.week_label}"
            + (f", compared with {v.compared_with}." if v.compared_with else ". Trends start from next week's digest."),
            subtle=True,
        ),
        facts((f.label, f"{f.value}  {f.trend}".rstrip()) for f in v.figures),
    ]
    actions = [_execute("Open attendance", ATTENDANCE, inputs=False)]
    if v.dashboard_url:
        actions.insert(0, ac.ActionOpenUrl(title="Open the dashboard", url=v.dashboard_url))
    return card(body, actions)
