"""The demo trust (infra/demo/trust.yaml, issue 10 part 7): three invented schools — the demo school Kestrel Brook and
two more — each with its own key, term dates a few days off Kestrel Brook's, roster and channel; one supervisor who
works in two schools, an external one with no Teams account, two trust leads. And what the run command builds from
it: the Playground configs (infra/playground/make_configs.py) and the data directory (scripts/run.sh)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import shutil
import sqlite3
import subprocess
import uuid

import pytest
import yaml

from bot.domain.calendar import TermCalendar
from bot.school import Role
from bot.school.trust import TrustRole, load_deployment
from tests.conftest import DEMO_SCHOOL, ROOT

TRUST = ROOT / "infra" / "demo" / "trust.yaml"
PEOPLE = ROOT / "infra" / "playground" / "people"
CONFIG = ".m365agentsplayground.yml"
KEYS = ["kestrel-brook", "lapwing-fields", "merrow-hill"]
KESTREL_FIVE = ["amara.okafor", "daniel.whitcombe", "priya.raman", "tom.hollis", "grace.mensah"]
PRIYA_AAD = "5c1e0d7a-0000-4000-8000-000000000003"


@pytest.fixture(scope="module")
def trust():
    return load_deployment(TRUST)


@pytest.fixture(scope="module")
def make_configs():
    spec = importlib.util.spec_from_file_location("make_configs", ROOT / "infra" / "playground" / "make_configs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _others(trust):
    return [s for k, s in trust.schools.items() if k != "kestrel-brook"]


# ---- the trust file ---------------------------------------------------------------------------------------------
def test_the_trust_has_three_schools_with_their_keys_and_kestrel_brook_first(trust):
    assert trust.is_trust and list(trust.schools) == KEYS
    assert trust.first.path.resolve() == DEMO_SCHOOL.resolve() and trust.first.name == "Kestrel Brook School"
    names = {s.name for s in trust.schools.values()}
    assert len(names) == 3 and trust.name not in names
    assert [s.key for s in trust.schools.values()] == KEYS


def test_kestrel_brook_in_the_trust_is_the_demo_school_unchanged(trust):
    from bot.school import load_school

    alone = load_school(DEMO_SCHOOL)
    assert trust.first.data == alone.data  # same staff, ids, dates: only the key differs
    assert alone.key == "school" and trust.first.key == "kestrel-brook"


def _school_days_apart(a: dt.date, b: dt.date) -> int:
    lo, hi = sorted((a, b))
    return sum(1 for i in range((hi - lo).days) if (lo + dt.timedelta(days=i + 1)).weekday() < 5) if lo != hi else 0


def test_each_schools_half_terms_are_kestrel_brooks_a_few_school_days_off(trust):
    kb = trust.first.terms
    for school in _others(trust):
        t = school.terms
        assert t.academic_year == kb.academic_year == "2026-27"
        assert [h.name for h in t.half_terms] == [h.name for h in kb.half_terms]
        for mine, theirs in zip(t.half_terms, kb.half_terms):
            for day in (mine.start, mine.end):
                assert day.weekday() < 5, f"{school.key}: {mine.name} starts or ends on a weekend ({day})"
            for a, b in ((mine.start, theirs.start), (mine.end, theirs.end)):
                assert 1 <= _school_days_apart(a, b) <= 3, f"{school.key} {mine.name}: {a} vs Kestrel Brook's {b}"


def test_each_school_has_its_own_calendar_closures_and_mop_up_week(trust):
    calendars = {k: TermCalendar.from_school(s) for k, s in trust.schools.items()}
    day = dt.date(2026, 12, 2)  # the demo's term time: every school is in Autumn 2
    deadlines = set()
    for key, cal in calendars.items():
        ht = cal.half_term_for(day)
        assert ht is not None and ht.name.endswith("Autumn 2"), key
        deadlines.add(cal.deadline(ht))
    assert len(deadlines) == 3  # each school's reminders and mop-up week run on its own dates
    kb_closures = {c.date for c in trust.first.terms.closures}
    for school in _others(trust):
        closures = {c.date for c in school.terms.closures}
        assert closures and closures != kb_closures
        assert all(not calendars[school.key].is_school_day(d) for d in closures)


def test_each_school_has_the_people_and_settings_a_school_needs(trust):
    teams, channels, systems = set(), set(), set()
    for school in _others(trust):
        staff = [m for m in school.data.staff if not m.visiting]
        assert 15 <= len(school.data.staff) <= 30, school.key
        kinds = {g.kind.value for g in school.groups.values()}
        assert kinds == {"class", "non_class"}, school.key
        for role in (Role.DSL, Role.ALLOCATOR, Role.GOVERNOR):
            assert any(m.has(role) for m in staff), f"{school.key}: nobody is {role.value}"
        trained = [m for m in staff if m.has(Role.SUPERVISOR)]
        assert len(trained) >= 2 and all(m.supervisor_trained_on for m in trained), school.key
        ch = school.settings.safeguarding_channel
        teams.add(ch.team_id)
        channels.add(ch.channel_id)
        systems.add(school.settings.safeguarding_system.name)
        assert school.settings.senior_leaders_group in school.groups
    kb = trust.first.settings
    assert kb.safeguarding_channel.team_id not in teams and len(teams) == 2
    assert kb.safeguarding_channel.channel_id not in channels and len(channels) == 2
    assert kb.safeguarding_system.name not in systems and len(systems) == 2


def test_nobody_is_in_two_schools_but_the_visiting_supervisor(trust):
    seen: dict[str, str] = {}
    for school in trust.schools.values():
        for m in school.data.staff:
            for value in (m.id, m.email.lower(), (m.aad_object_id or "").lower()):
                if not value:
                    continue
                if value in seen:
                    assert m.id == "priya.raman" and school.key == "lapwing-fields", f"{value} in {seen[value]}"
                seen.setdefault(value, school.key)
    for lead in trust.trust.leads:
        for value in (lead.id, lead.email.lower(), lead.aad_object_id.lower()):
            assert value not in seen, f"trust lead {lead.id} is on a school's roster ({value})"


def test_the_new_peoples_teams_ids_are_random_uuids(trust):
    ids = [m.aad_object_id for s in _others(trust) for m in s.data.staff if m.aad_object_id and m.id != "priya.raman"]
    ids += [lead.aad_object_id for lead in trust.trust.leads]
    assert ids and all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)
    assert not any(i.startswith("5c1e0d7a-") for i in ids)  # Kestrel Brook's pattern


def test_priya_raman_supervises_in_kestrel_brook_and_lapwing_fields(trust):
    kb, lf = trust.schools["kestrel-brook"], trust.schools["lapwing-fields"]
    home, visiting = kb.staff["priya.raman"], lf.staff["priya.raman"]
    assert (
        (visiting.aad_object_id, visiting.email)
        == (home.aad_object_id, home.email)
        == (
            PRIYA_AAD,
            "priya.raman@kestrelbrook.example",
        )
    )
    assert visiting.home_school == "kestrel-brook" and visiting.roles == frozenset({Role.SUPERVISOR})
    assert visiting.supervisor_trained_on == home.supervisor_trained_on and visiting.supervisor_kind == "trust"
    assert [s.key for s in trust.schools_of(PRIYA_AAD)] == ["kestrel-brook", "lapwing-fields"]
    assert visiting not in lf.active_on(dt.date(2026, 12, 2))  # supervises there; not counted there
    assert "priya.raman" not in trust.schools["merrow-hill"].staff


def test_merrow_hill_has_an_external_supervisor_and_a_line_manager(trust):
    mh = trust.schools["merrow-hill"]
    [external] = [m for m in mh.data.staff if m.external]
    assert external.aad_object_id is None and external.supervisor_kind == "external"
    assert external.roles == frozenset({Role.SUPERVISOR}) and external.supervisor_trained_on is not None
    domain = external.email.split("@")[1]
    assert domain.endswith(".example") and domain not in {
        m.email.split("@")[1] for m in mh.data.staff if m.aad_object_id
    }
    managed = [m for m in mh.data.staff if m.line_manager]
    assert managed and all(mh.staff[m.line_manager].aad_object_id for m in managed)
    visitors = {(s.key, m.id) for s in trust.schools.values() for m in s.data.staff if m.home_school}
    assert visitors == {("lapwing-fields", "priya.raman")}


def test_the_trust_leads(trust):
    roles = sorted(lead.role for lead in trust.trust.leads)
    assert roles == sorted([TrustRole.SAFEGUARDING_LEAD, TrustRole.LEADER])
    for lead in trust.trust.leads:
        assert trust.trust_lead(lead.aad_object_id.upper()) == lead and trust.schools_of(lead.aad_object_id) == []
        assert lead.email.endswith(".example")


def test_the_seed_name_guard_covers_the_trust_files():
    # tests/school/test_config.py scans the demo data for the real names in the policy documents.
    text = (ROOT / "tests" / "school" / "test_config.py").read_text(encoding="utf-8")
    for name in ("trust.yaml", "lapwing-fields.yaml", "merrow-hill.yaml"):
        assert f'"{name}"' in text


# ---- the Playground configs ---------------------------------------------------------------------------------------
def _everyone(cfg: dict) -> list[dict]:
    return [cfg["currentUser"], *cfg["users"]]


def test_the_default_circle_is_kestrel_brooks_five_the_committed_files(make_configs):
    configs = make_configs.build_configs(TRUST)
    assert list(configs) == KESTREL_FIVE
    for sid, text in configs.items():
        assert text == (PEOPLE / sid / CONFIG).read_text(encoding="utf-8"), sid
    assert make_configs.default_out(TRUST, None) == make_configs.PEOPLE_DIR
    assert make_configs.main(["--school", str(TRUST), "--check"]) == 0
    assert make_configs.default_out(TRUST, ["corrie.halloran"]) == ROOT / "data" / "playground" / "trust" / "people"


def test_as_a_person_of_another_school_is_that_schools_playground(make_configs, trust):
    kb = yaml.safe_load(make_configs.build_configs(TRUST)["amara.okafor"])
    for sid, key in (("corrie.halloran", "lapwing-fields"), ("kezia.thorne", "merrow-hill")):
        school = trust.schools[key]
        cfg = yaml.safe_load(make_configs.build_configs(TRUST, [sid])[sid])
        me = school.staff[sid]
        assert (cfg["currentUser"]["aadObjectId"], cfg["currentUser"]["email"]) == (me.aad_object_id, me.email)
        people = _everyone(cfg)
        assert len(people) == 6 and len({u["aadObjectId"] for u in people}) == 6
        assert all(school.by_aad(u["aadObjectId"]) is not None for u in people)
        ch = school.settings.safeguarding_channel
        assert cfg["team"]["id"] == ch.team_id and cfg["team"]["channels"] == [
            {"id": ch.channel_id, "name": ch.channel_name}
        ]
        assert cfg["groupChat"]["name"] == f"{school.settings.short_name} staff chat"
        assert (cfg["tenantId"], cfg["bot"]) == (kb["tenantId"], kb["bot"])  # one deployment, one bot, one tenant
        assert "kestrelbrook" not in yaml.safe_dump(cfg)


def test_several_people_of_several_schools_and_the_order_asked(make_configs, trust):
    asked = ["yewande.okoro", "tom.hollis", "priya.raman", "declan.farrow"]
    configs = {sid: yaml.safe_load(t) for sid, t in make_configs.build_configs(TRUST, asked).items()}
    assert list(configs) == asked
    mh = {u["id"] for u in _everyone(configs["yewande.okoro"])}
    assert {"29:yewande.okoro", "29:declan.farrow"} <= mh and mh == {
        u["id"] for u in _everyone(configs["declan.farrow"])
    }
    # the visiting supervisor is at home in Kestrel Brook's Playground: the committed file, unchanged
    assert configs["priya.raman"]["team"]["id"] == "kb-team"
    assert make_configs.build_configs(TRUST, ["priya.raman"])["priya.raman"] == (
        PEOPLE / "priya.raman" / CONFIG
    ).read_text(encoding="utf-8")


def test_as_a_trust_lead(make_configs, trust):
    lead = next(x for x in trust.trust.leads if x.role is TrustRole.SAFEGUARDING_LEAD)
    text = make_configs.build_configs(TRUST, [lead.id])[lead.id]
    assert "from infra/demo/trust.yaml" in text.splitlines()[0]
    cfg = yaml.safe_load(text)
    assert (cfg["currentUser"]["aadObjectId"], cfg["currentUser"]["name"]) == (lead.aad_object_id, lead.name)
    assert [u["id"] for u in cfg["users"]] == [f"29:{p}" for p in KESTREL_FIVE]  # five of the first school's circle
    assert cfg["team"]["id"] == "kb-team" and cfg["personalChat"]["id"] == f"a:kb-personal-{lead.id}"
    with_amara = yaml.safe_load(make_configs.build_configs(TRUST, ["helen.ashdown", lead.id])[lead.id])
    assert "29:helen.ashdown" in {u["id"] for u in with_amara["users"]} and len(with_amara["users"]) == 5


def test_who_cannot_be_played(make_configs):
    with pytest.raises(SystemExit, match="nobody.here"):
        make_configs.build_configs(TRUST, ["nobody.here"])
    with pytest.raises(SystemExit, match="no Teams account.*celeste.arbery"):
        make_configs.build_configs(TRUST, ["celeste.arbery"])


def test_the_script_writes_a_trust_run_and_prints_who(make_configs, tmp_path, capsys):
    out = tmp_path / "people"
    argv = ["--school", str(TRUST), "--out", str(out), "--as", "patrick.ennis,nia.lowen", "--print-people"]
    assert make_configs.main(argv) == 0
    assert capsys.readouterr().out.split() == ["patrick.ennis", "nia.lowen"]
    assert sorted(p.parent.name for p in out.glob(f"*/{CONFIG}")) == ["nia.lowen", "patrick.ennis"]
    assert make_configs.main([*argv[:-1], "--check"]) == 0


# ---- the run command ----------------------------------------------------------------------------------------------
def test_run_sh_parses():
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "run.sh")], capture_output=True).returncode == 0


@pytest.fixture
def run_root(tmp_path):
    """A copy of scripts/run.sh whose root is tmp_path (the code linked in), so its data/ is the test's own."""
    if not (ROOT / ".venv" / "bin" / "python").exists() or shutil.which("bash") is None:
        pytest.skip("needs the repo's .venv and bash")
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "run.sh", tmp_path / "scripts" / "run.sh")
    for name in ("infra", "bot", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _plan(root, *args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SCHOOL_CONFIG", "DATABASE_URL")}
    done = subprocess.run(
        ["bash", str(root / "scripts" / "run.sh"), "--dry-run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    plan = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    plan["stderr"] = done.stderr
    return plan


def _db(path, key: str | None):
    """A database with one school-owned row: `key` its school (None: from before schools, no column)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    if key is None:
        con.execute("CREATE TABLE group_sessions (id INTEGER PRIMARY KEY, title TEXT)")
        con.execute("INSERT INTO group_sessions (title) VALUES ('Group supervision')")
    else:
        con.execute("CREATE TABLE group_sessions (id INTEGER PRIMARY KEY, title TEXT, school_id TEXT NOT NULL)")
        con.execute("INSERT INTO group_sessions (title, school_id) VALUES ('Group supervision', ?)", (key,))
    con.commit()
    con.close()


def test_run_defaults_to_the_demo_trust_as_amara_from_data(run_root):
    plan = _plan(run_root)
    assert plan["config"] == "infra/demo/trust.yaml" and plan["data"] == "data"
    assert (plan["playground"], plan["people"]) == ("infra/playground/people", "amara.okafor")


@pytest.mark.parametrize("who", ["helena.marwood", "corrie.halloran,tom.hollis,kezia.thorne"])
def test_run_as_anyone_of_the_trust_builds_their_config(run_root, who):
    plan = _plan(run_root, "--as", who)
    assert plan["config"] == "infra/demo/trust.yaml" and plan["data"] == "data"
    assert plan["playground"] == "data/playground/trust/people" and plan["people"] == who.replace(",", " ")
    for p in who.split(","):
        assert (run_root / "data" / "playground" / "trust" / "people" / p / CONFIG).is_file()


def test_run_kestrel_brook_alone_and_another_school(run_root):
    plan = _plan(run_root, "--school", "infra/demo/school.yaml")
    assert (plan["config"], plan["data"], plan["people"]) == ("infra/demo/school.yaml", "data/school", "amara.okafor")
    plan = _plan(run_root, "--school", "infra/demo/second-school.yaml")
    assert plan["config"] == "infra/demo/second-school.yaml" and plan["data"] == "data/second-school"


@pytest.mark.parametrize(
    ("key", "data"),
    [
        (None, "data"),  # from before trusts: migration 0900 makes its rows Kestrel Brook's
        ("kestrel-brook", "data"),  # the trust's own, from an earlier run
        ("school", "data/trust"),  # the demo school's alone after 0900: kept, the trust runs beside it
    ],
)
def test_run_keeps_a_developers_demo_database(run_root, key, data):
    db = run_root / "data" / "supervision.sqlite3"
    _db(db, key)
    plan = _plan(run_root)
    assert plan["data"] == data
    assert bool(re.search(r"data/trust/", plan["stderr"])) == (data == "data/trust")
    assert db.is_file()  # never deleted or rewritten
    assert sqlite3.connect(db).execute("SELECT count(*) FROM group_sessions").fetchone() == (1,)


def test_the_bot_starts_on_the_trust_with_a_demo_clock(tmp_path):
    """What scripts/run.sh --today starts: `python -m bot` with DEMO_TODAY on the trust file (the clock is the first
    school's; the start line names the trust and its schools)."""
    import sys
    import time

    from tests.conftest import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "GRAPH_"))}
    env.update(
        SCHOOL_CONFIG=str(TRUST),
        DEMO_TODAY="2026-12-02",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        MicrosoftAppId="",
        MicrosoftAppPassword="",
        HOST="127.0.0.1",
        PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
        WORKERS="false",
    )
    log = (tmp_path / "bot.log").open("w")  # a file, not a pipe nobody reads: the logs cannot block the bot
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("bot: serving"):
                break
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()
    err = (tmp_path / "bot.log").read_text()
    out = "".join(lines)
    assert "bot: demo clock — it is Wed 02 Dec 2026 09:00" in out, out + err
    assert "bot: serving Wrenfield Learning Trust: Kestrel Brook School, Lapwing Fields Primary School, " in out, out
