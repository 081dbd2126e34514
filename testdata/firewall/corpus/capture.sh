#!/bin/sh
# Capture the corpus of realistic rulesets: each NAME/setup.sh runs inside a
# throwaway network namespace (with its own /etc/ufw and /etc/default, so
# ufw never touches the host's) and generates its ruleset with the tool
# that writes it; the dumps the check reads offline are saved next to it.
#   testdata/firewall/corpus/capture.sh [NAME...]   (all when none given)
# Needs root, nft, iptables (nft and legacy), ipset, ufw, firewalld. ferm
# and Shorewall are fetched from Debian's archive and unpacked into a
# temporary directory (never installed: their packages would load their
# rulesets into the host at boot).
# CI does not run this; it reads the saved dumps.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- $(cd "$here" && ls -d */ | tr -d /)

tools=$(mktemp -d)
ns="fwcorpus-$$"
pids="$tools/pids"
stop() {
	# Daemons a setup started (firewalld and its bus), by their pid.
	[ -f "$pids" ] || return 0
	while read -r p; do kill "$p" 2>/dev/null || true; done < "$pids"
	sleep 1
	[ -f "$pids.dirs" ] && xargs rm -rf < "$pids.dirs"
	rm -f "$pids" "$pids.dirs"
}
cleanup() {
	stop
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "/etc/netns/$ns" "$tools"
}
trap cleanup EXIT INT TERM

# ferm: the Debian package's script, unpacked (apt-get waits for the lock).
(cd "$tools" && apt-get -o DPkg::Lock::Timeout=300 download ferm >/dev/null && dpkg -x ferm_*.deb root)
export FERM="$tools/root/usr/sbin/ferm"
# Shorewall likewise; its scripts name /usr/share/shorewall: point them here.
(cd "$tools" && apt-get -o DPkg::Lock::Timeout=300 download shorewall shorewall-core shorewall6 >/dev/null &&
	for d in shorewall*.deb; do dpkg -x "$d" root; done)
export CORPUS_SW="$tools/root"
grep -rl /usr/share/shorewall "$CORPUS_SW/usr/share/shorewall" "$CORPUS_SW/usr/share/shorewall6" |
	xargs sed -i "s|/usr/share/shorewall|$CORPUS_SW/usr/share/shorewall|g"
sed -i "s|^PREFIX=/usr|PREFIX=$CORPUS_SW/usr|; s|^CONFDIR=/etc|CONFDIR=$CORPUS_SW/etc|; s|^VARLIB=/var/lib|VARLIB=$tools/var|" \
	"$CORPUS_SW/usr/share/shorewall/shorewallrc"

for name in "$@"; do
	dir="$here/$name"
	[ -f "$dir/setup.sh" ] || { echo "capture: $name: no setup.sh" >&2; exit 2; }
	ip netns add "$ns"
	mkdir -p "/etc/netns/$ns"
	cp -a /etc/ufw /etc/default /etc/firewalld "/etc/netns/$ns/"
	ip netns exec "$ns" ip link set lo up
	(cd "$dir" && CORPUS_PIDS="$pids" ip netns exec "$ns" sh ./setup.sh)
	x() { ip netns exec "$ns" "$@"; }
	x nft -j list ruleset > "$dir/nft.json"
	x nft --debug=netlink list ruleset > "$dir/nft-netlink.txt"
	x iptables-nft-save | sed '/^#/d' > "$dir/iptables-nft.save"
	x ip6tables-nft-save | sed '/^#/d' > "$dir/ip6tables-nft.save"
	x iptables-legacy-save | sed '/^#/d' > "$dir/iptables-legacy.save"
	x ip6tables-legacy-save | sed '/^#/d' > "$dir/ip6tables-legacy.save"
	x cat /proc/net/ip_tables_names > "$dir/legacy-tables4.txt"
	x cat /proc/net/ip6_tables_names > "$dir/legacy-tables6.txt"
	x ipset save > "$dir/ipset.save"
	x sh -c 'ip -4 -j route show table all; ip -6 -j route show table all' > "$dir/routes.json"
	stop
	ip netns del "$ns"
	rm -rf "/etc/netns/$ns"
	echo "captured $name"
done
