package phone

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/sipua"
)

// fakeInput is the keypad and hook as a channel.
type fakeInput chan hal.Event

func (f fakeInput) Events() <-chan hal.Event { return f }

// live is a rig whose phone runs its own goroutine (Run) inside a
// testing/synctest bubble: timers run on the bubble's fake clock. After
// each step the test waits until the phone is idle again (synctest.Wait),
// so reading the fakes is race free.
type live struct {
	*rig
	in  fakeInput
	mwi chan MWI
}

func startLive(t *testing.T, edit func(*config.Config)) *live { return startLiveDeps(t, edit, nil) }

// startLiveDeps is startLive with the phone's dependencies changed by dep
// before it runs.
func startLiveDeps(t *testing.T, edit func(*config.Config), dep func(*Deps)) *live {
	r := newRigWith(t, edit)
	if dep != nil {
		dep(&r.p.d)
	}
	l := &live{rig: r, in: make(fakeInput, 4), mwi: make(chan MWI, 4)}
	r.p.d.Input = l.in
	r.p.d.MWI = l.mwi
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	synctest.Wait()
	r.out.take()
	return l
}

func (l *live) key(k string) { l.in <- hal.Event{Kind: hal.KeyPress, Key: k}; synctest.Wait() }
func (l *live) hook(off bool) {
	k := hal.HookOn
	if off {
		k = hal.HookOff
	}
	l.in <- hal.Event{Kind: k}
	synctest.Wait()
}
func (l *live) sip(ev sipua.Event) { l.ua.events <- ev; synctest.Wait() }
func (l *live) sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func incoming(id int, peer string) sipua.Event {
	return sipua.Event{Kind: sipua.CallIncoming, Call: sipua.CallID(id), Peer: peer, Number: peer,
		Remote: &sipua.Media{Host: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU"}}}
}

func TestForwarding(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*config.Config)
		setup func(r *rig)
		want  string // the UA call for the incoming call 9
		panel string
	}{
		{"always", func(c *config.Config) { c.ForwardAlways = "1003" }, nil, "redirect 9 1003 unconditional", "call 9 forwarded 1002"},
		{"always to voicemail", func(c *config.Config) { c.ForwardAlways, c.VoicemailNumber = "vm", "8000" }, nil, "redirect 9 8000 unconditional", "call 9 forwarded 1002"},
		{"busy off hook", func(c *config.Config) { c.ForwardBusy = "1004" }, func(r *rig) { r.hook(true) }, "redirect 9 1004 user-busy", "call 9 forwarded 1002"},
		{"busy in a call", func(c *config.Config) { c.ForwardBusy = "1004" }, func(r *rig) { r.hook(true); r.key("5"); r.key("send") }, "redirect 9 1004 user-busy", "call 9 forwarded 1002"},
		{"busy without target", nil, func(r *rig) { r.hook(true) }, "reject 9 486", "call 9 ended:486 1002"},
		{"dnd", func(c *config.Config) { c.ForwardBusy = "1004" }, func(r *rig) { r.key("dnd") }, "redirect 9 1004 do-not-disturb", "call 9 forwarded 1002"},
		{"dnd from config", func(c *config.Config) { c.DND = true }, nil, "reject 9 486", "call 9 ended:486 1002"},
		{"fwd key", nil, func(r *rig) { r.key("1"); r.key("0"); r.key("0"); r.key("7"); r.key("fwd") }, "redirect 9 1007 unconditional", "call 9 forwarded 1002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigWith(t, tc.edit)
			if tc.setup != nil {
				tc.setup(r)
			}
			r.out.take()
			r.p.onSIP(incoming(9, "1002"))
			has(t, r.ua.calls, tc.want)
			has(t, r.out.take(), tc.panel)
			if r.p.call != nil && r.p.call.id == 9 {
				t.Fatal("the forwarded call became the phone's call")
			}
			// The user agent's CallEnded 302 that follows changes nothing.
			r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 9, Code: 302})
			if got := r.out.take(); len(got) != 0 {
				t.Fatalf("CallEnded after forwarding: %v", got)
			}
		})
	}
}

