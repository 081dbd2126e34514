package shiptest

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/robertkrimen/otto"
	corev2 "github.com/sensu/core/v2"
)

// goreleaser is the part of .goreleaser.yml the tests rely on.
type goreleaser struct {
	Version     int    `json:"version"`
	ProjectName string `json:"project_name"`
	Builds      []struct {
		ID      string   `json:"id"`
		Main    string   `json:"main"`
		Binary  string   `json:"binary"`
		Env     []string `json:"env"`
		Flags   []string `json:"flags"`
		Ldflags []string `json:"ldflags"`
		Targets []string `json:"targets"`
	} `json:"builds"`
	Archives []struct {
		Formats      []string `json:"formats"`
		NameTemplate string   `json:"name_template"`
		Files        []string `json:"files"`
	} `json:"archives"`
	Checksum struct {
		NameTemplate string `json:"name_template"`
		Algorithm    string `json:"algorithm"`
	} `json:"checksum"`
}

func loadGoreleaser(t testing.TB) goreleaser {
	t.Helper()
	var g goreleaser
	// Not strict: the file has settings the tests do not model.
	if err := readYAMLLoose(readFile(t, ".goreleaser.yml"), &g); err != nil {
		t.Fatalf(".goreleaser.yml: %v", err)
	}
	return g
}

type bonsai struct {
	Description string `json:"description"`
	Builds      []struct {
		Platform      string   `json:"platform"`
		Arch          string   `json:"arch"`
		AssetFilename string   `json:"asset_filename"`
		ShaFilename   string   `json:"sha_filename"`
		Filter        []string `json:"filter"`
	} `json:"builds"`
}

func loadBonsai(t testing.TB) bonsai {
	t.Helper()
	var b bonsai
	if err := readYAML(readFile(t, ".bonsai.yml"), &b); err != nil {
		t.Fatalf(".bonsai.yml: %v", err)
	}
	return b
}

// platform is one goreleaser target as Sensu sees the agent.
type platform struct {
	OS, Arch, ARM string // ARM: "6", "7" or ""
}

func parseTarget(t testing.TB, target string) platform {
	t.Helper()
	parts := strings.Split(target, "_")
	switch {
	case len(parts) == 2:
		return platform{OS: parts[0], Arch: parts[1]}
	case len(parts) == 3 && parts[1] == "arm":
		return platform{OS: parts[0], Arch: "arm", ARM: parts[2]}
	}
	t.Fatalf("unexpected goreleaser target %q (write os_arch or os_arm_N)", target)
	return platform{}
}

// archiveSuffix is what the archive name_template appends after the version.
func (p platform) archiveSuffix() string {
	if p.ARM != "" {
		return p.OS + "_armv" + p.ARM
	}
	return p.OS + "_" + p.Arch
}

// entity is an agent on this platform, as the filters see it.
func (p platform) entity() map[string]any {
	sys := map[string]any{"os": p.OS, "arch": p.Arch, "platform": p.OS}
	if p.ARM != "" {
		sys["arm_version"] = int(p.ARM[0] - '0')
	}
	return map[string]any{"system": sys, "entity_class": "agent"}
}

// goreleaserBinaries maps each binary goreleaser builds to its platforms.
func goreleaserPlatforms(t testing.TB) map[platform][]string {
	t.Helper()
	g := loadGoreleaser(t)
	out := map[platform][]string{}
	for _, b := range g.Builds {
		for _, tg := range b.Targets {
			p := parseTarget(t, tg)
			out[p] = append(out[p], path.Base(b.Binary))
		}
	}
	for p := range out {
		sort.Strings(out[p])
	}
	return out
}

func goreleaserBinaries(t testing.TB) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, b := range loadGoreleaser(t).Builds {
		out[path.Base(b.Binary)] = true
	}
	return out
}

