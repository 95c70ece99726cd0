"""Reading what the compliance rules need from the store and the school config (the I/O side of issue #5).

Everything here is a query or a plain conversion; the rules themselves live in bot/domain.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import compliance as rules
from bot.domain.calendar import HalfTerm, TermCalendar
from bot.domain.reminder_rules import SendingWindow, SessionOption, half_term_label
from bot.school import Role, School, StaffMember
from bot.store.models import ConversationRef
from bot.store.models_sessions import Attendance, GroupSession, SessionInvitee

__all__ = [
    "Context",
    "context_for",
    "compliance_for",
    "label_of",
    "load_sessions",
    "invited_sessions",
    "personal_refs",
    "attended_in",
]


@dataclass(frozen=True)
class Context:
    """The school, its calendar and the half term a question is about, resolved once."""

    school: School
    calendar: TermCalendar
    half_term: HalfTerm
    label: str

    @property
    def tz(self):
        return self.school.tz


def calendar_of(services) -> TermCalendar:
    return services.calendar


def label_of(school: School, half_term: HalfTerm) -> str:
    return half_term_label(school.terms.academic_year, half_term.name)


def context_for(services, today: dt.date, *, current_or_next: bool = False) -> Context | None:
    """The half term containing ``today`` (or, with ``current_or_next``, the next one during a holiday)."""
    cal = calendar_of(services)
    ht = cal.current_or_next_half_term(today) if current_or_next else cal.half_term_for(today)
    if ht is None:
        return None
    return Context(services.school, cal, ht, label_of(services.school, ht))


def context_at(services, index: int) -> Context | None:
    cal = calendar_of(services)
    if not 0 <= index < len(cal.half_terms):
        return None
    ht = cal.half_terms[index]
    return Context(services.school, cal, ht, label_of(services.school, ht))


def sending_window(services) -> SendingWindow:
    s = services.school.settings
    return SendingWindow(calendar_of(services), services.school.tz, s.reminders.send_at, s.school_day.end)


def staff_records(school: School) -> list[rules.StaffRecord]:
    """The school's own staff (a supervisor visiting from another school or outside the trust is not counted)."""
    return [rules.StaffRecord.from_member(m) for m in school.data.staff if not m.visiting]


async def attendance_facts(
    s: AsyncSession, first: dt.date, last: dt.date, staff_ids: Iterable[str] | None = None
) -> list[rules.Attendance]:
    q = select(Attendance.staff_id, Attendance.local_date).where(
        Attendance.local_date >= first, Attendance.local_date <= last
    )
    if staff_ids is not None:
        q = q.where(Attendance.staff_id.in_(list(staff_ids)))
    return [rules.Attendance(sid, on) for sid, on in (await s.execute(q)).all()]


async def dsl_supervision_facts(s: AsyncSession, school: School, last: dt.date) -> list[rules.IndividualSupervision]:
    """Individual supervision the DSL team (and the other roles the policy names) has had (seeds 002/003: at least
    every half term / six-weekly).

    Only sessions that were held and recorded count: a 1:1 record filed by the supervisor (``targeted_records``)
    with one of them as supervisee, on the session's date. A booked meeting is a plan, not supervision — it counts
    once it has been written up."""
    from bot.records.dsl_supervision import dsl_supervisees
    from bot.store.models_targeted import TargetedRecord

    ids = dsl_supervisees(school)
    if not ids:
        return []
    rows = await s.execute(
        select(TargetedRecord.supervisee_id, TargetedRecord.session_date)
        .where(TargetedRecord.supervisee_id.in_(ids), TargetedRecord.session_date <= last)
        .distinct()
    )
    return [rules.IndividualSupervision(sid, on) for sid, on in rows.all()]


async def compliance_for(
    s: AsyncSession, ctx: Context, today: dt.date, *, with_dsl: bool = False
) -> rules.HalfTermReport:
    """Group-supervision compliance for the context's half term as of ``today`` (seed 001 §3.1); with
    ``with_dsl``, the DSL team's individual supervision too (the school's policy frequency)."""
    settings = ctx.school.settings
    facts = await attendance_facts(s, ctx.half_term.start, ctx.half_term.end)
    dsl = await dsl_supervision_facts(s, ctx.school, ctx.half_term.end) if with_dsl else ()
    report = rules.compliance_report(
        staff_records(ctx.school),
        ctx.calendar,
        facts,
        today,
        dsl_sessions=dsl,
        dsl_frequency=settings.dsl_individual_supervision,
        dsl_roles=[r.value for r in settings.dsl_supervision_roles],
        long_term_absence_exempts=settings.long_term_absence_exempts,
        half_terms=[ctx.half_term],
    )
    return report.half_terms[0]