func TestFwdKeyOffAndDNDLamp(t *testing.T) {
	r := newRig(t)
	r.key("4")
	r.key("fwd")
	has(t, r.out.take(), "log forward every call to 4", "phone idle", "display 1 Fwd to 4")
	r.key("fwd")
	has(t, r.out.take(), "log forwarding off", "display 1 ")
	r.key("dnd")
	has(t, r.out.take(), "led dnd on", "display 1 Do not disturb")
	r.key("dnd")
	has(t, r.out.take(), "led dnd off")
	r.p.onSIP(incoming(3, "1002"))
	has(t, r.out.take(), "phone ringing", "call 3 incoming 1002")
}

func TestNoAnswerForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, func(c *config.Config) {
			c.ForwardNoAnswer, c.VoicemailNumber, c.NoAnswerSeconds = "vm", "8000", 15
		})
		l.sip(incoming(5, "1002"))
		has(t, l.out.take(), "phone ringing", "ring on normal")
		l.sleep(14 * time.Second)
		if len(l.ua.snap()) != 1 { // ring 5 only
			t.Fatalf("before the time: %v", l.ua.snap())
		}
		l.sleep(2 * time.Second)
		has(t, l.ua.snap(), "ring 5", "redirect 5 8000 no-answer")
		has(t, l.out.take(), "ring off", "call 5 forwarded 1002", "phone idle")
		l.sip(sipua.Event{Kind: sipua.CallEnded, Call: 5, Code: 302})

		// Answered in time: no forwarding.
		l.sip(incoming(6, "1003"))
		l.sleep(10 * time.Second)
		l.hook(true)
		l.sleep(time.Minute)
		for _, c := range l.ua.snap() {
			if c == "redirect 6 8000 no-answer" {
				t.Fatal("an answered call was forwarded")
			}
		}
		// A call the caller gives up on stops the timer too.
		l.hook(false)
		l.sip(incoming(7, "1003"))
		l.sip(sipua.Event{Kind: sipua.CallEnded, Call: 7, Code: 487})
		l.sleep(time.Minute)
		has(t, l.ua.snap(), "ring 7")
		if last := l.ua.snap()[len(l.ua.snap())-1]; last != "ring 7" {
			t.Fatalf("after a cancelled call: %s", last)
		}
	})
}

func TestMWI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, nil)
		l.mwi <- MWI{Line: 1, Waiting: true, New: 2, Old: 1}
		synctest.Wait()
		has(t, l.out.take(), "mwi 1 2/1", "led mwi on", "display 1 2 new voicemail")
		l.mwi <- MWI{Line: 1, Waiting: false, New: 0, Old: 3}
		synctest.Wait()
		has(t, l.out.take(), "mwi 1 0/3", "led mwi off", "display 1 ")
	})
	// The vm key calls the box.
	r := newRigWith(t, func(c *config.Config) { c.VoicemailNumber = "8000" })
	r.key("vm")
	has(t, r.out.take(), "phone calling", "call 1 calling 8000")
	r = newRig(t)
	r.key("vm")
	has(t, r.out.take(), "log vm: no voicemail.number configured")
}

