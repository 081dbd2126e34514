package shiptest

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// ReleaseEnv set to 1 runs the snapshot build outside strict mode.
const ReleaseEnv = "REDIS_CHECKS_RELEASE"

// goreleaserBin finds goreleaser on PATH or where scripts/install-goreleaser
// puts it.
func goreleaserBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("goreleaser"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "goreleaser")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testenv.Skip(t, "goreleaser not installed; scripts/install-goreleaser installs it")
	return ""
}

// goreleaserCmd runs goreleaser in the repository. Without a git remote
// (a fresh local clone) goreleaser falls back to commit "none" in snapshot
// mode; an origin URL given through git's environment config keeps the
// real commit without touching .git/config.
func goreleaserCmd(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, goreleaserBin(t), args...)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=remote.origin.url",
		"GIT_CONFIG_VALUE_0=https://github.com/sensu-community/sensu-redis-security-checks.git",
	)
	return cmd
}

func TestGoreleaserCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := goreleaserCmd(ctx, t, "check").CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}

// TestSnapshotBuild builds every archive as a release would (`goreleaser
// release --snapshot --clean` into dist/) and checks them against
// .bonsai.yml: names, checksums, layout, and that the linux/amd64 binaries
// run and report the snapshot's version. Slow: minutes on two cores.
func TestSnapshotBuild(t *testing.T) {
	if !testenv.Strict() && os.Getenv(ReleaseEnv) != "1" {
		t.Skipf("skipped: the snapshot build takes minutes; set %s=1 (scripts/test runs it in strict mode)", ReleaseEnv)
	}
	g := loadGoreleaser(t)
	for _, b := range g.Builds {
		if !hasCmd(t, path.Base(b.Binary)) {
			testenv.Skip(t, "%s not present yet: the release cannot be built", b.Main)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := goreleaserCmd(ctx, t, "release", "--snapshot", "--clean").CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser release --snapshot: %v\n%s", err, tail(string(out), 4000))
	}
	t.Logf("snapshot build took %v", time.Since(start).Round(time.Second))

	dist := filepath.Join(root(t), "dist")
	var meta struct {
		Version string `json:"version"`
		Commit  string `json:"commit"`
	}
	b, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", root(t), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(string(head))

	bon := loadBonsai(t)
	plats := goreleaserPlatforms(t)
	sums := readChecksums(t, filepath.Join(dist, bonsaiName(bon.Builds[0].ShaFilename, g.ProjectName, meta.Version)))
	want := map[string]bool{}
	for _, bb := range bon.Builds {
		name := bonsaiName(bb.AssetFilename, g.ProjectName, meta.Version)
		want[name] = true
		file := filepath.Join(dist, name)
		if got := sha512File(t, file); got != sums[name] {
			t.Errorf("%s: sha512 %s, checksums file says %q", name, got, sums[name])
		}
		p := platformOf(t, bb.Platform, bb.Arch)
		bins := plats[p]
		if len(bins) == 0 {
			t.Errorf("%s: goreleaser builds nothing for %+v", name, p)
		}
		entries := readArchive(t, file)
		wantEntries := []string{"CHANGELOG.md", "LICENSE", "README.md"}
		for _, bin := range bins {
			if p.OS == "windows" {
				bin += ".exe"
			}
			wantEntries = append(wantEntries, "bin/"+bin)
			if mode, ok := entries["bin/"+bin]; ok && mode&0o111 == 0 {
				t.Errorf("%s: bin/%s is not executable (%v)", name, bin, mode)
			}
		}
		sort.Strings(wantEntries)
		var got []string
		for e := range entries {
			got = append(got, e)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(wantEntries, " ") {
			t.Errorf("%s holds %v, want %v", name, got, wantEntries)
		}
		if p == (platform{"linux", "amd64", ""}) {
			runArchived(t, file, bins, meta.Version, commit)
		}
	}
	for name := range sums {
		if !want[name] {
			t.Errorf("checksums list %s, which .bonsai.yml does not know", name)
		}
	}
}

// platformOf maps a Bonsai build's platform/arch back to a goreleaser one.
func platformOf(t *testing.T, os, arch string) platform {
	t.Helper()
	if v, ok := strings.CutPrefix(arch, "armv"); ok {
		return platform{OS: os, Arch: "arm", ARM: v}
	}
	return platform{OS: os, Arch: arch}
}

func readChecksums(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 || len(fields[0]) != 128 {
			t.Fatalf("%s: not a sha512 line: %q", filepath.Base(file), sc.Text())
		}
		sums[fields[1]] = fields[0]
	}
	return sums
}

func sha512File(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readArchive returns the regular files of a tar.gz with their modes.
func readArchive(t *testing.T, file string) map[string]os.FileMode {
	t.Helper()
	return walkArchive(t, file, nil)
}

func walkArchive(t *testing.T, file string, each func(h *tar.Header, r io.Reader)) map[string]os.FileMode {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(file), err)
	}
	tr := tar.NewReader(gz)
	out := map[string]os.FileMode{}
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatalf("%s: too many entries", filepath.Base(file))
		}
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			t.Errorf("%s: %s is not a regular file", filepath.Base(file), h.Name)
		}
		out[h.Name] = h.FileInfo().Mode()
		if each != nil {
			each(h, tr)
		}
	}
}

var versionRE = regexp.MustCompile(`^(\S+) (\S+), commit (\S+), built at (\S+)\n$`)

// runArchived unpacks the linux/amd64 archive and runs each binary's --help
// and version; it also checks the build settings show in the binaries:
// static (CGO off), stripped (-s -w) and without the build path (-trimpath).
func runArchived(t *testing.T, archive string, bins []string, version, commit string) {
	t.Helper()
	dir := t.TempDir()
	walkArchive(t, archive, func(h *tar.Header, r io.Reader) {
		if !strings.HasPrefix(h.Name, "bin/") {
			return
		}
		dst := filepath.Join(dir, path.Base(h.Name))
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, h.FileInfo().Mode())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, r); err != nil {
			t.Fatal(err)
		}
		f.Close()
	})
	for _, bin := range bins {
		p := filepath.Join(dir, bin)
		r := bintest.Run(t, 30*time.Second, nil, p, "--help")
		if r.Code != 0 || r.Stderr != "" || !strings.Contains(r.Stdout, "Usage:\n  "+bin+" [flags]") {
			t.Errorf("archived %s --help: exit %d, stderr %q, stdout:\n%s", bin, r.Code, r.Stderr, r.Stdout)
		}
		r = bintest.Run(t, 30*time.Second, nil, p, "version")
		m := versionRE.FindStringSubmatch(r.Stdout)
		if r.Code != 0 || m == nil || m[1] != bin || m[2] != version || m[3] != commit {
			t.Errorf("archived %s version: exit %d, %q; want %q", bin, r.Code, r.Stdout,
				bin+" "+version+", commit "+commit+", built at <date>")
		} else if _, err := time.Parse(time.RFC3339, m[4]); err != nil {
			t.Errorf("archived %s version: date %q: %v", bin, m[4], err)
		}
		checkELF(t, p)
	}
}

func checkELF(t *testing.T, file string) {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (CGO_ENABLED=0 missing?)", filepath.Base(file))
		}
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s has a symbol table (-s -w missing?)", filepath.Base(file))
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), root(t)+"/checks/") {
		t.Errorf("%s contains the build path (-trimpath missing?)", filepath.Base(file))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