// TestGoreleaserBuilds checks every build's settings and that cmd/ and the
// builds list the same binaries.
func TestGoreleaserBuilds(t *testing.T) {
	g := loadGoreleaser(t)
	if g.Version != 2 {
		t.Errorf("version: %d, want 2", g.Version)
	}
	if g.ProjectName != "sensu-redis-security-checks" {
		t.Errorf("project_name %q: Bonsai's #{repo} is the repository name", g.ProjectName)
	}
	built := map[string]bool{}
	for _, b := range g.Builds {
		name := path.Base(b.Binary)
		built[name] = true
		if b.ID != name || b.Main != "./cmd/"+name || b.Binary != "bin/"+name {
			t.Errorf("build %s: id/main/binary must be %s, ./cmd/%s, bin/%s", b.ID, name, name, name)
		}
		if !contains(b.Env, "CGO_ENABLED=0") {
			t.Errorf("build %s: CGO_ENABLED=0 missing", name)
		}
		if !contains(b.Flags, "-trimpath") {
			t.Errorf("build %s: -trimpath missing", name)
		}
		ld := strings.Join(b.Ldflags, " ")
		for _, want := range []string{"-s -w",
			"-X github.com/sensu/sensu-plugin-sdk/version.version={{ .Version }}",
			"-X github.com/sensu/sensu-plugin-sdk/version.commit=",
			"-X github.com/sensu/sensu-plugin-sdk/version.date={{ .Date }}"} {
			if !strings.Contains(ld, want) {
				t.Errorf("build %s: ldflags lack %q", name, want)
			}
		}
		plats := map[platform]bool{}
		for _, tg := range b.Targets {
			plats[parseTarget(t, tg)] = true
		}
		for _, p := range []platform{{"linux", "amd64", ""}, {"linux", "arm64", ""}, {"linux", "arm", "6"},
			{"linux", "arm", "7"}, {"linux", "386", ""}} {
			if !plats[p] {
				t.Errorf("build %s: no %s target", name, p.archiveSuffix())
			}
		}
		if name == "redis-firewall-check" || name == "redis-socket-check" {
			for p := range plats {
				if p.OS != "linux" {
					t.Errorf("%s is Linux-only, but built for %s", name, p.OS)
				}
			}
		} else if !plats[platform{"darwin", "amd64", ""}] || !plats[platform{"darwin", "arm64", ""}] {
			t.Errorf("build %s: darwin amd64 and arm64 expected", name)
		}
	}
	for _, b := range cmdBinaries(t) {
		if !built[b] {
			t.Errorf("cmd/%s has no build in .goreleaser.yml", b)
		}
	}
	if len(g.Archives) != 1 {
		t.Fatalf("%d archives, want one (every binary of a platform in one tar.gz)", len(g.Archives))
	}
	a := g.Archives[0]
	if strings.Join(a.Formats, ",") != "tar.gz" {
		t.Errorf("archive formats %v, want [tar.gz] (Sensu assets reject zip)", a.Formats)
	}
	want := "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ if .Arm }}v{{ .Arm }}{{ end }}"
	if a.NameTemplate != want {
		t.Errorf("archive name_template %q, want %q (the names .bonsai.yml lists)", a.NameTemplate, want)
	}
	for _, f := range []string{"README.md", "LICENSE", "CHANGELOG.md"} {
		if !contains(a.Files, f) {
			t.Errorf("archive files lack %s", f)
		}
	}
	if g.Checksum.Algorithm != "sha512" || g.Checksum.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_sha512-checksums.txt" {
		t.Errorf("checksum %+v, want sha512 and {{ .ProjectName }}_{{ .Version }}_sha512-checksums.txt", g.Checksum)
	}
}

// bonsaiName substitutes Bonsai's #{repo} and #{version}.
func bonsaiName(pattern, repo, version string) string {
	return strings.NewReplacer("#{repo}", repo, "#{version}", version).Replace(pattern)
}

// firstMatch returns the index of the first build whose filters all match
// the entity (Sensu 6 installs that one), or -1.
func firstMatch(t testing.TB, filters [][]string, entity map[string]any) int {
	t.Helper()
	for i, fs := range filters {
		if matchesEntity(t, fs, entity) {
			return i
		}
	}
	return -1
}

// matchesEntity evaluates Sensu filter expressions (JavaScript) over an
// entity; all must be true.
func matchesEntity(t testing.TB, exprs []string, entity map[string]any) bool {
	t.Helper()
	vm := otto.New()
	if err := vm.Set("entity", entity); err != nil {
		t.Fatal(err)
	}
	for _, e := range exprs {
		v, err := vm.Run(e)
		if err != nil {
			t.Fatalf("filter %q: %v", e, err)
		}
		b, err := v.ToBoolean()
		if err != nil || !b {
			return false
		}
	}
	return true
}

