# The first shape of the review: rules meant to drop new connections, in a
# policy-accept chain. 6379 and 16379 drop only some SYN spellings (a client
# with ECN sends SYN|ECE|CWR and gets through); 26379's mask spelling drops
# every SYN a listening socket answers.
set -e
nft -f - <<'NFT'
table inet host {
	chain input {
		type filter hook input priority filter; policy accept;
		iif "lo" accept
		ct state established,related accept
		tcp dport 6379 tcp flags == syn drop
		tcp dport 16379 tcp flags & (syn | ack | ecn) == syn drop
		tcp dport 26379 tcp flags & (fin | syn | rst | ack) == syn drop
	}
}
NFT
