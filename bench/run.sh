#!/usr/bin/env bash
# Load benchmark of the Warden gateway against nginx and a bare Go reverse
# proxy, on loopback only. See docs/benchmarks.md for what it measures and
# the last results.
#
# Phase 1 (throughput): wrk, closed loop, sends as many requests as it can
# to each target in turn: the upstream itself, nginx, the bare Go proxy,
# and Warden in several set-ups. The order is shuffled in every round.
# Phase 2 (latency): bench/cmd/loadgen sends fixed rates, half and a quarter
# of nginx's median throughput, to the upstream, nginx and Warden, and the
# added p99 is reported.
#
# The proxy under test runs on core 0; wrk, the load generator and the
# upstream run on core 1. With one core the pinning is skipped.
#
# Settings (environment variables):
#   BENCH_ROUNDS=3            rounds of each phase
#   BENCH_DURATION=10         seconds of one throughput measurement
#   BENCH_LATENCY_DURATION=10 seconds of one fixed-rate measurement
#   BENCH_WARMUP=2            seconds of unmeasured load before each measurement
#   BENCH_CONNECTIONS=32      client connections
#   BENCH_LATENCY_SHARES="0.5 0.25"  rates of phase 2 as shares of nginx's median throughput
#   BENCH_RATE=               rates of phase 2 in requests per second, space-separated,
#                             instead of BENCH_LATENCY_SHARES
#   BENCH_PORT_BASE=38000     ports BASE+1 to BASE+5, admin in BASE+90..BASE+99
#   BENCH_WAIT_FOR_WRK=600    seconds to wait for other wrk processes to end first
#   BENCH_MAX_FOREIGN=25      CPU use of other processes, in percent of one core, above
#                             which a measurement waits (up to BENCH_QUIET_WAIT=30 s)
#   BENCH_OUT=                directory for configs, logs and results; default: a new /tmp/warden-bench.*
#   BENCH_TARGETS=            space-separated targets of phase 1; default: all
#   BENCH_PHASES="throughput latency"  the phases to run
#   BENCH_PROFILE=0           1: after the phases, profile nginx, the bare proxy and the Warden
#                             targets with perf (linux-perf) into $BENCH_OUT/profiles
#   BENCH_REV=                git revision to build Warden from (such as HEAD) when the
#                             work tree does not build; default: the work tree as it is
set -Eeuo pipefail

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-10}
LATENCY_DURATION=${BENCH_LATENCY_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
RATE=${BENCH_RATE:-}
LATENCY_SHARES=${BENCH_LATENCY_SHARES:-0.5 0.25}
PORT_BASE=${BENCH_PORT_BASE:-38000}
WAIT_FOR_WRK=${BENCH_WAIT_FOR_WRK:-600}
MAX_FOREIGN=${BENCH_MAX_FOREIGN:-25}
QUIET_WAIT=${BENCH_QUIET_WAIT:-30}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/warden-bench.XXXXXX)}
WRK_THREADS=1
CLK_TCK=$(getconf CLK_TCK)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"

trap cleanup EXIT
trap 'log "command failed at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

# --- Checks ---------------------------------------------------------------

for tool in go wrk nginx curl ss shuf taskset; do
	command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
		die "$tool not found: run bench/setup.sh"
done
PATH=$PATH:/usr/sbin

if (($(nproc) >= 2)); then
	PROXY_CPU=(taskset -c 0)
	CLIENT_CPU=(taskset -c 1)
	CLIENT_CORE=1
	pinning="proxy under test on core 0; wrk, loadgen and upstream on core 1"
else
	PROXY_CPU=()
	CLIENT_CPU=()
	CLIENT_CORE=0
	pinning="none: only $(nproc) core"
fi

