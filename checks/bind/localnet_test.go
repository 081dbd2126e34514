package bind

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeConf(t *testing.T, root string, values map[string]string) {
	t.Helper()
	for iface, v := range values {
		dir := filepath.Join(root, "sys/net/ipv4/conf", iface)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "route_localnet"), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The effective setting is all OR the interface's own; default and lo do
// not expose anything.
func TestReadLocalnet(t *testing.T) {
	root := t.TempDir()
	writeConf(t, root, map[string]string{"all": "0", "default": "1", "lo": "1", "eth0": "0", "docker0": "1"})
	ln, err := readLocalnet(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Localnet{Interfaces: []string{"docker0"}, Set: []string{"docker0"}}); !reflect.DeepEqual(ln, want) {
		t.Fatalf("got %+v, want %+v", ln, want)
	}

	writeConf(t, root, map[string]string{"all": "1"})
	if ln, err = readLocalnet(root); err != nil {
		t.Fatal(err)
	}
	if want := (Localnet{All: true, Interfaces: []string{"docker0", "eth0"}, Set: []string{"docker0"}}); !reflect.DeepEqual(ln, want) {
		t.Fatalf("got %+v, want %+v", ln, want)
	}

	writeConf(t, root, map[string]string{"eth0": "2"})
	if _, err := readLocalnet(root); err == nil {
		t.Fatal("a value the kernel never writes must be an error")
	}
	if _, err := readLocalnet(t.TempDir()); err == nil {
		t.Fatal("a missing conf directory must be an error")
	}
}
