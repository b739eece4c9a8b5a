package sipua

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// loopStackHeld fails t if the UA's loop stack was copied since the loop
// grew it (loopStack): grown by a call's work, or shrunk by a collection,
// which the two here give the chance to.
func loopStackHeld(t *testing.T, ua *UA) {
	t.Helper()
	runtime.GC()
	runtime.GC()
	// Two turns of the loop: a move is counted at the top of the turn
	// after it, so the second turn's work runs after the first's count.
	for range 2 {
		if err := ua.do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := ua.stackMoves.Load(); n != 0 {
		t.Errorf("the UA's loop stack was copied %d times (loopStack %d KiB too small, or its reserve too small to keep it)", n, loopStack>>10)
	}
}

// TestLoopStackStays: a call's deepest work on the UA's loop fits in the
// stack it grew before (DESIGN.md, "Memory"), each side's: an INVITE
// answered with a digest challenge (SIPp's uas_auth: the INVITE again with
// its Authorization), and a call between two UAs with hold and resume
// (re-INVITEs both ways), hung up by the callee; and collections after it
// leave the stack where it is.
func TestLoopStackStays(t *testing.T) {
	t.Run("challenged", func(t *testing.T) {
		port := testtool.Port(t)
		wait := sipp(t, "-sf", scenario("uas_auth"), "-p", fmt.Sprint(port))
		ua, _ := startUA(t, LineConfig{User: "1001", Password: "secret"})
		loopStackHeld(t, ua) // started: nothing moved yet
		id, err := ua.Dial(1, fmt.Sprintf("sip:service@127.0.0.1:%d", port), media(10000, "PCMU"))
		if err != nil {
			t.Fatal(err)
		}
		expect(t, ua, CallProgress)
		expect(t, ua, CallAnswered)
		if err := ua.Hangup(id); err != nil {
			t.Fatal(err)
		}
		expect(t, ua, CallEnded)
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		loopStackHeld(t, ua)
	})
	t.Run("both sides", func(t *testing.T) {
		a, _ := startUA(t, LineConfig{User: "1001"})
		b, _ := startUA(t, LineConfig{User: "1002"})
		id, err := a.Dial(1, target(b, "1002"), media(10000, "PCMU", "PCMA"))
		if err != nil {
			t.Fatal(err)
		}
		in := expect(t, b, CallIncoming)
		if err := b.Ring(in.Call); err != nil {
			t.Fatal(err)
		}
		expect(t, a, CallProgress)
		if _, err := b.Answer(in.Call, media(20000, "PCMU")); err != nil {
			t.Fatal(err)
		}
		expect(t, b, CallAnswered)
		expect(t, a, CallAnswered)
		if err := a.Hold(id, true); err != nil {
			t.Fatal(err)
		}
		expect(t, b, CallHeld)
		if err := a.Hold(id, false); err != nil {
			t.Fatal(err)
		}
		expect(t, b, CallResumed)
		if err := b.Hangup(in.Call); err != nil {
			t.Fatal(err)
		}
		expect(t, a, CallEnded)
		expect(t, b, CallEnded)
		loopStackHeld(t, a)
		loopStackHeld(t, b)
	})
}
