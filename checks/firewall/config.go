package firewall

import (
	"net/netip"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisport"
)

// DefaultPorts are Redis, Redis Cluster's bus and Sentinel.
var DefaultPorts = []uint16{uint16(redisport.Data), uint16(redisport.ClusterBus), uint16(redisport.Sentinel)}

// Options are what the check is told.
type Options struct {
	// Ports to audit; DefaultPorts when empty.
	Ports []uint16
	// Trusted networks; loopback is always trusted.
	Trusted []netip.Prefix
	// Offline dumps. When any is set, the live system is not read.
	// IptablesSave and Ip6tablesSave are iptables-nft-save output when
	// NftJSON is given (they complete its xt expressions), or the whole
	// ruleset of their family otherwise.
	NftJSON, IptablesSave, Ip6tablesSave, IpsetSave string
	// NftNetlink is `nft --debug=netlink list ruleset` output, read with
	// NftJSON for the "ip6 nexthdr" matches nft -j does not show.
	NftNetlink string
	// NftBytecode is a recording of the nf_tables ruleset as the live
	// check reads it over netlink (DumpRuleset writes one): the kernel's
	// bytecode, xt parameters included. It replaces NftJSON and the
	// iptables-nft-save files.
	NftBytecode string
	// DumpRuleset, in live mode, receives the recording of the nf_tables
	// ruleset read, for NftBytecode.
	DumpRuleset string
	// Routes is `ip -j route show table all` output (both families), for
	// where DNAT targets go; offline only.
	Routes string
	// UFWDir is ufw's configuration directory (/etc/ufw when empty in
	// live mode); its defaults are read from UFWDir/../default/ufw.
	UFWDir string
	// FirewalldDir is firewalld's configuration directory (/etc/firewalld
	// when empty in live mode); offline, firewalld is explained only when
	// it is given. FirewalldLib holds the packaged zones and services
	// (/usr/lib/firewalld when empty). FirewalldBus is the D-Bus system
	// bus address ($DBUS_SYSTEM_BUS_ADDRESS or the standard socket when
	// empty).
	FirewalldDir, FirewalldLib, FirewalldBus string
	// System is the machine the live ruleset is read from; nil is this
	// host.
	System System
}

// Offline reports whether saved dumps replace the live system.
func (c Options) Offline() bool {
	return c.NftJSON != "" || c.NftBytecode != "" || c.IptablesSave != "" || c.Ip6tablesSave != "" || c.IpsetSave != ""
}

func (c Options) ports() []uint16 {
	if len(c.Ports) == 0 {
		return DefaultPorts
	}
	return c.Ports
}
