#!/usr/bin/env bash
# Idempotent set-up for a fresh clone: .venv with pinned Python deps, the Agents Playground (npm, pinned,
# project-local) and, with --test, Debian chromium for the end-to-end tests. Re-running is fast: each step is
# skipped when the stamp of its inputs has not changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$py" -m venv .venv
fi
reqs="requirements.txt"
[ $want_test = 1 ] && reqs="requirements-test.txt"
stamp=".venv/.stamp-$(basename "$reqs" .txt)"
sum="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "setup: installing Python dependencies from $reqs"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$reqs" 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$sum" > "$stamp"
fi

# Microsoft 365 Agents Playground, pinned in infra/playground/package.json (lock file committed).
pg="infra/playground"
pgsum="$(cat "$pg/package.json" "$pg/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ ! -f "$pg/node_modules/.stamp" ] || [ "$(cat "$pg/node_modules/.stamp")" != "$pgsum" ]; then
  echo "setup: installing the Agents Playground (npm)"
  (cd "$pg" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$pgsum" > "$pg/node_modules/.stamp"
fi

if [ $want_test = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian chromium for the end-to-end tests"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
fi
mkdir -p data
