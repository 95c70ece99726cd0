#!/usr/bin/env bash
# Build the Teams app package for one environment: appPackage/build/appPackage.<env>.zip, from the manifest
# template appPackage/manifest.json filled with env/.env.<env> (+ the git-ignored env/.env.<env>.user).
#
#   scripts/package.sh            # local (fixed demo ids: works from a fresh clone)
#   scripts/package.sh dev        # after `atk provision --env dev` or DEPLOY.md step 1 filled env/.env.dev
#
# The build checks the manifest against the official schema (../shared/schemas, skipped with a message when it is
# absent; --require-schema makes that an error), the command menus against the bot's router, and the icons.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh >/dev/null
exec .venv/bin/python -m bot.apppackage "$@"
