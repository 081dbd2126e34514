// Package netns builds small network topologies out of Linux network
// namespaces for tests: hosts on one or more segments (a bridge per segment,
// living in its own namespace), veth pairs, IPv4 and IPv6 addresses from the
// documentation ranges, and optional routers joining segments.
//
// Everything a topology creates (namespaces, the processes started through
// it, listeners) is removed when the test ends, on every exit path. Names
// carry a per-topology random suffix, so tests of different packages running
// at the same time never collide. Creating a topology needs root; New skips
// the test (or fails it in strict mode) without it.
package netns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// Spec describes a topology.
type Spec struct {
	// Segments are the layer-2 networks. Without any, one segment named
	// "lan" is made.
	Segments []Segment
	// Hosts are the namespaces attached to segments.
	Hosts []HostSpec
}

// Segment is one bridged network.
type Segment struct {
	Name string
	// V4 and V6 are the segment's prefixes. Defaults by position:
	// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8:N::/64
	// (N = position + 1). Only documentation ranges belong here.
	V4 netip.Prefix
	V6 netip.Prefix
}

// HostSpec describes one host (one namespace).
type HostSpec struct {
	Name string
	// On lists the segments the host joins, in interface order (eth0,
	// eth1, …). Default: the first segment.
	On []string
	// Router turns on IPv4 and IPv6 forwarding. Hosts on a single segment
	// with a router get their default routes through it.
	Router bool
	// ID is the host part of its addresses (192.0.2.ID, 2001:db8:1::ID).
	// Default: 1 for the first router, otherwise 10, 11, … in order.
	ID int
}

// Topology is a built Spec.
type Topology struct {
	// Suffix is the random part of every namespace name.
	Suffix   string
	hosts    map[string]*Host
	segments []Segment
}

// Host returns the named host or fails the test.
func (tp *Topology) Host(name string) *Host {
	h, ok := tp.hosts[name]
	if !ok {
		panic("netns: no host " + name)
	}
	return h
}

// Segment returns the named segment (zero value when unknown).
func (tp *Topology) Segment(name string) Segment {
	for _, s := range tp.segments {
		if s.Name == name {
			return s
		}
	}
	return Segment{}
}

var defaultV4 = []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"}

// setupTimeout bounds every ip(8) command of the setup.
const setupTimeout = 10 * time.Second

