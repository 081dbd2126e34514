# Native nft: named interval sets, a verdict map, a mark set in
# prerouting and matched in input, reject, and a second input chain at a
# later priority.
set -e
nft -f - <<'NFT'
table inet redis {
	set trusted4 {
		type ipv4_addr
		flags interval
		elements = { 192.0.2.0/26, 203.0.113.9 }
	}
	set trusted6 {
		type ipv6_addr
		flags interval
		elements = { 2001:db8::/64 }
	}
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip saddr 198.51.100.7 meta mark set 0x2a
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iif "lo" accept
		ct state established,related accept
		tcp dport vmap { 6379 : jump redis, 16379 : jump redis, 26379 : drop }
	}
	chain redis {
		meta mark 0x2a accept
		ip saddr @trusted4 accept
		ip6 saddr @trusted6 accept
		meta l4proto tcp reject with tcp reset
	}
}
table ip late {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 6379 ip saddr 192.0.2.10 drop
	}
}
NFT
