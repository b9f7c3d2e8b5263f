#!/usr/bin/env bash
# newsdesk under a news site's traffic, against nginx serving the same saved bytes.
#
#   (a) readers spread at random over ARTICLES articles taken from the sitemaps (browser
#       User-Agent, so views count and trending moves; Accept-Encoding: gzip), newsdesk vs nginx
#       (2 workers, gzip_static) serving the bytes newsdesk sent for those pages, same run;
#   (b) the same load on newsdesk while a story is published every 10 s (an old story re-published
#       through the database and the change log, so it becomes the newest) and trending moves
#       (views are flushed every 2 s): p99, and how long each publication takes to reach the home
#       page;
#   (c) a crawler (Googlebot User-Agent, 8 connections) reading every article of the corpus once:
#       the slowest response and newsdesk's resident memory at the end;
#   (d) with MILLION=1, a second corpus of 1,000,000 stories: start time, resident memory, and (a)
#       against nginx serving that corpus' sampled pages.
#
# Usage: bash bench/traffic.sh            (STORIES=100000 ARTICLES=20000 DURATION=15)
#        MILLION=1 bash bench/traffic.sh  (adds (d); generating 1,000,000 stories takes minutes)
# Knobs: STORIES, ARTICLES, DURATION, SEED, BENCH_DIR (default /tmp/newsdesk-traffic), MILLION, ONLY=a,
#        TRENDING_REFRESH (the server's [site] trending_refresh_seconds, default 30),
#        CARGO_TARGET_DIR, NEWSDESK_BIN (use this binary instead of building release),
#        MALLOC_ARENA_MAX (glibc's malloc arenas, passed on to newsdesk; unset, newsdesk serve sets
#        it from [server] malloc_arenas, default 2, which keeps it 100-250 MB lower than glibc's 8/core).
#        Loopback only; every step has a time limit; servers stop on exit.

set -euo pipefail

STORIES=${STORIES:-100000}
ARTICLES=${ARTICLES:-20000}
DURATION=${DURATION:-15}
MILLION=${MILLION:-0}
# ONLY=a: measure (a) and stop (no (b), (c) or (d)).
ONLY=${ONLY:-}
# [site] trending_refresh_seconds for the server (0 = the rail follows every trending change).
TRENDING_REFRESH=${TRENDING_REFRESH:-30}
BENCH_DIR=${BENCH_DIR:-/tmp/newsdesk-traffic}
BENCH_NAME=traffic
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need nginx wrk curl sqlite3 shuf
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
bench_init
mkdir -p "$RUN/nginx/tmp" "$RUN/www"
chmod 755 "$BENCH_DIR" "$RUN" "$RUN/nginx" "$RUN/www"

# start_traffic_nd DIR: starts newsdesk on DIR as this bench runs it; sets ND, ND_PID, START_S,
# ND_ARENAS.
start_traffic_nd() {
    start_nd "$1" "$(basename "$1")" NEWSDESK_SITE__TRENDING_REFRESH_SECONDS="$TRENDING_REFRESH" \
        NEWSDESK_SERVER__METRICS=loopback
    # What the server runs with (it starts itself again with it set unless it was).
    ND_ARENAS=$(tr '\0' '\n' <"/proc/$ND_PID/environ" 2>/dev/null | sed -n 's/^MALLOC_ARENA_MAX=//p') || true
}

