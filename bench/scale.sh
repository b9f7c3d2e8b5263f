#!/usr/bin/env bash
# Scale-out: the same site on one node with SQLite, one node with PostgreSQL, and two nodes on
# one PostgreSQL behind nginx as the load balancer, in one run.
#
#   reads:  random readers over ARTICLES of STORIES articles (from the sitemaps; browser
#           User-Agent, so views count and trending moves; gzip; wrk 2 threads, CONNECTIONS
#           connections, DURATION s after a 3 s warm-up) against
#           (i)   1 node, SQLite
#           (ii)  1 node, PostgreSQL
#           (iv)  1 node, PostgreSQL, through nginx (what the proxy alone costs)
#           (iii) 2 nodes, PostgreSQL, through nginx (upstream of both, keepalive)
#           req/s, p50, p99 and the ratio to (i), and where the CPU went in each.
#   writes: on one node of each store (the other node stopped),
#           publications per second through the JSON API the way a desk's tools publish
#           (an editor's token: create, submit, publish; PUB_WORKERS at once), and
#           wire items per second through the push endpoint (`POST /api/wire/{source}`, one
#           ninjs item per request, WIRE_CONNECTIONS at once, the token's `wire_push` scope).
#
# Usage: bash bench/scale.sh        (STORIES=100000 ARTICLES=20000 DURATION=15)
# Knobs: STORIES, ARTICLES, DURATION, CONNECTIONS (32), WRITE_SECONDS (10, each write run),
#        PUB_WORKERS (4), WIRE_CONNECTIONS (4), NGINX_WORKERS (1), SEED, BENCH_DIR (default
#        /tmp/newsdesk-scale), CARGO_TARGET_DIR, NEWSDESK_BIN (use this binary instead of
#        building release).
#        The SQLite corpus is generated once into $BENCH_DIR/data-sqlite and copied for each
#        run; PostgreSQL is a throw-away server (scripts/pg-throwaway.sh) seeded by
#        `newsdesk demo` with the same seed, stopped and deleted at the end. Loopback only;
#        every step has a time limit; everything started is stopped on exit.
set -euo pipefail

STORIES=${STORIES:-100000}
ARTICLES=${ARTICLES:-20000}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
WRITE_SECONDS=${WRITE_SECONDS:-10}
PUB_WORKERS=${PUB_WORKERS:-4}
WIRE_CONNECTIONS=${WIRE_CONNECTIONS:-4}
NGINX_WORKERS=${NGINX_WORKERS:-1}
BENCH_DIR=${BENCH_DIR:-/tmp/newsdesk-scale}
BENCH_NAME=scale
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need nginx wrk curl python3 shuf sqlite3 psql
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
bench_init
chmod 755 "$BENCH_DIR" "$RUN"
mkdir -p "$RUN/nginx/tmp"
chmod 777 "$RUN/nginx/tmp"

