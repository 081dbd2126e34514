# iptables-legacy only: drop 6379 from outside 192.0.2.0/24 through a user
# chain with goto and return; IPv6 left open.
set -e
iptables-legacy -N CHECK
iptables-legacy -N OUTSIDE
iptables-legacy -A INPUT -p tcp --dport 6379 -j CHECK
iptables-legacy -A CHECK -s 192.0.2.0/24 -j RETURN
iptables-legacy -A CHECK -g OUTSIDE
iptables-legacy -A OUTSIDE -s 198.51.100.0/24 -j RETURN
iptables-legacy -A OUTSIDE -j DROP
iptables-legacy -A INPUT -p tcp --dport 6379 -s 198.51.100.0/24 -j DROP
ip6tables-legacy -A INPUT -p tcp --dport 16379 -j DROP
