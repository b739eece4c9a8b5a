package qemu

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// Console collects a guest's console output (Phone.Console) for a test or
// tool to read while QEMU runs. It is safe for concurrent use.
type Console struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *Console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// String returns everything written so far.
func (c *Console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// WaitFor waits until the console holds a match of re and returns it. It
// gives up when ctx ends or done (an Instance's Done) is closed.
func (c *Console) WaitFor(ctx context.Context, re *regexp.Regexp, done <-chan struct{}) (string, error) {
	for {
		if m := re.FindString(c.String()); m != "" {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("qemu: no console line matching %s: %w", re, ctx.Err())
		case <-done:
			if m := re.FindString(c.String()); m != "" {
				return m, nil
			}
			return "", fmt.Errorf("qemu: no console line matching %s: QEMU exited", re)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
