"""GET /dashboard through the real app, on SQLite and PostgreSQL: the DSL team and senior leaders see the page
(SVG charts, no scripts), everyone else gets 403, and every view and refusal is in the audit trail."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from sqlalchemy import select

from bot.dashboard import web as dashboard_web
from bot.store.models_audit import AuditEvent


@pytest.fixture
async def client(settings, db, clock):
    from bot.app import create_app

    app = create_app(settings, clock=clock, db=db)
    c = TestClient(TestServer(app, host="127.0.0.1"))
    await c.start_server()
    yield c
    await c.close()


async def _trail(db) -> list[tuple]:
    async with db.session() as s:
        rows = (await s.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars()
        return [(e.actor_id, e.action, e.object_kind) for e in rows]


async def test_the_dsl_sees_the_charts_and_the_view_is_audited(client, db):
    r = await client.get("/dashboard", params={"as": "amara.okafor"})
    assert r.status == 200 and r.content_type == "text/html"
    html = await r.text()
    # attendance, agreements, actions, load, themes; the demo has no caseload answers yet, so that is a sentence
    assert html.count("<svg") == 5 and "<script" not in html
    assert "id=themes" in html and "not enough staff have said how many open pupil cases" in html
    assert "Outstanding this half term (Autumn 2)" in html and "Who is outstanding" in html
    assert "script-src" not in r.headers["Content-Security-Policy"]
    assert await _trail(db) == [("amara.okafor", "viewed", "dashboard")]


async def test_a_senior_leader_by_aad_id_in_the_header_may_view(client, db, school):
    leader = next(p for p in school.staff.values() if p.group == "leaders" and not p.roles)
    r = await client.get("/dashboard", headers={dashboard_web.HEADER: leader.aad_object_id})
    assert r.status == 200
    assert "Who is outstanding" not in await r.text()  # figures for leaders; names are for the DSL team
    assert await _trail(db) == [(leader.id, "viewed", "dashboard")]


@pytest.mark.parametrize("who", ["tom.hollis", "kate.lowther", "nobody.here", None])
async def test_everyone_else_is_refused_and_the_refusal_audited(client, db, who):
    r = await client.get("/dashboard", params={"as": who} if who else {})
    assert r.status == 403
    assert "DSL team and senior leaders" in await r.text()
    known = who in ("tom.hollis", "kate.lowther")
    assert await _trail(db) == [(who if known else None, "refused", "dashboard")]


async def test_off_loopback_or_outside_local_mode_nobody_is_believed(db, school, clock):
    from bot.journeys.base import Services

    services = Services(school=school, db=db, clock=clock)
    remote = make_mocked_request("GET", "/dashboard?as=amara.okafor", transport=_Transport(("203.0.113.9", 4000)))
    assert (await dashboard_web.handler(services, local_mode=True)(remote)).status == 403
    # Outside local mode ?as= means nothing: /dashboard is the Teams tab's page with no figures, and the figures
    # need a Teams SSO token (tests/dashboard/test_sso.py); without SSO configured, nobody gets them.
    local = make_mocked_request("GET", "/dashboard?as=amara.okafor", transport=_Transport(("127.0.0.1", 4000)))
    r = await dashboard_web.handler(services, local_mode=False)(local)
    assert r.status == 200 and "<svg" not in r.text and "getAuthToken" not in r.text and "tab.js" in r.text
    view = make_mocked_request("GET", "/dashboard/view?as=amara.okafor", transport=_Transport(("127.0.0.1", 4000)))
    r = await dashboard_web.Dashboard(services, local_mode=False).view(view)
    assert r.status == 503 and "single sign-on" in r.text
    assert await _trail(db) == [(None, "refused", "dashboard")]


async def test_the_local_view_is_the_page_without_its_frame(client, db):
    r = await client.get("/dashboard/view", params={"as": "amara.okafor"})
    assert r.status == 200 and "<!doctype" not in await r.text() and "Supervision at a glance" in await r.text()
    assert (await client.get("/dashboard/view", params={"as": "tom.hollis"})).status == 403
    assert await _trail(db) == [("amara.okafor", "viewed", "dashboard"), ("tom.hollis", "refused", "dashboard")]


class _Transport:
    def __init__(self, peer):
        self.peer = peer

    def get_extra_info(self, name, default=None):
        return self.peer if name == "peername" else default

    def is_closing(self):
        return False