func TestDialPlan(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		keys string
		want string // "" = no call
	}{
		{"digit map complete", func(c *config.Config) { c.DigitMap = "[2-9]xxx|0x." }, "2001", "dial 1 2001"},
		{"digit map open", func(c *config.Config) { c.DigitMap = "[2-9]xxx|0x." }, "0123", ""},
		{"pound sends", nil, "0123#", "dial 1 0123"},
		{"pound kept", func(c *config.Config) { c.PoundSends = false }, "0123#", ""},
		{"speed dial", func(c *config.Config) { c.SpeedDial[2] = "sip:bob@example.com" }, "*3", "dial 1 sip:bob@example.com"},
		{"speed dial unset", nil, "*3", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigWith(t, tc.edit)
			r.hook(true)
			for _, k := range tc.keys {
				r.key(string(k))
			}
			if tc.want == "" {
				if len(r.ua.calls) != 0 || r.p.state != Dialing {
					t.Fatalf("state %s, calls %v", r.p.state, r.ua.calls)
				}
				return
			}
			if len(r.ua.calls) != 1 || !hasPrefix(r.ua.calls[0], tc.want+" ") {
				t.Fatalf("calls %v, want %s", r.ua.calls, tc.want)
			}
		})
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func TestInterdigitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, func(c *config.Config) { c.InterdigitSeconds = 4 })
		l.hook(true)
		l.key("1")
		l.sleep(3 * time.Second)
		l.key("2") // restarts the timer
		l.sleep(3 * time.Second)
		if len(l.ua.snap()) != 0 {
			t.Fatalf("sent early: %v", l.ua.snap())
		}
		l.sleep(2 * time.Second)
		has(t, l.ua.snap(), "dial 1 12 192.0.2.10:true [PCMU PCMA]")
		// On hook (dialling before lifting), the timer does not send.
		l.hook(false)
		l.key("7")
		l.sleep(time.Minute)
		if len(l.ua.snap()) != 2 { // dial, hangup
			t.Fatalf("on hook: %v", l.ua.snap())
		}
	})
}

func TestHistory(t *testing.T) {
	r := newRigWith(t, func(c *config.Config) { c.HistorySize = 2 })
	r.key("up")
	has(t, r.out.take(), "display 1 No calls")
	// A missed call, an answered call, a failed call: two are kept.
	r.p.onSIP(incoming(1, "1002"))
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 487})
	r.p.onSIP(incoming(2, "1003"))
	r.hook(true)
	r.hook(false)
	r.hook(true)
	r.key("4")
	r.key("send")
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 404})
	r.hook(false)
	r.out.take()
	r.key("up")
	r.key("up")
	r.key("up")
	r.key("down")
	has(t, r.out.take(), "display 1 1/2 out 4 failed:404", "display 1 2/2 in 1003 answered", "display 1 2/2 in 1003 answered", "display 1 1/2 out 4 failed:404")
	r.key("up")
	r.key("ok") // calls the entry shown
	has(t, r.out.take(), "phone calling", "call 2 calling 1003")
	r.hook(false)
	r.key("up")
	r.key("cancel")
	has(t, r.out.take(), "display 1 1/2 out 1003 cancelled", "display 1 ")
	if r.p.histPos != -1 {
		t.Fatal("cancel left the history")
	}
}

func TestMuteAndDTMF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, nil)
		l.key("mute")
		has(t, l.out.take(), "log mute: no call")
		l.sip(incoming(4, "1002"))
		l.hook(true)
		l.key("mute")
		has(t, l.out.take(), "led mute on")
		l.key("5")
		l.key("#")
		has(t, l.out.take(), "display 1 Talking to 1002  sent 5", "display 1 Talking to 1002  sent 5#")
		has(t, l.m.snap(), "mute true", "dtmf 5 100ms", "dtmf # 100ms")
		l.m.mu.Lock()
		l.m.rx = []byte("19")
		l.m.mu.Unlock()
		l.sleep(100 * time.Millisecond)
		has(t, l.out.take(), "log dtmf received 1", "log dtmf received 9", "display 1 Talking to 1002  got 19")
		l.hook(false)
		has(t, l.out.take(), "led mute off", "phone idle")
		has(t, l.m.snap(), "mute false")
		if l.p.state != Idle || len(l.p.sentDTMF) != 0 {
			t.Fatalf("state %s sent %q", l.p.state, l.p.sentDTMF)
		}
	})
}

func TestLineKeys(t *testing.T) {
	r := newRigWith(t, func(c *config.Config) {
		c.Lines[1] = config.Line{User: "2001", DisplayName: "Sales", Registrar: "127.0.0.1:5060"}
	})
	r.p.onSIP(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered})
	r.p.onSIP(sipua.Event{Kind: sipua.RegChanged, Line: 2, RegState: sipua.RegFailed, Code: 403})
	has(t, r.out.take(), "led line1 on", "led line2 blink")
	r.key("line3")
	has(t, r.out.take(), "log line 3 is not configured")
	r.key("line2")
	has(t, r.out.take(), "log calls go out on line 2", "display 0 Sales  line 2 failed:403")
	r.key("7")
	r.key("send")
	has(t, r.ua.calls, "dial 2 7 192.0.2.10:true [PCMU PCMA]")
	r.hook(false)
	r.key("line1")
	r.key("8")
	r.key("send")
	has(t, r.ua.calls, "dial 1 8 192.0.2.10:true [PCMU PCMA]")
}

