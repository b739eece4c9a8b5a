// Package tftpdtest runs a real TFTP server for tests and benchmarks:
// tftpd-hpa's in.tftpd in the foreground on a 127.0.0.1 port held for the
// test (testtool.Port), serving a folder, stopped when the test ends
// (Start; Serve for a tool that is not a test, tools/fleet). Without in.tftpd the test is
// skipped, or failed when the environment variable CI is set
// (testtool.Need; tools/setup/install-deps.sh installs it).
package tftpdtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// Start serves dir with in.tftpd and returns its address, once it answers.
func Start(t testing.TB, dir string) string {
	t.Helper()
	bin := testtool.Need(t, "in.tftpd") // Debian package tftpd-hpa
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testtool.Port(t)))
	s, err := Serve(bin, addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("in.tftpd stderr: %s", s.Stderr())
		}
	})
	return addr
}

// Server is a running in.tftpd.
type Server struct {
	Addr   string // host:port it serves on
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stderr bytes.Buffer
}

// Serve starts in.tftpd (bin) in the foreground serving dir, read only,
// on addr (host:port), and returns once it answers (at most 10 s). It
// runs at most MaxRun; Stop ends it sooner. Start is Serve for a test; a
// tool that is not a test (tools/fleet) calls Serve itself.
func Serve(bin, addr, dir string) (*Server, error) {
	if err := os.Chmod(dir, 0o755); err != nil { // in.tftpd drops to the user below
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), MaxRun)
	s := &Server{Addr: addr, cancel: cancel}
	s.cmd = exec.CommandContext(ctx, bin, "--foreground", "--address", addr, "--user", u.Username, "--secure", dir)
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	if err := waitReady(addr, 10*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("tftpdtest: in.tftpd at %s never answered: %v: %s", addr, err, s.Stderr())
	}
	return s, nil
}

// MaxRun bounds an in.tftpd's life: a test or tool that forgets to stop
// it does not leave it serving.
const MaxRun = 10 * time.Minute

// PID is in.tftpd's process ID (it forks a child per transfer, whose CPU
// time is counted in the parent's once reaped).
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends in.tftpd and waits for it.
func (s *Server) Stop() {
	s.cancel()
	s.cmd.Wait()
}

// Stderr is what in.tftpd wrote on its standard error (after Stop).
func (s *Server) Stderr() string { return s.stderr.String() }

// waitReady sends a read request (RFC 1350) for a file that is not there
// until the server answers anything, or d has passed. The answer comes from
// a new port (the server's transfer ID), so the socket is not connected.
func waitReady(addr string, d time.Duration) error {
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	rrq := append([]byte{0, 1}, "tftpdtest-probe\x00octet\x00"...)
	buf := make([]byte, 516)
	deadline := time.Now().Add(d)
	for {
		if _, err = c.WriteToUDP(rrq, to); err == nil {
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, _, err = c.ReadFromUDP(buf); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return err
		}
	}
}
