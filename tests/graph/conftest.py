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
from tests.fakes.graph_double import GraphDouble, StaticTokenCredential, seed_from_school

TEAM_ID = "8f3c2a10-6b7e-4d55-9a2f-1c0de5a1b2c3"
CHANNEL_ID = "19:4b1d3c2e9f8a4e7d@thread.tacv2"
TEAMS_APP_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
GRAPH_ALL_STAFF = "3d2f5a70-1c4b-4e8d-9f6a-2b7c8d9e0a1f"
# Staff id → manager's staff id, the same for both backends (the school config has no managers).
MANAGERS = {"tom.hollis": "amara.okafor", "priya.raman": "daniel.whitcombe"}


def graph_settings(double: GraphDouble, **over) -> GraphSettings:
    values: dict[str, Any] = dict(
        tenant_id="00000000-0000-4000-8000-00000000aaaa",
        client_id="00000000-0000-4000-8000-00000000bbbb",
        client_secret="not-used",
        base_url=double.url,
        team_id=TEAM_ID,
        safeguarding_channel_id=CHANNEL_ID,
        teams_app_id=TEAMS_APP_ID,
        sdk_max_retries=0,
        timeout_seconds=10,
        simple_upload_max_bytes=256 * 1024,
        upload_chunk_bytes=320 * 1024,
    )
    values.update(over)
    return GraphSettings(_env_file=None, **values)


async def seeded_double(school, **kw) -> GraphDouble:
    d = await GraphDouble(**kw).start()
    seed_from_school(d, school, all_staff_group=GRAPH_ALL_STAFF, managers=MANAGERS)
    d.add_channel(TEAM_ID, CHANNEL_ID, "Safeguarding")
    d.add_catalog_app(TEAMS_APP_ID)
    return d


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
