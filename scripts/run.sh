#!/usr/bin/env bash
# Run the bot and the Microsoft 365 Agents Playground (a local Teams emulator) together, offline.
#
#   scripts/run.sh                      you are Amara Okafor (DSL) at http://127.0.0.1:56150
#   scripts/run.sh --as tom.hollis      be someone else (see infra/playground/people/)
#   scripts/run.sh --all                one Playground per person, on 56150, 56151, …
#   scripts/run.sh --fresh              start from an empty demo database
#   scripts/run.sh --school my.yaml     your own school: its people, team and channel in the Playground
#   scripts/run.sh --today 2026-12-07   the bot's clock starts on that day (local mode only): see reminders
#
# The bot serves http://127.0.0.1:3978/api/messages in local mode (no bot credentials: anonymous calls accepted,
# loopback only) with the demo school, SQLite under data/ and the local Microsoft 365 backend (data/m365).
# With --school, the Playground configs are built from that file (infra/playground/make_configs.py) into
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
bot_port="${PORT:-3978}"
pg_port=56150

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  cat <<EOF

Options:
  --as STAFF_ID   who you are in the Playground (default: the school's first person; the demo: amara.okafor);
                  several, comma-separated: one Playground each
  --all           one Playground per person, on consecutive ports from --pg-port
  --school FILE   a school config of your own (default: infra/demo/school.yaml)
  --today DATE    YYYY-MM-DD or YYYY-MM-DDTHH:MM: the bot's clock starts then (school time) and runs on; a date
                  alone starts at the reminders' send_at time. Local mode only (DEMO_TODAY)
  --port N        the bot's port (default: \$PORT or 3978)
  --pg-port N     the (first) Playground's port (default: 56150)
  --fresh         delete the demo database and local Microsoft 365 files first
  --open          open the Playground in your browser
  -h, --help      this text
People: $(ls "$people_dir" 2>/dev/null | tr '\n' ' ')
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
    -h|--help) usage; exit 0 ;;
    *) echo "run: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

scripts/setup.sh

data_dir="data"
school_file="$root/infra/demo/school.yaml"
if [ -n "$school" ]; then
  [ -f "$school" ] || { echo "run: no such school config: $school" >&2; exit 2; }
  school_file="$(cd "$(dirname "$school")" && pwd)/$(basename "$school")"
  slug="$(basename "$school_file")"; slug="${slug%.*}"
  people_dir="data/playground/$slug/people"
  data_dir="data/$slug"
  as_args=()
  [ -n "$who" ] && as_args=(--as "$who")
  # Writes that school's configs (the first five with an aad_object_id, or those named) and lists them.
  listed="$(.venv/bin/python infra/playground/make_configs.py --school "$school_file" --out "$people_dir" \
    "${as_args[@]}" --print-people)" || exit 2
  mapfile -t generated <<< "$listed"
  [ ${#generated[@]} -gt 0 ] || { echo "run: no Playground configs were made from $school" >&2; exit 2; }
  [ -n "$who" ] || who="${generated[0]}"
else
  if ! .venv/bin/python infra/playground/make_configs.py --check; then
    echo "run: warning: the Playground configs do not match infra/demo/school.yaml (see above)" >&2
  fi
  [ -n "$who" ] || who="amara.okafor"
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

# Local mode, whatever .env says: empty bot credentials (the environment wins over .env).
start - "$root" env PORT="$bot_port" HOST=127.0.0.1 MicrosoftAppId= MicrosoftAppPassword= \
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
  echo "  To be someone else: scripts/run.sh$school_opt --as <staff-id>   ($(ls "$people_dir" | tr '\n' ' '))"
  echo "  To be everyone at once: scripts/run.sh$school_opt --all"
fi
echo "  Ctrl-C stops everything."
echo

# Run until Ctrl-C, or until one of them stops on its own.
set +e
wait -n "${pids[@]}"
echo "run: a process stopped (exit $?); stopping the others" >&2
exit 1
