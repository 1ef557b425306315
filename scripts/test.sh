#!/usr/bin/env bash
# Runs every test: installs missing system libraries, lints the format, builds, runs swift test (unit,
# integration over loopback, end to end with the real executables).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# House style: swift-nio's .swift-format, enforced.
swift format lint --strict -r Sources Tests
swift build --build-tests
swift test --skip-build "$@"
