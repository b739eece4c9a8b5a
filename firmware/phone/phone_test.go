package phone

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/sipua"
)

// fakeUA records what the phone asks of the user agent.
type fakeUA struct {
	mu     sync.Mutex // the live tests read calls while Run runs
	events chan sipua.Event
	calls  []string
	next   sipua.CallID
	remote *sipua.Media // what Answer returns
}

func (u *fakeUA) Events() <-chan sipua.Event { return u.events }
func (u *fakeUA) Dial(line int, target string, local sipua.Media) (sipua.CallID, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.next++
	u.calls = append(u.calls, fmt.Sprintf("dial %d %s %s:%t %v", line, target, local.Host, local.Port != 0, local.Codecs))
	return u.next, nil
}
func (u *fakeUA) Ring(id sipua.CallID) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("ring %d", id))
	return nil
}
func (u *fakeUA) Answer(id sipua.CallID, local sipua.Media) (*sipua.Media, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("answer %d", id))
	return u.remote, nil
}
func (u *fakeUA) Reject(id sipua.CallID, code int) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("reject %d %d", id, code))
	return nil
}
func (u *fakeUA) Hangup(id sipua.CallID) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("hangup %d", id))
	return nil
}
func (u *fakeUA) Hold(id sipua.CallID, hold bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("hold %d %t", id, hold))
	return nil
}
func (u *fakeUA) Transfer(id sipua.CallID, target string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("transfer %d %s", id, target))
	return nil
}
func (u *fakeUA) TransferTo(id, consult sipua.CallID) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("transferto %d %d", id, consult))
	return nil
}
func (u *fakeUA) DialReplacing(line int, target, replaces string, local sipua.Media) (sipua.CallID, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.next++
	u.calls = append(u.calls, fmt.Sprintf("dial %d %s replaces %s", line, target, replaces))
	return u.next, nil
}
func (u *fakeUA) Redirect(id sipua.CallID, target, reason string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, fmt.Sprintf("redirect %d %s %s", id, target, reason))
	return nil
}

// fakeMedia records tones and streams; rx holds digits "received".
type fakeMedia struct {
	mu     sync.Mutex
	log    []string
	rx     []byte
	wantPT uint8 // the telephone-event payload type streams should get
}

func (m *fakeMedia) SendDTMF(d byte, dur time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, fmt.Sprintf("dtmf %c %s", d, dur))
	return nil
}
func (m *fakeMedia) ReadDigit() (byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.rx) == 0 {
		return 0, false
	}
	d := m.rx[0]
	m.rx = m.rx[1:]
	return d, true
}
func (m *fakeMedia) SetMute(on bool) { m.log = append(m.log, fmt.Sprintf("mute %t", on)) }

func (m *fakeMedia) SetTone(name string) error { m.log = append(m.log, "tone "+name); return nil }
func (m *fakeMedia) StartStreamOptions(conn *net.UDPConn, remote *net.UDPAddr, codec audio.Codec, o audio.StreamOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, fmt.Sprintf("stream %s %s", remote, codec))
	if o.SRTP != nil {
		m.log = append(m.log, fmt.Sprintf("srtp %v %x %x", o.SRTP.Profile, o.SRTP.Local[:2], o.SRTP.Remote[:2]))
	}
	if o.RTCPConn == nil || o.RTCPRemote == nil || o.RTCPRemote.Port != remote.Port+1 {
		m.log = append(m.log, fmt.Sprintf("no RTCP (%v)", o.RTCPRemote))
	}
	if o.DTMFPayloadType != m.wantPT || o.InbandDTMF != (m.wantPT == 0) {
		m.log = append(m.log, fmt.Sprintf("telephone-event %d, in band %v", o.DTMFPayloadType, o.InbandDTMF))
	}
	return nil
}
func (m *fakeMedia) StopStream() { m.log = append(m.log, "stop") }

// lines is an observer that keeps panel.md lines.
type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) add(f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf(f, a...))
}
func (l *lines) Reg(line int, state string)      { l.add("reg %d %s", line, state) }
func (l *lines) Phone(state string)              { l.add("phone %s", state) }
func (l *lines) Call(id int, state, peer string) { l.add("call %d %s %s", id, state, peer) }
func (l *lines) Ring(on bool, cadence string) {
	if on {
		l.add("ring on %s", cadence)
	} else {
		l.add("ring off")
	}
}
func (l *lines) Tone(name string)             { l.add("tone %s", name) }
func (l *lines) LED(name, state string)       { l.add("led %s %s", name, state) }
func (l *lines) Display(row int, text string) { l.add("display %d %s", row, text) }
func (l *lines) MWI(line, n, o int)           { l.add("mwi %d %d/%d", line, n, o) }
func (l *lines) Log(text string)              { l.add("log %s", text) }

// take returns the lines since the last take.
func (l *lines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.got
	l.got = nil
	return g
}

// snap copies what the user agent was asked, under its lock.
func (u *fakeUA) snap() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.calls...)
}

