"""The Agents Toolkit project files: valid for the toolkit (its own YAML schema, shipped in the pinned CLI), every
`${{VAR}}` they use has a source, the files they point at exist, and what they write for the bot is what the bot
reads."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.apppackage import PLACEHOLDER, read_env_file
from bot.envnames import bot_env_names
from tests.conftest import ROOT
from tests.infra.conftest import need_tool

FILES = {"m365agents.yml": "dev", "m365agents.local.yml": "local"}
SCHEMAS = (
    ROOT / "infra" / "toolkit" / "node_modules" / "@microsoft" / "m365agentstoolkit-cli" / "resource" / "yaml-schema"
)
# Set by the toolkit itself, or asked for interactively when empty (its docs' "built-in environment variables").
BUILT_IN = {"TEAMSFX_ENV", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP_NAME"}


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def bicep_outputs() -> set[str]:
    return set(re.findall(r"^output (\w+) ", (ROOT / "infra" / "azure.bicep").read_text(), re.M))


@pytest.mark.parametrize("name", FILES)
def test_project_file_validates_against_the_toolkits_schema(name):
    doc = load(name)
    schema_path = SCHEMAS / doc["version"] / "yaml.schema.json"
    need_tool(SCHEMAS, "the Agents Toolkit CLI's YAML schemas")
    assert schema_path.is_file(), f"the pinned toolkit has no schema for version {doc['version']}"
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}"
        for e in Draft7Validator(json.loads(schema_path.read_text())).iter_errors(doc)
    ]
    assert errors == []


@pytest.mark.parametrize("name,env", FILES.items())
def test_every_variable_has_a_source(name, env):
    """Defined in env/.env.<env>, written by an earlier step, a Bicep output (arm/deploy writes those), a secret
    from the git-ignored .user file, or a toolkit built-in — never a typo that the toolkit would leave empty."""
    doc = load(name)
    known = set(read_env_file(ROOT / "env" / f".env.{env}")) | BUILT_IN
    for stage in ("provision", "deploy", "publish"):
        for step in doc.get(stage) or []:
            used = set(PLACEHOLDER.findall(json.dumps(step.get("with", {}))))
            missing = {v for v in used - known if not v.startswith("SECRET_")}
            assert not missing, f"{name} {stage} {step['uses']}: no source for {sorted(missing)}"
            known |= set((step.get("writeToEnvironmentFile") or {}).values())
            if step["uses"] == "arm/deploy":
                known |= bicep_outputs()


def test_the_parameters_file_uses_only_variables_with_a_source():
    params = (ROOT / "infra" / "azure.parameters.json").read_text()
    provision = load("m365agents.yml")["provision"]
    before_arm = set()
    for step in provision:
        if step["uses"] == "arm/deploy":
            break
        before_arm |= set((step.get("writeToEnvironmentFile") or {}).values())
    known = set(read_env_file(ROOT / "env" / ".env.dev")) | before_arm | BUILT_IN
    missing = {v for v in PLACEHOLDER.findall(params) if v not in known and not v.startswith("SECRET_")}
    # Filled in by hand (DEPLOY.md) once the app is published and the channel exists; empty is allowed by the Bicep.
    assert missing <= {
        "TEAMS_APP_PUBLISHED_APP_ID",
        "SAFEGUARDING_TEAM_ID",
        "SAFEGUARDING_CHANNEL_ID",
        "CHANNEL_DRIVE_ID",
        "CHANNEL_FOLDER_ID",
    }, missing


@pytest.mark.parametrize("name", FILES)
def test_paths_exist_and_the_package_lands_where_the_builder_puts_it(name):
    text = (ROOT / name).read_text()
    for path in re.findall(r"(?:path|manifestPath|parameters|ignoreFile): (\./[^\s]+)", text):
        assert (ROOT / path).exists(), f"{name} points at {path}, which does not exist"
    assert "outputZipPath: ./appPackage/build/appPackage.${{TEAMSFX_ENV}}.zip" in text
    assert "run: python -m bot.apppackage ${{TEAMSFX_ENV}}" in text


def test_local_deploy_writes_the_settings_the_bot_reads():
    deploy = load("m365agents.local.yml")["deploy"]
    step = next(s for s in deploy if s["uses"] == "file/createOrUpdateEnvironmentFile")
    assert step["with"]["target"] == "./.env"  # bot/settings.py reads .env
    written = set(step["with"]["envs"])
    assert written <= set(bot_env_names()), written - set(bot_env_names())
    assert {"MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId"} == written
    assert step["with"]["envs"]["MicrosoftAppType"] == "SingleTenant"


def test_the_bot_app_registration_is_single_tenant():
    for name in FILES:
        create = next(s for s in load(name)["provision"] if s["uses"] == "aadApp/create")
        assert create["with"]["signInAudience"] == "AzureADMyOrg", name
