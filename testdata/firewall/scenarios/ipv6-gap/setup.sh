# The classic recipe: deny 6379, allow one host, IPv4 only.
set -e
iptables -A INPUT -p tcp -s 192.0.2.2 -d 192.0.2.1 --dport 6379 -j ACCEPT
iptables -A INPUT -p tcp --dport 6379 -j DROP
