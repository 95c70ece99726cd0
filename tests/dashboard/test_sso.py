"""The dashboard tab in a tenant: Teams SSO tokens checked on the server against Entra's keys (a local double of
the tenant's OpenID metadata and JWKS, keys made here), then the role from the roster. Wrong audience, tenant,
expiry, algorithm or key → 401; a valid token for someone not in the DSL team or senior leaders → 403; the DSL →
the dashboard. Every view and refusal is in the audit trail."""

from __future__ import annotations

import contextlib
import functools
import json
import time

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from bot.dashboard import sso
from bot.dashboard.web import SHELL_CSP, Dashboard
from bot.journeys.base import Services
from bot.store.models_audit import AuditEvent

TENANT = "7d3c1a2b-0000-4000-8000-00000000aaaa"
OTHER_TENANT = "7d3c1a2b-0000-4000-8000-00000000bbbb"
APP_ID = "2f6b1c0e-4d5a-4b8e-9c3f-000000000102"
RESOURCE = f"api://bot.kestrelbrook.example/botid-{APP_ID}"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"


class Entra:
    """The tenant's OpenID metadata and JWKS on loopback, with a key of our own to sign tokens."""

    def __init__(self):
        self.key = _rsa_key(0)
        self.kid = "kestrel-test-key"
        self.requests = 0
        self.down = False
        self.server: TestServer | None = None

    def jwk(self) -> dict:
        return {**json.loads(RSAAlgorithm.to_jwk(self.key.public_key())), "kid": self.kid, "use": "sig"}

    async def start(self) -> str:
        async def metadata(request):
            self.requests += 1
            if self.down:
                return web.Response(status=503)
            base = f"http://127.0.0.1:{request.url.port}"
            return web.json_response({"issuer": ISSUER, "jwks_uri": f"{base}/{TENANT}/discovery/v2.0/keys"})

        async def keys(request):
            return web.json_response({"keys": [self.jwk()]})

        app = web.Application()
        app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", metadata)
        app.router.add_get(f"/{TENANT}/discovery/v2.0/keys", keys)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return f"http://127.0.0.1:{self.server.port}/{TENANT}/v2.0/.well-known/openid-configuration"

    def token(self, oid: str, *, key=None, kid=None, alg="RS256", **claims) -> str:
        now = int(time.time())
        body = {
            "aud": RESOURCE,
            "iss": ISSUER,
            "tid": TENANT,
            "oid": oid,
            "scp": "access_as_user",
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 3600,
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm=alg, headers={"kid": kid or self.kid})


@pytest.fixture
async def entra():
    e = Entra()
    e.url = await e.start()
    yield e
    await e.server.close()


@contextlib.asynccontextmanager
async def _serve(entra, db, school, clock):
    services = Services(school=school, db=db, clock=clock)
    config = sso.SsoConfig(TENANT, (RESOURCE, APP_ID), entra.url)
    d = Dashboard(services, local_mode=False, sso=config)
    app = web.Application()
    app.router.add_get("/dashboard", d.page)
    app.router.add_get("/dashboard/view", d.view)
    app.router.add_get("/dashboard/static/{name}", d.static)
    c = TestClient(TestServer(app, host="127.0.0.1"))
    await c.start_server()
    c.dashboard = d
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture
async def tab(entra, db, school, clock):
    """The tab on both store backends (what is written to the audit trail)."""
    async with _serve(entra, db, school, clock) as c:
        yield c


@pytest.fixture
async def tab_sqlite(entra, sqlite_db, school, clock):
    """The tab on SQLite alone: for checks of the token, which touch the store only to audit the refusal."""
    async with _serve(entra, sqlite_db, school, clock) as c:
        yield c


def aad(school, staff_id: str) -> str:
    return school.staff[staff_id].aad_object_id


