package shiptest

import (
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickStart: the two set-up commands stay at the top of the
// README's quick start.
func TestReadmeQuickStart(t *testing.T) {
	readme := string(readFile(t, "README.md"))
	qs := strings.Index(readme, "\n## Quick start\n")
	if qs < 0 || qs > strings.Index(readme, "\n## Overview") {
		t.Fatal("README.md: no \"## Quick start\" section before the overview")
	}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(readme[qs:])
	if block == nil {
		t.Fatal("README.md: the quick start has no sh block")
	}
	lines := strings.Split(strings.TrimSpace(block[1]), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "scripts/demo ") || !strings.HasPrefix(lines[1], "scripts/test ") {
		t.Errorf("README.md quick start must begin with scripts/demo then scripts/test, got:\n%s", block[1])
	}
}

// TestReadmeSections: Sensu's plugin README layout, every binary in Files,
// the environment variables, annotations and the practices table.
func TestReadmeSections(t *testing.T) {
	readme := string(readFile(t, "README.md"))
	for _, h := range []string{"## Overview", "## Files", "## Usage examples", "### Environment variables",
		"### Annotations", "### Asset registration", "### Asset definition", "### Check definitions",
		"## Privileges each check needs", "## How the guide's practices map to checks",
		"## Installation from source"} {
		if !strings.Contains(readme, "\n"+h+"\n") {
			t.Errorf("README.md lacks the section %q", h)
		}
	}
	for _, s := range []string{"REDIS_PASSWORD", "REDIS_USERNAME", "REDIS_HOST", "REDIS_PORT",
		"sensuctl asset add sensu-community/sensu-redis-security-checks", "stdin: true",
		"sensu.io/plugins/<binary>/config/<flag>", "CAP_NET_ADMIN", "NOPASSWD"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.md does not mention %q", s)
		}
	}
	files := section(readme, "## Files")
	practices := section(readme, "## How the guide's practices map to checks")
	privileges := section(readme, "## Privileges each check needs")
	for bin := range goreleaserBinaries(t) {
		if !strings.Contains(files, "- **"+bin+"**") {
			t.Errorf("README.md Files does not list %s", bin)
		}
		if !strings.Contains(practices, bin) {
			t.Errorf("README.md practices table does not name %s", bin)
		}
		if !strings.Contains(privileges, "| "+bin+" ") {
			t.Errorf("README.md privileges table has no row for %s", bin)
		}
	}
	for _, b := range cmdBinaries(t) {
		if !strings.Contains(files, "- **"+b+"**") {
			t.Errorf("README.md Files does not list cmd/%s", b)
		}
	}
}

