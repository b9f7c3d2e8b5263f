# Shared parts of the benches (sourced, not run): the binary, the demo corpus, starting and
# stopping newsdesk and other servers, and the wrk driver with its figures.
#
# Before sourcing, a bench sets BENCH_NAME (the log prefix). After `bench_init`, it has ROOT, BIN,
# RUN (a fresh $BENCH_DIR/run) and a trap that stops every process given to `track` (and calls
# the function `bench_cleanup` first when the bench defines one).
#
# Knobs read here: STORIES, SEED, BENCH_DIR, CARGO_TARGET_DIR, NEWSDESK_BIN (use this binary
# instead of building release).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SEED=${SEED:-7}
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
BOT='Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

log() { printf '[%s %s] %s\n' "${BENCH_NAME:-bench}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# need TOOL...: each on the PATH (nginx also as /usr/sbin/nginx).
need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || [[ $t == nginx && -x /usr/sbin/nginx ]] ||
            die "$t is missing (Debian: apt-get install nginx wrk curl sqlite3 python3 postgresql)"
    done
}

# bench_init: BIN (built release unless NEWSDESK_BIN), RUN (emptied), the exit trap.
bench_init() {
    if [[ -z ${NEWSDESK_BIN:-} ]]; then
        log "building: cargo build --release -p newsdesk"
        (cd "$ROOT" && timeout 3600 cargo build --release -p newsdesk) || die "build failed"
        BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/newsdesk
    else
        BIN=$NEWSDESK_BIN # a binary already built (e.g. a debug one, to try the script quickly)
    fi
    [[ -x $BIN ]] || die "binary not found at $BIN"
    mkdir -p "$BENCH_DIR"
    BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
    RUN=$BENCH_DIR/run
    rm -rf "$RUN"
    mkdir -p "$RUN"
    trap bench_exit EXIT
    trap 'exit 130' INT TERM
}

# Processes to stop on exit, the last started first.
TRACKED=()
track() { TRACKED+=("$1"); }

# stop_pid PID: TERM, up to 10 s, then KILL.
stop_pid() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done
    kill -KILL "$1" 2>/dev/null || true
}

