#!/usr/bin/env bash
# Checks the JSON API against its own OpenAPI document with schemathesis: the real binary with
# demo content on loopback, the public part without a key and the newsroom part with an API
# token made by the CLI (an editor's, every scope). Passes when no answer is a 5xx and every
# answer matches the document (status, content type, schema). Bounded: a fixed number of
# examples per operation and a time budget per part.
#
# NEWSDESK_BIN: the binary (default target/debug/newsdesk). SCHEMATHESIS: the command
# (default `schemathesis`, else `python3 -m schemathesis.cli`). ST_EXAMPLES / ST_MAX_TIME: examples per operation, seconds per part.
set -euo pipefail
bin="${NEWSDESK_BIN:-target/debug/newsdesk}"
if [ -n "${SCHEMATHESIS:-}" ]; then
  st=($SCHEMATHESIS)
elif command -v schemathesis >/dev/null; then
  st=(schemathesis)
else
  st=(python3 -m schemathesis.cli)
fi
examples="${ST_EXAMPLES:-25}"
max_time="${ST_MAX_TIME:-40}"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

# No rate limit in the way of the fuzzer (the limit itself is tested in crates/web/tests/api.rs).
export NEWSDESK_API__RATE_PER_MINUTE=1000000
export NEWSDESK_LOG=warn
"$bin" --data-dir "$data" demo --stories 40 >/dev/null
echo "a long enough password" | "$bin" --data-dir "$data" user add --role editor fuzz@example.org >/dev/null
token="$("$bin" --data-dir "$data" token create --name schemathesis \
  --scopes read_drafts,write_stories,publish,wire_push fuzz@example.org 2>/dev/null | grep '^ndt_')"
# The search index is built before the server starts: while serve builds it, /api/v1/search
# answers 503 (with Retry-After), which the fuzzer counts as a server error.
"$bin" --data-dir "$data" search reindex >/dev/null 2>&1
"$bin" --data-dir "$data" serve --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

# One worker: hypothesis describing its filters from several threads at once trips CPython's
# parser ("AST constructor recursion depth mismatch"), a failure of the tool, not of the API.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
common=(--checks "$checks" --max-examples "$examples" --max-time "$max_time" --seed 7
  --phases examples,coverage,fuzzing --no-color --workers 1 --generation-database none)

echo "-- public part (no key)"
"${st[@]}" run "$base/api/openapi.json" "${common[@]}" --include-tag content
echo "-- newsroom part (API token)"
"${st[@]}" run "$base/api/openapi.json" "${common[@]}" --include-tag newsroom \
  -H "Authorization: Bearer $token"
