"""The dashboard's routes: who may see it, the page, the Teams tab and its scripts.

Two ways in, one rule for who may look (the DSL team, or the school's senior leaders group):

* **Local mode** (no bot credentials): `GET /dashboard?as=<staff id or AAD object id>` (or the `X-Kestrel-As`
  header), from loopback only — the Playground person. The server renders the whole page.
* **In a tenant**: the Teams tab (`staticTabs` entity `dashboard` in the manifest) opens `GET /dashboard`, a page
  with no figures that loads the Teams JavaScript library (served from here: static/vendor, copied by
  scripts/setup.sh from the pinned npm package — no CDN) and static/tab.js. That script asks Teams for an SSO token
  (`authentication.getAuthToken()`) and fetches `GET /dashboard/view` with `Authorization: Bearer <token>`; the
  server checks the token (bot/dashboard/sso.py), finds the person by the token's `oid` and answers with the
  dashboard, or 401 (no or bad token) / 403 (not the DSL team or senior leaders).

Every view and every refusal is written to the audit trail (ids only); the tab's empty page is not a view.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot.dashboard import figures, render
from bot.dashboard.sso import KeysUnavailable, SsoConfig, TokenRefused, TokenVerifier
from bot.domain.request_rules import TOPICS
from bot.journeys.base import Services
from bot.records.rules import half_term_label
from bot.school import Role, StaffMember
from bot.store import audit
from bot.store import dashboard as store

log = logging.getLogger(__name__)
HEADER = "X-Kestrel-As"
REFUSED = "This dashboard is for the DSL team and senior leaders."
NO_SSO = (
    "The dashboard tab's single sign-on is not set up on this server (DASHBOARD_SSO_RESOURCE and "
    "MicrosoftAppTenantId): see infra/DEPLOY.md."
)
SIGN_IN = "Open the dashboard from the Supervision app in Teams: it signs you in with your school account."
UNAVAILABLE = "Sign-in can't be checked just now (Microsoft's sign-in keys are unreachable). Try again in a minute."

ENTITY_ID = "dashboard"  # the static tab's entityId in appPackage/manifest.json
STATIC = Path(__file__).resolve().parent / "static"
VENDOR_JS = "MicrosoftTeams.min.js"  # @microsoft/teams-js, pinned in infra/tab/package.json
#: What /dashboard/static/ serves: exactly these files, nothing else from the folder.
STATIC_FILES = {"tab.js": STATIC / "tab.js", VENDOR_JS: STATIC / "vendor" / VENDOR_JS}
#: Teams and the other Microsoft 365 hosts that may frame the tab (Microsoft Learn, "Prerequisites" for tabs).
FRAME_ANCESTORS = (
    "https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft "
    "https://*.microsoft365.com https://*.office.com https://outlook.office.com https://outlook.office365.com"
)
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SHELL_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; "
    f"frame-ancestors 'self' {FRAME_ANCESTORS}"
)


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


def link_for(settings):
    """(staff id) → the dashboard's address for that person, for buttons on the DSL's cards: the Teams deep link to
    the tab in a tenant (`https://teams.microsoft.com/l/entity/<Teams app id>/dashboard`), the local page in local
    mode. None when neither is possible (a tenant without TEAMS_APP_ID)."""
    if settings.local_mode:
        host = settings.host if settings.host_is_loopback() else "127.0.0.1"
        base = f"http://{host}:{settings.port}/dashboard?as="
        return lambda staff_id: base + quote(staff_id, safe="")
    if settings.teams_app_id:
        deep = f"https://teams.microsoft.com/l/entity/{quote(settings.teams_app_id, safe='')}/{ENTITY_ID}"
        return lambda staff_id: deep
    return lambda staff_id: None


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
    # This academic year's requests: caseload answers and themes (the year starts with its first half term).
    since = dt.datetime.combine(hts[0].start if hts else today, dt.time(), tzinfo=school.tz)
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


class Dashboard:
    """The dashboard's request handlers for one app (no module state: the token verifier lives here)."""

    def __init__(self, services: Services, *, local_mode: bool, sso: SsoConfig | None = None, verifier=None):
        self.services = services
        self.local_mode = local_mode
        self.sso = sso
        self.verifier = verifier or (TokenVerifier(sso) if sso is not None else None)

    # ---- who is asking ------------------------------------------------------------------------------------
    def _local_person(self, request: web.Request) -> tuple[StaffMember | None, str | None]:
        school = self.services.school
        asked = request.query.get("as") or request.headers.get(HEADER) or ""
        person = school.staff.get(asked) or school.by_aad(asked) if asked else None
        if not _loopback(request.remote):
            return None, REFUSED  # an id from off the machine is not believed
        return person, None if may_view(self.services, person) else REFUSED

    async def _sso_person(self, request: web.Request) -> tuple[StaffMember | None, int, str | None]:
        """(person, status, refusal): 200 and no refusal when they may look."""
        if self.verifier is None:
            return None, 503, NO_SSO
        try:
            claims = await self.verifier.verify(request.headers.get("Authorization"))
        except KeysUnavailable:
            return None, 503, UNAVAILABLE
        except TokenRefused as exc:
            log.warning("dashboard token refused (%s)", exc.reason)
            return None, 401, SIGN_IN
        person = self.services.school.by_aad(str(claims.get("oid")))
        if not may_view(self.services, person):
            return person, 403, REFUSED
        return person, 200, None

    async def _audit(self, person: StaffMember | None, refused: bool) -> None:
        async with self.services.db.session() as s:
            await audit.record(
                s,
                actor_id=person.id if person else None,
                action=audit.REFUSED if refused else audit.VIEWED,
                kind=audit.DASHBOARD,
                object_id=None,
                at=self.services.clock(),
                tz=self.services.school.tz,
            )

    async def _figures(self, person: StaffMember) -> str:
        services = self.services
        # Names of who is outstanding are for the DSL team, who act on them; senior leaders see the figures.
        view = await data(services, services.calendar.local_date(services.clock()), show_names=person.has(Role.DSL))
        return render.body(view, school_name=services.school.name, viewer=person.name)

    # ---- routes ---------------------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        """The DSL team's and senior leaders' year at a glance (local mode), or the Teams tab's page (a tenant)."""
        if not self.local_mode:
            html = render.shell(
                school_name=self.services.school.name,
                script_urls=[f"/dashboard/static/{VENDOR_JS}", "/dashboard/static/tab.js"],
            )
            return _html(html, SHELL_CSP)
        person, refusal = self._local_person(request)
        return await self._answer(person, 403 if refusal else 200, refusal, whole_page=True)

    async def view(self, request: web.Request) -> web.Response:
        """The dashboard for the person the request proves to be (the tab's fetch; local mode: as /dashboard)."""
        if self.local_mode:
            person, refusal = self._local_person(request)
            status = 403 if refusal else 200
        else:
            person, status, refusal = await self._sso_person(request)
        return await self._answer(person, status, refusal, whole_page=False)

    async def _answer(self, person, status: int, refusal: str | None, *, whole_page: bool) -> web.Response:
        if status in (401, 403):
            await self._audit(person, refused=True)
            log.warning("dashboard refused for actor=%s (%d)", person.id if person else "unknown", status)
        if refusal:
            headers = {"Cache-Control": "no-store"}
            if status == 401:
                headers["WWW-Authenticate"] = "Bearer"
            return web.Response(status=status, text=refusal, content_type="text/plain", headers=headers)
        await self._audit(person, refused=False)
        body = await self._figures(person)
        if whole_page:
            body = render.page_around(body, school_name=self.services.school.name)
        return _html(body, PAGE_CSP if self.local_mode else SHELL_CSP)

    async def static(self, request: web.Request) -> web.StreamResponse:
        """The tab's two scripts (its own and the pinned Teams library); nothing else in the folder is served."""
        path = STATIC_FILES.get(request.match_info["name"])
        if path is None or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(
            path,
            headers={
                "Content-Type": "text/javascript; charset=utf-8",
                "Cache-Control": "public, max-age=3600",
                "X-Content-Type-Options": "nosniff",
            },
        )


