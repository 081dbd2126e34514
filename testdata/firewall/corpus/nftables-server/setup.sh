# A hand-written nftables server ruleset in the style of the nftables wiki
# and distribution guides: defines, named interval sets, a verdict map of
# services, a raw-table notrack for DNS, per-source meters (a rate limit
# on SSH, a connection count on Redis) and an SSH time window, loaded
# with nft -f.
set -e
nft -f - <<'NFT'
define ADMIN_NETS = { 192.0.2.0/26, 198.51.100.0/24 }
define APP_NETS6 = { 2001:db8:10::/48 }

flush ruleset

table inet raw {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		udp dport 53 notrack
	}
	chain output {
		type filter hook output priority raw; policy accept;
		udp sport 53 notrack
	}
}

table inet filter {
	set admin4 {
		type ipv4_addr
		flags interval
		elements = $ADMIN_NETS
	}
	set app6 {
		type ipv6_addr
		flags interval
		elements = $APP_NETS6
	}
	set blocklist4 {
		type ipv4_addr
		flags interval
		auto-merge
		elements = { 192.0.2.32/27, 203.0.113.0/24 }
	}
	set ssh_meter4 {
		type ipv4_addr
		size 65535
		flags dynamic,timeout
		timeout 1m
	}
	set redis_conn4 {
		type ipv4_addr
		size 65535
		flags dynamic
	}
	map services {
		type inet_service : verdict
		elements = { 22 : jump ssh, 6379 : jump redis, 16379 : jump redis, 26379 : drop }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state vmap { established : accept, related : accept, invalid : drop, untracked : accept }
		iif lo accept
		meta l4proto { icmp, ipv6-icmp } accept
		ip saddr @blocklist4 drop
		tcp dport vmap @services
		udp dport 53 accept
	}
	chain ssh {
		ct state new add @ssh_meter4 { ip saddr limit rate over 10/minute } drop
		meta nfproto ipv6 meta hour != "07:00"-"19:00" drop
		accept
	}
	chain redis {
		ip saddr @admin4 add @redis_conn4 { ip saddr ct count over 64 } reject with tcp reset
		ip saddr @admin4 accept
		ip6 saddr @app6 accept
		reject with tcp reset
	}
}
NFT
