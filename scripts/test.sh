#!/usr/bin/env bash
# Runs every test: installs missing system libraries, builds, runs swift test (unit, integration, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build --build-tests
swift test --skip-build "$@"