PG_DIR="" NGX_PID=""
bench_cleanup() {
    stop_pid "$NGX_PID"
    # The nodes first (the trap stops them after this), then their database.
    local i
    for ((i = ${#TRACKED[@]} - 1; i >= 0; i--)); do stop_pid "${TRACKED[i]}"; done
    if [[ -n $PG_DIR ]]; then
        bash "$ROOT/scripts/pg-throwaway.sh" stop "$PG_DIR" || true
        log "PostgreSQL stopped, $PG_DIR deleted"
    fi
}

# Server settings for every node: no token rate limit in the way of the write runs.
ND_ENV=(NEWSDESK_API__RATE_PER_MINUTE=100000000)

# ---------------------------------------------------------------------------------------------
# CPU accounting: user + system ticks of process trees, and of the whole machine.
cat >"$RUN/cpu.py" <<'PY'
import json, os, sys

def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[1]), int(rest[11]) + int(rest[12])  # ppid, utime + stime

def snap(out, groups):
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                procs[int(d)] = stat(d)
            except (OSError, IndexError, ValueError):
                pass
    kids = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    res = {}
    for g in groups:
        name, roots = g.split("=", 1)
        seen, todo = {}, [int(p) for p in roots.split(",") if p]
        while todo:
            p = todo.pop()
            if p in procs and str(p) not in seen:
                seen[str(p)] = procs[p][1]
                todo.extend(kids.get(p, []))
        res[name] = seen
    with open("/proc/stat") as f:
        # user nice system idle iowait irq softirq steal (guest time is inside user already)
        cpu = [int(x) for x in f.readline().split()[1:9]]
    res["_busy"] = sum(cpu) - cpu[3] - cpu[4]  # all but idle and iowait
    with open("/proc/uptime") as f:
        res["_t"] = float(f.read().split()[0])
    with open(out, "w") as f:
        json.dump(res, f)

def diff(a, b, label):
    a, b = json.load(open(a)), json.load(open(b))
    hz = os.sysconf("SC_CLK_TCK")
    secs = b["_t"] - a["_t"]
    cores = lambda t: t / hz / float(secs)
    parts, total = [], 0.0
    for name, pids in b.items():
        if name.startswith("_"):
            continue
        t = sum(v - a.get(name, {}).get(p, 0) for p, v in pids.items())
        total += t
        parts.append(f"{name} {cores(t):.2f}")
    busy = b["_busy"] - a["_busy"]
    parts.append(f"everything else on the machine {max(cores(busy - total), 0):.2f}")
    print(f"{label} ({secs:.1f} s): cores busy {cores(busy):.2f} of {os.cpu_count()}: " + ", ".join(parts))

if sys.argv[1] == "snap":
    snap(sys.argv[2], sys.argv[3:])
else:
    diff(*sys.argv[2:5])
PY

# pg_pids: the throw-away server's postmaster (its backends are its children).
pg_pids() { [[ -n $PG_DIR && -f $PG_DIR/data/postmaster.pid ]] && head -1 "$PG_DIR/data/postmaster.pid" || true; }

# measured LABEL GROUPS -- CMD...: runs CMD (the load) in the background and accounts the CPU of
# each group ("name=pid,pid", process trees) and of CMD itself over the middle of the run (from
# 1 s after the start to 1.5 s before the end of MEASURE_S seconds); the line goes to
# $RUN/cpu.txt.
measured() {
    local label=$1; shift
    local groups=()
    while [[ $1 != -- ]]; do groups+=("$1"); shift; done
    shift
    local t0; t0=$(date +%s.%N)
    "$@" &
    local lp=$!
    sleep 1
    python3 "$RUN/cpu.py" snap "$RUN/cpu-a.json" "${groups[@]}" "load generator=$lp"
    sleep "$(awk -v t0="$t0" -v now="$(date +%s.%N)" -v d="$MEASURE_S" 'BEGIN { w = t0 + d - 1.5 - now; print (w > 0 ? w : 0) }')"
    python3 "$RUN/cpu.py" snap "$RUN/cpu-b.json" "${groups[@]}" "load generator=$lp"
    wait "$lp" || die "$label: the load failed"
    python3 "$RUN/cpu.py" diff "$RUN/cpu-a.json" "$RUN/cpu-b.json" "$label" | tee -a "$RUN/cpu.txt" >&2
}

# reads ID LABEL BASE SAMPLE GROUPS...: the random readers, warm-up then measured.
reads() {
    local id=$1 label=$2 base=$3 sample=$4; shift 4
    log "$label: random readers over $(wc -l <"$sample") articles, ${DURATION}s after a 3 s warm-up"
    DURATION=3 load "$id-warm" "$base" "$sample" "$UA" "$CONNECTIONS"
    MEASURE_S=$DURATION measured "$label" "$@" -- load "$id" "$base" "$sample" "$UA" "$CONNECTIONS"
    local f=$RUN/wrk-$id.txt
    printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$(wrk_rps "$f")" "$(wrk_ms "$f" 50%)" "$(wrk_ms "$f" 99%)" \
        "$(wrk_errors "$f")" >>"$RUN/reads.tsv"
}

# ---------------------------------------------------------------------------------------------
# The write loads.
cat >"$RUN/publish.py" <<'PY'
# Publications through the JSON API, as a desk's tool makes them: create a draft, submit it,
# publish it (an editor's token). WORKERS at once for SECONDS; prints count, rate, latency.
import http.client, json, sys, threading, time, urllib.parse

base, token, sector, workers, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
host = urllib.parse.urlsplit(base)
hdr = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
done, errors, lat = [0], [], []
lock = threading.Lock()
stop_at = time.monotonic() + seconds

def call(c, method, path, body):
    c.request(method, path, json.dumps(body), hdr)
    r = c.getresponse()
    data = r.read()
    if r.status // 100 != 2:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data)

def worker(w):
    c = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    i = 0
    while time.monotonic() < stop_at:
        i += 1
        t0 = time.monotonic()
        try:
            s = call(c, "POST", "/api/v1/newsroom/stories", {
                "headline": f"Scale bench publication {w}-{i} at {time.time():.3f}",
                "summary": "A story published by the scale benchmark.",
                "body_md": "The scale benchmark publishes this story through the API.\n\n" * 8,
                "kind": "news", "sector": sector, "tags": ["bench"]})
            s = call(c, "POST", f"/api/v1/newsroom/stories/{s['id']}/transitions", {"step": "submit", "version": s["version"]})
            s = call(c, "POST", f"/api/v1/newsroom/stories/{s['id']}/transitions", {"step": "publish", "version": s["version"]})
            assert s["status"] == "published", s["status"]
        except Exception as e:  # counted and shown, the run goes on
            with lock:
                errors.append(str(e))
            c.close()
            c = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
            continue
        with lock:
            done[0] += 1
            lat.append(time.monotonic() - t0)

t0 = time.monotonic()
ts = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
for t in ts: t.start()
for t in ts: t.join()
secs = time.monotonic() - t0
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else 0
print(f"{done[0]}\t{done[0] / secs:.1f}\t{pct(0.5):.1f}\t{pct(0.99):.1f}\t{len(errors)}")
for e in errors[:5]:
    print("error:", e, file=sys.stderr)
PY

# wrk's Lua for pushes: one new ninjs item per request, its words drawn from a vocabulary, so
# items differ (most found clusters of their own; the desk still compares, tags and summarises).
cat >"$RUN/push.lua" <<'EOF'
local words = {}
for w in ("rain flood road river storm minister election vote court ruling market price bank rate " ..
          "school teacher hospital nurse vaccine farm harvest drought water power grid fuel port " ..
          "ship strike union wage budget tax police protest border trade export import factory " ..
          "mine gold oil gas bridge rail bus airport flight fire forest coast island city village"):gmatch("%S+") do
    words[#words + 1] = w
end
local counter, n = 0, 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args) math.randomseed(os.time() * 7919 + (id or 1)) end
local function text(k)
    local t = {}
    for i = 1, k do t[i] = words[math.random(#words)] end
    return table.concat(t, " ")
end
function request()
    n = n + 1
    local body = string.format(
        '{"uri":"urn:scale-bench:%d-%d-%d","version":"1","type":"text","language":"en",' ..
        '"headline":"%s","body_text":"%s. %s. %s.","versioncreated":"%s"}',
        os.time(), id, n, text(8), text(40), text(40), text(40), os.date("!%Y-%m-%dT%H:%M:%SZ"))
    return wrk.format("POST", nil, nil, body)
end
EOF

# push_load BASE OUT: WRITE_SECONDS of pushes into the source SOURCE_ID.
push_load() {
    timeout $((WRITE_SECONDS + 60)) wrk -t1 -c"$WIRE_CONNECTIONS" -d"${WRITE_SECONDS}s" --timeout 30s --latency \
        -s "$RUN/push.lua" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        "$1/api/wire/$SOURCE_ID" >"$2" 2>&1
}

# writes LABEL BASE STORE-GROUPS...: publications, then wire items, on the node at BASE; the
# editor's token comes from `newsdesk token create` (TOKEN) and the push source from SOURCE_ID.
writes() {
    local label=$1 base=$2; shift 2
    local sector
    sector=$(curl -fsS --max-time 30 "$base/api/v1/sectors" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("items", d) if isinstance(d, dict) else d; print(d[0]["slug"])')
    log "$label: publications through the API for ${WRITE_SECONDS}s ($PUB_WORKERS at once, sector $sector)"
    MEASURE_S=$WRITE_SECONDS measured "$label publications" "$@" -- \
        bash -c "timeout $((WRITE_SECONDS + 120)) python3 '$RUN/publish.py' '$base' '$TOKEN' '$sector' $PUB_WORKERS $WRITE_SECONDS >'$RUN/publish-$label.txt' 2>'$RUN/publish-$label.err'"
    log "$label: wire items pushed for ${WRITE_SECONDS}s ($WIRE_CONNECTIONS connections)"
    MEASURE_S=$WRITE_SECONDS measured "$label wire" "$@" -- push_load "$base" "$RUN/wrk-$label-wire.txt"
    local probe
    probe=$(curl -sS --max-time 30 -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        --data-binary "{\"uri\":\"urn:scale-bench:probe-$label\",\"version\":\"1\",\"headline\":\"Probe\",\"body_text\":\"A probe item.\"}" \
        "$base/api/wire/$SOURCE_ID")
    log "$label: a push answers $probe"
    local f=$RUN/wrk-$label-wire.txt
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$(cat "$RUN/publish-$label.txt")" "$(wrk_rps "$f")" \
        "$(wrk_ms "$f" 50%)" "$(wrk_ms "$f" 99%)" "$(wrk_errors "$f")" >>"$RUN/writes.tsv"
}

# editor DATA-DIR [VAR=VALUE...]: an editor account and its token (TOKEN) in that store.
editor() {
    local dir=$1; shift
    head -c 24 /dev/urandom | base64 | env NEWSDESK_LOG=warn "$@" timeout 300 "$BIN" user add --data-dir "$dir" \
        --role editor --name "Scale Bench" scale-bench@example.org >"$RUN/user-add.log" 2>&1 ||
        die "user add failed ($RUN/user-add.log)"
    TOKEN=$(env NEWSDESK_LOG=warn "$@" timeout 300 "$BIN" token create --data-dir "$dir" --name scale-bench \
        --scopes write_stories,publish,wire_push scale-bench@example.org 2>"$RUN/token.log" | grep -o 'ndt_[0-9a-f]*' | head -1)
    [[ -n $TOKEN ]] || die "token create failed ($RUN/token.log)"
}

NOW_MS=$(($(date +%s) * 1000))
SOURCE_SQL="INSERT INTO wire_sources (name, url, poll_minutes, allow_loopback, push_token_hash, next_poll_at, created_at) VALUES ('Scale bench push', NULL, 60, FALSE, NULL, $NOW_MS, $NOW_MS)"

: >"$RUN/reads.tsv"; : >"$RUN/writes.tsv"; : >"$RUN/cpu.txt"

# ---------------------------------------------------------------------------------------------
# (i) one node on SQLite: a copy of the corpus (the run writes views, stories and wire items).
SQ_CORPUS=$BENCH_DIR/data-sqlite
corpus "$SQ_CORPUS" "$STORIES"
if [[ ! -f $SQ_CORPUS/search/CURRENT ]]; then
    log "building the search index of the SQLite corpus (once)"
    NEWSDESK_LOG=warn timeout 3600 "$BIN" search reindex --data-dir "$SQ_CORPUS" >"$RUN/reindex-sqlite.log" 2>&1 ||
        die "reindex failed ($RUN/reindex-sqlite.log)"
fi
SQ=$RUN/sqlite
cp -a "$SQ_CORPUS" "$SQ"
SOURCE_ID=$(sqlite3 "$SQ/newsdesk.db" "$SOURCE_SQL; SELECT last_insert_rowid();")
editor "$SQ"
start_nd "$SQ" sqlite "${ND_ENV[@]}"
SQ_PID=$ND_PID SQ_URL=$ND
all_articles "$SQ_URL" "$RUN/all-sqlite.txt"
sample_articles "$RUN/all-sqlite.txt" "$RUN/sample-sqlite.txt" "$ARTICLES"
log "$(wc -l <"$RUN/all-sqlite.txt") articles in the sitemaps; $(wc -l <"$RUN/sample-sqlite.txt") taken"
reads i "(i) 1 node, SQLite" "$SQ_URL" "$RUN/sample-sqlite.txt" "newsdesk=$SQ_PID"
writes "SQLite" "$SQ_URL" "newsdesk=$SQ_PID"
stop_pid "$SQ_PID"

# ---------------------------------------------------------------------------------------------
# PostgreSQL: a throw-away server, seeded by the demo generator (same seed, same stories).
PG_DIR=$(mktemp -d /tmp/newsdesk-scale-pg.XXXXXX)
PG_URL=$(bash "$ROOT/scripts/pg-throwaway.sh" start "$PG_DIR") || die "PostgreSQL did not start"
log "PostgreSQL at $PG_URL ($PG_DIR)"
PG_ENV=(NEWSDESK_DATABASE_URL="$PG_URL")
A=$RUN/node-a B=$RUN/node-b
mkdir -p "$A" "$B"
log "seeding PostgreSQL: newsdesk demo --stories $STORIES"
t0=$SECONDS
env "${PG_ENV[@]}" NEWSDESK_LOG=warn timeout 7200 "$BIN" demo --data-dir "$A" --stories "$STORIES" --seed "$SEED" \
    >"$RUN/demo-pg.log" 2>&1 || die "seeding PostgreSQL failed ($RUN/demo-pg.log)"
PG_SEED_S=$((SECONDS - t0))
log "seeded in ${PG_SEED_S}s; building the search index once for both nodes"
env "${PG_ENV[@]}" NEWSDESK_LOG=warn timeout 3600 "$BIN" search reindex --data-dir "$A" >"$RUN/reindex-pg.log" 2>&1 ||
    die "reindex failed ($RUN/reindex-pg.log)"
# Node B shares the database; its search index and media are copies of A's (in production the
# media are shared through object storage, and each node builds its own index).
cp -a "$A/search" "$A/media" "$B/" 2>/dev/null || cp -a "$A/search" "$B/"
SOURCE_ID=$(psql "$PG_URL" -Atqc "$SOURCE_SQL RETURNING id")
editor "$A" "${PG_ENV[@]}"

# (ii) one node on PostgreSQL
start_nd "$A" pg-a "${PG_ENV[@]}" "${ND_ENV[@]}"
A_PID=$ND_PID A_URL=$ND
all_articles "$A_URL" "$RUN/all-pg.txt"
sample_articles "$RUN/all-pg.txt" "$RUN/sample-pg.txt" "$ARTICLES"
cmp -s "$RUN/sample-sqlite.txt" "$RUN/sample-pg.txt" && log "the PostgreSQL sample is the SQLite one" ||
    log "note: the PostgreSQL sample differs from the SQLite one ($(comm -12 <(sort "$RUN/sample-sqlite.txt") <(sort "$RUN/sample-pg.txt") | wc -l) in common)"
reads ii "(ii) 1 node, PostgreSQL" "$A_URL" "$RUN/sample-pg.txt" "newsdesk A=$A_PID" "postgres=$(pg_pids)"

# nginx in front: (iv) node A alone, then (iii) A and B.
NGX_PORT=$(free_port)
NGX=http://127.0.0.1:$NGX_PORT
nginx_conf() { # UPSTREAM-LINES...
    {
        echo "worker_processes $NGINX_WORKERS;"
        echo "pid $RUN/nginx/nginx.pid; error_log $RUN/nginx/error.log;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "  access_log off; tcp_nodelay on; keepalive_requests 1000000;"
        echo "  client_body_temp_path $RUN/nginx/tmp; proxy_temp_path $RUN/nginx/tmp;"
        echo "  fastcgi_temp_path $RUN/nginx/tmp; uwsgi_temp_path $RUN/nginx/tmp; scgi_temp_path $RUN/nginx/tmp;"
        echo "  upstream newsdesk {"
        printf '    %s\n' "$@"
        echo "    keepalive 64;"
        echo "  }"
        echo "  server {"
        echo "    listen 127.0.0.1:$NGX_PORT;"
        echo "    gzip off;"
        echo "    location / {"
        echo "      proxy_pass http://newsdesk;"
        echo "      proxy_http_version 1.1;"
        echo "      proxy_set_header Connection \"\";"
        echo "      proxy_set_header Host \$http_host;"
        echo "      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
        echo "      proxy_buffer_size 64k; proxy_buffers 8 64k;"
        echo "    }"
        echo "  }"
        echo "}"
    } >"$RUN/nginx/nginx.conf"
}
start_nginx() {
    "$NGINX" -p "$RUN/nginx/" -c "$RUN/nginx/nginx.conf" -g 'daemon off;' >"$RUN/nginx/stdout.log" 2>&1 &
    NGX_PID=$!
    track "$NGX_PID"
    local deadline=$((SECONDS + 30))
    until curl -fsS -o /dev/null --max-time 5 "$NGX/robots.txt" 2>/dev/null; do
        kill -0 "$NGX_PID" 2>/dev/null || die "nginx exited ($RUN/nginx/error.log)"
        ((SECONDS < deadline)) || die "nginx does not answer"
        sleep 0.2
    done
}
nginx_conf "server ${A_URL#http://};"
start_nginx
reads iv "(iv) 1 node, PostgreSQL, via nginx" "$NGX" "$RUN/sample-pg.txt" \
    "newsdesk A=$A_PID" "postgres=$(pg_pids)" "nginx=$NGX_PID"
stop_pid "$NGX_PID"

start_nd "$B" pg-b "${PG_ENV[@]}" "${ND_ENV[@]}"
B_PID=$ND_PID B_URL=$ND
nginx_conf "server ${A_URL#http://};" "server ${B_URL#http://};"
start_nginx
DURATION=3 load iii-b-warm "$B_URL" "$RUN/sample-pg.txt" "$UA" "$CONNECTIONS"
reads iii "(iii) 2 nodes, PostgreSQL, via nginx" "$NGX" "$RUN/sample-pg.txt" \
    "newsdesk A=$A_PID" "newsdesk B=$B_PID" "postgres=$(pg_pids)" "nginx=$NGX_PID"
stop_pid "$NGX_PID"; NGX_PID=""
stop_pid "$B_PID"

writes "PostgreSQL" "$A_URL" "newsdesk=$A_PID" "postgres=$(pg_pids)"

# ---------------------------------------------------------------------------------------------
{
    echo "newsdesk scale-out -- $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(cd "$ROOT" && git rev-parse --short HEAD), $(basename "$BIN") at $BIN"
    echo "corpus: $STORIES demo stories (seed $SEED) in each store; PostgreSQL seeded by newsdesk demo in ${PG_SEED_S}s;"
    echo "readers at random over $ARTICLES articles, wrk -t2 -c$CONNECTIONS -d${DURATION}s (gzip, browser User-Agent); nginx $NGINX_WORKERS worker(s), upstream keepalive 64"
    echo "machine: $(nproc) cores shared by wrk, nginx, the nodes and PostgreSQL (and whatever else runs: see the CPU lines); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| setup | req/s | p50 | p99 | vs (i) |"
    echo "|---|---|---|---|---|"
    base_rps=$(head -1 "$RUN/reads.tsv" | cut -f2)
    while IFS=$'\t' read -r label rps p50 p99 errs; do
        printf '| %s | %s | %s ms | %s ms | %s× |%s\n' "$label" "$rps" "$p50" "$p99" "$(ratio "$rps" "$base_rps")" \
            "${errs:+ $errs}"
    done <"$RUN/reads.tsv"
    echo
    echo "| store (1 node) | publications/s (p50, p99 of create+submit+publish) | wire items/s (p50, p99 per push) |"
    echo "|---|---|---|"
    while IFS=$'\t' read -r label n prate pp50 pp99 perr wrate wp50 wp99 werrs; do
        printf '| %s | %s (%s ms, %s ms; %s in %ss, %s errors) | %s (%s ms, %s ms)%s |\n' "$label" "$prate" "$pp50" "$pp99" \
            "$n" "$WRITE_SECONDS" "$perr" "$wrate" "$wp50" "$wp99" "${werrs:+; $werrs}"
    done <"$RUN/writes.tsv"
    echo
    echo "CPU over the middle of each measured run, in cores (process trees; \"load generator\" is wrk or the API client):"
    sed 's/^/  /' "$RUN/cpu.txt"
} | tee "$BENCH_DIR/results.txt"
