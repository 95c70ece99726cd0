"""A trust of two schools for tests (issue 10): the demo school as `alpha`, and `beta`, its twin — the same groups,
staff ids and names (so the journey kits work on both), but other Teams identities, e-mail addresses, its own
Safeguarding team and channel, and (optionally) other half-term dates. Written to a folder as real config files."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import yaml

from bot.school import load_school
from bot.school.trust import load_deployment

ROOT = Path(__file__).resolve().parents[2]
DEMO_SCHOOL = ROOT / "infra" / "demo" / "school.yaml"
TWIN_NS = uuid.UUID("6a0c6a36-1f40-4b0e-9a3c-2f0b8f7d1b10")
LEAD_AAD = "7e57ab1e-0000-4000-8000-00000000a11d"


def twin_aad(aad: str) -> str:
    return str(uuid.uuid5(TWIN_NS, aad))


def write_trust(
    folder: Path,
    *,
    beta_half_term_ends: dict[str, str] | None = None,
    beta_extra_staff: list[dict] | None = None,
) -> Path:
    """trust.yaml (alpha = the demo school file itself, beta = its twin) in `folder`; returns its path.

    `beta_half_term_ends`: half-term name → a new end date for the twin (schools of a trust differ by a few days)."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load(DEMO_SCHOOL.read_text(encoding="utf-8"))
    raw["school"]["name"] = "Beta Twin School"
    raw["school"]["short_name"] = "Beta Twin"
    raw["school"]["safeguarding_channel"] = {
        "team_id": "beta-team",
        "channel_name": "Safeguarding",
        "channel_id": "19:beta-safeguarding@thread.tacv2",
    }
    for member in raw["staff"]:
        member["aad_object_id"] = twin_aad(member["aad_object_id"])
        member["email"] = member["email"].split("@")[0] + "@beta-twin.example"
    for ht in raw["terms"]["half_terms"]:
        if beta_half_term_ends and ht["name"] in beta_half_term_ends:
            ht["end"] = beta_half_term_ends[ht["name"]]
    raw["staff"].extend(beta_extra_staff or [])
    (folder / "beta.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    trust = {
        "trust": {
            "name": "Test Learning Trust",
            "leads": [
                {
                    "id": "trust.lead",
                    "name": "Tamsin Lead",
                    "email": "tamsin.lead@trust.example",
                    "aad_object_id": LEAD_AAD,
                    "role": "trust_safeguarding_lead",
                }
            ],
        },
        "schools": [
            {"key": "alpha", "file": str(DEMO_SCHOOL)},
            {"key": "beta", "file": "beta.yaml"},
        ],
    }
    path = folder / "trust.yaml"
    path.write_text(yaml.safe_dump(trust, sort_keys=False), encoding="utf-8")
    return path


def schools(path: Path):
    d = load_deployment(path)
    return d, d.schools["alpha"], d.schools["beta"]


def twin_school(folder: Path, **kw):
    """The twin school alone (key `beta`), e.g. for a reminder run."""
    write_trust(folder, **kw)
    return load_school(folder / "beta.yaml", key="beta")


def shift(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()
