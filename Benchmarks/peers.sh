#!/usr/bin/env bash
# Flightlog against rsyslog (RELP) and syslog-ng on the same job, in one run, with the shared peer harness
# (../shared/bench/peers). Usage: N=1000000 REPS=3 bash Benchmarks/peers.sh
set -euo pipefail
cd "$(dirname "$0")"
PEERS="$(cd ../.. && pwd)/shared/bench/peers"
[ -d "$PEERS" ] || PEERS="$(cd ../../.. && pwd)/shared/bench/peers"
swift build -c release --product flightlog >/dev/null
swift build -c release --product flightlog-agent >/dev/null
BIN="$(swift build -c release --show-bin-path)"
export BENCH_WORK="${BENCH_WORK:-${TMPDIR:-/tmp}/peers-bench}"
bash "$PEERS/run.sh" setup
export OURS_RECV_CMD="'$BIN/flightlog-agent' keygen --key \"\$BENCH_RUNDIR/agent.key\" > \"\$BENCH_RUNDIR/agent.pub\" \
 && '$BIN/flightlog' enroll --db \"\$BENCH_RUNDIR/fl.db\" --name bench --public-key \"\$(cat \"\$BENCH_RUNDIR/agent.pub\")\" >/dev/null \
 && exec '$BIN/flightlog' serve --db \"\$BENCH_RUNDIR/fl.db\" --listen 127.0.0.1:\$BENCH_PORT --insecure-plaintext --log-level error"
export OURS_SEND_CMD="while [ ! -s \"\$BENCH_RUNDIR/agent.key\" ]; do sleep 0.05; done; exec '$BIN/flightlog-agent' run \
 --aggregator 127.0.0.1:\$BENCH_PORT --key \"\$BENCH_RUNDIR/agent.key\" --state-dir \"\$BENCH_RUNDIR/state\" \
 --watch \"\$BENCH_INPUT\" --hostname bench --insecure-plaintext --log-level error"
# Stored events of the input: the chain's event count minus the agent's own two lifecycle events (its start and
# "file opened"), read from the chains table so that counting does not scan the events.
export OURS_COUNT_CMD="sqlite3 \"\$BENCH_RUNDIR/fl.db\" 'SELECT COALESCE(SUM(events), 0) - 2 FROM chains' 2>/dev/null || echo -1"
export OURS_TRANSPORT="Flightlog protocol (zlib batches, Ed25519, per-batch acks after fsync)"
export OURS_GUARANTEE="acked after durable commit; signed, chained; indexed + FTS5"
PIPELINES="${PIPELINES:-ours rsyslog-relp syslog-ng-tcp-diskbuf syslog-ng-sqlite}" bash "$PEERS/run.sh" bench
bash "$PEERS/run.sh" report
