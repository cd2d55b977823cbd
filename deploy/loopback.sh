#!/usr/bin/env bash
# A whole multi-process deployment on loopback: PostgreSQL (every store), a Chroma server, two app
# processes sharing one data folder, and nginx in front of them with sticky sessions.
#
#   deploy/loopback.sh start  [--base DIR] [--knowledge DIR] [--proxy-port N] [--apps N]
#   deploy/loopback.sh status [--base DIR]
#   deploy/loopback.sh stop   [--base DIR] [--clean]
#
# Everything listens on 127.0.0.1 only. State, logs, pid files and the generated nginx config live in
# --base (default ${TMPDIR:-/tmp}/advisor-deploy); `stop --clean` removes it. deploy/README.md explains the
# same layout for production hosts. Environment: PYTHON (the interpreter with the advisor's packages;
# default .venv/bin/python), and any other ADVISOR_* setting is passed to the app processes.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="${TMPDIR:-/tmp}/advisor-deploy"
KNOWLEDGE="$REPO/knowledge"
PROXY_PORT=8080
APPS=2
CLEAN=0

say() { echo "==> $*"; }
die() { echo "error: $*" >&2; exit 2; }

parse() {
  CMD="${1:-}"; [ $# -gt 0 ] && shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --base) BASE="$2"; shift 2 ;;
      --knowledge) KNOWLEDGE="$2"; shift 2 ;;
      --proxy-port) PROXY_PORT="$2"; shift 2 ;;
      --apps) APPS="$2"; shift 2 ;;
      --clean) CLEAN=1; shift ;;
      *) die "unknown option '$1'; see the top of $0 for usage" ;;
    esac
  done
  case "$CMD" in start|stop|status) ;; *) die "usage: $0 start|status|stop [--base DIR] [--knowledge DIR] [--proxy-port N] [--apps N] [--clean]" ;; esac
  [[ "$APPS" =~ ^[1-9][0-9]?$ ]] || die "--apps must be a number from 1 to 99 (got '$APPS')"
  [[ "$PROXY_PORT" =~ ^[0-9]+$ ]] || die "--proxy-port must be a port number (got '$PROXY_PORT')"
  mkdir -p "$BASE"
  BASE="$(cd "$BASE" && pwd)"
  RUN="$BASE/run"; LOGS="$BASE/logs"
}

find_python() {
  if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO/.venv/bin/python" ]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON="$(command -v python3 || true)"; fi
  fi
  "$PYTHON" -c "import chromadb, gradio, psycopg" 2>/dev/null \
    || die "'$PYTHON' lacks the advisor's packages; run scripts/install.sh or set PYTHON=/path/to/.venv/bin/python"
  CHROMA="$(dirname "$PYTHON")/chroma"
  [ -x "$CHROMA" ] || die "no 'chroma' command beside $PYTHON (it ships with the chromadb package)"
}

# Debian packages: installed with apt-get when missing and we are root; otherwise say what to run.
need_package() {  # need_package PACKAGE TEST-COMMAND...
  local pkg="$1"; shift
  "$@" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then die "$pkg is not installed: sudo apt-get install $pkg"; fi
  say "$pkg is not installed: installing Debian's package with apt-get (apt-get install -y $pkg)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null) \
    || die "apt-get could not install $pkg; install it by hand (apt-get install $pkg)"
  "$@" >/dev/null 2>&1 || die "$pkg was installed but is still not usable"
}

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

