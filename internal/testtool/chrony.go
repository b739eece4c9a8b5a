package testtool

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Chrony starts chronyd (Debian's chrony) as an NTP server on 127.0.0.1 at
// a port held for the test and returns its address ("127.0.0.1:port"). It
// serves its own clock as stratum 8 (local stratum: no sources), never
// touches the system clock (-x) and opens no command port. It returns once
// chronyd has bound its socket; it is killed when the test ends. Without
// chronyd the test stops as Need says.
func Chrony(t testing.TB) (server string) {
	t.Helper()
	bin := Need(t, "chronyd")
	port := Port(t)
	dir := t.TempDir()
	conf := "port " + strconv.Itoa(port) + "\n" +
		"bindaddress 127.0.0.1\n" +
		"cmdport 0\n" +
		"local stratum 8\n" +
		"allow 127.0.0.1\n" +
		"pidfile " + filepath.Join(dir, "chronyd.pid") + "\n" +
		"driftfile " + filepath.Join(dir, "drift") + "\n"
	file := filepath.Join(dir, "chrony.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-d", "-x", "-f", file, "-L", "0"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // chronyd would drop to _chrony, which cannot read t.TempDir()
	}
	Daemon(t, "chronyd", bin, args, "chronyd version", 10*time.Second)
	// Its socket is bound once it has read the configuration; a brief
	// wait for it (the caller's query retries anyway), read from the
	// kernel's socket table: a probe that bound the port itself could take
	// it in the moment chronyd binds, and chronyd does not try again.
	server = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if udpBound(port) {
			return server
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("testtool: chronyd did not bind %s in 5 s", server)
	return ""
}

// udpBound says whether a UDP socket is bound to 127.0.0.1:port, from
// /proc/net/udp (local_address as hex "0100007F:PORT").
func udpBound(port int) bool {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == want {
			return true
		}
	}
	return false
}
