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

# SwiftPM's --sanitize=fuzzer makes it link libFuzzer's main instead of renaming the executable's (with only
# -Xswiftc -sanitize=fuzzer it links with --defsym main=<module>_main, which nothing defines). Only that one: given
# --sanitize=address as well, SwiftPM passes swiftc two -sanitize flags in a different order on each run (a Set), and
# swiftc keeps only the last one, so Swift code lost either coverage or AddressSanitizer, and every build rebuilt
# everything. The -Xswiftc flags come last, so the combined one wins; -Xcc gives C code ASan as well.
# -parse-as-library because libFuzzer, not Swift, provides main (as apple/swift-protobuf's FuzzTesting builds).
SANITIZE="--sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address -Xswiftc -parse-as-library"

# A trap in the harness is reported by libFuzzer; Swift's own backtracer, reading the stack of a process under ASan,
# only adds a spurious stack-buffer-underflow report of its own.
export SWIFT_BACKTRACE=enable=no

build() {
    bash scripts/deps.sh
    # SwiftPM caches the file list of the path dependency (the main package); drop the plan so new files are seen.
    rm -f Fuzz/.build/*.yaml Fuzz/.build/*/description.json
    # Every module, the main package's and its dependencies' (C included), instrumented for coverage and ASan.
    # shellcheck disable=SC2086
    (cd Fuzz && swift build -c debug $SANITIZE)
}

if [ "$1" = build ]; then build; exit 0; fi
[ $# -eq 2 ] || usage
TARGET="$1"
SECONDS_TO_RUN="$2"
case " $TARGETS " in *" $TARGET "*) ;; *) usage ;; esac
[[ "$SECONDS_TO_RUN" =~ ^[0-9]+$ ]] || usage

build
# shellcheck disable=SC2086
BIN="$(cd Fuzz && swift build -c debug $SANITIZE --show-bin-path)"
WORK="$ROOT/Fuzz/.build/corpus/$TARGET"
ARTIFACTS="$ROOT/Fuzz/.build/artifacts/$TARGET"
LOG="$ROOT/Fuzz/.build/logs/$TARGET.log"
COMMITTED="$ROOT/Tests/Fixtures/fuzz/$TARGET"
SEEDS="$(mktemp -d)"
MERGED="$(mktemp -d)"
trap 'rm -rf "$SEEDS" "$MERGED"' EXIT
mkdir -p "$WORK" "$ARTIFACTS" "$(dirname "$LOG")" "$COMMITTED"
python3 Fuzz/seeds.py "$TARGET" "$SEEDS"
# A binary without coverage in its Swift code fuzzes blind (libFuzzer prints no `cov:`): refuse to run it.
if ! "$BIN/fuzz-$TARGET" -runs=0 "$SEEDS" 2>&1 | grep -q 'INITED cov: [1-9]'; then
    echo "fuzz-$TARGET reports no coverage: is it built with -sanitize=fuzzer,address?" >&2
    exit 1
fi
DICT=()
[ -f "Fuzz/$TARGET.dict" ] && DICT=(-dict="Fuzz/$TARGET.dict")

status=0
# -max_len keeps inputs (and so the committed corpus) small; -timeout catches hangs; -rss_limit_mb a runaway
# allocation. The first folder is where new inputs go; the others are read only.
# shellcheck disable=SC2086
"$BIN/fuzz-$TARGET" \
    -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$ARTIFACTS/" "${DICT[@]}" ${FLIGHTLOG_FUZZ_FLAGS:-} \
    "$WORK" "$COMMITTED" "$SEEDS" 2>&1 | tee "$LOG" || status=$?

# Minimise: a small set of inputs that covers every edge the three folders reach together (-set_cover_merge=1, a
# greedy set cover, keeps about half what -merge=1 keeps). Edges only (-use_counters=0): with hit counts a run keeps
# thousands of inputs, too many to commit; the working corpus keeps them all for the next run.
before=$(find "$COMMITTED" -type f | wc -l)
"$BIN/fuzz-$TARGET" -set_cover_merge=1 -use_counters=0 -max_len=4096 -timeout=10 "$MERGED" "$COMMITTED" "$WORK" "$SEEDS" \
    >"$LOG.merge" 2>&1 || { echo "merge failed: $LOG.merge" >&2; exit 1; }
grep -E '^MERGE-OUTER' "$LOG.merge" || true
if [ -n "$(ls -A "$MERGED")" ]; then
    rm -f "$COMMITTED"/*
    cp "$MERGED"/* "$COMMITTED"/
fi
after=$(find "$COMMITTED" -type f | wc -l)
echo "fuzz $TARGET: exit $status; committed corpus $before → $after files; log $LOG; crashes in $ARTIFACTS"
exit "$status"
