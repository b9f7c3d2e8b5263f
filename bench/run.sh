#!/usr/bin/env bash
# newsdesk vs nginx on loopback.
#
# Builds newsdesk (release), generates a demo corpus (STORIES, default 100000), starts newsdesk
# and, in the same run, Debian nginx serving byte-identical copies of the pages newsdesk served,
# then measures both with wrk (32 connections, 2 threads, --latency, bounded duration) and prints
# one table with the ratio newsdesk/nginx, newsdesk's resident memory and PASS/MISS per target.
#
# Usage: bash bench/run.sh
# Knobs (environment):
#   STORIES=100000        stories in the generated corpus
#   DURATION=15           seconds per measured wrk run (a 3 s warm-up run precedes each)
#   BENCH_DIR=/tmp/newsdesk-bench   work dir (corpus, logs, nginx config, results.txt)
#   SEED=7                demo generator seed
#   FRESH=1               regenerate the corpus even if the marker says it is reusable
#   READY_TIMEOUT=300     seconds to wait for newsdesk to listen
#   GEN_TIMEOUT=3600      seconds allowed for corpus generation
#   BUILD_TIMEOUT=3600    seconds allowed for cargo build
#   CARGO_TARGET_DIR      respected when locating the binary
#   NEWSDESK_BIN          measure this binary instead of building one (e.g. two builds back to back)
#   PAGES="article home sector rss"   the pages measured (a subset, e.g. PAGES=article)
#   QUIET_WAIT=60         before each nginx/newsdesk pair, wait up to this many seconds for the
#   QUIET_BUSY=15         CPU use by other processes to drop to QUIET_BUSY % of the machine
#   NOISY_RETRIES=2       measure a pair again (at most this many times) when other processes
#                         used more than QUIET_BUSY % of the machine during it; the least
#                         disturbed attempt is reported (0 = never retry)
# Everything listens on 127.0.0.1 only; every step is bounded by `timeout`; both servers are
# stopped on exit (trap), also on failure or Ctrl-C.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STORIES=${STORIES:-100000}
DURATION=${DURATION:-15}
DURATION=${DURATION%s}
SEED=${SEED:-7}
FRESH=${FRESH:-0}
READY_TIMEOUT=${READY_TIMEOUT:-300}
GEN_TIMEOUT=${GEN_TIMEOUT:-3600}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-3600}
BENCH_DIR=${BENCH_DIR:-/tmp/newsdesk-bench}
QUIET_WAIT=${QUIET_WAIT:-60}
QUIET_BUSY=${QUIET_BUSY:-15}
NOISY_RETRIES=${NOISY_RETRIES:-2}

CONNECTIONS=32
THREADS=2
WARMUP=3
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
AE='gzip'

# Targets (from the issue).
T_ARTICLE_RATIO=0.5
T_HOME_RATIO=0.4
T_P99_MS=10
T_RSS_MB=200

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $STORIES =~ ^[0-9]+$ && $STORIES -gt 0 ]] || die "STORIES must be a positive integer (got '$STORIES')"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -gt 0 ]] || die "DURATION must be whole seconds (got '$DURATION')"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be an integer (got '$SEED')"
[[ $QUIET_WAIT =~ ^[0-9]+$ && $QUIET_BUSY =~ ^[0-9]+$ && $NOISY_RETRIES =~ ^[0-9]+$ ]] ||
    die "QUIET_WAIT, QUIET_BUSY and NOISY_RETRIES must be integers"

# ---------------------------------------------------------------------------------------------
# 1. Tools and build
# ---------------------------------------------------------------------------------------------
find_nginx() { command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true; }

