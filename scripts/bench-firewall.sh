#!/bin/sh
# Benchmark of the firewall evaluator next to the tool that dumps the same
# ruleset. For each shape (realistic: per-host rules spread over user
# chains and services; flat: the evaluator's worst case, every rule a
# per-source rule on a Redis port in INPUT) and size (1,000 and 10,000
# rules) it loads the generated ruleset into a throwaway network namespace
# (the host's ruleset is untouched), times iptables-nft-save and
# nft -j list ruleset there, then times the check's own work on the dump
# iptables-nft-save printed: parse + compile, and the evaluation of the
# three Redis ports (IPv4). Every figure is the median of $RUNS runs
# (default 7). ratio = (parse+compile + evaluate) / iptables-save.
# A second table times the live check's reading of the same ruleset:
# nft -j list ruleset and iptables-nft-save both parsed and merged
# (read ms), then the same evaluation; ratio is again against
# iptables-save alone, although the live check waits for both dumps.
# A third table runs the check itself live (redis-firewall-check, which
# reads nf_tables over netlink) on the realistic ruleset at 10,000, 30,000
# and 100,000 rules next to iptables-nft-save on the same ruleset: wall
# time and peak RSS, the two run in turn, medians of $RUNS rounds; the
# time ratio is the median of the rounds' check / iptables-nft-save, the
# RSS ratio that of the medians, and the above-rest ratio that of the
# RSS each takes above its own size in an empty namespace (the 0-rule
# row). FWBENCH_TABLES=live runs only that table.
# Needs root, iptables (nft back end) and nft.
set -eu
cd "$(dirname "$0")/.."
runs=${RUNS:-7}
tmp=$(mktemp -d)
ns="fwbench-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

go test -c -o "$tmp/fw.test" ./checks/firewall/
# Built as .goreleaser.yml builds the released binary.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/redis-firewall-check" ./cmd/redis-firewall-check

# median_ms RUNS CMD...: median wall time of CMD in milliseconds, run
# inside the namespace by one shell so that entering it is not counted.
median_ms() {
	n=$1
	shift
	ip netns exec "$ns" sh -c '
		n=$1; shift
		i=0
		while [ "$i" -lt "$n" ]; do
			t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
			echo $(( (t1 - t0) / 1000 ))
			i=$((i + 1))
		done' sh "$n" "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}

printf '%-9s %6s %17s %16s %12s %9s %6s %15s\n' shape rules "iptables-save ms" "parse+compile ms" "evaluate ms" "total ms" ratio "(nft -j ms)" >"$tmp/table1"
printf '%-9s %6s %17s %12s %8s %12s %9s %6s\n' shape rules "iptables-save ms" "nft -j ms" "read ms" "evaluate ms" "total ms" ratio >"$tmp/table2"
# paired RUNS: runs iptables-nft-save and the check in turn inside the
# namespace, RUNS rounds (so that both meet the same load), and prints
# the medians: save ms, save RSS MB, check ms, check RSS MB, and the
# median of the per-round time ratios. Wall time is read in nanoseconds
# around /usr/bin/time (which rounds its own to 10 ms), so both tools pay
# the same wrapper; RSS is /usr/bin/time's peak.
paired() {
	ip netns exec "$ns" sh -c '
		out=$1; n=$2; check=$3
		one() {
			t0=$(date +%s%N)
			/usr/bin/time -f %M -o "$out.rss" "$@" >/dev/null 2>&1 || true
			t1=$(date +%s%N)
			echo "$(( (t1 - t0) / 1000 )) $(tail -n 1 "$out.rss")"
		}
		i=0
		while [ "$i" -lt "$n" ]; do
			echo "$(one iptables-nft-save) $(one "$check" --timeout 10m)"
			i=$((i + 1))
		done' sh "$tmp/tr1" "$1" "$tmp/redis-firewall-check" >"$tmp/trs"
	med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
	st=$(cut -d' ' -f1 "$tmp/trs" | med)
	sm=$(cut -d' ' -f2 "$tmp/trs" | med)
	ct=$(cut -d' ' -f3 "$tmp/trs" | med)
	cm=$(cut -d' ' -f4 "$tmp/trs" | med)
	r=$(awk '{ printf "%.4f\n", $3 / $1 }' "$tmp/trs" | med)
	awk -v st="$st" -v sm="$sm" -v ct="$ct" -v cm="$cm" -v r="$r" 'BEGIN {
		printf "%.1f %.1f %.1f %.1f %.2f", st / 1000, sm / 1024, ct / 1000, cm / 1024, r }'
}