func matchesAll(t testing.TB, exprs []string, e *corev2.Entity) bool {
	return matchesEntity(t, exprs, synthesize(t, e))
}

// TestBonsaiMatchesGoreleaser: one Bonsai build per goreleaser platform, with
// goreleaser's file names, and filters that make each platform's agent pick
// its own archive first (and leave unsupported agents with none).
func TestBonsaiMatchesGoreleaser(t *testing.T) {
	g := loadGoreleaser(t)
	b := loadBonsai(t)
	plats := goreleaserPlatforms(t)
	const version = "1.2.3"
	byName := map[string]int{}
	var filters [][]string
	for i, bb := range b.Builds {
		name := bonsaiName(bb.AssetFilename, g.ProjectName, version)
		byName[name] = i
		filters = append(filters, bb.Filter)
		if got, want := bonsaiName(bb.ShaFilename, g.ProjectName, version), g.ProjectName+"_"+version+"_sha512-checksums.txt"; got != want {
			t.Errorf("build %d: sha_filename gives %q, want %q", i, got, want)
		}
		for _, f := range bb.Filter {
			if strings.Contains(f, "armv") {
				t.Errorf("build %d: filter %q: entity.system.arch is never 'armv*'", i, f)
			}
		}
		if !strings.Contains(strings.Join(bb.Filter, " "), "entity.system.os == '"+bb.Platform+"'") {
			t.Errorf("build %d: no filter on entity.system.os == %q", i, bb.Platform)
		}
	}
	if len(b.Builds) != len(plats) {
		t.Errorf(".bonsai.yml has %d builds, goreleaser makes %d platforms", len(b.Builds), len(plats))
	}
	for p := range plats {
		want := fmt.Sprintf("%s_%s_%s.tar.gz", g.ProjectName, version, p.archiveSuffix())
		i, ok := byName[want]
		if !ok {
			t.Errorf("no Bonsai build for %s", want)
			continue
		}
		if got := firstMatch(t, filters, p.entity()); got != i {
			t.Errorf("an agent on %s gets Bonsai build %d, want %d (%s)", p.archiveSuffix(), got, i, want)
		}
	}
	for _, p := range []platform{{"linux", "arm", "5"}, {"linux", "ppc64le", ""}, {"windows", "386", ""}, {"freebsd", "amd64", ""}} {
		if got := firstMatch(t, filters, p.entity()); got != -1 {
			t.Errorf("an agent on %s/%s arm %q matches build %d, which it cannot run", p.OS, p.Arch, p.ARM, got)
		}
	}
}

// TestAssetMatchesBonsai: assets/templates/asset.yml lists the same archives, with the
// same filters in the same order, as .bonsai.yml.
func TestAssetMatchesBonsai(t *testing.T) {
	g := loadGoreleaser(t)
	b := loadBonsai(t)
	var asset *corev2.Asset
	rel, errs := decodeAssets(root(t), path.Join("assets", "templates"))
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	for _, r := range rel {
		if a, ok := r.Value.(*corev2.Asset); ok {
			asset = a
		}
	}
	if asset == nil {
		t.Fatal("no Asset in assets/templates/")
	}
	if asset.Name != assetName {
		t.Errorf("asset name %q, want %q", asset.Name, assetName)
	}
	version := asset.Annotations["io.sensu.bonsai.version"]
	if version == "" {
		t.Fatal("asset lacks the io.sensu.bonsai.version annotation naming its placeholder release")
	}
	if len(asset.Builds) != len(b.Builds) {
		t.Fatalf("asset has %d builds, .bonsai.yml %d", len(asset.Builds), len(b.Builds))
	}
	for i, ab := range asset.Builds {
		bb := b.Builds[i]
		want := "https://github.com/sensu-community/sensu-redis-security-checks/releases/download/" + version + "/" +
			bonsaiName(bb.AssetFilename, g.ProjectName, version)
		if ab.URL != want {
			t.Errorf("asset build %d: url %q, want %q", i, ab.URL, want)
		}
		if strings.Join(ab.Filters, "\n") != strings.Join(bb.Filter, "\n") {
			t.Errorf("asset build %d: filters %q differ from .bonsai.yml's %q", i, ab.Filters, bb.Filter)
		}
	}
}
