#!/bin/sh
# Benchmark of the firewall evaluator next to the tools that dump the
# same ruleset: generates rulesets of 1,000 and 10,000 rules, loads each
# into a throwaway network namespace (the host's ruleset is untouched),
# times iptables-save and nft -j list ruleset there, then runs the Go
# benchmarks that evaluate the three Redis ports on the same rulesets.
# Needs root, iptables (nft back end) and nft.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
ns="fwbench-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

ms() { echo "$(( ($2 - $1) / 1000000 ))"; }

echo "ruleset  load(ms)  iptables-save(ms)  nft -j list ruleset(ms)"
for n in 1000 10000; do
	FWBENCH_OUT="$tmp/rules-$n.save" FWBENCH_RULES=$n \
		go test -count=1 -run '^TestGenerateBenchRuleset$' ./checks/firewall/ >/dev/null
	ip netns add "$ns"
	t0=$(date +%s%N)
	ip netns exec "$ns" iptables-nft-restore < "$tmp/rules-$n.save"
	t1=$(date +%s%N)
	ip netns exec "$ns" iptables-nft-save > "$tmp/out.save"
	t2=$(date +%s%N)
	ip netns exec "$ns" nft -j list ruleset > "$tmp/out.json"
	t3=$(date +%s%N)
	ip netns del "$ns"
	printf "%-8s %-9s %-18s %s\n" "$n" "$(ms "$t0" "$t1")" "$(ms "$t1" "$t2")" "$(ms "$t2" "$t3")"
done
echo
echo "Go benchmarks (three ports, IPv4; ns/op):"
go test -count=1 -run '^$' -bench 'Evaluate|ParseCompile' -benchtime 5x ./checks/firewall/ | grep '^Benchmark'
