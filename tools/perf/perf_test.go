package perf

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/interop"
)

// TestRun runs the whole measurement once, small (1 s idle, 3 s of
// call), so that make perf never rots: it checks that both calls were up
// with audio both ways and that every figure was read and is sane, never
// how large a figure is. With -short (make unit) it skips: make peers runs
// it.
func TestRun(t *testing.T) {
	testtool.Long(t, "make peers")
	bin := testtool.Need(t, "baresip")
	if interop.BaresipModules() == "" {
		testtool.Missing(t, "baresip's modules (g711.so) are not installed")
	}
	testtool.Need(t, "go") // the lab builds phoned
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, Options{Call: 3 * time.Second, Idle: time.Second, Settle: 500 * time.Millisecond,
		Dir: t.TempDir(), Baresip: bin, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.Format(&out, true)
	t.Logf("\n%s", out.String())
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Pairs {
		if !strings.HasPrefix(p.Codec, "PCM") {
			t.Errorf("%s pair: codec %q, want G.711", p.Name, p.Codec)
		}
	}
	for _, q := range r.Ratios {
		if q.RSS <= 0 || q.Threads <= 0 || q.CPU < 0 || q.Wakeups <= 0 {
			t.Errorf("ratios %+v", q)
		}
	}
	// The JSON form (-json) carries the same figures.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Procs) != 4 || back.Procs[0].Call.WakeupsPerSec != r.Procs[0].Call.WakeupsPerSec || back.Procs[3].PID != r.Procs[3].PID {
		t.Fatalf("JSON round trip: %s", b)
	}
}

func TestSDPCodec(t *testing.T) {
	for _, c := range []struct{ sdp, want string }{
		{"v=0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n", "PCMU/8000, ptime 20 ms"},
		{"v=0\r\nm=audio 4000 RTP/AVP 8\r\n", "PCMA/8000, no ptime (20 ms by default)"},
		{"v=0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n", "opus/48000/2, no ptime (20 ms by default)"},
		{"v=0\r\n", ""},
	} {
		raw := "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\n" + c.sdp
		if got := sdpCodec([]byte(raw)); got != c.want {
			t.Errorf("sdpCodec(%q) = %q, want %q", c.sdp, got, c.want)
		}
	}
}
