#!/usr/bin/env bash
# Run the bot and the Microsoft 365 Agents Playground (a local Teams emulator) together, offline.
#
#   scripts/run.sh                      the demo trust; you are Amara Okafor (Kestrel Brook's DSL) at :56150
#   scripts/run.sh --as tom.hollis      be someone else: anyone of the trust's three schools, or a trust lead
#   scripts/run.sh --all                one Playground per person of infra/playground/people/, on 56150, 56151, …
#   scripts/run.sh --fresh              start from an empty demo database
#   scripts/run.sh --school infra/demo/school.yaml   Kestrel Brook alone (a school on its own)
#   scripts/run.sh --school my.yaml     your own school (or trust): its people, team and channel in the Playground
#   scripts/run.sh --today 2026-12-07   the bot's clock starts on that day (local mode only): see reminders
#
# The bot serves http://127.0.0.1:3978/api/messages in local mode (no bot credentials: anonymous calls accepted,
# loopback only) with the demo trust (infra/demo/trust.yaml: Kestrel Brook, Lapwing Fields, Merrow Hill), SQLite
# under data/ and the local Microsoft 365 backend (data/m365). Kestrel Brook's five have committed Playground
# configs (infra/playground/people/); anyone else named with --as gets one built by infra/playground/make_configs.py
# into data/playground/trust/people/. Priya Raman supervises in two schools: the bot asks her which one she means
# ('switch school' asks again). With --school, the configs are built from that file into
# data/playground/<file name>/people/, and its data lives apart, in data/<file name>/.
# Ctrl-C stops everything. Re-running is quick: scripts/setup.sh skips what is already installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

people_dir="infra/playground/people"
cli="infra/playground/node_modules/@microsoft/m365agentsplayground/cli.js"
who=""
school=""
today=""
all=0
fresh=0
open_browser=0
dry_run=0
bot_port="${PORT:-3978}"
pg_port=56150

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  cat <<EOF

Options:
  --as STAFF_ID   who you are in the Playground (default: the school's first person; the demo: amara.okafor):
                  anyone of any school of the trust, or a trust lead (helena.marwood, patrick.ennis);
                  several, comma-separated: one Playground each
  --all           one Playground per person, on consecutive ports from --pg-port
  --school FILE   a school config or trust file of your own (default: the demo trust, infra/demo/trust.yaml)
  --today DATE    YYYY-MM-DD or YYYY-MM-DDTHH:MM: the bot's clock starts then (school time) and runs on; a date
                  alone starts at the reminders' send_at time. Local mode only (DEMO_TODAY)
  --port N        the bot's port (default: \$PORT or 3978)
  --pg-port N     the (first) Playground's port (default: 56150)
  --fresh         delete this run's database and local Microsoft 365 files first
  --open          open the Playground in your browser
  --dry-run       print the config, data directory and Playground configs this run would use; start nothing
  -h, --help      this text
People: $(ls "$people_dir" 2>/dev/null | tr '\n' ' ')(in the demo trust also anyone of its three schools, or a trust lead)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --as) who="${2:?--as needs a staff id}"; shift 2 ;;
    --as=*) who="${1#--as=}"; shift ;;
    --school) school="${2:?--school needs a file}"; shift 2 ;;
    --school=*) school="${1#--school=}"; shift ;;
    --today) today="${2:?--today needs a date}"; shift 2 ;;
    --today=*) today="${1#--today=}"; shift ;;
    --all) all=1; shift ;;
    --port) bot_port="${2:?}"; shift 2 ;;
    --pg-port) pg_port="${2:?}"; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --open) open_browser=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

[ $dry_run = 1 ] || scripts/setup.sh

