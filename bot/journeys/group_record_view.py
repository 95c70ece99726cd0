"""What the group record cards show: the picker, the record card (who to tick, the template, an amendment's
earlier version), the ad-hoc session card, the submitted card and the .docx itself — built from the store for the
journeys in bot/journeys/group_record.py and bot/journeys/group_sessions.py.

Seed 001 "Safeguarding Supervision – Group": the record names who attended (the group's staff and anyone else who
came), the facilitator and when; seed 003 Appendix 3's fuller template is data (bot/records/templates).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from bot import labels
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import refuse, say
from bot.journeys.permissions import is_dsl
from bot.records import docx_writer
from bot.records.lifecycle import GROUP
from bot.records.packs import group_template_name
from bot.records.rules import Tampered, clean_text, half_term_label, kind_label, parse_date, parse_time
from bot.records.templates import RecordTemplate, TemplateError, load_template, school_template
from bot.school import Role, StaffMember
from bot.store import actions as group_actions
from bot.store import group_records, sessions
from bot.store.models_group_record import DELIVERED, FAILED, OPEN, GroupRecord, GroupRecordVersion
from bot.store.models_sessions import GroupSession
from cards import group_record as cards

log = logging.getLogger("bot.journeys.group_record")

NOT_DSL = "Only the DSL team can open, draft or submit group supervision records."
GONE = "I can't find that any more. Type record to start again."
TAMPERED = "Sorry, I can't do that with this card. Type record to start again."
KINDS_WITHOUT_GROUP = {
    "mop_up": "Mop-up session",
    "emergency": "Emergency session",
    "enrichment": "Enrichment week group",
}


# ---- answers and labels -----------------------------------------------------------------------------------------


def plain(turn: Turn, message: str, heading: str = "Not available") -> Reply:
    """A plain message: text to a typed command; a small card in place of a clicked one, with a way back to the
    group records card for the DSL team."""
    dsl = is_dsl(turn.actor)
    return say(turn, message, heading, back_verb=cards.V_START if dsl else None, back_label="Back to group records")


def tampered(turn: Turn, what: str) -> Reply:
    """A card whose payload could not have come from us: refused, logged without content."""
    refuse(turn, f"group record: {what}")
    return plain(turn, TAMPERED, "Can't do that")


def local(services: Services, instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(services.school.tz)


def today(services: Services, turn: Turn) -> dt.date:
    return local(services, turn.now).date()


def name(services: Services, staff_id: str) -> str:
    return labels.name_of(services.school, staff_id)


def ht_label(services: Services, day: dt.date) -> str | None:
    ht = services.calendar.half_term_for(day)
    return half_term_label(services.school.terms.academic_year, ht.name) if ht else None


def current_half_terms(services: Services, day: dt.date) -> list[str]:
    """This half term (or, in a holiday, the one just finished) and the one before it, as stored labels."""
    cal = services.calendar
    year = services.school.terms.academic_year
    past = [h for h in cal.half_terms if h.start <= day]
    if not past:
        return [half_term_label(year, cal.half_terms[0].name)]
    cur = past[-1]
    out = [half_term_label(year, cur.name)]
    if cur.index > 0:
        out.append(half_term_label(year, cal.half_terms[cur.index - 1].name))
    return out


def group_name(school, group_id: str | None) -> str | None:
    g = school.groups.get(group_id) if group_id else None
    return g.name if g else None


def session_label(school, s: GroupSession) -> str:
    """What a session is called on cards and files: its group, or what kind of session it was."""
    return group_name(school, s.group_id) or KINDS_WITHOUT_GROUP.get(s.kind, "Mixed group")


def time_label(services: Services, s: GroupSession) -> str:
    return labels.time_range(s.starts_at, s.ends_at, services.school.tz)


def dsl_team(services: Services) -> list[StaffMember]:
    return services.school.with_role(Role.DSL)


def template_for(services: Services, template_id: str | None = None) -> RecordTemplate:
    if template_id and template_id != group_template_name(services.school):
        try:
            base = services.school.path.parent if services.school.path else None
            return load_template(template_id, base_dir=base)
        except TemplateError:
            log.warning("record template %s is no longer available; using the school's current one", template_id)
    return school_template(services.school)


# ---- what a record card is about ----------------------------------------------------------------------------------


@dataclass
class Target:
    """What a record card is about: a scheduled session, an ad-hoc one (not created until submit), or a record."""

    session: GroupSession | None = None
    adhoc: dict | None = None
    record: GroupRecord | None = None

    @property
    def local_date(self) -> dt.date:
        return self.session.local_date if self.session else dt.date.fromisoformat(self.adhoc["date"])

    @property
    def group_id(self) -> str | None:
        if self.session:
            return self.session.group_id
        g = self.adhoc.get("group")
        return None if g == cards.MIXED_GROUP else g

    @property
    def facilitator_id(self) -> str:
        return self.session.facilitator_id if self.session else self.adhoc["facilitator"]

    @property
    def kind(self) -> str:
        return self.session.kind if self.session else self.adhoc["kind"]

    @property
    def columns(self) -> dict[str, Any]:
        """The draft columns naming this target (see bot.records.lifecycle.GROUP)."""
        return {
            "session_id": self.session.id if self.session and not self.record else None,
            "record_id": self.record.id if self.record else None,
            "adhoc": self.adhoc,
        }

    def data(self, draft_key: str) -> dict:
        d: dict[str, Any] = {"draft_key": draft_key}
        if self.record is not None:
            d["record_id"] = self.record.id
        elif self.session is not None:
            d["session_id"] = self.session.id
        else:
            d["adhoc"] = dict(self.adhoc)
        return d


async def people_for(services: Services, s, target: Target) -> tuple[list[StaffMember], list[StaffMember]]:
    """(tick list, everyone else who may be added) for a record card, both on the staff on the session's date."""
    staff = services.school.active_on(target.local_date)
    tick_ids: list[str] = []
    if target.group_id:
        tick_ids = [m.id for m in staff if m.group == target.group_id]
    if target.session is not None:
        tick_ids += [i for i in await sessions.invitee_ids(s, target.session.id) if i not in tick_ids]
    by_id = {m.id: m for m in staff}
    ticks = sorted((by_id[i] for i in tick_ids if i in by_id), key=lambda m: m.name)
    tick_set = {m.id for m in ticks}
    others = sorted((m for m in staff if m.id not in tick_set), key=lambda m: m.name)
    return ticks, others


