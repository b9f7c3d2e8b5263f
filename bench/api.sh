#!/usr/bin/env bash
# The JSON API against the HTML pages it mirrors, at 100,000 stories, in one run: a story by id
# (`/api/v1/stories/{id}` vs its article page), a sector listing (`/api/v1/stories?sector=…` vs
# `/sector/…`), and a deep listing page (a cursor 1,000 stories down vs `?page=N` of the HTML
# listing at the same depth). Requests per second and latency from wrk, each the same number of
# connections for the same time, one after the other on the same server.
#
# Usage: bash bench/api.sh          (STORIES=100000 DURATION=10 CONNECTIONS=32)
# Knobs: STORIES, DURATION, CONNECTIONS, SEED, DEPTH (stories down the deep page, 1000), BENCH_DIR (default /tmp/newsdesk-api-bench),
#        CARGO_TARGET_DIR, NEWSDESK_BIN (use this binary instead of building release).
#        Loopback only; every step has a time limit; the server stops on exit.
set -euo pipefail

STORIES=${STORIES:-100000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
BENCH_DIR=${BENCH_DIR:-/tmp/newsdesk-api-bench}
BENCH_NAME=api-bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need wrk curl python3
bench_init
DATA=$BENCH_DIR/data
corpus "$DATA" "$STORIES"
start_nd "$DATA" api

# The subjects: the newest story, the sector with the most stories, and a page 1,000 stories
# down that sector (HTML page N of [site] page_size; the API's cursor at the same story).
json() { curl -fsS --max-time 60 "$ND$1"; }
read -r ID SLUG < <(json '/api/v1/stories?limit=1' | python3 -c 'import json,sys; s=json.load(sys.stdin)["items"][0]; print(s["id"], s["slug"])')
SECTOR=$(json '/api/v1/stories?limit=100' | python3 -c '
import collections, json, sys
c = collections.Counter(s["sector"]["slug"] for s in json.load(sys.stdin)["items"])
print(c.most_common(1)[0][0])')
PAGE_SIZE=$(NEWSDESK_LOG=warn "$BIN" config show 2>/dev/null | awk -F' = ' '/^page_size/ { print $2; exit }')
DEPTH=${DEPTH:-1000}
HTML_PAGE=$((DEPTH / PAGE_SIZE + 1))
CURSOR=$(python3 - "$ND" "$SECTOR" "$DEPTH" <<'PY'
import json, sys, urllib.request
base, sector, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
cursor, seen = "", 0
while seen < depth:
    url = f"{base}/api/v1/stories?sector={sector}&limit=100" + (f"&cursor={cursor}" if cursor else "")
    page = json.load(urllib.request.urlopen(url, timeout=60))
    seen += len(page["items"])
    cursor = page["next_cursor"] or ""
    if not cursor:
        break
print(cursor)
PY
)
log "story $ID ($SLUG); sector $SECTOR; deep page: HTML ?page=$HTML_PAGE, API cursor after $DEPTH"

# Each check first: the API answers what the page shows.
for p in "/api/v1/stories/$ID" "/article/$SLUG" "/api/v1/stories?sector=$SECTOR" "/sector/$SECTOR" \
    "/api/v1/stories?sector=$SECTOR&limit=$PAGE_SIZE&cursor=$CURSOR" "/sector/$SECTOR?page=$HTML_PAGE"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$ND$p")
    [[ $code == 200 ]] || die "$p answered $code"
done

run() { # LABEL PATH
    timeout $((DURATION + 60)) wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency \
        -H "Accept-Encoding: gzip" -H "User-Agent: newsdesk-api-bench" "$ND$2" >"$RUN/wrk-$1.txt" 2>&1 ||
        die "wrk $1 failed"
    local rps p50 p99
    rps=$(wrk_rps "$RUN/wrk-$1.txt")
    p50=$(awk '$1 == "50%" { print $2; exit }' "$RUN/wrk-$1.txt")
    p99=$(awk '$1 == "99%" { print $2; exit }' "$RUN/wrk-$1.txt")
    printf '| %-34s | %8s | %8s | %8s |\n' "$1" "$rps" "$p50" "$p99"
}

log "load: wrk -t2 -c$CONNECTIONS -d${DURATION}s, gzip, each path alone"
printf '| %-34s | %8s | %8s | %8s |\n' "request ($STORIES stories)" "req/s" "p50" "p99"
printf '|%s|%s|%s|%s|\n' "------------------------------------" "----------" "----------" "----------"
run "API story by id" "/api/v1/stories/$ID"
run "HTML article page" "/article/$SLUG"
run "API sector listing (page 1)" "/api/v1/stories?sector=$SECTOR&limit=$PAGE_SIZE"
run "HTML sector listing (page 1)" "/sector/$SECTOR"
run "API sector listing, $DEPTH down" "/api/v1/stories?sector=$SECTOR&limit=$PAGE_SIZE&cursor=$CURSOR"
run "HTML sector listing, page $HTML_PAGE" "/sector/$SECTOR?page=$HTML_PAGE"
log "done; wrk outputs in $RUN"
