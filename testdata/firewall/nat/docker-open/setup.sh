# The rules dockerd 28 writes with iptables-nft for one container
# (203.0.113.130 on bridge docker0, 203.0.113.128/26) publishing -p 6379:6379
# and -p 7000:26379, behind a host INPUT policy that lets only 192.0.2.2
# reach 6379: the user believes Redis is protected.
set -e
sysctl -q -w net.ipv4.ip_forward=1
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -s 192.0.2.2/32 -p tcp -m tcp --dport 6379 -j ACCEPT
ip6tables -P INPUT DROP
ip6tables -A INPUT -i lo -j ACCEPT
ip6tables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
# dockerd: nat
iptables -t nat -N DOCKER
iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
iptables -t nat -A POSTROUTING -s 203.0.113.128/26 ! -o docker0 -j MASQUERADE
iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 6379 -j DNAT --to-destination 203.0.113.130:6379
iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 7000 -j DNAT --to-destination 203.0.113.130:26379
# dockerd: raw (direct routing to the container address from outside)
iptables -t raw -A PREROUTING -d 203.0.113.130/32 ! -i docker0 -j DROP
# dockerd: filter
iptables -P FORWARD DROP
iptables -N DOCKER-USER
iptables -N DOCKER-FORWARD
iptables -N DOCKER
iptables -N DOCKER-BRIDGE
iptables -N DOCKER-CT
iptables -N DOCKER-ISOLATION-STAGE-1
iptables -N DOCKER-ISOLATION-STAGE-2
iptables -A FORWARD -j DOCKER-USER
iptables -A FORWARD -j DOCKER-FORWARD
iptables -A DOCKER -d 203.0.113.130/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 6379 -j ACCEPT
iptables -A DOCKER -d 203.0.113.130/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 26379 -j ACCEPT
iptables -A DOCKER ! -i docker0 -o docker0 -j DROP
iptables -A DOCKER-BRIDGE -o docker0 -j DOCKER
iptables -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A DOCKER-FORWARD -j DOCKER-CT
iptables -A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1
iptables -A DOCKER-FORWARD -j DOCKER-BRIDGE
iptables -A DOCKER-FORWARD -i docker0 -j ACCEPT
iptables -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN
iptables -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN
iptables -A DOCKER-USER -j RETURN
