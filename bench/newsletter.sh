#!/usr/bin/env bash
# Newsletter benchmark: one weekly digest to N subscribers (default 100,000), sent by
# `newsdesk serve` (release build) through its job queue into a real SMTP server on loopback
# (aiosmtpd, crates/mail/tests/smtp_sink.py, one .eml file per accepted message). Prints
# messages per second while sending, the server's peak resident memory (VmHWM), and checks that
# the number of messages that arrived equals the number the send log records as sent.
#   bash bench/newsletter.sh [SUBSCRIBERS=100000] [MAX_PER_SECOND=10000] [CONCURRENCY=16]
# NEWSDESK_BIN=path runs that binary instead of building the release one.
# Needs python3 with aiosmtpd (pip install aiosmtpd==1.4.6). Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
rate="${2:-10000}"
conc="${3:-16}"
if [ -n "${NEWSDESK_BIN:-}" ]; then
  bin="$NEWSDESK_BIN"
else
  cargo build --release -p newsdesk --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/newsdesk"
fi
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 crates/mail/tests/smtp_sink.py "$port" "$work/inbox" --seconds 7200 >"$work/sink.out" 2>&1 &
pids+=("$!")
cat >"$work/newsdesk.toml" <<TOML
log = "warn"
[mail]
transport = "smtp"
smtp_host = "127.0.0.1"
smtp_port = $port
smtp_tls = "none"
[newsletter]
max_per_second = $rate
concurrency = $conc
send_batch = 1000
TOML
nd() { "$bin" --config "$work/newsdesk.toml" --data-dir "$work/data" "$@"; }
nd demo --stories 200 >/dev/null
seq 1 "$n" | sed 's/^/reader/; s/$/@bench.example/' >"$work/list.txt"
t0=$(date +%s.%N)
nd newsletter import --frequency weekly --note "benchmark list" "$work/list.txt"
t1=$(date +%s.%N)
echo "import: $(echo "$t1 - $t0" | bc) s"
nd newsletter digest --weekly
until grep -q ready "$work/sink.out"; do sleep 0.2; done
# Started directly (not through nd), so that $! is newsdesk itself.
"$bin" --config "$work/newsdesk.toml" --data-dir "$work/data" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>&1 &
spid=$!
pids+=("$spid")
start=$(date +%s.%N)
last=0
stalled=0
while :; do
  sleep 2
  got=$(find "$work/inbox" -name '*.eml' | wc -l)
  now=$(date +%s.%N)
  echo "  $(printf '%.0f' "$(echo "$now - $start" | bc)") s: $got arrived"
  if [ "$got" -ge "$n" ]; then break; fi
  if [ "$got" -eq "$last" ]; then stalled=$((stalled + 1)); else stalled=0; fi
  if [ "$stalled" -ge 30 ]; then echo "no progress for 60 s; stopping"; break; fi
  last=$got
done
end=$(date +%s.%N)
hwm=$(grep VmHWM /proc/"$spid"/status | awk '{print $2}')
sleep 3
arrived=$(find "$work/inbox" -name '*.eml' | wc -l)
kill "$spid"; wait "$spid" 2>/dev/null || true
read -r sent pending failed < <(python3 - "$work/data/newsdesk.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
q = lambda s: c.execute("SELECT count(*) FROM newsletter_sends WHERE state = ?", (s,)).fetchone()[0]
print(q("sent"), q("pending"), q("failed"))
PY
)
secs=$(echo "$end - $start" | bc)
echo "subscribers: $n, sent (send log): $sent, pending: $pending, failed: $failed, arrived: $arrived"
echo "time: ${secs} s, $(echo "scale=1; $arrived / $secs" | bc) messages/s, peak resident memory: $((hwm / 1024)) MiB"
if [ "$arrived" -ne "$sent" ] || [ "$sent" -ne "$n" ]; then
  echo "FAIL: arrived ($arrived) and sent ($sent) must both be $n"
  exit 1
fi
echo "OK: every subscriber's message arrived once"
