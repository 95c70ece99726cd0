"""The committed Playground configs (infra/playground/people/*) agree with the demo school and with each other.
Pure file checks — no browser, so not marked e2e: they run with the quick tests."""

from __future__ import annotations

import importlib.util

import pytest
import yaml

from tests.e2e.processes import CONFIG_NAME, DEMO_SCHOOL, PEOPLE_DIR, PLAYGROUND_DIR


@pytest.fixture(scope="module")
def make_configs():
    spec = importlib.util.spec_from_file_location("make_configs", PLAYGROUND_DIR / "make_configs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def configs() -> dict[str, dict]:
    return {
        p.name: yaml.safe_load((p / CONFIG_NAME).read_text(encoding="utf-8"))
        for p in sorted(PEOPLE_DIR.iterdir())
        if (p / CONFIG_NAME).is_file()
    }


def test_committed_configs_are_up_to_date(make_configs):
    for person, text in make_configs.build_configs().items():
        assert (PEOPLE_DIR / person / CONFIG_NAME).read_text(encoding="utf-8") == text, (
            f"{person}'s Playground config is stale: run .venv/bin/python infra/playground/make_configs.py"
        )


def test_one_config_for_each_of_the_five_people(configs):
    assert set(configs) == {"amara.okafor", "daniel.whitcombe", "priya.raman", "tom.hollis", "grace.mensah"}


def test_each_config_is_that_person_with_five_others_known_to_the_school(configs):
    staff = {s["id"]: s for s in yaml.safe_load(DEMO_SCHOOL.read_text(encoding="utf-8"))["staff"]}
    by_aad = {s["aad_object_id"]: s for s in staff.values()}
    for person, cfg in configs.items():
        assert cfg["currentUser"]["aadObjectId"] == staff[person]["aad_object_id"]
        assert cfg["currentUser"]["name"] == staff[person]["name"]
        assert len(cfg["users"]) == 5  # the Playground's schema wants exactly five
        everyone = [cfg["currentUser"], *cfg["users"]]
        assert len({u["id"] for u in everyone}) == 6
        for u in everyone:
            assert u["aadObjectId"] in by_aad, f"{u['name']} in {person}'s config is not on the school roster"
            assert by_aad[u["aadObjectId"]]["name"] == u["name"]


def test_shared_things_are_the_same_in_every_config(configs):
    def shared(cfg):
        return (
            cfg["tenantId"],
            cfg["bot"],
            cfg["groupChat"],
            cfg["team"],
            sorted(u["aadObjectId"] for u in [cfg["currentUser"], *cfg["users"]]),
        )

    first, *rest = configs.values()
    assert all(shared(cfg) == shared(first) for cfg in rest)
    assert len({cfg["personalChat"]["id"] for cfg in configs.values()}) == len(configs)
    team = first["team"]
    assert team["id"] == "kb-team" and team["name"] == "Kestrel Brook Staff"
    # General always exists (its id is the team's); the one extra channel the Playground allows is Safeguarding.
    assert [c["name"] for c in team["channels"]] == ["Safeguarding"]
    school = yaml.safe_load(DEMO_SCHOOL.read_text(encoding="utf-8"))["school"]["safeguarding_channel"]
    assert (school["team_id"], school["channel_name"]) == (team["id"], "Safeguarding")
