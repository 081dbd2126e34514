# OpenWrt's fw3 is not packaged for Debian: its output for the default
# configuration (lan br-lan: input ACCEPT; wan eth1: input REJECT, the
# Allow-DHCP-Renew, Allow-Ping, Allow-IGMP rules; syn_flood protection on)
# is written here as fw3 writes it (fw3 loads it with iptables-restore), with
# the interfaces it names. Ported to Redis: a rule opening 6379 on wan to one
# monitoring host, as a user adds it in /etc/config/firewall.
set -e
ip link add br-lan type bridge
ip link add eth1 type veth peer name wan-peer
ip addr add 192.0.2.1/24 dev br-lan
ip addr add 198.51.100.2/24 dev eth1
ip -6 addr add 2001:db8::1/64 dev br-lan nodad
ip -6 addr add 2001:db8:1::2/64 dev eth1 nodad
ip link set br-lan up
ip link set eth1 up
for v in 4 6; do
	if [ $v = 4 ]; then restore=iptables-restore; else restore=ip6tables-restore; fi
	$restore <<EOF2
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:delegate_postrouting - [0:0]
:delegate_prerouting - [0:0]
:postrouting_lan_rule - [0:0]
:postrouting_rule - [0:0]
:postrouting_wan_rule - [0:0]
:prerouting_lan_rule - [0:0]
:prerouting_rule - [0:0]
:prerouting_wan_rule - [0:0]
:zone_lan_postrouting - [0:0]
:zone_lan_prerouting - [0:0]
:zone_wan_postrouting - [0:0]
:zone_wan_prerouting - [0:0]
-A PREROUTING -m comment --comment "!fw3" -j delegate_prerouting
-A POSTROUTING -m comment --comment "!fw3" -j delegate_postrouting
-A delegate_postrouting -m comment --comment "!fw3: Custom postrouting rule chain" -j postrouting_rule
-A delegate_postrouting -o br-lan -m comment --comment "!fw3" -j zone_lan_postrouting
-A delegate_postrouting -o eth1 -m comment --comment "!fw3" -j zone_wan_postrouting
-A delegate_prerouting -m comment --comment "!fw3: Custom prerouting rule chain" -j prerouting_rule
-A delegate_prerouting -i br-lan -m comment --comment "!fw3" -j zone_lan_prerouting
-A delegate_prerouting -i eth1 -m comment --comment "!fw3" -j zone_wan_prerouting
-A zone_lan_postrouting -m comment --comment "!fw3: Custom lan postrouting rule chain" -j postrouting_lan_rule
-A zone_lan_prerouting -m comment --comment "!fw3: Custom lan prerouting rule chain" -j prerouting_lan_rule
-A zone_wan_postrouting -m comment --comment "!fw3: Custom wan postrouting rule chain" -j postrouting_wan_rule
$( [ $v = 4 ] && echo '-A zone_wan_postrouting -m comment --comment "!fw3" -j MASQUERADE' )
-A zone_wan_prerouting -m comment --comment "!fw3: Custom wan prerouting rule chain" -j prerouting_wan_rule
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A FORWARD -o eth1 -p tcp -m tcp --tcp-flags SYN,RST SYN -m comment --comment "!fw3: Zone wan MTU fixing" -j TCPMSS --clamp-mss-to-pmtu
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:delegate_forward - [0:0]
:delegate_input - [0:0]
:delegate_output - [0:0]
:forwarding_lan_rule - [0:0]
:forwarding_rule - [0:0]
:forwarding_wan_rule - [0:0]
:input_lan_rule - [0:0]
:input_rule - [0:0]
:input_wan_rule - [0:0]
:output_lan_rule - [0:0]
:output_rule - [0:0]
:output_wan_rule - [0:0]
:reject - [0:0]
:syn_flood - [0:0]
:zone_lan_dest_ACCEPT - [0:0]
:zone_lan_forward - [0:0]
:zone_lan_input - [0:0]
:zone_lan_output - [0:0]
:zone_lan_src_ACCEPT - [0:0]
:zone_wan_dest_ACCEPT - [0:0]
:zone_wan_dest_REJECT - [0:0]
:zone_wan_forward - [0:0]
:zone_wan_input - [0:0]
:zone_wan_output - [0:0]
:zone_wan_src_REJECT - [0:0]
-A INPUT -m comment --comment "!fw3" -j delegate_input
-A FORWARD -m comment --comment "!fw3" -j delegate_forward
-A OUTPUT -m comment --comment "!fw3" -j delegate_output
-A delegate_forward -m comment --comment "!fw3: Custom forwarding rule chain" -j forwarding_rule
-A delegate_forward -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "!fw3" -j ACCEPT
-A delegate_forward -i br-lan -m comment --comment "!fw3" -j zone_lan_forward
-A delegate_forward -i eth1 -m comment --comment "!fw3" -j zone_wan_forward
-A delegate_forward -m comment --comment "!fw3" -j reject
-A delegate_input -i lo -m comment --comment "!fw3" -j ACCEPT
-A delegate_input -m comment --comment "!fw3: Custom input rule chain" -j input_rule
-A delegate_input -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "!fw3" -j ACCEPT
-A delegate_input -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m comment --comment "!fw3" -j syn_flood
-A delegate_input -i br-lan -m comment --comment "!fw3" -j zone_lan_input
-A delegate_input -i eth1 -m comment --comment "!fw3" -j zone_wan_input
-A delegate_output -o lo -m comment --comment "!fw3" -j ACCEPT
-A delegate_output -m comment --comment "!fw3: Custom output rule chain" -j output_rule
-A delegate_output -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "!fw3" -j ACCEPT
-A delegate_output -o br-lan -m comment --comment "!fw3" -j zone_lan_output
-A delegate_output -o eth1 -m comment --comment "!fw3" -j zone_wan_output
-A reject -p tcp -m comment --comment "!fw3" -j REJECT --reject-with tcp-reset
-A reject -m comment --comment "!fw3" -j REJECT
-A syn_flood -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m limit --limit 25/sec --limit-burst 50 -m comment --comment "!fw3" -j RETURN
-A syn_flood -m comment --comment "!fw3" -j DROP
-A zone_lan_dest_ACCEPT -o br-lan -m comment --comment "!fw3" -j ACCEPT
-A zone_lan_forward -m comment --comment "!fw3: Custom lan forwarding rule chain" -j forwarding_lan_rule
-A zone_lan_forward -m comment --comment "!fw3: Zone lan to wan forwarding policy" -j zone_wan_dest_ACCEPT
-A zone_lan_forward -m conntrack --ctstate DNAT -m comment --comment "!fw3: Accept port forwards" -j ACCEPT
-A zone_lan_forward -m comment --comment "!fw3" -j zone_lan_dest_ACCEPT
-A zone_lan_input -m comment --comment "!fw3: Custom lan input rule chain" -j input_lan_rule
-A zone_lan_input -m conntrack --ctstate DNAT -m comment --comment "!fw3: Accept port redirections" -j ACCEPT
-A zone_lan_input -m comment --comment "!fw3" -j zone_lan_src_ACCEPT
-A zone_lan_output -m comment --comment "!fw3: Custom lan output rule chain" -j output_lan_rule
-A zone_lan_output -m comment --comment "!fw3" -j zone_lan_dest_ACCEPT
-A zone_lan_src_ACCEPT -i br-lan -m conntrack --ctstate NEW,UNTRACKED -m comment --comment "!fw3" -j ACCEPT
-A zone_wan_dest_ACCEPT -o eth1 -m conntrack --ctstate INVALID -m comment --comment "!fw3: Prevent NAT leakage" -j DROP
-A zone_wan_dest_ACCEPT -o eth1 -m comment --comment "!fw3" -j ACCEPT
-A zone_wan_dest_REJECT -o eth1 -m comment --comment "!fw3" -j reject
-A zone_wan_forward -m comment --comment "!fw3: Custom wan forwarding rule chain" -j forwarding_wan_rule
-A zone_wan_forward -m conntrack --ctstate DNAT -m comment --comment "!fw3: Accept port forwards" -j ACCEPT
-A zone_wan_forward -m comment --comment "!fw3" -j zone_wan_dest_REJECT
-A zone_wan_input -m comment --comment "!fw3: Custom wan input rule chain" -j input_wan_rule
$( [ $v = 4 ] && echo '-A zone_wan_input -p udp -m udp --dport 68 -m comment --comment "!fw3: Allow-DHCP-Renew" -j ACCEPT' )
$( [ $v = 4 ] && echo '-A zone_wan_input -p icmp -m icmp --icmp-type 8 -m comment --comment "!fw3: Allow-Ping" -j ACCEPT' )
$( [ $v = 4 ] && echo '-A zone_wan_input -p igmp -m comment --comment "!fw3: Allow-IGMP" -j ACCEPT' )
$( [ $v = 4 ] && echo '-A zone_wan_input -s 198.51.100.7/32 -p tcp -m tcp --dport 6379 -m comment --comment "!fw3: Allow-Redis-Monitoring" -j ACCEPT' )
$( [ $v = 6 ] && echo '-A zone_wan_input -s fc00::/6 -d fc00::/6 -p udp -m udp --dport 546 -m comment --comment "!fw3: Allow-DHCPv6" -j ACCEPT' )
$( [ $v = 6 ] && echo '-A zone_wan_input -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 130/0 -m comment --comment "!fw3: Allow-MLD" -j ACCEPT' )
$( [ $v = 6 ] && echo '-A zone_wan_input -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m limit --limit 1000/sec -m comment --comment "!fw3: Allow-ICMPv6-Input" -j ACCEPT' )
-A zone_wan_input -m conntrack --ctstate DNAT -m comment --comment "!fw3: Accept port redirections" -j ACCEPT
-A zone_wan_input -m comment --comment "!fw3" -j zone_wan_src_REJECT
-A zone_wan_output -m comment --comment "!fw3: Custom wan output rule chain" -j output_wan_rule
-A zone_wan_output -m comment --comment "!fw3" -j zone_wan_dest_ACCEPT
-A zone_wan_src_REJECT -i eth1 -m comment --comment "!fw3" -j reject
COMMIT
EOF2
done