# ---- the cards ----------------------------------------------------------------------------------------------------


async def record_card(
    services: Services,
    s,
    turn: Turn,
    target: Target,
    draft_key: str,
    values: dict,
    *,
    errors: dict | None = None,
    top_error: str | None = None,
    notice: str | None = None,
    has_draft: bool = False,
) -> dict:
    school = services.school
    template = template_for(services, target.record.template_id if target.record else None)
    ticks, others = await people_for(services, s, target)
    team = dsl_team(services)
    group = group_name(school, target.group_id)
    if target.session is not None:
        x = target.session
        when = f"{labels.date_label(x.local_date)}, {time_label(services, x)}"
        group_label, half_term = session_label(school, x), x.half_term
    else:
        when = f"{labels.date_label(target.local_date)}, {target.adhoc['time']}"
        group_label = group or "Staff from several groups"
        half_term = ht_label(services, target.local_date) or ""
    heading = [
        ("Group", group_label),
        ("Session", kind_label(target.kind)),
        ("When", when),
        ("Facilitator", name(services, target.facilitator_id)),
        ("Half term", half_term),
    ]
    amend_version = previous_file = None
    done_actions: list[str] = []
    data = target.data(draft_key)
    if target.record is not None:
        amend_version = target.record.current_version + 1
        prev = await group_records.version(s, target.record.id, target.record.current_version)
        acts = await group_records.actions(s, target.record.id)
        previous_file = (prev.delivered_name or prev.file_name) if prev else None
        done_actions = [a.text for a in acts if a.status != OPEN]
        open_acts = [a for a in acts if a.status == OPEN][: template.actions.max_items]
        data["action_ids"] = {str(i): a.id for i, a in enumerate(open_acts)}
    review = await review_lines(services, s, turn, target)
    facilitator = target.facilitator_id
    if not ticks:
        tick_label = None
    elif group:
        tick_label = f"Tick who came from {group}" + (
            " (and others invited)" if len(ticks) > len([m for m in ticks if m.group == target.group_id]) else ""
        )
    else:
        tick_label = "Tick who came (everyone invited)"
    return cards.record_card(
        cards.RecordView(
            template=template,
            heading=heading,
            tick_label=tick_label,
            group_people=[(m.id, m.name) for m in ticks],
            others=[(m.id, m.name) for m in others],
            owners=[(m.id, m.name) for m in team],
            default_owner=facilitator if any(m.id == facilitator for m in team) else turn.actor.id,
            data=data,
            values=values,
            errors=errors or {},
            top_error=top_error,
            notice=notice,
            amend_version=amend_version,
            previous_file=previous_file,
            done_actions=done_actions,
            has_draft=has_draft,
            review=review,
            escalated=await _escalated(s, target),
            system_name=school.settings.safeguarding_system.name,
        )
    )


