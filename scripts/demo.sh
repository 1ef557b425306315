#!/usr/bin/env bash
# The main job end to end on the embedded default: a real agent tails sample call-center logs, ships signed batches
# over loopback TCP to a real aggregator, which stores them in SQLite; then an investigator queries them.
set -euo pipefail
cd "$(dirname "$0")/.."
# FLIGHTLOG_BIN: a folder holding flightlog and flightlog-agent already built (the test that runs this script).
if [ -n "${FLIGHTLOG_BIN:-}" ]; then
    BIN="$FLIGHTLOG_BIN"
else
    bash scripts/deps.sh
    swift build
    BIN="$(swift build --show-bin-path)"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flightlog-demo.XXXXXX")"
SERVE_PID=""; AGENT_PID=""
cleanup() {
    [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null || true
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
    echo "demo files kept in $WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/logs"

echo "== 1. agent key and enrolment"
"$BIN/flightlog-agent" keygen --key "$WORK/agent.key" > "$WORK/agent.pub"
"$BIN/flightlog" enroll --db "$WORK/flightlog.db" --name cc-ws-602 --public-key "$(cat "$WORK/agent.pub")"

echo "== 2. aggregator on 127.0.0.1 (plaintext: loopback demo)"
"$BIN/flightlog" serve --db "$WORK/flightlog.db" --listen 127.0.0.1:0 --insecure-plaintext --log-level warning \
    > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVE_PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT="$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$WORK/serve.out")"
[ -n "$PORT" ] || { echo "the aggregator did not start:"; cat "$WORK/serve.err"; exit 1; }
echo "listening on 127.0.0.1:$PORT"

echo "== 3. sample logs of a vishing incident, and the agent"
cat > "$WORK/logs/auth.log" <<'LOG'
Nov 24 10:58:02 cc-ws-602 sshd[2211]: Failed password for mchen from 198.51.100.23 port 50122 ssh2
Nov 24 11:02:17 cc-ws-602 sshd[2230]: Accepted password for mchen from 203.0.113.77 port 52113 ssh2
Nov 24 11:02:17 cc-ws-602 sshd[2230]: pam_unix(sshd:session): session opened for user mchen(uid=1001) by (uid=0)
Nov 24 11:04:40 cc-ws-602 sudo:    mchen : TTY=pts/0 ; PWD=/home/mchen ; USER=root ; COMMAND=/usr/bin/anydesk --install
LOG
cat > "$WORK/logs/crm.jsonl" <<'LOG'
{"ts":"2026-11-24T10:55:10Z","event":"helpdesk.mfa_reset","user":"mchen","actor":"helpdesk-07","channel":"phone"}
{"ts":"2026-11-24T11:03:05Z","event":"oauth.consent","user":"mchen","app":"Data Loader","src_ip":"203.0.113.77"}
{"ts":"2026-11-24T11:06:44Z","event":"report.export","user":"mchen","object":"Customer","rows":48211,"src_ip":"203.0.113.77"}
LOG
"$BIN/flightlog-agent" run --aggregator "127.0.0.1:$PORT" --key "$WORK/agent.key" --state-dir "$WORK/agent-state" \
    --watch "$WORK/logs/*.log" --watch "$WORK/logs/*.jsonl" --hostname cc-ws-602 --insecure-plaintext \
    --flush-interval-ms 200 --log-level warning 2> "$WORK/agent.err" &
AGENT_PID=$!
for _ in $(seq 1 150); do
    N="$("$BIN/flightlog" agents --db "$WORK/flightlog.db" --format jsonl 2>/dev/null | sed -n 's/.*"events":\([0-9]*\).*/\1/p')"
    [ "${N:-0}" -ge 7 ] && break
    sleep 0.2
done
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=""

echo "== 4. the investigator"
"$BIN/flightlog" agents --db "$WORK/flightlog.db"
echo
"$BIN/flightlog" query --db "$WORK/flightlog.db" --user mchen --format table
echo
echo "== 5. the starter Sigma rules: the MFA reset followed by a login from outside, and the rest"
"$BIN/flightlog" hunt --db "$WORK/flightlog.db" --rules aggregator/rules
