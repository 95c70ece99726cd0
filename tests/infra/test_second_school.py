"""A school that is not the demo: infra/demo/second-school.yaml shares nothing with Kestrel Brook, and the Playground
configs make_configs builds from it are that school's people, team, Safeguarding channel and group chat."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml

from bot.school import load_school
from tests.conftest import DEMO_SCHOOL, ROOT

SECOND = ROOT / "infra" / "demo" / "second-school.yaml"
CONFIG = ".m365agentsplayground.yml"


@pytest.fixture(scope="module")
def make_configs():
    spec = importlib.util.spec_from_file_location("make_configs", ROOT / "infra" / "playground" / "make_configs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def second():
    return load_school(SECOND)


def _words(school) -> dict[str, set]:
    d = school.data
    return {
        "staff ids": {m.id for m in d.staff},
        "names": {w for m in d.staff for w in m.name.lower().replace("-", " ").split()},
        "aad ids": {m.aad_object_id for m in d.staff},
        "emails": {m.email.split("@")[1] for m in d.staff},
        "groups": {g.id for g in d.groups} | {g.name for g in d.groups},
        "term dates": {h.start for h in d.terms.half_terms} | {h.end for h in d.terms.half_terms},
        "team": {d.school.safeguarding_channel.team_id, d.school.safeguarding_channel.channel_id},
        "school": {d.school.name, d.school.short_name},
    }


def test_the_second_school_shares_nothing_with_the_demo(second):
    demo = _words(load_school(DEMO_SCHOOL))
    for what, values in _words(second).items():
        assert not values & demo[what], f"{what} shared with the demo school: {values & demo[what]}"


def test_configs_are_that_schools_first_five_in_a_circle_of_six(make_configs, second):
    configs = {sid: yaml.safe_load(text) for sid, text in make_configs.build_configs(SECOND).items()}
    staff = list(second.data.staff)
    assert list(configs) == [m.id for m in staff[:5]]
    circle = {m.aad_object_id for m in staff[:6]}
    for sid, cfg in configs.items():
        me = second.staff[sid]
        assert (cfg["currentUser"]["aadObjectId"], cfg["currentUser"]["name"]) == (me.aad_object_id, me.name)
        assert len(cfg["users"]) == 5
        assert {u["aadObjectId"] for u in [cfg["currentUser"], *cfg["users"]]} == circle
        assert cfg["currentUser"]["email"] == me.email and cfg["personalChat"]["id"].endswith(sid)
        assert cfg["team"]["id"] == "slp-all-staff" and cfg["team"]["name"] == "Saltmarsh Lane Staff"
        assert cfg["team"]["channels"] == [{"id": "19:slp-dsl-room@thread.tacv2", "name": "DSL Safeguarding"}]
        assert cfg["groupChat"]["name"] == "Saltmarsh Lane staff chat"
        flat = json.dumps(cfg).lower()
        assert "kestrel" not in flat and "kb-" not in flat and "5c1e0d7a" not in flat
    shared = {json.dumps([c["tenantId"], c["bot"], c["groupChat"], c["team"]]) for c in configs.values()}
    assert len(shared) == 1
    demo = yaml.safe_load(next(iter(make_configs.build_configs().values())))
    assert demo["tenantId"] != next(iter(configs.values()))["tenantId"]


def test_people_named_with_as_are_who_you_can_be(make_configs, second):
    configs = {
        sid: yaml.safe_load(t) for sid, t in make_configs.build_configs(SECOND, ["lferreira", "clavelle"]).items()
    }
    assert list(configs) == ["lferreira", "clavelle"]
    everyone = {u["id"] for u in [configs["lferreira"]["currentUser"], *configs["lferreira"]["users"]]}
    # the two named, topped up from the top of the roster to six
    assert everyone == {"29:lferreira", "29:clavelle", "29:fnwachukwu", "29:bo.lindgren", "29:rkapoor", "29:ewhitfield"}
    with pytest.raises(SystemExit, match="nobody.here"):
        make_configs.build_configs(SECOND, ["nobody.here"])


def test_a_school_with_fewer_than_six_people_is_refused_by_name(make_configs, tmp_path):
    data = yaml.safe_load(SECOND.read_text(encoding="utf-8"))
    data["staff"] = data["staff"][:4]
    small = tmp_path / "tiny.yaml"
    small.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SystemExit, match="has 4 staff"):
        make_configs.build_configs(small)


def test_the_script_writes_checks_and_drops_people_no_longer_generated(make_configs, tmp_path, capsys):
    out = tmp_path / "people"
    assert (
        make_configs.main(["--school", str(SECOND), "--out", str(out), "--as", "ahussain,gpetrakis", "--print-people"])
        == 0
    )
    assert capsys.readouterr().out.split() == ["ahussain", "gpetrakis"]
    assert sorted(p.parent.name for p in out.glob(f"*/{CONFIG}")) == ["ahussain", "gpetrakis"]
    assert make_configs.main(["--school", str(SECOND), "--out", str(out), "--as", "ahussain,gpetrakis", "--check"]) == 0
    assert make_configs.main(["--school", str(SECOND), "--out", str(out)]) == 0
    assert sorted(p.parent.name for p in out.glob(f"*/{CONFIG}")) == sorted(
        ["fnwachukwu", "bo.lindgren", "rkapoor", "ewhitfield", "tadebayo-price"]
    )
    (out / "rkapoor" / CONFIG).write_text("stale", encoding="utf-8")
    assert make_configs.main(["--school", str(SECOND), "--out", str(out), "--check"]) == 1


def test_default_folders(make_configs):
    assert make_configs.default_out(make_configs.SCHOOL, None) == make_configs.PEOPLE_DIR
    assert make_configs.default_out(SECOND, None) == ROOT / "data" / "playground" / "second-school" / "people"
    assert make_configs.default_out(make_configs.SCHOOL, ["helen.ashdown"]).parts[-3:] == (
        "playground",
        "school",
        "people",
    )
