#!/usr/bin/env bash
# Ingest with 1, 2 and 3 `flightlog serve --store` nodes on one PostgreSQL store, on this machine (release build; not
# run by CI). Usage: bash Benchmarks/postgres-nodes.sh [EVENTS] [CONNECTIONS] [NODES…]
#   EVENTS (400000) events of the built-in generator in batches of 1,000 (FLIGHTLOG_BENCH_BATCH), CONNECTIONS (8)
#   agents spread over the nodes; NODES: the node counts to run (default 1 2 3), each on a new database of a
#   throwaway cluster (scripts/postgres.sh: PostgreSQL's defaults, fsync and synchronous_commit on).
# On one machine every node, the server and the client share the same cores: with 2 cores this measures the
# contention of the nodes on the store's one log lock, not scaling.
# FLIGHTLOG_BENCH_INVESTIGATE=1: after the last ingest, the investigator's commands on that store, as processes:
# `query --store` of one host's first hour (first page of 50, five runs), a count by user, and `verify --store`.
set -euo pipefail
cd "$(dirname "$0")"
EVENTS="${1:-400000}"
CONNECTIONS="${2:-8}"
shift $(( $# > 2 ? 2 : $# ))
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1 2 3)
bash ../scripts/deps.sh --tests
rm -f .build/release.yaml .build/release/description.json
swift build -c release --product flightlog-bench
swift build -c release --product flightlog
BIN="$(swift build -c release --show-bin-path)"
WORK="$(mktemp -d /tmp/flightlog-nodes.XXXXXX)"
chmod 755 "$WORK"
NODES=()
cleanup() {
    for pid in "${NODES[@]}"; do kill "$pid" 2>/dev/null || true; done
    bash ../scripts/postgres.sh stop "$WORK/pg"
    rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash ../scripts/postgres.sh start "$WORK/pg")"
export FLIGHTLOG_PG_PASSWORD_FILE
base="${FLIGHTLOG_TEST_POSTGRES%%/postgres?*}"
PGPORT="${base##*:}"
for n in "${COUNTS[@]}"; do
    db="bench_nodes_$n"
    PGPASSWORD="$(cat "$FLIGHTLOG_PG_PASSWORD_FILE")" psql -q -h 127.0.0.1 -p "$PGPORT" -U flightlog -d postgres \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    url="$base/$db?sslmode=disable"
    ports=()
    NODES=()
    for i in $(seq 1 "$n"); do
        "$BIN/flightlog" serve --store "$url" --node "node-$i" --aggregator-key "$WORK/site.key" \
            --listen 127.0.0.1:0 --insecure-plaintext --log-level warning \
            --status-file "$WORK/node-$i.status.json" > "$WORK/node-$i.out" 2> "$WORK/node-$i.err" &
        NODES+=("$!")
        for _ in $(seq 1 200); do grep -q "listening on" "$WORK/node-$i.out" 2>/dev/null && break; sleep 0.1; done
        port="$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$WORK/node-$i.out")"
        [ -n "$port" ] || { echo "node $i did not start:"; cat "$WORK/node-$i.err"; exit 1; }
        ports+=("$port")
    done
    "$BIN/flightlog-bench" nodes "$url" "$EVENTS" "$CONNECTIONS" "$(IFS=,; echo "${ports[*]}")"
    for pid in "${NODES[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
    NODES=()
done
if [ "${FLIGHTLOG_BENCH_INVESTIGATE:-0}" = 1 ]; then
    psql_q() { PGPASSWORD="$(cat "$FLIGHTLOG_PG_PASSWORD_FILE")" psql -qtA -h 127.0.0.1 -p "$PGPORT" -U flightlog -d "$db" -c "$1"; }
    psql_q "VACUUM ANALYZE"
    host="$(psql_q "SELECT host FROM events LIMIT 1")"
    first="$(psql_q "SELECT min(time_ns) FROM events WHERE host = '$host'")"
    since="$(date -u -d "@$((first / 1000000000))" +%Y-%m-%dT%H:%M:%SZ)"
    until="$(date -u -d "@$((first / 1000000000 + 3600))" +%Y-%m-%dT%H:%M:%SZ)"
    echo "investigate: $(psql_q "SELECT count(*) FROM events") events, $(psql_q "SELECT pg_size_pretty(pg_database_size('$db'))") on disk"
    for run in 1 2 3 4 5; do
        start=$(date +%s%N)
        "$BIN/flightlog" query --store "$url" --host "$host" --since "$since" --until "$until" --limit 50 \
            --format jsonl > /dev/null 2>&1
        echo "investigate: query --host $host, one hour, first 50: $(( ($(date +%s%N) - start) / 1000000 )) ms (process included)"
    done
    user="$(psql_q "SELECT \"user\" FROM events WHERE \"user\" IS NOT NULL LIMIT 1")"
    start=$(date +%s%N)
    count=$("$BIN/flightlog" query --store "$url" --user "$user" --count 2>/dev/null)
    echo "investigate: query --user $user --count = $count: $(( ($(date +%s%N) - start) / 1000000 )) ms"
    # The reads decided in Swift (EventRecordFilter): --match through FTS5 on each row's line, --where on the parsed
    # fields, Sigma rules; and the timeline and stats of that host's hour. The same commands on SQLite for scale.
    # A common word (the first long word of the first line), and a rare one: `password_reset` (the phrase
    # "password reset") is in the generated corpus's help-desk resets alone, one line in 100,003 (an investigator's
    # needle: an address, a ticket).
    word="$(psql_q "SELECT convert_from(line, 'UTF8') FROM events LIMIT 1" | tr -c 'A-Za-z\n' ' ' | awk '{ for (i = NF; i > 0; i--) if (length($i) > 4) { print $i; exit } }')"
    rare=password_reset
    timed() {
        local label="$1"; shift
        local start=$(date +%s%N)
        local lines
        lines=$("$BIN/flightlog" "$@" 2>/dev/null | wc -l)
        echo "investigate: $label: $(( ($(date +%s%N) - start) / 1000000 )) ms, $lines lines out"
    }
    timed "query --match $word --limit 50 (whole store)" query --store "$url" --match "$word" --limit 50 --format jsonl
    timed "query --match $word --count (whole store)" query --store "$url" --match "$word" --count
    timed "query --match $rare (rare) --count (whole store)" query --store "$url" --match "$rare" --count
    timed "query --match $rare (rare) --limit 50 (whole store)" query --store "$url" --match "$rare" --limit 50 --format jsonl
    timed "query --host, one hour, --match $word" query --store "$url" --host "$host" --since "$since" --until "$until" --match "$word" --format jsonl
    timed "query --where user=$user --count (whole store)" query --store "$url" --where "user=$user" --count
    timed "timeline --host, one hour" timeline --store "$url" --host "$host" --since "$since" --until "$until"
    timed "stats --by host (whole store)" stats --store "$url" --by host --bucket 1h
    timed "hunt --rules aggregator/rules (whole store)" hunt --store "$url" --rules ../aggregator/rules --format jsonl
    start=$(date +%s%N)
    "$BIN/flightlog" verify --store "$url" --aggregator-key "$WORK/site.key" | tail -1
    echo "investigate: verify --store: $(( ($(date +%s%N) - start) / 1000000 )) ms"
fi