// New builds the topology and registers its removal with t.Cleanup.
func New(t testing.TB, spec Spec) *Topology {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	segs, err := normalise(spec)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	tp := &Topology{Suffix: hex.EncodeToString(b), hosts: map[string]*Host{}, segments: segs}

	var created []string
	t.Cleanup(func() {
		for i := len(created) - 1; i >= 0; i-- {
			remove(created[i])
		}
	})
	add := func(name string) string {
		ns := "t" + tp.Suffix + "-" + name
		ip(t, "netns", "add", ns)
		created = append(created, ns)
		ip(t, "-n", ns, "link", "set", "lo", "up")
		return ns
	}

	bridges := map[string]string{}
	for _, s := range segs {
		ns := add("br-" + s.Name)
		ip(t, "-n", ns, "link", "add", "br0", "type", "bridge")
		ip(t, "-n", ns, "link", "set", "br0", "up")
		bridges[s.Name] = ns
	}

	hosts := assignIDs(spec.Hosts, segs[0].Name)
	for i, hs := range hosts {
		h := &Host{Name: hs.Name, NS: add(hs.Name), addrs: map[string][2]netip.Addr{}}
		for j, segName := range hs.On {
			seg := tp.Segment(segName)
			port, dev := fmt.Sprintf("p%d", i), fmt.Sprintf("eth%d", j)
			if j > 0 {
				port = fmt.Sprintf("p%d.%d", i, j)
			}
			br := bridges[segName]
			ip(t, "-n", br, "link", "add", port, "type", "veth", "peer", "name", dev, "netns", h.NS)
			ip(t, "-n", br, "link", "set", port, "master", "br0", "up")
			a4, a6 := hostAddr(seg.V4, hs.ID), hostAddr(seg.V6, hs.ID)
			ip(t, "-n", h.NS, "addr", "add", netip.PrefixFrom(a4, seg.V4.Bits()).String(), "dev", dev)
			// nodad: the address is usable at once instead of after DAD's second.
			ip(t, "-n", h.NS, "addr", "add", netip.PrefixFrom(a6, seg.V6.Bits()).String(), "dev", dev, "nodad")
			ip(t, "-n", h.NS, "link", "set", dev, "up")
			h.addrs[segName] = [2]netip.Addr{a4, a6}
			h.segments = append(h.segments, segName)
		}
		if hs.Router {
			h.MustExec(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
		}
		tp.hosts[h.Name] = h
	}

	// Default routes: a single-segment host goes through the first router
	// on its segment.
	for _, hs := range hosts {
		if hs.Router || len(hs.On) != 1 {
			continue
		}
		seg := hs.On[0]
		for _, r := range hosts {
			if !r.Router || !contains(r.On, seg) {
				continue
			}
			gw := tp.hosts[r.Name].addrs[seg]
			ns := tp.hosts[hs.Name].NS
			ip(t, "-n", ns, "route", "add", "default", "via", gw[0].String())
			ip(t, "-n", ns, "-6", "route", "add", "default", "via", gw[1].String())
			break
		}
	}
	return tp
}

func normalise(spec Spec) ([]Segment, error) {
	segs := append([]Segment(nil), spec.Segments...)
	if len(segs) == 0 {
		segs = []Segment{{Name: "lan"}}
	}
	seen := map[string]bool{}
	for i := range segs {
		s := &segs[i]
		if s.Name == "" || seen[s.Name] || strings.ContainsAny(s.Name, "/ ") {
			return nil, fmt.Errorf("segment %d: missing, duplicate or invalid name %q", i, s.Name)
		}
		seen[s.Name] = true
		if !s.V4.IsValid() {
			if i >= len(defaultV4) {
				return nil, fmt.Errorf("segment %s: give V4, only %d defaults exist", s.Name, len(defaultV4))
			}
			s.V4 = netip.MustParsePrefix(defaultV4[i])
		}
		if !s.V6.IsValid() {
			s.V6 = netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x::/64", i+1))
		}
		if !documentation(s.V4) || !documentation(s.V6) {
			return nil, fmt.Errorf("segment %s: %v and %v must lie in the documentation ranges", s.Name, s.V4, s.V6)
		}
	}
	hosts := map[string]bool{}
	for _, h := range spec.Hosts {
		if h.Name == "" || hosts[h.Name] || strings.ContainsAny(h.Name, "/ ") || strings.HasPrefix(h.Name, "br-") {
			return nil, fmt.Errorf("host: missing, duplicate or invalid name %q", h.Name)
		}
		hosts[h.Name] = true
		for _, on := range h.On {
			if !seen[on] {
				return nil, fmt.Errorf("host %s: unknown segment %q", h.Name, on)
			}
		}
	}
	return segs, nil
}

// documentation reports whether p lies inside 192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24 or 2001:db8::/32: test traffic never leaves those.
func documentation(p netip.Prefix) bool {
	for _, d := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"} {
		dp := netip.MustParsePrefix(d)
		if p.Bits() >= dp.Bits() && dp.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// assignIDs fills in default segments and host numbers.
func assignIDs(in []HostSpec, firstSegment string) []HostSpec {
	out := append([]HostSpec(nil), in...)
	next, routerDone := 10, false
	for i := range out {
		if len(out[i].On) == 0 {
			out[i].On = []string{firstSegment}
		}
		if out[i].ID != 0 {
			continue
		}
		if out[i].Router && !routerDone {
			out[i].ID, routerDone = 1, true
			continue
		}
		out[i].ID = next
		next++
	}
	return out
}

func hostAddr(p netip.Prefix, id int) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	b[len(b)-1] += byte(id)
	a, _ := netip.AddrFromSlice(b)
	return a
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ip runs one ip(8) command of the setup or fails the test.
func ip(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// remove kills what still runs in a namespace this package created, then
// deletes it. Errors are ignored: cleanup must go on with the next one.
func remove(ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
	for _, f := range strings.Fields(string(out)) {
		var pid int
		if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 && pid != os.Getpid() {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	}
	_ = exec.CommandContext(ctx, "ip", "netns", "del", ns).Run()
}
