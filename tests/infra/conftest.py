"""Shared helpers for the infrastructure checks: tools that live outside the bot's venv (checkov in .venv-infra,
the Agents Toolkit CLI under infra/toolkit). Missing → skipped with the reason; under CI=true → a failure, because
CI (scripts/test.sh → setup.sh --test) always installs them."""

from __future__ import annotations

import os

import pytest


def need_tool(path, what: str, how: str = "bash scripts/setup.sh --infra"):
    if path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"CI=true but {what} is not installed at {path} (scripts/test.sh installs it with `{how}`)")
    pytest.skip(f"{what} is not installed at {path}; install it with `{how}`")
