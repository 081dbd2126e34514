package shiptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	corev2 "github.com/sensu/core/v2"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// assetName is the Asset every CheckConfig that runs from the asset names.
const assetName = "sensu-community/sensu-redis-security-checks"

// wrapper is the `sensuctl create -f` form of a resource.
type wrapper struct {
	Type       string            `json:"type"`
	APIVersion string            `json:"api_version"`
	Metadata   corev2.ObjectMeta `json:"metadata"`
	Spec       json.RawMessage   `json:"spec"`
}

// resource is one decoded, validated resource of assets/.
type resource struct {
	File  string
	Type  string
	Value interface{ Validate() error }
}

// loadAssets decodes every resource in assets/ the way sensuctl does: the
// wrapper's metadata becomes the object's, the namespace defaults to the
// current one ("default" here), and the spec decodes through the core/v2
// type's JSON with unknown fields rejected (a misspelt field would be
// silently dropped by sensuctl).
func loadAssets(t testing.TB) []resource {
	t.Helper()
	assetsOnce.Do(func() { assetsRes, assetsErrs = decodeAssets(root(t), "assets") })
	if len(assetsErrs) > 0 {
		t.Fatalf("assets/ has errors (TestAssetsValidate lists them): %v", assetsErrs[0])
	}
	return assetsRes
}

var (
	assetsOnce sync.Once
	assetsRes  []resource
	assetsErrs []error
)

func decodeAssets(dir, sub string) ([]resource, []error) {
	var errs []error
	files, err := filepath.Glob(filepath.Join(dir, sub, "*"))
	if err != nil {
		return nil, []error{err}
	}
	var out []resource
	for _, f := range files {
		// sensuctl create -f DIR does not follow subdirectories (without
		// -r): templates to fill in live there.
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			continue
		}
		ext := filepath.Ext(f)
		if ext != ".yml" && ext != ".yaml" {
			errs = append(errs, fmt.Errorf("%s: %s/ holds only YAML resources", filepath.Base(f), sub))
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i, doc := range splitDocs(data) {
			name := fmt.Sprintf("%s#%d", filepath.Base(f), i)
			var w wrapper
			if err := readYAML(doc, &w); err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", name, err))
				continue
			}
			if w.Type == "Secret" && w.APIVersion == "secrets/v1" {
				// Commercial builds only; nothing in core/v2 to decode it.
				if sub == "assets" {
					errs = append(errs, fmt.Errorf("%s: the OSS backend rejects secrets/v1; keep Secrets out of assets/", name))
				}
				continue
			}
			if w.APIVersion != "core/v2" {
				errs = append(errs, fmt.Errorf("%s: api_version %q, want core/v2", name, w.APIVersion))
			}
			if w.Metadata.Namespace == "" {
				w.Metadata.Namespace = "default"
			}
			var v interface{ Validate() error }
			switch w.Type {
			case "Asset":
				a := &corev2.Asset{}
				err = strictJSON(w.Spec, a)
				a.ObjectMeta = w.Metadata
				v = a
			case "CheckConfig":
				c := &corev2.CheckConfig{}
				err = strictJSON(w.Spec, c)
				c.ObjectMeta = w.Metadata
				v = c
			case "Entity":
				e := &corev2.Entity{}
				err = strictJSON(w.Spec, e)
				e.ObjectMeta = w.Metadata
				v = e
			default:
				errs = append(errs, fmt.Errorf("%s: unexpected type %q", name, w.Type))
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: spec: %v", name, err))
				continue
			}
			if err := v.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s does not validate: %v", name, w.Type, err))
				continue
			}
			out = append(out, resource{File: name, Type: w.Type, Value: v})
		}
	}
	return out, errs
}

