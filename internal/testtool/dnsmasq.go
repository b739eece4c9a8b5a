package testtool

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsmasqBase are the flags every test's dnsmasq runs with: in the
// foreground, logging to stderr (each query too), reading no
// configuration, resolv.conf or /etc/hosts, writing no pid file, bound to
// 127.0.0.1 only; DNSMasq adds the port.
var dnsmasqBase = []string{
	"--keep-in-foreground", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file=",
	"--listen-address=127.0.0.1", "--bind-interfaces",
	"--log-queries", "--log-facility=-",
}

// DNSMasq starts dnsmasq (dnsmasq-base) on 127.0.0.1 at a port held for
// the test, with the base flags above and flags (its record flags, e.g.
// "--srv-host=...", "--naptr-record=...", "--host-record=...", and any
// other, e.g. "--local=/example.test/"), and returns its address
// ("127.0.0.1:port"). It returns once dnsmasq answers a query (at most
// 10 s); dnsmasq is killed when the test ends, and its output logged if
// the test failed. Without dnsmasq the test stops as Need says.
//
// The readiness probe is an A query for probe.invalid. that the
// resolver under test never sees: its cache starts empty.
func DNSMasq(t testing.TB, flags ...string) (server string) {
	t.Helper()
	bin := Need(t, "dnsmasq")
	port := Port(t)
	server = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append(append(append([]string(nil), dnsmasqBase...), "--port="+strconv.Itoa(port)), flags...)
	cmd := exec.Command(bin, args...)
	out := &procOutput{seen: []byte("started, version"), ready: make(chan struct{})}
	exited := startDaemon(t, cmd, out)
	// dnsmasq logs "started" once its sockets are bound; a probe then
	// checks that it answers
	deadline := time.Now().Add(10 * time.Second)
	select {
	case <-out.ready:
	case <-exited:
		t.Fatalf("testtool: dnsmasq exited: %v\n%s", cmd.ProcessState, out.String())
	case <-time.After(time.Until(deadline)):
		t.Fatalf("testtool: dnsmasq did not start in 10 s\n%s", out.String())
	}
	var err error
	for id := uint16(1); time.Now().Before(deadline); id++ {
		if err = probeDNS(server, id, time.Second); err == nil {
			return server
		}
	}
	t.Fatalf("testtool: dnsmasq does not answer on %s: %v\n%s", server, err, out.String())
	return ""
}

// probeDNS asks server for the A records of probe.invalid. and reports
// whether any answer to that question came back within timeout (an
// NXDOMAIN or REFUSED answer counts: the server is up).
func probeDNS(server string, id uint16, timeout time.Duration) error {
	name := dnsmessage.MustNewName("probe.invalid.")
	q := dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	msg, err := (&dnsmessage.Message{Header: dnsmessage.Header{ID: id}, Questions: []dnsmessage.Question{q}}).Pack()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", server)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(msg); err != nil {
		return err
	}
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil || h.ID != id || !h.Response {
			continue
		}
		if got, err := p.Question(); err == nil && got.Name == name && got.Type == q.Type {
			return nil
		}
	}
}

// startDaemon starts a peer's daemon (cmd) for the test, its output into
// out, and kills it when the test ends, logging the output if the test
// failed. The channel is closed when it has exited.
func startDaemon(t testing.TB, cmd *exec.Cmd, out *procOutput) <-chan struct{} {
	t.Helper()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testtool: %s: %v", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%q:\n%s", cmd.Args, out.String())
		}
	})
	return exited
}

// procOutput keeps a process's output (the first 64 KiB) and closes ready
// when the output first holds seen.
type procOutput struct {
	mu    sync.Mutex
	b     bytes.Buffer
	seen  []byte
	ready chan struct{} // closed once, never reassigned
	saw   bool
}

func (s *procOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() < 64<<10 {
		s.b.Write(p)
	}
	if !s.saw && bytes.Contains(s.b.Bytes(), s.seen) {
		s.saw = true
		close(s.ready)
	}
	return len(p), nil
}

func (s *procOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