func TestHistoryRing(t *testing.T) {
	r := newRigWith(t, func(c *config.Config) { c.HistorySize = 3 })
	for i := 0; i < 5; i++ {
		r.p.addHist(histEntry{peer: fmt.Sprint(i), number: fmt.Sprint(i), result: "answered"})
	}
	if len(r.p.hist) != 3 || r.p.hist[0].peer != "4" || r.p.hist[2].peer != "2" {
		t.Fatalf("history %v", r.p.hist)
	}
}

// signalMedia is a fakeMedia that signals arriving digits, as
// audio.Engine does.
type signalMedia struct {
	*fakeMedia
	ready chan struct{}
}

func (m signalMedia) DigitReady() <-chan struct{} { return m.ready }

// TestDigitSignal: with a Media that signals digits, Run reads them when
// signalled, and does not poll every 40 ms (a wake-up each).
func TestDigitSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := signalMedia{r.m, make(chan struct{}, 1)}
		r.p.d.Media = m
		l := &live{rig: r, in: make(fakeInput, 4), mwi: make(chan MWI, 4)}
		r.p.d.Input = l.in
		r.p.d.MWI = l.mwi
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.p.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		l.sip(incoming(4, "1002"))
		l.hook(true)
		r.out.take()
		r.m.mu.Lock()
		r.m.rx = []byte("7")
		r.m.mu.Unlock()
		l.sleep(time.Second) // no signal: a 40 ms poll would have read it
		if got := r.out.take(); len(got) != 0 {
			t.Fatalf("read without a signal: %q", got)
		}
		m.ready <- struct{}{}
		synctest.Wait()
		has(t, r.out.take(), "log dtmf received 7", "display 1 Talking to 1002  got 7")
	})
}

// TestNoticeOnIdleDisplay: the firmware's rollback note is the idle
// display's second row when nothing else (forwarding here) is shown.
func TestNoticeOnIdleDisplay(t *testing.T) {
	r := newRig(t)
	r.p.d.Notice = "update to 1.1.0 failed, rolled back to 1.0.0"
	r.p.showIdle()
	has(t, r.out.take(), "display 1 update to 1.1.0 failed, rolled back to 1.0.0")
	r.key("4")
	r.key("fwd")
	has(t, r.out.take(), "display 1 Fwd to 4")
	r.key("fwd")
	has(t, r.out.take(), "display 1 update to 1.1.0 failed, rolled back to 1.0.0")
}

// A registration failure is shown in plain words on the display and in
// the log, the panel's reg line keeping its state token; a trouble while
// the attempt goes on likewise, until the attempt ends.
func TestRegistrationInPlainWords(t *testing.T) {
	r := newRig(t)
	r.p.onSIP(sipua.Event{Kind: sipua.RegTrouble, Line: 1, RegState: sipua.RegNone, Detail: "registrar 127.0.0.1:5060 does not answer (retrying)"})
	has(t, r.out.take(), "log line 1: registrar 127.0.0.1:5060 does not answer (retrying)",
		"display 0 1001  line 1: registrar 127.0.0.1:5060 does not answer (retrying)")
	r.p.onSIP(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.RegFailed, Code: 403, Detail: "wrong password for 1001 (403)"})
	has(t, r.out.take(), "log line 1: wrong password for 1001 (403)", "reg 1 failed:403", "led line1 blink",
		"display 0 1001  line 1: wrong password for 1001 (403)")
	r.p.onSIP(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered})
	has(t, r.out.take(), "reg 1 registered", "display 0 1001  line 1 registered")
}