# Which school (or trust) runs from which data directory:
# - no --school: the demo trust, from data/ — the directory the demo school used when it ran alone by default, so a
#   developer's demo data survives: a database from before trusts has no school on its rows, and migration 0900 gives
#   them to the trust's first school, Kestrel Brook (key kestrel-brook). Kestrel Brook's school file names no key, so
#   on its own it keeps the one-school default key 'school' (giving it one now would strand the rows of every
#   single-school demo database already migrated) — which is why it never shares a database with the trust: the bot
#   refuses rows of a school its config does not list (bot/app.py, _check_school_keys). One exception, below: a data/ database already made by the demo
#   school alone *after* 0900 (its rows say 'school') is left as it is, and the trust runs from data/trust/.
# - --school FILE: that file, from data/<file name>/ (so --school infra/demo/school.yaml, Kestrel Brook alone, runs
#   from data/school/, and --school infra/demo/trust.yaml from data/trust/).
data_dir="data"
demo_trust="$root/infra/demo/trust.yaml"
school_file="$demo_trust"
as_args=()
[ -n "$who" ] && as_args=(--as "$who")
if [ -n "$school" ]; then
  [ -f "$school" ] || { echo "run: no such school config: $school" >&2; exit 2; }
  school_file="$(cd "$(dirname "$school")" && pwd)/$(basename "$school")"
  slug="$(basename "$school_file")"; slug="${slug%.*}"
  people_dir="data/playground/$slug/people"
  data_dir="data/$slug"
  # Writes that school's configs (the first five with an aad_object_id, or those named) and lists them.
  listed="$(.venv/bin/python infra/playground/make_configs.py --school "$school_file" --out "$people_dir" \
    "${as_args[@]}" --print-people)" || exit 2
  mapfile -t generated <<< "$listed"
  [ ${#generated[@]} -gt 0 ] || { echo "run: no Playground configs were made from $school" >&2; exit 2; }
  [ -n "$who" ] || who="${generated[0]}"
else
  if ! .venv/bin/python infra/playground/make_configs.py --school "$demo_trust" --check; then
    echo "run: warning: the Playground configs do not match infra/demo/school.yaml (see above)" >&2
  fi
  [ -n "$who" ] || who="amara.okafor"
  # Kestrel Brook's five are committed; anyone else of the trust (another school's staff, a trust lead) gets a
  # config built from the trust file, with everyone named, in data/playground/trust/people/.
  IFS=',' read -r -a named <<< "$who"
  for p in "${named[@]}"; do
    if [ ! -f "$people_dir/$p/.m365agentsplayground.yml" ]; then
      people_dir="data/playground/trust/people"
      .venv/bin/python infra/playground/make_configs.py --school "$demo_trust" --out "$people_dir" \
        --as "$who" >/dev/null || exit 2
      break
    fi
  done
  # The exception above: which school keys does data/'s database hold that the trust does not list?
  stray="$(.venv/bin/python - "$data_dir/supervision.sqlite3" "$demo_trust" <<'PY'
import sqlite3, sys
from pathlib import Path

db = Path(sys.argv[1])
if not db.is_file():
    sys.exit(0)
sys.path.insert(0, ".")
from bot.school.trust import load_deployment

keys = set(load_deployment(sys.argv[2]).schools)
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
found = set()
for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
    if "school_id" in {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}:
        found.update(k for (k,) in con.execute(f'SELECT DISTINCT school_id FROM "{table}"') if k is not None)
print(" ".join(sorted(found - keys)))
PY
)" || stray=""
  if [ -n "$stray" ]; then
    echo "run: data/supervision.sqlite3 is the demo school's on its own (school key: $stray), not the trust's;" \
      "it is kept as it is, and the demo trust runs from data/trust/" >&2
    data_dir="data/trust"
  fi
fi
first="${who%%,*}"

if [ $all = 1 ]; then
  mapfile -t people < <(ls "$people_dir")
  # The first person first, so their window keeps the well-known port.
  people=("$first" $(printf '%s\n' "${people[@]}" | grep -vx "$first"))
else
  IFS=',' read -r -a people <<< "$who"
  for p in "${people[@]}"; do
    if [ ! -f "$people_dir/$p/.m365agentsplayground.yml" ]; then
      echo "run: no Playground config for '$p'. People: $(ls "$people_dir" | tr '\n' ' ')" >&2
      exit 2
    fi
  done
fi

if [ $dry_run = 1 ]; then
  echo "config: ${school_file#"$root/"}"
  echo "data: $data_dir"
  echo "playground: $people_dir"
  echo "people: ${people[*]}"
  exit 0
fi

mkdir -p "$data_dir" data/logs data/playground
if [ $fresh = 1 ]; then
  echo "run: starting from an empty database ($data_dir)"
  rm -f "$data_dir/supervision.sqlite3"; rm -rf "$data_dir/m365"
fi

# ---- helpers -----------------------------------------------------------------------------------------------
http_ok() {  # http_ok URL [BODY]: the URL answers 200 (and, if given, exactly BODY)
  local out
  out="$(.venv/bin/python - "$1" <<'PY' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.stdout.write(r.read().decode() if r.status == 200 else "")
PY
)" || return 1
  [ -z "${2:-}" ] || [ "$out" = "$2" ]
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pids=()
start() {  # start LOGFILE DIR CMD…: run CMD in DIR as its own process group; LOGFILE "-" = this terminal
  local log="$1" dir="$2"; shift 2
  if [ "$log" = "-" ]; then (cd "$dir" && exec setsid "$@") &
  else (cd "$dir" && exec setsid "$@" >"$log" 2>&1) &
  fi
  pids+=($!)
}
stopping=0
cleanup() {
  [ $stopping = 1 ] && return
  stopping=1
  trap - INT TERM
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; echo "run: stopping"; exit 130' INT
trap 'exit 143' TERM

command -v setsid >/dev/null || { echo "run: needs setsid (util-linux)" >&2; exit 1; }
command -v node >/dev/null || { echo "run: needs node (for the Agents Playground)" >&2; exit 1; }

# ---- the bot -----------------------------------------------------------------------------------------------
if port_in_use "$bot_port"; then
  if http_ok "http://127.0.0.1:$bot_port/healthz"; then
    echo "run: a bot is already running on 127.0.0.1:$bot_port — stop it first, or use --port" >&2
  else
    echo "run: port $bot_port is in use — use --port" >&2
  fi
  exit 1
fi
for i in "${!people[@]}"; do
  if port_in_use $((pg_port + i)); then
    echo "run: port $((pg_port + i)) is in use (a Playground already running?) — stop it, or use --pg-port" >&2
    exit 1
  fi
done

# Local mode, whatever .env says: empty bot credentials (the environment wins over .env). MALLOC_ARENA_MAX=2 as
# App Service sets it (infra/azure.bicep): fewer glibc malloc arenas, a lower peak RSS (bench/README.md "Load").
start - "$root" env PORT="$bot_port" HOST=127.0.0.1 MicrosoftAppId= MicrosoftAppPassword= MALLOC_ARENA_MAX=2 \
  SCHOOL_CONFIG="$school_file" DEMO_TODAY="$today" \
  DATABASE_URL="sqlite+aiosqlite:///$root/$data_dir/supervision.sqlite3" LOCAL_M365_DIR="$root/$data_dir/m365" \
  PYTHONUNBUFFERED=1 "$root/.venv/bin/python" -m bot
bot_pid=${pids[0]}
for _ in $(seq 600); do
  http_ok "http://127.0.0.1:$bot_port/healthz" && break
  kill -0 "$bot_pid" 2>/dev/null || { echo "run: the bot did not start (see above)" >&2; exit 1; }
  sleep 0.1
done
http_ok "http://127.0.0.1:$bot_port/healthz" || { echo "run: the bot did not answer /healthz in 60s" >&2; exit 1; }

# ---- the Playground(s) ---------------------------------------------------------------------------------------
# --dt: no telemetry events; TEAMSAPPTESTER_BROWSER=none: do not open a browser; offline.cjs: listen on loopback
# only and never connect off the machine (the Application Insights client still starts under --dt).
browser_env="TEAMSAPPTESTER_BROWSER=none"
[ $open_browser = 1 ] && browser_env="TEAMSAPPTESTER_BROWSER=open"   # anything but "none"
for i in "${!people[@]}"; do
  p="${people[$i]}"; port=$((pg_port + i))
  start "$root/data/playground/$p.stdout.log" "$root/$people_dir/$p" \
    env "$browser_env" APPLICATION_INSIGHTS_NO_STATSBEAT=true \
    M365_AGENTS_PLAYGROUND_LOGFILE="$root/data/playground/$p.log" \
    node --require "$root/infra/playground/offline.cjs" "$root/$cli" \
    -e "http://127.0.0.1:$bot_port/api/messages" -c msteams --dt -p "$port" --su "http://127.0.0.1:$port/_connector"
  [ $open_browser = 1 ] && open_browser=0 && browser_env="TEAMSAPPTESTER_BROWSER=none"  # one tab is enough
done
for i in "${!people[@]}"; do
  p="${people[$i]}"; port=$((pg_port + i)); pid=${pids[$((i + 1))]}
  for _ in $(seq 300); do
    http_ok "http://127.0.0.1:$port/_debug/ping" pong && break
    kill -0 "$pid" 2>/dev/null || { echo "run: the Playground for $p stopped:"; tail -20 "data/playground/$p.stdout.log"; exit 1; } >&2
    sleep 0.1
  done
  http_ok "http://127.0.0.1:$port/_debug/ping" pong || { echo "run: the Playground for $p did not start" >&2; exit 1; }
done

name_of() { sed -n '/^currentUser:/,/^users:/s/^  name: //p' "$people_dir/$1/.m365agentsplayground.yml"; }
echo
echo "  Bot          http://127.0.0.1:$bot_port/api/messages  (local mode; log above; data in $data_dir/)"
for i in "${!people[@]}"; do
  printf '  Playground   http://127.0.0.1:%s   you are %s (%s)\n' $((pg_port + i)) "$(name_of "${people[$i]}")" "${people[$i]}"
done
echo
echo "  Type 'help' in the personal chat. In the Safeguarding channel or the group chat, @mention the bot first."
if [ $all = 0 ]; then
  school_opt=""; [ -n "$school" ] && school_opt=" --school $school"
  if [ -z "$school" ]; then
    echo "  To be someone else: scripts/run.sh --as <staff-id>   (anyone of infra/demo/school.yaml, lapwing-fields.yaml,"
    echo "    merrow-hill.yaml, e.g. corrie.halloran or yewande.okoro; a trust lead: helena.marwood, then type 'trust')"
    echo "  Priya Raman also supervises at Lapwing Fields: the bot asks her which school; 'switch school' asks again."
  else
    echo "  To be someone else: scripts/run.sh$school_opt --as <staff-id>   ($(ls "$people_dir" | tr '\n' ' '))"
  fi
  echo "  To be everyone at once: scripts/run.sh$school_opt --all"
fi
echo "  Ctrl-C stops everything."
echo

# Run until Ctrl-C, or until one of them stops on its own.
set +e
wait -n "${pids[@]}"
echo "run: a process stopped (exit $?); stopping the others" >&2
exit 1
