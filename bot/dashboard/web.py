"""GET /dashboard: who may see it, and the page.

Auth, local mode (no bot credentials): the request must come from loopback and name the Playground person
(`?as=<staff id or AAD object id>` or the `X-Kestrel-As` header); that person must be in the DSL team or the
school's senior leaders group. In production the tab will authenticate with Teams SSO (teams-js getAuthToken,
the token's signature, audience and tenant checked by the server): that is a later step, so outside local mode
the page is refused for everyone. Every refusal and every view is written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging

from aiohttp import web

from bot.dashboard import figures, render
from bot.domain.request_rules import TOPICS
from bot.journeys.base import Services
from bot.records.rules import half_term_label
from bot.school import Role, StaffMember
from bot.store import audit
from bot.store import dashboard as store

log = logging.getLogger(__name__)
HEADER = "X-Kestrel-As"
REFUSED = "This dashboard is for the DSL team and senior leaders."
NO_SSO = "The dashboard opens from Teams with single sign-on, which is not set up yet: use local mode."


def _loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def may_view(services: Services, person: StaffMember | None) -> bool:
    if person is None:
        return False
    group = services.school.settings.senior_leaders_group
    return person.has(Role.DSL) or (group is not None and person.group == group)


async def data(services: Services, today, *, show_names: bool = True) -> figures.Dashboard:
    school = services.school
    year = school.terms.academic_year
    hts = [
        figures.HalfTermRef(half_term_label(year, h.name), h.name, h.start, h.end) for h in services.calendar.half_terms
    ]
    staff = [
        figures.Person(p.id, p.name, school.groups[p.group].name if p.group in school.groups else p.group)
        for p in school.active_on(today)
    ]
    since = (
        dt.datetime.combine(hts[0].start, dt.time(), tzinfo=school.tz)
        if hts
        else dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    )
    async with services.db.session() as s:
        attended = await store.attended(s, [h.label for h in hts])
        reviews = await store.agreement_reviews(s)
        dues = await store.open_action_dues(s)
        load = await store.supervisor_load(s)
        cases = await store.pupil_cases_reported(s, since)
        asked = await store.request_topics(s, since)
    default_cap = school.settings.supervisor_capacity_default
    names = {p.id: p.name for p in school.staff.values()}
    return figures.build(
        threshold=school.settings.small_number_threshold,
        today=today,
        half_terms=hts,
        staff=staff,
        attended=attended,
        reviews=reviews,
        action_dues=dues,
        load=[(names.get(sid, sid), n, cap or default_cap) for sid, n, cap in load],
        show_names=show_names,
        pupil_cases=cases,
        topics=TOPICS,
        requested=[(services.calendar.local_date(at), codes) for at, codes in asked],
    )


def handler(services: Services, *, local_mode: bool):
    async def dashboard(request: web.Request) -> web.Response:
        """The DSL team's and senior leaders' year at a glance."""
        now = services.clock()
        asked = request.query.get("as") or request.headers.get(HEADER) or ""
        school = services.school
        person = school.staff.get(asked) or school.by_aad(asked) if asked else None
        refusal = None
        if not local_mode:
            refusal = NO_SSO
        elif not _loopback(request.remote):
            refusal, person = REFUSED, None  # an id from off the machine is not believed
        elif not may_view(services, person):
            refusal = REFUSED
        async with services.db.session() as s:
            await audit.record(
                s,
                actor_id=person.id if person else None,
                action=audit.REFUSED if refusal else audit.VIEWED,
                kind=audit.DASHBOARD,
                object_id=None,
                at=now,
                tz=school.tz,
            )
        if refusal:
            log.warning("dashboard refused for actor=%s", person.id if person else "unknown")
            return web.Response(status=403, text=refusal, content_type="text/plain")
        # Names of who is outstanding are for the DSL team, who act on them; senior leaders see the figures.
        view = await data(services, services.calendar.local_date(now), show_names=person.has(Role.DSL))
        html = render.page(view, school_name=school.name, viewer=person.name)
        return web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            },
        )

    return dashboard