# cache_counts: the page cache's hits, builds (misses) and bytes now, as "pages h/b/MiB, parts h/b/MiB".
cache_counts() {
    curl -fsS --max-time 10 "$ND/metrics" 2>/dev/null | awk '
        /^newsdesk_page_cache_(hits_total|builds_total|bytes)\{/ {
            split($1, a, "\""); n = $1; sub(/\{.*/, "", n); v[a[2], n] = $2 }
        END { for (i = 1; i <= 2; i++) { c = i == 1 ? "pages" : "parts"
            printf "%s %d hits/%d builds/%d MiB%s", c, v[c, "newsdesk_page_cache_hits_total"],
                v[c, "newsdesk_page_cache_builds_total"], v[c, "newsdesk_page_cache_bytes"] / 1048576,
                i == 1 ? ", " : "" } }'
}

# trims: how often the server gave freed memory back (malloc_trim), its total and longest time.
trims() {
    curl -fsS --max-time 10 "$ND/metrics" 2>/dev/null | awk '
        /^newsdesk_malloc_trims_total / { n = $2 }
        /^newsdesk_malloc_trim_seconds_total / { t = $2 * 1000 }
        /^newsdesk_malloc_trim_seconds_max / { m = $2 * 1000 }
        END { printf "%d trims, %.1f ms in all, longest %.1f ms", n, t, m }'
}

# start_nginx WWW: nginx (2 workers, gzip_static) serving the saved bytes under WWW; sets NGX,
# NGX_PID.
start_nginx() {
    local www=$1
    NGX_PORT=$(free_port)
    NGX=http://127.0.0.1:$NGX_PORT
    cat >"$RUN/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 1000000;
    open_file_cache max=8000 inactive=60s;
    client_body_temp_path $RUN/nginx/tmp; proxy_temp_path $RUN/nginx/tmp;
    fastcgi_temp_path $RUN/nginx/tmp; uwsgi_temp_path $RUN/nginx/tmp; scgi_temp_path $RUN/nginx/tmp;
    server {
        listen 127.0.0.1:$NGX_PORT;
        root $www;
        gzip off; gzip_static always; gzip_vary on;
        default_type "text/html; charset=utf-8";
        add_header Cache-Control "public, max-age=60, stale-while-revalidate=300, stale-if-error=3600";
    }
}
EOF
    "$NGINX" -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" -g 'daemon off;' >"$RUN/nginx/stdout.log" 2>&1 &
    NGX_PID=$!
    track "$NGX_PID"
    sleep 1
}

# save_pages SAMPLE WWW: the gzip bytes newsdesk sends for each page of SAMPLE, under WWW.
save_pages() {
    awk -v base="$ND" -v www="$2" '{ printf "url = \"%s%s\"\noutput = \"%s%s.gz\"\n", base, $0, www, $0 }' \
        "$1" >"$RUN/save.cfg"
    mkdir -p "$2/article"
    chmod 755 "$2"
    timeout 1800 curl -sS --fail -Z --parallel-max 8 -H "Accept-Encoding: gzip" -H "User-Agent: $BOT" \
        -K "$RUN/save.cfg" || die "saving pages failed"
}

# ---------------------------------------------------------------------------------------------
corpus "$BENCH_DIR/data" "$STORIES"
search_index "$BENCH_DIR/data"
start_traffic_nd "$BENCH_DIR/data"
IDLE_MIB=$(rss_mib "$ND_PID")
all_articles "$ND" "$RUN/all.txt"
TOTAL=$(wc -l <"$RUN/all.txt")
((TOTAL > 0)) || die "no articles in the sitemaps"
sample_articles "$RUN/all.txt" "$RUN/sample.txt" "$ARTICLES"
log "$TOTAL articles in the sitemaps; $(wc -l <"$RUN/sample.txt") taken for the random readers"

# Save the bytes newsdesk sends for each sampled page (gzip) for nginx's gzip_static.
log "saving newsdesk's gzip bytes of the sampled pages"
save_pages "$RUN/sample.txt" "$RUN/www"
SAVED_MIB=$(du -sm "$RUN/www" | cut -f1)
start_nginx "$RUN/www"
curl -fsS -o /dev/null -H "Accept-Encoding: gzip" "$NGX$(head -1 "$RUN/sample.txt")" || die "nginx does not serve the saved pages"

# (a) random readers
log "(a) random readers over $ARTICLES articles: nginx, then newsdesk (${DURATION}s each, after a 3 s warm-up)"
DURATION=3 load a-ngx-warm "$NGX" "$RUN/sample.txt" "$UA" 32 && load a-ngx "$NGX" "$RUN/sample.txt" "$UA" 32
DURATION=3 load a-nd-warm "$ND" "$RUN/sample.txt" "$UA" 32
A_TICKS0=$(cpu_ticks "$ND_PID")
load a-nd "$ND" "$RUN/sample.txt" "$UA" 32
# newsdesk's CPU per request of (a): steadier than req/s on a machine others share.
A_US=$(awk -v t="$(($(cpu_ticks "$ND_PID") - A_TICKS0))" -v hz="$(getconf CLK_TCK)" \
    -v n="$(awk '/requests in/ { print $1 }' "$RUN/wrk-a-nd.txt")" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n }')
A_RSS=$(rss_mib "$ND_PID")
A_CACHE=$(cache_counts)
if [[ $ONLY == a ]]; then
    {
        echo "newsdesk under traffic, (a) only -- $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(cd "$ROOT" && git rev-parse --short HEAD)"
        echo "load average now $(cut -d' ' -f1-3 /proc/loadavg); VmRSS ${A_RSS} MiB after (a); $A_CACHE"
        printf '(a) nginx %s req/s, p99 %s ms; newsdesk %s req/s, p99 %s ms, %s us CPU a request: %s x nginx\n' \
            "$(wrk_rps "$RUN/wrk-a-ngx.txt")" "$(wrk_ms "$RUN/wrk-a-ngx.txt" 99%)" \
            "$(wrk_rps "$RUN/wrk-a-nd.txt")" "$(wrk_ms "$RUN/wrk-a-nd.txt" 99%)" "$A_US" \
            "$(ratio "$(wrk_rps "$RUN/wrk-a-nd.txt")" "$(wrk_rps "$RUN/wrk-a-ngx.txt")" 3)"
    } | tee "$BENCH_DIR/results.txt"
    exit 0
fi

# (b) the same while stories are published every 10 s (trending moves with the views)
DB=$BENCH_DIR/data/newsdesk.db
mapfile -t REPUB < <(sqlite3 "$DB" "SELECT id FROM stories WHERE status = 'published' ORDER BY published_at LIMIT 5")
publisher() {
    local id now slug
    for id in "${REPUB[@]}"; do
        sleep 10
        now=$(($(date +%s%N) / 1000000))
        sqlite3 -cmd ".timeout 5000" "$DB" "BEGIN IMMEDIATE; \
            UPDATE stories SET published_at = $now, updated_at = $now, version = version + 1 WHERE id = $id; \
            INSERT INTO changes (at, entity, entity_id, key) VALUES ($now, 'story', $id, ''); COMMIT;" ||
            echo "publish failed" >>"$RUN/publish.txt"
        slug=$(sqlite3 "$DB" "SELECT slug FROM stories WHERE id = $id")
        local t0 t1 w=0
        t0=$(date +%s.%N)
        until curl -fs --max-time 2 -H "User-Agent: curl-probe" "$ND/" 2>/dev/null | grep -q "/article/$slug\""; do
            sleep 0.05; w=$((w + 1)); ((w < 400)) || break
        done
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >>"$RUN/publish.txt"
    done
}
: >"$RUN/publish.txt"
DURATION_B=$((DURATION > 50 ? DURATION : 50))
log "(b) the same load for ${DURATION_B}s on newsdesk while a story is published every 10 s"
publisher & PUB_PID=$!
track "$PUB_PID"
OLD_DURATION=$DURATION; DURATION=$DURATION_B
load b-nd "$ND" "$RUN/sample.txt" "$UA" 32
DURATION=$OLD_DURATION
wait "$PUB_PID" 2>/dev/null || true; PUB_PID=""
PUB_MAX=$(sort -n "$RUN/publish.txt" | grep -v failed | tail -1)
PUB_N=$(grep -c . "$RUN/publish.txt" || true)
B_CACHE=$(cache_counts)

# (c) a crawler reading every article once (curl, 8 transfers at a time, one line per response)
log "(c) crawler: every one of $TOTAL articles once, 8 connections, Googlebot"
awk -v base="$ND" '{ printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, $0 }' "$RUN/all.txt" >"$RUN/crawl.cfg"
t0=$(date +%s.%N)
C_TICKS0=$(cpu_ticks "$ND_PID")
timeout 3600 curl -sS -Z --parallel-max 8 -H "Accept-Encoding: gzip" -H "User-Agent: $BOT" \
    -K "$RUN/crawl.cfg" -w '%{http_code} %{time_total}\n' >"$RUN/crawl.txt" 2>"$RUN/crawl.err" || die "crawl failed"
C_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
C_RSS=$(rss_mib "$ND_PID")
C_TICKS=$(($(cpu_ticks "$ND_PID") - C_TICKS0))
C_CACHE=$(cache_counts)
C_TRIMS=$(trims)
C_REQ=$(grep -c . "$RUN/crawl.txt")
C_BAD=$(awk '$1 != 200' "$RUN/crawl.txt" | grep -c . || true)
C_MAX=$(awk '{ v = $2 * 1000; if (v > m) m = v } END { printf "%.1f", m }' "$RUN/crawl.txt")
C_P99=$(awk '{ print $2 * 1000 }' "$RUN/crawl.txt" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int(NR * 0.99)] }')
C_OVER=$(awk '$2 > 0.05' "$RUN/crawl.txt" | grep -c . || true)

