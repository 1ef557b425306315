#!/usr/bin/env bash
# Flightlog against rsyslog (RELP) and syslog-ng on the same job, in one run, with the shared peer harness
# (../shared/bench/peers). Usage: N=1000000 REPS=3 bash Benchmarks/peers.sh
# FLIGHTLOG_TLS=1 runs Flightlog over TLS 1.3 (a CA from `flightlog tls-init`, the agent trusting its pin); for
# plaintext against TLS, run twice with PIPELINES=ours and a BENCH_WORK each.
set -euo pipefail
cd "$(dirname "$0")"
PEERS="$(cd ../.. && pwd)/shared/bench/peers"
[ -d "$PEERS" ] || PEERS="$(cd ../../.. && pwd)/shared/bench/peers"
swift build -c release --product flightlog >/dev/null
swift build -c release --product flightlog-agent >/dev/null
BIN="$(swift build -c release --show-bin-path)"
export BENCH_WORK="${BENCH_WORK:-${TMPDIR:-/tmp}/peers-bench}"
bash "$PEERS/run.sh" setup
if [ "${FLIGHTLOG_TLS:-0}" = 1 ]; then
    # tls-init's last line is "pin: sha256:…"; the agent waits for the pin file as it waits for its key.
    SERVE_TRANSPORT="--tls-cert \"\$BENCH_RUNDIR/tls/server.pem\" --tls-key \"\$BENCH_RUNDIR/tls/server.key\""
    SERVE_PREPARE="'$BIN/flightlog' tls-init --out \"\$BENCH_RUNDIR/tls\" --name localhost --ip 127.0.0.1 \
 | sed -n 's/^pin: //p' > \"\$BENCH_RUNDIR/pin.tmp\" && mv \"\$BENCH_RUNDIR/pin.tmp\" \"\$BENCH_RUNDIR/pin\" && "
    AGENT_WAIT="while [ ! -s \"\$BENCH_RUNDIR/pin\" ]; do sleep 0.05; done; "
    AGENT_TRANSPORT="--pin \"\$(cat \"\$BENCH_RUNDIR/pin\")\""
    TRANSPORT_LABEL="over TLS 1.3"
else
    SERVE_TRANSPORT="--insecure-plaintext"
    SERVE_PREPARE=""
    AGENT_WAIT=""
    AGENT_TRANSPORT="--insecure-plaintext"
    TRANSPORT_LABEL="plaintext"
fi
export OURS_RECV_CMD="$SERVE_PREPARE'$BIN/flightlog-agent' keygen --key \"\$BENCH_RUNDIR/agent.key\" > \"\$BENCH_RUNDIR/agent.pub\" \
 && '$BIN/flightlog' enroll --db \"\$BENCH_RUNDIR/fl.db\" --name bench --public-key \"\$(cat \"\$BENCH_RUNDIR/agent.pub\")\" >/dev/null \
 && exec '$BIN/flightlog' serve --db \"\$BENCH_RUNDIR/fl.db\" --listen 127.0.0.1:\$BENCH_PORT $SERVE_TRANSPORT --log-level error"
export OURS_SEND_CMD="$AGENT_WAIT""while [ ! -s \"\$BENCH_RUNDIR/agent.key\" ]; do sleep 0.05; done; exec '$BIN/flightlog-agent' run \
 --aggregator 127.0.0.1:\$BENCH_PORT --key \"\$BENCH_RUNDIR/agent.key\" --state-dir \"\$BENCH_RUNDIR/state\" \
 --watch \"\$BENCH_INPUT\" --hostname bench $AGENT_TRANSPORT --log-level error"
export OURS_COUNT_CMD="sqlite3 \"\$BENCH_RUNDIR/fl.db\" 'SELECT COALESCE(SUM(events), 0) - 2 FROM chains' 2>/dev/null || echo -1"
export OURS_TRANSPORT="Flightlog protocol $TRANSPORT_LABEL (zlib batches, Ed25519, per-batch acks after fsync)"
export OURS_GUARANTEE="acked after durable commit; signed, chained; indexed + FTS5"
PIPELINES="${PIPELINES:-ours rsyslog-relp syslog-ng-tcp-diskbuf syslog-ng-sqlite}" bash "$PEERS/run.sh" bench
bash "$PEERS/run.sh" report
