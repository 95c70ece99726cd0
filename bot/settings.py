"""One typed Settings object, read from the environment and `.env`, validated at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import GraphConfigError
from graph.settings import GraphSettings, load_graph_settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHOOL = ROOT / "infra" / "demo" / "school.yaml"


class SettingsError(Exception):
    """Settings that stop start-up; the message names the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    port: int = Field(3978, alias="PORT", ge=1, le=65535)
    host: str = Field("127.0.0.1", alias="HOST")
    database_url: str = Field(f"sqlite+aiosqlite:///{ROOT / 'data' / 'supervision.sqlite3'}", alias="DATABASE_URL")
    app_id: str = Field("", alias="MicrosoftAppId")
    app_password: str = Field("", alias="MicrosoftAppPassword")
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field("MultiTenant", alias="MicrosoftAppType")
    app_tenant_id: str = Field("", alias="MicrosoftAppTenantId")
    # Where Bot Framework publishes the keys that sign incoming requests, and where the bot gets its own tokens
    # (the authority prefix; the tenant — botframework.com, or MicrosoftAppTenantId for SingleTenant — is added).
    # Empty = the public cloud's endpoints (botbuilder's constants). Named as in Azure Bot Service's host settings;
    # the tests point them at local doubles.
    openid_metadata_url: str = Field("", alias="ToBotFromChannelOpenIdMetadataUrl")
    emulator_openid_metadata_url: str = Field("", alias="ToBotFromEmulatorOpenIdMetadataUrl")
    login_url: str = Field("", alias="ToChannelFromBotLoginUrl")
    # The dashboard tab (bot/dashboard): Teams SSO tokens are checked against this audience — the manifest's
    # webApplicationInfo.resource, the Application ID URI `api://<bot host>/botid-<MicrosoftAppId>` — and the
    # tenant's Entra OpenID metadata (empty: the public cloud's, for MicrosoftAppTenantId). TEAMS_APP_ID is the
    # manifest's id, for the deep link to the tab from the DSL's cards.
    dashboard_sso_resource: str = Field("", alias="DASHBOARD_SSO_RESOURCE", max_length=300)
    dashboard_openid_metadata_url: str = Field("", alias="DASHBOARD_OPENID_METADATA_URL")
    teams_app_id: str = Field("", alias="TEAMS_APP_ID", max_length=64)
    school_config: Path = Field(DEFAULT_SCHOOL, alias="SCHOOL_CONFIG")
    # Where the local Microsoft 365 backend keeps channel files, calendars (.ics) and OneDrive stand-ins.
    local_m365_dir: Path = Field(ROOT / "data" / "m365", alias="LOCAL_M365_DIR")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    # This instance's name for the reminder claims it holds: stable across restarts (so it recovers its own
    # in-doubt sends at once) and different for each instance sharing one PostgreSQL. Default: host and port.
    instance_id: str = Field("", alias="INSTANCE_ID", max_length=80)
    # Run background workers (outbox delivery, scheduler). Tests of a single turn switch them off.
    workers: bool = Field(True, alias="WORKERS")
    # Microsoft Graph (GRAPH_* variables, graph/settings.py). Read with the rest at start-up, so create_app reads
    # nothing from the environment; unset → the local Microsoft 365 backend.
    graph: GraphSettings = Field(default_factory=lambda: GraphSettings(_env_file=None))
    # Local mode only: the bot's clock starts at this school-time moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM) and runs
    # on (bot/democlock.py), to see a half term's reminders without waiting. Refused with bot credentials.
    demo_today: str | None = Field(None, alias="DEMO_TODAY")
    # Local mode only: where in-doubt Teams sends are looked up before they are sent again (a chat history in Graph's
    # `GET /v1.0/chats/{id}/messages` shape; bot/outbox/indoubt.py). Unset: an in-doubt send goes again.
    teams_history_url: str = Field("", alias="TEAMS_HISTORY_URL", max_length=300)
    # How many /api/messages requests one instance reads and processes at once; the rest wait unread
    # (bot/teams/adapter.py). Bounds memory under a burst (a staff meeting submitting together).
    turns_in_flight: int = Field(24, alias="TURNS_IN_FLIGHT", ge=1, le=1000)

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, v: str) -> str:
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v

    @field_validator(
        "openid_metadata_url", "emulator_openid_metadata_url", "login_url", "dashboard_openid_metadata_url"
    )
    @classmethod
    def _https_unless_loopback(cls, v: str) -> str:
        # Signing keys and tokens fetched over plain HTTP could be swapped in transit: https, or a local double.
        if not v:
            return v
        url = urlsplit(v)
        if url.scheme == "https" and url.hostname:
            return v
        if url.scheme == "http" and url.hostname and _is_loopback(url.hostname):
            return v
        raise ValueError("must be an https:// URL (http:// only on a loopback address)")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v):
        return v.upper() if isinstance(v, str) else v

    @field_validator("demo_today", mode="before")
    @classmethod
    def _demo_today(cls, v):
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        from bot.democlock import parse_moment

        parse_moment(str(v))
        return str(v).strip()

    @field_validator("school_config")
    @classmethod
    def _school_exists(cls, v: Path) -> Path:
        if not v.is_file():
            raise ValueError(f"no such file: {v}")
        return v

    @model_validator(mode="after")
    def _credentials_complete(self) -> Settings:
        if self.app_password and not self.app_id:
            raise ValueError("MicrosoftAppPassword is set but MicrosoftAppId is not")
        if self.app_type == "SingleTenant" and self.app_id and not self.app_tenant_id:
            raise ValueError("MicrosoftAppTenantId is required when MicrosoftAppType is SingleTenant")
        resource = self.dashboard_sso_resource
        if resource and not (resource.startswith("api://") and self.app_id and resource.endswith(self.app_id)):
            raise ValueError(
                "DASHBOARD_SSO_RESOURCE must be the manifest's webApplicationInfo.resource, "
                "api://<bot host>/botid-<MicrosoftAppId>"
            )
        return self

    @property
    def local_mode(self) -> bool:
        """No bot credentials: anonymous calls from the Playground are accepted (loopback only)."""
        return not self.app_id

    def host_is_loopback(self) -> bool:
        return _is_loopback(self.host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides) -> Settings:
    """Build settings, turning pydantic's errors into one message that names each bad setting.

    `graph=` takes a ready GraphSettings (tests); otherwise GRAPH_* come from the environment and `.env`."""
    if "graph" not in overrides:
        try:
            overrides["graph"] = load_graph_settings()
        except GraphConfigError as exc:
            raise SettingsError(f"Microsoft Graph settings: {exc}") from None
    try:
        s = Settings(**overrides)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            parts.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid settings — " + "; ".join(parts)) from None
    if s.demo_today and not s.local_mode:
        raise SettingsError(
            "DEMO_TODAY is set, but so is MicrosoftAppId: the demo clock is for local mode only "
            "(scripts/run.sh --today); unset DEMO_TODAY to serve with bot credentials."
        )
    if s.teams_history_url and not s.local_mode:
        raise SettingsError(
            "TEAMS_HISTORY_URL is set, but so is MicrosoftAppId: it is a local stand-in for reading a chat back "
            "(with bot credentials the msgraph backend reads it through Microsoft Graph); unset it to serve."
        )
    if s.local_mode and not s.host_is_loopback():
        raise SettingsError(
            f"HOST={s.host} is not a loopback address, and MicrosoftAppId is not set. Without bot credentials the "
            "bot accepts unauthenticated calls (for the local Playground), so it only listens on 127.0.0.1/localhost. "
            "Set MicrosoftAppId/MicrosoftAppPassword to serve on other addresses."
        )
    if not s.host_is_loopback() and not s.app_password and s.app_type != "UserAssignedMSI":
        # Calls in are checked with the app id alone, but every reply and proactive message needs a token: a
        # public bot without its secret would start, accept turns and fail every send.
        raise SettingsError(
            f"HOST={s.host} is not a loopback address and MicrosoftAppPassword is not set: the bot could not answer "
            f"anyone (MicrosoftAppType={s.app_type} signs its replies with the app's secret). Set "
            "MicrosoftAppPassword, or MicrosoftAppType=UserAssignedMSI with the managed identity's client id."
        )
    return s
