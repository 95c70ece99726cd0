"""Microsoft Graph settings (GRAPH_* environment variables or .env), and the mode they select.

No credential setting at all → the local backend. A complete set → msgraph. Anything in between stops start-up
with a message naming what is missing (`GraphSettings.mode()` raises GraphConfigError).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import GraphConfigError

CHUNK_UNIT = 320 * 1024  # upload-session chunks must be multiples of 320 KiB
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class GraphSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRAPH_", env_file=".env", extra="ignore")

    tenant_id: str = ""
    client_id: str = ""
    client_secret: SecretStr | None = None
    certificate_path: Path | None = None
    certificate_password: SecretStr | None = None
    use_managed_identity: bool = False
    # Root of the Graph service; tests point it at the Graph double on 127.0.0.1. "/v1.0" is appended.
    base_url: str = "https://graph.microsoft.com"
    team_id: str = ""  # falls back to school.safeguarding_channel.team_id
    safeguarding_channel_id: str = ""  # falls back to school.safeguarding_channel.channel_id
    teams_app_id: str = ""  # the app's id in the tenant's Teams app catalog (for installs)
    # Optional: the channel folder's drive id and item id, found once by an admin. With them the bot never calls
    # GET /teams/{t}/channels/{c}/filesFolder, whose permissions Sites.Selected does not cover (PERMISSIONS.md).
    channel_drive_id: str = ""
    channel_folder_id: str = ""
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    # msgraph-sdk's own retry handler (JSON requests only; it never retries uploads or $batch sub-requests).
    # Kept low: the outbox does the patient retrying, with Retry-After, without holding a connection.
    sdk_max_retries: int = Field(1, ge=0, le=10)
    simple_upload_max_bytes: int = Field(4 * 1024 * 1024, ge=1, le=250 * 1024 * 1024)
    upload_chunk_bytes: int = Field(10 * CHUNK_UNIT, ge=CHUNK_UNIT, le=60 * 1024 * 1024)
    # Sharing a 1:1 record: Graph emails the supervisee only if this is true (the bot tells them in Teams anyway).
    share_send_invitation: bool = False

    @field_validator("upload_chunk_bytes")
    @classmethod
    def _chunk_multiple(cls, v: int) -> int:
        if v % CHUNK_UNIT:
            raise ValueError(f"must be a multiple of 320 KiB ({CHUNK_UNIT} bytes)")
        return v

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        v = v.rstrip("/")
        if v.endswith("/v1.0"):
            v = v[: -len("/v1.0")]
        u = urlparse(v)
        if u.scheme not in ("https", "http") or not u.hostname:
            raise ValueError("must be an absolute URL such as https://graph.microsoft.com")
        if u.scheme == "http" and not _loopback(u.hostname):
            raise ValueError("must use https (plain http is accepted only for a loopback test double)")
        return v

    # ------------------------------------------------------------ mode

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/v1.0"

    def credential_kind(self) -> Literal["secret", "certificate", "managed_identity"] | None:
        if self.use_managed_identity:
            return "managed_identity"
        if self.certificate_path is not None:
            return "certificate"
        if self.client_secret is not None and self.client_secret.get_secret_value():
            return "secret"
        return None

    def configured(self) -> bool:
        """Any credential-related setting present means "use Microsoft Graph"."""
        return bool(
            self.tenant_id
            or self.client_id
            or self.use_managed_identity
            or self.certificate_path
            or (self.client_secret is not None and self.client_secret.get_secret_value())
        )

    def mode(self, *, team_id: str | None = None, channel_id: str | None = None) -> Literal["local", "msgraph"]:
        """ "local" or "msgraph"; GraphConfigError naming every missing setting when half-configured.

        team_id / channel_id: the school config's values, used when GRAPH_TEAM_ID /
        GRAPH_SAFEGUARDING_CHANNEL_ID are not set.
        """
        if not self.configured():
            return "local"
        problems: list[str] = []
        has_secret = self.client_secret is not None and bool(self.client_secret.get_secret_value())
        chosen = [
            name
            for name, on in (
                ("GRAPH_CLIENT_SECRET", has_secret),
                ("GRAPH_CERTIFICATE_PATH", self.certificate_path is not None),
                ("GRAPH_USE_MANAGED_IDENTITY", self.use_managed_identity),
            )
            if on
        ]
        if not chosen:
            problems.append(
                "a credential: set GRAPH_CLIENT_SECRET, GRAPH_CERTIFICATE_PATH or GRAPH_USE_MANAGED_IDENTITY=true"
            )
        elif len(chosen) > 1:
            problems.append(f"exactly one credential, but {' and '.join(chosen)} are all set")
        if (has_secret or self.certificate_path is not None) and not self.use_managed_identity:
            if not self.tenant_id:
                problems.append("GRAPH_TENANT_ID (the directory (tenant) id)")
            if not self.client_id:
                problems.append("GRAPH_CLIENT_ID (the application (client) id)")
        if self.certificate_path is not None and not self.certificate_path.is_file():
            problems.append(f"GRAPH_CERTIFICATE_PATH points to {self.certificate_path}, which does not exist")
        if bool(self.channel_drive_id) != bool(self.channel_folder_id):
            problems.append("both GRAPH_CHANNEL_DRIVE_ID and GRAPH_CHANNEL_FOLDER_ID, or neither")
        elif not self.channel_drive_id:
            if not (self.team_id or team_id):
                problems.append("GRAPH_TEAM_ID (or school.safeguarding_channel.team_id)")
            if not (self.safeguarding_channel_id or channel_id):
                problems.append("GRAPH_SAFEGUARDING_CHANNEL_ID (or school.safeguarding_channel.channel_id)")
        if not self.teams_app_id:
            problems.append("GRAPH_TEAMS_APP_ID (the app's id in the Teams app catalog, for installing it)")
        if problems:
            raise GraphConfigError(
                "Microsoft Graph is partly configured; missing or wrong: "
                + "; ".join(problems)
                + ". Unset every GRAPH_* credential setting to run with the local backend."
            )
        return "msgraph"


def load_graph_settings(**overrides) -> GraphSettings:
    """Read GRAPH_* settings; a malformed value becomes one GraphConfigError naming the setting."""
    try:
        return GraphSettings(**overrides)
    except ValidationError as exc:
        parts = [f"GRAPH_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()]
        raise GraphConfigError("invalid Microsoft Graph settings — " + "; ".join(parts)) from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
