"""Confidentiality escalation on submit (seed 004 §6), shared by the 1:1 and group record journeys: the
escalation's metadata is stored (who, when, category, which record), the DSL team is told *that* one was raised —
by whom, when, in which category, never the content — and the person submitting is prompted (on the card they
see next) to log the concern in the school's safeguarding system. Called inside the submit's one transaction.
"""

from __future__ import annotations

import logging

from bot.journeys.base import Services, Turn
from bot.journeys.kit import audited
from bot.labels import name_of, stamp
from bot.outbox import effects
from bot.records import escalation as esc
from bot.school import Role
from bot.store import audit, signoff
from cards.escalation import EscalationNotice, escalation_notice_card

log = logging.getLogger("bot.journeys.escalations")

AUDIT_KIND = "escalation"
WHAT = {
    signoff.TARGETED: ("a 1:1 supervision record", audit.TARGETED_RECORD),
    signoff.GROUP: ("a group supervision record", audit.GROUP_RECORD),
}


async def raise_on_submit(services: Services, turn: Turn, s, *, kind: str, record_id: int, category: str) -> bool:
    """Store the escalation and queue the DSL team's notices. False if this record had one raised already."""
    row = await signoff.raise_escalation(s, kind, record_id, category, turn.actor.id, now=turn.now)
    if row is None:
        return False
    school = services.school
    what, audit_kind = WHAT[kind]
    notice = escalation_notice_card(
        EscalationNotice(
            raised_by=name_of(school, turn.actor.id),
            when=stamp(turn.now, school.tz),
            category=esc.label(category),
            record=what,
            reference=f"{audit_kind} {record_id}",
            system_name=school.settings.safeguarding_system.name,
            system_url=school.settings.safeguarding_system.url,
        )
    )
    team = [m.id for m in school.with_role(Role.DSL) if m.id != turn.actor.id]
    await effects.add(s, *(effects.notify(sid, notice, key=f"escalation:{row.id}:{sid}") for sid in team), now=turn.now)
    await audited(services, turn, s, audit.CREATED, AUDIT_KIND, row.id)
    log.info("escalation raised: escalation=%s kind=%s record=%s category=%s", row.id, kind, record_id, category)
    return True