// section returns a "## " section's text up to the next heading of the
// same level.
func section(doc, heading string) string {
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(heading)+2:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// TestReadmeHelp: each help block in the README is the binary's real --help
// output (scripts/readme-usage regenerates them).
func TestReadmeHelp(t *testing.T) {
	readme := string(readFile(t, "README.md"))
	for bin := range goreleaserBinaries(t) {
		t.Run(bin, func(t *testing.T) {
			re := regexp.MustCompile("(?s)<!-- usage:" + regexp.QuoteMeta(bin) + " -->\n(.*?)<!-- /usage:" + regexp.QuoteMeta(bin) + " -->")
			m := re.FindStringSubmatch(readme)
			if m == nil {
				t.Fatalf("README.md has no usage block for %s", bin)
			}
			help := helpOf(t, bin) // skips while cmd/<bin> is absent
			if want := "```\n" + help + "```\n"; m[1] != want {
				t.Errorf("README.md's --help of %s is stale; run scripts/readme-usage.\nREADME:\n%s\nbinary:\n%s", bin, m[1], want)
			}
		})
	}
}

// TestChangelogLicense: Keep a Changelog form, MIT license.
func TestChangelogLicense(t *testing.T) {
	cl := string(readFile(t, "CHANGELOG.md"))
	for _, s := range []string{"# Changelog", "https://keepachangelog.com/", "## [Unreleased]", "[Unreleased]: "} {
		if !strings.Contains(cl, s) {
			t.Errorf("CHANGELOG.md lacks %q", s)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^## \[([^\]]+)\]`).FindAllStringSubmatch(cl, -1) {
		if strings.HasPrefix(m[1], "v") {
			t.Errorf("CHANGELOG.md: release %s: tags carry no v prefix", m[1])
		}
	}
	if lic := string(readFile(t, "LICENSE")); !strings.HasPrefix(lic, "MIT License\n") {
		t.Error("LICENSE is not the MIT license")
	}
}

// TestWorkflows: CI runs what .ci/run runs, and releases on tags with the
// goreleaser version scripts/install-goreleaser installs.
func TestWorkflows(t *testing.T) {
	ciRun := string(readFile(t, ".ci/run"))
	if !strings.Contains(ciRun, "exec scripts/test") {
		t.Fatal(".ci/run no longer runs scripts/test; update the workflows and this test")
	}
	ci := string(readFile(t, ".github/workflows/ci.yml"))
	if !regexp.MustCompile(`(?m)^\s+run: .*(\.ci/run|scripts/test)\b`).MatchString(ci) {
		t.Error("ci.yml does not run .ci/run (scripts/test)")
	}
	for _, s := range []string{"gofmt -l cmd checks", "go vet ./..."} {
		if !strings.Contains(ci, s) || !strings.Contains(string(readFile(t, "scripts/test")), s) {
			t.Errorf("lint step %q differs between ci.yml and scripts/test", s)
		}
	}
	rel := string(readFile(t, ".github/workflows/release.yml"))
	if !regexp.MustCompile(`(?s)on:\s+push:\s+tags:`).MatchString(rel) {
		t.Error("release.yml is not triggered by tags")
	}
	if regexp.MustCompile(`(?m)^\s+- "v`).MatchString(rel) {
		t.Error("release.yml matches v-prefixed tags; Bonsai needs tags without v")
	}
	want := regexp.MustCompile(`GORELEASER_VERSION:-(v[0-9.]+)`).FindStringSubmatch(string(readFile(t, "scripts/install-goreleaser")))
	if want == nil || !strings.Contains(rel, `version: "`+want[1]+`"`) {
		t.Errorf("release.yml does not pin goreleaser %v like scripts/install-goreleaser", want)
	}
	if !strings.Contains(rel, "release --clean") {
		t.Error("release.yml does not run goreleaser release")
	}
}

// valueNameRE is a flag line of --help: the flag and the value name pflag
// shows for it (the back-quoted word of its usage, or the type).
var valueNameRE = regexp.MustCompile(`(?m)^\s+(?:-[A-Za-z], )?--([a-z0-9-]+) (\S+)\s`)

// TestFlagValueNames: pflag shows the back-quoted word of a usage text as
// the flag's value name, so a usage that quotes a command (`nft -j list
// ruleset`) shows that command as the value. Path flags show FILE or DIR.
func TestFlagValueNames(t *testing.T) {
	pathFlag := regexp.MustCompile(`(^|-)(file|cert|key|save|json|routes|dir)$`)
	for _, bin := range cmdBinaries(t) {
		for _, m := range valueNameRE.FindAllStringSubmatch(helpOf(t, bin), -1) {
			flag, value := m[1], m[2]
			if strings.Contains(value, " ") || (value != strings.ToUpper(value) && !regexp.MustCompile(`^(string|stringArray|strings|int|ints|bool)$`).MatchString(value)) {
				t.Errorf("%s --%s shows value name %q", bin, flag, value)
			}
			if pathFlag.MatchString(flag) && value != "FILE" && value != "DIR" {
				t.Errorf("%s --%s shows %q, want FILE or DIR", bin, flag, value)
			}
		}
	}
}