missing=()
[[ -n $(find_nginx) ]] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v gzip >/dev/null 2>&1 || missing+=(gzip)
if ((${#missing[@]})); then
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need ${missing[*]} and not root (no sudo): install them first"
        SUDO=(sudo)
    fi
    log "installing: ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive timeout 900 \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
NGINX=$(find_nginx)
[[ -n $NGINX ]] || die "nginx not found after install"

if [[ -n ${NEWSDESK_BIN:-} ]]; then
    BIN=$NEWSDESK_BIN
    log "measuring $BIN (NEWSDESK_BIN; not built)"
else
    log "building: cargo build --release -p newsdesk"
    (cd "$ROOT" && timeout "$BUILD_TIMEOUT" cargo build --release -p newsdesk) || die "build failed"
    TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
    [[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
    BIN=$TARGET_DIR/release/newsdesk
fi
[[ -x $BIN ]] || die "binary not found at $BIN"

# ---------------------------------------------------------------------------------------------
# 2. Work dir and corpus
# ---------------------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
DATA=$BENCH_DIR/data
MARK=$DATA/.bench-corpus
RUN=$BENCH_DIR/run
WWW=$RUN/nginx/www
rm -rf "$RUN"
mkdir -p "$RUN/nginx/tmp" "$WWW"
# nginx workers may run as another user (nobody when started by root): keep its files readable.
chmod 755 "$BENCH_DIR" "$RUN" "$RUN/nginx" "$WWW"

want_mark="stories=$STORIES seed=$SEED"
GEN_SECS="reused"
if [[ $FRESH != 1 && -f $MARK && $(cat "$MARK") == "$want_mark" ]]; then
    log "reusing corpus in $DATA ($want_mark)"
else
    log "generating corpus: $STORIES stories (seed $SEED) into $DATA"
    rm -rf "$DATA"
    mkdir -p "$DATA"
    t0=$(date +%s.%N)
    if ! NEWSDESK_LOG=warn timeout "$GEN_TIMEOUT" \
        "$BIN" demo --data-dir "$DATA" --stories "$STORIES" --seed "$SEED" >"$BENCH_DIR/demo.log" 2>&1; then
        tail -20 "$BENCH_DIR/demo.log" >&2 || true
        die "corpus generation failed (log: $BENCH_DIR/demo.log)"
    fi
    t1=$(date +%s.%N)
    GEN_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')
    echo "$want_mark" >"$MARK"
    log "corpus generated in $GEN_SECS ($(du -sh "$DATA" | cut -f1) on disk)"
fi

# ---------------------------------------------------------------------------------------------
# Cleanup: stop both servers on any exit.
# ---------------------------------------------------------------------------------------------
ND_PID=""
NGX_PID=""
SAMPLER_PID=""
stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$SAMPLER_PID"
    stop_pid "$NGX_PID"
    stop_pid "$ND_PID"
    # nginx workers exit with their master; if the master had to be killed, ask by pid file.
    if [[ -f $RUN/nginx/nginx.pid ]]; then
        stop_pid "$(cat "$RUN/nginx/nginx.pid" 2>/dev/null || true)"
    fi
    [[ $rc -eq 0 ]] || log "failed (exit $rc); logs in $RUN"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}
free_port() {
    local p
    for _ in $(seq 500); do
        p=$((20000 + RANDOM % 40000))
        if ! port_in_use "$p" && [[ $p != "${ND_PORT:-}" ]]; then
            echo "$p"
            return 0
        fi
    done
    die "no free loopback port found"
}

# ---------------------------------------------------------------------------------------------
# 3. newsdesk
# ---------------------------------------------------------------------------------------------
# The search index, built by this binary before newsdesk starts: otherwise serve builds it in
# the background at its first start (or rebuilds one of an older format), during the measurements.
MADE_BY=$(sha256sum "$BIN" | cut -c1-16)
if [[ ! -f $DATA/search/CURRENT || $(cat "$DATA/.search-made-by" 2>/dev/null) != "$MADE_BY" ]]; then
    log "building the search index"
    NEWSDESK_LOG=warn timeout 3600 "$BIN" search reindex --data-dir "$DATA" >"$RUN/reindex.log" 2>&1 \
        || die "search reindex failed ($RUN/reindex.log)"
    echo "$MADE_BY" >"$DATA/.search-made-by"
fi

ND_PORT=$(free_port)
ND=http://127.0.0.1:$ND_PORT
log "starting newsdesk on $ND"
t0=$(date +%s.%N)
NEWSDESK_SITE__BASE_URL=$ND NEWSDESK_LOG=warn \
    "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$ND_PORT" >"$RUN/newsdesk.log" 2>&1 &
ND_PID=$!
deadline=$((SECONDS + READY_TIMEOUT))
until grep -q 'newsdesk is serving' "$RUN/newsdesk.log" 2>/dev/null; do
    kill -0 "$ND_PID" 2>/dev/null || { tail -20 "$RUN/newsdesk.log" >&2; die "newsdesk exited during startup"; }
    ((SECONDS < deadline)) || { tail -20 "$RUN/newsdesk.log" >&2; die "newsdesk not ready after ${READY_TIMEOUT}s"; }
    sleep 0.2
done
t1=$(date +%s.%N)
READY_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
IDLE_RSS_KB=$(rss_kb "$ND_PID" VmRSS)
log "newsdesk ready in ${READY_SECS}s (pid $ND_PID, VmRSS $((IDLE_RSS_KB / 1024)) MiB idle)"

# An article slug from the JSON Feed (first item: the newest story).
curl -fsS --max-time 30 -H "User-Agent: $UA" "$ND/feed.json" -o "$RUN/feed.json" || die "GET /feed.json failed"
ARTICLE_PATH=$(grep -o '"url" *: *"[^"]*/article/[^"]*"' "$RUN/feed.json" | sed -n 1p |
    sed -E 's/.*"(https?:\/\/[^\/]*)?(\/article\/[^"]*)"$/\2/')
[[ $ARTICLE_PATH == /article/* ]] || die "no article URL found in /feed.json"
log "article: $ARTICLE_PATH"

read -r -a PAGES <<<"${PAGES:-article home sector rss}"
for page in "${PAGES[@]}"; do
    [[ $page =~ ^(article|home|sector|rss)$ ]] || die "PAGES: unknown page '$page' (article home sector rss)"
done
declare -A PATH_OF=([article]=$ARTICLE_PATH [home]=/ [sector]=/sector/health [rss]=/feed.rss)
declare -A CTYPE_OF=()

# fetch URL OUT_PREFIX [gzip]: body to OUT_PREFIX.body, headers to OUT_PREFIX.hdr; prints status.
fetch() {
    local url=$1 out=$2 enc=${3:-}
    local args=(-sS --max-time 30 -H "User-Agent: $UA" -D "$out.hdr" -o "$out.body" -w '%{http_code}')
    [[ -z $enc ]] || args+=(-H "Accept-Encoding: $enc")
    curl "${args[@]}" "$url"
}
header_of() { # FILE NAME -> value (last occurrence, CR stripped)
    awk -v n="$(tr 'A-Z' 'a-z' <<<"$2")" -F': ' \
        'tolower($1) == n { sub(/^[^:]*: */, ""); sub(/\r$/, ""); v = $0 } END { print v }' "$1"
}

# Prime: the bench client's article requests count as views, which after the next flush (every
# 2 s by default) puts that article at the top of the trending lists, and a trending change
# re-renders the pages that show trending. Do that once now, then wait until the pages' ETags
# stay put, so the bytes saved for nginx are the bytes newsdesk serves during the measured runs.
log "priming: ${WARMUP}s of article requests (views counted), then waiting for trending to settle"
timeout $((WARMUP + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 5s \
    -H "Accept-Encoding: $AE" -H "User-Agent: $UA" "$ND$ARTICLE_PATH" >"$RUN/wrk-prime.txt" 2>&1 ||
    die "wrk priming run failed"
etags_now() {
    local page
    for page in "${PAGES[@]}"; do
        curl -sS -I --max-time 5 -H "User-Agent: $UA" -H "Accept-Encoding: $AE" "$ND${PATH_OF[$page]}" |
            awk -F': ' 'tolower($1) == "etag" { sub(/\r$/, "", $2); printf "%s ", $2 }'
    done
}
prev=$(etags_now)
stable=0
deadline=$((SECONDS + 60))
while ((stable < 4 && SECONDS < deadline)); do
    sleep 1
    cur=$(etags_now)
    if [[ $cur == "$prev" ]]; then stable=$((stable + 1)); else stable=0; prev=$cur; fi
done
((stable >= 4)) || log "warning: pages still changing after 60 s; saving them anyway"

# Save each page exactly as newsdesk serves it to the bench client (same headers), identity and
# gzip. The pair must match (gunzip(gzip) == identity): a trending change between the two
# requests re-renders the page, so retry until both come from the same rendering.
for page in "${PAGES[@]}"; do
    p=${PATH_OF[$page]}
    ok=0
    for attempt in 1 2 3 4 5 6; do
        s1=$(fetch "$ND$p" "$RUN/$page.id")
        s2=$(fetch "$ND$p" "$RUN/$page.gz" "$AE")
        [[ $s1 == 200 && $s2 == 200 ]] || die "GET $p: status $s1 / $s2"
        [[ $(header_of "$RUN/$page.gz.hdr" content-encoding) == gzip ]] ||
            die "GET $p with Accept-Encoding: gzip did not answer gzip"
        if gzip -dc <"$RUN/$page.gz.body" | cmp -s - "$RUN/$page.id.body"; then
            ok=1
            break
        fi
        log "$p: identity and gzip bodies differ (re-rendered in between?), retry $attempt"
        sleep 1
    done
    ((ok)) || die "$p: could not get a matching identity/gzip pair"
    CTYPE_OF[$page]=$(header_of "$RUN/$page.id.hdr" content-type)
    cp "$RUN/$page.id.body" "$WWW/$page"
    cp "$RUN/$page.gz.body" "$WWW/$page.gz"
    chmod 644 "$WWW/$page" "$WWW/$page.gz"
    log "saved $p: $(stat -c %s "$WWW/$page") B identity, $(stat -c %s "$WWW/$page.gz") B gzip (${CTYPE_OF[$page]})"
done

# ---------------------------------------------------------------------------------------------
# nginx: same bytes, same paths, same Content-Type, same extra headers
# ---------------------------------------------------------------------------------------------
NGX_PORT=$(free_port)
NGX=http://127.0.0.1:$NGX_PORT
# Headers newsdesk adds that nginx would not (Cache-Control, CSP, ...) are copied with add_header
# so both servers send responses of about the same size. nginx makes its own Date, Server,
# Content-*, ETag, Last-Modified, Vary (gzip_vary) and Connection.
extra_headers() { # HDR_FILE -> nginx add_header lines
    tr -d '\r' <"$1" | awk -F': ' '
        NR > 1 && NF >= 2 {
            n = tolower($1); v = $0; sub(/^[^:]*: */, "", v)
            if (n ~ /^(date|server|connection|keep-alive|transfer-encoding|content-length|content-type|content-encoding|etag|last-modified|vary|accept-ranges)$/) next
            if (v ~ /["$\\]/) next
            printf "            add_header %s \"%s\";\n", $1, v
        }'
}
{
    cat <<EOF
# Generated by bench/run.sh. worker_processes 2: the machine has 2 cores, and newsdesk's tokio
# runtime runs one worker thread per core (2 here), so both servers get the same parallelism.
worker_processes 2;
daemon off;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    open_file_cache max=64 inactive=60s;
    open_file_cache_valid 60s;
    server_tokens off;
    gzip off;          # never compress on the fly ...
    gzip_static on;    # ... serve the saved .gz (newsdesk's own gzip bytes) to gzip clients
    gzip_vary on;
    client_body_temp_path $RUN/nginx/tmp/body;
    proxy_temp_path $RUN/nginx/tmp/proxy;
    fastcgi_temp_path $RUN/nginx/tmp/fastcgi;
    uwsgi_temp_path $RUN/nginx/tmp/uwsgi;
    scgi_temp_path $RUN/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGX_PORT;
        server_name _;
EOF
    for page in "${PAGES[@]}"; do
        # alias serves a file at an exact path; a path ending in "/" (the home page) would be
        # taken for a directory, so it maps to the file with try_files (no internal redirect).
        if [[ ${PATH_OF[$page]} == */ ]]; then
            map_file="root $WWW; try_files /$page =404;"
        else
            map_file="alias $WWW/$page;"
        fi
        cat <<EOF
        location = ${PATH_OF[$page]} {
            $map_file
            types { }
            default_type "${CTYPE_OF[$page]}";
EOF
        extra_headers "$RUN/$page.id.hdr"
        echo "        }"
    done
    cat <<EOF
        location / { return 404; }
    }
}
EOF
} >"$RUN/nginx/nginx.conf"

NGX_ARGS=(-p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/error.log")
timeout 30 "$NGINX" -t -q "${NGX_ARGS[@]}" || die "nginx config test failed ($RUN/nginx/nginx.conf)"
log "starting nginx on $NGX"
"$NGINX" "${NGX_ARGS[@]}" >"$RUN/nginx/stdout.log" 2>&1 &
NGX_PID=$!
deadline=$((SECONDS + 30))
until curl -s -o /dev/null --max-time 2 "$NGX${PATH_OF[home]}"; do
    kill -0 "$NGX_PID" 2>/dev/null || { cat "$RUN/nginx/error.log" >&2 || true; die "nginx exited"; }
    ((SECONDS < deadline)) || die "nginx not ready after 30s"
    sleep 0.2
done
# nginx must answer the bench request with exactly newsdesk's bytes.
for page in "${PAGES[@]}"; do
    p=${PATH_OF[$page]}
    s=$(fetch "$NGX$p" "$RUN/nginx-$page.gz" "$AE")
    [[ $s == 200 ]] || die "nginx GET $p: status $s"
    cmp -s "$RUN/nginx-$page.gz.body" "$WWW/$page.gz" || die "nginx gzip body for $p differs from newsdesk's"
    s=$(fetch "$NGX$p" "$RUN/nginx-$page.id")
    cmp -s "$RUN/nginx-$page.id.body" "$WWW/$page" || die "nginx identity body for $p differs from newsdesk's"
done
log "nginx serves the same bytes (identity and gzip) for all ${#PAGES[@]} pages"

# ---------------------------------------------------------------------------------------------
# 4. Load
# ---------------------------------------------------------------------------------------------
# Samples a page's ETag twice a second with HEAD (HEAD is not counted as a view) while a run is
# going on: a new ETag means newsdesk re-rendered the page (content or trending changed).
etag_sampler() { # URL OUT
    while :; do
        curl -sS -I --max-time 2 -H "User-Agent: $UA" -H "Accept-Encoding: $AE" "$1" 2>/dev/null |
            awk -F': ' 'tolower($1) == "etag" { sub(/\r$/, "", $2); print $2 }' >>"$2" || true
        sleep 0.5
    done
}

# CPU accounting, in USER_HZ ticks, to show how the 2 cores were shared during each run.
cpu_stat() { awk '$1 == "cpu" { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat; }
proc_ticks() { # PID... -> utime + stime of these processes
    local t=0 pid v
    for pid in "$@"; do
        v=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
child_ticks() { # CHILD_TICKS = CPU of this shell's finished children (wrk), from `times`.
    # Must run in this shell, not in $(...): a subshell has its own (empty) children account.
    times >"$RUN/.times"
    read -r CHILD_TICKS < <(awk 'NR == 2 {
            t = 0
            for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
            printf "%d\n", t * 100 }' "$RUN/.times")
}
ngx_pids() { # master and workers
    echo "$NGX_PID"
    awk -v pp="$NGX_PID" '$4 == pp { print $1 }' /proc/[0-9]*/stat 2>/dev/null || true
}
declare -A CPU_SRV CPU_WRK CPU_OTH
# Waits (at most QUIET_WAIT s) until other processes use at most QUIET_BUSY % of the machine.
wait_quiet() {
    ((QUIET_WAIT > 0)) || return 0
    local deadline=$((SECONDS + QUIET_WAIT)) b0 t0 b1 t1 busy said=0
    while :; do
        read -r b0 t0 <<<"$(cpu_stat)"
        sleep 2
        read -r b1 t1 <<<"$(cpu_stat)"
        busy=$(((b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1)))
        ((busy > QUIET_BUSY)) || return 0
        if ((SECONDS >= deadline)); then
            log "machine still busy ($busy% CPU used by others); measuring anyway"
            return 0
        fi
        ((said)) || log "waiting up to ${QUIET_WAIT}s for a quieter machine ($busy% CPU busy, want <= $QUIET_BUSY%)"
        said=1
    done
}

run_wrk() { # LABEL URL
    local label=$1 url=$2
    local srv_pids b0 t0 b1 t1 s0 s1 w0 w1
    if [[ $label == nd-* ]]; then srv_pids=$ND_PID; else srv_pids=$(ngx_pids | tr '\n' ' '); fi
    local hdr=(-H "Accept-Encoding: $AE" -H "User-Agent: $UA")
    timeout $((WARMUP + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 5s --latency \
        "${hdr[@]}" "$url" >"$RUN/wrk-$label.warmup.txt" 2>&1 || die "wrk warm-up failed for $label"
    if [[ $label == nd-* ]]; then
        : >"$RUN/etags-$label.txt"
        etag_sampler "$url" "$RUN/etags-$label.txt" &
        SAMPLER_PID=$!
    fi
    read -r b0 t0 <<<"$(cpu_stat)"
    s0=$(proc_ticks $srv_pids)
    child_ticks
    w0=$CHILD_TICKS
    timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency \
        "${hdr[@]}" "$url" >"$RUN/wrk-$label.txt" 2>&1 || die "wrk failed for $label"
    read -r b1 t1 <<<"$(cpu_stat)"
    s1=$(proc_ticks $srv_pids)
    child_ticks
    w1=$CHILD_TICKS
    # Shares of the whole machine (all cores = 100 %).
    read -r CPU_SRV[$label] CPU_WRK[$label] CPU_OTH[$label] <<<"$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) \
        -v s=$((s1 - s0)) -v w=$((w1 - w0)) 'BEGIN {
            if (t <= 0) t = 1
            o = b - s - w; if (o < 0) o = 0
            printf "%.0f %.0f %.0f\n", 100 * s / t, 100 * w / t, 100 * o / t }')"
    if [[ -n $SAMPLER_PID ]]; then
        stop_pid "$SAMPLER_PID"
        wait "$SAMPLER_PID" 2>/dev/null || true
        SAMPLER_PID=""
    fi
}

log "load: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency (+${WARMUP}s warm-up each), Accept-Encoding: gzip, browser User-Agent"
log "note: wrk, newsdesk and nginx all share this machine's $(nproc) cores"
declare -A TRIES
# One nginx run and one newsdesk run, back to back; again if other processes disturbed them.
measure_pair() { # PAGE
    local page=$1 p=${PATH_OF[$1]} attempt best=0 best_noise=101 noise side f a b
    for ((attempt = 1; attempt <= 1 + NOISY_RETRIES; attempt++)); do
        wait_quiet
        log "  nginx    $p"
        run_wrk "ngx-$page" "$NGX$p"
        log "  newsdesk $p"
        run_wrk "nd-$page" "$ND$p"
        a=${CPU_OTH[ngx-$page]:-0} b=${CPU_OTH[nd-$page]:-0}
        noise=$((a > b ? a : b))
        for side in ngx nd; do
            for f in wrk etags; do
                [[ ! -f $RUN/$f-$side-$page.txt ]] || mv "$RUN/$f-$side-$page.txt" "$RUN/$f-$side-$page.try$attempt.txt"
            done
            CPU_SRV[$side-$page.$attempt]=${CPU_SRV[$side-$page]}
            CPU_WRK[$side-$page.$attempt]=${CPU_WRK[$side-$page]}
            CPU_OTH[$side-$page.$attempt]=${CPU_OTH[$side-$page]}
        done
        if ((noise < best_noise)); then best=$attempt best_noise=$noise; fi
        ((noise > QUIET_BUSY && attempt <= NOISY_RETRIES)) || break
        log "  other processes used ${noise}% of the machine during this pair: measuring it again"
    done
    for side in ngx nd; do
        for f in wrk etags; do
            [[ ! -f $RUN/$f-$side-$page.try$best.txt ]] || cp "$RUN/$f-$side-$page.try$best.txt" "$RUN/$f-$side-$page.txt"
        done
        CPU_SRV[$side-$page]=${CPU_SRV[$side-$page.$best]}
        CPU_WRK[$side-$page]=${CPU_WRK[$side-$page.$best]}
        CPU_OTH[$side-$page]=${CPU_OTH[$side-$page.$best]}
    done
    TRIES[$page]="attempt $best of $((attempt > 1 + NOISY_RETRIES ? 1 + NOISY_RETRIES : attempt))"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for page in "${PAGES[@]}"; do
    measure_pair "$page"
done

# ---------------------------------------------------------------------------------------------
# 5. Memory after the load
# ---------------------------------------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
kill -0 "$ND_PID" 2>/dev/null || die "newsdesk died during the load"
RSS_KB=$(rss_kb "$ND_PID" VmRSS)
HWM_KB=$(rss_kb "$ND_PID" VmHWM)

# ---------------------------------------------------------------------------------------------
# 6. Report
# ---------------------------------------------------------------------------------------------
# wrk parsing: "Requests/sec:" and the 50%/99% lines of "Latency Distribution" (us/ms/s/m).
wrk_rps() { awk '$1 == "Requests/sec:" { print $2 }' "$1"; }
wrk_pct() { # FILE PCT -> milliseconds
    awk -v want="$2%" '
        /Latency Distribution/ { inside = 1; next }
        inside && $1 == want {
            v = $2
            if (v ~ /us$/)      { sub(/us$/, "", v); ms = v / 1000 }
            else if (v ~ /ms$/) { sub(/ms$/, "", v); ms = v + 0 }
            else if (v ~ /m$/)  { sub(/m$/, "", v);  ms = v * 60000 }
            else if (v ~ /h$/)  { sub(/h$/, "", v);  ms = v * 3600000 }
            else if (v ~ /s$/)  { sub(/s$/, "", v);  ms = v * 1000 }
            else                { ms = v + 0 }
            printf "%.3f\n", ms; exit
        }' "$1"
}
wrk_errors() { # FILE -> "non2xx+socket errors" count
    awk '
        /Non-2xx or 3xx responses:/ { n += $NF }
        /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
        END { print n + 0 }' "$1"
}
wrk_bytes_per_req() { # FILE -> average bytes per response (headers included), from "N requests in T, X read"
    awk '
        / requests in / {
            req = $1; x = $(NF - 1)
            mult = 1
            if (x ~ /KB$/) mult = 1024; else if (x ~ /MB$/) mult = 1048576; else if (x ~ /GB$/) mult = 1073741824
            sub(/[KMG]?B$/, "", x)
            if (req > 0) printf "%.0f\n", x * mult / req
        }' "$1"
}
fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "") print "n/a"; else if (v < 10) printf "%.2f ms", v; else printf "%.1f ms", v }'; }

declare -A RPS P50 P99 ERR BPR
for page in "${PAGES[@]}"; do
    for side in nd ngx; do
        f=$RUN/wrk-$side-$page.txt
        RPS[$side-$page]=$(wrk_rps "$f")
        P50[$side-$page]=$(wrk_pct "$f" 50)
        P99[$side-$page]=$(wrk_pct "$f" 99)
        ERR[$side-$page]=$(wrk_errors "$f")
        BPR[$side-$page]=$(wrk_bytes_per_req "$f")
        [[ -n ${RPS[$side-$page]} && -n ${P50[$side-$page]} && -n ${P99[$side-$page]} ]] ||
            die "could not parse $f"
    done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
verdict() { if "$@"; then echo PASS; else echo MISS; fi; }

RESULTS=$BENCH_DIR/results.txt
{
    echo "newsdesk vs nginx -- $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- 2>/dev/null || echo ' (+uncommitted changes)')"
    echo "corpus: $STORIES stories, seed $SEED (generation: $GEN_SECS); newsdesk ready in ${READY_SECS}s"
    echo "load: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency after a ${WARMUP}s warm-up; Accept-Encoding: gzip; browser User-Agent (article views are counted)"
    echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)); wrk, newsdesk and nginx share these cores; load average before the load $LOAD_BEFORE, after $LOAD_AFTER"
    echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*version: //'), worker_processes 2, sendfile, gzip_static (same bytes as newsdesk, same extra headers)"
    echo "article: $ARTICLE_PATH"
    echo
    printf '%-8s %-15s | %12s %10s %10s | %12s %10s %10s | %9s | %s\n' \
        page path "newsdesk r/s" p50 p99 "nginx r/s" p50 p99 "nd/nginx" "others' CPU nd/ngx"
    printf '%s\n' "-------------------------+-----------------------------------+-----------------------------------+-----------+-------------------"
    for page in "${PAGES[@]}"; do
        printf '%-8s %-15s | %12.0f %10s %10s | %12.0f %10s %10s | %9s | %7s\n' \
            "$page" "$(p=${PATH_OF[$page]}; [[ ${#p} -le 15 ]] && echo "$p" || echo "${p:0:12}...")" \
            "${RPS[nd-$page]}" "$(fmt_ms "${P50[nd-$page]}")" "$(fmt_ms "${P99[nd-$page]}")" \
            "${RPS[ngx-$page]}" "$(fmt_ms "${P50[ngx-$page]}")" "$(fmt_ms "${P99[ngx-$page]}")" \
            "$(ratio "${RPS[nd-$page]}" "${RPS[ngx-$page]}")" "${CPU_OTH[nd-$page]}%/${CPU_OTH[ngx-$page]}%"
    done
    echo "(others' CPU: share of the whole machine used by processes other than wrk and the server under test"
    echo " during the run; above ${QUIET_BUSY}% the figures of that row are disturbed by other work on the machine)"
    echo
    printf 'newsdesk resident memory after the load: VmRSS %d MiB, VmHWM (peak) %d MiB (idle after startup: %d MiB)\n' \
        $((RSS_KB / 1024)) $((HWM_KB / 1024)) $((IDLE_RSS_KB / 1024))
    echo
    echo "details:"
    for page in "${PAGES[@]}"; do
        saved=$(header_of "$RUN/$page.gz.hdr" etag)
        n=$(sort -u "$RUN/etags-nd-$page.txt" 2>/dev/null | grep -c . || true)
        other=$(sort -u "$RUN/etags-nd-$page.txt" 2>/dev/null | grep -cvxF -- "$saved" || true)
        if [[ $n -eq 0 ]]; then same="no ETag samples (HEAD failed?): same-bytes check not done"
        elif [[ $n -eq 1 && $other -eq 0 ]]; then same="same page as nginx's copy throughout"
        else same="PAGE CHANGED: $n distinct ETags sampled, $other differ from nginx's copy (re-rendered)"; fi
        printf '  %-8s %s; bytes/response (body + headers) newsdesk %s, nginx %s; errors/non-2xx newsdesk %s, nginx %s\n' \
            "$page" "$same" "${BPR[nd-$page]:-?}" "${BPR[ngx-$page]:-?}" "${ERR[nd-$page]}" "${ERR[ngx-$page]}"
        printf '  %-8s CPU (share of all %s cores): newsdesk run: server %s%%, wrk %s%%, others %s%%; nginx run: server %s%%, wrk %s%%, others %s%% (%s)\n' \
            "" "$(nproc)" "${CPU_SRV[nd-$page]}" "${CPU_WRK[nd-$page]}" "${CPU_OTH[nd-$page]}" \
            "${CPU_SRV[ngx-$page]}" "${CPU_WRK[ngx-$page]}" "${CPU_OTH[ngx-$page]}" "${TRIES[$page]}"
    done
    echo
    echo "targets:"
    if [[ -n ${RPS[nd-article]:-} ]]; then
        a=$(ratio "${RPS[nd-article]}" "${RPS[ngx-article]}")
        printf '  %-4s article req/s >= %s x nginx   (%s)\n' "$(verdict ge "$a" "$T_ARTICLE_RATIO")" "$T_ARTICLE_RATIO" "$a"
    fi
    if [[ -n ${RPS[nd-home]:-} ]]; then
        h=$(ratio "${RPS[nd-home]}" "${RPS[ngx-home]}")
        printf '  %-4s home req/s    >= %s x nginx   (%s)\n' "$(verdict ge "$h" "$T_HOME_RATIO")" "$T_HOME_RATIO" "$h"
    fi
    for page in "${PAGES[@]}"; do
        printf '  %-4s %-8s newsdesk p99 < %s ms (%s)\n' \
            "$(verdict lt "${P99[nd-$page]}" "$T_P99_MS")" "$page" "$T_P99_MS" "$(fmt_ms "${P99[nd-$page]}")"
    done
    printf '  %-4s VmRSS after load < %s MiB (%d MiB)\n' \
        "$(verdict lt $((RSS_KB / 1024)) "$T_RSS_MB")" "$T_RSS_MB" $((RSS_KB / 1024))
    printf '  %-4s VmHWM (peak)     < %s MiB (%d MiB)\n' \
        "$(verdict lt $((HWM_KB / 1024)) "$T_RSS_MB")" "$T_RSS_MB" $((HWM_KB / 1024))
    for page in "${PAGES[@]}"; do
        for side in nd ngx; do
            [[ ${ERR[$side-$page]} == 0 ]] ||
                echo "  WARN $side $page: ${ERR[$side-$page]} socket errors or non-2xx responses (see $RUN/wrk-$side-$page.txt)"
        done
    done
} | tee "$RESULTS"
log "table written to $RESULTS; raw wrk output, logs and nginx.conf in $RUN"
