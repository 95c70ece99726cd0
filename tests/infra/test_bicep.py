"""infra/azure.bicep: parsed with pycep-parser, scanned with checkov (both offline, in .venv-infra), and its App
Service settings are exactly what the bot reads (names computed from the pydantic settings models)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.envnames import bot_env_names, env_names
from tests.conftest import ROOT
from tests.infra.conftest import need_tool

BICEP = ROOT / "infra" / "azure.bicep"
PARAMETERS = ROOT / "infra" / "azure.parameters.json"
INFRA_PY = ROOT / ".venv-infra" / "bin" / "python"
CHECKOV = ROOT / ".venv-infra" / "bin" / "checkov"

# Read by the platform (App Service itself, or glibc as the process starts), not by the bot.
PLATFORM = {
    "WEBSITES_PORT": "the port App Service forwards to (the bot's PORT)",
    "SCM_DO_BUILD_DURING_DEPLOYMENT": "zip deploy installs requirements.txt",
    "WEBSITES_ENABLE_APP_SERVICE_STORAGE": "persistent /home, where the school YAML lives",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "App Service's Application Insights agent",
    "MALLOC_ARENA_MAX": "read by glibc at start-up: two malloc arenas keep the peak RSS lower (bench/README.md)",
}
# Settings the bot reads that production leaves at their defaults, each with the reason.
NOT_IN_BICEP = {
    "LOCAL_M365_DIR": "the local Microsoft 365 backend is not used: GRAPH_* selects msgraph",
    "DEMO_TODAY": "local mode only: the bot refuses to start with it when bot credentials are set",
    "TEAMS_HISTORY_URL": "local mode only (the in-doubt look-up's stand-in): refused with bot credentials",
    "TURNS_IN_FLIGHT": "the default (24) suits one App Service instance",
    "ToBotFromChannelOpenIdMetadataUrl": "the public cloud's Bot Framework endpoint is the default",
    "ToBotFromEmulatorOpenIdMetadataUrl": "the public cloud's default; Emulator tokens are refused anyway",
    "ToChannelFromBotLoginUrl": "the public cloud's Entra authority is the default",
    "DASHBOARD_OPENID_METADATA_URL": "the public cloud's Entra metadata for MicrosoftAppTenantId is the default",
    "INSTANCE_ID": "the default (host name + port) already differs per App Service instance",
    "GRAPH_CLIENT_ID": "a system-assigned managed identity needs no client id",
    "GRAPH_CLIENT_SECRET": "the managed identity signs in to Graph; no secret to expire",
    "GRAPH_CERTIFICATE_PATH": "the managed identity signs in to Graph; no certificate",
    "GRAPH_CERTIFICATE_PASSWORD": "the managed identity signs in to Graph; no certificate",
    "GRAPH_BASE_URL": "tests only (the Graph double); production uses graph.microsoft.com",
    "GRAPH_TIMEOUT_SECONDS": "the default is the production value",
    "GRAPH_SDK_MAX_RETRIES": "the default is the production value (the outbox retries)",
    "GRAPH_SIMPLE_UPLOAD_MAX_BYTES": "the default is Graph's own limit",
    "GRAPH_UPLOAD_CHUNK_BYTES": "the default is the production value",
    "GRAPH_SHARE_SEND_INVITATION": "off on purpose: the bot tells the supervisee in Teams",
}


@pytest.fixture(scope="module")
def bicep() -> dict:
    """The template as pycep-parser's JSON (run in .venv-infra, where pycep lives)."""
    need_tool(INFRA_PY, "the infra venv (pycep-parser, checkov)")
    code = (
        "import json, sys, pathlib; from pycep import BicepParser; "
        "json.dump(BicepParser().parse(file_path=pathlib.Path(sys.argv[1])), sys.stdout, default=str)"
    )
    out = subprocess.run([str(INFRA_PY), "-c", code, str(BICEP)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def app_settings(bicep: dict) -> dict[str, str]:
    assert bicep["resources"]["app"]["type"] == "Microsoft.Web/sites"
    site = bicep["resources"]["app"]["config"]
    return {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}


def test_the_template_parses_and_declares_what_the_issue_asks_for(bicep):
    types = {r["type"] for r in bicep["resources"].values()}
    assert {
        "Microsoft.BotService/botServices",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Insights/components",
    } <= types
    bot = bicep["resources"]["bot"]["config"]["properties"]
    assert bot["msaAppType"] == "SingleTenant"
    app = bicep["resources"]["app"]["config"]
    assert app["identity"]["type"] == "SystemAssigned"
    assert app["properties"]["httpsOnly"] is True
    site = app["properties"]["siteConfig"]
    assert site["linuxFxVersion"] == "PYTHON|3.11"
    assert site["appCommandLine"] == "python -m bot"
    assert site["minTlsVersion"] == "1.2" and site["ftpsState"] == "Disabled"
    assert bicep["resources"]["db"]["config"]["properties"]["network"]["delegatedSubnetResourceId"]


def test_app_settings_are_exactly_what_the_bot_reads(bicep):
    names = set(app_settings(bicep))
    read = set(bot_env_names())
    unknown = names - read - set(PLATFORM)
    assert not unknown, f"App Service settings the bot never reads (typo?): {sorted(unknown)}"
    undecided = read - names - set(NOT_IN_BICEP)
    assert not undecided, f"settings the bot reads that the Bicep neither sets nor explains: {sorted(undecided)}"
    assert not (names & set(NOT_IN_BICEP)), "a setting is both set and explained away"
    assert set(PLATFORM) <= names


def test_secrets_are_key_vault_references_never_values(bicep):
    s = app_settings(bicep)
    for name in ("DATABASE_URL", "MicrosoftAppPassword"):
        assert s[name].startswith("@Microsoft.KeyVault(SecretUri="), name
    params = bicep["parameters"]
    for name in ("botAppPassword", "dbAdminPassword"):
        assert {"type": "secure"} in params[name]["decorators"], f"{name} must be @secure()"
    assert s["MicrosoftAppType"] == "SingleTenant"
    assert s["GRAPH_USE_MANAGED_IDENTITY"] == "true"
    assert s["HOST"] == "0.0.0.0" and s["PORT"] == s["WEBSITES_PORT"]


def test_malloc_arena_max_is_the_same_wherever_the_bot_is_launched(bicep):
    """App Service, scripts/run.sh and the load bench (which measures the bot as deployed) start it alike."""
    value = app_settings(bicep)["MALLOC_ARENA_MAX"]
    assert value == "2"
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert re.findall(r"^[^#\n]*\bMALLOC_ARENA_MAX=(\S+)", run_sh, re.M) == [value]  # the bot's start line
    load = (ROOT / "bench" / "load.py").read_text()
    assert re.search(r'MALLOC_ARENA_MAX = "(\d+)"', load).group(1) == value


def test_the_parameters_file_matches_the_template(bicep):
    params = json.loads(PARAMETERS.read_text())["parameters"]
    declared = bicep["parameters"]
    assert set(params) <= set(declared), sorted(set(params) - set(declared))
    required = {n for n, d in declared.items() if d.get("default") is None}
    assert required <= set(params), f"required parameters missing from azure.parameters.json: {required - set(params)}"
    for name in ("botAppPassword", "dbAdminPassword"):
        assert params[name]["value"].startswith("${{SECRET_"), "secrets come from env/.env.<env>.user only"


def test_the_name_walk_follows_aliases_prefixes_and_nested_models():
    class Inner(BaseModel):
        depth: int = 1

    class Sub(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="SUB_")
        token: str = ""

    class Top(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="TOP_", env_nested_delimiter="__", populate_by_name=True)
        plain: str = ""
        named: str = Field("", alias="MyAlias")
        sub: Sub | None = None
        inner: Inner = Inner()

    assert env_names(Top) == ["TOP_PLAIN", "MyAlias", "SUB_TOKEN", "TOP_INNER__DEPTH"]
    names = bot_env_names()
    assert {"MicrosoftAppId", "GRAPH_TENANT_ID", "SCHOOL_CONFIG", "DATABASE_URL"} <= set(names)
    assert len(names) == len(set(names))


def test_checkov_finds_nothing_unexplained(tmp_path):
    """Offline (--skip-download, and without a network namespace where `unshare` works), checkov has no severity
    data, so the bar is stricter than "no high severity": no failed check at all; each skip carries its reason."""
    need_tool(CHECKOV, "checkov (in .venv-infra)")
    work = tmp_path / "bicep"
    work.mkdir()
    shutil.copy(BICEP, work / "azure.bicep")
    cmd = [str(CHECKOV), "-d", str(work), "--framework", "bicep", "--skip-download", "-o", "json"]
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-n", *cmd]
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(out.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"].get("failed_checks", [])]
    assert failed == [], f"checkov findings without a written reason: {failed}"
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] >= 20, "checkov scanned too little: did it parse the template?"
    for c in report["results"].get("skipped_checks", []):
        reason = (c["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) > 20, f"{c['check_id']} is skipped without a reason"
