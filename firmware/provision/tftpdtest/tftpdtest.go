// Package tftpdtest runs a real TFTP server for tests: tftpd-hpa's in.tftpd
// in the foreground on a 127.0.0.1 port held for the test (testtool.Port),
// serving a folder, stopped when the test ends. Without in.tftpd the test is
// skipped, or failed when the environment variable CI is set
// (testtool.Need; tools/setup/install-deps.sh installs it).
package tftpdtest

import (
	"bytes"
	"context"
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
	bin := testtool.Need(t, "in.tftpd")          // Debian package tftpd-hpa
	if err := os.Chmod(dir, 0o755); err != nil { // in.tftpd drops to the user below
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testtool.Port(t)))
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "--foreground", "--address", addr, "--user", u.Username, "--secure", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("in.tftpd stderr: %s", stderr.String())
		}
	})
	if err := waitReady(addr, 10*time.Second); err != nil {
		t.Fatalf("in.tftpd at %s never answered: %v", addr, err)
	}
	return addr
}

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
