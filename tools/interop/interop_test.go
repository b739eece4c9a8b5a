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
		missing(t, name+" is not installed (make deps installs it)")
	}
	return p
}

// missing skips the test, or fails it when CI is set.
func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: tools/setup/install-deps.sh installs it", what)
	}
	t.Skip(what)
}