# ---- follow-through: the group's earlier open actions open its next record (seed 002 App. 2 item 1) -----------


async def earlier_actions(s, target: Target) -> list:
    """The open actions from this group's earlier sessions, for a new record of a group's session (an amendment
    edits its own actions instead; a mixed group has no "same group")."""
    if target.record is not None or not target.group_id:
        return []
    return [a for a, _ in await group_actions.open_for_group(s, target.group_id, before=target.local_date)]


async def review_lines(services: Services, s, turn: Turn, target: Target) -> list:
    if target.record is not None or not target.group_id:
        return []
    today = turn.now.astimezone(services.school.tz).date()
    return [
        cards.ReviewLine(
            a.id,
            a.text,
            name(services, a.owner_id),
            labels.short_date(a.due_on),
            overdue=a.due_on < today,
            source=f"from {labels.short_date(sess.local_date)}",
        )
        for a, sess in await group_actions.open_for_group(s, target.group_id, before=target.local_date)
    ]


async def _escalated(s, target: Target) -> str | None:
    """The category of an escalation already raised with this record (the amend card shows it, offers no other)."""
    from bot.records import escalation as esc
    from bot.store import signoff

    if target.record is None:
        return None
    row = await signoff.escalation_for(s, signoff.GROUP, target.record.id)
    return esc.label(row.category) if row else None


def _draft_label(school, d, sess_by_id: dict, rec_sessions: dict) -> str | None:
    if d.session_id and d.session_id in sess_by_id:
        x = sess_by_id[d.session_id]
        return f"{session_label(school, x)}, {labels.short_date(x.local_date)}"
    if d.record_id and d.record_id in rec_sessions:
        x = rec_sessions[d.record_id]
        return f"amendment, {session_label(school, x)}, {labels.short_date(x.local_date)}"
    if d.adhoc:
        day = parse_date(d.adhoc.get("date"))
        return (
            f"{group_name(school, d.adhoc.get('group')) or 'Mixed group'}, "
            f"{labels.short_date(day) if day else 'date not set'}"
        )
    return None


async def picker(services: Services, s, turn: Turn, *, notice: str | None = None, error: str | None = None) -> dict:
    """The half term's sessions waiting to be recorded, the DSL's own drafts and this half term's records."""
    school = services.school
    day = today(services, turn)
    half_terms = current_half_terms(services, day)
    waiting = await sessions.waiting(s, half_terms)
    drafts = await GROUP.recent(s, turn.actor.id)
    sess_by_id = await sessions.by_ids(s, (d.session_id for d in drafts if d.session_id))
    rec_sessions = await group_records.sessions_of(s, (d.record_id for d in drafts if d.record_id))
    recorded = await group_records.recorded_in(s, half_terms[0])
    ready = [x for x in waiting if x.starts_at <= turn.now]
    view = cards.PickerView(
        half_term=f"{half_terms[0]} · today is {labels.date_label(day)}",
        sessions=[
            cards.SessionChoice(
                x.id,
                f"{session_label(school, x)} · {labels.short_date(x.local_date)}, "
                f"{local(services, x.starts_at):%H:%M} · "
                f"{name(services, x.facilitator_id)}",
            )
            for x in ready[:30]
        ],
        upcoming=len(waiting) - len(ready),
        notice=notice,
        error=error,
    )
    for d in drafts:
        label = _draft_label(school, d, sess_by_id, rec_sessions)
        if label is not None:
            view.drafts.append(cards.DraftChoice(d.draft_key, label))
    for r in recorded:
        v = r.latest
        state = (
            "saved to the channel"
            if v and v.status == DELIVERED
            else ("not saved yet: ask IT to check the outbox" if v and v.status == FAILED else "saving to the channel")
        )
        view.recorded.append(
            cards.RecordedChoice(
                r.record.id,
                f"{session_label(school, r.session)}, {labels.short_date(r.session.local_date)} · "
                f"v{r.record.current_version} · {state}",
                v.web_url if v and v.status == DELIVERED else None,
            )
        )
    return cards.picker_card(view)


