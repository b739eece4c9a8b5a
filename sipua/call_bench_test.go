package sipua

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// Allocations for a whole call, INVITE to BYE. Each side is measured with
// SIPp as the other side in its own process, so -benchmem's allocs/op are
// this UA's alone (its loop, transactions, dialog, SDP, timers, events and
// the benchmark's API calls). BenchmarkCallBothSides needs nothing
// installed: two UAs in this process, both sides' allocations summed.

// sippBench starts SIPp for n calls, one at a time; it skips without sipp.
func sippBench(b *testing.B, n int, args ...string) (wait func()) {
	b.Helper()
	path := testtool.Need(b, "sipp")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second+time.Duration(n)*time.Second)
	base := []string{"-i", "127.0.0.1", "-m", fmt.Sprint(n), "-l", "1", "-r", "1000", "-nostdin", "-timeout", "50s", "-timeout_error",
		"-mp", fmt.Sprint(testtool.Ports(b, 4))}
	cmd := exec.CommandContext(ctx, path, append(base, args...)...)
	out := &limitedBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	return func() {
		defer cancel()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("sipp: %v\n%s", err, out.b)
		}
	}
}

func benchUA(b *testing.B, user string) *UA {
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: user}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ua.Close() })
	return ua
}

// watchdog is one timer for every wait of a benchmark, so the waits add
// no allocations of their own to the figures.
var watchdog = time.NewTimer(time.Hour)

func next(b *testing.B, ua *UA, want EventKind) Event {
	watchdog.Reset(10 * time.Second)
	defer watchdog.Stop()
	select {
	case e := <-ua.Events():
		if e.Kind != want {
			b.Fatalf("event %v %+v, want %v", e.Kind, e, want)
		}
		return e
	case <-watchdog.C:
		b.Fatalf("no %v", want)
	}
	return Event{}
}

// BenchmarkCallCaller: the phone calls SIPp's uas scenario (INVITE, 100,
// 180, 200, ACK) and hangs up (BYE, 200).
func BenchmarkCallCaller(b *testing.B) {
	port := testtool.Port(b)
	wait := sippBench(b, b.N+1, "-sn", "uas", "-p", fmt.Sprint(port))
	ua := benchUA(b, "1001")
	to := fmt.Sprintf("sip:service@127.0.0.1:%d", port)
	call := func() {
		id, err := ua.Dial(1, to, media(10000, "PCMU", "PCMA"))
		if err != nil {
			b.Fatal(err)
		}
		next(b, ua, CallProgress)
		next(b, ua, CallAnswered)
		if err := ua.Hangup(id); err != nil {
			b.Fatal(err)
		}
		next(b, ua, CallEnded)
	}
	call() // warm up (SIPp may bind late: the first INVITE is retransmitted)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		call()
	}
	b.StopTimer()
	wait()
}

// BenchmarkCallCallee: SIPp's uac scenario calls the phone, which rings
// and answers; SIPp hangs up.
func BenchmarkCallCallee(b *testing.B) {
	ua := benchUA(b, "1002")
	wait := sippBench(b, b.N+1, "-sn", "uac", "-s", "1002", "-p", fmt.Sprint(testtool.Port(b)), ua.LocalAddr().String())
	call := func() {
		in := next(b, ua, CallIncoming)
		if err := ua.Ring(in.Call); err != nil {
			b.Fatal(err)
		}
		if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
			b.Fatal(err)
		}
		next(b, ua, CallAnswered)
		next(b, ua, CallEnded)
	}
	call()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		call()
	}
	b.StopTimer()
	wait()
}

// BenchmarkCallBothSides: two UAs in this process, a call from one to the
// other and back to idle; allocs/op are both sides together.
func BenchmarkCallBothSides(b *testing.B) {
	a := benchUA(b, "1001")
	c := benchUA(b, "1002")
	to := "sip:1002@" + c.LocalAddr().String()
	call := func() {
		id, err := a.Dial(1, to, media(10000, "PCMU"))
		if err != nil {
			b.Fatal(err)
		}
		in := next(b, c, CallIncoming)
		if err := c.Ring(in.Call); err != nil {
			b.Fatal(err)
		}
		next(b, a, CallProgress)
		if _, err := c.Answer(in.Call, media(20000, "PCMU")); err != nil {
			b.Fatal(err)
		}
		next(b, c, CallAnswered)
		next(b, a, CallAnswered)
		// Wait for the ACK: the callee's CallAnswered comes before it.
		for range 100 {
			var st callState
			_ = c.do(func() error { st = c.calls[in.Call].state; return nil })
			if st == csConfirmed {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err := a.Hangup(id); err != nil {
			b.Fatal(err)
		}
		next(b, a, CallEnded)
		next(b, c, CallEnded)
	}
	call()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		call()
	}
}