async def _trail(db) -> list[tuple]:
    async with db.session() as s:
        rows = (await s.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars()
        return [(e.actor_id, e.action, e.object_kind) for e in rows]


async def _view(tab, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await tab.get("/dashboard/view", headers=headers)


async def test_the_dsl_with_a_valid_token_sees_the_dashboard(tab, entra, school, db):
    r = await _view(tab, entra.token(aad(school, "amara.okafor")))
    assert r.status == 200, await r.text()
    html = await r.text()
    assert "Supervision at a glance" in html and html.count("<svg") >= 4 and "<script" not in html
    assert "frame-ancestors" in r.headers["Content-Security-Policy"]
    assert await _trail(db) == [("amara.okafor", "viewed", "dashboard")]


async def test_a_v1_token_and_the_app_id_as_audience_are_accepted(tab, entra, school):
    v1 = entra.token(aad(school, "amara.okafor"), iss=f"https://sts.windows.net/{TENANT}/", aud=APP_ID)
    assert (await _view(tab, v1)).status == 200


async def test_a_teaching_assistant_with_a_valid_token_is_refused_and_audited(tab, entra, school, db):
    r = await _view(tab, entra.token(aad(school, "tom.hollis")))
    assert r.status == 403 and "DSL team and senior leaders" in await r.text()
    assert await _trail(db) == [("tom.hollis", "refused", "dashboard")]


async def test_someone_not_on_the_roster_is_refused(tab, entra, db):
    r = await _view(tab, entra.token("00000000-0000-4000-8000-0000000000ff"))
    assert r.status == 403
    assert await _trail(db) == [(None, "refused", "dashboard")]


@functools.cache
def _rsa_key(n: int):
    """RSA keys made once per run (making one takes a while): 0 is the tenant's, 1 an attacker's."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _other_key():
    return _rsa_key(1)


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "not a jwt",
        "wrong audience",
        "another app's audience",
        "wrong tenant",
        "wrong issuer, right tid",
        "expired",
        "not yet valid",
        "alg none",
        "hs256 with the public key",
        "signed by another key, same kid",
        "unknown kid",
        "app-only token",
        "no oid",
    ],
)
async def test_a_bad_token_is_refused_with_401_and_audited(tab_sqlite, entra, school, sqlite_db, case):
    tab, db = tab_sqlite, sqlite_db
    oid = aad(school, "amara.okafor")
    now = int(time.time())
    public_pem = entra.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    tokens = {
        "no token": lambda: None,
        "not a jwt": lambda: "abc.def",
        "wrong audience": lambda: entra.token(oid, aud="api://elsewhere.example/botid-" + APP_ID),
        "another app's audience": lambda: entra.token(oid, aud="00000003-0000-0000-c000-000000000000"),
        "wrong tenant": lambda: entra.token(
            oid, iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0", tid=OTHER_TENANT
        ),
        "wrong issuer, right tid": lambda: entra.token(
            oid, iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"
        ),
        "expired": lambda: entra.token(oid, iat=now - 7200, nbf=now - 7200, exp=now - 600),
        "not yet valid": lambda: entra.token(oid, nbf=now + 600),
        "alg none": lambda: jwt.encode(
            {"aud": RESOURCE, "iss": ISSUER, "tid": TENANT, "oid": oid, "scp": "x", "iat": now, "exp": now + 600},
            None,
            algorithm="none",
            headers={"kid": entra.kid},
        ),
        "hs256 with the public key": lambda: _hs256(public_pem, oid, entra.kid, now),
        "signed by another key, same kid": lambda: entra.token(oid, key=_other_key()),
        "unknown kid": lambda: entra.token(oid, key=_other_key(), kid="not-published"),
        "app-only token": lambda: entra.token(oid, scp=None, roles=["Dashboard.Read"]),
        "no oid": lambda: entra.token(None),
    }
    r = await _view(tab, tokens[case]())
    assert r.status == 401, case
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert "Supervision at a glance" not in await r.text()
    assert await _trail(db) == [(None, "refused", "dashboard")]


def _hs256(secret: bytes, oid: str, kid: str, now: int) -> str:
    """The classic algorithm confusion: an HMAC token keyed with the RSA public key (PyJWT refuses to make one)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    claims = {"aud": RESOURCE, "iss": ISSUER, "tid": TENANT, "oid": oid, "scp": "x", "iat": now, "exp": now + 600}
    body = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


async def test_keys_are_fetched_once_and_shared(tab, entra, school):
    token = entra.token(aad(school, "amara.okafor"))
    for _ in range(3):
        assert (await _view(tab, token)).status == 200
    assert entra.requests == 1
    # An unknown key id (a rotated key?) refreshes the keys at most once per five minutes, however often it comes.
    stranger = entra.token(aad(school, "amara.okafor"), key=_other_key(), kid="rotated-away")
    assert (await _view(tab, stranger)).status == 401
    assert entra.requests == 1  # the keys were fetched moments ago
    keys = tab.dashboard.verifier.keys
    keys._attempted_at -= keys.unknown_key_interval + 1
    for _ in range(3):
        assert (await _view(tab, stranger)).status == 401
    assert entra.requests == 2


async def test_with_entra_unreachable_and_nothing_cached_the_tab_says_so_with_503(tab, entra, school, db):
    entra.down = True
    r = await _view(tab, entra.token(aad(school, "amara.okafor")))
    assert r.status == 503 and "Try again" in await r.text()
    assert await _trail(db) == []  # nobody was refused: nobody could be checked


async def test_the_tab_page_holds_no_figures_and_loads_the_teams_library_from_here(tab):
    r = await tab.get("/dashboard", params={"as": "amara.okafor"})  # ?as= means nothing outside local mode
    html = await r.text()
    assert r.status == 200 and "Supervision at a glance" not in html and "<svg" not in html
    assert '<script src="/dashboard/static/MicrosoftTeams.min.js"></script>' in html
    assert '<script src="/dashboard/static/tab.js"></script>' in html
    assert r.headers["Content-Security-Policy"] == SHELL_CSP
    assert "script-src 'self';" in SHELL_CSP and "https://teams.microsoft.com" in SHELL_CSP
    js = await tab.get("/dashboard/static/tab.js")
    assert js.status == 200 and "getAuthToken" in await js.text() and "javascript" in js.content_type
    assert (await tab.get("/dashboard/static/..%2Fweb.py")).status == 404
    assert (await tab.get("/dashboard/static/package.json")).status == 404


def test_sso_is_configured_from_the_settings_only_outside_local_mode(settings):
    assert sso.SsoConfig.from_settings(settings) is None  # local mode
    tenant = settings.model_copy(update={"app_id": APP_ID, "app_tenant_id": TENANT, "dashboard_sso_resource": RESOURCE})
    config = sso.SsoConfig.from_settings(tenant)
    assert config.audiences == (RESOURCE, APP_ID)
    assert config.metadata_url == f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
    assert sso.SsoConfig.from_settings(tenant.model_copy(update={"dashboard_sso_resource": ""})) is None


def test_a_resource_that_is_not_the_manifests_is_refused_at_start():
    from bot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="DASHBOARD_SSO_RESOURCE"):
        load_settings(
            MicrosoftAppId=APP_ID,
            MicrosoftAppPassword="x",
            MicrosoftAppType="SingleTenant",
            MicrosoftAppTenantId=TENANT,
            DASHBOARD_SSO_RESOURCE="https://bot.example/whatever",
        )
    with pytest.raises(SettingsError, match="DASHBOARD_OPENID_METADATA_URL"):
        load_settings(DASHBOARD_OPENID_METADATA_URL="http://login.example/meta")


def test_links_to_the_dashboard(settings):
    from bot.dashboard.web import link_for

    assert link_for(settings)("amara.okafor") == f"http://127.0.0.1:{settings.port}/dashboard?as=amara.okafor"
    tenant = settings.model_copy(update={"app_id": APP_ID, "teams_app_id": "2f6b1c0e-4d5a-4b8e-9c3f-000000000101"})
    assert link_for(tenant)("amara.okafor") == (
        "https://teams.microsoft.com/l/entity/2f6b1c0e-4d5a-4b8e-9c3f-000000000101/dashboard"
    )
    assert link_for(tenant.model_copy(update={"teams_app_id": ""}))("amara.okafor") is None
