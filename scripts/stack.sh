#!/usr/bin/env bash
# Private PostgreSQL 15 and Redis for one clone of Compliance Hub.
#
#   scripts/stack.sh start   run|test   start both (idempotent), create roles and database, write the env file
#   scripts/stack.sh stop    run|test   stop both cleanly
#   scripts/stack.sh status  run|test   show what runs where (exit 0 when everything needed runs, else 3)
#   scripts/stack.sh env     run|test   print the env file as `export` lines, for eval
#   scripts/stack.sh destroy run|test   stop, then delete the instance's data and passwords
#   scripts/stack.sh stop-postgres|stop-redis faults   stop one server (the fault tests' outages;
#                                       `start` brings it back)
#
# A third instance, `faults`, is the fault-injection tests' own (tests/faults/): they stop and
# kill its servers, so it is never the one other tests or `make run` use.
#
# Each instance of each clone has its own ports (derived from a hash of the repo path and the instance,
# probed until free, then remembered), its own data and its own passwords, all kept in the git-ignored
# .stack/<instance>/. The env file .stack/<instance>/env (and .stack/env for `run`) holds exactly:
#
#   DATABASE_URL=postgres://ch_app:PASSWORD@127.0.0.1:PGPORT/compliance_hub
#   DATABASE_OWNER_URL=postgres://ch_owner:PASSWORD@127.0.0.1:PGPORT/compliance_hub
#   REDIS_URL=redis://127.0.0.1:RPORT/0
#
# When DATABASE_URL (and DATABASE_OWNER_URL) or REDIS_URL are already set, the matching server is not
# started and the env file records the given values.
set -euo pipefail

usage() {
    echo "usage: scripts/stack.sh start|stop|status|env|destroy run|test|faults" >&2
    echo "       scripts/stack.sh stop-postgres|stop-redis faults" >&2
    exit 2
}

[ $# -eq 2 ] || usage
CMD=$1
INSTANCE=$2
case $CMD in start | stop | status | env | destroy | stop-postgres | stop-redis) ;; *) usage ;; esac
case $INSTANCE in run | test | faults) ;; *) usage ;; esac
case $CMD:$INSTANCE in stop-postgres:faults | stop-redis:faults | start:* | stop:* | status:* | env:* | destroy:*) ;; *) usage ;; esac

say() { echo "stack[$INSTANCE]: $*"; }
warn() { echo "stack[$INSTANCE]: warning: $*" >&2; }
die() {
    echo "stack[$INSTANCE]: error: $*" >&2
    exit 1
}

# Variables that would silently redirect psql or pg_ctl somewhere else.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE \
    PGOPTIONS PGDATA PGSSLMODE PGTZ PGCLIENTENCODING 2>/dev/null || true

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
STACK_DIR=$REPO_ROOT/.stack
STATE=$STACK_DIR/$INSTANCE
ENV_FILE=$STATE/env
SHARED_ENV_FILE=$STACK_DIR/env # read by the Django settings by default; written for `run` only
PORTS_FILE=$STATE/ports
SECRETS_FILE=$STATE/secrets
PG_LINK=$STATE/pg # a folder, or a symlink to one under /var/tmp: holds pgdata/, sock/, postgresql.log
REDIS_DIR=$STATE/redis
REDIS_PIDFILE=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log
TIMEOUT=${STACK_TIMEOUT:-60}

DB_NAME=compliance_hub
OWNER_ROLE=ch_owner
APP_ROLE=ch_app

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