{
    echo "newsdesk under traffic -- $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(cd "$ROOT" && git rev-parse --short HEAD)"
    echo "corpus: $STORIES stories (ready in ${START_S:-?}s, VmRSS ${IDLE_MIB} MiB idle); $ARTICLES articles sampled from the sitemaps ($SAVED_MIB MiB of gzip saved for nginx)"
    echo "server: [cache] max_bytes default, [site] trending_refresh_seconds = $TRENDING_REFRESH, MALLOC_ARENA_MAX=${ND_ARENAS:-unset} in the server"
    echo "machine: $(nproc) cores, shared by wrk, newsdesk and nginx; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    printf '%-44s | %10s %9s %9s | %s\n' run "req/s" p50 p99 "vs nginx"
    printf '%-44s | %10s %9s %9s | %s\n' "(a) nginx, same bytes, random articles" \
        "$(wrk_rps "$RUN/wrk-a-ngx.txt")" "$(wrk_ms "$RUN/wrk-a-ngx.txt" 50%)" "$(wrk_ms "$RUN/wrk-a-ngx.txt" 99%)" "1"
    printf '%-44s | %10s %9s %9s | %s\n' "(a) newsdesk, random articles" \
        "$(wrk_rps "$RUN/wrk-a-nd.txt")" "$(wrk_ms "$RUN/wrk-a-nd.txt" 50%)" "$(wrk_ms "$RUN/wrk-a-nd.txt" 99%)" \
        "$(ratio "$(wrk_rps "$RUN/wrk-a-nd.txt")" "$(wrk_rps "$RUN/wrk-a-ngx.txt")" 3)"
    printf '%-44s | %10s %9s %9s | %s\n' "(b) newsdesk, + a publication every 10 s" \
        "$(wrk_rps "$RUN/wrk-b-nd.txt")" "$(wrk_ms "$RUN/wrk-b-nd.txt" 50%)" "$(wrk_ms "$RUN/wrk-b-nd.txt" 99%)" \
        "$(ratio "$(wrk_rps "$RUN/wrk-b-nd.txt")" "$(wrk_rps "$RUN/wrk-a-ngx.txt")" 3)"
    printf '%-44s | %10s %9s %9s | max %s ms, %s over 50 ms, %s not 200\n' "(c) newsdesk, crawler ($C_REQ requests)" \
        "$(awk -v n="$C_REQ" -v s="$C_SECS" 'BEGIN { printf "%.0f", n / s }')" "-" "$C_P99" "$C_MAX" "$C_OVER" "$C_BAD"
    echo
    echo "memory: VmRSS ${A_RSS} MiB after (a), ${C_RSS} MiB after the crawl (c); memory trims so far (each holds the allocator's locks: a pause): $C_TRIMS"
    echo "(c) newsdesk's CPU per crawled article (most of them misses, see the page builds above): $(awk -v t="$C_TICKS" -v hz="$(getconf CLK_TCK)" -v n="$C_REQ" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }') us"
    echo "cache (totals since start): after (a) $A_CACHE; after (b) $B_CACHE; after (c) $C_CACHE"
    for f in a-ngx a-nd b-nd; do
        printf '%s: %s\n' "$f" "$(wrk_errors "$RUN/wrk-$f.txt")"
    done
    echo "(b) publications ($PUB_N): seconds until each was on the home page: $(tr '\n' ' ' <"$RUN/publish.txt"); slowest ${PUB_MAX:-?}"
    echo
    echo "goals: (a) >= 0.5 x nginx, p99 < 10 ms; (b) p99 < 20 ms, on the home page within 2 s;"
    echo "       (c) VmRSS <= 512 MiB at the end, no response over 50 ms"
} | tee "$BENCH_DIR/results.txt"

