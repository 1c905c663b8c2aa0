#!/usr/bin/env bash
# Builds the browser side into target/site: the islands' wasm + JS (wasm-bindgen), the
# stylesheet and public/ assets. `debug` (the default) is quick to build; `release` is small
# (size-optimised profile, then wasm-opt) and writes .br/.gz beside each file for the server to
# send (.ci/precompress.mjs, which prints the sizes).
# Usage: .ci/build-site.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-debug}
site=${LEPTOS_SITE_ROOT:-target/site}
export PATH="$HOME/.cargo/bin:$PATH"

if [ "$mode" = release ]; then profile=wasm-release; dir=wasm-release; else profile=dev; dir=debug; fi
cargo build -p app --lib --no-default-features --features hydrate --target wasm32-unknown-unknown \
  --profile "$profile" --target-dir target/front
mkdir -p "$site/pkg"
# Compressed copies of an earlier build would be served in place of this one's files.
rm -f "$site"/pkg/*.br "$site"/pkg/*.gz
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name backlot \
  "target/front/wasm32-unknown-unknown/$dir/app.wasm"
if [ "$mode" = release ]; then
  end2end/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    -o "$site/pkg/backlot_bg.wasm" "$site/pkg/backlot_bg.wasm"
fi
cp style/main.css "$site/pkg/backlot.css"
if [ -d public ] && [ -n "$(ls -A public)" ]; then cp -r public/. "$site/"; fi
if [ "$mode" = release ]; then
  node .ci/precompress.mjs "$site/pkg/backlot_bg.wasm" "$site/pkg/backlot.js" "$site/pkg/backlot.css"
fi
echo "site built in $site ($mode): $(du -h "$site/pkg/backlot_bg.wasm" | cut -f1) wasm" >&2
