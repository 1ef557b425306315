#!/usr/bin/env bash
# Runs every test: installs missing system libraries, lints the format, builds, runs swift test (unit,
# integration over loopback, end to end with the real executables).
# --long: also the long variants of the fault tests (FLIGHTLOG_LONG=1: 50 kills of each side in
# MultiAgentKillTests), RELIABILITY.md; other arguments go to swift test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--long" ]; then
    export FLIGHTLOG_LONG=1
    shift
fi
bash scripts/deps.sh
# House style: swift-nio's .swift-format, enforced.
swift format lint --strict -r Sources Tests
# The module arrows of ARCHITECTURE.md are the target dependencies of Package.swift; importing a module a target
# does not declare fails the build (and MemberImportVisibility makes every file import what it uses).
swift build --build-tests --explicit-target-dependency-import-check error
swift test --skip-build "$@"
