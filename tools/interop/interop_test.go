package interop

import (
	"os"
	"testing"
)

// need returns the path of a peer's binary; without it the test skips, or
// fails when CI is set (the project's scripts install the peers there).
// With -short (make unit) the tests skip: make peers runs them.
func need(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs real peers: make peers (without -short)")
	}
	p, err := Find(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: tools/setup/install-deps.sh installs it", name)
		}
		t.Skipf("%s is not installed (make deps installs it)", name)
	}
	return p
}
