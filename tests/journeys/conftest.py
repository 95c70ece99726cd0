"""The journey suite runs on both Microsoft 365 backends: the local one and msgraph-sdk against the Graph double
(with SQLite only; see tests/conftest.py), so a journey that works locally and breaks on Graph fails CI."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["local", pytest.param("msgraph", marks=pytest.mark.graph)])
def m365_backend(request) -> str:
    return request.param
