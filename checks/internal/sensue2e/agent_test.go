package sensue2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

const assetName = "sensu-community/sensu-redis-security-checks"

// binaries are the collection's binaries: every directory of cmd/.
func binaries(t *testing.T) []string {
	dirs, err := filepath.Glob(filepath.Join(repoRoot(t), "cmd", "redis-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no binaries in cmd/ (%v)", err)
	}
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Base(d))
	}
	return out
}

func repoRoot(t *testing.T) string { return testenv.ModuleRoot(t) }

// archive builds the release archive's layout (bin/NAME at the top, the
// docs beside it) as a tar.gz from the test binaries: the goreleaser
// snapshot takes minutes for every platform; the agent only cares about
// the layout and the sha512.
func archive(t *testing.T) (data []byte, binDir string) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, mode int64, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range binaries(t) {
		p := bintest.Build(t, b)
		binDir = filepath.Dir(p)
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		add("bin/"+b, 0o755, body)
	}
	for _, f := range []string{"README.md", "LICENSE", "CHANGELOG.md"} {
		body, err := os.ReadFile(filepath.Join(repoRoot(t), f))
		if err != nil {
			t.Fatal(err)
		}
		add(f, 0o644, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), binDir
}

var (
	urlRe  = regexp.MustCompile(`https://github\.com/\S+\.tar\.gz`)
	shaRe  = regexp.MustCompile(`sha512: "0+"`)
	sudoRe = regexp.MustCompile(`sudo -n /usr/local/bin/(redis-[a-z]+-check)`)
	port6  = regexp.MustCompile(`--port 6379\b`)
	elapse = regexp.MustCompile(`elapsed=[0-9.]+s`)
)

