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
bash scripts/deps.sh --tests
# House style: swift-nio's .swift-format, enforced.
swift format lint --strict -r Sources Tests
# The module arrows of ARCHITECTURE.md are the target dependencies of Package.swift; importing a module a target
# does not declare fails the build (and MemberImportVisibility makes every file import what it uses).
swift build --build-tests --explicit-target-dependency-import-check error
# All suites run in one process, side by side: hundreds of SQLite files, in-process servers and, in SlowlorisTests,
# 2,000 descriptors for 1,000 idle connections. Debian's default soft limit of 1,024 runs out (accepts then fail
# with EMFILE and unrelated suites wait for frames that never come), so the soft limit is raised towards the hard
# one, as a service manager's LimitNOFILE= would for `flightlog serve`.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$hard" ]; then ulimit -Sn "$hard"; fi
# At most 16 tests at a time (swift-testing's default is all 629 at once). The process's concurrency pool has one
# thread a core; with every test started together, a session test's server waited behind the synchronous work of
# hundreds of others, and its 0.1 s of work took ~46 s (median over the 56 in-process servers, one run; 0.7 s with
# 16 at a time). Five handshake tests once ran out their 60 s deadlines that way. The whole run took as long (193 s
# against 196-214 s). An unknown variable in a later toolchain means all at once again: the deadlines still hold.
# A throwaway PostgreSQL cluster for the PostgreSQL store's tests (scripts/postgres.sh), with a hot standby for the
# read-replica tests, stopped and removed when the tests end, however they end.
pgdir=$(mktemp -d /tmp/flightlog-postgres.XXXXXX)
chmod 755 "$pgdir"
trap 'bash scripts/postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
eval "$(bash scripts/postgres.sh start "$pgdir")"
eval "$(bash scripts/postgres.sh replica "$pgdir")"
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-16}"
swift test --skip-build "$@"
