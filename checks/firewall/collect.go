package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend/firewalld"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend/ufw"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// ErrNotGiven marks a dump that offline mode was not given.
var ErrNotGiven = errors.New("not given")

// Facts are everything read from the system or from files.
type Facts struct {
	// Err is set when nothing could be read (a lack of privilege): the
	// check is then UNKNOWN with it.
	Err     error
	Sources compile.Sources
	// Standalone is set in offline mode without an nft dump: each
	// iptables-save file is then the whole ruleset of its family.
	Standalone bool
	// Offline is set when the input comes from files.
	Offline bool
	// Routes decides where DNAT targets go; RoutesErr says why it is
	// missing (offline mode without --routes: ErrNotGiven).
	Routes    *Routes
	RoutesErr error
	// UFW is ufw's own configuration when ufw is installed (or
	// --ufw-dir given); UFWErr when it could not be read.
	UFW    *ufw.Config
	UFWErr error
	// Firewalld is firewalld's configuration when it runs, its rules are
	// in the kernel, or --firewalld-dir was given; FirewalldErr when it
	// could not be read.
	Firewalld    *firewalld.Config
	FirewalldErr error
	// DumpErr says why the ruleset could not be written to
	// Config.DumpRuleset.
	DumpErr error
	// Compiled is the model, when the ruleset was compiled as it was read
	// (live, over netlink); Build compiles Sources otherwise.
	Compiled *Compiled
}

// Compiled is a ruleset compiled while it was read, with the compiler's
// notes.
type Compiled struct {
	Rules *eval.Ruleset
	Notes []string
}

// Gather reads the ruleset: the saved dumps named in cfg, or the live
// system, all under ctx. A source that cannot be read is recorded with its
// error, for the evaluator to treat as unknown; a lack of privilege, which
// leaves nothing to evaluate, is Facts.Err.
func Gather(ctx context.Context, cfg Options) *Facts {
	if cfg.Offline() {
		return collectFiles(ctx, cfg)
	}
	sys := cfg.System
	if sys == nil {
		sys = Host{}
	}
	if err := sys.Privileged(); err != nil {
		return &Facts{Err: err}
	}
	in := &Facts{}
	s := &in.Sources
	// nf_tables, iptables-nft's tables included, is read over netlink as
	// the bytecode the kernel runs: no nft or iptables-nft-save process.
	var rec io.Writer
	if cfg.DumpRuleset != "" {
		f, err := os.Create(cfg.DumpRuleset)
		if err != nil {
			in.DumpErr = err
		} else {
			defer func() {
				if err := f.Close(); err != nil && in.DumpErr == nil {
					in.DumpErr = err
				}
			}()
			rec = f
		}
	}
	// The other sources are independent of nf_tables and of each other:
	// they are read while the netlink dump is decoded, each into its own
	// fields. firewalld waits for nf_tables (whether its table is there).
	var wg sync.WaitGroup
	wg.Go(func() {
		s.LegacyTables4, s.LegacyNamesErr4 = legacyNames(ctx, sys, "/proc/net/ip_tables_names")
		if len(s.LegacyTables4) > 0 {
			s.Legacy4 = runParse(ctx, sys, iptsave.Parse, "iptables-legacy-save")
		}
	})
	wg.Go(func() {
		s.LegacyTables6, s.LegacyNamesErr6 = legacyNames(ctx, sys, "/proc/net/ip6_tables_names")
		if len(s.LegacyTables6) > 0 {
			s.Legacy6 = runParse(ctx, sys, iptsave.Parse, "ip6tables-legacy-save")
		}
	})
	wg.Go(func() { s.IPSet = liveIPSet(ctx, sys) })
	wg.Go(func() { in.Routes, s.Interfaces, in.RoutesErr = liveRoutes(ctx, sys) })
	wg.Go(func() {
		dir := cfg.UFWDir
		if dir == "" {
			dir = "/etc/ufw"
		}
		in.UFW, _, in.UFWErr = ufw.Read(ctx, sys, dir)
	})
	// The compiler waits for the other sources before its first rule;
	// it gets them without nf_tables, which it is reading.
	sources := sync.OnceValue(func() compile.Sources { wg.Wait(); return *s })
	s.NFTBytecode, in.Compiled = readNetlink(ctx, sys, rec, sources)
	wg.Wait()
	in.Firewalld, in.FirewalldErr = firewalld.Read(ctx, sys, firewalldSource(cfg, in))
	return in
}

// firewalldSource is where firewalld's configuration is read from.
func firewalldSource(cfg Options, in *Facts) firewalld.Source {
	return firewalld.Source{Dir: cfg.FirewalldDir, Lib: cfg.FirewalldLib, Bus: cfg.FirewalldBus,
		Offline: in.Offline, InKernel: firewalldTable(in)}
}

// firewalldTable reports whether the kernel's nf_tables ruleset holds
// firewalld's table: its rules are live even if its daemon cannot be
// asked.
func firewalldTable(in *Facts) bool {
	if v := in.Sources.NFT.Value; v != nil {
		for _, t := range v.Tables {
			if t.Name == "firewalld" {
				return true
			}
		}
	}
	if v := in.Sources.NFTBytecode.Value; v != nil {
		for _, t := range v.Tables {
			if t.Name == "firewalld" {
				return true
			}
		}
	}
	return false
}

// liveRoutes reads both families' routing tables, and the interfaces by
// index, over rtnetlink: no ip(8) process.
func liveRoutes(ctx context.Context, sys System) (*Routes, map[uint32]string, error) {
	r, ok := sys.(RoutingSystem)
	if !ok {
		return nil, nil, errNoRouting
	}
	list, links, err := r.Routes(ctx)
	if err != nil {
		return nil, nil, err
	}
	return RoutesFrom(list), links, nil
}

