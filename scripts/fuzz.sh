#!/usr/bin/env bash
# Real coverage-guided fuzzing of one target with cargo-fuzz (needs a nightly toolchain
# and `cargo install cargo-fuzz`). Usage: scripts/fuzz.sh TARGET [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target="$1"; secs="${2:-300}"
cargo +nightly fuzz run "$target" -- -max_total_time="$secs"
