#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the PostgreSQL store (docs/SCALE-OUT.md).
#
#   scripts/postgres.sh start DIR   initdb in DIR, start on a free port of 127.0.0.1, print the shell lines that
#                                   export FLIGHTLOG_TEST_POSTGRES (the URL, no password in it) and
#                                   FLIGHTLOG_PG_PASSWORD_FILE (the superuser's password, mode 0600)
#   scripts/postgres.sh replica DIR a hot standby of the cluster started in DIR (pg_basebackup, streaming, in
#                                   DIR/replica) on another free port; prints the line that exports
#                                   FLIGHTLOG_TEST_POSTGRES_REPLICA (its URL; the same password)
#   scripts/postgres.sh sync DIR    make that standby synchronous (synchronous_standby_names = '*'), once it streams
#   scripts/postgres.sh failover DIR  stop the primary at once (as a crash) and promote the standby
#   scripts/postgres.sh stop DIR    stop both (the caller removes DIR)
#
# Debian's postgresql package provides initdb and pg_ctl; scripts/deps.sh --tests installs it. initdb refuses to run
# as root, and CI runs as root: the cluster then belongs to the package's `postgres` account, as Debian's own
# clusters do. Password authentication (scram-sha-256) on TCP only, as a real deployment has it.
set -euo pipefail
command="${1:-}"
dir="${2:-}"
if [ -z "$command" ] || [ -z "$dir" ]; then
    echo "usage: scripts/postgres.sh start|replica|sync|failover|stop DIR" >&2
    exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "no PostgreSQL server binaries under /usr/lib/postgresql: run scripts/deps.sh --tests" >&2
    exit 1
fi
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$command" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner bash -c "umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > '$dir/password'"
    as_owner "$bin/initdb" -D "$dir/data" -U flightlog --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
        --pwfile="$dir/password" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # The tests' processes read the password file: it is handed to the caller's account.
    cp "$dir/password" "$dir/password.client"
    chmod 600 "$dir/password.client"
    [ "$(id -u)" = 0 ] && chown "$(id -u):$(id -g)" "$dir/password.client"
    for attempt in $(seq 1 20); do
        port=$((20000 + RANDOM % 40000))
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=on" start \
            >/dev/null 2>&1; then
            echo "$port" > "$dir/port"
            echo "export FLIGHTLOG_TEST_POSTGRES=postgres://flightlog@127.0.0.1:$port/postgres?sslmode=disable"
            echo "export FLIGHTLOG_PG_PASSWORD_FILE=$dir/password.client"
            exit 0
        fi
        # A port in use fails the start; anything else is in the server's log.
        grep -q "could not bind" "$dir/server.log" 2>/dev/null || {
            cat "$dir/server.log" >&2
            exit 1
        }
    done
    echo "no free port for PostgreSQL after 20 attempts" >&2
    exit 1
    ;;
replica)
    primary=$(cat "$dir/port")
    # initdb's pg_hba.conf lets replication connections in from 127.0.0.1 with the password.
    as_owner env PGPASSWORD="$(cat "$dir/password.client")" "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" \
        -U flightlog -D "$dir/replica" -R -X stream >"$dir/basebackup.log" 2>&1 || {
        cat "$dir/basebackup.log" >&2
        exit 1
    }
    for attempt in $(seq 1 20); do
        port=$((20000 + RANDOM % 40000))
        if as_owner "$bin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c hot_standby=on" start \
            >/dev/null 2>&1; then
            echo "export FLIGHTLOG_TEST_POSTGRES_REPLICA=postgres://flightlog@127.0.0.1:$port/postgres?sslmode=disable"
            exit 0
        fi
        grep -q "could not bind" "$dir/replica.log" 2>/dev/null || {
            cat "$dir/replica.log" >&2
            exit 1
        }
    done
    echo "no free port for the replica after 20 attempts" >&2
    exit 1
    ;;
sync)
    primary=$(cat "$dir/port")
    sql() {
        as_owner env PGPASSWORD="$(cat "$dir/password.client")" "$bin/psql" -qtA -h 127.0.0.1 -p "$primary" \
            -U flightlog -d postgres -c "$1"
    }
    sql "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
    sql "SELECT pg_reload_conf()" >/dev/null
    for attempt in $(seq 1 200); do
        [ "$(sql "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ] && exit 0
        sleep 0.1
    done
    echo "the standby did not become synchronous within 20 s" >&2
    exit 1
    ;;
failover)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
    as_owner "$bin/pg_ctl" -D "$dir/replica" -w -t 60 promote >/dev/null
    ;;
stop)
    [ -d "$dir/replica" ] && as_owner "$bin/pg_ctl" -D "$dir/replica" -m immediate stop >/dev/null 2>&1 || true
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    ;;
*)
    echo "unknown command $command: start or stop" >&2
    exit 2
    ;;
esac
