# History-dependent matches: the verdict for 198.51.100.0/24 depends on a
# recent list the client fills itself, so it gets in while it stays off
# the list; 192.0.2.0/24 is decided before it.
set -e
iptables -A INPUT -p tcp --dport 6379 -s 192.0.2.0/24 -j ACCEPT
iptables -A INPUT -p tcp --dport 6379 -s 198.51.100.0/24 -m recent --name scanners --rcheck -j DROP
iptables -A INPUT -p tcp --dport 6379 -s 198.51.100.0/24 -j ACCEPT
iptables -A INPUT -p tcp --dport 6379 -j DROP
