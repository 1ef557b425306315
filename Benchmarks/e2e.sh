#!/usr/bin/env bash
# End to end on one machine: `flightlog serve` and `flightlog-agent` (release builds) on 127.0.0.1, plaintext, the
# agent catching up on FILE (written in full before it starts), until every line is stored. Prints lines/s, CPU per
# line and peak RSS of each side, and the database's bytes. PERF=1 records both processes with `perf record -g`
# (RUN_DIR/agent.perf, RUN_DIR/serve.perf).
# Usage: bash Benchmarks/e2e.sh FILE        e.g. the peer harness's 1 M lines:
#   python3 ../shared/bench/peers/lib/gen_logs.py 1000000 /tmp/lines.log --seed 42 && bash Benchmarks/e2e.sh /tmp/lines.log
set -euo pipefail
cd "$(dirname "$0")/.."
INPUT="${1:?usage: bash Benchmarks/e2e.sh FILE}"
swift build -c release --product flightlog >/dev/null
swift build -c release --product flightlog-agent >/dev/null
B="$(swift build -c release --show-bin-path)"
W="${RUN_DIR:-${TMPDIR:-/tmp}/flightlog-e2e}"
rm -rf "$W"; mkdir -p "$W"
N=$(wc -l < "$INPUT")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
pub=$("$B/flightlog-agent" keygen --key "$W/agent.key")
"$B/flightlog" enroll --db "$W/fl.db" --name bench --public-key "$pub" > /dev/null
"$B/flightlog" serve --db "$W/fl.db" --listen 127.0.0.1:0 --insecure-plaintext --log-level error > "$W/serve.out" 2> "$W/serve.err" &
SPID=$!; PIDS+=("$SPID")
for _ in $(seq 100); do grep -q "listening on" "$W/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$W/serve.out")
T0=$(date +%s.%N)
"$B/flightlog-agent" run --aggregator "127.0.0.1:$PORT" --key "$W/agent.key" --state-dir "$W/state" --watch "$INPUT" \
    --hostname bench --insecure-plaintext --log-level error 2> "$W/agent.err" &
APID=$!; PIDS+=("$APID")
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 499 -g -o "$W/agent.perf" -p "$APID" > /dev/null 2>&1 & P1=$!
    perf record -F 499 -g -o "$W/serve.perf" -p "$SPID" > /dev/null 2>&1 & P2=$!
fi
# The agent's own start event is stored too: done once the chain holds N + 1 events.
until [ "$(sqlite3 "$W/fl.db" "SELECT COALESCE(SUM(events), 0) FROM chains" 2>/dev/null || echo 0)" -gt "$N" ]; do sleep 0.2; done
T1=$(date +%s.%N)
TICKS=$(getconf CLK_TCK)
A=$(awk '{ print $14 + $15 }' "/proc/$APID/stat"); S=$(awk '{ print $14 + $15 }' "/proc/$SPID/stat")
ARSS=$(awk '/VmHWM/ { print $2 }' "/proc/$APID/status"); SRSS=$(awk '/VmHWM/ { print $2 }' "/proc/$SPID/status")
if [ "${PERF:-0}" = 1 ]; then kill -INT "$P1" "$P2"; wait "$P1" "$P2" || true; fi
kill -TERM "$APID"; wait "$APID" || true
kill -TERM "$SPID"; wait "$SPID" || true
BYTES=$(du -cb "$W"/fl.db* | tail -1 | cut -f1)
awk -v n="$N" -v t0="$T0" -v t1="$T1" -v a="$A" -v s="$S" -v hz="$TICKS" -v ar="$ARSS" -v sr="$SRSS" \
    -v bytes="$BYTES" -v input="$(stat -c %s "$INPUT")" 'BEGIN {
    t = t1 - t0
    printf "e2e: %d lines in %.2f s = %.0f lines/s; agent %.2f us/line, peak RSS %d MiB; serve %.2f us/line, peak RSS %d MiB\n",
        n, t, n / t, a / hz / n * 1e6, ar / 1024, s / hz / n * 1e6, sr / 1024
    printf "e2e: database files %d bytes = %.2f x the input (WAL not checkpointed)\n", bytes, bytes / input
}'
