# The rules dockerd 28 writes with iptables-nft for one container
# (203.0.113.130 on bridge docker0, 203.0.113.128/26) publishing -p 6379:6379
# and -p 7000:26379, with the DOCKER-USER restriction Docker documents: 6379
# only from 192.0.2.0/25 (matched on the original port); 7000 stays open.
set -e
# The daemon writes the same rules as for docker-open; the user inserts the
# restriction at the top of DOCKER-USER, as Docker documents.
. "$(dirname "$0")/../docker-open/setup.sh"
iptables -I DOCKER-USER 1 ! -s 192.0.2.0/25 -p tcp -m conntrack --ctorigdstport 6379 --ctdir ORIGINAL -j DROP
