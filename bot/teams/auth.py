"""Bot Framework authentication that reuses connector and user-token clients across turns.

botbuilder builds a new ConnectorClient and a new UserTokenClient for every incoming activity; each carries an
msrest configuration and an HTTP session. Reusing them per (app id, service URL, audience) removes that
per-turn work without changing what is authenticated: the JWT of every request is still validated by the
inner BotFrameworkAuthentication.
"""
from __future__ import annotations

from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)


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
        return client


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    def __init__(self, inner: BotFrameworkAuthentication):
        self._inner = inner
        self._connectors: dict = {}
        self._token_clients: dict = {}

    @staticmethod
    def _app_key(identity: ClaimsIdentity | None) -> tuple:
        claims = getattr(identity, "claims", None) or {}
        return (claims.get("aud") or claims.get("appid") or claims.get("azp") or "",)

    async def authenticate_request(self, activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(
                result.connector_factory, self._connectors, self._app_key(result.claims_identity))
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(self._inner.create_connector_factory(claims_identity),
                                        self._connectors, self._app_key(claims_identity))

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
