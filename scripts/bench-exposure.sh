#!/usr/bin/env bash
# Whole-process comparison of redis-exposure-check with `nmap -sT -Pn` on
# the same black-holed /24 (203.0.113.0/24, three Redis ports, 1s timeout),
# both run inside a namespace whose router drops everything to that block.
# No packet leaves the two namespaces this script creates; both are removed
# on every exit path. Needs root, nmap and hyperfine (scripts/setup).
#
#   sudo scripts/bench-exposure.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
for tool in nmap hyperfine ip iptables go; do
  command -v "$tool" >/dev/null || { echo "$tool missing; run scripts/setup" >&2; exit 1; }
done

sfx=$(printf '%04x%04x' $$ $RANDOM)
client=bx$sfx-client router=bx$sfx-router
work=$(mktemp -d)
cleanup() {
  ip netns del "$client" 2>/dev/null || true
  ip netns del "$router" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

CGO_ENABLED=0 go build -o "$work/redis-exposure-check" ./cmd/redis-exposure-check

ip netns add "$client"
ip netns add "$router"
ip -n "$client" link set lo up
ip -n "$router" link set lo up
ip -n "$client" link add eth0 type veth peer name eth0 netns "$router"
ip -n "$client" addr add 192.0.2.10/24 dev eth0
ip -n "$router" addr add 192.0.2.1/24 dev eth0
ip -n "$client" link set eth0 up
ip -n "$router" link set eth0 up
ip -n "$client" route add default via 192.0.2.1
ip netns exec "$router" sysctl -q -w net.ipv4.ip_forward=1
# A route makes the block forwardable; the DROP discards it before any
# neighbour lookup: a black hole.
ip -n "$router" route add 203.0.113.0/24 dev eth0
ip netns exec "$router" iptables -A FORWARD -d 203.0.113.0/24 -j DROP

check="ip netns exec $client $work/redis-exposure-check --target 203.0.113.0/24 --attempt-timeout 1s --timeout 30s"
nmap="ip netns exec $client nmap -sT -Pn -n -p 6379,16379,26379 --max-retries 0 --initial-rtt-timeout 1000ms --max-rtt-timeout 1000ms 203.0.113.0/24"

echo "== one run of each"
$check || true
$nmap | tail -1

# nmap's defaults grow parallelism slowly; the tuned run gives it the
# check's parallelism so the comparison is about more than defaults.
nmapfast="$nmap --min-parallelism 768 --min-hostgroup 256"
hyperfine --runs "$runs" -i --export-markdown "$work/bench.md" --export-json "$work/bench.json" \
  -n redis-exposure-check "$check" -n "nmap -sT -Pn" "$nmap" -n "nmap -sT -Pn (parallelism 768)" "$nmapfast"
cat "$work/bench.md"
echo "medians (s):"
grep -o '"command": "[^"]*"\|"median": [0-9.]*' "$work/bench.json" | paste - - | sed 's/"command": //; s/"median": //'