// splitDocs splits a multi-document YAML file on `---` lines.
func splitDocs(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestAssetsValidate: assets/ is what `sensuctl create -f assets/` loads,
// so it holds no Asset with placeholder checksums (the asset comes from
// `sensuctl asset add` or assets/templates/asset.yml) and nothing the OSS backend
// rejects.
func TestAssetsValidate(t *testing.T) {
	res, errs := decodeAssets(root(t), "assets")
	for _, err := range errs {
		t.Error(err)
	}
	count := map[string]int{}
	for _, r := range res {
		count[r.Type]++
	}
	if count["Asset"] != 0 {
		t.Errorf("assets/ holds %d Asset resources, want 0 (placeholder sha512s fail every download)", count["Asset"])
	}
	rel, errs := decodeAssets(root(t), filepath.Join("assets", "templates"))
	for _, err := range errs {
		t.Error(err)
	}
	if len(rel) != 1 || rel[0].Type != "Asset" {
		t.Errorf("assets/templates/ holds %d core/v2 resources, want the one Asset", len(rel))
	}
	if count["CheckConfig"] == 0 {
		t.Error("assets/ holds no CheckConfig")
	}
}

// checkConfigs returns the CheckConfigs of assets/ by the binary they run.
func checkConfigs(t *testing.T) map[string]*corev2.CheckConfig {
	t.Helper()
	out := map[string]*corev2.CheckConfig{}
	for _, r := range loadAssets(t) {
		c, ok := r.Value.(*corev2.CheckConfig)
		if !ok {
			continue
		}
		if _, dup := out[c.Name]; dup {
			t.Errorf("two CheckConfigs are named %s", c.Name)
		}
		out[c.Name] = c
	}
	return out
}

func entities(t *testing.T) []*corev2.Entity {
	t.Helper()
	var es []*corev2.Entity
	for _, r := range loadAssets(t) {
		if e, ok := r.Value.(*corev2.Entity); ok {
			es = append(es, e)
		}
	}
	return es
}

// parseCommand substitutes tokens as the agent does and splits the command:
// the binary's name (after an optional `sudo -n` and a directory), its
// argument words, and whether it runs through sudo.
func parseCommand(t *testing.T, c *corev2.CheckConfig, proxies []*corev2.Entity) (bin string, args []string, sudo bool) {
	t.Helper()
	cmd := substitute(t, c, proxies)
	if strings.ContainsAny(cmd, `'"\;|&$`+"`") {
		t.Fatalf("check %s: keep commands to plain words: %q", c.Name, cmd)
	}
	words := strings.Fields(cmd)
	if len(words) > 0 && words[0] == "sudo" {
		sudo = true
		words = words[1:]
		for len(words) > 0 && strings.HasPrefix(words[0], "-") {
			words = words[1:]
		}
	}
	if len(words) == 0 {
		t.Fatalf("check %s: empty command", c.Name)
	}
	return path.Base(words[0]), words[1:], sudo
}

// substitute renders the command's tokens against an entity, like the
// agent's token substitution: the proxy entities of assets/ for a check
// with proxy_requests, an agent entity otherwise. A token that finds no
// value is an error, as on the agent.
func substitute(t *testing.T, c *corev2.CheckConfig, proxies []*corev2.Entity) string {
	t.Helper()
	ents := []*corev2.Entity{corev2.FixtureEntity("redis-01")}
	if c.ProxyRequests != nil {
		ents = proxies
		if len(ents) == 0 {
			t.Fatalf("check %s uses proxy_requests but assets/ has no example proxy entity", c.Name)
		}
	}
	var first string
	for i, e := range ents {
		if c.ProxyRequests != nil && !matchesAll(t, c.ProxyRequests.EntityAttributes, e) {
			t.Errorf("check %s: example entity %s does not match its entity_attributes", c.Name, e.Name)
		}
		tmpl, err := template.New(c.Name).Funcs(template.FuncMap{"default": tokenDefault}).Parse(c.Command)
		if err != nil {
			t.Fatalf("check %s: command tokens: %v", c.Name, err)
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, synthesize(t, e)); err != nil {
			t.Fatalf("check %s: command tokens: %v", c.Name, err)
		}
		if strings.Contains(b.String(), "<no value>") {
			t.Fatalf("check %s: unmatched token for entity %s: %q", c.Name, e.Name, b.String())
		}
		if i == 0 {
			first = b.String()
		}
	}
	return first
}

// tokenDefault is the agent's `default` token function.
func tokenDefault(def any, v ...any) any {
	if len(v) == 0 || v[0] == nil || v[0] == "" {
		return def
	}
	return v[0]
}

// synthesize flattens an entity as the agent does for tokens: the metadata
// fields (name, labels, ...) at the top, beside the spec's fields.
func synthesize(t testing.TB, e *corev2.Entity) map[string]any {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if meta, ok := m["metadata"].(map[string]any); ok {
		for k, v := range meta {
			m[k] = v
		}
		delete(m, "metadata")
	}
	return m
}

func TestCheckConfigs(t *testing.T) {
	checks := checkConfigs(t)
	planned := goreleaserBinaries(t)
	covered := map[string]bool{}
	for _, c := range checks {
		bin, _, _ := parseCommand(t, c, entities(t))
		covered[bin] = true
	}
	for _, b := range cmdBinaries(t) {
		if !covered[b] {
			t.Errorf("cmd/%s has no CheckConfig in assets/", b)
		}
	}
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c := checks[name]
		t.Run(name, func(t *testing.T) {
			bin, args, sudo := parseCommand(t, c, entities(t))
			if !planned[bin] {
				t.Fatalf("check %s runs %s, which .goreleaser.yml does not build", c.Name, bin)
			}
			if sudo {
				// sudo replaces PATH with secure_path: an asset's bin/ is
				// not found, so such a check runs an installed binary.
				if len(c.RuntimeAssets) != 0 {
					t.Errorf("check %s runs through sudo but lists runtime_assets", c.Name)
				}
			} else if !contains(c.RuntimeAssets, assetName) {
				t.Errorf("check %s: runtime_assets %v lacks %s", c.Name, c.RuntimeAssets, assetName)
			}
			if len(c.Subscriptions) == 0 {
				t.Errorf("check %s has no subscription", c.Name)
			}
			if !c.Stdin {
				t.Errorf("check %s: stdin must be true, or annotations do not apply", c.Name)
			}
			if strings.Contains(strings.ToLower(c.Command), "password") {
				t.Errorf("check %s: a password on the command line", c.Name)
			}
			for _, e := range c.EnvVars {
				if strings.HasPrefix(e, "REDIS_PASSWORD=") {
					t.Errorf("check %s: REDIS_PASSWORD in env_vars; use secrets", c.Name)
				}
			}
			for _, s := range c.Secrets {
				if s.Name != "REDIS_PASSWORD" {
					t.Errorf("check %s: unexpected secret %s", c.Name, s.Name)
				}
			}
			if c.ProxyRequests != nil && bin != "redis-exposure-check" {
				t.Errorf("check %s fans out over proxy entities; only the exposure check probes from afar", c.Name)
			}

			help := helpOf(t, bin)
			long, short := helpFlags(help)
			values := map[string]string{}
			for i, a := range args {
				switch {
				case strings.HasPrefix(a, "--"):
					name, val, hasVal := strings.Cut(a[2:], "=")
					if !long[name] {
						t.Errorf("check %s: %s has no flag --%s", c.Name, bin, name)
					}
					if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
						val = args[i+1]
					}
					values[name] = val
				case len(a) == 2 && a[0] == '-':
					if !short[a[1:]] {
						t.Errorf("check %s: %s has no flag %s", c.Name, bin, a)
					}
				}
			}
			for key := range c.Annotations {
				flag, ok := strings.CutPrefix(key, "sensu.io/plugins/"+bin+"/config/")
				if !ok {
					if strings.HasPrefix(key, "sensu.io/plugins/") {
						t.Errorf("check %s: annotation %s is not in %s's keyspace", c.Name, key, bin)
					}
					continue
				}
				if !long[flag] {
					t.Errorf("check %s: annotation %s names no flag of %s", c.Name, key, bin)
				}
			}

			// The agent kills a check at its timeout with no grace: the
			// check's own deadline (plus start-up and the runner's grace)
			// must come first, so that it reports what it knows.
			flag, deadline := helpDeadline(t, help)
			if v, ok := values[flag]; ok {
				d, err := time.ParseDuration(v)
				if err != nil {
					t.Fatalf("check %s: --%s %q: %v", c.Name, flag, v, err)
				}
				deadline = d
			}
			if timeout := time.Duration(c.Timeout) * time.Second; timeout < deadline+2*time.Second {
				t.Errorf("check %s: timeout %v does not exceed the check's deadline %v by 2s", c.Name, timeout, deadline)
			}
			if c.Ttl != 0 && c.Ttl <= int64(c.Interval)+int64(c.Timeout) {
				t.Errorf("check %s: ttl %d would expire before a slow run reports", c.Name, c.Ttl)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestMetricFormats keeps the metric settings consistent: the checks print
// nagios_perfdata or, with --metrics-format prometheus, prometheus_text, and handlers need a format. The exposure check's
// perf data (attempt counts per class) is real output: a run against a
// closed loopback port must show it, and its definition must declare it.
func TestMetricFormats(t *testing.T) {
	checks := checkConfigs(t)
	for _, c := range checks {
		if c.OutputMetricFormat != "" && c.OutputMetricFormat != "nagios_perfdata" && c.OutputMetricFormat != "prometheus_text" {
			t.Errorf("check %s: output_metric_format %q; the checks print nagios_perfdata or prometheus_text", c.Name, c.OutputMetricFormat)
		}
		if len(c.OutputMetricHandlers) > 0 && c.OutputMetricFormat == "" {
			t.Errorf("check %s: metric handlers without output_metric_format", c.Name)
		}
	}
	const bin = "redis-exposure-check"
	c := checks["redis-exposure"]
	if c == nil {
		t.Fatalf("no CheckConfig runs %s", bin)
	}
	if !hasCmd(t, bin) {
		testenv.Skip(t, "cmd/%s not present yet", bin)
	}
	port := closedPort(t)
	r := bintest.Run(t, 30*time.Second, nil, bintest.Build(t, bin), "--target", "127.0.0.1:"+port, "--timeout", "1s")
	if strings.Count(r.Stdout, "|") != 1 || !strings.Contains(r.Stdout, "\n| check_state=") {
		t.Fatalf("%s printed no perf data (exit %d):\n%s", bin, r.Code, r.Stdout)
	}
	if c.OutputMetricFormat != "nagios_perfdata" {
		t.Errorf("check %s emits perf data but output_metric_format is %q", c.Name, c.OutputMetricFormat)
	}
}

// closedPort returns a loopback port nothing listens on a moment later.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}
