#!/usr/bin/env bash
# Runs every test of newsdesk: formatting and lints, Rust unit/property/router tests and the store
# conformance suite, then the browser, HTML-validity, accessibility and feed-parser checks against
# the real binary, and the JSON API against its OpenAPI document (schemathesis). Expects the tools that .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

# The PostgreSQL store's tests skip (loudly) without a server; in CI they must run.
if [ "${CI:-}" = true ] && [ -z "${NEWSDESK_TEST_DATABASE_URL:-}" ]; then
  echo "NEWSDESK_TEST_DATABASE_URL is not set: in CI the PostgreSQL store tests must run (.ci/run starts a server)" >&2
  exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo build (the binary the browser tests drive)"
cargo build -p newsdesk --quiet

echo "== cargo test"
cargo test --workspace --quiet

export NEWSDESK_BIN="$(cd "$target" && pwd)/debug/newsdesk"
# Screenshots land in ./target/artifacts of the checkout, wherever the build cache is.
export NEWSDESK_ARTIFACTS="$PWD/target/artifacts"
mkdir -p "$NEWSDESK_ARTIFACTS"

echo "== browser tests (Chromium via playwright-core, Nu HTML Checker, axe-core)"
node --test --test-reporter=spec tests/browser/

echo "== feed and sitemap checks (feedparser)"
python3 tests/feeds/check_feeds.py

echo "== JSON API against its OpenAPI document (schemathesis; public part, then with a token)"
bash tests/api/schemathesis.sh
