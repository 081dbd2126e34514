# iptables-nft: policy drop plus allow-list, an ipset with a nomatch hole,
# reject versus drop, IPv6 restricted to one /64.
set -e
ipset create trusted hash:net
ipset add trusted 198.51.100.0/24
ipset add trusted 198.51.100.128/25 nomatch
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -m limit --limit 5/min -j LOG --log-prefix "in: "
iptables -A INPUT -s 192.0.2.0/25 -p tcp -m tcp --dport 6379 -m conntrack --ctstate NEW -j ACCEPT
iptables -N REDIS
iptables -A INPUT -p tcp -m multiport --dports 16379,26379 -j REDIS
iptables -A REDIS -m set --match-set trusted src -j ACCEPT
iptables -A REDIS -s 203.0.113.0/24 -p tcp -j REJECT --reject-with tcp-reset
iptables -A REDIS -m comment --comment "-- end of REDIS" -j RETURN
ip6tables -P INPUT DROP
ip6tables -A INPUT -i lo -j ACCEPT
ip6tables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
# Without ICMPv6 neighbour discovery the SYN-ACK could never be sent.
ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
ip6tables -A INPUT -s 2001:db8::/64 -p tcp -m multiport --dports 6379,16379,26379 -j ACCEPT
