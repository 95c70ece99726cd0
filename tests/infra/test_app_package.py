"""The Teams app package: built from appPackage/ + env/.env.<env>, valid against the official 1.29 schema, the
three files at the zip's root, icons as Teams wants them, and a command menu that matches the bot's router."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from bot import __version__
from bot.apppackage import (
    PackageError,
    build,
    command_problems,
    find_schema,
    icon_problems,
    load_env,
    permission_problems,
    render,
    schema_candidates,
    schema_problems,
    tab_problems,
)
from bot.apppackage.png import read_png, write_png
from bot.journeys import build_router
from bot.journeys.router import Router
from bot.scopes import GROUP_CHAT, NOT_IN_MENU, PERSONAL, SCOPES, TEAM, allowed_in
from tests.conftest import ROOT
from tests.infra.conftest import need_tool

SCHEMA = find_schema()
needs_schema = pytest.mark.skipif(
    SCHEMA is None,
    reason="the official manifest schema is not beside this checkout (looked in "
    + ", ".join(map(str, schema_candidates()))
    + ")",
)
# Commands whose answers carry record content or people's names: never offered to a group chat.
RECORD_CONTENT = {
    "record",
    "note",
    "actions",
    "myactions",
    "attendance",
    "agreement",
    "sessions",
    "requests",
    "pool",
    "specialist",
    "enrichment",
    "schedule",
}


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of appPackage/ and env/ to build in, so tests never write into the checkout."""
    shutil.copytree(ROOT / "appPackage", tmp_path / "appPackage", ignore=shutil.ignore_patterns("build"))
    shutil.copytree(ROOT / "env", tmp_path / "env", ignore=shutil.ignore_patterns("*.user"))
    return tmp_path


def built_manifest(project: Path, env: str = "local") -> dict:
    return build(env, root=project, schema=SCHEMA).manifest


# ------------------------------------------------------------------ schema and layout


@needs_schema
def test_the_local_package_builds_and_validates_against_the_official_schema(project):
    built = build("local", root=project, schema=SCHEMA, require_schema=True)
    assert built.schema == SCHEMA
    assert schema_problems(built.manifest, SCHEMA) == []
    assert built.zip_path == project / "appPackage" / "build" / "appPackage.local.zip"


@needs_schema
def test_the_schema_check_catches_a_bad_manifest():
    m = json.loads((ROOT / "appPackage" / "manifest.json").read_text())
    m["id"] = "not-a-guid"
    m["bots"][0]["scopes"].append("everywhere")
    problems = schema_problems(m, SCHEMA)
    assert any(p.startswith("schema: id:") for p in problems)
    assert any("bots/0/scopes" in p for p in problems)


def test_without_the_schema_the_build_says_it_skipped_the_check(project, monkeypatch):
    import bot.apppackage as pkg

    monkeypatch.setattr(pkg, "schema_candidates", lambda root=None: [project / "no-shared" / "schema.json"])
    built = build("local", root=project)
    assert built.schema is None
    assert any(n.startswith("schema check SKIPPED") for n in built.notes)
    with pytest.raises(PackageError, match="official schema was not found"):
        build("local", root=project, require_schema=True)


def test_zip_has_exactly_the_manifest_and_icons_at_its_root(project):
    built = build("local", root=project, schema=SCHEMA)
    with zipfile.ZipFile(built.zip_path) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        inside = json.loads(z.read("manifest.json"))
        assert z.read("color.png") == (project / "appPackage" / "color.png").read_bytes()
    assert inside == built.manifest
    assert "${{" not in json.dumps(inside)


def test_the_build_is_reproducible(project):
    first = build("local", root=project, schema=SCHEMA).zip_path.read_bytes()
    second = build("local", root=project, schema=SCHEMA).zip_path.read_bytes()
    assert first == second


# ------------------------------------------------------------------ placeholders and environments


def test_placeholders_are_filled_from_the_env_file(project):
    m = built_manifest(project)
    env = load_env("local", project / "env")
    assert m["id"] == env["TEAMS_APP_ID"]
    assert m["bots"][0]["botId"] == env["BOT_ID"]
    assert m["webApplicationInfo"] == {
        "id": env["BOT_ID"],
        "resource": f"api://{env['BOT_DOMAIN']}/botid-{env['BOT_ID']}",
    }
    assert m["validDomains"] == [env["BOT_DOMAIN"]]
    assert m["name"]["short"] == "Supervision" + env["APP_NAME_SUFFIX"]


def test_a_user_file_overrides_the_committed_one(project):
    (project / "env" / ".env.local.user").write_text("BOT_DOMAIN=bot.kestrelbrook.example\n")
    assert built_manifest(project)["validDomains"] == ["bot.kestrelbrook.example"]


