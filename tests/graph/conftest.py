"""Fixtures for the Microsoft 365 tests: the Graph double seeded from the demo school, and one `m365` fixture
that yields the same contract view of either backend (local, or msgraph → double)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from graph import build_backend
from graph.local import ALL_STAFF_GROUP
from graph.settings import GraphSettings
from tests.fakes.graph_double import GraphDouble, StaticTokenCredential
from tests.fakes.m365 import CHANNEL_ID, GRAPH_ALL_STAFF, MANAGERS, TEAM_ID, TEAMS_APP_ID, graph_settings, seeded_double  # noqa: F401


@pytest.fixture
async def double(school):
    d = await seeded_double(school)
    yield d
    await d.close()


@dataclasses.dataclass
class M365:
    """One backend under contract, with what a test needs to check effects independently of the backend."""

    kind: str
    backend: Any
    all_staff: str
    root: Path
    double: GraphDouble | None = None

    def channel_file(self, name: str, subfolder: str | None = None) -> bytes | None:
        """The bytes of a file in the Safeguarding channel folder, read from the storage itself."""
        if self.double is not None:
            drive_id, _ = self.double.channels[(TEAM_ID, CHANNEL_ID)]
            path = "/".join(p for p in ("Safeguarding", subfolder, name) if p)
            return self.double.files(drive_id).get(path)
        folder = self.root / "channels" / "kb-team" / "Safeguarding"
        p = folder.joinpath(*(subfolder.split("/") if subfolder else []), name)
        return p.read_bytes() if p.exists() else None

    def onedrive_file(self, owner_aad: str, folder: str, name: str, staff_id: str) -> bytes | None:
        if self.double is not None:
            drive_id = self.double.user_drive_id(owner_aad)
            return self.double.files(drive_id).get(f"{folder}/{name}") if drive_id else None
        p = self.root / "onedrive" / staff_id / folder / name
        return p.read_bytes() if p.exists() else None


@pytest.fixture(params=["local", pytest.param("msgraph", marks=pytest.mark.graph)])
async def m365(request, school, sqlite_db, tmp_path, clock):
    root = tmp_path / "m365"
    d = None
    if request.param == "local":
        backend = build_backend(
            GraphSettings(_env_file=None), db=sqlite_db, school=school, local_dir=root, managers=MANAGERS, clock=clock
        )
        ctx = M365("local", backend, ALL_STAFF_GROUP, root)
    else:
        # A small page size so paging is exercised on every roster read.
        d = await seeded_double(school, page_size=6)
        backend = build_backend(
            graph_settings(d), db=sqlite_db, school=school, local_dir=root, credential=StaticTokenCredential(d.token)
        )
        ctx = M365("msgraph", backend, GRAPH_ALL_STAFF, root, double=d)
    await backend.verify()
    yield ctx
    await backend.close()
    if d is not None:
        await d.close()


@pytest.fixture
async def graph_backend(double, school, sqlite_db, tmp_path):
    """The msgraph backend against the double, for tests about Graph-specific behaviour."""
    backends = []

    def make(**over):
        credential = over.pop("credential", None) or StaticTokenCredential(double.token)
        b = build_backend(
            graph_settings(double, **over),
            db=sqlite_db,
            school=school,
            local_dir=tmp_path / "m365",
            credential=credential,
        )
        backends.append(b)
        return b

    make.default = make()
    yield make
    for b in backends:
        await b.close()
