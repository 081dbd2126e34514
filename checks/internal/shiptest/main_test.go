package shiptest

import (
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
)

func TestMain(m *testing.M) { bintest.Main(m) }
