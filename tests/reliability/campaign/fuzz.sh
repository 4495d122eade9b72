#!/usr/bin/env bash
# Test 2: every cargo fuzz target for FUZZ_SECONDS (default 20) each, one after the other.
# cargo fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# Prints one `RESULT {...}` line per target for tests/reliability/campaign/run.mjs; exits 1 on any crash.
set -uo pipefail
cd "$(dirname "$0")/../../.."
secs=${FUZZ_SECONDS:-20}
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2 >&2 || exit 1
cargo fuzz build -O >&2 || exit 1
targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
status=0
mkdir -p tests/reliability/campaign/out
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  rm -rf "fuzz/artifacts/$t"
  log="tests/reliability/campaign/out/fuzz-$t.log"
  # -rss_limit_mb keeps a runaway input from eating the machine; the seeds are read, new finds go to corpus/.
  # FUZZ_EXTRA passes more libFuzzer flags (e.g. `-fork=1 -ignore_crashes=1` to go on past a known crash).
  # shellcheck disable=SC2086
  cargo fuzz run -O "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -print_final_stats=1 ${FUZZ_EXTRA:-} >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tr -d '#' | sort -n | tail -1)
  crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
  [ "$rc" -eq 0 ] || [ "$crashes" -gt 0 ] || crashes=1
  if [ "$crashes" -gt 0 ]; then
    status=1
    grep -E 'panicked at|SUMMARY|Test unit written' "$log" | sort | uniq -c | head -8 >&2
  fi
  echo "RESULT {\"test\":\"fuzz $t (${secs}s)\",\"cases\":${runs:-0},\"faults\":0,\"failures\":$crashes}"
done
exit $status
