package testtool

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// SIPp starts sipp with the base flags every test's sipp runs with (bound
// to 127.0.0.1, one call, no keyboard, a 15 s scenario timeout that is an
// error) and then args, killed after 20 s at most, and returns a wait
// that reports how it ended, its output included when it failed.
func SIPp(t testing.TB, args ...string) (wait func() error) {
	t.Helper()
	path := Need(t, "sipp")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	base := []string{"-i", "127.0.0.1", "-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error"}
	cmd := exec.CommandContext(ctx, path, append(base, args...)...)
	out := &procOutput{seen: []byte("\x00"), ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return func() error {
		defer cancel()
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("sipp: %w\n%s", err, out.String())
		}
		return nil
	}
}
