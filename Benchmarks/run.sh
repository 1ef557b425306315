#!/usr/bin/env bash
# Release-mode benchmarks (not run by CI). Usage: bash Benchmarks/run.sh [ingest EVENTS CONNECTIONS | agent LINES]
set -euo pipefail
cd "$(dirname "$0")"
bash ../scripts/deps.sh
swift build -c release --product flightlog-bench
BIN="$(swift build -c release --show-bin-path)"
if [ $# -eq 0 ]; then
    "$BIN/flightlog-bench" ingest 800000 8
    "$BIN/flightlog-bench" agent 1000000
else
    "$BIN/flightlog-bench" "$@"
fi