// TestRealAgent deploys the collection as the README says and runs every
// check through real Sensu agents.
func TestRealAgent(t *testing.T) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		t.Skipf("skipped: $%s is not set (the directory of sensu-backend, sensu-agent and sensuctl; .ci/run sets it)", DirEnv)
	}
	for _, b := range []string{"sensu-backend", "sensu-agent", "sensuctl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("$%s=%s: %v", DirEnv, dir, err)
		}
	}
	start := time.Now()
	t.Cleanup(func() { t.Logf("took %v", time.Since(start).Round(time.Second)) })

	// The asset, served over loopback with its sha512.
	tgz, binDir := archive(t)
	sum := sha512.Sum512(tgz)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(tgz) }))
	t.Cleanup(srv.Close)

	rs := redistest.Start(t, redistest.Spec{Config: []string{"requirepass e2e-Pa55"}})
	closed := freePort(t)
	closed2 := freePort(t)

	// assets/templates/asset.yml and assets/, with only URLs, sha512 and ports
	// substituted; the sudo path of the checks that need root (firewall,
	// socket) becomes the built binary (the agent runs as root here, and
	// the host has no sudo).
	res := t.TempDir()
	rel, err := os.ReadFile(filepath.Join(repoRoot(t), "assets", "templates", "asset.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rel = urlRe.ReplaceAll(rel, []byte(srv.URL+"/sensu-redis-security-checks_e2e_linux_amd64.tar.gz"))
	rel = shaRe.ReplaceAll(rel, []byte(`sha512: "`+hex.EncodeToString(sum[:])+`"`))
	if err := os.WriteFile(filepath.Join(t.TempDir(), "asset.yml"), rel, 0o644); err != nil {
		t.Fatal(err)
	}
	relFile := filepath.Join(t.TempDir(), "asset.yml")
	if err := os.WriteFile(relFile, rel, 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "assets", "*.yml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = port6.ReplaceAll(b, []byte("--port "+strconv.Itoa(rs.Port)))
		b = sudoRe.ReplaceAll(b, []byte(binDir+"/$1"))
		if err := os.WriteFile(filepath.Join(res, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	c := newCluster(t, dir)
	c.metricsDir = t.TempDir()
	// The handler the shipped redis-tls definition sends metrics to, here
	// a pipe into one file per event.
	create(t, c, map[string]any{"type": "Handler", "api_version": "core/v2", "metadata": map[string]any{"name": "influxdb"},
		"spec": map[string]any{"type": "pipe", "command": "cat > $(mktemp -p " + c.metricsDir + ")", "timeout": 10}})
	c.ctl("create", "-f", relFile)
	out := c.ctl("create", "-f", res)
	if strings.TrimSpace(out) != "" && !strings.Contains(out, "Created") {
		t.Logf("sensuctl create -f assets/: %s", out)
	}

	// Two agents in the untrusted segment, each told by an entity
	// annotation what to probe: agent-1 finds Redis open, agent-2 a closed
	// port. agent-1 also moves the auth check to a closed port by entity
	// annotation (overridden by a check annotation below).
	const tgt = "sensu.io/plugins/redis-exposure-check/config/target"
	const authPort = "sensu.io/plugins/redis-auth-check/config/port"
	ann1 := map[string]string{tgt: "127.0.0.1:" + strconv.Itoa(rs.Port)}
	ann2 := map[string]string{tgt: "127.0.0.1:" + strconv.Itoa(closed)}
	c.agent("agent-1", []string{"redis", "untrusted-network"}, ann1)
	c.agent("agent-2", []string{"redis", "untrusted-network", "precedence"}, map[string]string{tgt: ann2[tgt], authPort: strconv.Itoa(closed2)})
	waitEntities(t, c, "agent-1", "agent-2")

	// Every check of assets/, executed now on both agents.
	checks := map[string]*checkDef{}
	for _, f := range files {
		d := readCheck(t, filepath.Join(res, filepath.Base(f)))
		if d != nil {
			checks[d.Metadata.Name] = d
		}
	}
	since := time.Now().Unix()
	for name := range checks {
		c.ctl("check", "execute", name)
	}
	agents := map[string]map[string]string{"agent-1": ann1, "agent-2": {tgt: ann2[tgt], authPort: strconv.Itoa(closed2)}}
	events := map[string]event{}
	for name, d := range checks {
		for agent, ann := range agents {
			if !subscribed(d, agent) {
				continue
			}
			e := c.waitEvent(agent, name, since, 90*time.Second)
			events[agent+"/"+name] = e
			// The same command by hand, with the event the agent gives.
			hand := byHand(t, binDir, d, agent, ann)
			if e.Check.Status != hand.Code || norm(e.Check.Output) != norm(hand.Stdout) {
				t.Errorf("%s on %s: Sensu says %d\n%s\nby hand: %d\n%s", name, agent, e.Check.Status, e.Check.Output, hand.Code, hand.Stdout)
			}
		}
	}

	// Fleet exposure: one event per vantage point, each naming its agent.
	e1, e2 := events["agent-1/redis-exposure"], events["agent-2/redis-exposure"]
	if e1.Check.Status != 2 || !strings.Contains(e1.Check.Output, "vantage point: agent-1, source address 127.0.0.1") {
		t.Errorf("exposure from agent-1: want CRITICAL naming agent-1:\n%s", e1.Check.Output)
	}
	if e2.Check.Status != 0 || !strings.Contains(e2.Check.Output, "vantage point: agent-2, source address 127.0.0.1") {
		t.Errorf("exposure from agent-2: want OK naming agent-2:\n%s", e2.Check.Output)
	}
	// The metrics reach the handler the shipped redis-tls definition names.
	for _, a := range []string{"agent-1", "agent-2"} {
		e := c.metricEvent(a, "redis-tls", 30*time.Second)
		if v, ok := e.point("check_state"); !ok || int(v) != events[a+"/redis-tls"].Check.Status {
			t.Errorf("redis-tls on %s: metrics %+v lack check_state=%d", a, e.Metrics, events[a+"/redis-tls"].Check.Status)
		}
	}

	// Annotation precedence: check annotation > entity annotation > flag.
	precedence(t, c, rs.Port, closed, closed2)

	// --metrics-format prometheus under output_metric_format: prometheus_text.
	prometheus(t, c, rs.Port)

	// Timeout: killed by the agent, and the next run is clean.
	timeouts(t, c)

	// Zero metric-extraction errors, but for the one run the agent killed:
	// its output is the agent's own "Execution timed out", with no metric.
	for _, a := range []string{"agent-1", "agent-2"} {
		var errs []string
		killed := 0
		for _, l := range strings.Split(c.log(a), "\n") {
			if !strings.Contains(l, "unable to extract metric") {
				continue
			}
			if strings.Contains(l, `"check":"slow"`) && killed == 0 {
				killed++
				continue
			}
			errs = append(errs, l)
		}
		if len(errs) != 0 {
			t.Errorf("%s logged %d metric-extraction errors:\n%s", a, len(errs), strings.Join(errs, "\n"))
		}
	}
}

func norm(s string) string { return elapse.ReplaceAllString(s, "elapsed=Xs") }

type checkDef struct {
	Type     string `json:"type"`
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Command            string   `json:"command"`
		Subscriptions      []string `json:"subscriptions"`
		EnvVars            []string `json:"env_vars"`
		OutputMetricFormat string   `json:"output_metric_format"`
	} `json:"spec"`
}

func subscribed(d *checkDef, agent string) bool {
	for _, s := range d.Spec.Subscriptions {
		if s == "redis" || s == "untrusted-network" {
			return true
		}
	}
	return false
}

func readCheck(t *testing.T, path string) *checkDef {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j := yamlToJSON(t, b)
	var d checkDef
	if err := json.Unmarshal(j, &d); err != nil {
		t.Fatal(err)
	}
	if d.Type != "CheckConfig" {
		return nil
	}
	return &d
}

// byHand runs the check's command the way the agent does (sh -c, the
// asset's bin/ first on PATH, env_vars, the event on stdin).
func byHand(t *testing.T, binDir string, d *checkDef, agent string, ann map[string]string) bintest.Result {
	ev := map[string]any{
		"check":  map[string]any{"metadata": map[string]any{"name": d.Metadata.Name, "annotations": d.Metadata.Annotations}},
		"entity": map[string]any{"metadata": map[string]any{"name": agent, "annotations": ann}},
	}
	stdin, _ := json.Marshal(ev)
	env := append([]string{"PATH=" + binDir + ":" + os.Getenv("PATH")}, d.Spec.EnvVars...)
	return bintest.RunStdin(t, 60*time.Second, env, stdin, "sh", "-c", substitute(t, d.Spec.Command, agent, ann))
}

// substitute applies the agent's token substitution for an agent entity.
func substitute(t *testing.T, cmd, agent string, ann map[string]string) string {
	tmpl, err := template.New("cmd").Funcs(template.FuncMap{"default": func(def any, v ...any) any {
		if len(v) == 0 || v[0] == nil || v[0] == "" {
			return def
		}
		return v[0]
	}}).Parse(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, map[string]any{"name": agent, "annotations": ann, "labels": map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func waitEntities(t *testing.T, c *cluster, names ...string) {
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range names {
		for {
			if _, err := c.tryRun(nil, 10*time.Second, filepath.Join(c.bin, "sensuctl"), "--config-dir", filepath.Join(c.dir, "ctl"), "entity", "info", n); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("agent %s never registered", n)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}

// create loads one resource given as JSON.
func create(t *testing.T, c *cluster, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c.ctl("create", "-f", p)
}

func checkConfig(name, command string, timeout int, annotations map[string]string, format string) map[string]any {
	spec := map[string]any{
		"command": command, "runtime_assets": []string{assetName}, "subscriptions": []string{"precedence"},
		"interval": 3600, "timeout": timeout, "stdin": true, "publish": false,
		"output_metric_handlers": []string{"influxdb"},
	}
	if format != "" {
		spec["output_metric_format"] = format
	}
	return map[string]any{"type": "CheckConfig", "api_version": "core/v2",
		"metadata": map[string]any{"name": name, "annotations": annotations}, "spec": spec}
}

// precedence: on agent-2 (entity annotation port=closed2), a check
// annotation wins over the entity annotation, which wins over the flag.
func precedence(t *testing.T, c *cluster, redisPort, closed, closed2 int) {
	const key = "sensu.io/plugins/redis-auth-check/config/port"
	create(t, c, checkConfig("prec-check", fmt.Sprintf("redis-auth-check --port %d", closed), 20,
		map[string]string{key: strconv.Itoa(redisPort)}, "nagios_perfdata"))
	create(t, c, checkConfig("prec-entity", fmt.Sprintf("redis-auth-check --port %d", closed), 20, nil, "nagios_perfdata"))
	since := time.Now().Unix()
	c.ctl("check", "execute", "prec-check")
	c.ctl("check", "execute", "prec-entity")
	if out := c.waitEvent("agent-2", "prec-check", since, 60*time.Second).Check.Output; !strings.Contains(out, "127.0.0.1:"+strconv.Itoa(redisPort)+":") {
		t.Errorf("check annotation did not win over the entity annotation:\n%s", out)
	}
	if out := c.waitEvent("agent-2", "prec-entity", since, 60*time.Second).Check.Output; !strings.Contains(out, "127.0.0.1:"+strconv.Itoa(closed2)) {
		t.Errorf("entity annotation did not win over the flag:\n%s", out)
	}
}

func prometheus(t *testing.T, c *cluster, redisPort int) {
	create(t, c, checkConfig("prom", "redis-exposure-check --metrics-format prometheus --target 192.0.2.1", 20,
		map[string]string{"sensu.io/plugins/redis-exposure-check/config/target": fmt.Sprintf("127.0.0.1:%d", redisPort)}, "prometheus_text"))
	since := time.Now().Unix()
	c.ctl("check", "execute", "prom")
	e := c.waitEvent("agent-2", "prom", since, 60*time.Second)
	e.Metrics = c.metricEvent("agent-2", "prom", 30*time.Second).Metrics
	if !strings.HasPrefix(e.Check.Output, "# redis-exposure-check CRITICAL: ") || e.Check.Status != 2 {
		t.Errorf("prometheus run: status %d\n%s", e.Check.Status, e.Check.Output)
	}
	for _, m := range []string{"check_state", "open_auth_required", "attempts"} {
		if _, ok := e.point(m); !ok {
			t.Errorf("prometheus run: no %s point in %+v", m, e.Metrics)
		}
	}
}

// timeouts: a check that hangs past its Sensu timeout is killed (status 2,
// "Execution timed out"); the next run of the same check, with a deadline
// below the timeout, reports on its own.
func timeouts(t *testing.T, c *cluster) {
	silent := silentListener(t)
	port := map[string]string{"sensu.io/plugins/redis-auth-check/config/port": strconv.Itoa(silent)}
	create(t, c, checkConfig("slow", "redis-auth-check --timeout 60s", 2, port, "nagios_perfdata"))
	since := time.Now().Unix()
	c.ctl("check", "execute", "slow")
	e := c.waitEvent("agent-2", "slow", since, 60*time.Second)
	if e.Check.Status != 2 || !strings.Contains(e.Check.Output, "Execution timed out") {
		t.Errorf("hung check: status %d, output %q; want the agent's timeout", e.Check.Status, e.Check.Output)
	}
	create(t, c, checkConfig("slow", "redis-auth-check --timeout 1s", 4, port, "nagios_perfdata"))
	time.Sleep(1100 * time.Millisecond)
	since = time.Now().Unix()
	c.ctl("check", "execute", "slow")
	e = c.waitEvent("agent-2", "slow", since, 60*time.Second)
	e.Metrics = c.metricEvent("agent-2", "slow", 30*time.Second).Metrics
	if e.Check.Status == 2 || !strings.HasPrefix(e.Check.Output, "redis-auth-check ") || !strings.HasSuffix(e.Check.Output, "\n") {
		t.Errorf("run after the kill: status %d, output %q", e.Check.Status, e.Check.Output)
	}
	if v, ok := e.point("check_state"); !ok || int(v) != e.Check.Status {
		t.Errorf("run after the kill: no check_state point: %+v", e.Metrics)
	}
}
