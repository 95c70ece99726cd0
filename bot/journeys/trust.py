"""Journey: the trust picture (issue 10, seed 004 §4) — for the trust's safeguarding lead and trust leaders, every
school's group-supervision compliance side by side, each on its own half-term dates. Figures only, with small-number
protection: a trust role sees no school's names or record content.

Who may: the people the trust file names under `trust.leads` (found from their Teams identity, never the card).
They need not be on any school's roster. Each school's audit trail records that its figures were looked at.
"""

from __future__ import annotations

from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import refuse, say
from bot.journeys.router import ANYONE, Router
from bot.reminders import facts
from bot.reminders.views import day_label
from bot.school import Role
from bot.store import audit
from bot.store import compliance as compliance_store
from cards import trust as cards

NOT_TRUST = "The trust picture is for the trust's safeguarding lead and trust leaders."


def register(router: Router) -> None:
    router.command(
        "trust",
        "schools",
        title="Trust picture",
        description="Every school's supervision figures side by side (trust leads).",
        handler=show,
        allowed=ANYONE,
        verb=cards.TRUST,
        listed=lambda _actor: False,  # trust leads are found by identity, not by a school role: see help
    )


def is_trust_lead(services: Services, turn: Turn) -> bool:
    deployment = services.deployment
    return deployment is not None and deployment.trust_lead(turn.aad_object_id) is not None


async def show(services: Services, turn: Turn) -> Reply:
    """Every school of the trust side by side: attended, still to attend, mop-up, supervisors by kind."""
    deployment = services.deployment
    lead = deployment.trust_lead(turn.aad_object_id) if deployment is not None else None
    if lead is None or not deployment.is_trust:
        refuse(turn, "trust picture")
        return say(turn, NOT_TRUST)
    rows = [await _figures(sv, turn, lead.id) for sv in services.peers.values()]
    view = cards.TrustView(
        trust_name=deployment.name,
        schools=tuple(rows),
        threshold=deployment.trust.small_number_threshold,
        viewer=lead.name,
    )
    return Reply.of(cards.trust_card(view))


async def _figures(sv: Services, turn: Turn, viewer_id: str) -> cards.SchoolFigures:
    school = sv.school
    today = sv.calendar.local_date(turn.now)
    ctx = facts.context_for(sv, today, current_or_next=True)
    kinds = {"internal": 0, "from another school": 0, "external": 0}
    label = {"internal": "internal", "trust": "from another school", "external": "external"}
    for m in school.with_role(Role.SUPERVISOR, on=today):
        kinds[label[m.supervisor_kind]] += 1
    async with sv.db.session() as s:
        await audit.record(
            s,
            actor_id=viewer_id,
            action=audit.VIEWED,
            kind=audit.TRUST_PICTURE,
            object_id=None,
            at=turn.now,
            tz=school.tz,
        )
        if ctx is None:
            return cards.SchoolFigures(school.name, "no half term", "—", 0, 0, 0, None, 0, tuple(kinds.items()), False)
        report = await facts.compliance_for(s, ctx, today)
        booked = await compliance_store.mop_up_booked(s, ctx.label)
    t = report.totals
    return cards.SchoolFigures(
        name=school.name,
        half_term=ctx.half_term.name,
        deadline=day_label(report.deadline),
        days_left=report.school_days_left,
        staff=t.due,
        attended=t.compliant,
        percent=t.percent,
        outstanding=len(report.outstanding),
        supervisors=tuple(kinds.items()),
        mop_up_booked=booked,
    )
