package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// ErrNotGiven marks a dump that offline mode was not given.
var ErrNotGiven = errors.New("not given")

// Input is everything read from the system or from files.
type Input struct {
	Sources compile.Sources
	// Standalone is set in offline mode without an nft dump: each
	// iptables-save file is then the whole ruleset of its family.
	Standalone bool
	// Offline is set when the input comes from files.
	Offline bool
}

// Collect reads the ruleset: the saved dumps named in cfg, or the live
// system. A source that cannot be read is recorded with its error, for
// the evaluator to treat as unknown; the only error returned is a lack of
// privilege, which leaves nothing to evaluate.
func Collect(ctx context.Context, cfg Config) (*Input, error) {
	if cfg.Offline() {
		return collectFiles(cfg), nil
	}
	sys := cfg.System
	if sys == nil {
		sys = Host{}
	}
	if err := sys.Privileged(); err != nil {
		return nil, err
	}
	in := &Input{}
	s := &in.Sources
	s.NFT = runParse(ctx, sys, nftjson.Parse, "nft", "-j", "list", "ruleset")
	s.IptNFT = runParse(ctx, sys, iptsave.Parse, "iptables-nft-save")
	s.Ip6tNFT = runParse(ctx, sys, iptsave.Parse, "ip6tables-nft-save")
	s.LegacyTables4, s.LegacyNamesErr4 = legacyNames(ctx, sys, "/proc/net/ip_tables_names")
	s.LegacyTables6, s.LegacyNamesErr6 = legacyNames(ctx, sys, "/proc/net/ip6_tables_names")
	if len(s.LegacyTables4) > 0 {
		s.Legacy4 = runParse(ctx, sys, iptsave.Parse, "iptables-legacy-save")
	}
	if len(s.LegacyTables6) > 0 {
		s.Legacy6 = runParse(ctx, sys, iptsave.Parse, "ip6tables-legacy-save")
	}
	s.IPSet = runParse(ctx, sys, ipset.Parse, "ipset", "save")
	return in, nil
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
func collectFiles(cfg Config) *Input {
	in := &Input{Standalone: cfg.NftJSON == "", Offline: true}
	s := &in.Sources
	if cfg.NftJSON != "" {
		s.NFT = parseFile(cfg.NftJSON, nftjson.Parse)
	}
	s.IptNFT = parseFile(cfg.IptablesSave, iptsave.Parse)
	s.Ip6tNFT = parseFile(cfg.Ip6tablesSave, iptsave.Parse)
	s.IPSet = parseFile(cfg.IpsetSave, ipset.Parse)
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

// Build compiles what Collect read into the evaluator's model.
func Build(in *Input) (*eval.Ruleset, []string) {
	if !in.Standalone {
		rs, notes := compile.Build(in.Sources)
		if in.Offline {
			notes = append(notes, "offline: iptables-legacy tables, if the host has any, are not part of the given dumps")
		}
		return rs, notes
	}
	rs4, n4 := compile.Standalone(eval.IPv4, in.Sources.IptNFT, in.Sources.IPSet)
	rs6, n6 := compile.Standalone(eval.IPv6, in.Sources.Ip6tNFT, in.Sources.IPSet)
	rs := &eval.Ruleset{BaseChains: append(rs4.BaseChains, rs6.BaseChains...)}
	return rs, append(n4, n6...)
}
