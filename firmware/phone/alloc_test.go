package phone

import (
	"net"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/sipua"
)

var _ hal.DisplayWriter = quietOut{}

// quietOut is an observer that keeps nothing: what the phone itself
// allocates is what is counted.
type quietOut struct{}

func (quietOut) Reg(int, string)          {}
func (quietOut) Phone(string)             {}
func (quietOut) Call(int, string, string) {}
func (quietOut) Ring(bool, string)        {}
func (quietOut) Tone(string)              {}
func (quietOut) LED(string, string)       {}
func (quietOut) Display(int, string)      {}
func (quietOut) MWI(int, int, int)        {}
func (quietOut) Log(string)               {}
func (quietOut) DisplayBytes(int, []byte) {}

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

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// TestSteadyCallAllocs: after its first second a call costs the phone no
// heap allocation, whatever happens in it: the digit poll every 40 ms,
// digits sent and received, hold and resume both ways, the status asked
// for (DESIGN.md: the fixed-allocation core; the whole process is checked
// in tools/lab, TestSteadyAllocsSim).
func TestSteadyCallAllocs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, nil)
		l.p.d.Out = quietOut{}
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
		before := mallocs()
		for range 10 {
			step()
		}
		if n := mallocs() - before; n != 0 && !raceOn {
			t.Errorf("10 s of a call: %d heap allocations, want 0 (go test -run TestSteadyCallAllocs -memprofile m.out -memprofilerate 1 ./firmware/phone)", n)
		}
		if got, want := string(status), "reg=1:registered phone=connected calls=1"; got != want {
			t.Errorf("status %q, want %q", got, want)
		}
	})
}
