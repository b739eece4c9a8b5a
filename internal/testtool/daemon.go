package testtool

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Daemon starts bin (a peer's program, from Need) with args, as name in
// messages, and returns once its output (stdout and stderr together) holds
// seen, at most within wait (seen "": at once); the test fails if it exits
// or stays silent that long. It is killed when the test ends, and its
// output logged if the test failed. The readiness of a socket is the
// caller's to probe. Every peer a test starts and stops (dnsmasq, nginx,
// chronyd, rsyslogd, pulseaudio, rtpengine) starts here.
func Daemon(t testing.TB, name, bin string, args []string, seen string, wait time.Duration) *Proc {
	t.Helper()
	return DaemonEnv(t, name, bin, args, nil, seen, wait)
}

// DaemonEnv is Daemon with env added to the test's environment.
func DaemonEnv(t testing.TB, name, bin string, args, env []string, seen string, wait time.Duration) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out := &procOutput{seen: []byte(seen), ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testtool: %s: %v", name, err)
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
			t.Logf("%s %q:\n%s", name, args, out.String())
		}
	})
	p := &Proc{cmd: cmd, out: out, exited: exited}
	if seen == "" {
		return p
	}
	select {
	case <-out.ready:
	case <-exited:
		t.Fatalf("testtool: %s exited: %v\n%s", name, cmd.ProcessState, out.String())
	case <-time.After(wait):
		t.Fatalf("testtool: %s did not start in %v\n%s", name, wait, out.String())
	}
	return p
}

// Proc is a peer Daemon started.
type Proc struct {
	cmd    *exec.Cmd
	out    *procOutput
	exited chan struct{}
}

// Kill stops it at once (SIGKILL: a peer that stops mid-transfer) and
// waits until it has exited.
func (p *Proc) Kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// State is how it exited; nil while it runs.
func (p *Proc) State() *os.ProcessState {
	select {
	case <-p.exited:
		return p.cmd.ProcessState
	default:
		return nil
	}
}

// Output is what it has written so far (its first 64 KiB).
func (p *Proc) Output() string { return p.out.String() }

// Exited is closed when it has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

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