async def attended_in(s: AsyncSession, label: str, staff_ids: Sequence[str], today: dt.date) -> set[str]:
    """Who of ``staff_ids`` has attended a session of half term ``label`` on or before ``today``."""
    if not staff_ids:
        return set()
    rows = await s.execute(
        select(Attendance.staff_id).where(
            Attendance.half_term == label, Attendance.staff_id.in_(list(staff_ids)), Attendance.local_date <= today
        )
    )
    return {r for (r,) in rows.all()}


def _option(row: GroupSession) -> SessionOption:
    return SessionOption(row.id, row.kind, row.group_id, row.starts_at, row.ends_at, row.half_term, row.status)


async def load_sessions(s: AsyncSession, label: str) -> dict[int, GroupSession]:
    rows = (await s.execute(select(GroupSession).where(GroupSession.half_term == label))).scalars().all()
    return {r.id: r for r in rows}


def options_of(sessions: dict[int, GroupSession]) -> list[SessionOption]:
    return [_option(r) for r in sessions.values()]


async def invited_sessions(
    s: AsyncSession, session_ids: Iterable[int], staff_ids: Iterable[str]
) -> dict[str, set[int]]:
    ids = list(session_ids)
    who = list(staff_ids)
    out: dict[str, set[int]] = defaultdict(set)
    if not ids or not who:
        return out
    rows = await s.execute(
        select(SessionInvitee.staff_id, SessionInvitee.session_id).where(
            SessionInvitee.session_id.in_(ids), SessionInvitee.staff_id.in_(who)
        )
    )
    for sid, session_id in rows.all():
        out[sid].add(session_id)
    return out


async def personal_refs(s: AsyncSession, staff_ids: Iterable[str]) -> dict[str, ConversationRef]:
    who = list(staff_ids)
    if not who:
        return {}
    rows = (
        (
            await s.execute(
                select(ConversationRef).where(ConversationRef.kind == "personal", ConversationRef.key.in_(who))
            )
        )
        .scalars()
        .all()
    )
    return {r.key: r for r in rows}


def dsl_team(school: School) -> list[StaffMember]:
    return school.with_role(Role.DSL)


def group_name(school: School, group_id: str | None) -> str:
    if group_id is None:
        return "All staff"
    g = school.groups.get(group_id)
    return g.name if g else group_id


@dataclass(frozen=True)
class SessionEvent:
    """The calendar event a group session was booked with, so a late joiner is added to *that* meeting."""

    event_key: str
    organiser_extra: tuple[str, ...]  # attendees the booking added beyond the session's invitees
    chain: str | None


def mop_up_event_key(session_id: int) -> str:
    return f"session:{session_id}"


async def session_event(s: AsyncSession, session: GroupSession) -> SessionEvent | None:
    """Which calendar event holds ``session``, by the booking journey's own convention; None if unknown.

    * a mop-up booked from the compliance proposal: ``session:{id}`` (chained ``calendar:session:{id}``);
    * a session booked by the scheduling journey: ``booked_group_sessions.event_key``, supervisors invited too;
    * a group session scheduled from the group-record journey: ``group_session:{id}``.
    """
    from bot.store.models_compliance import MopUpProposal
    from bot.store.models_group_record import ScheduleRequest
    from bot.store.models_request import BookedGroupSession

    if (await s.execute(select(MopUpProposal.id).where(MopUpProposal.session_id == session.id))).first():
        key = mop_up_event_key(session.id)
        return SessionEvent(key, (), f"calendar:{key}")
    booked = (
        await s.execute(select(BookedGroupSession).where(BookedGroupSession.session_id == session.id))
    ).scalar_one_or_none()
    if booked is not None:
        return SessionEvent(booked.event_key, tuple(booked.supervisor_ids or ()), f"calendar:{booked.event_key}")
    if (await s.execute(select(ScheduleRequest.id).where(ScheduleRequest.session_id == session.id))).first():
        key = f"group_session:{session.id}"
        return SessionEvent(key, (), f"calendar:{key}")
    return None
