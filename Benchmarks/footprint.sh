#!/usr/bin/env bash
# Steady-state footprint of the agent at a given rate (default 1,000 lines/s for 60 s), release build, against a
# real aggregator on loopback. Prints the agent's RSS (steady and peak) and CPU as % of one core.
# Usage: [FLIGHTLOG_AGENT_BIN=path] [FLIGHTLOG_TLS=0] bash Benchmarks/footprint.sh [RATE] [SECONDS]
# Over TLS 1.3 as deployed (a CA from `flightlog tls-init`, the agent trusting its pin); FLIGHTLOG_TLS=0: plaintext.
set -euo pipefail
RATE="${1:-1000}"; SECONDS_TOTAL="${2:-60}"
cd "$(dirname "$0")"
bash ../scripts/deps.sh
# Built through the benchmark package, whose release build folder the other benchmarks already warmed.
swift build -c release --product flightlog >/dev/null
swift build -c release --product flightlog-agent >/dev/null
BIN="$(swift build -c release --show-bin-path)"
# The agent as deployed: FLIGHTLOG_AGENT_BIN may name a statically linked build
# (swift build -c release --static-swift-stdlib --product flightlog-agent), which maps far less shared code.
AGENT_BIN="${FLIGHTLOG_AGENT_BIN:-$BIN/flightlog-agent}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flightlog-footprint.XXXXXX")"
trap 'kill $AGENT_PID $SERVE_PID $WRITER_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/logs"
if [ "${FLIGHTLOG_TLS:-1}" = 1 ]; then
    PIN="$("$BIN/flightlog" tls-init --out "$WORK/tls" --name localhost --ip 127.0.0.1 | sed -n 's/^pin: //p')"
    SERVE_TRANSPORT=(--tls-cert "$WORK/tls/server.pem" --tls-key "$WORK/tls/server.key")
    AGENT_TRANSPORT=(--pin "$PIN")
else
    SERVE_TRANSPORT=(--insecure-plaintext)
    AGENT_TRANSPORT=(--insecure-plaintext)
fi
"$AGENT_BIN" keygen --key "$WORK/agent.key" > "$WORK/pub"
"$BIN/flightlog" enroll --db "$WORK/fl.db" --name fp --public-key "$(cat "$WORK/pub")" >/dev/null
"$BIN/flightlog" serve --db "$WORK/fl.db" --listen 127.0.0.1:0 "${SERVE_TRANSPORT[@]}" --log-level error > "$WORK/serve.out" &
SERVE_PID=$!
for _ in $(seq 1 100); do grep -q listening "$WORK/serve.out" && break; sleep 0.1; done
PORT="$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$WORK/serve.out")"
"$AGENT_BIN" run --aggregator "127.0.0.1:$PORT" --key "$WORK/agent.key" --state-dir "$WORK/state" \
    --watch "$WORK/logs/*.log" "${AGENT_TRANSPORT[@]}" --log-level error &
AGENT_PID=$!
python3 - "$WORK/logs/app.log" "$RATE" "$SECONDS_TOTAL" <<'PY' &
import sys, time, random
path, rate, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(42)
with open(path, "a", buffering=1) as f:
    start = time.time(); n = 0
    while time.time() - start < total:
        target = int((time.time() - start) * rate)
        while n < target:
            f.write("Nov 24 10:%02d:%02d cc-ws-602 sshd[%d]: Accepted publickey for user%d from 203.0.113.%d port %d ssh2: RSA SHA256:%040x\n"
                    % (n // 60 % 60, n % 60, 1000 + n, n % 50, n % 250, 1024 + n % 60000, r.getrandbits(160)))
            n += 1
        time.sleep(0.01)
PY
WRITER_PID=$!
ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
HZ=$(getconf CLK_TCK)
sleep 10   # warm-up
T0=$(date +%s.%N); C0=$(ticks)
sleep $((SECONDS_TOTAL - 15))
T1=$(date +%s.%N); C1=$(ticks)
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$AGENT_PID/status"); HWM=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
wait $WRITER_PID || true
python3 -c "
t=$T1-$T0; c=($C1-$C0)/$HZ
print(f'agent at $RATE lines/s ($([ "${FLIGHTLOG_TLS:-1}" = 1 ] && echo TLS 1.3 || echo plaintext)): CPU {100*c/t:.2f} % of one core over {t:.0f} s; RSS {$RSS/1024:.1f} MiB (peak {$HWM/1024:.1f} MiB)')"
"$AGENT_BIN" status --state-dir "$WORK/state" | sed -n '1p;/lines_read/p;/batches_acked/p'
