#!/usr/bin/env bash
# Ward's test suite: the one command the README and CI run.
# Needs the shared test corpus beside the repository (../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."

corpus="$(pwd)/../shared/data"
if [ ! -d "$corpus" ]; then
  echo "test: the shared test corpus is required at $corpus (see README)" >&2
  exit 1
fi

scripts/setup.sh
cargo test --workspace --all-features --locked "$@"
