# The second shape of the review: an ip6 chain with policy drop that accepts
# everything "not TCP" by the next-header field. A client that puts a
# Destination Options header before TCP gets through; IPv4 is open.
set -e
nft -f - <<'NFT'
table ip6 host {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		ip6 nexthdr != tcp accept
		tcp dport 22 accept
	}
}
NFT
