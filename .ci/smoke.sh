#!/usr/bin/env bash
# Smoke test: start the server the way the README says (`npm start`) on a throwaway data folder,
# create a cluster and an organiser with the CLI, call one authenticated endpoint with and without
# the API key, then stop the server with SIGTERM and expect a clean exit.
#
# Prints one `ok N - ...` / `not ok N - ...` line per check (always the same number of checks) and
# exits non-zero if any check failed. Called by .ci/run; can also be run by hand: `bash .ci/smoke.sh`.
# Settings: SMOKE_PORT (default: a free port), SMOKE_LOG_DIR (keeps the server and CLI output there),
# SMOKE_READY_SECONDS (default 60), SMOKE_BUILD_SECONDS (time allowed for npm start's prestart build,
# default 300), SMOKE_STOP_SECONDS (default 15).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

READY_SECONDS=${SMOKE_READY_SECONDS:-60}
BUILD_SECONDS=${SMOKE_BUILD_SECONDS:-300}
STOP_SECONDS=${SMOKE_STOP_SECONDS:-15}
CLI_SECONDS=120

WORK=''
if [[ -n ${SMOKE_LOG_DIR:-} ]]; then
  LOG_DIR=$SMOKE_LOG_DIR
  mkdir -p "$LOG_DIR" || exit 2
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/convene-smoke.XXXXXX") || exit 2
  LOG_DIR=$WORK
fi
DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/convene-smoke-data.XXXXXX") || exit 2

NPM_PID=''
SERVER_PID=''
CHECK=0
FAILED=0

ok() { CHECK=$((CHECK + 1)); echo "ok $CHECK - $*"; }
not_ok() { CHECK=$((CHECK + 1)); FAILED=$((FAILED + 1)); echo "not ok $CHECK - $*"; }
note() { echo "# $*"; }

