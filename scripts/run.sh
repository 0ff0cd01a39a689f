#!/usr/bin/env bash
# `make run`: installs, starts PostgreSQL and Redis, migrates, seeds the demo, then runs the web
# server, a Celery worker and Celery beat until Ctrl-C. PostgreSQL and Redis keep running afterwards
# (scripts/stack.sh stop run, or make stop, stops them).
#
#   PORT=8000          the web port (127.0.0.1 only)
#   SIMULATE_RATE=2    webhooks a second the demo's simulated WhatsApp traffic sends (0: none)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT"

PORT=${PORT:-8000}
SIMULATE_RATE=${SIMULATE_RATE:-2}
STATE=$REPO_ROOT/.stack/run
LOG_DIR=$STATE/logs
PIDS_FILE=$STATE/app.pids
# A busy machine (other builds, a test run) can take minutes to import the app and load the
# classifiers in every gunicorn worker: give up only when the web server has died, or after this.
READY_TIMEOUT=${READY_TIMEOUT:-300}

say() { echo "run: $*"; }
die() {
    echo "run: error: $*" >&2
    exit 1
}

case $PORT in '' | *[!0-9]*) die "PORT must be a number, not '$PORT'" ;; esac
case $SIMULATE_RATE in '' | *[!0-9.]*) die "SIMULATE_RATE must be a number, not '$SIMULATE_RATE'" ;; esac

