// The race detector allocates on its own: allocation counts are checked
// in builds without it (make unit and make peers), not under -race.

//go:build !race

package phone

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/sipua"
)

var _ hal.DisplayWriter = hal.Discard

// quietUA and quietMedia are the fakes without their records.
type quietUA struct{ *fakeUA }

func (quietUA) Hold(sipua.CallID, bool) error { return nil }

type quietMedia struct{ *fakeMedia }

func (quietMedia) SendDTMF(byte, time.Duration) error { return nil }
func (quietMedia) SetMute(bool)                       {}
func (quietMedia) SetTone(string) error               { return nil }
func (quietMedia) StopStream()                        {}
func (quietMedia) StartStreamOptions(*net.UDPConn, *net.UDPAddr, audio.Codec, audio.StreamOptions) error {
	return nil
}

// phoneAllocs is how many heap objects the phone's code has allocated so
// far: the memory profile's objects (at MemProfileRate 1) whose stack
// passes through a method of Phone. The runtime's own objects (testing/
// synctest's clock, the collector's) are not the phone's and are not
// counted, so the count is exact and steady whatever the machine does.
func phoneAllocs(t *testing.T) map[string]int64 {
	t.Helper()
	// The profile is published by collections: two make it current.
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+64)
	}
	by := map[string]int64{} // by stack
	for _, r := range recs {
		frames := runtime.CallersFrames(r.Stack())
		var stack strings.Builder
		phone := false
		for {
			f, more := frames.Next()
			fmt.Fprintf(&stack, "\n\t%s:%d", f.Function, f.Line)
			phone = phone || strings.HasPrefix(f.Function, "github.com/deskphone/deskphone/firmware/phone.(*Phone).")
			if !more {
				break
			}
		}
		// A select's waiters (sudogs) are the runtime's, pooled per P: a
		// select that runs on a P whose pool the collector emptied takes
		// new ones, whichever code selects (tools/lab's whole-process
		// test counts them).
		if phone && !strings.Contains(stack.String(), "runtime.acquireSudog") {
			by[stack.String()] += r.AllocObjects
		}
	}
	return by
}

// allocsSince is what the phone allocated between two phoneAllocs, by stack.
func allocsSince(before, after map[string]int64) (n int64, where string) {
	for st, a := range after {
		if d := a - before[st]; d > 0 {
			n += d
			where += fmt.Sprintf("\n%d at:%s", d, st)
		}
	}
	return n, where
}

// TestSteadyCallAllocs: after its first second a call costs the phone no
// heap allocation, whatever happens in it: the digit poll every 40 ms,
// digits sent and received, hold and resume both ways, the status asked
// for (DESIGN.md: the fixed-allocation core; the whole process is checked
// in tools/lab, TestSteadyAllocsSim).
func TestSteadyCallAllocs(t *testing.T) {
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1 // every object is in the profile
	synctest.Test(t, func(t *testing.T) {
		// The status row's clock and call timer tick every second.
		l := startLiveDeps(t, func(c *config.Config) { c.TimeZone = "Europe/Berlin" },
			func(d *Deps) { d.Clock = wallAt(time.Date(2026, 12, 2, 9, 41, 0, 0, time.UTC), true) })
		l.p.d.Out, l.p.dw = hal.Discard, hal.Discard
		l.p.d.UA = quietUA{l.ua}
		m := quietMedia{l.m}
		l.p.d.Media = m
		l.sip(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered})
		l.sip(incoming(1, "1002"))
		l.hook(true)
		if l.p.state != Connected {
			t.Fatalf("state %s", l.p.state)
		}
		status := make([]byte, 0, 128)
		far := []byte("7#") // the far end's digits, read by ReadDigit
		step := func() {
			l.sleep(time.Second)
			l.key("5")
			m.mu.Lock()
			m.rx = far
			m.mu.Unlock()
			l.sleep(100 * time.Millisecond)
			l.key("hold")
			l.sip(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: l.ua.remote})
			l.key("hold")
			l.sip(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: l.ua.remote})
			l.sip(sipua.Event{Kind: sipua.CallHeld, Call: 1})
			l.sip(sipua.Event{Kind: sipua.CallResumed, Call: 1, Remote: l.ua.remote})
			l.key("mute")
			l.key("mute")
			status = l.p.AppendStatus(status[:0])
		}
		step() // the first second: buffers grow to their size
		before := phoneAllocs(t)
		for range 10 {
			step()
		}
		if n, where := allocsSince(before, phoneAllocs(t)); n != 0 {
			t.Errorf("10 s of a call: the phone made %d heap objects, want 0:%s", n, where)
		}
		if got, want := string(status), "reg=1:registered phone=connected calls=1"; got != want {
			t.Errorf("status %q, want %q", got, want)
		}
	})
}
