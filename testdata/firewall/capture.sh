#!/bin/sh
# Capture the dumps of a scenario from the real tools, inside a throwaway
# network namespace (the host's ruleset is never touched).
#   testdata/firewall/capture.sh SCENARIO...
# Needs root, nft, iptables (nft and legacy), ipset.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for name in "$@"; do
	dir="$here/scenarios/$name"
	ns="fwcapture-$$"
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null || true' EXIT INT TERM
	ip netns exec "$ns" sh "$dir/setup.sh"
	ip netns exec "$ns" nft -j list ruleset > "$dir/nft.json"
	ip netns exec "$ns" iptables-nft-save | sed '/^#/d' > "$dir/iptables-nft.save"
	ip netns exec "$ns" ip6tables-nft-save | sed '/^#/d' > "$dir/ip6tables-nft.save"
	ip netns exec "$ns" cat /proc/net/ip_tables_names > "$dir/legacy-tables4.txt"
	ip netns exec "$ns" cat /proc/net/ip6_tables_names > "$dir/legacy-tables6.txt"
	ip netns exec "$ns" iptables-legacy-save | sed '/^#/d' > "$dir/iptables-legacy.save"
	ip netns exec "$ns" ip6tables-legacy-save | sed '/^#/d' > "$dir/ip6tables-legacy.save"
	ip netns exec "$ns" ipset save > "$dir/ipset.save"
	ip netns del "$ns"
	trap - EXIT INT TERM
	echo "captured $name"
done
