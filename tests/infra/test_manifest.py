"""The Teams app manifest validates against the official 1.29 schema (kept in ../shared, not copied here)."""
from __future__ import annotations

import json
import struct

import pytest
from jsonschema import Draft7Validator

from tests.conftest import ROOT

SCHEMA = ROOT.parent / "shared" / "schemas" / "teams-manifest-1.29.schema.json"
MANIFEST = ROOT / "infra" / "manifest"


@pytest.mark.skipif(not SCHEMA.exists(), reason="the shared manifest schema is not beside this checkout")
def test_manifest_is_valid_for_teams():
    schema = json.loads(SCHEMA.read_text())
    m = MANIFEST.joinpath("manifest.json").read_text()
    m = m.replace("{{TEAMS_APP_ID}}", "0b0e7b2c-1a52-4c1d-9a41-5c1e0d7a0001").replace(
        "{{BOT_ID}}", "0b0e7b2c-1a52-4c1d-9a41-5c1e0d7a0002")
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in Draft7Validator(schema).iter_errors(json.loads(m))]
    assert errors == []


@pytest.mark.parametrize("name,size", [("color.png", 192), ("outline.png", 32)])
def test_icons_have_the_sizes_teams_requires(name, size):
    data = MANIFEST.joinpath(name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (size, size)
