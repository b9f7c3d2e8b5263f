#!/usr/bin/env bash
# Search under load: /search over a demo corpus (100,000 stories by default), wrk with 32
# connections cycling through one-word, two-word and phrase queries (each query a fresh search:
# search pages are never cached), then a group of distinct queries (DISTINCT of them, one or two
# words drawn from the corpus's headlines and summaries, each asked once per cycle, so nothing
# that remembers a recent query can help). Prints the index's build time and size, then requests
# per second and latency p50/p95/p99 per group. Relevance is measured apart, on the demo site:
# cargo test -p newsdesk-app --test relevance -- --nocapture
#
# Usage: bash bench/search.sh        (STORIES=100000 DURATION=10 CONNECTIONS=32 DISTINCT=50000)
# Knobs: STORIES, DURATION, CONNECTIONS, DISTINCT, SEED, BENCH_DIR (default /tmp/newsdesk-search-bench),
#        CARGO_TARGET_DIR, NEWSDESK_BIN (use this binary instead of building release),
#        REINDEX=1 (build the index again, timed, before serving: needed when the binary's index
#        format is newer than the corpus's index, which a server would otherwise rebuild in the
#        background while the old one answers, during the measure),
#        GROUP=two-word (only the groups named, comma-separated: one-word, two-word, phrase,
#        distinct; e.g. to profile one group), GZIP=0 (ask without Accept-Encoding, identity),
#        SERVER_PID_FILE=path (the server's pid is written there, for `perf record -p`).
#        Loopback only; every step has a time limit; the server stops on exit.
set -euo pipefail

STORIES=${STORIES:-100000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
DISTINCT=${DISTINCT:-50000}
BENCH_DIR=${BENCH_DIR:-/tmp/newsdesk-search-bench}
BENCH_NAME=search-bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need wrk curl
bench_init
DATA=$BENCH_DIR/data
corpus "$DATA" "$STORIES"
if [[ ! -f $DATA/search/CURRENT || ${REINDEX:-0} == 1 ]]; then
    log "building the search index"
    start=$SECONDS
    NEWSDESK_LOG=warn timeout 3600 "$BIN" search reindex --data-dir "$DATA" >"$RUN/reindex.log" 2>&1 \
        || die "reindex failed ($RUN/reindex.log)"
    echo "index built in $((SECONDS - start)) s: $(tail -1 "$RUN/reindex.log")" >"$DATA/.index-build"
    log "$(cat "$DATA/.index-build")"
fi

start_nd "$DATA" search
deadline=$((SECONDS + 600))
# The index opens at the first sync.
until ! curl -fsS --max-time 30 "$ND/search?q=health" | grep -q 'being prepared'; do
    ((SECONDS < deadline)) || die "search not ready after 600 s"
    sleep 0.5
done
log "newsdesk ready at $ND"
[[ -n ${SERVER_PID_FILE:-} ]] && echo "$ND_PID" >"$SERVER_PID_FILE"

ONE=(health water climate election market school energy court police science)
TWO=("health water" "climate policy" "election result" "market prices" "school teachers"
     "energy prices" "court ruling" "police report" "science study" "rural health")
PHRASE=('"public health"' '"climate change"' '"the government"' '"said on"' '"new report"')

# distinct_queries N: N different queries, one or two words each, drawn (with SEED) from the
# words of the stories' headlines and summaries; printed one a line.
distinct_queries() {
    python3 - "$DATA/newsdesk.db" "$1" "$SEED" <<'PY'
import random, re, sqlite3, sys
db, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
words = set()
for h, s in con.execute("SELECT headline, summary FROM stories LIMIT 20000"):
    words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", f"{h} {s}"))
words = sorted(words)
rng = random.Random(seed)
seen = set()
while len(seen) < min(n, len(words) ** 2):
    q = rng.choice(words) if rng.random() < 0.6 else f"{rng.choice(words)} {rng.choice(words)}"
    seen.add(q)
for q in sorted(seen, key=lambda _: rng.random()):
    print(q)
PY
}

enc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

# wanted NAME: whether GROUP (default all) names the group.
wanted() { [[ -z ${GROUP:-} || ,$GROUP, == *,$1,* ]]; }
ACCEPT=', { ["Accept-Encoding"] = "gzip, deflate, br" }'
[[ ${GZIP:-1} == 0 ]] && ACCEPT=''

run_group() {
    local name=$1; shift
    wanted "$name" || return 0
    local lua=$RUN/$name.lua
    {
        echo 'local paths = {'
        for q in "$@"; do printf '  "/search?q=%s",\n' "$(enc "$q")"; done
        [[ -n ${QUERY_FILE:-} ]] && python3 -c '
import sys, urllib.parse
for q in open(sys.argv[1]):
    print("  \"/search?q=%s\"," % urllib.parse.quote(q.strip()))' "$QUERY_FILE"
        echo '}'
        cat <<LUA
-- Each wrk thread starts at its own place in the list (so no query is asked by two at once).
i = 0
local threads = 0
setup = function(thread)
  thread:set("i", threads * 7919)
  threads = threads + 1
end
request = function()
  i = i + 1
  -- As a browser asks (unless GZIP=0): the results page comes gzipped.
  return wrk.format("GET", paths[(i % #paths) + 1]$ACCEPT)
end
done = function(summary, latency, requests)
  io.write(string.format("REQUESTS %d\n", summary.requests))
  io.write(string.format("RESULT rps=%.0f p50=%.1fms p95=%.1fms p99=%.1fms errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA
    } >"$lua"
    local ticks; ticks=$(cpu_ticks "$ND_PID")
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$lua" "$ND" >"$RUN/$name.wrk" 2>&1 \
        || die "wrk failed ($RUN/$name.wrk)"
    ticks=$(($(cpu_ticks "$ND_PID") - ticks))
    local n; n=$(sed -n 's/^REQUESTS //p' "$RUN/$name.wrk")
    # The server's CPU per request (user + system): what other processes on the machine do
    # not change as much as the latencies.
    printf '%-8s %s cpu=%dus/req\n' "$name" "$(grep '^RESULT' "$RUN/$name.wrk" | sed 's/^RESULT //')" \
        "$((ticks * 1000000 / $(getconf CLK_TCK) / (n > 0 ? n : 1)))"
}

echo "search at $STORIES stories, $CONNECTIONS connections, ${DURATION}s each:"
[[ -f $DATA/.index-build ]] && echo "$(cat "$DATA/.index-build")"
echo "index on disk: $(du -sh "$DATA/search/$(cat "$DATA/search/CURRENT")" | cut -f1)"
run_group one-word "${ONE[@]}"
run_group two-word "${TWO[@]}"
run_group phrase "${PHRASE[@]}"
wanted distinct || exit 0
distinct_queries "$DISTINCT" >"$RUN/distinct.txt"
QUERY_FILE=$RUN/distinct.txt run_group distinct
echo "distinct: $(wc -l <"$RUN/distinct.txt") different queries, e.g. $(head -3 "$RUN/distinct.txt" | paste -sd, -)"
