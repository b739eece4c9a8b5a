package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/tools/lab"
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

// mediaRange returns 10 free UDP ports for a peer's RTP that stay clear of
// the RTP range of the sim phone ext in the lab folder dir (the phone binds
// its ports only when a call starts, so they look free until then).
func mediaRange(dir, ext string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, ext+".cfg"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "rtp.port_min" {
			phone, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, err
			}
			return lab.FreeUDPRange(10, phone)
		}
	}
	return 0, fmt.Errorf("interop: no rtp.port_min in %s.cfg", ext)
}
