#!/usr/bin/env bash
# What the agent's parser extracts from the log lines of Wazuh's ruleset tests, against what Wazuh's decoders extract
# from them (docs/benchmarks/extraction.md). Wazuh is GPL-2.0: its files are read from your checkout, never copied.
# Usage: WAZUH=/path/to/wazuh bash Benchmarks/compare-wazuh.sh [TEST.ini ...]
#   (git clone --branch v4.14.7 https://github.com/wazuh/wazuh; the ruleset left that repository in 5.0)
# Default tests: sshd, pam, sudo, su, apache, nginx and web_appsec (web access logs).
set -euo pipefail
cd "$(dirname "$0")/.."
WAZUH="${WAZUH:?set WAZUH to a checkout of https://github.com/wazuh/wazuh at a 4.x tag}"
W="$(mktemp -d "${TMPDIR:-/tmp}/flightlog-wazuh.XXXXXX")"
python3 Benchmarks/wazuh-decode.py "$WAZUH" "$@" > "$W/decoded.jsonl"
python3 - "$W/decoded.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
checked = [row for row in rows if row["kind"] == "pass" and row["decoder_expected"]]
same = sum(row["decoder"] == row["decoder_expected"] for row in checked)
print(f"{len(rows)} lines decoded; the emulation reaches the decoder Wazuh's tests expect on {same} of {len(checked)}")
for row in checked:
    if row["decoder"] != row["decoder_expected"]:
        print(f"  expected {row['decoder_expected']}, reached {row['decoder']}: {row['line'][:120]}")
PY
swift build --build-tests >/dev/null
WAZUH_DECODED="$W/decoded.jsonl" swift test --skip-build --filter WazuhComparisonTests 2>&1 \
  | grep -v -E '^(\[|Test Suite|Test Case|Executed|◇|↳)' || true
echo "work files in $W"
