package shiptest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// heavy are packages a check binary must not link: the SDK's sensu package
// pulls in core/v2, viper, grpc, etcd, protobuf and otto, which cost about
// 9 MB and 8 ms of initialisation per run. Tests may use them.
var heavy = []string{
	"github.com/sensu/sensu-plugin-sdk/sensu",
	"github.com/sensu/core/",
	"github.com/spf13/viper",
	"google.golang.org/grpc",
	"go.etcd.io/",
	"github.com/robertkrimen/otto",
}

func TestBinariesLinkNoHeavyPackages(t *testing.T) {
	for _, name := range cmdBinaries(t) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "go", "list", "-buildvcs=false", "-deps", "./cmd/"+name)
		cmd.Dir = root(t)
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("go list -deps ./cmd/%s: %v", name, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			for _, h := range heavy {
				if pkg == strings.TrimSuffix(h, "/") || strings.HasPrefix(pkg, h) {
					t.Errorf("%s links %s", name, pkg)
				}
			}
		}
	}
}

// maxBinary is the stripped size budget of one check. The heaviest (go-redis
// and crypto/tls) are about 8 MB. Code that reaches reflect's Method or
// MethodByName (cobra before 1.9 did, through text/template) stops the
// linker from dropping unused methods, and go-redis alone then adds 8 MB.
const maxBinary = 10 << 20

func TestBinarySizeBudget(t *testing.T) {
	dir := t.TempDir()
	for _, name := range cmdBinaries(t) {
		out := filepath.Join(dir, name)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/"+name)
		cmd.Dir = root(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		b, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, b)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.1f MB", name, float64(fi.Size())/1e6)
		if fi.Size() > maxBinary {
			t.Errorf("%s is %d bytes stripped, over the %d budget", name, fi.Size(), maxBinary)
		}
	}
}
