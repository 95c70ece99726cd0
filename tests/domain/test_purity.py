"""The domain core stays pure: no SDK, no database, no network or files, no clock reads (GUIDE §1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain"
MODULES = sorted(DOMAIN.glob("*.py"))

FORBIDDEN_IMPORTS = (
    "botbuilder",
    "botframework",
    "sqlalchemy",
    "aiohttp",
    "msgraph",
    "azure",
    "requests",
    "httpx",
    "socket",
    "os",
    "time",
    "pathlib",
    "yaml",
    "bot.store",
    "bot.teams",
    "bot.graph",
    "bot.journeys",
    "bot.settings",
    "cards",
)
#: attribute calls that read a clock or change process state (``datetime.now()``, ``date.today()`` …); a
#: datetime's own ``.time()`` is fine, so ``time`` is only forbidden as ``time.time()`` via the import ban above
FORBIDDEN_ATTR_CALLS = {"now", "today", "utcnow", "monotonic", "perf_counter", "tzset", "read_text", "write_text"}
FORBIDDEN_NAME_CALLS = {"open", "input", "print"}


def test_there_are_domain_modules_to_check():
    names = {m.name for m in MODULES}
    assert {"calendar.py", "slots.py", "compliance.py", "allocation.py"} <= names


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_forbidden_imports(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            bad = [f for f in FORBIDDEN_IMPORTS if name == f or name.startswith(f + ".")]
            assert not bad, f"{module.name}:{node.lineno} imports {name}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_clock_or_file_calls(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Attribute):
                assert fn.attr not in FORBIDDEN_ATTR_CALLS, f"{module.name}:{node.lineno} calls .{fn.attr}()"
            elif isinstance(fn, ast.Name):
                assert fn.id not in FORBIDDEN_NAME_CALLS, f"{module.name}:{node.lineno} calls {fn.id}()"
