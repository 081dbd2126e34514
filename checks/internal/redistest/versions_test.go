package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func TestMajorMinor(t *testing.T) {
	for in, want := range map[string]string{"7.0.15": "7.0", "6.0.16": "6.0", "8.0": "8.0", "7": "7"} {
		if got := majorMinor(in); got != want {
			t.Errorf("majorMinor(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExpectedVersions skips (fails in strict mode) for each server version
// the version tests should cover but that is not installed here.
func TestExpectedVersions(t *testing.T) {
	bins := Binaries(t)
	for _, label := range Expected {
		t.Run(label, func(t *testing.T) {
			if _, ok := bins[label]; !ok {
				testenv.Skip(t, "no %s redis-server: scripts/setup-redis-versions fetches it", label)
			}
		})
	}
}

// TestBinaries starts every listed server and checks that it is the version
// its label claims and that it shows the version-specific default the checks
// branch on: with no bind line, CONFIG GET bind is "" on 6.x (all
// interfaces) and "* -::*" from 7.0 on (Valkey reports redis_version 7.2).
func TestBinaries(t *testing.T) {
	bins := Binaries(t)
	if _, ok := bins["6.0"]; !ok {
		t.Logf("no 6.0 server; scripts/setup-redis-versions fetches one")
	}
	for label, bin := range bins {
		t.Run(label, func(t *testing.T) {
			want := Version(t, bin)
			s := Start(t, Spec{Binary: bin})
			info := command(t, s.Addr(), "INFO", "server")
			if !strings.Contains(info, "_version:"+want+"\r\n") {
				t.Fatalf("INFO server does not report version %s:\n%s", want, info)
			}
			if major, ok := strings.CutPrefix(label, "valkey-"); ok {
				if !strings.HasPrefix(want, major+".") || field(info, "server_name") != "valkey" {
					t.Errorf("label %q but %s version %s", label, field(info, "server_name"), want)
				}
			} else if majorMinor(want) != label {
				t.Errorf("label %q but version %s", label, want)
			}
			redisVersion := field(info, "redis_version")
			bind := command(t, s.Addr(), "CONFIG", "GET", "bind")
			wantBind := "* -::*"
			if strings.HasPrefix(redisVersion, "6.") {
				wantBind = ""
			}
			if !strings.HasSuffix(bind, "\n"+wantBind) {
				t.Errorf("redis %s: CONFIG GET bind without a bind line = %q, want %q", redisVersion, bind, wantBind)
			}
		})
	}
}

func field(info, name string) string {
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return v
		}
	}
	return ""
}

// command sends one command and returns its reply flattened to text: bulk
// strings as they are, array elements joined by newlines.
func command(t *testing.T, addr string, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		req += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	out, err := readReply(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("error reply %q", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > 1<<20 {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > 1024 {
			return "", fmt.Errorf("bad array length %q", line)
		}
		parts := make([]string, 0, n)
		for i := 0; i < n; i++ {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}
