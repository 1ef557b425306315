#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (docs/FUZZING.md). Usage:
#   bash scripts/fuzz.sh TARGET SECONDS     run one target (frames, handshake, batch, lines, sigma) for SECONDS, then
#                                           merge what it kept into Tests/Fixtures/fuzz/TARGET (the replayed corpus)
#   bash scripts/fuzz.sh build              build the fuzz executables only
# One libFuzzer process at a time (no -jobs/-workers). Fuzz/TARGET.dict, when there is one, is passed as -dict; extra
# libFuzzer flags: FLIGHTLOG_FUZZ_FLAGS="-only_ascii=1".
# The working corpus (everything libFuzzer kept) stays in Fuzz/.build/corpus/TARGET between runs; crashes go to
# Fuzz/.build/artifacts/TARGET/, the log of the last run to Fuzz/.build/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGETS="frames handshake batch lines sigma"

usage() { echo "usage: $0 {$(echo $TARGETS | tr ' ' '|')} SECONDS | build" >&2; exit 64; }
[ $# -ge 1 ] || usage

build() {
    bash scripts/deps.sh
    # SwiftPM caches the file list of the path dependency (the main package); drop the plan so new files are seen.
    rm -f Fuzz/.build/*.yaml Fuzz/.build/*/description.json
    # As apple/swift-protobuf's FuzzTesting: every Swift module instrumented for coverage and AddressSanitizer;
    # -parse-as-library because libFuzzer, not Swift, provides main.
    (cd Fuzz && swift build -c debug --sanitize=fuzzer --sanitize=address -Xswiftc -parse-as-library)
}

if [ "$1" = build ]; then build; exit 0; fi
[ $# -eq 2 ] || usage
TARGET="$1"
SECONDS_TO_RUN="$2"
case " $TARGETS " in *" $TARGET "*) ;; *) usage ;; esac
[[ "$SECONDS_TO_RUN" =~ ^[0-9]+$ ]] || usage

build
BIN="$(cd Fuzz && swift build -c debug --sanitize=fuzzer --sanitize=address -Xswiftc -parse-as-library --show-bin-path)"
WORK="$ROOT/Fuzz/.build/corpus/$TARGET"
ARTIFACTS="$ROOT/Fuzz/.build/artifacts/$TARGET"
LOG="$ROOT/Fuzz/.build/logs/$TARGET.log"
COMMITTED="$ROOT/Tests/Fixtures/fuzz/$TARGET"
SEEDS="$(mktemp -d)"
MERGED="$(mktemp -d)"
trap 'rm -rf "$SEEDS" "$MERGED"' EXIT
mkdir -p "$WORK" "$ARTIFACTS" "$(dirname "$LOG")" "$COMMITTED"
python3 Fuzz/seeds.py "$TARGET" "$SEEDS"
DICT=()
[ -f "Fuzz/$TARGET.dict" ] && DICT=(-dict="Fuzz/$TARGET.dict")

# -max_len keeps inputs (and so the committed corpus) small; -timeout catches hangs; -rss_limit_mb a runaway
# allocation. The first folder is where new inputs go; the others are read only.
# shellcheck disable=SC2086
"$BIN/fuzz-$TARGET" \
    -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$ARTIFACTS/" "${DICT[@]}" ${FLIGHTLOG_FUZZ_FLAGS:-} \
    "$WORK" "$COMMITTED" "$SEEDS" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}

# Minimise: the smallest set of inputs that covers every feature the three folders reach together.
before=$(find "$COMMITTED" -type f | wc -l)
"$BIN/fuzz-$TARGET" -merge=1 -max_len=4096 -timeout=10 "$MERGED" "$COMMITTED" "$WORK" "$SEEDS" \
    >"$LOG.merge" 2>&1 || { echo "merge failed: $LOG.merge" >&2; exit 1; }
grep -E '^MERGE-OUTER' "$LOG.merge" || true
if [ -n "$(ls -A "$MERGED")" ]; then
    rm -f "$COMMITTED"/*
    cp "$MERGED"/* "$COMMITTED"/
fi
after=$(find "$COMMITTED" -type f | wc -l)
echo "fuzz $TARGET: exit $status; committed corpus $before → $after files; log $LOG; crashes in $ARTIFACTS"
exit "$status"
