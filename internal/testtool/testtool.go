// Package testtool is the one place tests ask for what they need from the
// machine: a peer's binary (sipp, kamailio, qemu-system-aarch64, ...), a
// prerequisite that is not a binary, network ports, and a DNS server
// serving the test's records (DNSMasq), and certificates signed by a CA
// the test makes (NewCA).
//
// A missing tool skips the test on a developer's machine but fails it
// under CI (CI set in the environment), where the project's own scripts
// (tools/setup/install-deps.sh) install everything: a green CI run can
// never hide a test that did not run.
//
// Ports are held, not picked and freed: Hold takes a lock file per port
// (flock, so it is released when the process dies) in a range below the
// kernel's ephemeral ports, and keeps it until released, so that parallel
// test processes (go test runs packages in parallel) and the kernel's own
// ephemeral binds never hand the same port to two peers.
package testtool

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// CI reports whether the tests run under CI (the environment has CI set).
func CI() bool { return os.Getenv("CI") != "" }

// Missing stops the test for a prerequisite the machine lacks: it fails
// under CI and skips elsewhere. what says what is missing and how to get it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("%s (tools/setup/install-deps.sh installs it; under CI a missing prerequisite fails)", msg)
	}
	t.Skip(msg)
}

// Find returns the path of a binary: on PATH, else in the sbin folders
// Debian installs daemons into (kamailio, dnsmasq, in.tftpd) that a
// user's PATH may lack.
func Find(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("testtool: %s is not installed", name)
}

// Need returns the path of the binary name, or stops the test as Missing
// does.
func Need(t testing.TB, name string) string {
	t.Helper()
	p, err := Find(name)
	if err != nil {
		Missing(t, "%s is not installed", name)
	}
	return p
}

// Go returns the go command of the toolchain running the test (its
// GOROOT's), else the one on PATH, or stops the test as Missing does: for
// tests that build or list packages.
func Go(t testing.TB) string {
	t.Helper()
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return Need(t, "go")
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Ports below the kernel's ephemeral range (32768-60999 on Linux):
// nothing binds here by chance. tools/lab holds its phones' ports here too.
const (
	portLow  = 10000
	portHigh = 19999
)

var (
	lockDir  = filepath.Join(os.TempDir(), "deskphone-test-ports")
	lockOnce sync.Once
)

// Held is a block of consecutive ports this process holds.
type Held struct {
	Base, N int
	locks   []*os.File
}

// Release gives the ports back.
func (h *Held) Release() {
	for _, f := range h.locks {
		f.Close() // closing the file drops its flock
	}
	h.locks = nil
}

// Hold takes n consecutive ports, each free on 127.0.0.1 for both UDP and
// TCP when taken, and holds them (against every other caller of Hold, in
// this process or another) until Release.
func Hold(n int) (*Held, error) { return hold(n, false) }

// HoldEven is Hold with an even first port: an RTP range whose pairs are
// RTP on the even port and RTCP on the odd one above (RFC 3550 11).
func HoldEven(n int) (*Held, error) { return hold(n, true) }

func hold(n int, even bool) (*Held, error) {
	if n < 1 || n > 100 {
		return nil, fmt.Errorf("testtool: hold %d ports", n)
	}
	lockOnce.Do(func() { _ = os.MkdirAll(lockDir, 0o777) })
	span := portHigh - portLow - n // room for the step up to an even base
	start := rand.IntN(span)
	for try := 0; try < 400; try++ {
		base := portLow + (start+try*n)%span
		if even && base%2 == 1 {
			base++
		}
		h := &Held{Base: base, N: n}
		ok := true
		for p := base; p < base+n; p++ {
			f, err := lockPort(p)
			if err != nil || !bindable(p) {
				if f != nil {
					f.Close()
				}
				ok = false
				break
			}
			h.locks = append(h.locks, f)
		}
		if ok {
			return h, nil
		}
		h.Release()
	}
	return nil, errors.New("testtool: no free port block")
}

// lockPort takes the lock file of port p, or fails when another holder has it.
func lockPort(p int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(lockDir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// bindable reports whether p is free on 127.0.0.1 for UDP and TCP.
func bindable(p int) bool {
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}
	u, err := net.ListenUDP("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: addr.IP, Port: p})
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Ports holds n consecutive ports for the life of the test and returns the
// first.
func Ports(t testing.TB, n int) int {
	t.Helper()
	h, err := Hold(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Release)
	return h.Base
}

// EvenPorts is Ports with an even first port (HoldEven).
func EvenPorts(t testing.TB, n int) int {
	t.Helper()
	h, err := HoldEven(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Release)
	return h.Base
}

// Port holds one port (free for UDP and TCP) for the life of the test.
func Port(t testing.TB) int {
	t.Helper()
	return Ports(t, 1)
}
