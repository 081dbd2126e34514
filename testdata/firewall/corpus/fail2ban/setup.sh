# A hand-written host firewall with fail2ban's bans, as fail2ban 1.0's
# actions run them (iptables-multiport for the sshd jail, iptables-allports
# for recidive; action.d/iptables.conf: chain f2b-<jail>, "-j RETURN" at
# its end, bans inserted first with REJECT --reject-with
# icmp-port-unreachable; ip6tables likewise). fail2ban itself is not run:
# it needs log lines to ban anybody.
set -e
for ipt in iptables ip6tables; do
	$ipt -P INPUT DROP
	$ipt -A INPUT -i lo -j ACCEPT
	$ipt -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	$ipt -A INPUT -p tcp --dport 22 -j ACCEPT
done
iptables -A INPUT -p icmp -j ACCEPT
iptables -A INPUT -s 192.0.2.0/24 -p tcp --dport 6379 -j ACCEPT
ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
ip6tables -A INPUT -s 2001:db8::/64 -p tcp --dport 6379 -j ACCEPT
# actionstart, then actionban, per jail and family
for ipt in iptables ip6tables; do
	$ipt -N f2b-sshd
	$ipt -A f2b-sshd -j RETURN
	$ipt -I INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
	$ipt -N f2b-recidive
	$ipt -A f2b-recidive -j RETURN
	$ipt -I INPUT -p all -j f2b-recidive
done
iptables -I f2b-sshd 1 -s 198.51.100.23 -j REJECT --reject-with icmp-port-unreachable
iptables -I f2b-sshd 1 -s 203.0.113.77 -j REJECT --reject-with icmp-port-unreachable
iptables -I f2b-recidive 1 -s 192.0.2.66 -j REJECT --reject-with icmp-port-unreachable
ip6tables -I f2b-sshd 1 -s 2001:db8:99::23 -j REJECT --reject-with icmp6-port-unreachable
ip6tables -I f2b-recidive 1 -s 2001:db8::66 -j REJECT --reject-with icmp6-port-unreachable
