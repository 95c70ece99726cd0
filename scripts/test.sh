#!/usr/bin/env bash
# The README's *test* command: set-up (venv, pinned deps, Playground, Debian chromium) then the whole suite —
# domain, cards, store on SQLite and PostgreSQL, journeys against the Graph double, and end-to-end in the
# Playground with headless Chromium, after ruff (lint + format check). Extra arguments go to pytest (e.g. scripts/test.sh -m "not e2e").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh --test
export PYTHONHASHSEED=0
# Never reach beyond this machine from tests: Chromium and the Playground get no proxy, and Microsoft 365 is
# always the local backend or the Graph double.
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
# Lint and format first (ruff, pinned in requirements-test.txt, configured in pyproject.toml): a style slip fails
# fast, before the long run.
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "test: pytest collected no tests — treating as a failure" >&2
  exit 1
fi
exit $rc
