"""Translate what msgraph-sdk, kiota, httpx and azure-identity raise into graph.errors (which the outbox reads).

429 / 503 / 504 → GraphThrottled with the Retry-After the service sent; 500 / 502 / timeouts / network errors →
GraphThrottled without one (the outbox backs off); 401 or a failed sign-in → GraphAuthError with one plain
sentence; 404 → GraphNotFound; 409 → GraphConflict; any other 4xx → GraphRequestError.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Awaitable, Mapping
from typing import TypeVar

import httpx
from azure.core.exceptions import ClientAuthenticationError
from kiota_abstractions.api_error import APIError

from graph.errors import (
    DELTA_RESET_CODES,
    GraphAuthError,
    GraphConflict,
    GraphDeltaExpired,
    GraphError,
    GraphNotFound,
    GraphRequestError,
    GraphThrottled,
)

T = TypeVar("T")
THROTTLE_STATUSES = {429, 503, 504}
TRANSIENT_STATUSES = {500, 502, 423}

# AADSTS codes an administrator can act on, in plain words.
_AADSTS = {
    "7000215": "the client secret is wrong: check GRAPH_CLIENT_SECRET (use the secret's value, not its id)",
    "7000222": "the client secret has expired: create a new one on the app registration and set GRAPH_CLIENT_SECRET",
    "700016": "no application with GRAPH_CLIENT_ID exists in this tenant (or it is not consented there)",
    "90002": "the tenant in GRAPH_TENANT_ID does not exist",
    "900023": "GRAPH_TENANT_ID is not a valid tenant id or domain",
    "700027": "the certificate is not registered on the app registration, or has expired (GRAPH_CERTIFICATE_PATH)",
    "700024": "the client assertion is outside its valid time range: check this machine's clock",
    "7000112": "the application is disabled in this tenant",
    "50034": "the account does not exist in this tenant",
}


def auth_error(exc: BaseException) -> GraphAuthError:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if type(exc).__name__ == "CredentialUnavailableError":
        return GraphAuthError(
            "Microsoft Graph sign-in failed: no managed identity is available on this host "
            "(GRAPH_USE_MANAGED_IDENTITY=true needs an Azure host with an identity assigned)"
        )
    m = re.search(r"AADSTS(\d+)", text)
    if m and m.group(1) in _AADSTS:
        return GraphAuthError(f"Microsoft Graph sign-in failed (AADSTS{m.group(1)}): {_AADSTS[m.group(1)]}")
    first = text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
    return GraphAuthError(f"Microsoft Graph sign-in failed: {first}")


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not headers:
        return None
    value = None
    for k, v in headers.items():
        if k.lower() == "retry-after":
            value = v[0] if isinstance(v, (list, tuple)) else v
            break
    if value is None:
        return None
    value = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def from_status(
    status: int | None, headers: Mapping[str, str] | None, code: str | None, message: str | None, what: str
) -> GraphError:
    detail = f"{status} {code or ''}".strip() + (f": {message}" if message else "")
    if status in THROTTLE_STATUSES:
        return GraphThrottled(retry_after_seconds(headers), f"{what}: Microsoft Graph answered {detail}", status=status)
    if status in TRANSIENT_STATUSES or (status is not None and status >= 500):
        return GraphThrottled(None, f"{what}: Microsoft Graph answered {detail}", status=status)
    if status == 401:
        return GraphAuthError(
            f"Microsoft Graph rejected the app's token ({detail}): check the app registration "
            "and that admin consent was granted"
        )
    if status == 403:
        return GraphRequestError(
            f"{what}: Microsoft Graph refused access ({detail}). The app lacks a permission "
            "or the target is outside its scope: see infra/PERMISSIONS.md",
            status=status,
            code=code,
        )
    if status == 410 or code in DELTA_RESET_CODES:
        return GraphDeltaExpired(f"{what}: the delta link has expired ({detail})", status=status, code=code)
    if status == 404:
        return GraphNotFound(f"{what}: not found ({detail})", status=status, code=code)
    if status == 409:
        return GraphConflict(f"{what}: conflict ({detail})", status=status, code=code)
    return GraphRequestError(f"{what}: Microsoft Graph refused the request ({detail})", status=status, code=code)


def odata_code_message(exc: APIError) -> tuple[str | None, str | None]:
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    message = getattr(err, "message", None) or getattr(exc, "message", None)
    return code, message


def translate(exc: BaseException, what: str) -> BaseException:
    if isinstance(exc, GraphError):
        return exc
    if isinstance(exc, ClientAuthenticationError):  # includes CredentialUnavailableError
        return auth_error(exc)
    if isinstance(exc, APIError):
        code, message = odata_code_message(exc)
        return from_status(exc.response_status_code, exc.response_headers, code, message, what)
    if isinstance(exc, httpx.TimeoutException):
        return GraphThrottled(None, f"{what}: Microsoft Graph did not answer in time")
    if isinstance(exc, httpx.TransportError):
        return GraphThrottled(None, f"{what}: cannot reach Microsoft Graph ({type(exc).__name__})")
    return exc


async def call(awaitable: Awaitable[T], what: str) -> T:
    """Await an SDK call; anything it raises comes out as a graph.errors exception with a plain message."""
    try:
        return await awaitable
    except Exception as exc:  # noqa: BLE001 - translated, not swallowed
        translated = translate(exc, what)
        if translated is exc:
            raise
        raise translated from None