# alive PID: the process exists and is not a zombie (a finished child stays a zombie until waited for).
alive() {
  local line state
  [[ -n ${1:-} && -r /proc/$1/stat ]] || return 1
  read -r line 2>/dev/null < "/proc/$1/stat" || return 1
  line=${line##*) }
  state=${line%% *}
  [[ $state != Z && $state != X ]]
}

# descendants PID: every descendant pid of PID, read from /proc (no pgrep/ps needed).
descendants() {
  local -A kids=()
  local stat line rest pid ppid
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null < "$stat" || continue
    pid=${line%% *}
    rest=${line##*) }
    read -r _ ppid _ <<< "$rest"
    kids[$ppid]+="$pid "
  done
  local queue=("$1") next
  while ((${#queue[@]})); do
    next=${queue[0]}
    queue=("${queue[@]:1}")
    for pid in ${kids[$next]:-}; do
      echo "$pid"
      queue+=("$pid")
    done
  done
}

# find_server_pid: the node process running dist/scripts/server.js under the `npm start` process.
find_server_pid() {
  local pid cmd argv0
  for pid in $(descendants "$NPM_PID"); do
    cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    argv0=${cmd%% *}
    # The node process itself, not the `sh -c "node dist/scripts/server.js"` that npm runs it through.
    if [[ ${argv0##*/} == node && $cmd == *dist/scripts/server.js* ]]; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

cleanup() {
  local pid
  for pid in $SERVER_PID $NPM_PID; do
    alive "$pid" && kill -TERM "$pid" 2>/dev/null
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive "$SERVER_PID" || alive "$NPM_PID" || break
    sleep 0.5
  done
  for pid in $SERVER_PID $NPM_PID; do
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
  done
  [[ -n $NPM_PID ]] && wait "$NPM_PID" 2>/dev/null
  rm -rf "$DATA_DIR"
  [[ -n $WORK ]] && rm -rf "$WORK"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

with_timeout() { # with_timeout SECONDS command... (plain run where coreutils' timeout is missing)
  local seconds=$1
  shift
  if command -v timeout > /dev/null; then timeout -k 10 "$seconds" "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# http METHOD PATH [curl args...]: prints the status code (000 when nothing answered); body in $LOG_DIR/body.
http() {
  local method=$1 path=$2
  shift 2
  curl -sS -o "$LOG_DIR/body" -w '%{http_code}' --max-time 10 -X "$method" "$@" \
    "http://127.0.0.1:$PORT$path" 2>> "$LOG_DIR/curl.log" || true
}

# json_field NAME < json: prints the first value of NAME found anywhere in the JSON on stdin.
json_field() {
  node -e '
    const name = process.argv[1];
    let text = "";
    process.stdin.on("data", (c) => (text += c)).on("end", () => {
      let doc;
      try { doc = JSON.parse(text); } catch {
        const lines = text.trim().split("\n").reverse();
        for (const line of lines) { try { doc = JSON.parse(line); break; } catch {} }
      }
      const find = (v) => {
        if (v === null || typeof v !== "object") return undefined;
        if (Object.prototype.hasOwnProperty.call(v, name) && typeof v[name] === "string") return v[name];
        for (const child of Object.values(v)) { const f = find(child); if (f !== undefined) return f; }
        return undefined;
      };
      const found = find(doc);
      if (found === undefined) process.exit(1);
      process.stdout.write(found);
    });' "$1"
}

PORT=${SMOKE_PORT:-$(free_port)}
if [[ -z $PORT ]]; then
  echo "not ok 1 - could not pick a free port"
  exit 1
fi
# Only the variables this smoke test means to set: a developer's own settings must not leak in.
unset DATABASE_PATH SMTP_URL PUBLIC_BASE_URL SECRET_KEY TRUST_PROXY MAIL_WORKER
export DATA_DIR PORT HOST=127.0.0.1 LOG_LEVEL=info
note "node $(node --version), port $PORT, data folder $DATA_DIR, logs in $LOG_DIR"

# 1. The server starts with `npm start` and becomes ready.
npm start > "$LOG_DIR/server.log" 2>&1 < /dev/null &
NPM_PID=$!
ready=false
reason=''
start=$SECONDS
# npm start first runs the build (prestart); the readiness clock starts once the server process exists.
while ((SECONDS - start < BUILD_SECONDS)); do
  if ! alive "$NPM_PID"; then
    reason='npm start exited before the server was ready'
    break
  fi
  if SERVER_PID=$(find_server_pid); then break; fi
  SERVER_PID=''
  sleep 0.5
done
if [[ -z $SERVER_PID && -z $reason ]]; then
  reason="no server process (node dist/scripts/server.js) appeared within ${BUILD_SECONDS}s"
fi
if [[ -n $SERVER_PID ]]; then
  note "npm start pid $NPM_PID, server (node) pid $SERVER_PID, started after $((SECONDS - start))s"
  ready_start=$SECONDS
  while ((SECONDS - ready_start < READY_SECONDS)); do
    if ! alive "$SERVER_PID"; then
      reason='the server process exited before it was ready'
      break
    fi
    if [[ $(http GET /readyz) == 200 ]]; then
      ready=true
      break
    fi
    sleep 0.5
  done
  [[ $ready == false && -z $reason ]] && reason="GET /readyz did not answer 200 within ${READY_SECONDS}s"
fi
if $ready; then
  ok "server started with npm start answers GET /readyz 200 ($((SECONDS - start))s)"
else
  not_ok "server started with npm start answers GET /readyz 200: $reason"
  tail -n 20 "$LOG_DIR/server.log" | sed 's/^/#   /'
fi

# 2. The CLI creates a cluster (same DATA_DIR, so the same database as the server).
cluster_ok=false
with_timeout "$CLI_SECONDS" npm run --silent convene -- cluster create --slug smoke --name "Smoke Cluster" --json \
  > "$LOG_DIR/cluster-create.out" 2> "$LOG_DIR/cluster-create.err" < /dev/null
rc=$?
if ((rc == 0)) && json_field slug < "$LOG_DIR/cluster-create.out" > /dev/null; then
  cluster_ok=true
  ok "CLI: cluster create --slug smoke --json"
elif ((rc == 0)); then
  not_ok "CLI: cluster create --slug smoke --json: exit 0 but no JSON with a slug on stdout"
  head -c 600 "$LOG_DIR/cluster-create.out" | sed 's/^/#   /'
else
  not_ok "CLI: cluster create --slug smoke --json: exit code $rc"
  tail -n 10 "$LOG_DIR/cluster-create.err" | sed 's/^/#   /'
fi

# 3. The CLI creates an organiser and prints its API key once.
api_key=''
with_timeout "$CLI_SECONDS" npm run --silent convene -- organiser create --cluster smoke --email org@example.org --name "Org" --json \
  > "$LOG_DIR/organiser-create.out" 2> "$LOG_DIR/organiser-create.err" < /dev/null
rc=$?
if ((rc == 0)) && api_key=$(json_field apiKey < "$LOG_DIR/organiser-create.out") && [[ -n $api_key ]]; then
  ok "CLI: organiser create --cluster smoke --json prints an apiKey"
elif ((rc == 0)); then
  api_key=''
  not_ok "CLI: organiser create --cluster smoke --json: exit 0 but no apiKey in the JSON on stdout"
  head -c 600 "$LOG_DIR/organiser-create.out" | sed 's/^/#   /'
else
  api_key=''
  not_ok "CLI: organiser create --cluster smoke --json: exit code $rc$($cluster_ok || echo ' (cluster create had failed)')"
  tail -n 10 "$LOG_DIR/organiser-create.err" | sed 's/^/#   /'
fi

# 4. The API key works on an authenticated endpoint.
body='{"name":"Smoke Cluster Renamed"}'
if ! $ready; then
  not_ok "PATCH /v1/clusters/smoke with the API key answers 200: skipped, the server is not ready"
elif [[ -z $api_key ]]; then
  not_ok "PATCH /v1/clusters/smoke with the API key answers 200: skipped, no API key"
else
  status=$(http PATCH /v1/clusters/smoke -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' --data "$body")
  if [[ $status == 200 ]] && grep -q 'Smoke Cluster Renamed' "$LOG_DIR/body"; then
    ok "PATCH /v1/clusters/smoke with the API key answers 200 with the new name"
  else
    not_ok "PATCH /v1/clusters/smoke with the API key answers 200 with the new name: got $status"
    head -c 600 "$LOG_DIR/body" | sed 's/^/#   /'
    echo
  fi
fi

# 5. Without the key the same call is refused.
if ! $ready; then
  not_ok "PATCH /v1/clusters/smoke without a key answers 401: skipped, the server is not ready"
else
  status=$(http PATCH /v1/clusters/smoke -H 'Content-Type: application/json' --data "$body")
  if [[ $status == 401 ]]; then
    ok "PATCH /v1/clusters/smoke without a key answers 401"
  else
    not_ok "PATCH /v1/clusters/smoke without a key answers 401: got $status"
    head -c 600 "$LOG_DIR/body" | sed 's/^/#   /'
    echo
  fi
fi

# 6. SIGTERM to `npm start` (what a supervisor or a terminal sends) ends the server cleanly: it logs
#    "shutting down", exits within STOP_SECONDS, and npm ends with it (0, or 143 when npm itself was the
#    one signalled and the server stopped on seeing its parent gone).
if [[ -z $SERVER_PID ]] || ! alive "$SERVER_PID"; then
  not_ok "SIGTERM to npm start stops the server cleanly within ${STOP_SECONDS}s: skipped, no running server process"
else
  kill -TERM "$NPM_PID"
  stop_start=$SECONDS
  while { alive "$SERVER_PID" || alive "$NPM_PID"; } && ((SECONDS - stop_start < STOP_SECONDS)); do sleep 0.2; done
  if alive "$SERVER_PID"; then
    not_ok "SIGTERM to npm start stops the server cleanly within ${STOP_SECONDS}s: the server still runs after ${STOP_SECONDS}s"
    tail -n 10 "$LOG_DIR/server.log" | sed 's/^/#   /'
  elif alive "$NPM_PID"; then
    not_ok "SIGTERM to npm start stops the server cleanly: the server ended but npm start did not"
  else
    wait "$NPM_PID"
    rc=$?
    NPM_PID=''
    if ! grep -q '"msg":"shutting down"' "$LOG_DIR/server.log"; then
      not_ok "SIGTERM to npm start stops the server cleanly: the server did not log shutting down (killed?)"
      tail -n 10 "$LOG_DIR/server.log" | sed 's/^/#   /'
    elif ((rc == 0 || rc == 143)); then
      ok "SIGTERM to npm start stops the server cleanly ($((SECONDS - stop_start))s, npm exit code $rc)"
    else
      not_ok "SIGTERM to npm start stops the server cleanly: npm exit code $rc"
      tail -n 10 "$LOG_DIR/server.log" | sed 's/^/#   /'
    fi
  fi
fi

note "smoke: $((CHECK - FAILED)) ok, $FAILED not ok"
((FAILED == 0))
