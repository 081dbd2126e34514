package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The container of the Docker-style layout: on bridge docker0 of the
// server namespace, inside a documentation range the client does not use.
var (
	containerAddr = netip.MustParseAddr("203.0.113.130")
	bridgeAddr    = "203.0.113.129/26"
)

// addContainer puts a "container" namespace behind a bridge docker0 in the
// server namespace, as dockerd's default bridge network does.
func addContainer(t *testing.T, top topology) string {
	t.Helper()
	ns := top.server[:len(top.server)-2] + "-k"
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	s := []string{"-n", top.server}
	ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	ipCmd(t, append(s, "link", "add", "docker0", "type", "bridge")...)
	ipCmd(t, append(s, "addr", "add", bridgeAddr, "dev", "docker0")...)
	ipCmd(t, append(s, "link", "set", "docker0", "up")...)
	ipCmd(t, append(s, "link", "add", "veth0c", "type", "veth", "peer", "name", "eth0", "netns", ns)...)
	ipCmd(t, append(s, "link", "set", "veth0c", "master", "docker0", "up")...)
	ipCmd(t, "-n", ns, "addr", "add", containerAddr.String()+"/26", "dev", "eth0")
	ipCmd(t, "-n", ns, "link", "set", "eth0", "up")
	ipCmd(t, "-n", ns, "route", "add", "default", "via", strings.Split(bridgeAddr, "/")[0])
	return ns
}

// TestNamespaceDocker builds the Docker layout (a container namespace
// behind a bridge, ip_forward=1, the nat, raw and filter rules dockerd
// writes), reads the ruleset and routes as the live check does, and
// compares the verdicts with want.txt and with real connections from the
// client to the host's published and unpublished ports. With
// FWTEST_CAPTURE=1 it also refreshes the golden dumps of each layout.
func TestNamespaceDocker(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "ip6tables-nft")
	for _, name := range []string{"docker-open", "docker-user"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := fwdata(t, "nat", name)
			top := newTopology(t, name)
			ctr := addContainer(t, top)
			out, err := exec.Command("ip", "netns", "exec", top.server, "sh", filepath.Join(dir, "setup.sh")).CombinedOutput()
			if err != nil {
				t.Fatalf("setup.sh: %v: %s", err, out)
			}
			startListener(t, top.server, DefaultPorts)
			startListener(t, ctr, []uint16{6379, 26379})

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sys := netnsSystem{top.server}
			in := Gather(ctx, Options{System: sys})
			if in.Err != nil {
				t.Fatal(in.Err)
			}
			if in.RoutesErr != nil {
				t.Fatal(in.RoutesErr)
			}
			rs, _ := Build(in)
			ports := []uint16{6379, 16379, 26379}
			rep := Evaluate(rs, ports)
			crossCheckText(t, sys, rep)
			checkWant(t, rep, readWant(t, dir))
			if os.Getenv("FWTEST_CAPTURE") == "1" {
				capture(t, ctx, sys, dir)
			}

			host := netip.MustParseAddr(serverAddr[eval.IPv4])
			var probes []probe
			for _, a := range clientAddrs {
				src := netip.MustParseAddr(a)
				if !src.Is4() {
					continue
				}
				for _, port := range []uint16{6379, 7000, 16379, 26379} {
					probes = append(probes, probe{src, host, port})
				}
			}
			got := dial(t, top.client, probes)
			for p, outcome := range got {
				accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, "eth0"))
				if undecided {
					t.Errorf("%v -> %v:%d undecided, connection %s", p.src, p.dst, p.port, outcome)
					continue
				}
				if accept != (outcome == "accepted") {
					t.Errorf("%v -> %v:%d: evaluator says accepted=%v, connection %s", p.src, p.dst, p.port, accept, outcome)
				}
			}
		})
	}
}

// capture writes the dumps the offline mode reads.
func capture(t *testing.T, ctx context.Context, sys System, dir string) {
	t.Helper()
	files := []struct {
		name string
		cmd  []string
	}{
		{"nft.json", []string{"nft", "-j", "list", "ruleset"}},
		{"iptables-nft.save", []string{"iptables-nft-save"}},
		{"ip6tables-nft.save", []string{"ip6tables-nft-save"}},
		{"routes.json", []string{"sh", "-c", "ip -4 -j route show table all; ip -6 -j route show table all"}},
	}
	for _, f := range files {
		out, err := sys.Run(ctx, f.cmd[0], f.cmd[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		var keep []string
		for _, l := range strings.SplitAfter(string(out), "\n") {
			if !strings.HasPrefix(l, "#") {
				keep = append(keep, l)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(strings.Join(keep, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprintln(os.Stderr, "captured", dir)
}

// loadNat reads a layout's golden dumps as offline mode with --routes does.
func loadNat(t *testing.T, dir string) *Facts {
	t.Helper()
	in := collectFiles(context.Background(), Options{NftJSON: filepath.Join(dir, "nft.json"), IptablesSave: filepath.Join(dir, "iptables-nft.save"),
		Ip6tablesSave: filepath.Join(dir, "ip6tables-nft.save"), Routes: filepath.Join(dir, "routes.json")})
	for _, err := range []error{in.Sources.NFT.Err, in.Sources.IptNFT.Err, in.Sources.Ip6tNFT.Err, in.RoutesErr} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return in
}
