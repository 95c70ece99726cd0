"""Local doubles for the two identity services a credentialed bot talks to, on 127.0.0.1 only:

- `BotFrameworkKeysDouble` — Bot Framework's OpenID metadata document and JWKS (plain HTTP), with a local RSA key
  that `sign()` uses to mint channel tokens shaped like the Bot Connector's (iss https://api.botframework.com,
  aud = the bot's app id, serviceurl, nbf/exp; the key endorses "msteams").
- `TokenEndpointDouble` — an Entra ID authority over HTTPS (MSAL refuses plain HTTP) with a self-signed
  certificate for 127.0.0.1: the tenant's OpenID configuration and the client-credentials token endpoint. It
  records each grant and the token it issued, so a test can follow the token to the connector double.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def _serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


@dataclass
class BotFrameworkKeysDouble:
    kid: str = "test-key-1"
    endorsements: list[str] = field(default_factory=lambda: ["msteams"])
    down: bool = False  # answer 503 to everything
    hold: asyncio.Event | None = None  # when set to an Event, metadata requests wait for it
    requests: list[str] = field(default_factory=list)
    port: int = 0
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/v1/.well-known/openidconfiguration"

    @property
    def emulator_metadata_url(self) -> str:
        return f"{self.base}/emulator/v2.0/.well-known/openid-configuration"

    async def start(self) -> BotFrameworkKeysDouble:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/emulator/v2.0/.well-known/openid-configuration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        self._runner, self.port = await _serve(app)
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.hold is not None:
            await self.hold.wait()
        if self.down:
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": f"{self.base}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.down:
            return web.json_response({"error": "unavailable"}, status=503)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": self.endorsements})
        return web.json_response({"keys": [jwk]})

    def sign(
        self,
        *,
        app_id: str,
        service_url: str,
        key: rsa.RSAPrivateKey | None = None,
        headers: dict | None = None,
        **claims,
    ) -> str:
        """A channel token as the Bot Connector would send it; keyword claims override (None drops one)."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": app_id, "serviceurl": service_url, "nbf": now - 60, "exp": now + 3600}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": self.kid, **(headers or {})})


def unsigned_token(**claims) -> str:
    """A JWT with `alg: none` (no signature) — what a forger would send."""
    return jwt.encode(claims, None, algorithm="none")


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = new_rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "token-double.crt", tmp / "token-double.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Grant:
    tenant: str
    form: dict
    token: str


class TokenEndpointDouble:
    """`login_url` is what ToChannelFromBotLoginUrl takes; `ca_file` is what the client must trust."""

    def __init__(self, tmp: Path):
        self.cert_path, self.key_path = _self_signed(tmp)
        self.grants: list[Grant] = []
        self.status = 200  # 401 → invalid_client; 503 → outage
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def login_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def ca_file(self) -> str:
        return str(self.cert_path)

    async def start(self) -> TokenEndpointDouble:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._configuration)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self._runner, self.port = await _serve(app, ctx)
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _configuration(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        base = f"https://127.0.0.1:{self.port}/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        if self.status == 503:
            # Retry-After: 0 — MSAL otherwise throttles the same request for 5 s after a 5xx (by design).
            return web.json_response({"error": "temporarily_unavailable"}, status=503, headers={"Retry-After": "0"})
        form = dict(await request.post())
        if self.status == 401:
            return web.json_response({"error": "invalid_client", "error_description": "bad secret"}, status=401)
        token = f"bf-token-{uuid.uuid4().hex}"
        self.grants.append(Grant(request.match_info["tenant"], form, token))
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": token}
        )
