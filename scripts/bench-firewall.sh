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
# Needs root, iptables (nft back end) and nft.
set -eu
cd "$(dirname "$0")/.."
runs=${RUNS:-7}
tmp=$(mktemp -d)
ns="fwbench-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

go test -c -o "$tmp/fw.test" ./checks/firewall/

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
echo "Go benchmarks (three ports, IPv4 where evaluating; ns/op):"
"$tmp/fw.test" -test.count=1 -test.run '^$' -test.bench 'Evaluate|ParseCompile' -test.benchtime 5x -test.benchmem | grep '^Benchmark'
