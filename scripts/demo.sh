#!/usr/bin/env bash
# The README's first command: Flightlog end to end on the embedded default, with a vishing incident to investigate.
# An aggregator on 127.0.0.1 (TLS, SQLite under a local folder), three call-center workstations as real
# flightlog-agent processes tailing logs that `flightlog simulate` writes in real time, the attacker stopping the
# agent on the victim's workstation and deleting their lines from its auth.log; then the investigator's commands.
# Builds in release mode (FLIGHTLOG_BIN: a folder with flightlog and flightlog-agent already built, as the test of
# this script uses). Leaves no process behind; the files stay in the folder it names at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${FLIGHTLOG_BIN:-}" ]; then
    BIN="$FLIGHTLOG_BIN"
else
    bash scripts/deps.sh
    swift build -c release --product flightlog
    swift build -c release --product flightlog-agent
    BIN="$(swift build -c release --show-bin-path)"
fi
export TZ=UTC  # the simulated logs are in UTC, and the agents read zone-less times in their own zone
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flightlog-demo.XXXXXX")"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "demo files kept in $WORK"
}
trap cleanup EXIT
DB="$WORK/flightlog.db"
fl() { "$BIN/flightlog" "$@"; }
# Prints the command as an investigator would type it, then runs it; a non-zero exit (1 = nothing matched, or
# findings) is shown, not fatal.
show() {
    echo "\$ flightlog $*" | sed "s#$WORK/##g"
    "$BIN/flightlog" "$@" || echo "(exit status $?)"
}

echo "== 1. an aggregator on 127.0.0.1 with TLS, and three workstations enrolled"
PIN="$(fl tls-init --out "$WORK/tls" --name localhost --ip 127.0.0.1 | sed -n 's/^pin: //p')"
"$BIN/flightlog" serve --db "$DB" --listen 127.0.0.1:0 --tls-cert "$WORK/tls/server.pem" --tls-key "$WORK/tls/server.key" \
    --log-level warning > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVE=$!
PIDS+=($SERVE)
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT="$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$WORK/serve.out")"
[ -n "$PORT" ] || { echo "the aggregator did not start:"; cat "$WORK/serve.err"; exit 1; }
echo "listening on 127.0.0.1:$PORT (TLS 1.3, agents pin $PIN)"
HOSTS=(cc-ws-001 cc-ws-002 cc-ws-003)
for host in "${HOSTS[@]}"; do
    "$BIN/flightlog-agent" keygen --key "$WORK/$host.key" > "$WORK/$host.pub"
    fl enroll --db "$DB" --name "$host" --public-key "$(cat "$WORK/$host.pub")"
done

echo
echo "== 2. a morning at the call center, simulated 60 times faster than real time, with a vishing incident"
# The simulated morning starts at the next whole minute, so that the simulated clock (60 times faster) stays ahead of
# the real one: the agents' own start and stop events carry the real time, and a stop event later than the simulated
# lines would hide the victim's silence (with a fixed 09:30 start, every run after 10:02 UTC did).
START_S=$(( ($(date -u +%s) / 60 + 1) * 60 ))
at() { date -u -d "@$(( START_S + $1 * 60 ))" +%Y-%m-%dT%H:%M:%SZ; }  # $1 minutes after the start
START="$(at 0)"
PACE=60
mkdir -p "$WORK/sim"
for host in "${HOSTS[@]}"; do mkdir -p "$WORK/sim/$host"; touch "$WORK/sim/$host/auth.log" "$WORK/sim/$host/crm.jsonl" \
    "$WORK/sim/$host/softphone.log"; done
declare -A AGENT
for host in "${HOSTS[@]}"; do
    "$BIN/flightlog-agent" run --aggregator "127.0.0.1:$PORT" --pin "$PIN" --key "$WORK/$host.key" \
        --state-dir "$WORK/state-$host" --hostname "$host" --watch "$WORK/sim/$host/*.log" \
        --watch "$WORK/sim/$host/*.jsonl" --flush-interval-ms 200 --log-level warning 2> "$WORK/agent-$host.err" &
    AGENT[$host]=$!
    PIDS+=($!)
done
"$BIN/flightlog" simulate --out "$WORK/sim" --hosts 3 --seed 7 --start "$START" --duration 32m --incident-at "$(at 5)" \
    --pace "$PACE" > "$WORK/simulate.out" &
