#!/usr/bin/env bash
# Prints the Markdown report of a bench/run.sh result directory: medians
# over rounds, ratios computed per round and then their median, and the
# targets they are held against.
#
# Usage: bench/report.sh DIR
set -euo pipefail

dir=${1:?usage: bench/report.sh DIR (a BENCH_OUT directory of bench/run.sh)}
[[ -f $dir/throughput.csv ]] || {
	echo "report: $dir/throughput.csv not found; run bench/run.sh first" >&2
	exit 1
}

# The median and, for ratios, the per-round values are computed by awk
# functions shared by every table.
read -r -d '' awk_lib <<'EOF' || true
function median(list,    v, n, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	if (n == 0) return ""
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function range(list,    v, n, i, lo, hi) {
	n = split(list, v, " "); lo = hi = v[1] + 0
	for (i = 2; i <= n; i++) { if (v[i] + 0 < lo) lo = v[i] + 0; if (v[i] + 0 > hi) hi = v[i] + 0 }
	return sprintf(fmt, lo) "–" sprintf(fmt, hi)
}
EOF

# Targets are listed in this order, whatever order the rounds ran them in.
canonical="direct nginx bareproxy warden warden-no-events warden-key warden-key-ratelimit warden-jwt-es256 warden-jwt-rs256"

echo "## Machine and run"
echo
sed 's/^/    /' "$dir/machine.txt"
echo

echo "## Throughput (wrk, closed loop; medians over rounds)"
echo
awk -F, -v canonical="$canonical" "$awk_lib"'
NR == 1 { next }
{
	t = $2; seen[t] = 1
	rps[t] = rps[t] " " $3; p50[t] = p50[t] " " $4; p99[t] = p99[t] " " $5
	cpu[t] = cpu[t] " " $9; proxy[t] = proxy[t] " " $10; client[t] = client[t] " " $11
	other[t] = other[t] " " $15; req[t] += $6; err[t] += $7 + $8; ev[t] += $12; drop[t] += $13
}
END {
	print "| target | req/s | p50 ms | p99 ms | proxy CPU µs/req | proxy core busy % | client core busy % | other processes % | events/request | events dropped | errors |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	n = split(canonical, order, " ")
	for (i = 1; i <= n; i++) {
		t = order[i]
		if (!(t in seen)) continue
		evr = ev[t] > 0 ? sprintf("%.2f", ev[t] / req[t]) : "–"
		printf "| %s | %.0f | %.3f | %.3f | %.1f | %.0f | %.0f | %.0f | %s | %d | %d |\n", t, median(rps[t]), median(p50[t]), median(p99[t]), median(cpu[t]), median(proxy[t]), median(client[t]), median(other[t]), evr, drop[t], err[t]
	}
}' "$dir/throughput.csv"
echo
echo "Core 0 runs the proxy under test; core 1 runs wrk and the upstream. A proxy core below about"
echo "95 % busy while the client core is at 100 % means the client, not the proxy, set the throughput."
echo "\"Other processes\" is the CPU time, in percent of one core, that processes this run did not"
echo "start used during the measurement. Events are counted on the Warden process that writes them"
echo "to a file; warden-key, warden-key-ratelimit and the JWT targets run on that process too."
echo

echo "## Ratios (per round, then the median over rounds)"
echo
awk -F, -v fmt="%.2f" "$awk_lib"'
NR == 1 { next }
{ rps[$1, $2] = $3; cpu[$1, $2] = $9; if ($1 > rounds) rounds = $1 }
function row(name, num, den, goal, cmp,    r, list, clist, m) {
	list = ""; clist = ""
	for (r = 1; r <= rounds; r++) {
		if (!((r, num) in rps) || !((r, den) in rps)) continue
		list = list " " rps[r, num] / rps[r, den]
		if (cpu[r, num] > 0) clist = clist " " cpu[r, den] / cpu[r, num]
	}
	if (list == "") return
	m = median(list)
	verdict = goal == "" ? "" : (cmp == ">=" ? (m >= goal ? "met" : "missed") : (m > goal ? "met" : "missed"))
	printf "| %s | %.2f | %s | %s | %s %s |\n", name, m, range(list), clist == "" ? "–" : sprintf("%.2f", median(clist)), goal == "" ? "–" : cmp " " goal, verdict
}
END {
	print "| ratio | median | range over rounds | from CPU per request | target |"
	print "|---|---:|---:|---:|---|"
	row("warden / nginx", "warden", "nginx", 0.8, ">=")
	row("warden / bareproxy", "warden", "bareproxy", 2, ">")
	row("bareproxy / nginx", "bareproxy", "nginx")
	row("warden-no-events / warden", "warden-no-events", "warden")
	row("warden-key / warden", "warden-key", "warden", 0.93, ">=")
	row("warden-key-ratelimit / warden", "warden-key-ratelimit", "warden", 0.9, ">=")
	row("warden-jwt-es256 / warden", "warden-jwt-es256", "warden")
	row("warden-jwt-rs256 / warden", "warden-jwt-rs256", "warden")
}' "$dir/throughput.csv"
echo
echo "\"From CPU per request\" is the inverse ratio of the proxy's CPU time per request: the"
echo "throughput ratio expected if both proxies could use all of core 0."
echo

[[ -f $dir/latency.csv ]] || exit 0
echo "## Latency at fixed rates (bench/cmd/loadgen, open loop; medians over rounds)"
echo
awk -F, -v fmt="%.3f" -v canonical="$canonical" "$awk_lib"'
NR == 1 { next }
{
	k = $3 SUBSEP $2
	if (!($3 in seenrate)) { seenrate[$3] = 1; rates[++nr] = $3 }
	ach[k] = ach[k] " " $4; p50[k] = p50[k] " " $5; p90[k] = p90[k] " " $6
	p99[k] = p99[k] " " $7; p999[k] = p999[k] " " $8; lag[k] = lag[k] " " $14
	cpu[k] = cpu[k] " " $15; client[k] = client[k] " " $16; other[k] = other[k] " " $18
	err[k] += $11 + $12 + $13; r99[$1, k] = $7; if ($1 > rounds) rounds = $1
}
function added(rate, num, den,    r, list) {
	list = ""
	for (r = 1; r <= rounds; r++)
		if (((r, rate SUBSEP num) in r99) && ((r, rate SUBSEP den) in r99))
			list = list " " r99[r, rate SUBSEP num] - r99[r, rate SUBSEP den]
	return list
}
END {
	n = split(canonical, order, " ")
	for (j = 1; j <= nr; j++) {
		rate = rates[j]
		printf "### %d requests per second\n\n", rate
		print "| target | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | proxy CPU µs/req | client core busy % | pacer lag p99 ms | other processes % | errors |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= n; i++) {
			k = rate SUBSEP order[i]
			if (!(k in ach)) continue
			printf "| %s | %.0f | %.3f | %.3f | %.3f | %.3f | %.1f | %.0f | %.3f | %.0f | %d |\n", order[i], median(ach[k]), median(p50[k]), median(p90[k]), median(p99[k]), median(p999[k]), median(cpu[k]), median(client[k]), median(lag[k]), median(other[k]), err[k]
		}
		print ""
		print "| added p99 (per round, then median) | median ms | range ms | target |"
		print "|---|---:|---:|---|"
		split("warden nginx|warden direct|nginx direct", pairs, "|")
		for (i = 1; i <= 3; i++) {
			split(pairs[i], p, " "); l = added(rate, p[1], p[2])
			if (l == "") continue
			goal = p[1] == "warden" ? (median(l) <= 0.5 ? "<= 0.5 ms met" : "<= 0.5 ms missed") : "–"
			printf "| %s − %s | %.3f | %s | %s |\n", p[1], p[2], median(l), range(l), goal
		}
		print ""
	}
}' "$dir/latency.csv"
