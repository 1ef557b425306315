#!/usr/bin/env bash
# SigmaHQ's rules/linux and rules/web trees, each in one `flightlog hunt`, on a 10 M-event store (issue 23's
# 2-minute target). The store is built by `flightlog-bench investigate` (release) from the public samples in
# Tests/Fixtures (loghub's OpenSSH, Linux and Apache logs, Filebeat's RHEL 7 audit.log, fail2ban's web access
# lines), cycled, each line parsed by the agent's parser and signed in batches of 1,000 over 40 agents and 7 days.
# Usage: SIGMA=/path/to/sigma/checkout bash Benchmarks/sigmahq-10m.sh [EVENTS] [DBPATH]
# The database is kept (building 10 M events takes several minutes); delete it to rebuild after a parser change.
set -euo pipefail
cd "$(dirname "$0")/.."
SIGMA="${SIGMA:?set SIGMA to a checkout of https://github.com/SigmaHQ/sigma}"
EVENTS="${1:-10000000}"
DB="${2:-${TMPDIR:-/tmp}/flightlog-bench-sigmahq-10m.db}"
CORPUS="$(mktemp "${TMPDIR:-/tmp}/flightlog-sigmahq-corpus.XXXXXX")"
trap 'rm -f "$CORPUS"' EXIT
F=Tests/Fixtures
cat $F/loghub/OpenSSH_2k.log $F/loghub/Linux_2k.log $F/loghub/Apache_2k.log $F/auditd/filebeat-audit-rhel7.log \
  | tr -d '\r' > "$CORPUS"
for f in $F/fail2ban/apache-* $F/fail2ban/nginx-*; do grep -v '^#' "$f" | grep -v '^[[:space:]]*$' >> "$CORPUS" || true; done
echo "corpus: $(wc -l < "$CORPUS") public lines, cycled to $EVENTS events"
FLIGHTLOG_BENCH_LINES="$CORPUS" FLIGHTLOG_BENCH_SIGMA="$SIGMA" bash Benchmarks/run.sh investigate "$EVENTS" "$DB"
