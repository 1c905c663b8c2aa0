#!/usr/bin/env bash
# Quick start: installs what is missing, builds Backlot in release mode and starts it on
# http://127.0.0.1:3000 with the demo organisation in embedded SQLite (./data).
# Extra arguments go to `backlot serve`; BACKLOT_* variables configure it (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/setup.sh
.ci/build-site.sh release
cargo build --release -p server --bin backlot
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site}
exec target/release/backlot serve "$@"
