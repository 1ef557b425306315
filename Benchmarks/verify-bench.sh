#!/usr/bin/env bash
# Times `flightlog verify` (full and incremental) on a database built by the real aggregator from real agent
# batches. Release build; not run in CI.
#
#   Benchmarks/verify-bench.sh [EVENTS] [WORKDIR]      default 1000000 events, a fresh temporary directory
#
# Reports events/s and MB/s of stored batch envelopes for the full check, and the incremental check's time after
# 1% more events arrived.
set -euo pipefail
EVENTS="${1:-1000000}"
WORK="${2:-$(mktemp -d /tmp/flightlog-verify-bench.XXXXXX)}"
# Built through the benchmark package, whose release build folder the other benchmarks already warmed.
cd "$(dirname "$0")"
swift build -c release --product flightlog >&2
swift build -c release --product flightlog-agent >&2
BIN="$(swift build -c release --show-bin-path)"
F="$BIN/flightlog"
A="$BIN/flightlog-agent"
mkdir -p "$WORK/logs"
DB="$WORK/bench.db"
PORT="${PORT:-17600}"

write_lines() { # count offset file
    awk -v n="$1" -v o="$2" 'BEGIN { for (i = o; i < o + n; i++)
        printf "Nov 24 09:%02d:%02d ws-bench sshd[%d]: Accepted password for user%d from 203.0.113.%d port %d ssh2\n",
            (i / 60) % 60, i % 60, 1000 + i % 30000, i % 500, i % 250, 1024 + i % 60000 }' >> "$3"
}

ship_until() { # expected-events
    "$A" run --aggregator "127.0.0.1:$PORT" --key "$WORK/agent.key" --state-dir "$WORK/state" \
        --watch "$WORK/logs/*.log" --insecure-plaintext > "$WORK/agent.log" 2>&1 &
    local agent=$!
    while :; do
        local n
        n=$(sqlite3 "file:$DB?mode=ro" "SELECT COUNT(*) FROM events" 2>/dev/null || echo 0)
        [ "$n" -ge "$1" ] && break
        sleep 2
    done
    kill "$agent"; wait "$agent" 2>/dev/null || true
}

PUB=$("$A" keygen --key "$WORK/agent.key" | tail -1)
"$F" enroll --db "$DB" --name ws-bench --public-key "$PUB" >/dev/null
"$F" serve --db "$DB" --listen "127.0.0.1:$PORT" --insecure-plaintext > "$WORK/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
sleep 1
write_lines "$EVENTS" 0 "$WORK/logs/app.log"
echo "shipping $EVENTS events…" >&2
ship_until "$EVENTS"
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true   # graceful: signs a last checkpoint

DB_MB=$(du -m "$DB" | cut -f1)
echo "database: $DB ($DB_MB MB)"
sync
run() { /usr/bin/time -f "%e s wall, %M KB max RSS" "$F" verify --db "$DB" "$@"; }
echo "== full verify =="
run || true
echo "== incremental verify, nothing new =="
run --incremental || true

"$F" serve --db "$DB" --listen "127.0.0.1:$PORT" --insecure-plaintext >> "$WORK/serve.log" 2>&1 &
SERVE=$!
MORE=$((EVENTS / 100))
write_lines "$MORE" "$EVENTS" "$WORK/logs/app.log"
ship_until $((EVENTS + MORE))
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
echo "== incremental verify after $MORE more events =="
run --incremental || true
echo "== full verify (second time, warm cache) =="
run || true
echo "(events/s = events / seconds and MB/s = bytes / seconds, from the summary lines above)"