port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# Processes of an earlier run that was killed hard (its trap never ran), or of one still running.
stop_leftovers() {
    local pid i leftovers=()
    [ -f "$PIDS_FILE" ] || return 0
    while read -r pid; do
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then continue; fi
        # Ours if it runs in this checkout from its venv (a pid may have been reused since): the
        # simulator's command line names the venv's python by a relative path, so look at both.
        if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$REPO_ROOT" ] &&
            tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF ".venv/bin/"; then
            say "stopping a process of make run (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            leftovers+=("$pid")
        fi
    done <"$PIDS_FILE"
    for pid in "${leftovers[@]}"; do
        for ((i = 0; i < 75; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$PIDS_FILE"
}

# `scripts/run.sh stop` (make stop): the web server, worker, beat and simulator of a run that is
# still going in another terminal or in the background; PostgreSQL and Redis are stack.sh's.
# The running script is asked first, so it stops them in order and says so in its terminal.
if [ "${1:-}" = stop ]; then
    if [ -f "$STATE/run.pid" ] && pid=$(cat "$STATE/run.pid") && [ -n "$pid" ] &&
        [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$REPO_ROOT" ] &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "scripts/run.sh"; then
        say "stopping make run (pid $pid)"
        # Tells the run that PostgreSQL and Redis are being stopped too (its last words differ).
        touch "$STATE/stopping"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
    fi
    rm -f "$STATE/run.pid" "$STATE/stopping"
    stop_leftovers
    exit 0
fi

bash scripts/bootstrap.sh
bash scripts/stack.sh start run

# Each line is KEY=VALUE; exported as is, with no shell expansion.
while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    export "${line?}"
done <"$REPO_ROOT/.stack/env"
export DJANGO_SETTINGS_MODULE=compliance_hub.settings
export DJANGO_ENV=local

stop_leftovers
port_in_use "$PORT" && die "port $PORT is in use (another make run?); choose another with PORT=8001 make run"

say "migrating"
.venv/bin/python manage.py migrate --noinput
say "collecting static files"
.venv/bin/python manage.py collectstatic --noinput >/dev/null
say "seeding the demo"
.venv/bin/python manage.py seed_demo

mkdir -p "$LOG_DIR"
WEB_LOG=$LOG_DIR/web.log
WORKER_LOG=$LOG_DIR/worker.log
BEAT_LOG=$LOG_DIR/beat.log
SIMULATOR_LOG=$LOG_DIR/simulator.log
for log in "$WEB_LOG" "$WORKER_LOG" "$BEAT_LOG" "$SIMULATOR_LOG"; do
    echo "===== $(date '+%Y-%m-%d %H:%M:%S') make run =====" >>"$log"
done

PIDS=()
TAIL_PID=""
STOPPED=0
stop_all() {
    [ "$STOPPED" = 1 ] && return 0
    STOPPED=1
    local pid i
    if [ ${#PIDS[@]} -gt 0 ]; then
        say "stopping web, worker, beat and the simulator"
        for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        # Celery's warm shutdown lets running tasks finish; give it a while, then insist.
        for ((i = 0; i < 100; i++)); do
            local alive=0
            for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
            [ $alive = 0 ] && break
            sleep 0.2
        done
        for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    fi
    if [ -n "$TAIL_PID" ]; then kill "$TAIL_PID" 2>/dev/null || true; fi
    rm -f "$PIDS_FILE" "$STATE/run.pid"
    if [ -f "$STATE/stopping" ]; then
        say "make stop is stopping PostgreSQL and Redis too"
    else
        say "PostgreSQL and Redis are still running; scripts/stack.sh stop run (or make stop) stops them"
    fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm -f "$STATE/stopping"
echo "$$" >"$STATE/run.pid"

# Each in its own session, so a Ctrl-C reaches only this script, which then stops them in order.
start_bg() { # LOG PROGRAM ARGS...
    local log=$1
    shift
    setsid "$@" </dev/null >>"$log" 2>&1 &
    PIDS+=("$!")
    echo "$!" >>"$PIDS_FILE"
}

# gunicorn 27 opens a control socket in ~/.gunicorn by default, shared by every clone: not wanted.
gunicorn_extra=()
if .venv/bin/gunicorn --help 2>/dev/null | grep -q -- --no-control-socket; then
    gunicorn_extra=(--no-control-socket)
fi

say "starting web (gunicorn on 127.0.0.1:$PORT), worker and beat"
# Threads, as measured in bench/webhook_acceptance.py: Meta's webhook connections are kept
# alive, which sync workers cannot do. One server is web and intake here, so it runs the
# intake's application (ingestion/wsgi.py: the webhook's lean path, Django for the rest).
start_bg "$WEB_LOG" .venv/bin/gunicorn ingestion.wsgi -c python:compliance_hub.gunicorn_conf \
    --bind "127.0.0.1:$PORT" --workers 2 --worker-class gthread --threads 4 --access-logfile - \
    "${gunicorn_extra[@]}"
WEB_PID=${PIDS[0]}
start_bg "$WORKER_LOG" .venv/bin/celery -A compliance_hub worker -l info \
    -Q default,ingestion,scoring,exports -c 2
start_bg "$BEAT_LOG" .venv/bin/celery -A compliance_hub beat -l info \
    --schedule "$STATE/celerybeat-schedule"

tail -n 0 -F --pid=$$ "$WEB_LOG" 2>/dev/null & # ends with this script, however it ends
TAIL_PID=$!

show_logs() {
    local log logs=("$WORKER_LOG" "$BEAT_LOG")
    # The web log has been following on the terminal already.
    if [ -n "$TAIL_PID" ]; then
        sleep 0.5
        kill "$TAIL_PID" 2>/dev/null || true
        TAIL_PID=""
    else
        logs=("$WEB_LOG" "${logs[@]}")
    fi
    for log in "${logs[@]}"; do
        echo "----- last lines of $log -----" >&2
        tail -n 30 "$log" >&2 || true
    done
}

http_status() { # URL -> HTTP status code, or 000
    if command -v curl >/dev/null 2>&1; then
        curl -s -o /dev/null -m 10 -w '%{http_code}' "$1" 2>/dev/null || true
    else
        .venv/bin/python - "$1" <<'PY' 2>/dev/null || echo 000
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
    fi
}

deadline=$((SECONDS + READY_TIMEOUT))
waited_from=$SECONDS
until [ "$(http_status "http://127.0.0.1:$PORT/readyz")" = 200 ]; do
    kill -0 "$WEB_PID" 2>/dev/null || {
        show_logs
        die "the web server exited during start-up"
    }
    if [ $SECONDS -ge $deadline ]; then
        show_logs
        die "http://127.0.0.1:$PORT/readyz did not answer 200 within ${READY_TIMEOUT}s"
    fi
    if [ $((SECONDS - waited_from)) -ge 20 ]; then
        say "still waiting for the web server to answer (a busy machine is slow to start it)"
        waited_from=$SECONDS
    fi
    sleep 0.5
done

names=(web worker beat)
if [ "$SIMULATE_RATE" != 0 ] && [ "$SIMULATE_RATE" != 0.0 ]; then
    # The demo comes alive: signed webhooks for the demo employees through the real endpoint.
    start_bg "$SIMULATOR_LOG" .venv/bin/python manage.py simulate demo --rate "$SIMULATE_RATE" \
        --url "http://127.0.0.1:$PORT"
    names+=(simulator)
fi

echo
echo "Compliance Hub is running at http://127.0.0.1:$PORT/"
echo "  logs: $LOG_DIR/{web,worker,beat,simulator}.log (the web log follows here)"
if [ "${#names[@]}" = 4 ]; then
    echo "  The demo's WhatsApp traffic is simulated at $SIMULATE_RATE webhooks a second (SIMULATE_RATE=0 turns it off)."
fi
echo "  Ctrl-C stops everything it started; PostgreSQL and Redis keep running."
echo

# Until Ctrl-C, or until one of them dies (then the others are stopped too).
while :; do
    wait -n "${PIDS[@]}" || true
    for i in "${!PIDS[@]}"; do
        if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
            show_logs
            die "${names[$i]} exited unexpectedly (log: $LOG_DIR/${names[$i]}.log)"
        fi
    done
done
