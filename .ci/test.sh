#!/usr/bin/env bash
# Runs every check and test: formatting, clippy for each feature set, unit/storage/API tests on
# SQLite and PostgreSQL, the CLI tests, the API against its OpenAPI document (schemathesis) and the
# end-to-end tests in Chromium (both against the release build, started with no config file in a
# fresh working directory, as README.md's first command does).
# PostgreSQL: BACKLOT_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
# the tests fail, never skip, when it cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# A clean clone builds once: incremental data would only double the disk it takes and slow it.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "set-up"
.ci/setup.sh --with-browser --with-kube --with-prometheus --with-fuzz

step "format"
cargo fmt --all -- --check

step "clippy (server + app with ssr, all targets)"
cargo clippy -p server -p app --all-targets -- -D warnings
step "clippy (app with hydrate, wasm)"
cargo clippy -p app --lib --no-default-features --features hydrate --target wasm32-unknown-unknown \
  --target-dir target/front -- -D warnings

step "Rust tests (SQLite and PostgreSQL)"
cargo test -p server -p app --no-run
# A test that hangs fails the run in minutes (the harness names it after 60 s), rather than
# holding CI until its own limit: the whole run takes about 3 minutes here.
timeout -k 30s 20m cargo test -p server -p app

step "Kubernetes manifests (applied to a real API server, access checked)"
.ci/check-kube-manifests.sh

step "release build"
.ci/build-site.sh release
cargo build --release -p server --bin backlot

step "API against openapi.json (schemathesis, every check), the release build started as README.md starts it"
.ci/api-fuzz.sh

step "end-to-end tests (Chromium), against the release build started as README.md starts it"
(cd end2end && npx playwright test)
