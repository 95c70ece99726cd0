"""Roster sync from the tenant: the real msgraph-sdk against the Graph double (paged transitive members, paged
group delta with a stored delta link), the diff it shows, what --apply writes and how the school loader uses it."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.roster import RosterError, compute, load_state, state_path, sync
from bot.roster.__main__ import run
from bot.school import Role, SchoolConfigError, load_school
from bot.school.config import roster_override_path
from graph.msgraph.client import build_clients
from graph.msgraph.directory import GraphDirectory
from tests.conftest import DEMO_SCHOOL
from tests.fakes.graph_double import StaticTokenCredential
from tests.graph.conftest import GRAPH_ALL_STAFF, graph_settings, seeded_double  # noqa: F401

TODAY = dt.date(2026, 10, 5)
NOW = dt.datetime(2026, 10, 5, 6, 0, tzinfo=dt.timezone.utc)
SCHOOL_GROUPS = ["willow", "rowan", "hazel", "alder", "birch", "leaders", "health", "office"]


def write_school(tmp_path: Path, directory: dict | None) -> Path:
    raw = yaml.safe_load(DEMO_SCHOOL.read_text())
    if directory is not None:
        raw["directory"] = directory
    path = tmp_path / "school.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def tenant_directory() -> dict:
    return {
        "all_staff": GRAPH_ALL_STAFF,
        "dsl": "grp-dsl",
        "allocators": "grp-alloc",
        "supervisors": "grp-sup",
        "groups": {g: g for g in SCHOOL_GROUPS},
        "default_group": "office",
    }


@pytest.fixture
async def tenant(school):
    """The double seeded from the demo school, plus role groups; the supervisors group nests another group."""
    d = await seeded_double(school, page_size=4)
    aad = {s.id: s.aad_object_id for s in school.staff.values()}
    d.add_group("grp-dsl", [s.aad_object_id for s in school.with_role(Role.DSL)])
    d.add_group("grp-alloc", [s.aad_object_id for s in school.with_role(Role.ALLOCATOR)])
    class_supervisors = [aad["kate.lowther"], aad["samuel.kerr"]]
    d.add_group("grp-sup-classes", class_supervisors)
    d.add_group(
        "grp-sup",
        [s.aad_object_id for s in school.with_role(Role.SUPERVISOR) if s.aad_object_id not in class_supervisors]
        + ["grp-sup-classes"],
    )
    clients = build_clients(graph_settings(d), StaticTokenCredential(d.token))
    yield d, GraphDirectory(clients), aad
    await clients.aclose()
    await d.close()


async def test_a_tenant_that_matches_the_yaml_shows_no_change_and_pages_through_everything(tmp_path, tenant):
    d, directory, _ = tenant
    path = write_school(tmp_path, tenant_directory())
    result = await sync(path, directory, do_apply=False, today=TODAY, now=NOW)
    assert result.changes == [], result.report()
    assert result.warnings == []
    assert len(result.staff) == 40
    assert len(d.find("GET", r"/transitiveMembers/")) == 10  # 40 staff, 4 a page
    delta_pages = d.find("GET", r"^/groups/(microsoft\.graph\.)?delta")
    assert len(delta_pages) > 1 and all("$deltatoken" not in r.query for r in delta_pages)
    assert not roster_override_path(path).exists() and not state_path(path).exists()  # a dry run writes nothing


async def test_changes_in_the_tenant_show_as_a_diff_and_apply_to_the_roster(tmp_path, tenant):
    d, directory, aad = tenant
    path = write_school(tmp_path, tenant_directory())
    await sync(path, directory, do_apply=True, today=TODAY, now=NOW)
    assert roster_override_path(path).is_file()
    assert load_state(state_path(path))["links"], "the delta link is kept for the next run"

    d.add_user(
        "9d0e0000-0000-4000-8000-00000000aa01",
        "Pat Newton",
        "pat.newton@kestrelbrook.example",
        job_title="Teaching assistant",
    )
    d.add_member(GRAPH_ALL_STAFF, "9d0e0000-0000-4000-8000-00000000aa01")
    d.add_member("willow", "9d0e0000-0000-4000-8000-00000000aa01")
    d.remove_member(GRAPH_ALL_STAFF, aad["tom.hollis"])
    d.add_member("grp-dsl", aad["grace.mensah"])
    d.remove_member("grp-alloc", aad["daniel.whitcombe"])
    d.remove_member("willow", aad["isla.brennan"])
    d.add_member("rowan", aad["isla.brennan"])
    d.remove_member("grp-sup-classes", aad["samuel.kerr"])  # a change inside a nested group
    d.requests.clear()

    result = await sync(path, directory, do_apply=False, today=TODAY, now=NOW)
    got = {(c.what, c.staff_id, c.detail) for c in result.changes}
    assert got == {
        ("added", "pat.newton", "willow; roles: none"),
        ("left", "tom.hollis", "no longer in the all-staff group"),
        ("roles", "grace.mensah", "+dsl"),
        ("roles", "daniel.whitcombe", "-allocator"),
        ("group", "isla.brennan", "willow → rowan"),
        ("roles", "samuel.kerr", "-supervisor"),
    }
    report = result.report()
    assert "pat.newton (Pat Newton)" in report and "@" not in report, "ids and names only"
    delta = d.find("GET", r"^/groups/(microsoft\.graph\.)?delta")
    assert delta and all("$deltatoken" in r.query or "$skiptoken" in r.query for r in delta), (
        "the second run follows the stored delta link, not a new initial round"
    )
    assert not roster_override_path(path).read_text().count("pat.newton"), "dry run: the file is unchanged"

    await sync(path, directory, do_apply=True, today=TODAY, now=NOW)
    school = load_school(path)
    assert school.roster_source == roster_override_path(path)
    assert school.staff["tom.hollis"].left_on == TODAY
    assert Role.DSL in school.staff["grace.mensah"].roles
    assert Role.ALLOCATOR not in school.staff["daniel.whitcombe"].roles
    assert school.staff["isla.brennan"].group == "rowan"
    assert school.staff["pat.newton"].email == "pat.newton@kestrelbrook.example"
    # What Entra does not know stays as the YAML had it.
    assert school.staff["amara.okafor"].supervisor_trained_on == dt.date(2023, 6, 14)
    assert Role.GOVERNOR in school.staff["ruth.calloway"].roles
    # The YAML itself is untouched: it stays the local-mode source.
    assert "pat.newton" not in path.read_text()
    assert len(load_school(path, roster_override=False).staff) == 40

    again = await sync(path, directory, do_apply=False, today=TODAY, now=NOW)
    assert again.changes == []


async def test_an_expired_delta_link_starts_a_new_round_and_stays_correct(tmp_path, tenant):
    d, directory, aad = tenant
    path = write_school(tmp_path, tenant_directory())
    await sync(path, directory, do_apply=True, today=TODAY, now=NOW)
    d.remove_member("grp-dsl", aad["marcus.fenwick"])
    d.expire_delta_tokens()
    result = await sync(path, directory, do_apply=False, today=TODAY, now=NOW)
    assert result.requests.get("delta_expired") == 1
    assert {(c.what, c.staff_id, c.detail) for c in result.changes} == {("roles", "marcus.fenwick", "-dsl")}


async def test_a_supervisor_needs_a_training_date_from_the_yaml(tmp_path, tenant):
    d, directory, aad = tenant
    d.add_member("grp-sup", aad["tom.hollis"])
    path = write_school(tmp_path, tenant_directory())
    result = await sync(path, directory, do_apply=False, today=TODAY, now=NOW)
    assert result.changes == []
    assert any(
        w.startswith("tom.hollis (Tom Hollis) is in the supervisors group but has no supervisor_trained_on")
        for w in result.warnings
    )


async def test_a_missing_or_empty_all_staff_group_is_never_read_as_everyone_left(tmp_path, tenant, school):
    d, directory, _ = tenant
    path = write_school(tmp_path, {**tenant_directory(), "all_staff": "no-such-group"})
    with pytest.raises(RosterError, match="does not exist"):
        await sync(path, directory, do_apply=True, today=TODAY, now=NOW)
    d.add_group("empty", [])
    path = write_school(tmp_path, {**tenant_directory(), "all_staff": "empty"})
    with pytest.raises(RosterError, match="no members"):
        await sync(path, directory, do_apply=True, today=TODAY, now=NOW)
    assert not roster_override_path(path).exists()


async def test_losing_every_dsl_is_refused(tmp_path, tenant, school):
    d, directory, _ = tenant
    for s in school.with_role(Role.DSL):
        d.remove_member("grp-dsl", s.aad_object_id)
    path = write_school(tmp_path, tenant_directory())
    with pytest.raises(RosterError, match="nobody would have the dsl role"):
        await compute(load_school(path), directory, today=TODAY)


def test_the_directory_section_is_validated(tmp_path):
    path = write_school(tmp_path, {**tenant_directory(), "groups": {"nowhere": "x"}})
    with pytest.raises(SchoolConfigError, match="directory: 'nowhere' is not one of the school's groups"):
        load_school(path)


def test_a_bad_synced_roster_names_its_own_file(tmp_path):
    path = write_school(tmp_path, None)
    roster_override_path(path).write_text("staff:\n- id: x\n  name: X\n")
    with pytest.raises(SchoolConfigError) as exc:
        load_school(path)
    assert str(roster_override_path(path)) in str(exc.value)


async def test_the_cli_in_local_mode_reads_the_yaml_as_the_directory(tmp_path, monkeypatch):
    for name in ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_USE_MANAGED_IDENTITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    path = write_school(tmp_path, {"all_staff": "all-staff", "groups": {g: g for g in SCHOOL_GROUPS}})
    lines: list[str] = []
    rc = await run(argparse.Namespace(apply=False, config=str(path)), out=lines.append)
    assert rc == 0, lines
    assert lines[0] == "roster: 40 staff, 0 change(s)"
    rc = await run(argparse.Namespace(apply=True, config=str(path)), out=lines.append)
    assert rc == 0 and roster_override_path(path).is_file()
    (tmp_path / "plain").mkdir()
    no_section = write_school(tmp_path / "plain", None)
    rc = await run(argparse.Namespace(apply=False, config=str(no_section)), out=lines.append)
    assert rc == 1 and "no `directory:` section" in lines[-1]