def _html(text: str, csp: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff"},
    )


def add_routes(app: web.Application, services: Services | dict[str, Services], settings) -> Dashboard:
    """GET /dashboard, /dashboard/view and /dashboard/static/{name} on the bot's own app.

    Several schools (a trust, issue 10): each school has its own dashboard; a request is answered by the school
    `?school=<key>` names, else by the first school whose DSL team or senior leaders the person is in."""
    if isinstance(services, dict):
        if len(services) > 1:
            return _add_school_routes(app, services, settings)
        services = next(iter(services.values()))
    sso = SsoConfig.from_settings(settings)
    if not settings.local_mode:
        if sso is None:
            log.warning("dashboard tab: single sign-on is not configured (DASHBOARD_SSO_RESOURCE); it refuses everyone")
        if not STATIC_FILES[VENDOR_JS].is_file():
            log.warning("dashboard tab: %s is missing (run scripts/setup.sh before deploying)", VENDOR_JS)
    d = Dashboard(services, local_mode=settings.local_mode, sso=sso)
    app.router.add_get("/dashboard", d.page)
    app.router.add_get("/dashboard/view", d.view)
    app.router.add_get("/dashboard/static/{name}", d.static)
    return d


def _add_school_routes(app: web.Application, peers: dict[str, Services], settings) -> Dashboard:
    sso = SsoConfig.from_settings(settings)
    first_services = next(iter(peers.values()))
    first = Dashboard(first_services, local_mode=settings.local_mode, sso=sso)
    boards = {
        key: first
        if sv is first_services
        else Dashboard(sv, local_mode=settings.local_mode, sso=sso, verifier=first.verifier)
        for key, sv in peers.items()
    }

    def viewer_in(board: Dashboard, ident: str) -> bool:
        school = board.services.school
        person = school.staff.get(ident) or school.by_aad(ident)
        return may_view(board.services, person)

    async def pick(request: web.Request) -> Dashboard | None:
        key = request.query.get("school")
        if key:
            return boards.get(key)
        if settings.local_mode:
            ident = request.query.get("as") or request.headers.get(HEADER) or ""
        else:
            if first.verifier is None:
                return first
            try:
                ident = str((await first.verifier.verify(request.headers.get("Authorization"))).get("oid"))
            except (KeysUnavailable, TokenRefused):
                return first  # its own answer says why (and audits a refusal)
        return next((b for b in boards.values() if ident and viewer_in(b, ident)), first)

    def route(name: str):
        async def handle(request: web.Request) -> web.StreamResponse:
            board = await pick(request)
            if board is None:
                return web.Response(status=404, text="No such school here.", content_type="text/plain")
            return await getattr(board, name)(request)

        return handle

    app.router.add_get("/dashboard", route("page"))
    app.router.add_get("/dashboard/view", route("view"))
    app.router.add_get("/dashboard/static/{name}", first.static)
    return first


def handler(services: Services, *, local_mode: bool, sso: SsoConfig | None = None, verifier=None):
    """GET /dashboard alone (tests drive it with a mocked request)."""
    return Dashboard(services, local_mode=local_mode, sso=sso, verifier=verifier).page