func (m *fakeMedia) snap() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.log...)
}

type rig struct {
	p   *Phone
	ua  *fakeUA
	m   *fakeMedia
	out *lines
}

func newRig(t *testing.T) *rig { return newRigWith(t, nil) }

// newRigWith is newRig with the configuration changed by edit first.
func newRigWith(t *testing.T, edit func(*config.Config)) *rig {
	t.Helper()
	cfg := config.Default()
	cfg.Lines[0] = config.Line{User: "1001", Registrar: "127.0.0.1:5060"}
	cfg.RTPPortMin, cfg.RTPPortMax = 0, 0 // port 0: any free port
	cfg.Codecs = []string{"PCMU", "PCMA"}
	if edit != nil {
		edit(&cfg)
	}
	r := &rig{ua: &fakeUA{events: make(chan sipua.Event, 4), remote: &sipua.Media{Host: "127.0.0.1", Port: 4000, Codecs: []string{"PCMA"}}}, m: &fakeMedia{}, out: &lines{}}
	r.p = New(Deps{Config: cfg, UA: r.ua, Media: r.m, Out: r.out, MediaHost: "192.0.2.10", BindIP: "127.0.0.1"})
	return r
}

func (r *rig) key(k string) { r.p.onInput(hal.Event{Kind: hal.KeyPress, Key: k}) }
func (r *rig) hook(off bool) {
	if off {
		r.p.onInput(hal.Event{Kind: hal.HookOff})
	} else {
		r.p.onInput(hal.Event{Kind: hal.HookOn})
	}
}

// has checks that want appear in got, in order (other lines may come between).
func has(t *testing.T, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("missing %q in order; got:\n  %s", want[i], strings.Join(got, "\n  "))
	}
}

func TestOutgoingCall(t *testing.T) {
	r := newRig(t)
	r.p.onSIP(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered})
	has(t, r.out.take(), "reg 1 registered", "led line1 on")
	if got := r.p.Status(); got != "reg=1:unregistered phone=idle calls=0" {
		// publish runs in Run's loop; the status before it is the initial one
		t.Logf("status before publish: %s", got)
	}
	r.p.publish()
	if got, want := r.p.Status(), "reg=1:registered phone=idle calls=0"; got != want {
		t.Fatalf("status %q, want %q", got, want)
	}

	r.hook(true)
	has(t, r.out.take(), "phone dialtone", "tone dial")
	for _, k := range []string{"1", "0", "0", "2"} {
		r.key(k)
	}
	has(t, r.out.take(), "phone dialing", "tone none", "display 1 1002")
	r.key("send")
	has(t, r.out.take(), "phone calling", "call 1 calling 1002")
	if len(r.ua.calls) != 1 || r.ua.calls[0] != "dial 1 1002 192.0.2.10:true [PCMU PCMA]" {
		t.Fatalf("UA calls %v", r.ua.calls)
	}

	r.p.onSIP(sipua.Event{Kind: sipua.CallProgress, Call: 1, Code: 180})
	has(t, r.out.take(), "tone ringback", "call 1 ringing 1002", "phone ringback")
	r.m.wantPT = 101 // the stream gets the far end's telephone-event type and RTCP on port+1
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: &sipua.Media{Host: "127.0.0.1", Port: 4002, Codecs: []string{"PCMU"}, TelephoneEvent: 101}})
	for _, l := range r.m.log {
		if strings.HasPrefix(l, "no RTCP") || strings.HasPrefix(l, "telephone-event") {
			t.Fatalf("stream options: %s", l)
		}
	}
	has(t, r.out.take(), "phone connected", "tone none", "call 1 connected 1002")
	has(t, r.m.log, "tone dial", "tone none", "tone ringback", "stream 127.0.0.1:4002 PCMU", "tone none")
	r.p.publish()
	if got, want := r.p.Status(), "reg=1:registered phone=connected calls=1"; got != want {
		t.Fatalf("status %q, want %q", got, want)
	}

	r.hook(false)
	has(t, r.out.take(), "call 1 ended:200 1002", "phone idle")
	has(t, r.ua.calls, "hangup 1")
	has(t, r.m.log, "stop")
	// The user agent's own CallEnded for the BYE changes nothing.
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 200})
	if got := r.out.take(); len(got) != 0 {
		t.Fatalf("late CallEnded produced %v", got)
	}
	// Redial calls the same number again, on the speaker.
	r.key("redial")
	has(t, r.out.take(), "led speaker on", "phone calling", "call 2 calling 1002")
}

func TestCallFailures(t *testing.T) {
	for _, tc := range []struct {
		code int
		tone string
		text string
	}{{486, "busy", "Busy"}, {603, "busy", "Busy"}, {404, "congestion", "Number not found (404)"}, {480, "congestion", "Not available (480)"}, {503, "congestion", "Call failed (503)"}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			r := newRig(t)
			r.hook(true)
			r.key("5")
			r.key("send")
			r.out.take()
			r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: tc.code})
			has(t, r.out.take(), fmt.Sprintf("call 1 ended:%d 5", tc.code), "phone busy", "tone "+tc.tone, "display 1 "+tc.text)
			r.hook(false)
			has(t, r.out.take(), "phone idle", "tone none")
		})
	}
}

