package shiptest

import (
	"os"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	bintest.Cleanup()
	os.Exit(code)
}
