"""Teams SSO for the dashboard tab: the access token Teams hands the tab (`authentication.getAuthToken()` in
static/tab.js) is checked here, on the server, before any figure leaves it.

A token is accepted when (Microsoft Learn: "Add code to enable SSO" for tabs, and "Access tokens in the Microsoft
identity platform" → validating tokens):
* it is a JWT signed with RS256 by a key Entra publishes for the school's tenant (its OpenID metadata → jwks_uri;
  `alg: none`, HS256 and any other algorithm are refused before a key is looked up);
* its audience is the tab's Application ID URI — the manifest's `webApplicationInfo.resource`, e.g.
  `api://<bot host>/botid-<app id>` — or the app id itself (Entra's v2.0 tokens carry the client id as `aud`);
* its issuer is the school's tenant (v2.0 `https://login.microsoftonline.com/<tenant>/v2.0` or v1.0
  `https://sts.windows.net/<tenant>/`), and so is its `tid`;
* it has not expired (and is already valid: `nbf`, `iat`), with a minute's leeway for clock skew;
* it is a delegated token for a person (`scp` and `oid` present), not an app-only token.

The person is then looked up by `oid` in the school's roster; what they may see is decided by the role checks in
bot/dashboard/web.py, as in local mode.

Signing keys follow the pattern of bot/teams/openid.py (which serves botbuilder, so it is not imported here): fetched
with aiohttp, never blocking the loop; the first request waits for the first fetch, shared by every request
meanwhile; keys older than a day are refreshed in the background while the cached ones keep serving; an unknown key
id triggers at most one refresh per five minutes; with nothing cached, a failed fetch makes requests fail fast
(503) for `retry_after` seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger("bot.dashboard.sso")

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_TOKEN_CHARS = 16 * 1024  # Entra access tokens are 1–3 KB; a header larger than this is not one
ALGORITHMS = ("RS256",)
LEEWAY_SECONDS = 60
PUBLIC_CLOUD_METADATA = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"


class KeysUnavailable(Exception):
    """Entra's signing keys could not be fetched and none are cached: no token can be checked now (503)."""


class TokenRefused(Exception):
    """The token is missing or not acceptable (401). `reason` is a short code for the log, never token content."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SsoConfig:
    tenant_id: str
    audiences: tuple[str, ...]  # the Application ID URI and the app id
    metadata_url: str

    @classmethod
    def from_settings(cls, settings) -> SsoConfig | None:
        """None when the tab cannot check tokens (local mode, or no tenant / Application ID URI configured)."""
        tenant = (settings.app_tenant_id or "").strip()
        resource = (settings.dashboard_sso_resource or "").strip()
        if settings.local_mode or not tenant or not resource:
            return None
        url = settings.dashboard_openid_metadata_url or PUBLIC_CLOUD_METADATA.format(tenant=tenant)
        return cls(tenant, tuple(a for a in (resource, settings.app_id) if a), url)

    def issuers(self) -> set[str]:
        return {
            f"https://login.microsoftonline.com/{self.tenant_id}/v2.0",
            f"https://sts.windows.net/{self.tenant_id}/",
        }


class EntraKeys:
    """The tenant's signing keys by key id, fetched asynchronously and cached (see the module docstring)."""

    refresh_after = 24 * 3600.0
    unknown_key_interval = 300.0
    retry_after = 30.0
    timeout = 10.0

    def __init__(self, metadata_url: str, *, clock=time.monotonic):
        self.url = metadata_url
        self._clock = clock
        self._keys: dict[str, object] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._failed_at: float | None = None
        self._task: asyncio.Task | None = None
        self.fetches = 0

    async def get(self, key_id: str | None):
        now = self._clock()
        if self._fetched_at is None:
            if self._failed_at is not None and now - self._failed_at < self.retry_after:
                raise KeysUnavailable()
            await self._refresh()
        elif now - self._fetched_at > self.refresh_after:
            self._start_refresh()
        key = self._keys.get(key_id) if isinstance(key_id, str) else None
        if key is None and isinstance(key_id, str) and self._may_refresh_for_unknown_key(now):
            try:
                await self._refresh()
            except KeysUnavailable:
                pass
            key = self._keys.get(key_id)
        if key is None:
            raise TokenRefused("unknown signing key")
        return key

    def _may_refresh_for_unknown_key(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at > self.unknown_key_interval

    def _start_refresh(self) -> asyncio.Task:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._task = loop.create_task(self._fetch(), name="entra-keys")
            task.add_done_callback(_consume)
        return task

    async def _refresh(self) -> None:
        await asyncio.shield(self._start_refresh())

    async def _fetch(self) -> None:
        self._attempted_at = self._clock()
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout, trust_env=True) as http:
                metadata = await _get_json(http, self.url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str) or not _acceptable(jwks_uri, self.url):
                    raise ValueError("metadata has no usable jwks_uri")
                keys = _parse_keys(await _get_json(http, jwks_uri))
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            self._failed_at = self._clock()
            log.warning(
                "could not refresh Entra signing keys for the dashboard (%s)%s",
                type(exc).__name__,
                "; keeping the cached keys" if self._keys else "",
            )
            raise KeysUnavailable() from None
        self._keys = keys
        self._fetched_at = self._clock()
        self._failed_at = None
        self.fetches += 1
        log.info("Entra signing keys for the dashboard refreshed (%d keys)", len(keys))


class TokenVerifier:
    def __init__(self, config: SsoConfig, keys: EntraKeys | None = None, *, leeway: float = LEEWAY_SECONDS):
        self.config = config
        self.keys = keys or EntraKeys(config.metadata_url)
        self.leeway = leeway

    async def verify(self, authorization: str | None) -> dict:
        """The claims of an acceptable `Authorization: Bearer <token>`; TokenRefused or KeysUnavailable otherwise."""
        token = bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefused("algorithm not allowed")
        key = await self.keys.get(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=list(self.config.audiences),
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("expired") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("wrong audience") from None
        except jwt.PyJWTError as exc:
            raise TokenRefused(type(exc).__name__) from None
        if (
            claims.get("iss") not in self.config.issuers()
            or str(claims.get("tid")).lower() != self.config.tenant_id.lower()
        ):
            raise TokenRefused("wrong tenant")
        if not claims.get("scp"):
            raise TokenRefused("not a delegated user token")
        return claims


def bearer(authorization: str | None) -> str:
    if not authorization:
        raise TokenRefused("no token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenRefused("not a bearer token")
    return token


def _consume(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


async def _get_json(http: aiohttp.ClientSession, url: str):
    async with http.get(url, allow_redirects=False) as resp:
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}")
        body = await resp.content.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError("document too large")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise ValueError("not JSON") from None


def _acceptable(jwks_uri: str, metadata_url: str) -> bool:
    """https, or plain http only when the metadata itself came from a loopback double on the same host."""
    u, m = urlsplit(jwks_uri), urlsplit(metadata_url)
    if u.scheme == "https" and u.hostname:
        return True
    return u.scheme == "http" and m.scheme == "http" and u.hostname == m.hostname


def _parse_keys(jwks) -> dict[str, object]:
    raw: Iterable = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(raw, list):
        raise ValueError("no keys")
    keys: dict[str, object] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("kid"), str) or item.get("kty") != "RSA":
            continue
        try:
            keys[item["kid"]] = RSAAlgorithm.from_jwk(json.dumps(item))
        except Exception:  # noqa: BLE001 - one malformed key must not hide the others
            continue
    if not keys:
        raise ValueError("no usable RSA keys")
    return keys