bench_exit() {
    local rc=$? i
    trap - EXIT INT TERM
    if declare -F bench_cleanup >/dev/null; then bench_cleanup || true; fi
    for ((i = ${#TRACKED[@]} - 1; i >= 0; i--)); do stop_pid "${TRACKED[i]}"; done
    [[ $rc -eq 0 ]] || log "failed (exit $rc); logs in ${RUN:-?}"
    exit "$rc"
}

free_port() { echo $((20000 + RANDOM % 40000)); }
rss_mib() { awk '$1 == "VmRSS:" { printf "%d\n", $2 / 1024 }' "/proc/$1/status"; }
# cpu_ticks PID: user + system CPU time of the process so far, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# corpus DIR N: generates N demo stories into DIR once (a marker records N and the seed); sets
# CORPUS_S to the seconds it took ("reused" when it was there).
corpus() {
    local dir=$1 n=$2
    CORPUS_S=reused
    if [[ -f $dir/.corpus && $(cat "$dir/.corpus") == "$n $SEED" ]]; then
        log "reusing corpus $dir ($n stories)"
        return
    fi
    rm -rf "$dir"; mkdir -p "$dir"
    log "generating $n stories into $dir"
    local t0=$SECONDS
    NEWSDESK_LOG=warn timeout 7200 "$BIN" demo --data-dir "$dir" --stories "$n" --seed "$SEED" \
        >"$RUN/demo-$n.log" 2>&1 || die "demo generation failed ($RUN/demo-$n.log)"
    echo "$n $SEED" >"$dir/.corpus"
    CORPUS_S=$((SECONDS - t0))
    log "generated in $CORPUS_S s"
}

# search_index DIR: builds DIR's search index once, before newsdesk starts; otherwise serve builds
# it in the background at its first start, sharing the cores with the measured runs.
search_index() {
    # Built by this very binary: an index another build made may be of an older format, which
    # the server would rebuild in the background during the measurements.
    local made_by; made_by=$(sha256sum "$BIN" | cut -c1-16)
    [[ -f $1/search/CURRENT && $(cat "$1/.search-made-by" 2>/dev/null) == "$made_by" ]] && return
    log "building the search index of $1"
    NEWSDESK_LOG=warn timeout 7200 "$BIN" search reindex --data-dir "$1" \
        >"$RUN/reindex-$(basename "$1").log" 2>&1 || die "search reindex failed ($RUN/reindex-$(basename "$1").log)"
    echo "$made_by" >"$1/.search-made-by"
}

# start_nd DIR NAME [VAR=VALUE...]: starts `newsdesk serve` on DIR on a free loopback port with
# NEWSDESK_LOG=warn and the given environment (NEWSDESK_SITE__BASE_URL defaults to its own
# address), logging to $RUN/newsdesk-NAME.log; waits for it. Sets ND (its URL), ND_PID, START_S.
start_nd() {
    local dir=$1 name=$2; shift 2
    local port; port=$(free_port)
    ND=http://127.0.0.1:$port
    local out=$RUN/newsdesk-$name.log
    local t0; t0=$(date +%s.%N)
    env NEWSDESK_SITE__BASE_URL="$ND" NEWSDESK_LOG=warn "$@" \
        "$BIN" serve --data-dir "$dir" --listen "127.0.0.1:$port" >"$out" 2>&1 &
    ND_PID=$!
    track "$ND_PID"
    local deadline=$((SECONDS + ${READY_TIMEOUT:-600}))
    until grep -q 'newsdesk is serving' "$out" 2>/dev/null; do
        kill -0 "$ND_PID" 2>/dev/null || die "newsdesk exited during startup ($out)"
        ((SECONDS < deadline)) || die "newsdesk not ready after ${READY_TIMEOUT:-600} s ($out)"
        sleep 0.1
    done
    START_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    log "newsdesk $name ready at $ND in ${START_S}s, VmRSS $(rss_mib "$ND_PID") MiB"
}

# all_articles BASE OUT: every article path, from the sitemaps of the site at BASE.
all_articles() {
    curl -fsS --max-time 60 "$1/sitemap.xml" | grep -o '/sitemaps/stories-[0-9]*\.xml' |
        while read -r s; do curl -fsS --max-time 120 "$1$s"; done |
        grep -o '<loc>[^<]*</loc>' | sed -E 's#<loc>https?://[^/]*(/[^<]*)</loc>#\1#' >"$2"
}

# sample_articles ALL OUT N: N of the paths of ALL, the same N for the same SEED.
sample_articles() { shuf -n "$3" --random-source=<(yes "$SEED") "$1" >"$2"; }

# wrk's Lua for random readers: a random path of the file $URLS per request.
paths_lua() {
    cat >"$RUN/paths.lua" <<'EOF'
local paths, n = {}, 0
for line in io.lines(os.getenv("URLS")) do n = n + 1; paths[n] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args) math.randomseed(os.time() * 7919 + (id or 1)) end
function request() return wrk.format("GET", paths[math.random(n)]) end
EOF
}

# load LABEL URL-BASE URLS UA CONNECTIONS: DURATION seconds of random readers (wrk 2 threads,
# gzip) into $RUN/wrk-LABEL.txt.
load() {
    local label=$1 base=$2 urls=$3 ua=$4 c=$5 d=$DURATION
    [[ -f $RUN/paths.lua ]] || paths_lua
    URLS=$urls timeout $((d + 60)) wrk -t2 -c"$c" -d"${d}s" --timeout 5s --latency \
        -s "$RUN/paths.lua" -H "Accept-Encoding: gzip" -H "User-Agent: $ua" "$base" \
        >"$RUN/wrk-$label.txt" 2>&1 || die "wrk $label failed"
}

wrk_rps() { awk '$1 == "Requests/sec:" { printf "%.0f\n", $2 }' "$1"; }
wrk_ms() { # FILE LABEL(50%|99%|Max) -> ms
    awk -v want="$2" '
        function ms(v) {
            if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
            if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
            if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
            if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
            return v + 0 }
        want == "Max" && $1 == "Latency" && NF >= 5 && !done { printf "%.2f\n", ms($4); done = 1 }
        want != "Max" && $1 == want { printf "%.2f\n", ms($2); exit }' "$1"
}
# wrk_errors FILE: wrk's non-2xx and socket error lines, on one line ("" when none).
wrk_errors() { grep -E 'Non-2xx|Socket errors' "$1" | tr -s ' ' | tr '\n' ';' || true; }
# ratio A B [DIGITS]: A / B with DIGITS decimals (2).
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b > 0) printf "%." d "f", a / b; else print "n/a" }'; }
