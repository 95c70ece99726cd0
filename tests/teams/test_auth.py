"""Bot Framework authentication for real: with MicrosoftAppId set, botbuilder's own JWT validation runs against
tokens signed with a local RSA key, whose OpenID metadata and JWKS a local double serves; the bot's own tokens
come from a local Entra ID token-endpoint double and are what the connector double receives.

Facts the doubles follow: the Bot Connector signs with keys published at
login.botframework.com/v1/.well-known/openidconfiguration; its tokens carry iss https://api.botframework.com,
aud = the bot's app id, a serviceurl claim equal to the activity's serviceUrl, and 5 minutes of clock skew are
allowed (learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.settings import SettingsError, load_settings
from tests.fakes.identity import BotFrameworkKeysDouble, TokenEndpointDouble, new_rsa_key, unsigned_token
from tests.fakes.teams import TENANT, TeamsDriver, person

APP_ID = "11111111-2222-4333-8444-555555555555"
SECRET = "not-a-real-secret"
OTHER_TENANT = "00000000-0000-0000-0000-0000000000bb"


@pytest.fixture
async def keys():
    double = await BotFrameworkKeysDouble().start()
    yield double
    await double.stop()


@pytest.fixture
async def entra(tmp_path, monkeypatch):
    double = await TokenEndpointDouble(tmp_path).start()
    # MSAL speaks to its authority with `requests`, which trusts this bundle (the double's self-signed cert).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", double.ca_file)
    yield double
    await double.stop()


def _settings(tmp_path, keys, entra, **extra):
    return load_settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword=SECRET,
        ToBotFromChannelOpenIdMetadataUrl=keys.metadata_url,
        ToBotFromEmulatorOpenIdMetadataUrl=keys.emulator_metadata_url,
        ToChannelFromBotLoginUrl=entra.login_url,
        **extra,
    )


async def _driver(settings, sqlite_db, clock, connector):
    from bot.app import create_app

    return await TeamsDriver(create_app(settings, clock=clock, db=sqlite_db), connector).start()


@pytest.fixture
async def bot(tmp_path, sqlite_db, clock, connector, keys, entra):
    driver = await _driver(_settings(tmp_path, keys, entra), sqlite_db, clock, connector)
    yield driver
    await driver.stop()


@pytest.fixture
async def single_tenant_bot(tmp_path, sqlite_db, clock, connector, keys, entra):
    s = _settings(tmp_path, keys, entra, MicrosoftAppType="SingleTenant", MicrosoftAppTenantId=TENANT)
    driver = await _driver(s, sqlite_db, clock, connector)
    yield driver
    await driver.stop()


def _help(driver, school, tenant: str = TENANT) -> dict:
    act = driver._base(person(school, "tom.hollis")) | {"type": "message", "text": "help"}
    act["conversation"]["tenantId"] = tenant
    act["channelData"]["tenant"]["id"] = tenant
    return act


async def _post(driver, activity: dict, authorization: str | None) -> tuple[int, dict | None]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with driver.http.post(driver.url, json=activity, headers=headers) as r:
        body = await r.json() if r.content_type == "application/json" else None
        return r.status, body


def _token(keys, driver, **claims) -> str:
    return "Bearer " + keys.sign(app_id=APP_ID, service_url=driver.connector.url, **claims)


async def test_a_valid_token_is_accepted_and_the_reply_carries_the_bots_own_token(bot, keys, entra, connector, school):
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status in (200, 201)
    [sent] = connector.sent
    assert sent.activity["attachments"][0]["content"]["body"][0]["text"] == "What you can do, Tom"
    # The reply was sent with a token the local Entra double issued to this app, for Bot Framework's scope.
    [grant] = entra.grants
    assert sent.authorization == f"Bearer {grant.token}"
    assert grant.tenant == "botframework.com"
    assert grant.form["grant_type"] == "client_credentials"
    assert (grant.form["client_id"], grant.form["client_secret"]) == (APP_ID, SECRET)
    assert grant.form["scope"] == "https://api.botframework.com/.default"
    # Signing keys were fetched from the local double (metadata then JWKS) — botbuilder's validation ran on them.
    assert keys.requests == ["/v1/.well-known/openidconfiguration", "/v1/.well-known/keys"]


def _cases(keys, driver):
    now = int(time.time())
    return {
        "no header": None,
        "not a bearer": "Basic dXNlcjpwYXNz",
        "garbage": "Bearer garbage",
        "three dots": "Bearer a.b.c",
        "alg none": "Bearer "
        + unsigned_token(
            iss="https://api.botframework.com",
            aud=APP_ID,
            serviceurl=driver.connector.url,
            nbf=now - 60,
            exp=now + 3600,
        ),
        "alg none with our kid": "Bearer "
        + _with_header_kid(
            unsigned_token(
                iss="https://api.botframework.com", aud=APP_ID, serviceurl=driver.connector.url, exp=now + 3600
            ),
            keys.kid,
        ),
        "expired": _token(keys, driver, nbf=now - 7200, exp=now - 600),  # beyond the 5-minute skew
        "not yet valid": _token(keys, driver, nbf=now + 600),
        "wrong audience": _token(keys, driver, aud="99999999-2222-4333-8444-555555555555"),
        "no audience": _token(keys, driver, aud=None),
        "wrong issuer": _token(keys, driver, iss="https://login.example.com"),
        "wrong serviceUrl claim": "Bearer " + keys.sign(app_id=APP_ID, service_url="https://evil.example/"),
        "no serviceUrl claim": _token(keys, driver, serviceurl=None),
        "signed with another key": _token(keys, driver, key=new_rsa_key()),
        "unknown key id": _token(keys, driver, headers={"kid": "not-published"}),
        "HS256 with the public key": "Bearer " + _hs256_confusion(keys, driver),
    }


def _with_header_kid(token: str, kid: str) -> str:
    import base64
    import json

    head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode()).rstrip(b"=")
    return head.decode() + "." + token.split(".", 1)[1]


def _hs256_confusion(keys, driver) -> str:
    """The classic forgery: HMAC-sign with the published public key as the secret."""
    import base64
    import hashlib
    import hmac
    import json

    from cryptography.hazmat.primitives import serialization

    pem = keys.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")  # noqa: E731
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": keys.kid}).encode())
    body = b64(
        json.dumps(
            {
                "iss": "https://api.botframework.com",
                "aud": APP_ID,
                "serviceurl": driver.connector.url,
                "nbf": now - 60,
                "exp": now + 3600,
            }
        ).encode()
    )
    sig = b64(hmac.new(pem, head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + sig).decode()


CASES = [
    "no header",
    "not a bearer",
    "garbage",
    "three dots",
    "alg none",
    "alg none with our kid",
    "expired",
    "not yet valid",
    "wrong audience",
    "no audience",
    "wrong issuer",
    "wrong serviceUrl claim",
    "no serviceUrl claim",
    "signed with another key",
    "unknown key id",
    "HS256 with the public key",
]


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_token_is_refused_401_and_nothing_happens(bot, keys, connector, sqlite_db, school, case, caplog):
    header = _cases(keys, bot)[case]
    status, body = await _post(bot, _help(bot, school), header)
    assert status == 401, (case, status, body)
    assert body == {"error": "not authenticated"}
    assert not connector.sent
    # Nothing about the token (claims, signature) reaches the logs.
    assert header is None or header.split(" ", 1)[-1] not in caplog.text
    # …and the same bot still serves a good token straight after.
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status in (200, 201)


async def test_an_unknown_key_id_refreshes_the_keys_once_then_refuses(bot, keys, school):
    await _post(bot, _help(bot, school), _token(keys, bot))  # keys cached
    before = len(keys.requests)
    from botframework.connector.auth import JwtTokenExtractor

    JwtTokenExtractor.metadataCache[keys.metadata_url].unknown_key_interval = 0  # no five-minute wait in a test
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot, headers={"kid": "rotated"}))
    assert status == 401
    assert len(keys.requests) == before + 2  # metadata + JWKS, once
    # A rotated key that *is* published is accepted after that refresh.
    keys.kid = "rotated"
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status in (200, 201)


async def test_single_tenant_refuses_another_tenant(single_tenant_bot, keys, entra, connector, school):
    bot = single_tenant_bot
    status, body = await _post(bot, _help(bot, school, tenant=OTHER_TENANT), _token(keys, bot))
    assert (status, body) == (401, {"error": "not authenticated"})
    assert not connector.sent
    status, _ = await _post(bot, _help(bot, school, tenant=TENANT), _token(keys, bot))
    assert status in (200, 201)
    # A SingleTenant bot gets its own token from its own tenant.
    assert [g.tenant for g in entra.grants] == [TENANT]


async def test_single_tenant_refuses_an_activity_that_names_no_tenant(single_tenant_bot, keys, school):
    bot = single_tenant_bot
    act = _help(bot, school)
    del act["conversation"]["tenantId"]
    del act["channelData"]["tenant"]
    status, _ = await _post(bot, act, _token(keys, bot))
    assert status == 401


async def test_a_metadata_outage_is_a_clean_503_and_recovers(bot, keys, connector, school):
    keys.down = True
    status, body = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status == 503 and "temporarily unavailable" in body["error"]
    assert not connector.sent
    # Within the retry interval requests fail fast, without asking the endpoint again.
    asked = len(keys.requests)
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status == 503 and len(keys.requests) == asked
    # Once it is back (and the retry interval has passed) the same token is accepted.
    from botframework.connector.auth import JwtTokenExtractor

    JwtTokenExtractor.metadataCache[keys.metadata_url].retry_after = 0
    keys.down = False
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status in (200, 201)


async def test_with_keys_cached_an_outage_changes_nothing(bot, keys, school):
    assert (await _post(bot, _help(bot, school), _token(keys, bot)))[0] in (200, 201)
    keys.down = True
    from botframework.connector.auth import JwtTokenExtractor

    JwtTokenExtractor.metadataCache[keys.metadata_url].refresh_after = 0  # due a refresh: it fails
    for _ in range(2):
        status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
        assert status in (200, 201)
        assert (await _post(bot, _help(bot, school), "Bearer garbage"))[0] == 401


async def test_the_key_fetch_does_not_block_the_event_loop(bot, keys, school):
    """While the first request waits for the signing keys, the bot keeps answering (here /healthz); concurrent
    requests share one fetch. (botbuilder's own fetch is a synchronous `requests.get` inside the event loop: with
    the double in the same loop it could never be answered, and this test would hang until pytest-timeout.)"""
    keys.hold = asyncio.Event()
    token = _token(keys, bot)
    pending = [asyncio.create_task(_post(bot, _help(bot, school), token)) for _ in range(5)]
    health_url = bot.url.replace("/api/messages", "/healthz")
    async with bot.http.get(health_url) as r:
        assert r.status == 200
    assert not any(t.done() for t in pending)
    keys.hold.set()
    results = await asyncio.wait_for(asyncio.gather(*pending), 10)
    assert all(status in (200, 201) for status, _ in results)
    assert keys.requests.count("/v1/.well-known/openidconfiguration") == 1


async def test_a_token_endpoint_outage_is_a_503_not_a_500(bot, keys, entra, connector, school):
    entra.status = 503
    status, body = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status == 503 and "error" in body
    assert not connector.sent
    entra.status = 200
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status in (200, 201)


async def test_a_refused_bot_secret_is_a_503_and_is_logged_without_the_secret(bot, keys, entra, school, caplog):
    entra.status = 401
    status, _ = await _post(bot, _help(bot, school), _token(keys, bot))
    assert status == 503
    assert "invalid_client" in caplog.text and SECRET not in caplog.text


@pytest.fixture
async def sender(tmp_path, keys, entra, connector):
    from bot.teams.adapter import build_adapter
    from bot.teams.sender import BotFrameworkSender

    settings = _settings(tmp_path, keys, entra)
    _, auth = build_adapter(settings)
    yield BotFrameworkSender(auth, settings.app_id)
    await auth.close()


def _ref(connector):
    return {
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": "a:personal-tom.hollis", "conversationType": "personal", "tenantId": TENANT},
        "user": {"id": "29:tom.hollis"},
        "bot": {"id": "28:kestrel-bot"},
    }


CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Reminder"}]}


async def test_a_proactive_send_gets_a_token_from_the_token_endpoint_and_reuses_it(sender, entra, connector):
    await sender(_ref(connector), CARD)
    await sender(_ref(connector), CARD)
    [grant] = entra.grants  # one token, cached, for both sends
    assert [s.authorization for s in connector.sent] == [f"Bearer {grant.token}"] * 2
    assert grant.form["client_id"] == APP_ID and grant.form["scope"] == "https://api.botframework.com/.default"


async def test_a_proactive_send_without_a_token_is_a_retryable_send_error(sender, entra, connector):
    from bot.messaging import SendError

    entra.status = 503
    with pytest.raises(SendError) as err:
        await sender(_ref(connector), CARD)
    assert err.value.status is None and not connector.sent
    entra.status = 200
    assert await sender(_ref(connector), CARD)


@pytest.mark.parametrize(
    "name", ["ToBotFromChannelOpenIdMetadataUrl", "ToBotFromEmulatorOpenIdMetadataUrl", "ToChannelFromBotLoginUrl"]
)
@pytest.mark.parametrize("url", ["http://login.example.com/keys", "ftp://127.0.0.1/x", "not a url"])
def test_endpoints_must_be_https_or_a_loopback_double(tmp_path, name, url):
    with pytest.raises(SettingsError) as err:
        load_settings(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", MicrosoftAppId=APP_ID, **{name: url}
        )
    assert name in str(err.value)


def test_without_endpoint_settings_the_public_cloud_is_used(tmp_path):
    from botframework.connector.auth import AuthenticationConstants

    from bot.teams.adapter import _AuthConfig

    s = load_settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", MicrosoftAppId=APP_ID)
    cfg = _AuthConfig(s)
    assert (
        cfg.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL == AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    assert (
        cfg.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL == AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
    )
    assert cfg.TO_CHANNEL_FROM_BOT_LOGIN_URL == AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
    assert cfg.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://api.botframework.com"


async def test_an_emulator_style_token_minted_with_the_bots_own_secret_is_refused(bot, keys, connector, school):
    """botbuilder would accept this: an Entra ID token from the Bot Framework tenant whose appid is the bot's (what
    anyone holding MicrosoftAppPassword can get), with no audience or serviceUrl check — and the reply would go to
    whatever serviceUrl the activity names. The bot takes Bot Connector tokens only."""
    now = int(time.time())
    # What Entra ID issues to the bot's own credentials for the scope "<app id>/.default": aud = appid = the bot.
    token = keys.sign(
        app_id=APP_ID,
        service_url=bot.connector.url,
        iss="https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
        ver="1.0",
        appid=APP_ID,
        serviceurl=None,
        nbf=now - 60,
        exp=now + 3600,
    )
    status, body = await _post(bot, _help(bot, school), "Bearer " + token)
    assert (status, body) == (401, {"error": "not authenticated"})
    assert not connector.sent