async def submitted_card(
    services: Services, s, version: GroupRecordVersion, *, already: bool = False, escalation: str | None = None
) -> dict:
    from bot.records import escalation as esc

    _, sess = await group_records.filed(s, version)
    system = services.school.settings.safeguarding_system
    return cards.submitted_card(
        cards.SubmittedView(
            group_label=session_label(services.school, sess),
            date_label=labels.date_label(sess.local_date),
            attendee_count=version.attendee_count,
            action_count=version.action_count,
            version=version.version,
            file_name=version.file_name,
            already=already,
            escalation=esc.label(escalation) if escalation else None,
            system_name=system.name,
            system_url=system.url,
            signoff=services.school.settings.group_record_signoff,
        )
    )


# ---- ad-hoc sessions ----------------------------------------------------------------------------------------------


def adhoc_view(services: Services, turn: Turn, values: dict, errors: dict | None = None) -> cards.AdhocView:
    return cards.AdhocView(
        groups=[(g.id, g.name) for g in services.school.data.groups],
        facilitators=[(m.id, m.name) for m in dsl_team(services)],
        values={"adhoc_facilitator": turn.actor.id, **values},
        errors=errors or {},
        max_date=today(services, turn).isoformat(),
    )


def check_adhoc(services: Services, turn: Turn, raw: dict) -> tuple[dict, dict[str, str]]:
    """Validate ad-hoc session details (from the ad-hoc card or carried on a record card). Raises Tampered."""
    kind = clean_text(raw.get("kind"), multiline=False)
    group = clean_text(raw.get("group"), multiline=False)
    facilitator = clean_text(raw.get("facilitator"), multiline=False)
    if kind not in ("ad_hoc", "emergency"):
        raise Tampered("ad-hoc kind")
    if group and group != cards.MIXED_GROUP and group not in services.school.groups:
        raise Tampered("ad-hoc group")
    if facilitator and not is_dsl(services.school.staff.get(facilitator)):
        raise Tampered("ad-hoc facilitator outside DSL team")
    errors: dict[str, str] = {}
    day = parse_date(raw.get("date"))
    now_day = today(services, turn)
    if day is None:
        errors["adhoc_date"] = "Give the date of the session, like 2026-11-23."
    elif day > now_day:
        errors["adhoc_date"] = "That date is in the future: record a session once it has happened."
    elif services.calendar.half_term_for(day) is None:
        errors["adhoc_date"] = (
            "That date isn't in a half term of the school year, so attendance couldn't count. Check the date."
        )
    at = parse_time(raw.get("time"))
    if at is None:
        errors["adhoc_time"] = "Give the start time, like 14:00."
    elif day == now_day and dt.datetime.combine(day, at, services.school.tz) > turn.now:
        errors["adhoc_time"] = "That time hasn't come yet today."
    if not group:
        errors["adhoc_group"] = "Choose the group."
    if not facilitator:
        errors["adhoc_facilitator"] = "Choose who facilitated."
    clean = {
        "kind": kind,
        "date": day.isoformat() if day else "",
        "time": at.strftime("%H:%M") if at else "",
        "group": group,
        "facilitator": facilitator,
    }
    return clean, errors


# ---- the document -------------------------------------------------------------------------------------------------


def document(
    services: Services,
    turn: Turn,
    sess: GroupSession,
    template: RecordTemplate,
    form,
    version: int,
    previous_file: str | None,
    reviewed: list | None = None,
    *,
    escalation: str | None = None,
    signoff: list | None = None,
) -> docx_writer.RecordDocument:
    school = services.school
    fac = school.staff.get(sess.facilitator_id)
    attendees = []
    for sid in form.attendees:
        m = school.staff[sid]
        attendees.append(docx_writer.Attendee(m.name, m.job_title, group_name(school, m.group) or ""))
    attendees.sort(key=lambda a: a.name)
    return docx_writer.RecordDocument(
        school_name=school.name,
        group_label=session_label(school, sess),
        session_kind=kind_label(sess.kind),
        local_date=sess.local_date,
        time_label=time_label(services, sess),
        half_term=sess.half_term,
        facilitator=f"{fac.name}, {fac.job_title}".rstrip(", ") if fac else "(not on the staff list)",
        template=template,
        answers=form.answers,
        attendees=attendees,
        actions=[docx_writer.ActionRow(a.text, name(services, a.owner_id), a.due_on) for a in form.actions],
        version=version,
        previous_file=previous_file,
        amend_note=form.amend_note,
        recorded_by=turn.actor.name,
        recorded_at=labels.stamp(turn.now, school.tz),
        reviewed=reviewed or [],
        escalation=escalation,
        signoff=signoff,
    )
