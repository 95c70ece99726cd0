"""Bot Framework's signing keys, fetched without blocking the event loop, cached, and refreshed in the background.

botframework-connector 4.17.1 fetches the OpenID metadata document and its JWKS with `requests` — synchronously,
inside the event loop — on the first authenticated request and once a day after (`_OpenIdMetadata` in
jwt_token_extractor.py). While that fetch runs no other turn moves; when it fails, `requests`' exception escapes
the adapter as a 500. `JwtTokenExtractor` looks its metadata object up in a class-level cache keyed by URL, so
`install(url)` puts an `OpenIdKeys` there for each configured metadata URL: the SDK still does every check
(issuer, signature, algorithm, expiry, endorsements, audience, serviceUrl); only where the keys come from changes.

- The first request waits for the first fetch (shared by every request arriving meanwhile).
- After that, keys older than a day are refreshed in a background task while the cached ones keep serving.
- A token signed with a key we do not have triggers one refresh (at most every five minutes: an attacker cannot
  make us hammer the endpoint), then is refused.
- If the endpoint is down and nothing is cached, requests fail fast with `KeysUnavailable` (a 503), retrying the
  fetch at most every `retry_after` seconds; with keys cached, an outage changes nothing for callers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from botframework.connector.auth import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger("bot.teams.auth")

MAX_DOCUMENT_BYTES = 1024 * 1024  # the real JWKS is ~10 KB; anything near this is not a key set


class KeysUnavailable(Exception):
    """The signing keys could not be fetched and none are cached: the request cannot be checked (503)."""


@dataclass(frozen=True)
class SigningKey:
    """What JwtTokenExtractor reads from a metadata lookup."""

    public_key: object
    endorsements: list = field(default_factory=list)


class OpenIdKeys:
    refresh_after = 24 * 3600.0  # the SDK's own refresh interval
    unknown_key_interval = 300.0  # at most one refresh per five minutes for an unknown key id
    retry_after = 30.0  # after a failed fetch with nothing cached, fail fast for this long
    timeout = 10.0

    def __init__(self, url: str, *, clock=time.monotonic):
        self.url = url
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._failed_at: float | None = None
        self._task: asyncio.Task | None = None
        self.fetches = 0  # completed fetches, for tests and diagnostics

    async def get(self, key_id: str | None) -> SigningKey:
        now = self._clock()
        if self._fetched_at is None:
            if self._failed_at is not None and now - self._failed_at < self.retry_after:
                raise KeysUnavailable("signing keys unavailable")
            await self._refresh()
        elif now - self._fetched_at > self.refresh_after:
            self._start_refresh()  # serve the cached keys while the new ones arrive
        key = self._keys.get(key_id) if isinstance(key_id, str) else None
        if key is None and isinstance(key_id, str) and self._may_refresh_for_unknown_key(now):
            try:
                await self._refresh()
            except KeysUnavailable:
                pass
            key = self._keys.get(key_id)
        if key is None:
            # PermissionError is what botbuilder's adapter turns into a 401.
            raise PermissionError("token not signed with a published key")
        return key

    def _may_refresh_for_unknown_key(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at > self.unknown_key_interval

    def _start_refresh(self) -> asyncio.Task:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._task = loop.create_task(self._fetch(), name="openid-keys")
            task.add_done_callback(_consume)
        return task

    async def _refresh(self) -> None:
        # shield: a request that gives up (client gone) does not cancel the fetch the others are waiting on.
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
                "could not refresh Bot Framework signing keys (%s)%s",
                type(exc).__name__,
                "; keeping the cached keys" if self._keys else "",
            )
            raise KeysUnavailable("signing keys unavailable") from None
        self._keys = keys
        self._fetched_at = self._clock()
        self._failed_at = None
        self.fetches += 1
        log.info("Bot Framework signing keys refreshed (%d keys)", len(keys))


def install(url: str) -> OpenIdKeys:
    """Make botbuilder's JwtTokenExtractor use an OpenIdKeys for `url` (replacing any earlier one)."""
    keys = OpenIdKeys(url)
    JwtTokenExtractor.metadataCache[url] = keys
    return keys


def _consume(task: asyncio.Task) -> None:
    # A background refresh nobody awaits must not log "exception was never retrieved".
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
    """https, or plain http only when the metadata itself came from a loopback double."""
    u, m = urlsplit(jwks_uri), urlsplit(metadata_url)
    if u.scheme == "https" and u.hostname:
        return True
    return u.scheme == "http" and m.scheme == "http" and u.hostname == m.hostname


def _parse_keys(jwks) -> dict[str, SigningKey]:
    raw = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(raw, list):
        raise ValueError("no keys")
    keys: dict[str, SigningKey] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("kid"), str) or item.get("kty") != "RSA":
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(item))
        except Exception:  # noqa: BLE001 - one malformed key must not hide the others
            continue
        endorsements = item.get("endorsements")
        keys[item["kid"]] = SigningKey(public_key, list(endorsements) if isinstance(endorsements, list) else [])
    if not keys:
        raise ValueError("no usable RSA keys")
    return keys
