#!/usr/bin/env bash
# Memory of both programs, release builds, while the aggregator is frozen again and again under load (RELIABILITY.md,
# "Limits"): the agent is offered RATE lines/s (~200 bytes, each with a unique id) while `flightlog serve` is stopped
# with SIGSTOP for STOP seconds and resumed for 1 s, CYCLES times; VmRSS of both is sampled every 100 ms, stops
# included. Then the writer stops, the agent drains, and the checker counts lost = written − stored and
# duplicates = rows − distinct ids in the database itself.
# Usage: [FLIGHTLOG_AGENT_BIN=path] bash Benchmarks/backpressure.sh [RATE] [CYCLES] [STOP]
#   (defaults 5000 lines/s, 60 cycles, 2 s; FLIGHTLOG_AGENT_BIN may name the statically linked agent as deployed,
#   swift build -c release --static-swift-stdlib --product flightlog-agent, which maps far less shared code)
set -euo pipefail
RATE="${1:-5000}"; CYCLES="${2:-60}"; STOP="${3:-2}"
cd "$(dirname "$0")"
bash ../scripts/deps.sh
swift build -c release --product flightlog >/dev/null
swift build -c release --product flightlog-agent >/dev/null
BIN="$(swift build -c release --show-bin-path)"
AGENT_BIN="${FLIGHTLOG_AGENT_BIN:-$BIN/flightlog-agent}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flightlog-backpressure.XXXXXX")"
cleanup() {
    kill -CONT "${SERVE_PID:-0}" 2>/dev/null || true
    kill "${WRITER_PID:-0}" "${AGENT_PID:-0}" "${SERVE_PID:-0}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/logs"
"$AGENT_BIN" keygen --key "$WORK/agent.key" > "$WORK/pub"
"$BIN/flightlog" enroll --db "$WORK/fl.db" --name bp --public-key "$(cat "$WORK/pub")" >/dev/null
"$BIN/flightlog" serve --db "$WORK/fl.db" --listen 127.0.0.1:0 --insecure-plaintext --log-level error \
    > "$WORK/serve.out" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 100); do grep -q listening "$WORK/serve.out" && break; sleep 0.1; done
PORT="$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$WORK/serve.out")"
"$AGENT_BIN" run --aggregator "127.0.0.1:$PORT" --key "$WORK/agent.key" --state-dir "$WORK/state" \
    --hostname bp --watch "$WORK/logs/*.log" --insecure-plaintext --log-level error > "$WORK/agent.out" 2>&1 &
AGENT_PID=$!
# The generator: RATE lines a second until told to stop (SIGTERM); its last id goes to written.txt.
python3 - "$WORK/logs/app.log" "$RATE" "$WORK/written.txt" <<'PY' &
import signal, sys, time
path, rate, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
running = True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
n = 0
with open(path, "a", buffering=1 << 16) as f:
    start = time.time()
    while running:
        target = int((time.time() - start) * rate)
        while n < target:
            f.write("Dec  7 04:%02d:%02d cc-ws-17 sshd[%d]: Failed password for invalid user agent%d from 198.51.100.%d "
                    "port %d ssh2 bp-id=%d padding=%s\n"
                    % (n // 60 % 60, n % 60, 2000 + n % 30000, n % 97, n % 250, 1024 + n % 60000, n, "x" * 60))
            n += 1
        f.flush()
        time.sleep(0.01)
with open(out, "w") as o:
    o.write(str(n))
PY
WRITER_PID=$!
# The sampler: VmRSS of both every 100 ms from the first freeze (its start file) until its stop file appears; the
# start-up peak (the agent's is ~35 MiB for a moment, BENCHMARKS.md) is not what is measured.
python3 - "$SERVE_PID" "$AGENT_PID" "$WORK/sampler.start" "$WORK/sampler.stop" "$WORK/rss.txt" <<'PY' &
import os, sys, time
serve, agent, start, stop, out = sys.argv[1:6]
while not os.path.exists(start) and not os.path.exists(stop):
    time.sleep(0.05)
def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
peak = {"serve": 0.0, "agent": 0.0}; first = {}
while not os.path.exists(stop):
    for name, pid in (("serve", serve), ("agent", agent)):
        value = rss(pid)
        if value is not None:
            first.setdefault(name, value)
            peak[name] = max(peak[name], value)
    time.sleep(0.1)
with open(out, "w") as o:
    for name in ("serve", "agent"):
        o.write(f"{name} {first.get(name, 0):.1f} {peak[name]:.1f} {rss(serve if name == 'serve' else agent) or 0:.1f}\n")
PY
SAMPLER_PID=$!
sleep 10  # warm-up: both running, the agent caught up, past its start-up peak
touch "$WORK/sampler.start"
for _ in $(seq 1 "$CYCLES"); do
    kill -STOP "$SERVE_PID"; sleep "$STOP"
    kill -CONT "$SERVE_PID"; sleep 1
done
kill -TERM "$WRITER_PID"; wait "$WRITER_PID" || true
WRITTEN="$(cat "$WORK/written.txt")"
# Drained: every id stored (or two minutes, after which the checker reports what is missing).
# The lines live in the signed batches, not in the rows: the loop waits on the row count (the agent's own events
# left out), then `flightlog query` reads every line back to count distinct ids.
rows() { sqlite3 "file:$WORK/fl.db?mode=ro" "SELECT count(*) FROM events WHERE source != 'flightlog-agent'"; }
for _ in $(seq 1 240); do
    [ "$(rows)" -ge "$WRITTEN" ] && break
    sleep 0.5
done
read -r ROWS DISTINCT < <("$BIN/flightlog" query --db "$WORK/fl.db" --match bp --format jsonl --limit 100000000 |
    python3 -c '
import json, sys
ids = [json.loads(l)["message"].split("bp-id=", 1)[1] for l in sys.stdin if "bp-id=" in l]
print(len(ids), len(set(ids)))')
touch "$WORK/sampler.stop"; wait "$SAMPLER_PID"
read -r _ S_FIRST S_PEAK S_LAST < <(grep '^serve' "$WORK/rss.txt")
read -r _ A_FIRST A_PEAK A_LAST < <(grep '^agent' "$WORK/rss.txt")
SPOOL="$("$AGENT_BIN" status --state-dir "$WORK/state" | sed -n 's/^ *spool: //p')"
echo "backpressure: $RATE lines/s offered, aggregator stopped ${STOP} s and resumed 1 s, $CYCLES cycles (release builds)"
echo "  written $WRITTEN, stored rows $ROWS, distinct ids $DISTINCT: lost $((WRITTEN - DISTINCT)), duplicates $((ROWS - DISTINCT))"
DB_MIB="$(du -cm "$WORK"/fl.db* | tail -1 | cut -f1)"
echo "  aggregator RSS: ${S_FIRST} MiB at the first freeze, peak ${S_PEAK} MiB, ${S_LAST} MiB at the end (database and" \
    "full-text files: ${DB_MIB} MiB; SQLite's page caches may hold up to 64 MiB of the writer's)"
echo "  agent RSS:      ${A_FIRST} MiB at the first freeze, peak ${A_PEAK} MiB, ${A_LAST} MiB at the end (spool now: $SPOOL)"
[ "$WRITTEN" -eq "$DISTINCT" ] && [ "$ROWS" -eq "$DISTINCT" ]
