#!/usr/bin/env bash
# Release-mode benchmarks (not run by CI). Usage:
#   bash Benchmarks/run.sh [ingest EVENTS CONNECTIONS [DBPATH] | storm CONNECTIONS | agent LINES | parse LINES |
#                           journal ENTRIES | investigate EVENTS DBPATH]
# TLS against plaintext: FLIGHTLOG_BENCH_TLS=1 bash Benchmarks/run.sh ingest 2000000 8 (and =0); a reconnect storm of
# 2,000 agents over TLS (HELLO…WELCOME and one acknowledged batch each): bash Benchmarks/run.sh storm 2000
# ingest on the peer harness's ~200-byte lines instead of the built-in generator's ~160-byte ones (gen_logs.py is
# the shared harness's generator, shared/bench/peers/lib/, outside this repository):
#   python3 gen_logs.py 6000000 /tmp/lines.log
#   FLIGHTLOG_BENCH_LINES=/tmp/lines.log bash Benchmarks/run.sh ingest 6000000 8
# a fleet: 2,000 connections sending batches of 10 events (what quiet workstations flushing every second send):
#   FLIGHTLOG_BENCH_BATCH=10 bash Benchmarks/run.sh ingest 1000000 2000
set -euo pipefail
cd "$(dirname "$0")"
bash ../scripts/deps.sh
# SwiftPM caches the file list of the path dependency (the main package); drop the plan so new files are seen.
rm -f .build/release.yaml .build/release/description.json
swift build -c release --product flightlog-bench
swift build -c release --product flightlog
BIN="$(swift build -c release --show-bin-path)"
if [ $# -eq 0 ]; then
    "$BIN/flightlog-bench" ingest 800000 8
    "$BIN/flightlog-bench" agent 1000000
    "$BIN/flightlog-bench" investigate 10000000 "${TMPDIR:-/tmp}/flightlog-bench-10m.db"
else
    "$BIN/flightlog-bench" "$@"
fi