def test_an_unprovisioned_environment_names_every_missing_value(project):
    with pytest.raises(PackageError) as exc:
        build("dev", root=project, schema=SCHEMA)
    for name in ("TEAMS_APP_ID", "BOT_ID", "BOT_DOMAIN", "PRIVACY_URL"):
        assert name in str(exc.value)
    assert not (project / "appPackage" / "build" / "appPackage.dev.zip").exists()


def test_an_unknown_environment_lists_the_known_ones(project):
    with pytest.raises(PackageError, match=r"environments: dev, local"):
        build("prod", root=project)


def test_a_value_that_would_break_the_json_is_refused():
    with pytest.raises(PackageError, match="BOT_DOMAIN contains a quote"):
        render('{"d": "${{BOT_DOMAIN}}"}', {"BOT_DOMAIN": 'x", "evil": "y'})


def test_an_empty_suffix_is_allowed_for_production():
    assert render('"Supervision${{APP_NAME_SUFFIX}}"', {"APP_NAME_SUFFIX": ""}) == '"Supervision"'


def test_user_files_are_ignored_by_git():
    out = subprocess.run(["git", "check-ignore", "-q", "env/.env.dev.user"], cwd=ROOT)
    assert out.returncode == 0, "env/.env.*.user must be git-ignored: it holds secrets"
    tracked = subprocess.run(["git", "ls-files", "env"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert sorted(tracked) == ["env/.env.dev", "env/.env.local"]


def test_manifest_version_is_the_bot_version():
    assert json.loads((ROOT / "appPackage" / "manifest.json").read_text())["version"] == __version__


# ------------------------------------------------------------------ what the manifest offers


def test_scopes_private_channels_and_the_one_resource_specific_consent(project):
    m = built_manifest(project)
    assert m["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    assert m["supportsChannelFeatures"] == "tier1"
    # Reading the channel back for the in-doubt check of its posts; nothing that reads chats (RSC_REASONS says why).
    assert m["authorization"] == {
        "permissions": {"resourceSpecific": [{"name": "ChannelMessage.Read.Group", "type": "Application"}]}
    }
    assert permission_problems(m) == []


def test_an_rsc_permission_without_a_reason_is_caught(project):
    m = built_manifest(project)
    m["authorization"]["permissions"]["resourceSpecific"].append(
        {"name": "ChatMessage.Read.Chat", "type": "Application"}
    )
    assert permission_problems(m) == [
        "authorization.permissions.resourceSpecific asks for 'ChatMessage.Read.Chat' with no reason in "
        "bot/apppackage RSC_REASONS"
    ]


def test_the_dashboard_is_a_personal_tab_on_the_bots_own_host_with_sso(project):
    (project / "env" / ".env.local.user").write_text("BOT_DOMAIN=bot.kestrelbrook.example\n")
    m = built_manifest(project)
    (tab,) = m["staticTabs"]
    assert tab["entityId"] == "dashboard" and tab["scopes"] == ["personal"]
    assert tab["contentUrl"] == "https://bot.kestrelbrook.example/dashboard"
    assert m["webApplicationInfo"]["resource"] == f"api://bot.kestrelbrook.example/botid-{m['bots'][0]['botId']}"
    assert tab_problems(m) == []


def test_a_tab_off_the_bots_host_or_without_sso_is_caught(project):
    m = built_manifest(project)
    wrong = json.loads(json.dumps(m))
    wrong["staticTabs"][0]["contentUrl"] = "http://elsewhere.example/dash"
    problems = tab_problems(wrong)
    assert any("https://<bot host>/dashboard" in p for p in problems)
    assert any("not in validDomains" in p for p in problems)
    assert any("webApplicationInfo.resource" in p for p in problems)
    del wrong["staticTabs"]
    assert tab_problems(wrong) == ["staticTabs: expected one tab with entityId 'dashboard', found 0"]
    wrong = json.loads(json.dumps(m))
    wrong["webApplicationInfo"]["id"] = "00000000-0000-0000-0000-000000000000"
    assert any("webApplicationInfo.id" in p for p in tab_problems(wrong))


def test_every_router_command_is_in_the_menu_of_each_scope_it_belongs_to(project):
    m = built_manifest(project)
    menus = {cl["scopes"][0]: [c["title"] for c in cl["commands"]] for cl in m["bots"][0]["commandLists"]}
    router = build_router()
    assert router.commands, "the router registers no command?"
    for cmd in router.commands:
        word = cmd.words[0]
        assert word in SCOPES, f"{word}: add it to bot/scopes.py"
        for scope in SCOPES[word]:
            if (word, scope) not in NOT_IN_MENU:
                assert word in menus[scope], f"{word} missing from the {scope} command list"
    listed = {w for words in menus.values() for w in words}
    assert listed <= {c.words[0] for c in router.commands}
    # Every command is offered somewhere, in a menu or (past Teams' 12) on the help card.
    assert {c.words[0] for c in router.commands} == listed | {w for w, _ in NOT_IN_MENU}
    assert command_problems(m, router) == []


def test_group_chats_never_get_record_content(project):
    menus = {
        cl["scopes"][0]: [c["title"] for c in cl["commands"]]
        for cl in built_manifest(project)["bots"][0]["commandLists"]
    }
    assert not RECORD_CONTENT & set(menus[GROUP_CHAT])
    assert menus[GROUP_CHAT] == ["help", "request"]
    for word in RECORD_CONTENT:
        assert not allowed_in(word, "groupChat")
    assert allowed_in("record", "channel") and allowed_in("record", "personal")
    assert not allowed_in("note", "channel")


def test_a_command_the_manifest_does_not_list_is_caught(project):
    m = built_manifest(project)
    router = build_router()

    async def handler(services, turn):  # pragma: no cover - never dispatched
        """Does nothing: registered only to be missing from the manifest."""

    router.command("brandnew", title="New", description="Something new.", handler=handler)
    problems = command_problems(m, router)
    assert any("'brandnew' has no entry in bot/scopes.py" in p for p in problems)


def test_a_stale_or_misplaced_menu_entry_is_caught(project):
    m = built_manifest(project)
    personal = next(cl for cl in m["bots"][0]["commandLists"] if cl["scopes"] == [PERSONAL])
    team = next(cl for cl in m["bots"][0]["commandLists"] if cl["scopes"] == [TEAM])
    removed = personal["commands"].pop(1)
    team["commands"].append({"title": "note", "description": "x"})
    problems = command_problems(m, build_router())
    assert f"commandLists[personal] lacks {removed['title']!r}" in problems
    assert any("commandLists[team] lists 'note'" in p for p in problems)
    assert command_problems(m, Router()) != []  # a router without commands: everything is stale


def test_a_bad_build_writes_nothing(project):
    data = json.loads((project / "appPackage" / "manifest.json").read_text())
    data["bots"][0]["commandLists"][2]["commands"].append({"title": "note", "description": "1:1 notes"})
    (project / "appPackage" / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(PackageError, match="commandLists\\[groupChat\\] lists 'note'"):
        build("local", root=project, schema=SCHEMA)
    assert not (project / "appPackage" / "build" / "appPackage.local.zip").exists()


# ------------------------------------------------------------------ icons


def test_the_icons_have_the_sizes_and_transparency_teams_requires():
    color = read_png((ROOT / "appPackage" / "color.png").read_bytes())
    outline = read_png((ROOT / "appPackage" / "outline.png").read_bytes())
    assert (color.width, color.height) == (192, 192)
    assert (outline.width, outline.height) == (32, 32)
    assert outline.has_alpha
    assert any(a == 0 for *_, a in outline.pixels) and any(a > 0 for *_, a in outline.pixels)
    assert all((r, g, b) == (255, 255, 255) for r, g, b, a in outline.pixels if a > 0)
    m = json.loads((ROOT / "appPackage" / "manifest.json").read_text())
    assert icon_problems(ROOT / "appPackage", m) == []


def test_bad_icons_are_named(project):
    folder = project / "appPackage"
    (folder / "color.png").write_bytes(write_png(100, 100, [(17, 94, 89, 255)] * 100 * 100))
    grey = [(128, 128, 128, 255) if i % 2 else (0, 0, 0, 0) for i in range(32 * 32)]
    (folder / "outline.png").write_bytes(write_png(32, 32, grey))
    problems = icon_problems(folder, json.loads((folder / "manifest.json").read_text()))
    assert "color.png: 100×100, Teams needs 192×192" in problems
    assert any("outline.png: 512 visible pixels are not white" in p for p in problems)
    (folder / "outline.png").write_bytes(write_png(32, 32, [(255, 255, 255, 255)] * 32 * 32))
    problems = icon_problems(folder, json.loads((folder / "manifest.json").read_text()))
    assert any("no transparent pixel" in p for p in problems)


# ------------------------------------------------------------------ the toolkit's own validator (offline)

ATK = ROOT / "infra" / "toolkit" / "node_modules" / ".bin" / "atk"


def _atk_validate(manifest: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ATK), "validate", "--manifest-file", str(manifest), "--telemetry", "false"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=manifest.parent,
        env={"PATH": "/usr/bin:/bin", "HOME": str(manifest.parent), "NO_PROXY": "*", "TEAMSFX_TELEMETRY_TEST": "1"},
    )


def test_the_agents_toolkit_validator_accepts_the_built_manifest_offline(project):
    need_tool(ATK, "the Agents Toolkit CLI (atk)")
    built = build("local", root=project, schema=SCHEMA)
    ok = _atk_validate(built.zip_path.parent / "manifest.local.json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "All passed" in ok.stdout
    bad = json.loads((built.zip_path.parent / "manifest.local.json").read_text())
    bad["name"]["short"] = "S" * 40
    (project / "bad.json").write_text(json.dumps(bad))
    failed = _atk_validate(project / "bad.json")
    assert failed.returncode != 0
    assert "/name/short must NOT have more than 30 characters" in failed.stdout + failed.stderr
