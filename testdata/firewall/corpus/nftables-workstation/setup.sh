# nftables as Debian ships it: the packaged workstation example
# (/usr/share/doc/nftables/examples/workstation.nft) with its "common local
# services" line switched on and one line added for Redis from the
# application network, loaded with nft -f.
set -e
sed -e 's/^\t\t#tcp dport { 22, 80, 443 } ct state new accept/\t\ttcp dport { 22, 80, 443 } ct state new accept\n\t\tip saddr 192.0.2.0\/24 tcp dport 6379 ct state new accept/' \
	/usr/share/doc/nftables/examples/workstation.nft | nft -f -
