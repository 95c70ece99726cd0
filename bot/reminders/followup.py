"""Follow-through reminders (issue 11 part 4), planned by the scheduler's "follow-up" job on each school day in
the sending window — each one once, by a claim in the database (bot/store/followup.py):

* an **overdue action** (a 1:1 or group-record action past its due date, still open): one reminder to its owner
  (seed 002 App. 2: "points for development … by (date)"; seed 001 App. 1: "actions identified … will be acted
  upon");
* an **agreement review** (seed 001 App. 1: "reviewed at least once a year"; seed 002: "contract … reviewed
  annually"): a reminder to both people a month before the review date and another a week before, once each;
* a **pairing with no agreement** confirmed by both, `NO_AGREEMENT_AFTER` after it started (seed 001 App. 1: "completed
  at the start of a new supervisory relationship"): the supervisor is told once (and the DSL's attendance card and
  the supervisor's record card show it every time);
* a **missed entitlement** (bot/domain/entitlement.py, seed 002 "Entitlement"): level 1 → the supervisor and the
  supervisee, level 2 → the DSL team; once per level per episode.

The claim and the notice are written in one transaction, so a crash between them loses neither; the notices go
out through the outbox. Two instances (or a restart mid-pass) planning the same day insert the same claims: one
wins each, the other queues nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.domain.entitlement import MISSED, Entitlement, PairFacts, pair_entitlement
from bot.labels import date_label, day_month, name_of
from bot.outbox import effects
from bot.reminders.facts import dsl_team
from bot.store import followup as store
from bot.store.models_request import Pairing
from bot.store.models_targeted import SupervisionAgreement
from cards import followup as cards

log = logging.getLogger("bot.reminders.followup")

MONTH, WEEK = dt.timedelta(days=30), dt.timedelta(days=7)
NO_AGREEMENT_AFTER = dt.timedelta(days=14)
FORMER = "a former member of staff"
FREQUENCY_LABELS = {
    "half_termly": "once a half term",
    "six_weekly": "every six weeks",
    "monthly": "monthly",
    "fortnightly": "every two weeks",
    "as_needed": "as needed",
}


@dataclass(frozen=True)
class PairStanding:
    pairing: Pairing
    agreement: SupervisionAgreement | None
    entitlement: Entitlement


def _review_windows(review_due: dt.date) -> tuple[tuple[str, dt.date, dt.date, str], ...]:
    """(claim kind, first day, last day, wording): a month ahead until the week's point, then a week ahead until
    the date itself (past it, the review is overdue and the DSL's card shows that)."""
    return (
        ("review_month", review_due - MONTH, review_due - WEEK - dt.timedelta(days=1), "a month"),
        ("review_week", review_due - WEEK, review_due, "a week"),
    )


async def standings(services, s, today: dt.date) -> list[PairStanding]:
    """Every ongoing 1:1 pairing with its agreement in force and where it stands on its entitlement."""
    tz = services.school.tz
    agreements = await store.agreements_in_force(s)
    sessions = await store.session_dates(s)
    out = []
    for p in await store.active_one_to_one_pairings(s):
        pair = (p.supervisor_id, p.supervisee_id)
        ag = agreements.get(pair)
        facts = PairFacts(
            pairing_id=p.id,
            supervisor_id=p.supervisor_id,
            supervisee_id=p.supervisee_id,
            started_on=p.started_at.astimezone(tz).date(),
            frequency=(ag.frequency or "as_needed") if ag is not None else None,
            agreed_on=ag.agreed_on if ag is not None else None,
            sessions=tuple(sessions.get(pair, ())),
        )
        out.append(PairStanding(p, ag, pair_entitlement(facts, services.calendar, today)))
    return out


async def plan(services, now: dt.datetime) -> int:
    """Claim and queue whatever follow-up reminders are due today; returns how many were new."""
    school = services.school
    today = services.calendar.local_date(now)

    def name(sid: str) -> str:
        return name_of(school, sid, missing=FORMER)

    new = 0
    async with services.db.session() as s:

        async def send(kind: str, ref: str, staff_id: str, card: dict) -> None:
            nonlocal new
            if school.staff.get(staff_id) is None:
                return  # left the roster: nobody to tell
            if await store.claim(s, kind, ref, staff_id, now=now):
                await effects.add(s, effects.notify(staff_id, card, key=f"followup:{kind}:{ref}"), now=now)
                new += 1

        for a in await store.overdue_targeted_actions(s, today):
            other = a.supervisee_id if a.owner_id == a.supervisor_id else a.supervisor_id
            card = cards.action_overdue_card(
                action_text=a.text, due_label=date_label(a.due_on), source=f"1:1 supervision with {name(other)}"
            )
            await send("action_overdue", f"targeted:{a.id}", a.owner_id, card)
        for a in await store.overdue_group_actions(s, today):
            card = cards.action_overdue_card(
                action_text=a.text, due_label=date_label(a.due_on), source="a group supervision record", group=True
            )
            await send("action_overdue", f"group:{a.id}", a.owner_id, card)

        for st in await standings(services, s, today):
            p, ag, ent = st.pairing, st.agreement, st.entitlement
            if ag is not None:
                for kind, start, end, weeks in _review_windows(ag.review_due):
                    if start <= today <= end:
                        for me, other, label in (
                            (p.supervisor_id, p.supervisee_id, "Supervisee"),
                            (p.supervisee_id, p.supervisor_id, "Supervisor"),
                        ):
                            card = cards.review_due_card(
                                other=name(other),
                                other_label=label,
                                review_label=date_label(ag.review_due),
                                weeks=weeks,
                            )
                            await send(kind, f"agreement:{ag.id}:{ag.review_due}:{me}", me, card)
            elif now - p.started_at >= NO_AGREEMENT_AFTER:
                card = cards.no_agreement_card(
                    supervisee=name(p.supervisee_id), since_label=date_label(p.started_at.astimezone(school.tz).date())
                )
                await send("no_agreement", f"pairing:{p.id}", p.supervisor_id, card)
            if ent.status == MISSED:
                freq = FREQUENCY_LABELS.get(ent.frequency or "", ent.frequency or "")
                episode = f"pairing:{p.id}:{ent.missed_since}"
                common = dict(
                    supervisor=name(p.supervisor_id),
                    supervisee=name(p.supervisee_id),
                    frequency=freq,
                    missed_label=day_month(ent.missed_since),
                )
                # Seed 002 "Entitlement": first between the supervisor and supervisee …
                for who, role in ((p.supervisor_id, "supervisor"), (p.supervisee_id, "supervisee")):
                    await send(
                        "entitlement_1", f"{episode}:{who}", who, cards.entitlement_card(**common, for_whom=role)
                    )
                # … then, when that has not resolved it, the DSL team (a three-way meeting).
                if ent.level >= 2:
                    for m in dsl_team(school):
                        if m.active_on(today) and m.id not in (p.supervisor_id, p.supervisee_id):
                            card = cards.entitlement_card(**common, for_whom="dsl")
                            await send("entitlement_2", f"{episode}:{m.id}", m.id, card)
    if new:
        log.info("follow-up reminders queued: %s", new)
        services.wake_outbox()
    return new
