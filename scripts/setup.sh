#!/usr/bin/env bash
# Idempotent set-up for a fresh clone: .venv with pinned Python deps, the Agents Playground (npm, pinned,
# project-local) and, with --test, Debian chromium for the end-to-end tests plus the infrastructure checkers
# (--infra alone: only those): .venv-infra with checkov + pycep-parser (requirements-infra.txt, a venv of its own so
# checkov's pins never move the bot's) and the Agents Toolkit CLI (infra/toolkit, npm). Re-running is fast: each
# step is skipped when the stamp of its inputs has not changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
want_test=0
want_infra=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1; want_infra=1 ;;
    --infra) want_infra=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$py" -m venv .venv
fi
reqs="requirements.txt"
[ $want_test = 1 ] && reqs="requirements-test.txt"
stamp=".venv/.stamp-$(basename "$reqs" .txt)"
# The bot's venv depends on requirements.txt and requirements-test.txt only (requirements-infra.txt has its own venv).
sum="$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)"
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

# The dashboard tab's Teams JavaScript library (@microsoft/teams-js, pinned in infra/tab/package.json, lock file
# committed). The bot serves the built file itself (bot/dashboard/static/vendor/, git-ignored but deployed: run this
# before `atk deploy`), so the tab loads nothing from a CDN.
tab="infra/tab"
tabsum="$(cat "$tab/package.json" "$tab/package-lock.json" | sha256sum | cut -d' ' -f1)"
vendor="bot/dashboard/static/vendor/MicrosoftTeams.min.js"
if [ ! -f "$tab/node_modules/.stamp" ] || [ "$(cat "$tab/node_modules/.stamp")" != "$tabsum" ] || [ ! -f "$vendor" ]; then
  echo "setup: installing the Teams JavaScript library for the dashboard tab (npm)"
  (cd "$tab" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  mkdir -p "$(dirname "$vendor")"
  cp "$tab/node_modules/@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js" "$vendor"
  echo "$tabsum" > "$tab/node_modules/.stamp"
fi

if [ $want_infra = 1 ]; then
  isum="$(sha256sum requirements-infra.txt | cut -d' ' -f1)"
  if [ ! -f .venv-infra/.stamp ] || [ "$(cat .venv-infra/.stamp)" != "$isum" ]; then
    echo "setup: installing the Bicep checkers (checkov, pycep-parser) into .venv-infra"
    [ -x .venv-infra/bin/python ] || "$py" -m venv .venv-infra
    .venv-infra/bin/python -m pip install -q --disable-pip-version-check -r requirements-infra.txt 2>&1 \
      | { grep -v "^WARNING: Location" || true; }
    echo "$isum" > .venv-infra/.stamp
  fi
  tk="infra/toolkit"
  tksum="$(cat "$tk/package.json" "$tk/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$tk/node_modules/.stamp" ] || [ "$(cat "$tk/node_modules/.stamp")" != "$tksum" ]; then
    echo "setup: installing the Agents Toolkit CLI (npm, for the offline manifest check)"
    # --ignore-scripts: keytar's install script would build a native keychain module (or download a prebuilt one);
    # validating a manifest never touches it.
    (cd "$tk" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$tksum" > "$tk/node_modules/.stamp"
  fi
fi

if [ $want_test = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian chromium for the end-to-end tests"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
fi
mkdir -p data
