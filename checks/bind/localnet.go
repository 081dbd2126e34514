package bind

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A listener on 127.0.0.0/8 is private to the host only while the kernel
// drops packets for 127.0.0.0/8 that arrive on other interfaces.
// net.ipv4.conf.IF.route_localnet=1 (or .all.) turns that off, so that NAT
// can send outside traffic to loopback: kube-proxy sets it for node ports on
// localhost, Docker on its bridge without the userland proxy. Then any host
// on IF's network can connect to 127.0.0.1 by routing it to this host
// (CVE-2020-8558), and "bind 127.0.0.1" keeps nobody out.

// Localnet is the route_localnet setting of this network namespace.
type Localnet struct {
	// Interfaces accepting outside packets for 127.0.0.0/8, sorted.
	Interfaces []string
	// All: net.ipv4.conf.all.route_localnet=1 (every interface); Set the
	// interfaces whose own setting is 1.
	All bool
	Set []string
}

// maxInterfaces bounds the directory read: a host with many containers has
// thousands of veth interfaces, not millions.
const maxInterfaces = 1 << 16

// readLocalnet reads net.ipv4.conf.*.route_localnet under procRoot (the
// caller's network namespace when it is /proc).
func readLocalnet(procRoot string) (Localnet, error) {
	var ln Localnet
	dir := filepath.Join(procRoot, "sys/net/ipv4/conf")
	d, err := os.Open(dir)
	if err != nil {
		return ln, err
	}
	defer d.Close()
	names, err := d.Readdirnames(maxInterfaces + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return ln, err
	}
	if len(names) > maxInterfaces {
		return ln, fmt.Errorf("%s: more than %d interfaces", dir, maxInterfaces)
	}
	on := func(name string) (bool, error) {
		b, err := os.ReadFile(filepath.Join(dir, name, "route_localnet"))
		if err != nil {
			return false, err
		}
		switch strings.TrimSpace(string(b)) {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return false, fmt.Errorf("%s/%s/route_localnet: unexpected value %q", dir, name, strings.TrimSpace(string(b)))
	}
	if ln.All, err = on("all"); err != nil {
		return ln, err
	}
	for _, n := range names {
		if n == "all" || n == "default" || n == "lo" {
			continue // default only seeds interfaces made later; lo is loopback itself
		}
		v, err := on(n)
		if errors.Is(err, os.ErrNotExist) {
			continue // the interface went away meanwhile
		}
		if err != nil {
			return ln, err
		}
		if v {
			ln.Set = append(ln.Set, n)
		}
		if v || ln.All {
			ln.Interfaces = append(ln.Interfaces, n)
		}
	}
	sort.Strings(ln.Interfaces)
	sort.Strings(ln.Set)
	return ln, nil
}

// sysctlFix names the settings to turn off.
func (ln Localnet) sysctlFix() string {
	var ks []string
	if ln.All {
		ks = append(ks, "net.ipv4.conf.all.route_localnet=0")
	}
	for _, n := range ln.Set {
		ks = append(ks, "net.ipv4.conf."+n+".route_localnet=0")
	}
	return strings.Join(capNames(ks, 8), ", ")
}

// where says which interfaces and why.
func (ln Localnet) where() string {
	s := strings.Join(capNames(ln.Interfaces, 8), ", ")
	if ln.All {
		return s + " (net.ipv4.conf.all.route_localnet=1)"
	}
	return s
}

func capNames(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(xs[:n:n], fmt.Sprintf("and %d more", len(xs)-n))
}
