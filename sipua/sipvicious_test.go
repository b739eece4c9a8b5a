package sipua

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestSipviciousCannotRing scans a UA with SIPVicious (svmap with INVITE
// and OPTIONS, svwar enumerating extensions with INVITE) on 127.0.0.1.
// With TrustedOnly (and so no trusted address, the line having no
// registrar) the phone sends nothing back, is not found and never rings;
// the same svmap finds a UA without TrustedOnly (its SDP-less INVITE gets
// 488 there), which shows the scan reaches the phone.
func TestSipviciousCannotRing(t *testing.T) {
	testtool.Long(t, "make race")
	svmap, svwar := testtool.Need(t, "svmap"), testtool.Need(t, "svwar") // Debian package sipvicious
	run := func(ua *UA, name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		port := fmt.Sprint(ua.LocalAddr().Port)
		args = append(args, "-p", port, "-b", "127.0.0.1", "-P", fmt.Sprint(testtool.Port(t)), "127.0.0.1")
		out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("%s: %v\n%s", name, ctx.Err(), out)
		}
		_ = err // both exit non-zero when they find nothing
		return string(out)
	}
	rang := func(ua *UA) bool {
		select {
		case e := <-ua.Events():
			if e.Kind != CallIncoming {
				t.Fatalf("event %+v", e)
			}
			_ = ua.Reject(e.Call, 486)
			return true
		case <-time.After(300 * time.Millisecond):
			return false
		}
	}

	var sent atomic.Int32
	start := func(trusted bool) *UA {
		cfg := Config{Listen: "127.0.0.1:0", TrustedOnly: trusted, Lines: []LineConfig{{User: "1001"}}, Logf: t.Logf}
		if trusted {
			cfg.Trace = func(td TraceDir, _ string, _ *net.UDPAddr, _ []byte) {
				dir := td.String()
				if dir == "send" {
					sent.Add(1)
				}
			}
		}
		ua, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := ua.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ua.Close() })
		return ua
	}

	open := start(false)
	found := func(ua *UA, out string) bool { return strings.Contains(out, ua.LocalAddr().String()) }
	if out := run(open, svmap, "-m", "INVITE"); !found(open, out) {
		t.Fatalf("control: svmap did not find an open UA:\n%s", out)
	}
	rang(open)

	guarded := start(true)
	out := run(guarded, svmap, "-m", "INVITE")
	out += run(guarded, svwar, "-m", "INVITE", "-e", "1000-1010")
	out += run(guarded, svmap, "-m", "OPTIONS")
	if found(guarded, out) || rang(guarded) || sent.Load() != 0 {
		t.Fatalf("a TrustedOnly phone answered a scan (%d datagrams sent):\n%s", sent.Load(), out)
	}
	t.Logf("scans of the TrustedOnly phone:\n%s", out)
}
