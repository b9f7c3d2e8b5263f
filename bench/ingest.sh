#!/usr/bin/env bash
# End-to-end ingest benchmark: a generated stream of agency items (five agencies, each event
# reported by several of them in other words, one item in twenty an exact re-send) through the
# wire desk (dedupe, cluster, tag, summarise) into SQLite. Prints items/s for every tenth of the
# run, so the per-item cost can be seen to stay flat, and resident memory.
#   bash bench/ingest.sh [ITEMS=100000] [BATCH=500] [MODE=generated|real]
# MODE real: real-length stories (300-800 words) built from the AG News agency sentences in
# ../shared/corpora/news-text/ag-news-dev/ (see the example's documentation).
set -euo pipefail
cd "$(dirname "$0")/.."
items="${1:-100000}"
batch="${2:-500}"
mode="${3:-generated}"
cargo build --release -p newsdesk-app --example ingest_bench --quiet
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/examples/ingest_bench" "$items" "$batch" "$mode"
