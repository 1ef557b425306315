#!/usr/bin/env bash
# What SigmaHQ's public rules can find in Flightlog: public sample logs (Tests/Fixtures: loghub's OpenSSH and Linux
# logs, Filebeat's RHEL 7 audit.log, and any EXTRA_LOGS) go through the real agent and aggregator, then `flightlog
# hunt` runs SigmaHQ's rules/linux and rules/web trees and its summary is counted.
# Usage: SIGMA=/path/to/sigma/checkout bash Benchmarks/sigmahq.sh   (git clone https://github.com/SigmaHQ/sigma)
# EXPECT: the number of events to wait for (default 6400, the three files above).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SIGMA="${SIGMA:?set SIGMA to a checkout of https://github.com/SigmaHQ/sigma}"
swift build >/dev/null
BIN="$(swift build --show-bin-path)"
W="$(mktemp -d "${TMPDIR:-/tmp}/flightlog-sigmahq.XXXXXX")"; mkdir -p $W/logs
cp $ROOT/Tests/Fixtures/loghub/OpenSSH_2k.log $W/logs/openssh.log
cp $ROOT/Tests/Fixtures/loghub/Linux_2k.log $W/logs/linux.log
cp $ROOT/Tests/Fixtures/auditd/filebeat-audit-rhel7.log $W/logs/audit.log
for f in ${EXTRA_LOGS:-}; do cp $f $W/logs/; done
$BIN/flightlog-agent keygen --key $W/agent.key > $W/agent.pub
$BIN/flightlog enroll --db $W/db.sqlite --name loghub --public-key "$(cat $W/agent.pub)" > /dev/null
$BIN/flightlog serve --db $W/db.sqlite --listen 127.0.0.1:0 --insecure-plaintext --log-level warning > $W/serve.out 2> $W/serve.err &
SP=$!
for _ in $(seq 1 100); do grep -q "listening on" $W/serve.out 2>/dev/null && break; sleep 0.1; done
PORT="$(sed -n "s/.*listening on [^ ]*:\([0-9]*\).*/\1/p" $W/serve.out)"
$BIN/flightlog-agent run --aggregator 127.0.0.1:$PORT --key $W/agent.key --state-dir $W/state --watch "$W/logs/*.log" \
  --hostname loghub --insecure-plaintext --flush-interval-ms 200 --log-level warning 2> $W/agent.err &
AP=$!
for _ in $(seq 1 300); do
  N="$($BIN/flightlog agents --db $W/db.sqlite --format jsonl 2>/dev/null | sed -n 's/.*"events":\([0-9]*\).*/\1/p')"
  [ "${N:-0}" -ge ${EXPECT:-6400} ] && break; sleep 0.2; done
kill -TERM $AP; wait $AP || true
sleep 1; kill -TERM $SP; wait $SP || true
echo "events: $N"
for tree in linux web; do
  /usr/bin/time -f "$tree: hunt took %e s" $BIN/flightlog hunt --db $W/db.sqlite --rules $SIGMA/rules/$tree --format jsonl > $W/hunt-$tree.jsonl 2> $W/hunt-$tree.err || true
  tail -1 $W/hunt-$tree.err
  tail -1 $W/hunt-$tree.jsonl | python3 -c '
import json,sys,collections
s=json.loads(sys.stdin.read())
print(sys.argv[1], "loaded",s["loaded"],"run",s["run"],"matched",s["matched"],"not run",len(s["not_run"]),"cannot match",len(s["cannot_match"]))
why=collections.Counter()
for r in s["not_run"]:
    w=r["why"]
    import re
    w=re.sub(r"\x27[^\x27]*\x27","X",w)[:90]
    why[w]+=1
print(" not-run reasons:", why.most_common(12))
f=collections.Counter()
for r in s["cannot_match"]:
    for x in r["absent_fields"]: f[x]+=1
print(" absent fields:", f.most_common(15))
' $tree
done
echo "work files in $W"