// runParse runs a tool and parses its output.
func runParse[T any](ctx context.Context, sys System, parse func(io.Reader) (*T, error), name string, args ...string) compile.Dump[T] {
	label := strings.Join(append([]string{name}, args...), " ")
	out, err := sys.Run(ctx, name, args...)
	if err != nil {
		return compile.Dump[T]{Err: err, Name: label}
	}
	v, err := parse(bytes.NewReader(out))
	if err != nil {
		return compile.Dump[T]{Err: fmt.Errorf("parsing %s output: %w", name, err), Name: label}
	}
	return compile.Dump[T]{Value: v, Name: label}
}

// legacyNames reads the kernel's list of x_tables tables. The file is
// absent when the module is not loaded: then there are none.
func legacyNames(ctx context.Context, sys System, path string) ([]string, error) {
	data, err := sys.ReadFile(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}

// collectFiles reads the offline dumps.
func collectFiles(ctx context.Context, cfg Options) *Facts {
	if err := ctx.Err(); err != nil {
		// The runner's deadline is the whole check's, offline too.
		return &Facts{Err: err, Offline: true}
	}
	in := &Facts{Standalone: cfg.NftJSON == "" && cfg.NftBytecode == "", Offline: true}
	s := &in.Sources
	if cfg.NftBytecode != "" {
		s.NFTBytecode = parseFile(cfg.NftBytecode, nfnl.Decode)
	}
	if cfg.NftJSON != "" {
		s.NFT = parseFile(cfg.NftJSON, nftjson.Parse)
		if cfg.NftNetlink != "" {
			s.NFTNetlink = parseFile(cfg.NftNetlink, nftjson.ParseNetlink)
		}
	}
	s.IptNFT = parseFile(cfg.IptablesSave, iptsave.Parse)
	s.Ip6tNFT = parseFile(cfg.Ip6tablesSave, iptsave.Parse)
	s.IPSet = parseFile(cfg.IpsetSave, ipset.Parse)
	if cfg.UFWDir != "" {
		var installed bool
		in.UFW, installed, in.UFWErr = ufw.Read(ctx, Host{}, cfg.UFWDir)
		if !installed {
			in.UFWErr = fmt.Errorf("%s: no ufw.conf", cfg.UFWDir)
		}
	}
	in.Firewalld, in.FirewalldErr = firewalld.Read(ctx, Host{}, firewalldSource(cfg, in))
	in.RoutesErr = ErrNotGiven
	if cfg.Routes != "" {
		d := parseFile(cfg.Routes, ParseRoutes)
		in.Routes, in.RoutesErr = d.Value, d.Err
	}
	return in
}

func parseFile[T any](path string, parse func(io.Reader) (*T, error)) compile.Dump[T] {
	if path == "" {
		return compile.Dump[T]{Err: ErrNotGiven, Name: "(none)"}
	}
	f, err := os.Open(path)
	if err != nil {
		return compile.Dump[T]{Err: err, Name: path}
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return compile.Dump[T]{Err: fmt.Errorf("%s: %w", path, err), Name: path}
	}
	return compile.Dump[T]{Value: v, Name: path}
}

// Build compiles what Gather read into the evaluator's model.
func Build(in *Facts) (*eval.Ruleset, []string) {
	var rs *eval.Ruleset
	var notes []string
	if c := in.Compiled; c != nil {
		rs, notes = c.Rules, slices.Clone(c.Notes)
	} else if !in.Standalone {
		// The compiler holds the bytecode only while it reads it back;
		// the input keeps no other reference (peak memory on large
		// rulesets).
		src := in.Sources
		in.Sources.NFTBytecode.Value = nil
		rs, notes = compile.Build(src)
		if in.Offline {
			notes = append(notes, "offline: iptables-legacy tables, if the host has any, are not part of the given dumps")
		}
	} else {
		rs4, n4 := compile.Standalone(eval.IPv4, in.Sources.IptNFT, in.Sources.IPSet)
		rs6, n6 := compile.Standalone(eval.IPv6, in.Sources.Ip6tNFT, in.Sources.IPSet)
		rs = &eval.Ruleset{BaseChains: append(rs4.BaseChains, rs6.BaseChains...)}
		notes = append(n4, n6...)
	}
	if in.DumpErr != nil {
		notes = append(notes, fmt.Sprintf("--dump-ruleset: the ruleset read could not be written: %v", in.DumpErr))
	}
	return rs, append(notes, setRouting(rs, in)...)
}

// setRouting gives the model what it knows of the routing tables, and
// says so when a DNAT makes it matter and it is only guessed.
func setRouting(rs *eval.Ruleset, in *Facts) []string {
	if in.Routes != nil {
		rs.Routing = in.Routes
		return nil
	}
	dnat := rs.HasDNAT(eval.IPv4) || rs.HasDNAT(eval.IPv6)
	if in.Offline && errors.Is(in.RoutesErr, ErrNotGiven) {
		rs.Routing = privateRouting{}
		if dnat {
			return []string{"offline without --routes: DNAT targets in private ranges are taken as containers behind an unknown interface, others as unknown (give --routes: `ip -j route show table all` output)"}
		}
		return nil
	}
	if dnat {
		return []string{fmt.Sprintf("routing tables could not be read (%v): where DNAT targets go is unknown", in.RoutesErr)}
	}
	return nil
}