# (d) one million stories
D_LINE="(d) not run (MILLION=1 runs it)"
if [[ $MILLION == 1 ]]; then
    stop_pid "$ND_PID"; ND_PID=""
    stop_pid "$NGX_PID"; NGX_PID=""
    corpus "$BENCH_DIR/data-1m" 1000000
    D_GEN=$CORPUS_S
    search_index "$BENCH_DIR/data-1m"
    start_traffic_nd "$BENCH_DIR/data-1m"
    D_IDLE=$(rss_mib "$ND_PID")
    D_START=$START_S
    all_articles "$ND" "$RUN/all-1m.txt"
    sample_articles "$RUN/all-1m.txt" "$RUN/sample-1m.txt" "$ARTICLES"
    log "(d) $(wc -l <"$RUN/all-1m.txt") articles in the sitemaps; saving the sampled pages for nginx"
    save_pages "$RUN/sample-1m.txt" "$RUN/www-1m"
    start_nginx "$RUN/www-1m"
    log "(d) random readers over $ARTICLES of 1,000,000 articles: nginx, then newsdesk"
    DURATION=3 load d-ngx-warm "$NGX" "$RUN/sample-1m.txt" "$UA" 32 && load d-ngx "$NGX" "$RUN/sample-1m.txt" "$UA" 32
    DURATION=3 load d-nd-warm "$ND" "$RUN/sample-1m.txt" "$UA" 32 && load d-nd "$ND" "$RUN/sample-1m.txt" "$UA" 32
    D_RSS=$(rss_mib "$ND_PID")
    D_LINE=$(printf '(d) 1,000,000 stories (generated in %s s): ready in %ss, VmRSS %s MiB idle, %s MiB after (a); (a) at 1M: nginx %s req/s, newsdesk %s req/s, p99 %s ms = %s x nginx; load average %s' \
        "$D_GEN" "$D_START" "$D_IDLE" "$D_RSS" "$(wrk_rps "$RUN/wrk-d-ngx.txt")" "$(wrk_rps "$RUN/wrk-d-nd.txt")" \
        "$(wrk_ms "$RUN/wrk-d-nd.txt" 99%)" "$(ratio "$(wrk_rps "$RUN/wrk-d-nd.txt")" "$(wrk_rps "$RUN/wrk-d-ngx.txt")" 3)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)")
fi
echo "$D_LINE" | tee -a "$BENCH_DIR/results.txt"