SIMULATE=$!
PIDS+=($SIMULATE)
for _ in $(seq 1 50); do [ -s "$WORK/sim/incident.json" ] && break; sleep 0.1; done
# incident.json holds one step a line: {"kind":"agent_stopped","time":…,"time_ns":N,"host":"cc-ws-00N",…}
STOPPED="$(grep '"kind":"agent_stopped"' "$WORK/sim/incident.json")"
VICTIM_HOST="$(echo "$STOPPED" | sed 's/.*"host":"\([^"]*\)".*/\1/')"
STOP_S="$(( $(echo "$STOPPED" | sed 's/.*"time_ns":\([0-9]*\).*/\1/') / 1000000000 ))"
# The attacker's `sudo systemctl stop flightlog-agent` on the victim's workstation, when the simulated clock says.
WAIT_S="$(( (STOP_S - $(date -u -d "$START" +%s)) / PACE ))"
sleep "$WAIT_S"
kill -TERM "${AGENT[$VICTIM_HOST]}"
echo "the attacker stops the agent on $VICTIM_HOST; the simulation goes on"
wait "$SIMULATE"
cat "$WORK/simulate.out"
wait "${AGENT[$VICTIM_HOST]}" 2>/dev/null || true
# The other agents keep running, as on a live site: wait until each has read its files to the end and every batch is
# acknowledged (its status: offsets summing to the files' size, nothing unsent).
for host in "${HOSTS[@]}"; do
    [ "$host" = "$VICTIM_HOST" ] && continue
    for _ in $(seq 1 300); do
        size="$(cat "$WORK/sim/$host"/* | wc -c)"
        status="$("$BIN/flightlog-agent" status --state-dir "$WORK/state-$host" --json 2>/dev/null || true)"
        read="$(echo "$status" | grep -o '"offset":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }')"
        [ "$read" = "$size" ] && echo "$status" | grep -q '"unsent":{"batches":0' && break
        sleep 0.1
    done
done
ADDRESS="$(sed -n 's/.*"attacker_address":"\([^"]*\)".*/\1/p' "$WORK/sim/incident.json")"
VICTIM="$(sed -n 's/.*"victim_user":"\([^"]*\)".*/\1/p' "$WORK/sim/incident.json")"
echo "on $VICTIM_HOST, auth.log now holds $(grep -c "Accepted password" "$WORK/sim/$VICTIM_HOST/auth.log" || true) lines with the attacker's login"

echo
echo "== 3. which agents went silent: the victim's stopped while the others went on logging"
show agents --db "$DB" --silence 5m

echo
echo "== 4. the Sigma starter rules that matched"
show hunt --db "$DB" --rules aggregator/rules --matched-only

echo
echo "== 5. the victim's activity per workstation in 2-minute buckets: the spike, and the address seen for the first time"
show stats --db "$DB" --user "$VICTIM" --by host --bucket 2m --since "$(at 6)" --until "$(at 30)"

echo
echo "== 6. the victim's account across workstations around the incident, the silence marked (routine CRM work folded)"
show timeline --db "$DB" --user "$VICTIM" --since "$(at 6)" --until "$(at 32)" --silence 3m \
    | grep -v '"event":"record.view"\|"event":"search"\|"event":"record.update"' || true

echo
echo "== 7. the attacker's login, stored and signed although auth.log no longer has it"
show query --db "$DB" --ip "$ADDRESS" --program sshd

echo
echo "== 8. integrity: the store as it is, then a copy in which an insider edited the attacker's login"
for host in "${HOSTS[@]}"; do [ "$host" = "$VICTIM_HOST" ] || kill -TERM "${AGENT[$host]}"; done
for host in "${HOSTS[@]}"; do wait "${AGENT[$host]}" 2>/dev/null || true; done
kill -TERM "$SERVE"; wait "$SERVE" 2>/dev/null || true  # the aggregator stops; its files are whole
show verify --db "$DB"
for file in "$DB"*; do cp "$file" "$WORK/tampered.db${file#"$DB"}"; done
# The insider points the attacker's sshd logins at a colleague's address, so that --ip no longer finds them.
TAMPER="UPDATE events SET src_ip = '10.20.0.11' WHERE src_ip = '$ADDRESS' AND program = 'sshd'"
echo "\$ sqlite3 tampered.db \"$TAMPER\""
sqlite3 "$WORK/tampered.db" "$TAMPER"
show verify --db "$WORK/tampered.db"

echo
echo "== 9. an evidence bundle of the victim's account around the incident, with its HTML report, checked offline"
show export --db "$DB" --user "$VICTIM" --since "$(at 6)" --until "$(at 32)" --rules aggregator/rules \
    --silence 3m --out "$WORK/bundle"
show verify --bundle "$WORK/bundle" --aggregator-key "$WORK/flightlog-aggregator.key.pub"
echo "the bundle's report.html is the picture to hand over: open $WORK/bundle/report.html in a browser (no network needed)"