UPSTREAM_PORT=$((PORT_BASE + 1))
NGINX_PORT=$((PORT_BASE + 2))
BARE_PORT=$((PORT_BASE + 3))
WARDEN_PORT=$((PORT_BASE + 4))
QUIET_PORT=$((PORT_BASE + 5))
for p in $UPSTREAM_PORT $NGINX_PORT $BARE_PORT $WARDEN_PORT $QUIET_PORT; do
	port_free "$p" || die "port $p is in use: set BENCH_PORT_BASE to a free range"
done
ADMIN_PORT=$(free_port $((PORT_BASE + 90)) $((PORT_BASE + 99))) ||
	die "no free admin port in $((PORT_BASE + 90))-$((PORT_BASE + 99))"
QUIET_ADMIN_PORT=$(free_port $((ADMIN_PORT + 1)) $((PORT_BASE + 99))) ||
	die "no second free admin port in $((ADMIN_PORT + 1))-$((PORT_BASE + 99))"

mkdir -p "$OUT"/{bin,logs,data,data-quiet,jwt,nginx}
log "results, configs and logs go to $OUT"

# --- Build ----------------------------------------------------------------

warden_src=$repo
if [[ -n ${BENCH_REV:-} ]]; then
	warden_src=$OUT/src
	mkdir -p "$warden_src"
	git -C "$repo" archive "$BENCH_REV" | tar -x -C "$warden_src"
fi
log "building warden from $warden_src${BENCH_REV:+ at $BENCH_REV}, and the benchmark programs from the work tree"
(cd "$warden_src" && go build -o "$OUT/bin/warden" ./cmd/warden)
(cd "$repo" && go build -o "$OUT/bin/" ./bench/cmd/...)

# --- Configs and credentials ---------------------------------------------

cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $OUT/nginx/client_body;
    proxy_temp_path $OUT/nginx/proxy;
    fastcgi_temp_path $OUT/nginx/fastcgi;
    uwsgi_temp_path $OUT/nginx/uwsgi;
    scgi_temp_path $OUT/nginx/scgi;
    upstream origin {
        server 127.0.0.1:$UPSTREAM_PORT;
        keepalive 256;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF

"$OUT/bin/jwtgen" -out "$OUT/jwt" -issuer https://bench.warden.test/ -audience bench -subject bench-client

# warden_config NAME LISTEN ADMIN EVENTS writes a Warden config with four
# routes: anonymous, API key, API key with a per-consumer rate limit that
# never triggers (1,000,000 per second), and JWT.
warden_config() {
	local dir=$1 listen=$2 admin=$3 events=$4
	cat <<EOF
data_dir: $OUT/$dir
listeners:
  - address: 127.0.0.1:$listen
admin:
  address: 127.0.0.1:$admin
gateway:
  shutdown_timeout: 2s
events:
$events
routes:
  - name: books
    paths: ["/books/{id}"]
    upstream: origin
  - name: keyed
    paths: ["/keyed/{id}"]
    upstream: origin
    auth: {methods: [api_key]}
  - name: limited
    paths: ["/limited/{id}"]
    upstream: origin
    auth: {methods: [api_key]}
    rate_limit:
      limits:
        - {name: per-consumer, key: consumer, rate: 1000000, period: 1s}
  - name: jwt
    paths: ["/jwt/{id}"]
    upstream: origin
    auth: {methods: ["jwt:bench"]}
upstreams:
  - name: origin
    targets: ["http://127.0.0.1:$UPSTREAM_PORT"]
authn:
  jwt:
    - name: bench
      issuer: https://bench.warden.test/
      audiences: [bench]
      algorithms: [ES256, RS256]
      jwks_file: $OUT/jwt/jwks.json
EOF
}
warden_config data "$WARDEN_PORT" "$ADMIN_PORT" "  output: file
  file: $OUT/events.jsonl" >"$OUT/warden.yaml"
warden_config data-quiet "$QUIET_PORT" "$QUIET_ADMIN_PORT" "  output: \"off\"" >"$OUT/warden-quiet.yaml"
for f in warden.yaml warden-quiet.yaml; do
	"$OUT/bin/warden" config validate "$OUT/$f" >&2
done

"$OUT/bin/warden" consumers create --data-dir "$OUT/data" --name "Benchmark client" bench-client >&2
API_KEY=$("$OUT/bin/warden" keys create --data-dir "$OUT/data" --consumer bench-client --name bench --output json |
	sed -n 's/.*"key": *"\(wdn_[^"]*\)".*/\1/p')
[[ -n $API_KEY ]] || die "warden keys create printed no key"

# --- Start ----------------------------------------------------------------

start upstream "${CLIENT_CPU[@]}" "$OUT/bin/upstream" -addr "127.0.0.1:$UPSTREAM_PORT"
start nginx "${PROXY_CPU[@]}" nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/logs/nginx-error.log"
start bareproxy "${PROXY_CPU[@]}" "$OUT/bin/bareproxy" -addr "127.0.0.1:$BARE_PORT" -upstream "http://127.0.0.1:$UPSTREAM_PORT"
start warden "${PROXY_CPU[@]}" "$OUT/bin/warden" serve --config "$OUT/warden.yaml"
start warden-quiet "${PROXY_CPU[@]}" "$OUT/bin/warden" serve --config "$OUT/warden-quiet.yaml"
nginx_master=${started[1]}
bare_pid=${started[2]}
warden_pid=${started[3]}
quiet_pid=${started[4]}

# add_target NAME PORT PATH HEADER PIDS-FUNCTION [ADMIN-PORT]
add_target() {
	target_url[$1]="http://127.0.0.1:$2$3"
	target_header[$1]=$4
	target_pids[$1]=$5
	target_admin[$1]=${6:-}
}
our_pids() { echo "${started[*]} $(pgrep -P "$nginx_master" | tr '\n' ' ')"; }
pids_upstream() { echo "${started[0]}"; }
pids_nginx() { echo "$nginx_master $(pgrep -P "$nginx_master" | tr '\n' ' ')"; }
pids_bare() { echo "$bare_pid"; }
pids_warden() { echo "$warden_pid"; }
pids_quiet() { echo "$quiet_pid"; }
add_target direct "$UPSTREAM_PORT" /books/1 "X-Bench: 1" pids_upstream
add_target nginx "$NGINX_PORT" /books/1 "X-Bench: 1" pids_nginx
add_target bareproxy "$BARE_PORT" /books/1 "X-Bench: 1" pids_bare
add_target warden "$WARDEN_PORT" /books/1 "X-Bench: 1" pids_warden "$ADMIN_PORT"
add_target warden-no-events "$QUIET_PORT" /books/1 "X-Bench: 1" pids_quiet
add_target warden-key "$WARDEN_PORT" /keyed/1 "Authorization: Bearer $API_KEY" pids_warden "$ADMIN_PORT"
add_target warden-key-ratelimit "$WARDEN_PORT" /limited/1 "Authorization: Bearer $API_KEY" pids_warden "$ADMIN_PORT"
add_target warden-jwt-es256 "$WARDEN_PORT" /jwt/1 "Authorization: Bearer $(cat "$OUT/jwt/es256.jwt")" pids_warden "$ADMIN_PORT"
add_target warden-jwt-rs256 "$WARDEN_PORT" /jwt/1 "Authorization: Bearer $(cat "$OUT/jwt/rs256.jwt")" pids_warden "$ADMIN_PORT"
all_targets="direct nginx bareproxy warden warden-no-events warden-key warden-key-ratelimit warden-jwt-es256 warden-jwt-rs256"
read -r -a targets <<<"${BENCH_TARGETS:-$all_targets}"

for name in $all_targets; do
	wait_http "${target_url[$name]}" "${target_header[$name]}"
done
# Every target must return the upstream's document, or the numbers would
# measure error pages.
for name in $all_targets; do
	curl -s -H "${target_header[$name]}" "${target_url[$name]}" | grep -q '"Ursula K. Le Guin"' ||
		die "$name did not return the upstream's body"
done
log "all targets answer; pinning: $pinning"

# --- Machine state ----------------------------------------------------------

{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	if [[ -n ${BENCH_REV:-} ]]; then
		echo "warden_source=git revision $BENCH_REV ($(git -C "$repo" rev-parse --short "$BENCH_REV"))"
	else
		echo "warden_source=work tree at $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown) with $(git -C "$repo" status --porcelain 2>/dev/null | wc -l) changed or new files"
	fi
	echo "go=$(go version | cut -d' ' -f3) nginx=$(nginx -v 2>&1 | cut -d/ -f2) wrk=$(wrk -v 2>&1 | head -1 | cut -d' ' -f2)"
	echo "nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "pinning=$pinning"
	echo "settings=rounds $ROUNDS, ${DURATION}s throughput, ${LATENCY_DURATION}s latency, ${WARMUP}s warm-up, $CONNECTIONS connections, wrk -t$WRK_THREADS"
	echo "load_before_wait=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "other_wrk=$(wait_for_other_wrk "$WAIT_FOR_WRK")"
	echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# --- Phases -----------------------------------------------------------------

# Phase 1: each target in turn, in a new random order every round.
throughput_phase() {
	echo "round,target,rps,p50_ms,p99_ms,requests,socket_errors,non2xx,proxy_cpu_us_per_req,proxy_core_busy,client_core_busy,events_written,events_dropped,foreign_before,foreign_during,load1,other_wrk" >"$OUT/throughput.csv"
	for ((round = 1; round <= ROUNDS; round++)); do
		for name in $(printf '%s\n' "${targets[@]}" | shuf); do
			measure_throughput "$round" "$name"
		done
	done
}

# Phase 2: the upstream, nginx and Warden at fixed rates, by default half
# and a quarter of nginx's median throughput from phase 1.
latency_phase() {
	local rates=$RATE
	if [[ -z $rates && -f $OUT/throughput.csv ]]; then
		local median
		median=$(awk -F, '$2 == "nginx" {print $3}' "$OUT/throughput.csv" | sort -g |
			awk '{v[NR] = $1} END {if (NR) printf "%d", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
		for share in $LATENCY_SHARES; do
			rates+=" $(awk -v m="${median:-0}" -v s="$share" 'BEGIN {printf "%d", m * s}')"
		done
	fi
	if [[ -z ${rates// /} || ${rates// /} =~ ^0+$ ]]; then
		log "no nginx throughput measured and no BENCH_RATE: skipping the fixed-rate phase"
		return
	fi
	echo "round,target,rate,achieved_rps,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,ok,non2xx,errors,unsent,pacer_lag_p99_ms,proxy_cpu_us_per_req,client_core_busy,foreign_before,foreign_during,load1,other_wrk" >"$OUT/latency.csv"
	for rate in $rates; do
		for ((round = 1; round <= ROUNDS; round++)); do
			for name in $(printf '%s\n' direct nginx warden | shuf); do
				measure_latency "$round" "$name" "$rate"
			done
		done
	done
}

# Profiles: perf samples of each proxy under wrk load.
profile_phase() {
	command -v perf >/dev/null || die "perf not found: install linux-perf"
	mkdir -p "$OUT/profiles"
	for name in nginx bareproxy warden warden-no-events warden-key warden-key-ratelimit warden-jwt-es256; do
		profile_target "$name"
	done
}

PHASES=" ${BENCH_PHASES:-throughput latency} "
[[ $PHASES != *" throughput "* ]] || throughput_phase
[[ $PHASES != *" latency "* ]] || latency_phase
echo "load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
[[ ${BENCH_PROFILE:-0} != 1 ]] || profile_phase

# --- Report -----------------------------------------------------------------

if [[ -f $OUT/throughput.csv ]]; then
	bash "$repo/bench/report.sh" "$OUT" | tee "$OUT/report.md"
	log "report written to $OUT/report.md"
fi