running() {  # running PID: exists and is not a zombie waiting to be reaped
  local state; state="$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null | awk '{print $1}')"
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
alive() { [ -f "$RUN/$1.pid" ] && running "$(cat "$RUN/$1.pid")"; }

wait_http() {  # wait_http NAME URL PIDNAME SECONDS: until the URL answers with any HTTP status
  local name="$1" url="$2" pidname="$3" limit="$4" waited=0 code
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
    [ "$code" != "000" ] && return 0
    alive "$pidname" || die "$name exited while starting; see $LOGS/$pidname.log"
    [ "$waited" -ge "$((limit * 2))" ] && die "$name did not answer at $url within ${limit}s; see $LOGS/$pidname.log"
    sleep 0.5; waited=$((waited + 1))
  done
}

spawn() {  # spawn NAME COMMAND...: detached from this shell, pid in run/NAME.pid, output in logs/NAME.log
  local name="$1"; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  local bin dir; bin="$(pg_bindir)"; dir="$BASE/postgres"
  if [ "$(id -u)" = 0 ]; then
    install -d -o postgres -g postgres "$dir" "$dir/sock"
    runuser -u postgres -- test -x "$dir" || die "the postgres user cannot enter $BASE; use a --base every user can traverse (chmod o+x on it and its parents)"
  else
    mkdir -p "$dir/sock"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    say "PostgreSQL: initdb $dir/data (trust on 127.0.0.1 only: for loopback, never for production)"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$LOGS/postgres-initdb.log" 2>&1 \
      || die "initdb failed; see $LOGS/postgres-initdb.log"
  fi
  say "PostgreSQL: starting on 127.0.0.1:$PG_PORT"
  [ "$(id -u)" = 0 ] && touch "$LOGS/postgres.log" && chown postgres "$LOGS/postgres.log"
  as_postgres "$bin/pg_ctl" -D "$dir/data" -w -l "$LOGS/postgres.log" \
    -o "-p $PG_PORT -k $dir/sock -c listen_addresses=127.0.0.1" start >/dev/null \
    || die "PostgreSQL did not start; see $LOGS/postgres.log"
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='advisor'" | grep -q 1 \
    || "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres advisor
}

start_chroma() {
  say "Chroma server: chroma run on 127.0.0.1:$CHROMA_PORT, folder $BASE/chroma"
  spawn chroma "$CHROMA" run --path "$BASE/chroma" --host 127.0.0.1 --port "$CHROMA_PORT"
  wait_http "the Chroma server" "http://127.0.0.1:$CHROMA_PORT/api/v2/heartbeat" chroma 120
}

start_apps() {
  # the settings every app process (and the ingest) shares; each app adds its own ADVISOR_PORT
  local shared=(ADVISOR_HOST=127.0.0.1 ADVISOR_CHROMA_HOST=127.0.0.1 "ADVISOR_CHROMA_PORT=$CHROMA_PORT"
                "ADVISOR_DATABASE_URL=$DATABASE_URL" "ADVISOR_DATA_DIR=$BASE/data" "ADVISOR_KNOWLEDGE_DIR=$KNOWLEDGE"
                GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1)
  say "ingest: one run against the Chroma server before any app starts (log: $LOGS/ingest.log)"
  (cd "$REPO" && env "${shared[@]}" "$PYTHON" ingest.py >"$LOGS/ingest.log" 2>&1) || die "ingest failed; see $LOGS/ingest.log"
  local i
  for i in "${!APP_PORTS[@]}"; do
    say "app $((i + 1)): python app.py on 127.0.0.1:${APP_PORTS[$i]}"
    (cd "$REPO" && spawn "app-$((i + 1))" env "${shared[@]}" "ADVISOR_PORT=${APP_PORTS[$i]}" "$PYTHON" app.py)
  done
  for i in "${!APP_PORTS[@]}"; do
    wait_http "app $((i + 1))" "http://127.0.0.1:${APP_PORTS[$i]}/gradio_api/info" "app-$((i + 1))" 300
  done
}

start_nginx() {
  local nginx; nginx="$(nginx_bin)"
  mkdir -p "$BASE/nginx/tmp"
  local upstreams=() port
  for port in "${APP_PORTS[@]}"; do upstreams+=(--upstream "127.0.0.1:$port"); done
  "$PYTHON" "$REPO/deploy/nginx_conf.py" --prefix "$BASE/nginx" --logs "$LOGS" --listen "127.0.0.1:$PROXY_PORT" \
    "${upstreams[@]}" > "$BASE/nginx/nginx.conf"
  "$nginx" -t -q -p "$BASE/nginx" -e "$LOGS/nginx-error.log" -c "$BASE/nginx/nginx.conf" \
    || die "nginx rejected $BASE/nginx/nginx.conf"
  say "nginx: proxy on http://127.0.0.1:$PROXY_PORT/ -> app ports ${APP_PORTS[*]}"
  "$nginx" -p "$BASE/nginx" -e "$LOGS/nginx-error.log" -c "$BASE/nginx/nginx.conf"
  for _ in $(seq 1 40); do [ -s "$BASE/nginx/nginx.pid" ] && break; sleep 0.25; done
  cp "$BASE/nginx/nginx.pid" "$RUN/nginx.pid"
  wait_http "nginx" "http://127.0.0.1:$PROXY_PORT/gradio_api/info" nginx 30
}

write_env() {
  {
    echo "BASE=$BASE"; echo "PROXY_URL=http://127.0.0.1:$PROXY_PORT/"; echo "PROXY_PORT=$PROXY_PORT"
    echo "CHROMA_PORT=$CHROMA_PORT"; echo "PG_PORT=$PG_PORT"; echo "DATABASE_URL=$DATABASE_URL"; echo "APPS=$APPS"
    echo "APP_PORTS=\"${APP_PORTS[*]}\""
    echo "DATA_DIR=$BASE/data"; echo "KNOWLEDGE_DIR=$KNOWLEDGE"; echo "LOGS=$LOGS"; echo "RUN=$RUN"
  } > "$BASE/deploy.env"
}

cmd_start() {
  [ -f "$BASE/deploy.env" ] && alive nginx && die "already running from $BASE (deploy/loopback.sh stop --base $BASE first)"
  [ -d "$KNOWLEDGE/docs" ] || die "no knowledge folder at $KNOWLEDGE (it needs docs/); pass --knowledge DIR"
  KNOWLEDGE="$(cd "$KNOWLEDGE" && pwd)"
  find_python
  need_package postgresql test -n "$(pg_bindir)"
  need_package nginx-light test -n "$(nginx_bin)"
  command -v curl >/dev/null || need_package curl command -v curl
  mkdir -p "$RUN" "$LOGS" "$BASE/data"
  [ "$PROXY_PORT" = 0 ] && PROXY_PORT="$(free_port)"
  PG_PORT="$(free_port)"; CHROMA_PORT="$(free_port)"
  APP_PORTS=()
  for _ in $(seq 1 "$APPS"); do APP_PORTS+=("$(free_port)"); done
  DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/advisor"
  write_env
  trap 'echo "error: start failed; stopping what was started" >&2; cmd_stop >&2 || true' EXIT
  start_postgres
  start_chroma
  start_apps
  start_nginx
  trap - EXIT
  say "up: http://127.0.0.1:$PROXY_PORT/  (state and logs in $BASE; stop with: deploy/loopback.sh stop --base $BASE)"
}

stop_pid() {  # stop_pid NAME SIGNAL SECONDS: signal, wait, then SIGKILL
  local name="$1" sig="$2" limit="$3" pid waited=0
  [ -f "$RUN/$name.pid" ] || return 0
  alive "$name" || { rm -f "$RUN/$name.pid"; say "$name: was not running"; return 0; }
  pid="$(cat "$RUN/$name.pid")"
  kill "-$sig" "$pid" 2>/dev/null || true
  while running "$pid"; do
    if [ "$waited" -ge "$((limit * 4))" ]; then kill -KILL "$pid" 2>/dev/null || true; say "$name: killed after ${limit}s"; break; fi
    sleep 0.25; waited=$((waited + 1))
  done
  rm -f "$RUN/$name.pid"
  say "$name: stopped"
}

cmd_stop() {
  [ -f "$BASE/deploy.env" ] || die "nothing deployed in $BASE (no deploy.env)"
  # shellcheck disable=SC1091
  . "$BASE/deploy.env"
  stop_pid nginx QUIT 10                              # finish open requests, accept no new ones
  for i in $(seq 1 "$APPS"); do stop_pid "app-$i" TERM 20; done
  stop_pid chroma TERM 20
  local bin; bin="$(pg_bindir)"
  if [ -n "$bin" ] && [ -f "$BASE/postgres/data/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$BASE/postgres/data" -m fast -w stop >/dev/null 2>&1 || true
    say "postgres: stopped"
  fi
  if [ "$CLEAN" = 1 ]; then rm -rf "$BASE"; say "removed $BASE"; fi
}

cmd_status() {
  [ -f "$BASE/deploy.env" ] || die "nothing deployed in $BASE (no deploy.env)"
  # shellcheck disable=SC1091
  . "$BASE/deploy.env"
  local name state
  for name in nginx $(for i in $(seq 1 "$APPS"); do echo "app-$i"; done) chroma; do
    if alive "$name"; then state="running (pid $(cat "$RUN/$name.pid"))"; else state="stopped"; fi
    echo "$name: $state"
  done
  if [ -f "$BASE/postgres/data/postmaster.pid" ]; then echo "postgres: running (port $PG_PORT)"; else echo "postgres: stopped"; fi
  echo "proxy: $PROXY_URL"
}

parse "$@"
"cmd_$CMD"
