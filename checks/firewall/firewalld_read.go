package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Where firewalld keeps its configuration: the administrator's files
// override the packaged defaults of the same name.
const (
	firewalldEtc = "/etc/firewalld"
	firewalldLib = "/usr/lib/firewalld"
)

// DirReader is implemented by a System that can list a directory (the
// zone XML files). Host does; a System without it cannot be read for
// zone XML.
type DirReader interface {
	ReadDir(ctx context.Context, path string) ([]string, error)
}

// ReadDir lists the names in a directory.
func (Host) ReadDir(_ context.Context, path string) ([]string, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

// readFirewalldXML reads the permanent configuration: zones and services
// from etc over lib, DefaultZone and StrictForwardPorts from
// etc/firewalld.conf. ok=false means neither directory exists.
func readFirewalldXML(ctx context.Context, sys System, etc, lib string) (fw *Firewalld, ok bool, err error) {
	dr, canList := sys.(DirReader)
	if !canList {
		return nil, true, errors.New("listing zone files is not supported here")
	}
	fw = &Firewalld{Zones: map[string]*FirewalldZone{}, Services: map[string]*FirewalldService{}}
	files := map[string]string{}
	found := false
	for _, dir := range []string{lib, etc} {
		names, err := dr.ReadDir(ctx, filepath.Join(dir, "zones"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, true, err
		}
		found = true
		for _, n := range names {
			if strings.HasSuffix(n, ".xml") {
				files[strings.TrimSuffix(n, ".xml")] = filepath.Join(dir, "zones", n)
			}
		}
	}
	conf, confErr := sys.ReadFile(ctx, filepath.Join(etc, "firewalld.conf"))
	if !found && errors.Is(confErr, fs.ErrNotExist) {
		return nil, false, nil
	}
	if len(files) > maxZones {
		return nil, true, fmt.Errorf("more than %d zone files", maxZones)
	}
	fw.DefaultZone = "public" // firewalld's fallback
	switch {
	case confErr == nil:
		dz, strict, err := parseFirewalldConf(bytes.NewReader(conf))
		if err != nil {
			return nil, true, err
		}
		if dz != "" {
			fw.DefaultZone = dz
		}
		fw.StrictForwardPorts = strict
	case !errors.Is(confErr, fs.ErrNotExist):
		return nil, true, confErr
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := sys.ReadFile(ctx, files[n])
		if err != nil {
			return nil, true, err
		}
		z, err := ParseFirewalldZone(bytes.NewReader(data))
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", files[n], err)
		}
		z.Name = n
		fw.Zones[n] = z
	}
	// Services the zones use, and the services those include.
	var todo []string
	for _, n := range names {
		z := fw.Zones[n]
		todo = append(todo, z.Services...)
		for _, r := range z.Rules {
			if r.Element == "service" {
				todo = append(todo, r.Name)
			}
		}
	}
	for i := 0; i < len(todo) && i < 10*maxZones; i++ {
		name := todo[i]
		if _, done := fw.Services[name]; done || strings.ContainsAny(name, "/\x00") {
			continue
		}
		var data []byte
		var err error
		for _, dir := range []string{etc, lib} {
			data, err = sys.ReadFile(ctx, filepath.Join(dir, "services", name+".xml"))
			if !errors.Is(err, fs.ErrNotExist) {
				break
			}
		}
		if err != nil {
			fw.Notes = append(fw.Notes, fmt.Sprintf("service %s: %v", name, err))
			continue
		}
		s, err := ParseFirewalldService(bytes.NewReader(data))
		if err != nil {
			return nil, true, fmt.Errorf("service %s: %w", name, err)
		}
		s.Name = name
		fw.Services[name] = s
		todo = append(todo, s.Includes...)
	}
	return fw, true, nil
}

// firewalldTable reports whether the kernel's nf_tables ruleset holds
// firewalld's table: its rules are live even if its daemon cannot be
// asked.
func firewalldTable(in *Input) bool {
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

// collectFirewalld reads firewalld's configuration for the explanation.
// Live: the running daemon over D-Bus, with the zone XML for drift; the
// XML alone when the daemon does not answer but its rules are in the
// kernel (or the directory was named). Offline: the XML of
// cfg.FirewalldDir. nil, nil means there is nothing to explain.
func collectFirewalld(ctx context.Context, sys System, cfg Config, in *Input) (*Firewalld, error) {
	etc, lib := cfg.FirewalldDir, cfg.FirewalldLib
	if etc == "" {
		etc = firewalldEtc
	}
	if lib == "" {
		lib = firewalldLib
	}
	if in.Offline {
		if cfg.FirewalldDir == "" {
			return nil, nil
		}
		perm, ok, err := readFirewalldXML(ctx, sys, etc, lib)
		if err == nil && !ok {
			err = fmt.Errorf("%s: no zones directory and no firewalld.conf", etc)
		}
		if err != nil {
			return nil, err
		}
		perm.RuntimeErr = errFirewalldOffline
		return perm, nil
	}
	perm, installed, permErr := readFirewalldXML(ctx, sys, etc, lib)
	run, runErr := readFirewalldDBus(ctx, cfg.FirewalldBus)
	if runErr == nil {
		if permErr != nil || !installed {
			run.PermanentErr = permErr
			if permErr == nil {
				run.PermanentErr = fmt.Errorf("%s: no zone files", etc)
			}
		} else {
			run.Permanent = perm
			run.Drift = firewalldDrift(run, perm)
		}
		if perm != nil {
			run.StrictForwardPorts = perm.StrictForwardPorts
		}
		return run, nil
	}
	if !firewalldTable(in) && cfg.FirewalldDir == "" {
		// Not running and no rules of its own in the kernel.
		return nil, nil
	}
	if permErr != nil {
		return nil, permErr
	}
	if !installed {
		return nil, fmt.Errorf("%s: no zones directory and no firewalld.conf", etc)
	}
	perm.RuntimeErr = runErr
	return perm, nil
}

// firewalldDrift lists how the running zones differ from the permanent
// ones: what a reload or restart would undo or bring in.
func firewalldDrift(run, perm *Firewalld) []string {
	var out []string
	if run.DefaultZone != perm.DefaultZone {
		out = append(out, fmt.Sprintf("default zone %s at runtime, %s in firewalld.conf", run.DefaultZone, perm.DefaultZone))
	}
	names := map[string]bool{}
	for n := range run.Zones {
		names[n] = true
	}
	for n := range perm.Zones {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		r, p := run.Zones[n], perm.Zones[n]
		switch {
		case p == nil:
			out = append(out, fmt.Sprintf("zone %s exists only at runtime", n))
			continue
		case r == nil:
			out = append(out, fmt.Sprintf("zone %s exists only in the permanent configuration (not loaded: a reload brings it in)", n))
			continue
		}
		if r.Target != p.Target {
			out = append(out, fmt.Sprintf("zone %s: target %s at runtime, %s permanently", n, r.Target, p.Target))
		}
		diff := func(what string, a, b []string) {
			for _, x := range onlyIn(a, b) {
				out = append(out, fmt.Sprintf("zone %s: runtime-only %s %s", n, what, x))
			}
			for _, x := range onlyIn(b, a) {
				out = append(out, fmt.Sprintf("zone %s: permanent-only %s %s", n, what, x))
			}
		}
		diff("source", r.Sources, p.Sources)
		diff("interface", r.Interfaces, p.Interfaces)
		diff("service", r.Services, p.Services)
		diff("port", strs(r.Ports), strs(p.Ports))
		diff("protocol", r.Protocols, p.Protocols)
		diff("source port", strs(r.SourcePorts), strs(p.SourcePorts))
		diff("forward port", strs(r.ForwardPorts), strs(p.ForwardPorts))
		diff("rich rule", quoted(r.Rules), quoted(p.Rules))
	}
	return out
}

func strs[T fmt.Stringer](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}

func quoted(rs []RichRule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = "`" + r.String() + "`"
	}
	return out
}

// onlyIn lists the items of a that b lacks.
func onlyIn(a, b []string) []string {
	has := map[string]bool{}
	for _, x := range b {
		has[x] = true
	}
	var out []string
	for _, x := range a {
		if !has[x] {
			out = append(out, x)
		}
	}
	return out
}