func TestIncomingCall(t *testing.T) {
	r := newRig(t)
	r.p.onSIP(sipua.Event{Kind: sipua.CallIncoming, Call: 7, Peer: "1002", Remote: &sipua.Media{Host: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU", "PCMA"}}})
	has(t, r.out.take(), "phone ringing", "call 7 incoming 1002", "ring on normal", "display 1 Call from 1002")
	has(t, r.ua.calls, "ring 7")

	// A second call while this one rings gets 486 Busy Here.
	r.p.onSIP(sipua.Event{Kind: sipua.CallIncoming, Call: 8, Peer: "1003"})
	has(t, r.ua.calls, "reject 8 486")
	has(t, r.out.take(), "call 8 ended:486 1003")

	r.hook(true)
	has(t, r.out.take(), "ring off", "phone connected", "call 7 connected 1002")
	has(t, r.ua.calls, "answer 7")
	has(t, r.m.log, "stream 127.0.0.1:4000 PCMA")
	// The user agent also reports the answer it sent; the stream stays.
	streams := len(r.m.log)
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 7, Remote: r.ua.remote})
	if len(r.m.log) != streams {
		t.Fatalf("CallAnswered after Answer touched the stream: %v", r.m.log[streams:])
	}

	// The far end hangs up: dial tone while the handset is still up.
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 7, Code: 200})
	has(t, r.out.take(), "call 7 ended:200 1002", "phone dialtone", "tone dial")
	has(t, r.m.log, "stop")
	r.hook(false)
	has(t, r.out.take(), "phone idle", "tone none")
}

func TestIncomingCancelledAndDND(t *testing.T) {
	r := newRig(t)
	r.p.onSIP(sipua.Event{Kind: sipua.CallIncoming, Call: 3, Peer: "1002"})
	r.out.take()
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 3, Code: 487})
	has(t, r.out.take(), "call 3 ended:487 1002", "ring off", "phone idle")

	r.key("dnd")
	has(t, r.out.take(), "led dnd on")
	r.p.onSIP(sipua.Event{Kind: sipua.CallIncoming, Call: 4, Peer: "1002"})
	has(t, r.ua.calls, "reject 4 486")
	if r.p.state != Idle {
		t.Fatalf("state %s after a call under DND", r.p.state)
	}
}

func TestDigitsAndCancel(t *testing.T) {
	r := newRig(t)
	// Dialling on hook, then lifting the handset, places the call.
	r.key("4")
	r.key("2")
	has(t, r.out.take(), "phone dialing", "display 1 42")
	r.key("cancel")
	has(t, r.out.take(), "phone idle")
	r.key("4")
	r.hook(true)
	has(t, r.out.take(), "phone calling", "call 1 calling 4")
	// A key this phone does not have yet says so and changes nothing.
	r.key("volup")
	has(t, r.out.take(), "log key volup: not available on this phone yet")
	if r.p.state != Calling {
		t.Fatalf("state %s", r.p.state)
	}
	for i := 0; i < 2*maxDigits; i++ {
		r.p.onDigit('1') // ignored while calling
	}
	if len(r.p.digits) != 0 {
		t.Fatalf("digits while calling: %q", r.p.digits)
	}
}

func TestStateNames(t *testing.T) {
	for s := Idle; s <= Held; s++ {
		if s.String() == "unknown" {
			t.Fatalf("state %d has no name", s)
		}
	}
}

// TestDivertedToVoicemail: the PBX answers a call to 1002 from 1002's
// mailbox and says so (History-Info to voicemail.number): the display
// says whose voicemail it is, not "Talking to 1002"; another diversion
// names both.
func TestDivertedToVoicemail(t *testing.T) {
	for _, c := range []struct {
		divert sipua.Divert
		want   string
	}{
		{sipua.Divert{From: "1002", To: "8000", Reason: "unavailable"}, "display 1 Voicemail of 1002"},
		{sipua.Divert{From: "1002", To: "5555", Name: "Mailbox 1002"}, "display 1 Mailbox 1002"},
		{sipua.Divert{From: "1002", To: "1003", Reason: "user-busy"}, "display 1 Talking to 1003, diverted from 1002"},
		{sipua.Divert{}, "display 1 Talking to 1002"},
	} {
		r := newRigWith(t, func(cfg *config.Config) { cfg.VoicemailNumber = "8000" })
		r.hook(true)
		for _, k := range []string{"1", "0", "0", "2", "send"} {
			r.key(k)
		}
		r.out.take()
		r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: &sipua.Media{Host: "127.0.0.1", Port: 4002, Codecs: []string{"PCMU"}}, Divert: c.divert})
		has(t, r.out.take(), "phone connected", c.want)
	}
}
