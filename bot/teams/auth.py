"""Bot Framework authentication: botbuilder's JWT validation with its failures mapped, the bot's own tokens
fetched off the event loop, and connector/user-token clients reused across turns.

- Incoming: botbuilder's `_ParameterizedBotFrameworkAuthentication` validates every request (issuer, signature,
  algorithm, expiry, audience = our app id, serviceUrl claim = the activity's serviceUrl). It is built with the
  public cloud's constants unless settings name other endpoints, so the tests run exactly the production code
  against local doubles. Whatever it raises for a bad token (`PermissionError`, PyJWT's errors, a bare
  `Exception`) becomes a `PermissionError`, which the adapter answers 401; signing keys it cannot fetch become
  `KeysUnavailable` (503). A SingleTenant bot also refuses activities from any other tenant.
- Outgoing: `BotAppCredentials` gets the bot's token from the configured authority with MSAL (client credentials),
  in a worker thread, before a connector client is handed out; msrest's synchronous `signed_session` then finds
  it cached. A token endpoint that fails becomes `TokenUnavailable` (503 for a turn, a retryable send error for
  the outbox).
- Reuse: botbuilder builds a new ConnectorClient and UserTokenClient for every incoming activity; each carries an
  msrest configuration and an HTTP session. Reusing them per (app id, service URL, audience) removes that per-turn
  work without changing what is authenticated.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import jwt
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)

from bot.teams.openid import KeysUnavailable

log = logging.getLogger("bot.teams.auth")

PUBLIC_LOGIN_URL = "https://login.microsoftonline.com/"  # AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
DEFAULT_TENANT = "botframework.com"  # AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
TOKEN_MARGIN = 300.0  # renew a token five minutes before it expires


class TokenUnavailable(Exception):
    """The bot could not get its own Bot Framework token."""


# A dependency of authentication is down (signing keys, the token endpoint): answer 503, never 500.
AUTH_UNAVAILABLE = (KeysUnavailable, TokenUnavailable)


class BotAppCredentials(MicrosoftAppCredentials):
    """App id + secret → a Bot Framework token from `authority`, cached until five minutes before it expires.

    `get_access_token` is what msrest calls (synchronously) for every request; `ensure_token` runs the slow path
    in a worker thread first, so the event loop never waits on the token endpoint.
    """

    def __init__(self, app_id: str, password: str, *, authority: str, oauth_scope: str, custom_authority: bool):
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.oauth_endpoint = authority
        self._custom_authority = custom_authority
        self._msal = None
        self._token: str | None = None
        self._fresh_until = 0.0
        self._lock = threading.Lock()

    def _fresh(self) -> bool:
        return self._token is not None and time.monotonic() < self._fresh_until

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._fresh() and not force_refresh:
            return self._token
        with self._lock:
            if self._fresh() and not force_refresh:
                return self._token
            scope = self.oauth_scope if self.oauth_scope.endswith("/.default") else self.oauth_scope + "/.default"
            try:
                result = self._app().acquire_token_for_client(scopes=[scope])
            except Exception as exc:  # noqa: BLE001 - requests/msal raise many types; none may escape as a 500
                log.warning("could not reach the token endpoint (%s)", type(exc).__name__)
                raise TokenUnavailable("no Bot Framework token") from None
            token = result.get("access_token") if isinstance(result, dict) else None
            if not token:
                # The error code (e.g. invalid_client) says what to fix and carries no secret.
                code = result.get("error") if isinstance(result, dict) else None
                log.warning("the token endpoint refused the bot's credentials (%s)", code or "no token")
                raise TokenUnavailable("no Bot Framework token")
            try:
                lifetime = float(result.get("expires_in", 0))
            except (TypeError, ValueError):
                lifetime = 0.0
            self._token = token
            self._fresh_until = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN)
            return token

    async def ensure_token(self) -> None:
        if self._should_set_token(None) and not self._fresh():
            await asyncio.to_thread(self.get_access_token)

    def _app(self):
        if self._msal is None:
            from msal import ConfidentialClientApplication

            # A configured authority (another cloud, or the tests' double) is the operator's choice: no instance
            # discovery, which would ask login.microsoftonline.com whether the host is known.
            extra = {"instance_discovery": False} if self._custom_authority else {}
            self._msal = ConfidentialClientApplication(
                self.microsoft_app_id,
                client_credential=self.microsoft_app_password,
                authority=self.oauth_endpoint,
                **extra,
            )
        return self._msal


class BotCredentialFactory(ServiceClientCredentialsFactory):
    """Credentials for MultiTenant and SingleTenant bots: one BotAppCredentials per scope, shared by every client."""

    def __init__(self, app_id: str, password: str, *, tenant_id: str = "", login_url: str = ""):
        self.app_id = app_id or ""
        self.password = password or ""
        self.authority = (login_url or PUBLIC_LOGIN_URL).rstrip("/") + "/" + (tenant_id or DEFAULT_TENANT)
        self.custom_authority = bool(login_url)
        self._credentials: dict[str, BotAppCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self.app_id) and app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool):
        if not self.app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self.app_id:
            raise PermissionError("credentials asked for another app id")
        creds = self._credentials.get(oauth_scope)
        if creds is None:
            creds = self._credentials[oauth_scope] = BotAppCredentials(
                self.app_id,
                self.password,
                authority=self.authority,
                oauth_scope=oauth_scope,
                custom_authority=self.custom_authority,
            )
        return creds


async def _ensure_token(client) -> None:
    creds = getattr(getattr(client, "config", None), "credentials", None)
    ensure = getattr(creds, "ensure_token", None)
    if ensure is not None:
        await ensure()


class _CachingConnectorFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, cache: dict, key_prefix: tuple):
        self._inner = inner
        self._cache = cache
        self._prefix = key_prefix

    async def create(self, service_url: str, audience: str = None):
        key = self._prefix + (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._cache[key] = client
        await _ensure_token(client)
        return client


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    def __init__(self, inner: BotFrameworkAuthentication, *, tenant_id: str = ""):
        self._inner = inner
        self._tenant_id = tenant_id  # set for SingleTenant bots: activities from other tenants are refused
        self._connectors: dict = {}
        self._token_clients: dict = {}

    @staticmethod
    def _app_key(identity: ClaimsIdentity | None) -> tuple:
        claims = getattr(identity, "claims", None) or {}
        return (claims.get("aud") or claims.get("appid") or claims.get("azp") or "",)

    async def authenticate_request(self, activity, auth_header: str) -> AuthenticateRequestResult:
        # CloudAdapter passes "" for a missing header; the parameterized validator only treats None as "no header"
        # (the anonymous path of local mode, and a plain 401 with credentials set).
        if auth_header and not _from_bot_connector(auth_header):
            # botbuilder also accepts Emulator and skill tokens: Entra ID tokens whose appid is this bot's, with no
            # audience or serviceUrl check. Anyone holding the bot's secret can mint one, and would then be any
            # member of staff to the bot, with replies going to a serviceUrl of their choosing. This bot talks to
            # Teams only: only the Bot Connector's own tokens are let through to validation.
            log.info("request not authenticated (not a Bot Connector token)")
            raise PermissionError("not authenticated")
        try:
            result = await self._inner.authenticate_request(activity, auth_header or None)
        except AUTH_UNAVAILABLE:
            raise
        except Exception as exc:  # noqa: BLE001 - every other failure of token validation is "not authenticated"
            # The type only: messages can quote the token's claims.
            log.info("request not authenticated (%s)", type(exc).__name__)
            raise PermissionError("not authenticated") from None
        if self._tenant_id and _activity_tenant(activity) != self._tenant_id:
            log.info("request refused: the activity is not from this bot's tenant")
            raise PermissionError("not authenticated")
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(
                result.connector_factory, self._connectors, self._app_key(result.claims_identity)
            )
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(
            self._inner.create_connector_factory(claims_identity), self._connectors, self._app_key(claims_identity)
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = self._app_key(claims_identity)
        client = self._token_clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[key] = client
        return client

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    async def close(self) -> None:
        for client in list(self._connectors.values()) + list(self._token_clients.values()):
            closer = getattr(client, "close", None)
            if closer is not None:
                try:
                    res = closer()
                    if hasattr(res, "__await__"):
                        await res
                except Exception:  # noqa: BLE001 - best effort at shutdown
                    pass
        self._connectors.clear()
        self._token_clients.clear()


def _activity_tenant(activity) -> str | None:
    """The tenant Teams says the activity belongs to: conversation.tenantId, else channelData.tenant.id."""
    conv = getattr(activity, "conversation", None)
    tenant = getattr(conv, "tenant_id", None)
    if tenant:
        return tenant
    cd = getattr(activity, "channel_data", None)
    if isinstance(cd, dict):
        t = cd.get("tenant")
        if isinstance(t, dict) and isinstance(t.get("id"), str):
            return t["id"]
    return None


def _from_bot_connector(auth_header: str) -> bool:
    """Whether the (still unverified) token says it was issued by the Bot Connector. Only a routing decision: the
    signature, issuer and every claim are then checked by botbuilder; a token that lies here fails there."""
    parts = auth_header.split(" ")
    if len(parts) != 2:
        return True  # malformed: let botbuilder refuse it the usual way
    try:
        claims = jwt.decode(parts[1], options={"verify_signature": False})
    except jwt.PyJWTError:
        return True
    return claims.get("iss") == AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