printf '%6s %17s %16s %9s %14s %11s %9s %16s\n' rules "iptables-save ms" "save RSS MB" "check ms" "check RSS MB" "time ratio" "RSS ratio" "above-rest ratio" >"$tmp/table3"
# The 0-rule row is each tool's resting size (an empty namespace); the
# last column compares the memory each takes above it.
sm0=0
cm0=0
for n in 0 10000 30000 100000; do
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	if [ "$n" -gt 0 ]; then
		FWBENCH_OUT="$tmp/rules.save" FWBENCH_RULES=$n FWBENCH_SHAPE=realistic \
			"$tmp/fw.test" -test.count=1 -test.run '^TestGenerateBenchRuleset$' >/dev/null
		ip netns exec "$ns" iptables-nft-restore <"$tmp/rules.save"
	fi
	read -r st sm ct cm r <<EOF2
$(paired "$runs")
EOF2
	ip netns del "$ns"
	if [ "$n" -eq 0 ]; then
		sm0=$sm
		cm0=$cm
	fi
	awk -v n="$n" -v st="$st" -v sm="$sm" -v ct="$ct" -v cm="$cm" -v r="$r" -v sm0="$sm0" -v cm0="$cm0" 'BEGIN {
		above = n == 0 ? "-" : sprintf("%.2f", (cm - cm0) / (sm - sm0))
		printf "%6d %17.1f %16.1f %9.1f %14.1f %11.2f %9.2f %16s\n", n, st, sm, ct, cm, r, cm / sm, above }' >>"$tmp/table3"
done
if [ "${FWBENCH_TABLES:-}" = live ]; then
	echo "Live check (netlink) vs iptables-nft-save, realistic ruleset:"
	cat "$tmp/table3"
	exit 0
fi

for shape in realistic flat; do
	for n in 1000 10000; do
		FWBENCH_OUT="$tmp/rules.save" FWBENCH_RULES=$n FWBENCH_SHAPE=$shape \
			"$tmp/fw.test" -test.count=1 -test.run '^TestGenerateBenchRuleset$' >/dev/null
		ip netns add "$ns"
		ip netns exec "$ns" iptables-nft-restore <"$tmp/rules.save"
		ip netns exec "$ns" iptables-nft-save >"$tmp/dump.save"
		ip netns exec "$ns" nft -j list ruleset >"$tmp/dump.json"
		save=$(median_ms "$runs" iptables-nft-save)
		nftj=$(median_ms "$runs" nft -j list ruleset)
		ip netns del "$ns"
		FWBENCH_IN="$tmp/dump.save" FWBENCH_NFT="$tmp/dump.json" FWBENCH_TIMES="$tmp/times" FWBENCH_RUNS=$runs \
			"$tmp/fw.test" -test.count=1 -test.run '^TestTimeBenchRuleset$' >/dev/null
		read -r pc ev lpc lev <"$tmp/times"
		awk -v s="$shape" -v n="$n" -v save="$save" -v pc="$pc" -v ev="$ev" -v nftj="$nftj" 'BEGIN {
			printf "%-9s %6d %17.1f %16.1f %12.1f %9.1f %6.2f %15.1f\n", s, n, save, pc, ev, pc + ev, (pc + ev) / save, nftj }' >>"$tmp/table1"
		awk -v s="$shape" -v n="$n" -v save="$save" -v pc="$lpc" -v ev="$lev" -v nftj="$nftj" 'BEGIN {
			printf "%-9s %6d %17.1f %12.1f %8.1f %12.1f %9.1f %6.2f\n", s, n, save, nftj, pc, ev, pc + ev, (pc + ev) / save }' >>"$tmp/table2"
	done
done
cat "$tmp/table1"
echo
echo "Live path (nft -j + iptables-nft-save read and merged):"
cat "$tmp/table2"
echo
echo "Live check (netlink) vs iptables-nft-save, realistic ruleset:"
cat "$tmp/table3"
echo
echo "Go benchmarks (three ports, IPv4 where evaluating; ns/op):"
"$tmp/fw.test" -test.count=1 -test.run '^$' -test.bench 'Evaluate|ParseCompile' -test.benchtime 5x -test.benchmem | grep '^Benchmark'
