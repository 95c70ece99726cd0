"""The school config: the demo file is valid; every kind of mistake names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.school import Role, SchoolConfigError, load_school
from tests.conftest import DEMO_SCHOOL


def test_demo_school_has_the_people_the_playground_plays(school):
    assert len(school.staff) >= 40 - 2
    for sid, role in [
        ("amara.okafor", Role.DSL),
        ("daniel.whitcombe", Role.ALLOCATOR),
        ("priya.raman", Role.SUPERVISOR),
    ]:
        assert role in school.staff[sid].roles
    assert school.staff["tom.hollis"].roles == frozenset()
    assert school.groups[school.staff["tom.hollis"].group].kind.value == "class"
    assert school.groups[school.staff["grace.mensah"].group].kind.value == "non_class"
    assert len(school.terms.half_terms) == 6
    assert school.by_aad(school.staff["tom.hollis"].aad_object_id.upper()).id == "tom.hollis"


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DEMO_SCHOOL.read_text())
    mutate(data)
    p = tmp_path / "school.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d["terms"]["half_terms"][1].update(start="2026-10-01"), "overlap"),
        (lambda d: d["terms"]["half_terms"][0].update(end="2026-08-01"), "end 2026-08-01 is before start"),
        (lambda d: d["school"]["school_day"].update(start="8.30"), "school.school_day.start"),
        (lambda d: d["school"].update(timezone="Mars/Olympus"), "unknown time zone"),
        (lambda d: d["staff"][3].update(group="nowhere"), "unknown group 'nowhere'"),
        (lambda d: d["staff"][3].update(roles=["supervisor"]), "supervisor_trained_on"),
        (lambda d: d["staff"][4].update(email=d["staff"][3]["email"]), "repeats"),
        (lambda d: d["staff"][0].update(roles=["wizard"]), "staff.0.roles"),
        (lambda d: d["terms"]["enrichment_weeks"][0].update(supervisor="tom.hollis"), "not a trained supervisor"),
        (lambda d: d["school"].pop("safeguarding_channel"), "school.safeguarding_channel"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path, mutate, expected):
    path = _write(tmp_path, mutate)
    with pytest.raises(SchoolConfigError) as e:
        load_school(path)
    assert str(path) in str(e.value)
    assert expected in str(e.value)


def test_missing_and_unparseable_files(tmp_path):
    with pytest.raises(SchoolConfigError, match="file not found"):
        load_school(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("school: [unclosed")
    with pytest.raises(SchoolConfigError, match="not valid YAML"):
        load_school(bad)


# Names of the real schools, trust and people in ../shared/seeds, as sha256 prefixes of their lower-cased words, so
# this guard does not itself put them in the product's tree.
_POLICY_NAMES = {
    "4cebd760a233350a",
    "b1af73e32bfcfbd5",
    "db39869a5555d16e",
    "51b0198c809f62eb",
    "21fdd4bb6ced3944",
    "27bceccd1f06d8ab",
    "68e38ae8563a8823",
    "ffd744057eb6e302",
}


def _phrases(text: str):
    """Every word and two-word phrase (spaced and run together) of the text, lower-cased."""
    import re

    words = re.findall(r"[a-z']+", text.lower())
    yield from words
    for a, b in zip(words, words[1:]):
        yield f"{a} {b}"
        yield a + b


def test_no_policy_names_in_demo_data_or_product_text():
    import hashlib

    root = DEMO_SCHOOL.parents[2]
    files = [
        DEMO_SCHOOL,
        root / "infra" / "demo" / "second-school.yaml",
        root / "infra" / "demo" / "trust.yaml",
        root / "infra" / "demo" / "lapwing-fields.yaml",
        root / "infra" / "demo" / "merrow-hill.yaml",
        root / "bot" / "language" / "phrases.yaml",
        root / "README.md",
        *sorted((root / "infra" / "playground" / "people").rglob("*.yml")),
        *sorted((root / "bot" / "records" / "templates").rglob("*.yaml")),
    ]
    for path in files:
        found = {
            p
            for p in _phrases(path.read_text(encoding="utf-8"))
            if hashlib.sha256(p.encode()).hexdigest()[:16] in _POLICY_NAMES
        }
        assert not found, f"{path.relative_to(root)} names a real school or person from the policy documents"


def test_the_policy_name_guard_can_fail():
    import hashlib

    invented = hashlib.sha256(b"kestrel brook").hexdigest()[:16]
    assert "kestrel brook" in set(_phrases(DEMO_SCHOOL.read_text(encoding="utf-8")))
    assert invented not in _POLICY_NAMES and len(_POLICY_NAMES) == 8
