# Three back ends at once: iptables-legacy, iptables-nft and native nft.
# Every base chain runs; accept in one does not bypass the others.
set -e
iptables-legacy -A INPUT -p tcp --dport 6379 -s 198.51.100.0/24 -j DROP
iptables-nft -A INPUT -i lo -j ACCEPT
iptables-nft -A INPUT -p tcp --dport 6379 -s 192.0.2.0/24 -j ACCEPT
iptables-nft -A INPUT -p tcp --dport 6379 -j DROP
nft add table inet extra
nft add chain inet extra input '{ type filter hook input priority -10; policy accept; }'
nft add rule inet extra input ip saddr 192.0.2.200 tcp dport 6379 drop
nft add rule inet extra input ip saddr 198.51.100.0/24 tcp dport 16379 drop
