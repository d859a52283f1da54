#!/usr/bin/env bash
# Builds every cargo-fuzz target with the stable toolchain and runs each one briefly:
# first over seed inputs from the shared corpus (real files of the target's format), then
# on random mutations. Without nightly's coverage instrumentation this is a smoke test
# (does the target build, does it survive real and mutated inputs), not real fuzzing;
# `scripts/fuzz.sh TARGET SECONDS` runs the real thing with cargo-fuzz on nightly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/data"
runs="${FUZZ_SMOKE_RUNS:-2000}"

(cd fuzz && cargo build --locked --bins -q)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
while read -r target seeds; do
  [ -z "$target" ] && continue
  case "$target" in \#*) continue ;; esac
  bin="fuzz/target/debug/$target"
  [ -x "$bin" ] || { echo "fuzz-smoke: $target: not built" >&2; fail=1; continue; }
  corpus="$tmp/$target"
  mkdir -p "$corpus"
  if [ -n "${seeds:-}" ]; then
    # shellcheck disable=SC2086
    for pattern in $seeds; do
      for f in $shared/$pattern; do [ -f "$f" ] && cp "$f" "$corpus/" ; done
    done
  fi
  if ! "$bin" -runs="$runs" -max_len=65536 -timeout=10 -rss_limit_mb=1024 "$corpus" >"$tmp/$target.log" 2>&1; then
    echo "fuzz-smoke: $target FAILED" >&2
    tail -30 "$tmp/$target.log" >&2
    fail=1
  else
    echo "fuzz-smoke: $target ok ($runs runs, $(ls "$corpus" | wc -l) seed inputs)"
  fi
done < fuzz/smoke-seeds.txt
exit $fail
