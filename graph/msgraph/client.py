"""Credentials (azure-identity) and the msgraph-sdk client, built from GraphSettings.

The credential objects cache tokens in memory and refresh them before expiry, so one credential per process
means one token request per hour, not one per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import httpx
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from kiota_http.middleware.options import RetryHandlerOption, UrlReplaceHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph_core import APIVersion, GraphClientFactory
from msgraph_core.middleware.options import GraphTelemetryHandlerOption

from graph.errors import GraphConfigError
from graph.settings import GRAPH_SCOPE, GraphSettings, _loopback


def build_credential(settings: GraphSettings):
    """The async azure-identity credential the settings ask for: client secret, certificate or managed identity."""
    from azure.identity.aio import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    kind = settings.credential_kind()
    if kind == "managed_identity":
        # A user-assigned identity is chosen by its client id; without one, the system-assigned identity.
        return ManagedIdentityCredential(client_id=settings.client_id or None)
    if kind == "certificate":
        password = settings.certificate_password.get_secret_value().encode() if settings.certificate_password else None
        try:
            return CertificateCredential(
                settings.tenant_id,
                settings.client_id,
                certificate_path=str(settings.certificate_path),
                password=password,
            )
        except (ValueError, OSError) as exc:
            raise GraphConfigError(
                f"GRAPH_CERTIFICATE_PATH: cannot load the certificate {settings.certificate_path}: {exc}"
            ) from None
    if kind == "secret":
        return ClientSecretCredential(settings.tenant_id, settings.client_id, settings.client_secret.get_secret_value())  # type: ignore[union-attr]
    raise GraphConfigError("no Microsoft Graph credential is configured")


@dataclass
class GraphClients:
    """The SDK client plus a plain HTTP client for pre-authenticated upload-session URLs."""

    graph: GraphServiceClient
    adapter: GraphRequestAdapter
    http: httpx.AsyncClient  # carries the SDK middleware (retry, redirect, telemetry)
    uploads: httpx.AsyncClient  # no auth, no middleware: upload URLs must not get an Authorization header
    api_root: str

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.uploads.aclose()


def build_clients(settings: GraphSettings, credential) -> GraphClients:
    host = urlparse(settings.base_url).hostname or ""
    # A loopback base URL is the Graph double: never let a proxy from the environment see that traffic.
    trust_env = not _loopback(host)
    timeout = httpx.Timeout(settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds))
    options = {
        RetryHandlerOption.get_key(): RetryHandlerOption(
            max_retries=settings.sdk_max_retries, should_retry=settings.sdk_max_retries > 0
        ),
        UrlReplaceHandlerOption.get_key(): UrlReplaceHandlerOption(
            enabled=True, replacement_pairs={"/users/me-token-to-replace": "/me"}
        ),
        GraphTelemetryHandlerOption.get_key(): GraphTelemetryHandlerOption(api_version=APIVersion.v1),
    }
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(timeout=timeout, trust_env=trust_env), options=options
    )
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE], allowed_hosts=[host])
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = settings.api_root
    uploads = httpx.AsyncClient(timeout=httpx.Timeout(max(60.0, settings.timeout_seconds)), trust_env=trust_env)
    return GraphClients(
        graph=GraphServiceClient(request_adapter=adapter),
        adapter=adapter,
        http=http,
        uploads=uploads,
        api_root=settings.api_root,
    )
