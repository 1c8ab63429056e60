# shellcheck shell=bash
# Helpers of bench/run.sh: process control, readiness checks, CPU accounting,
# the measurements and the profiles. Sourced, not run.

# The targets, filled in by run.sh: the URL, the request header, the name of
# a function that prints the ids of the processes serving the target, and
# the Warden admin port whose metrics count its events (empty elsewhere).
declare -A target_url=() target_header=() target_pids=() target_admin=()

# started contains the ids of the processes this run started; cleanup ends
# them, and nothing else.
started=()

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# start NAME COMMAND... runs COMMAND in the background with its output in
# $OUT/logs/NAME.log and remembers its process id.
start() {
	local name=$1
	shift
	"$@" >"$OUT/logs/$name.log" 2>&1 &
	started+=($!)
	log "started $name (pid $!): $*"
}

# cleanup ends the started processes, newest first, and waits for them.
cleanup() {
	local pid
	for ((i = ${#started[@]} - 1; i >= 0; i--)); do
		pid=${started[i]}
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${started[@]}"; do
		# A process that ignores SIGTERM for 5 s gets SIGKILL.
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	((${#started[@]} == 0)) || log "stopped ${#started[@]} processes"
	started=()
}

# port_free PORT succeeds when nothing listens on 127.0.0.1:PORT.
port_free() {
	[[ -z $(ss -Hltn "sport = :$1") ]]
}

# free_port FROM TO prints the first free port in [FROM, TO].
free_port() {
	local p
	for ((p = $1; p <= $2; p++)); do
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_http URL [HEADER] waits up to 10 s for URL to return 200.
wait_http() {
	local url=$1 header=${2:-X-Bench: 1} code
	for _ in $(seq 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "$url" || true)
		[[ $code == 200 ]] && return 0
		sleep 0.1
	done
	die "$url did not return 200 within 10 s (last status $code); see the logs in $OUT/logs"
}

# wait_for_other_wrk waits up to $1 seconds until no wrk process runs on the
# machine, because another benchmark would share the cores with this one.
# It prints how long it waited and whether wrk was still running.
wait_for_other_wrk() {
	local limit=$1 waited=0
	while pgrep -x wrk >/dev/null && ((waited < limit)); do
		((waited % 60 == 0)) && log "another wrk is running (pids $(pgrep -x wrk | tr '\n' ' ')); waiting, ${waited}s of ${limit}s"
		sleep 5
		waited=$((waited + 5))
	done
	if pgrep -x wrk >/dev/null; then
		echo "waited ${waited}s; another wrk was still running when the measurement started"
	else
		echo "waited ${waited}s; no other wrk process at the start"
	fi
}

# cpu_ticks PID... prints the user+system CPU time of the processes, in
# clock ticks. It reads fields 14 and 15 of /proc/PID/stat, counting from
# the end of the command name because that name may contain spaces.
cpu_ticks() {
	local pid total=0 t
	for pid in "$@"; do
		t=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
		total=$((total + t))
	done
	echo "$total"
}

# core_busy_ticks CORE prints "busy total" clock ticks of one core since boot.
core_busy_ticks() {
	awk -v cpu="cpu$1" '$1 == cpu {
		total = 0; for (i = 2; i <= NF; i++) total += $i
		print total - $5 - $6, total }' /proc/stat
}

# busy_percent BEFORE AFTER prints the busy share of a core between two
# core_busy_ticks samples.
busy_percent() {
	awk -v b="$1" -v a="$2" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		d = y[2] - x[2]; printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'
}

# usage_sample prints "machine ours children nanoseconds": the user, nice
# and system clock ticks of all cores, of the processes this run started,
# and of this shell's finished children (wrk, loadgen), with the time of the
# sample. Interrupt and softirq ticks are left out of the machine's count
# because the kernel charges them to no process.
usage_sample() {
	local machine ours children
	machine=$(awk '$1 == "cpu" {print $2 + $3 + $4}' /proc/stat)
	local -a pids
	read -r -a pids <<<"$(our_pids)"
	ours=$(cpu_ticks "${pids[@]}")
	children=$(sed 's/.*) //' "/proc/$$/stat" | awk '{print $14 + $15}')
	echo "$machine $ours $children $(date +%s%N)"
}

# foreign_percent BEFORE AFTER prints the CPU time used by processes that
# this run did not start between two usage_sample outputs, in percent of
# one core.
foreign_percent() {
	awk -v b="$1" -v a="$2" -v hz="$CLK_TCK" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		ticks = (y[1] - x[1]) - (y[2] - x[2]) - (y[3] - x[3])
		secs = (y[4] - x[4]) / 1e9
		printf "%.0f", (secs > 0 && ticks > 0 ? 100 * ticks / hz / secs : 0) }'
}

# wait_quiet measures, over 2 s with the benchmark idle, the CPU used by
# other processes, and measures again for up to $QUIET_WAIT seconds while
# it is above $MAX_FOREIGN percent of one core. It prints the last value.
wait_quiet() {
	local waited=0 before foreign
	while :; do
		before=$(usage_sample)
		sleep 2
		foreign=$(foreign_percent "$before" "$(usage_sample)")
		waited=$((waited + 2))
		if ((foreign <= MAX_FOREIGN || waited >= QUIET_WAIT)); then
			echo "$foreign"
			return
		fi
	done
}

# to_ms converts a wrk time such as 627.00us, 1.80ms or 1.02s to ms.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
		printf "%.3f", n }'
}

# events_counters prints "written dropped" from Warden's admin metrics, or
# "0 0" for a target without events.
events_counters() {
	local admin=$1
	[[ -n $admin ]] || {
		echo "0 0"
		return
	}
	curl -s "http://127.0.0.1:$admin/metrics" | awk '
		$1 == "warden_events_written_total" { w = $2 }
		$1 == "warden_events_dropped_total" { d = $2 }
		END { printf "%d %d\n", w, d }'
}

# parse_wrk OUTPUT prints "rps p50_ms p99_ms requests socket_errors non2xx"
# from the output of wrk --latency.
parse_wrk() {
	local out=$1 rps p50 p99 requests errors non2xx
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	requests=$(awk '/requests in/ {print $1}' <<<"$out")
	errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	echo "${rps:-0} $p50 $p99 ${requests:-0} ${errors:-0} ${non2xx:-0}"
}

# counter_delta BEFORE AFTER FIELD prints the change of one field between
# two events_counters outputs.
counter_delta() {
	echo $(($(cut -d' ' -f"$3" <<<"$2") - $(cut -d' ' -f"$3" <<<"$1")))
}

# measure_throughput ROUND NAME runs wrk against target NAME for $DURATION
# seconds after a $WARMUP-second warm-up, and appends one CSV row to
# $OUT/throughput.csv.
measure_throughput() {
	local round=$1 name=$2 url=${target_url[$2]} admin=${target_admin[$2]}
	local args=(-t "$WRK_THREADS" -c "$CONNECTIONS" --latency -H "${target_header[$2]}")
	local -a pids
	read -r -a pids <<<"$(${target_pids[$2]})"

	local quiet load1 others
	quiet=$(wait_quiet)
	load1=$(cut -d' ' -f1 /proc/loadavg)
	others=$( (pgrep -x wrk || true) | wc -l)
	"${CLIENT_CPU[@]}" wrk "${args[@]}" -d "${WARMUP}s" "$url" >/dev/null

	local ev0 ticks0 proxy0 client0 usage0 out ev1 ticks1 proxy1 client1 usage1
	ev0=$(events_counters "$admin")
	ticks0=$(cpu_ticks "${pids[@]}")
	proxy0=$(core_busy_ticks 0)
	client0=$(core_busy_ticks "$CLIENT_CORE")
	usage0=$(usage_sample)
	out=$("${CLIENT_CPU[@]}" wrk "${args[@]}" -d "${DURATION}s" "$url")
	usage1=$(usage_sample)
	client1=$(core_busy_ticks "$CLIENT_CORE")
	proxy1=$(core_busy_ticks 0)
	ticks1=$(cpu_ticks "${pids[@]}")
	ev1=$(events_counters "$admin")
	echo "$out" >"$OUT/logs/wrk-$name-round$round.txt"

	local rps p50 p99 requests errors non2xx cpu_us proxy_busy client_busy foreign
	read -r rps p50 p99 requests errors non2xx <<<"$(parse_wrk "$out")"
	cpu_us=$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')
	proxy_busy=$(busy_percent "$proxy0" "$proxy1")
	client_busy=$(busy_percent "$client0" "$client1")
	foreign=$(foreign_percent "$usage0" "$usage1")

	echo "$round,$name,$rps,$p50,$p99,$requests,$errors,$non2xx,$cpu_us,$proxy_busy,$client_busy,$(counter_delta "$ev0" "$ev1" 1),$(counter_delta "$ev0" "$ev1" 2),$quiet,$foreign,$load1,$others" >>"$OUT/throughput.csv"
	log "round $round $name: $rps req/s, p50 $p50 ms, p99 $p99 ms, proxy CPU $cpu_us us/req, cores busy $proxy_busy% (proxy) and $client_busy% (client), other processes $quiet% before and $foreign% during"
	if [[ $errors != 0 || $non2xx != 0 ]]; then
		log "warning: $name had $errors socket errors and $non2xx non-2xx responses; see $OUT/logs/wrk-$name-round$round.txt"
	fi
	truncate -s 0 "$OUT/events.jsonl"
}

# measure_latency ROUND NAME RATE runs the fixed-rate load generator
# against target NAME and appends one CSV row to $OUT/latency.csv.
measure_latency() {
	local round=$1 name=$2 rate=$3 quiet load1 others
	local -a pids
	read -r -a pids <<<"$(${target_pids[$2]})"
	quiet=$(wait_quiet)
	load1=$(cut -d' ' -f1 /proc/loadavg)
	others=$( (pgrep -x wrk || true) | wc -l)

	local ticks0 client0 usage0 out ticks1 client1 usage1
	ticks0=$(cpu_ticks "${pids[@]}")
	client0=$(core_busy_ticks "$CLIENT_CORE")
	usage0=$(usage_sample)
	out=$("${CLIENT_CPU[@]}" "$OUT/bin/loadgen" -url "${target_url[$name]}" -header "${target_header[$name]}" \
		-rate "$rate" -duration "${LATENCY_DURATION}s" -warmup "${WARMUP}s" -connections "$CONNECTIONS")
	usage1=$(usage_sample)
	client1=$(core_busy_ticks "$CLIENT_CORE")
	ticks1=$(cpu_ticks "${pids[@]}")
	echo "$out" >"$OUT/logs/loadgen-$name-round$round-rate$rate.txt"

	field() { grep -o "\b$1=[^ ]*" <<<"$out" | cut -d= -f2; }
	local cpu_us client_busy foreign
	# The CPU time covers the warm-up too, so it is divided by the requests
	# of both runs.
	cpu_us=$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="$(field sent)" -v r="$rate" -v w="$WARMUP" \
		'BEGIN {n += r * w; printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')
	client_busy=$(busy_percent "$client0" "$client1")
	foreign=$(foreign_percent "$usage0" "$usage1")
	echo "$round,$name,$rate,$(field achieved_rps),$(field p50_ms),$(field p90_ms),$(field p99_ms),$(field p999_ms),$(field max_ms),$(field ok),$(field non2xx),$(field errors),$(field unsent),$(field lag_p99_ms),$cpu_us,$client_busy,$quiet,$foreign,$load1,$others" >>"$OUT/latency.csv"
	log "round $round $name at $rate req/s: p50 $(field p50_ms) ms, p99 $(field p99_ms) ms, p99.9 $(field p999_ms) ms, errors $(field errors), proxy CPU $cpu_us us/req, client core busy $client_busy%, other processes $quiet% before and $foreign% during"
	truncate -s 0 "$OUT/events.jsonl"
}

# profile_target NAME runs wrk against target NAME for $DURATION seconds
# while perf samples the target's processes (user and kernel stacks), and
# writes the flat profile by symbol and the split by binary to
# $OUT/profiles/NAME.txt.
profile_target() {
	local name=$1 data=$OUT/profiles/$1.data report=$OUT/profiles/$1.txt pids
	pids=$(${target_pids[$name]} | xargs | tr ' ' ',')
	"${CLIENT_CPU[@]}" wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -H "${target_header[$name]}" -d "${WARMUP}s" "${target_url[$name]}" >/dev/null
	perf record -q -e cpu-clock -F 999 -g -p "$pids" -o "$data" -- sleep "$DURATION" 2>>"$OUT/logs/perf.log" &
	local perf_pid=$!
	"${CLIENT_CPU[@]}" wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -H "${target_header[$name]}" -d "${DURATION}s" "${target_url[$name]}" >"$OUT/profiles/$name.wrk.txt"
	wait "$perf_pid" || log "warning: perf record for $name failed; see $OUT/logs/perf.log"
	{
		echo "# $name: $(awk '/^Requests\/sec:/ {print $2}' "$OUT/profiles/$name.wrk.txt") req/s under perf"
		echo "## by binary"
		perf report -i "$data" --stdio --no-children --sort dso -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20 || true
		echo "## by symbol, self time"
		perf report -i "$data" --stdio --no-children --sort dso,sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 || true
		echo "## by symbol, with callees"
		perf report -i "$data" --stdio --children --sort sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80 || true
	} >"$report"
	log "profile of $name written to $report"
	truncate -s 0 "$OUT/events.jsonl"
}