hash_of() { printf '%s' "$1" | sha256sum | cut -c1-"$2"; }
REPO_HASH=$(hash_of "$REPO_ROOT" 12)
PORT_SEED=$((16#$(hash_of "$REPO_ROOT|$INSTANCE" 8)))
# Both ranges stay below Linux's default ephemeral range (32768-60999), so an outgoing connection
# never holds the port we want.
PG_PORT_LO=20000 PG_PORT_SPAN=6000
REDIS_PORT_LO=26000 REDIS_PORT_SPAN=6000

# ---------------------------------------------------------------------------------------------------
# small helpers

kv_get() { # FILE KEY -> value (empty when absent)
    [ -f "$1" ] || return 0
    sed -n "s/^$2=//p" "$1" | tail -n 1
}

kv_set() { # FILE KEY VALUE
    local file=$1 key=$2 value=$3 tmp
    tmp=$(mktemp "$file.XXXXXX")
    {
        if [ -f "$file" ]; then grep -v "^$key=" "$file" || true; fi
        echo "$key=$value"
    } >"$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$file"
}

port_in_use() { # PORT -> 0 when something listens on it
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

pick_port() { # PREFERRED LO SPAN -> first free port from PREFERRED on, wrapping inside [LO, LO+SPAN)
    local port=$1 lo=$2 span=$3 i
    for ((i = 0; i < 200; i++)); do
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
        port=$((lo + (port - lo + 1) % span))
    done
    return 1
}

random_password() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

show_log_tail() { # FILE
    if [ -f "$1" ]; then
        echo "----- last lines of $1 -----" >&2
        tail -n 40 "$1" >&2 || true
        echo "-----" >&2
    else
        echo "(no log at $1)" >&2
    fi
}

lock_state() {
    mkdir -p "$STATE"
    chmod 755 "$STACK_DIR" "$STATE" # the postgres user may need to traverse them
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$STATE/.lock"
        flock -w 120 9 || die "another scripts/stack.sh has held $STATE/.lock for 120 s"
    fi
}

# Is this URL one that this stack made for its own servers (e.g. exported by an earlier
# `eval "$(scripts/stack.sh env run)"`)? Then it names no outside server, and the stack starts its own.
is_own_url() { # KEY VALUE
    local key=$1 value=$2 inst flag
    flag=PG_EXTERNAL
    [ "$key" = REDIS_URL ] && flag=REDIS_EXTERNAL
    for inst in run test; do
        [ -f "$STACK_DIR/$inst/env" ] || continue
        [ "$(kv_get "$STACK_DIR/$inst/ports" "$flag")" = 1 ] && continue
        grep -Fxq "$key=$value" "$STACK_DIR/$inst/env" && return 0
    done
    return 1
}

# ---------------------------------------------------------------------------------------------------
# packages

PG_BIN=""
find_pg_bin() {
    PG_BIN=""
    if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
        PG_BIN=/usr/lib/postgresql/15/bin
    elif command -v initdb >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(readlink -f "$(command -v initdb)")")
    fi
}

pg_tool() { # NAME -> path of a PostgreSQL program, preferring the server's own folder
    if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/$1" ]; then
        echo "$PG_BIN/$1"
    elif command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    else
        die "$1 not found (install PostgreSQL 15: apt-get install -y postgresql)"
    fi
}

ensure_packages() { # NEED_PG NEED_REDIS
    local need_pg=$1 need_redis=$2 missing=()
    find_pg_bin
    if [ "$need_pg" = 1 ] && [ -z "$PG_BIN" ]; then missing+=(postgresql); fi
    if [ "$need_redis" = 1 ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
    if [ "$INSTANCE" = test ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
    # The slow-client test runs the shipped nginx configuration (tests/test_reverse_proxy.py).
    if [ "$INSTANCE" = test ] && [ ! -x /usr/sbin/nginx ]; then missing+=(nginx); fi
    [ ${#missing[@]} -eq 0 ] && return 0

    if [ "$IS_ROOT" = 1 ]; then
        say "installing missing packages: ${missing[*]}"
        apt-get update -qq || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
            die "apt-get install -y ${missing[*]} failed"
        find_pg_bin
        if [ "$need_pg" = 1 ] && [ -z "$PG_BIN" ]; then die "PostgreSQL still missing after apt-get install"; fi
        if [ "$need_redis" = 1 ] && ! command -v redis-server >/dev/null 2>&1; then
            die "redis-server still missing after apt-get install"
        fi
    else
        echo "stack[$INSTANCE]: missing packages: ${missing[*]}. Install them as root with:" >&2
        echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL

PG_HOME="" PG_WHERE="" PGDATA_DIR="" PG_SOCK="" PG_LOG=""

as_pg() { # run a PostgreSQL server program as the user that owns the cluster
    if [ "$IS_ROOT" = 1 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

set_pg_paths() {
    PGDATA_DIR=$PG_HOME/pgdata
    PG_LOG=$PG_HOME/postgresql.log
    PG_SOCK=$PG_HOME/sock
    # A Unix socket path may not exceed 107 bytes; a deep clone gets its socket folder under /tmp.
    if [ ${#PG_SOCK} -gt 80 ]; then
        PG_SOCK=/tmp/compliance-hub-$REPO_HASH-$INSTANCE-sock
    fi
}

# Finds where this instance's cluster lives; with CREATE=1, decides it for a new one.
resolve_pg_home() { # CREATE
    if [ -L "$PG_LINK" ]; then
        PG_HOME=$(readlink "$PG_LINK")
        PG_WHERE="outside the repo, linked from .stack/$INSTANCE/pg"
    elif [ -d "$PG_LINK" ]; then
        PG_HOME=$PG_LINK
        PG_WHERE="inside the repo"
    elif [ "$1" = 1 ]; then
        if [ "$IS_ROOT" = 0 ] || (cd / && runuser -u postgres -- test -x "$STATE") 2>/dev/null; then
            PG_HOME=$PG_LINK
            PG_WHERE="inside the repo"
        else
            PG_HOME=/var/tmp/compliance-hub-$REPO_HASH/$INSTANCE
            PG_WHERE="outside the repo, linked from .stack/$INSTANCE/pg"
            say "the postgres user cannot traverse $STATE (a parent folder is closed to it),"
            say "so the data lives in $PG_HOME, linked from .stack/$INSTANCE/pg"
            mkdir -p "$(dirname "$PG_HOME")"
            chmod 755 "$(dirname "$PG_HOME")"
            ln -sfn "$PG_HOME" "$PG_LINK"
        fi
    else
        PG_HOME=""
        return 0
    fi
    set_pg_paths
}

pg_make_dirs() {
    mkdir -p "$PG_HOME" "$PG_SOCK"
    chmod 700 "$PG_HOME" "$PG_SOCK"
    if [ "$IS_ROOT" = 1 ]; then
        chown postgres:postgres "$PG_HOME" "$PG_SOCK"
        runuser -u postgres -- test -x "$PG_HOME" ||
            die "the postgres user cannot reach $PG_HOME: make every parent folder traversable (chmod o+x)"
    fi
}

pg_running() {
    [ -n "$PG_HOME" ] && [ -f "$PGDATA_DIR/postmaster.pid" ] &&
        as_pg "$(pg_tool pg_ctl)" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

pg_running_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid"; }
pg_running_pid() { sed -n 1p "$PGDATA_DIR/postmaster.pid"; }

pg_init() {
    local initdb locale_args=(--no-locale)
    initdb=$(pg_tool initdb)
    if [ -s "$PGDATA_DIR/PG_VERSION" ]; then
        local have want
        have=$(cat "$PGDATA_DIR/PG_VERSION")
        want=$("$initdb" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')
        [ "$have" = "$want" ] ||
            die "$PGDATA_DIR was made by PostgreSQL $have but the binaries are $want; run scripts/stack.sh destroy $INSTANCE"
        return 0
    fi
    if [ -d "$PGDATA_DIR" ] && [ -n "$(ls -A "$PGDATA_DIR" 2>/dev/null)" ]; then
        die "$PGDATA_DIR is not empty but holds no cluster; remove it (scripts/stack.sh destroy $INSTANCE)"
    fi
    # C.UTF-8 keeps sorting byte-wise and fast, while full-text search still sees non-ASCII letters.
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale_args=(--locale=C.UTF-8); fi
    say "creating a PostgreSQL cluster in $PGDATA_DIR ($PG_WHERE)"
    if ! as_pg "$initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 "${locale_args[@]}" \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_HOME/initdb.log" 2>&1; then
        show_log_tail "$PG_HOME/initdb.log"
        die "initdb failed"
    fi
    # Local socket: only the cluster's owner (and root) can open the private socket folder, so trust
    # there is safe; it is how this script creates the roles. TCP: loopback only, with passwords.
    cat >"$PGDATA_DIR/pg_hba.conf" <<'EOF'
# Written by scripts/stack.sh. The socket folder is private to the cluster's owner.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
EOF
    echo "include_if_exists = 'compliance_hub.conf'   # written by scripts/stack.sh at every start" \
        >>"$PGDATA_DIR/postgresql.conf"
    [ "$IS_ROOT" = 1 ] && chown postgres:postgres "$PGDATA_DIR/pg_hba.conf"
    return 0
}

pg_has_statements() { # whether this server ships pg_stat_statements (PostgreSQL's contrib)
    [ -f "$(dirname "$(pg_tool postgres)")/../lib/pg_stat_statements.so" ]
}

pg_write_conf() { # PORT
    local conf=$PGDATA_DIR/compliance_hub.conf
    {
        echo "# Written by scripts/stack.sh at every start; edits are overwritten."
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $1"
        echo "unix_socket_directories = '${PG_SOCK//\'/\'\'}'"
        echo "unix_socket_permissions = 0700"
        echo "password_encryption = 'scram-sha-256'"
        echo "max_connections = 200"
        # A write-heavy ingest (every webhook delivery is a durable commit): fewer checkpoints,
        # and compressed full-page images after each, so the WAL does not surge (and commits
        # stall) at every checkpoint (docs/benchmarks.md, webhook acceptance).
        echo "checkpoint_timeout = '15min'"
        echo "max_wal_size = '4GB'"
        echo "wal_compression = on"
        echo "shared_buffers = '512MB'"
        # The drain's tables get vacuum and analyze thresholds of a few thousand rows (migrations
        # ingestion/0005, archive/0013): look for them every 15 s, not every minute, so that a
        # tenant's statistics and its deliveries' dead versions never lag far (docs/operations.md).
        echo "autovacuum_naptime = '15s'"
        # Which statements cost what (docs/benchmarks.md, the pipeline): loaded only where the
        # server ships it (PostgreSQL's contrib), so a bare server still starts.
        if pg_has_statements; then
            echo "shared_preload_libraries = 'pg_stat_statements'"
            echo "pg_stat_statements.track = top"
        fi
        # Each commit's time, so that bench/pipeline.py reads when an alert became visible (its
        # row's commit) from the database itself instead of timing its own polls; 10 bytes a
        # transaction. Benchmarks run on this instance only.
        if [ "$INSTANCE" = run ]; then
            echo "track_commit_timestamp = on"
        fi
        if [ "$INSTANCE" = test ]; then
            echo "# Throw-away test data: durability off for speed."
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } >"$conf"
    chmod 600 "$conf"
    [ "$IS_ROOT" = 1 ] && chown postgres:postgres "$conf"
    return 0
}

PG_PORT=""
pg_start() {
    resolve_pg_home 1
    pg_make_dirs
    pg_init
    if pg_running; then
        PG_PORT=$(pg_running_port)
        say "PostgreSQL already running on 127.0.0.1:$PG_PORT (pid $(pg_running_pid))"
    else
        local preferred
        preferred=$(kv_get "$PORTS_FILE" PG_PORT)
        [ -n "$preferred" ] || preferred=$((PG_PORT_LO + PORT_SEED % PG_PORT_SPAN))
        PG_PORT=$(pick_port "$preferred" "$PG_PORT_LO" "$PG_PORT_SPAN") || die "no free port for PostgreSQL"
        [ "$PG_PORT" = "$preferred" ] || say "port $preferred is taken; PostgreSQL uses $PG_PORT"
        kv_set "$PORTS_FILE" PG_PORT "$PG_PORT"
        pg_write_conf "$PG_PORT"
        say "starting PostgreSQL on 127.0.0.1:$PG_PORT, data $PGDATA_DIR ($PG_WHERE)"
        # 9>&-: the server must not inherit (and so hold forever) the lock on .stack/<instance>/.lock.
        if ! as_pg "$(pg_tool pg_ctl)" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t "$TIMEOUT" -s start 9>&-; then
            show_log_tail "$PG_LOG"
            die "PostgreSQL did not start within ${TIMEOUT}s"
        fi
    fi
    local isready deadline=$((SECONDS + TIMEOUT))
    isready=$(pg_tool pg_isready)
    until "$isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; do
        if [ $SECONDS -ge $deadline ]; then
            show_log_tail "$PG_LOG"
            die "PostgreSQL on 127.0.0.1:$PG_PORT does not accept connections after ${TIMEOUT}s"
        fi
        sleep 0.3
    done
    pg_setup_roles
}

psql_super() { # DB, SQL on stdin
    "$(pg_tool psql)" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$1"
}

ensure_secrets() {
    if [ ! -s "$SECRETS_FILE" ]; then
        (
            umask 077
            {
                echo "OWNER_PASSWORD=$(random_password)"
                echo "APP_PASSWORD=$(random_password)"
            } >"$SECRETS_FILE"
        )
    fi
    chmod 600 "$SECRETS_FILE"
    OWNER_PASSWORD=$(kv_get "$SECRETS_FILE" OWNER_PASSWORD)
    APP_PASSWORD=$(kv_get "$SECRETS_FILE" APP_PASSWORD)
    if [ -z "$OWNER_PASSWORD" ] || [ -z "$APP_PASSWORD" ]; then
        die "$SECRETS_FILE is damaged; delete it and start again"
    fi
}

# Idempotent: run at every start, so the roles always match the passwords in .stack/<instance>/secrets.
pg_setup_roles() {
    ensure_secrets
    psql_super postgres <<SQL || die "could not create the roles and the database"
SET client_min_messages = warning;
SELECT 'CREATE ROLE $OWNER_ROLE' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$OWNER_ROLE') \gexec
SELECT 'CREATE ROLE $APP_ROLE' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') \gexec
-- The owner runs migrations and creates the test database; it is no superuser.
ALTER ROLE $OWNER_ROLE WITH LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD '$OWNER_PASSWORD';
-- The application role owns nothing and cannot get around row-level security.
ALTER ROLE $APP_ROLE WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD '$APP_PASSWORD';
-- So that a session of the owner (the tests) can SET ROLE $APP_ROLE.
GRANT $APP_ROLE TO $OWNER_ROLE;
SELECT 'CREATE DATABASE $DB_NAME OWNER $OWNER_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME') \gexec
ALTER DATABASE $DB_NAME OWNER TO $OWNER_ROLE;
GRANT CONNECT, TEMPORARY ON DATABASE $DB_NAME TO $APP_ROLE;
SQL
    # template1 too, so the test database that pytest-django creates from it gets the same default.
    local db
    for db in template1 "$DB_NAME"; do
        psql_super "$db" <<SQL || die "could not set the privileges in $db"
SET client_min_messages = warning;
ALTER DEFAULT PRIVILEGES FOR ROLE $OWNER_ROLE IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO $APP_ROLE;
SQL
    done
    psql_super "$DB_NAME" <<SQL || die "could not set the privileges on schema public"
SET client_min_messages = warning;
ALTER SCHEMA public OWNER TO $OWNER_ROLE;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO $APP_ROLE;
SQL
    if pg_has_statements; then
        psql_super "$DB_NAME" <<SQL || die "could not create pg_stat_statements in $DB_NAME"
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SQL
    fi
}

pg_stop() {
    resolve_pg_home 0
    if [ -z "$PG_HOME" ] || ! pg_running; then
        say "PostgreSQL is not running"
        return 0
    fi
    say "stopping PostgreSQL on 127.0.0.1:$(pg_running_port)"
    if ! as_pg "$(pg_tool pg_ctl)" -D "$PGDATA_DIR" -m fast -w -t "$TIMEOUT" -s stop; then
        warn "fast shutdown timed out; trying immediate"
        as_pg "$(pg_tool pg_ctl)" -D "$PGDATA_DIR" -m immediate -w -t "$TIMEOUT" -s stop ||
            die "could not stop PostgreSQL (data $PGDATA_DIR)"
    fi
}

# ---------------------------------------------------------------------------------------------------
# Redis

redis_pid() { # prints the pid of this instance's redis-server, or fails
    local pid
    [ -f "$REDIS_PIDFILE" ] || return 1
    pid=$(cat "$REDIS_PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q redis-server || return 1
    echo "$pid"
}

REDIS_PORT=""
redis_start() {
    mkdir -p "$REDIS_DIR"
    chmod 700 "$REDIS_DIR"
    if redis_pid >/dev/null; then
        REDIS_PORT=$(kv_get "$PORTS_FILE" REDIS_PORT)
        say "Redis already running on 127.0.0.1:$REDIS_PORT (pid $(redis_pid))"
    else
        rm -f "$REDIS_PIDFILE"
        local preferred persistence
        preferred=$(kv_get "$PORTS_FILE" REDIS_PORT)
        [ -n "$preferred" ] || preferred=$((REDIS_PORT_LO + PORT_SEED % REDIS_PORT_SPAN))
        REDIS_PORT=$(pick_port "$preferred" "$REDIS_PORT_LO" "$REDIS_PORT_SPAN") || die "no free port for Redis"
        [ "$REDIS_PORT" = "$preferred" ] || say "port $preferred is taken; Redis uses $REDIS_PORT"
        kv_set "$PORTS_FILE" REDIS_PORT "$REDIS_PORT"
        if [ "$INSTANCE" = run ]; then
            persistence=(--appendonly yes) # Celery's broker survives a restart of Redis
        else
            persistence=(--appendonly no --save "")
        fi
        say "starting Redis on 127.0.0.1:$REDIS_PORT"
        if ! redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
            --dir "$REDIS_DIR" --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" \
            "${persistence[@]}" >>"$REDIS_DIR/redis-start.log" 2>&1 9>&-; then
            show_log_tail "$REDIS_DIR/redis-start.log"
            show_log_tail "$REDIS_LOG"
            die "redis-server failed to start"
        fi
    fi
    local deadline=$((SECONDS + TIMEOUT))
    until [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
        if [ $SECONDS -ge $deadline ]; then
            show_log_tail "$REDIS_LOG"
            die "Redis on 127.0.0.1:$REDIS_PORT does not answer PING after ${TIMEOUT}s"
        fi
        sleep 0.2
    done
}

redis_stop() {
    local pid i
    if ! pid=$(redis_pid); then
        say "Redis is not running"
        rm -f "$REDIS_PIDFILE"
        return 0
    fi
    say "stopping Redis on 127.0.0.1:$(kv_get "$PORTS_FILE" REDIS_PORT)"
    kill -TERM "$pid" 2>/dev/null || true # like SHUTDOWN: writes the append-only file first
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "Redis (pid $pid) ignored TERM for ${TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$REDIS_PIDFILE"
}

# ---------------------------------------------------------------------------------------------------
# env file

write_env_file() { # DATABASE_URL DATABASE_OWNER_URL REDIS_URL
    local tmp
    tmp=$(mktemp "$STATE/env.XXXXXX")
    printf 'DATABASE_URL=%s\nDATABASE_OWNER_URL=%s\nREDIS_URL=%s\n' "$1" "$2" "$3" >"$tmp"
    chmod 600 "$tmp"
    if [ "$INSTANCE" = run ]; then
        cp -p "$tmp" "$SHARED_ENV_FILE.tmp.$$"
        mv -f "$SHARED_ENV_FILE.tmp.$$" "$SHARED_ENV_FILE"
    fi
    mv -f "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------------------------------
# commands

cmd_start() {
    local ext_db=0 ext_redis=0 db_url owner_url redis_url
    if [ -n "${DATABASE_URL:-}" ] && ! is_own_url DATABASE_URL "$DATABASE_URL"; then ext_db=1; fi
    if [ -n "${REDIS_URL:-}" ] && ! is_own_url REDIS_URL "$REDIS_URL"; then ext_redis=1; fi

    lock_state
    ensure_packages $((1 - ext_db)) $((1 - ext_redis))

    if [ $ext_db = 1 ]; then
        db_url=$DATABASE_URL
        owner_url=${DATABASE_OWNER_URL:-}
        if [ -n "$owner_url" ] && is_own_url DATABASE_OWNER_URL "$owner_url"; then owner_url=""; fi
        if [ -z "$owner_url" ]; then
            warn "DATABASE_URL is set but DATABASE_OWNER_URL is not; using DATABASE_URL for both"
            owner_url=$db_url
        fi
        say "DATABASE_URL is set: not starting PostgreSQL"
        kv_set "$PORTS_FILE" PG_EXTERNAL 1
    else
        pg_start
        db_url=postgres://$APP_ROLE:$APP_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME
        owner_url=postgres://$OWNER_ROLE:$OWNER_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME
        kv_set "$PORTS_FILE" PG_EXTERNAL 0
    fi

    if [ $ext_redis = 1 ]; then
        redis_url=$REDIS_URL
        say "REDIS_URL is set: not starting Redis"
        kv_set "$PORTS_FILE" REDIS_EXTERNAL 1
    else
        redis_start
        redis_url=redis://127.0.0.1:$REDIS_PORT/0
        kv_set "$PORTS_FILE" REDIS_EXTERNAL 0
    fi

    write_env_file "$db_url" "$owner_url" "$redis_url"
    say "ready: PostgreSQL ${PG_PORT:+127.0.0.1:}${PG_PORT:-external}, Redis ${REDIS_PORT:+127.0.0.1:}${REDIS_PORT:-external}"
    if [ "$INSTANCE" = run ]; then
        say "env file: .stack/run/env (copied to .stack/env)"
    else
        say "env file: .stack/$INSTANCE/env"
    fi
}

cmd_stop() {
    [ -d "$STATE" ] || {
        say "nothing to stop (no $STATE)"
        return 0
    }
    lock_state
    find_pg_bin
    pg_stop
    redis_stop
}

cmd_stop-postgres() {
    lock_state
    find_pg_bin
    pg_stop
}

cmd_stop-redis() {
    lock_state
    redis_stop
}

cmd_status() {
    local ok=0 pid
    find_pg_bin
    resolve_pg_home 0
    if [ "$(kv_get "$PORTS_FILE" PG_EXTERNAL)" = 1 ]; then
        echo "PostgreSQL: external (DATABASE_URL was given at start)"
    elif [ -n "$PG_HOME" ] && pg_running; then
        echo "PostgreSQL: running on 127.0.0.1:$(pg_running_port) (pid $(pg_running_pid)), data $PGDATA_DIR ($PG_WHERE)"
    else
        echo "PostgreSQL: stopped${PG_HOME:+ (data $PGDATA_DIR, $PG_WHERE)}"
        ok=3
    fi
    if [ "$(kv_get "$PORTS_FILE" REDIS_EXTERNAL)" = 1 ]; then
        echo "Redis:      external (REDIS_URL was given at start)"
    elif pid=$(redis_pid); then
        echo "Redis:      running on 127.0.0.1:$(kv_get "$PORTS_FILE" REDIS_PORT) (pid $pid), dir $REDIS_DIR"
    else
        echo "Redis:      stopped"
        ok=3
    fi
    if [ -f "$ENV_FILE" ]; then
        echo "env file:   $ENV_FILE"
    else
        echo "env file:   none yet (scripts/stack.sh start $INSTANCE)"
    fi
    return $ok
}

cmd_env() {
    [ -f "$ENV_FILE" ] || die "no $ENV_FILE yet: run scripts/stack.sh start $INSTANCE"
    local key value
    while IFS='=' read -r key value; do
        [ -n "$key" ] || continue
        printf 'export %s=%q\n' "$key" "$value"
    done <"$ENV_FILE"
}

cmd_destroy() {
    cmd_stop
    resolve_pg_home 0
    if [ -L "$PG_LINK" ] && [ -n "$PG_HOME" ]; then
        say "removing $PG_HOME"
        rm -rf "$PG_HOME"
        rmdir "$(dirname "$PG_HOME")" 2>/dev/null || true
    fi
    if [ -n "$PG_SOCK" ] && [ "${PG_SOCK#/tmp/}" != "$PG_SOCK" ]; then rm -rf "$PG_SOCK"; fi
    say "removing $STATE"
    rm -rf "$STATE"
    if [ "$INSTANCE" = run ]; then rm -f "$SHARED_ENV_FILE"; fi
}

"cmd_$CMD"
