package phone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/sipua"
	"github.com/deskphone/deskphone/sipua/sdp"
)

// UA is what the phone needs of the SIP user agent; *sipua.UA has it.
type UA interface {
	Events() <-chan sipua.Event
	Dial(line int, target string, local sipua.Media) (sipua.CallID, error)
	Ring(id sipua.CallID) error
	Answer(id sipua.CallID, local sipua.Media) (*sipua.Media, error)
	Reject(id sipua.CallID, code int) error
	Hangup(id sipua.CallID) error
	// Redirect answers an unanswered incoming call 302 with Diversion
	// (RFC 5806): forwarding done by the phone.
	Redirect(id sipua.CallID, target, reason string) error
	// Hold puts a confirmed call on hold or resumes it (re-INVITE, RFC 3264 8.4).
	Hold(id sipua.CallID, hold bool) error
	// Transfer blind-transfers a confirmed call (REFER, RFC 3515).
	Transfer(id sipua.CallID, target string) error
	// TransferTo refers call id to the far end of call consult with
	// Replaces (attended transfer, RFC 5589 section 7, RFC 3891).
	TransferTo(id, consult sipua.CallID) error
	// DialReplacing is Dial with a Replaces header (RFC 3891): the
	// transferee's call of an attended transfer.
	DialReplacing(line int, target, replaces string, local sipua.Media) (sipua.CallID, error)
}

// Media is what the phone needs of the audio engine; *audio.Engine has it.
type Media interface {
	SetTone(name string) error
	StartStreamOptions(conn *net.UDPConn, remote *net.UDPAddr, codec audio.Codec, o audio.StreamOptions) error
	StopStream()
	SendDTMF(digit byte, d time.Duration) error // RFC 4733 events on the running stream
	ReadDigit() (byte, bool)                    // the next digit received, if any
	SetMute(on bool)                            // silence to the far end while on
}

// MWI is a message-summary report (RFC 3842) for one line.
type MWI struct {
	Line     int
	Waiting  bool
	New, Old int
}

// Deps is what a Phone is built from. Nothing in it is touched before Run.
type Deps struct {
	Config config.Config
	UA     UA
	Media  Media
	Input  hal.Input
	Out    hal.Observer
	// MediaHost is the address the phone puts in its SDP (c=): its own
	// address, or the public one of a static NAT (nat.public_address).
	MediaHost string
	// BindIP is the local address RTP sockets bind to; "" binds all.
	BindIP string
	Logf   func(format string, args ...any)
	// Second is a second audio engine and Mix switches the audio loop
	// between the first engine alone (false) and both mixed as a local
	// three-way conference (true). nil: no conference.
	Second Media
	Mix    func(on bool)
	// MWI brings the user agent's message-summary reports into Run (the
	// user agent's callback must not block: the sender drops a report when
	// the channel is full). nil: no lamp.
	MWI <-chan MWI
	// Clock is the wall clock and whether it is known (sntp.Clock's
	// Current) for the status row (clock.go); nil: no clock on the
	// display.
	Clock func() (time.Time, bool)
	// Notice is shown on the idle display's second row when nothing else
	// is (forwarding, do not disturb, voicemail): the last firmware
	// rollback, "update to X failed, rolled back to Y".
	Notice string
}

// call is the phone's view of one SIP call.
type call struct {
	id   sipua.CallID
	peer string // as shown
	// named: peer says it all ("Voicemail of 1002": a PBX diverted the
	// call, sipua.Divert), without "Talking to " before it.
	named    bool
	number   string // to call back (history)
	incoming bool
	state    string // panel.md call state
	conn     *net.UDPConn
	rtcp     *net.UDPConn // RTCP, the port above conn's
	media    bool         // a stream runs on conn
	answered bool         // the call was connected
	since    time.Time    // when it was, on the monotonic clock: its call timer
	result   string       // for the history; "" = from answered and incoming
	held     bool         // this phone put it on hold
	waiting  bool         // an incoming call that rings in while another is up (call waiting)
	remote   *sipua.Media // the far end's media, for resuming
	// encrypted: its media runs SRTP (remote.Encrypted()): the display's
	// lock and Status's srtp=on.
	encrypted bool
	second    bool // its stream runs on Deps.Second (a conference)
	// Where its stream goes (startMediaOf), kept for a resume to the same place.
	rtpTo, rtcpTo *net.UDPAddr
	toHost        string
	toPort        int
	codec         audio.Codec
}

// Phone is one desk phone. Build it with New and run it with Run.
type Phone struct {
	d    Deps
	logf func(format string, args ...any)

	state   State
	tone    string
	offHook bool // the handset is lifted or the speaker is on
	speaker bool // off hook through the speaker key rather than the handset
	digits  []byte
	redial  string
	call    *call                              // the call the handset is on (or the only one)
	other   *call                              // a second call: waiting (ringing in) or held
	xfer    bool                               // the transfer key was pressed: digits are the transfer target
	conf    bool                               // call and other are mixed: a local three-way conference
	reg     [len(config.Config{}.Lines)]string // each line's registration as shown ("registered", "failed:403"); "" = no line
	regUp   [len(config.Config{}.Lines)]bool   // each line is registered (sipua.Registered)
	// regWhy is each line's registration trouble in plain words
	// (sipua.Event.Detail: "wrong password for 1001 (403)"), shown on
	// the display in place of reg while set; "" = none.
	regWhy  [len(config.Config{}.Lines)]string
	nextRTP int

	// Timers: each is armed and stopped here and read by Run (the
	// phone's goroutine owns them; tests run Run in a testing/synctest
	// bubble, whose clock is fake).
	noAnswer   timer     // an incoming call rings: forward it on expiry
	interdigit timer     // off hook, digits dialled: send them on expiry
	dtmfPoll   timer     // a call has media: read received digits
	msgShown   timer     // a text message is on the display: clear it on expiry (message.go)
	clockTick  timer     // the status row's time or call timer changes (clock.go)
	clockFor   *call     // the call whose timer the status row shows; nil: none
	clockSince time.Time // and its since, should a call struct be reused

	dnd       bool   // do not disturb (call.dnd, the dnd key)
	fwdAlways string // forward every call (call.forward_always, the fwd key)
	digitMap  config.DigitMap
	muted     bool
	sentDTMF  []byte // digits sent during this call, for the display
	rcvdDTMF  []byte // digits received during this call
	mwi       [len(config.Config{}.Lines)]MWI
	hist      []histEntry // newest first
	histPos   int         // the entry shown while browsing; -1: none
	selLine   int         // the line the line keys chose; 0: the first registered

	zone   *time.Location // time.zone
	hour12 bool           // time.format = 12h
	missed int            // calls missed since the history was last looked at

	text []byte            // display rows built by show, reused
	dw   hal.DisplayWriter // Deps.Out when it takes rows as bytes, else nil

	// What Status reports, copied by publish after every event.
	statusMu sync.Mutex
	shown    statusView
	idle     atomic.Bool        // p.state == Idle, for Idle
	snapReq  chan chan Snapshot // Snapshot's requests, served by Run
	// digitEvery is how often a call's digits are polled (digitPoll),
	// settled once when Run starts: a type assertion at every poll built
	// the runtime's assertion cache now and then, an allocation in a
	// steady call.
	digitEvery time.Duration
}

// maxDigits bounds a dialled number; further digits are ignored.
const maxDigits = 64

// New returns a phone over its dependencies; it starts nothing.
func New(d Deps) *Phone {
	p := &Phone{d: d, logf: d.Logf, digits: make([]byte, 0, maxDigits),
		sentDTMF: make([]byte, 0, maxDigits), rcvdDTMF: make([]byte, 0, maxDigits), text: make([]byte, 0, 256), tone: "none", histPos: -1,
		snapReq: make(chan chan Snapshot),
		dnd:     d.Config.DND, fwdAlways: d.Config.ForwardAlways,
		zone: zoneOf(d.Config.TimeZone), hour12: d.Config.TimeFormat == "12h"}
	p.idle.Store(true) // the zero State is Idle
	// Asked once: a type assertion per row would now and then grow the
	// call site's cache (an allocation).
	p.dw, _ = d.Out.(hal.DisplayWriter)
	if p.logf == nil {
		p.logf = func(string, ...any) {}
	}
	if m, err := config.ParseDigitMap(d.Config.DigitMap); err == nil {
		p.digitMap = m
	} else {
		p.logf("phone: dialplan.digitmap: %v; no digit map", err)
	}
	for i, l := range d.Config.Lines {
		if l.User != "" {
			p.reg[i] = "unregistered"
		}
	}
	p.publish()
	return p
}

// Status is panel.md's status answer without the leading word:
// "reg=1:registered phone=idle calls=1". Safe from any goroutine.
func (p *Phone) Status() string { return string(p.AppendStatus(nil)) }

// AppendStatus appends Status to b and returns the extended buffer; with a
// buffer of room enough it allocates nothing. Safe from any goroutine.
func (p *Phone) AppendStatus(b []byte) []byte {
	p.statusMu.Lock()
	v := p.shown
	p.statusMu.Unlock()
	b = append(b, "reg="...)
	first := true
	for i, s := range v.reg {
		if s == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	b = append(b, " phone="...)
	b = append(b, v.state.String()...)
	b = append(b, " calls="...)
	b = strconv.AppendInt(b, int64(v.calls), 10)
	if v.encrypted {
		b = append(b, " srtp=on"...)
	}
	return b
}

// Idle reports whether the phone is idle (on hook, no call): what
// provisioning waits for before it applies a new configuration. Safe
// from any goroutine.
func (p *Phone) Idle() bool { return p.idle.Load() }

// Run owns the phone until ctx ends: it shows the idle screen, then handles
// the person's input and the user agent's events in order.
func (p *Phone) Run(ctx context.Context) error {
	p.d.Out.Phone(p.state.String())
	p.d.Out.Tone(p.tone)
	p.d.Out.LED("dnd", onOff(p.dnd))
	p.showIdle()
	var in <-chan hal.Event
	if p.d.Input != nil {
		in = p.d.Input.Events()
	}
	sip := p.d.UA.Events()
	digits := digitSignal(p.d.Media)
	p.digitEvery = digitPoll(p.d.Media)
	defer func() {
		p.noAnswer.stop()
		p.interdigit.stop()
		p.dtmfPoll.stop()
		p.msgShown.stop()
		p.clockTick.stop()
	}()
	for {
		select {
		case <-ctx.Done():
			if p.call != nil {
				p.hangup()
			}
			return nil
		case m := <-p.d.MWI:
			p.onMWI(m)
		case <-p.noAnswer.C():
			p.noAnswer.fired()
			p.onNoAnswer()
		case <-p.interdigit.C():
			p.interdigit.fired()
			p.onInterdigit()
		case <-p.dtmfPoll.C():
			p.dtmfPoll.fired()
			p.pollDigits()
		case <-digits:
			p.pollDigits()
		case <-p.msgShown.C():
			p.clearMessage() // disarms the timer too
		case <-p.clockTick.C():
			p.clockTick.fired()
			p.showClock()
		case r := <-p.snapReq:
			r <- p.snapshot() // buffered: never blocks
			continue          // nothing changed: nothing to publish
		case ev, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			p.onInput(ev)
		case ev, ok := <-sip:
			if !ok {
				return errors.New("phone: the user agent stopped")
			}
			p.onSIP(ev)
		}
		p.publish()
	}
}

func (p *Phone) onInput(ev hal.Event) {
	switch ev.Kind {
	case hal.HookOff:
		p.speaker = false
		p.goOffHook()
	case hal.HookOn:
		p.goOnHook()
	case hal.KeyPress:
		p.clearMessage() // the next key takes a text message off the display
		p.onKey(ev.Key)
	}
}

// goOffHook: the handset is lifted, or the speaker key pressed on hook.
func (p *Phone) goOffHook() {
	if p.offHook {
		return
	}
	p.offHook = true
	p.d.Out.LED("speaker", onOff(p.speaker))
	switch p.state {
	case Idle:
		p.setState(DialTone)
		p.setTone("dial")
		p.d.Out.Display(1, "Dial a number")
	case Dialing: // dialled on hook, then lifted: place the call
		p.placeCall(string(p.digits))
	case Ringing:
		p.answer()
	case Held:
		p.resume()
	}
}

// goOnHook: the handset is replaced (or the speaker turned off): whatever
// was going on ends and the phone is idle.
func (p *Phone) goOnHook() {
	if !p.offHook && p.state != Dialing {
		return
	}
	p.offHook, p.speaker = false, false
	p.d.Out.LED("speaker", "off")
	p.xfer = false
	if p.conf && p.other != nil { // hanging up a conference ends both calls
		o := p.other
		if err := p.d.UA.Hangup(o.id); err != nil {
			p.logf("phone: hang up call %d: %v", o.id, err)
		}
		p.callStateOf(o, "ended:200")
		p.endCallOf(o)
	}
	if p.call != nil && p.state != Ringing {
		p.hangup()
	}
	if p.other != nil {
		p.promoteOther()
		return
	}
	if p.state == Ringing {
		return // an incoming call rings on; replacing an unlifted handset changes nothing
	}
	p.digits = p.digits[:0]
	p.toIdle()
}

func (p *Phone) onKey(k string) {
	switch {
	case p.xfer && (k == "send" || k == "ok" || k == "transfer" || k == "#"):
		p.completeTransfer()
	case len(k) == 1 && strings.ContainsAny(k, "0123456789*#"):
		p.onDigit(k[0])
	case k == "hold":
		p.holdKey()
	case k == "transfer":
		p.transferKey()
	case k == "conf":
		p.confKey()
	case (k == "send" || k == "ok") && p.other != nil && p.other.waiting:
		p.answerWaiting()
	case (k == "send" || k == "ok") && p.state == Ringing:
		if !p.offHook {
			p.speaker = true
			p.goOffHook()
		} else {
			p.answer()
		}
	case (k == "send" || k == "ok") && p.histPos >= 0 && p.call == nil:
		p.callBack()
	case k == "send" || k == "ok":
		if p.state == Dialing {
			p.placeCall(string(p.digits))
		} else if p.state == DialTone && p.redial != "" && k == "send" {
			p.placeCall(p.redial)
		}
	case k == "up" || k == "down":
		p.browse(k == "up")
	case k == "dnd":
		p.setDND(!p.dnd)
	case k == "fwd":
		p.fwdKey()
	case k == "mute":
		p.toggleMute()
	case strings.HasPrefix(k, "line") && len(k) == 5 && k[4] >= '1' && k[4] <= '4':
		p.selectLine(int(k[4] - '0'))
	case k == "redial":
		if p.redial != "" && p.call == nil {
			p.placeCall(p.redial)
		}
	case k == "vm":
		switch {
		case p.d.Config.VoicemailNumber == "":
			p.prompt("vm: no voicemail.number configured")
		case p.call == nil:
			p.placeCall(p.d.Config.VoicemailNumber)
		}
	case k == "speaker":
		if p.offHook {
			p.goOnHook()
		} else {
			p.speaker = true
			p.goOffHook()
		}
	case k == "cancel":
		switch {
		case p.xfer:
			p.xfer = false
			p.show(1, p.call.talkingTo(), p.call.peer)
		case p.other != nil && p.other.waiting:
			p.rejectWaiting()
		case p.histPos >= 0:
			p.histPos = -1
			p.d.Out.Display(1, "")
		case p.state == Dialing:
			p.interdigit.stop()
			p.digits = p.digits[:0]
			if p.offHook {
				p.setState(DialTone)
				p.setTone("dial")
				p.d.Out.Display(1, "Dial a number")
			} else {
				p.toIdle()
			}
		case p.state == Ringing:
			p.reject(603)
		case p.call != nil:
			p.hangup()
			p.afterCall()
		}
	default:
		p.prompt("key " + k + ": not available on this phone yet")
	}
}

func (p *Phone) onDigit(d byte) {
	switch p.state {
	case Idle, DialTone, Dialing:
		p.dialDigit(d)
	case Held:
		if p.xfer {
			p.xferDigit(d)
			return
		}
		if p.other == nil && p.call != nil && p.call.held {
			// A second call while the first waits on hold: the held call
			// becomes the other one and the digits dial the new one.
			p.other, p.call = p.call, nil
			p.setState(DialTone)
			p.dialDigit(d)
		}
	case Connected:
		if p.xfer {
			p.xferDigit(d)
			return
		}
		p.sendDigit(d)
	default:
		p.prompt("digit " + string(d) + " ignored while " + p.state.String())
	}
}

// placeCall sends an INVITE from the first registered line.
func (p *Phone) placeCall(target string) { p.placeCallReplacing(target, "") }

// placeCallReplacing places a call; with replaces (a Replaces value, RFC
// 3891) the INVITE takes the place of that dialog at the target.
func (p *Phone) placeCallReplacing(target, replaces string) {
	if target == "" || p.call != nil {
		return
	}
	p.interdigit.stop()
	p.histPos = -1
	target = p.speedDial(target)
	if !p.offHook { // dialled on hook and sent: the speaker takes the call
		p.offHook, p.speaker = true, true
		p.d.Out.LED("speaker", "on")
	}
	p.digits = p.digits[:0]
	p.redial = target
	conn, rtcp, err := p.openRTP()
	if err != nil {
		p.logf("phone: call to %s: %v; the phone plays congestion", target, err)
		p.failed(0)
		return
	}
	var id sipua.CallID
	if replaces != "" {
		id, err = p.d.UA.DialReplacing(p.line(), target, replaces, p.localMedia(conn))
	} else {
		id, err = p.d.UA.Dial(p.line(), target, p.localMedia(conn))
	}
	if err != nil {
		conn.Close()
		rtcp.Close()
		p.logf("phone: call to %s: %v; the phone plays congestion", target, err)
		p.failed(0)
		return
	}
	p.call = &call{id: id, peer: target, number: target, conn: conn, rtcp: rtcp}
	p.setState(Calling)
	p.setTone("none")
	p.callState("calling")
	p.d.Out.Display(1, "Calling "+target)
}

func (p *Phone) answer() {
	c := p.call
	conn, rtcp, err := p.openRTP()
	if err != nil {
		p.logf("phone: answer: %v; the call is refused", err)
		p.reject(503)
		return
	}
	c.conn, c.rtcp = conn, rtcp
	remote, err := p.d.UA.Answer(c.id, p.localMedia(conn))
	p.d.Out.Ring(false, "")
	if err != nil {
		p.logf("phone: answer call %d: %v", c.id, err)
		p.endCall()
		p.toIdleOrDialTone()
		return
	}
	p.startMedia(remote)
	p.setState(Connected)
	p.setTone("none")
	p.callState("connected")
	p.show(1, c.talkingTo(), c.peer)
	p.connected(c)
}

func (p *Phone) reject(code int) {
	c := p.call
	if err := p.d.UA.Reject(c.id, code); err != nil {
		p.logf("phone: reject call %d: %v", c.id, err)
	}
	p.d.Out.Ring(false, "")
	p.callState("ended:" + strconv.Itoa(code))
	c.result = "rejected"
	p.endCall()
	p.toIdleOrDialTone()
}

// hangup ends the current call from this side (BYE or CANCEL); the user
// agent's CallEnded that follows finds no call and changes nothing.
func (p *Phone) hangup() {
	c := p.call
	if err := p.d.UA.Hangup(c.id); err != nil {
		p.logf("phone: hang up call %d: %v", c.id, err)
	}
	p.callState("ended:" + strconv.Itoa(200))
	p.endCall()
}

func (p *Phone) onSIP(ev sipua.Event) {
	switch ev.Kind {
	case sipua.RegChanged, sipua.RegTrouble:
		p.onReg(ev)
		return
	case sipua.CallIncoming:
		p.onIncoming(ev)
		return
	case sipua.MessageReceived:
		p.onMessage(ev)
		return
	}
	if p.other != nil && p.other.id == ev.Call {
		p.onOtherEvent(ev)
		return
	}
	c := p.call
	if c == nil || c.id != ev.Call {
		if ev.Kind == sipua.CallEnded {
			return // a call this phone already let go of
		}
		p.logf("phone: event %v for unknown call %d ignored", ev.Kind, ev.Call)
		return
	}
	switch ev.Kind {
	case sipua.CallProgress:
		p.onProgress(c, ev) // early media or local ringback (RFC 3960, early.go)
	case sipua.CallHeld:
		if ev.Remote.Encrypted() && c.media && !c.held {
			p.startMediaOf(c, ev.Remote) // the hold offer's new keys (RFC 4568 7.1.4)
		}
		p.callState("remote-held")
		p.show(1, c.peer, " put you on hold")
	case sipua.CallResumed:
		if ev.Remote != nil && !c.held {
			p.startMedia(ev.Remote)
		}
		if c.held {
			p.callState("held")
		} else {
			p.callState("connected")
			p.show(1, c.talkingTo(), c.peer)
		}
	case sipua.CallTransfer:
		p.onTransferred(ev)
	case sipua.CallAnswered:
		if c.answered {
			switch {
			case ev.Remote == nil:
			case !c.media:
				p.startMedia(ev.Remote) // a late offer we answered: the media came with the ACK
			case c.held:
				c.remote = ev.Remote // the resume starts it
			case moved(c.remote, ev.Remote):
				p.startMedia(ev.Remote) // a re-INVITE's new address, codec or SRTP keys
			}
			return // the user agent's echo of our own Answer, or a re-INVITE's answer
		}
		p.startMedia(ev.Remote)
		p.setState(Connected)
		p.setTone("none")
		p.callState("connected")
		p.diverted(c, ev.Divert)
		p.show(1, c.talkingTo(), c.peer)
		p.connected(c)
	case sipua.CallEnded:
		if !c.answered && !c.incoming {
			c.result = "failed:" + strconv.Itoa(ev.Code)
		}
		was := p.state
		p.callState("ended:" + strconv.Itoa(ev.Code))
		p.endCall()
		if p.other != nil {
			p.promoteOther()
			return
		}
		switch {
		case was == Ringing:
			p.d.Out.Ring(false, "")
			p.toIdleOrDialTone()
		case was == Connected || was == Held:
			// The far end hung up: back to dial tone while the handset is up.
			p.afterCall()
		default:
			p.failed(ev.Code)
		}
	}
}

func (p *Phone) onReg(ev sipua.Event) {
	i := ev.Line - 1
	if i < 0 || i >= len(p.reg) {
		return
	}
	if ev.Kind == sipua.RegTrouble {
		// The attempt goes on: said on the display and in the log, the
		// state (and the panel's reg line) stays until it ends.
		p.regWhy[i] = ev.Detail
		p.logf("phone: warning: line %d: %s", ev.Line, ev.Detail)
		p.d.Out.Log("line " + strconv.Itoa(ev.Line) + ": " + ev.Detail)
		if p.state == Idle {
			p.showIdle()
		}
		return
	}
	p.reg[i] = ev.RegText()
	p.regUp[i] = ev.RegState == sipua.Registered
	p.regWhy[i] = ev.Detail
	if ev.Detail != "" {
		p.logf("phone: error: line %d: %s", ev.Line, ev.Detail)
		p.d.Out.Log("line " + strconv.Itoa(ev.Line) + ": " + ev.Detail)
	}
	p.d.Out.Reg(ev.Line, p.reg[i])
	led := "off"
	switch ev.RegState {
	case sipua.Registered:
		led = "on"
	case sipua.RegFailed:
		led = "blink"
	}
	p.d.Out.LED("line"+strconv.Itoa(ev.Line), led)
	if p.state == Idle {
		p.showIdle()
	}
}

func (p *Phone) onIncoming(ev sipua.Event) {
	if c := p.call; ev.ReplacesCall != 0 && c != nil && c.id == ev.ReplacesCall && c.answered && !c.held && !p.conf {
		p.replaceCall(ev)
		return
	}
	if p.fwdAlways != "" {
		p.forward(ev, p.fwdAlways, "unconditional")
		return
	}
	busy := p.call != nil || p.state != Idle
	if busy && !p.dnd && p.d.Config.CallWaiting && p.other == nil && p.call != nil && p.call.answered {
		p.waitingCall(ev)
		return
	}
	if busy || p.dnd {
		if t := p.d.Config.ForwardBusy; t != "" {
			reason := "user-busy"
			if !busy {
				reason = "do-not-disturb"
			}
			p.forward(ev, t, reason)
			return
		}
		p.addHist(histEntry{incoming: true, peer: ev.Peer, number: ev.Number, result: "busy"})
		code := 486 // Busy Here (RFC 3261 21.4.24)
		if err := p.d.UA.Reject(ev.Call, code); err != nil {
			p.logf("phone: reject call %d: %v", ev.Call, err)
		}
		p.d.Out.Call(int(ev.Call), "ended:"+strconv.Itoa(code), ev.Peer)
		return
	}
	p.call = &call{id: ev.Call, peer: ev.Peer, number: ev.Number, incoming: true}
	if err := p.d.UA.Ring(ev.Call); err != nil {
		p.logf("phone: ring call %d: %v", ev.Call, err)
	}
	p.setState(Ringing)
	p.callState("incoming")
	p.d.Out.Ring(true, "normal")
	p.d.Out.Display(1, "Call from "+ev.Peer)
	if p.d.Config.ForwardNoAnswer != "" {
		p.noAnswer.arm(time.Duration(p.d.Config.NoAnswerSeconds) * time.Second)
	}
}

// failed shows an unsuccessful call attempt: busy tone for busy or declined,
// congestion for the rest, until the handset is replaced.
func (p *Phone) failed(code int) {
	if !p.offHook {
		p.toIdle()
		return
	}
	p.setState(Busy)
	switch code {
	case 486, 600, 603:
		p.setTone("busy")
		p.d.Out.Display(1, "Busy")
	default:
		p.setTone("congestion")
		p.d.Out.Display(1, failText(code))
	}
}

// failText is what the display says about a failed call attempt.
func failText(code int) string {
	switch code {
	case 0:
		return "Call failed"
	case 404, 484:
		return fmt.Sprintf("Number not found (%d)", code)
	case 408, 480:
		return fmt.Sprintf("Not available (%d)", code)
	case 403, 401, 407:
		return fmt.Sprintf("Not allowed (%d)", code)
	case 488, 415:
		return fmt.Sprintf("Audio not accepted (%d)", code)
	}
	return fmt.Sprintf("Call failed (%d)", code)
}

// afterCall: a call ended; dial tone while off hook, else idle.
func (p *Phone) afterCall() {
	if p.speaker { // a call on the speaker ends with the speaker off
		p.offHook, p.speaker = false, false
		p.d.Out.LED("speaker", "off")
	}
	p.toIdleOrDialTone()
}

func (p *Phone) toIdleOrDialTone() {
	if p.offHook {
		p.setState(DialTone)
		p.setTone("dial")
		p.d.Out.Display(1, "Dial a number")
		return
	}
	p.toIdle()
}

func (p *Phone) toIdle() {
	p.setState(Idle)
	p.setTone("none")
	p.showIdle()
}

func (p *Phone) showIdle() {
	p.d.Out.Display(0, p.lineRow(p.line()))
	p.d.Out.Display(1, p.idleText())
	p.showClock()
}

// lineRow is display row 0 for line n: its name, number and registration
// ("1001  line 1 registered"), or the registration's trouble in plain
// words ("1001  line 1: wrong password for 1001 (403)").
func (p *Phone) lineRow(n int) string {
	line := p.d.Config.Lines[n-1]
	name := line.DisplayName
	if name == "" {
		name = line.User
	}
	if why := p.regWhy[n-1]; why != "" {
		return name + "  line " + strconv.Itoa(n) + ": " + why
	}
	return name + "  line " + strconv.Itoa(n) + " " + p.reg[n-1]
}

// startMedia starts RTP to the negotiated remote media of the current call.
func (p *Phone) startMedia(remote *sipua.Media) { p.startMediaOf(p.call, remote) }

// startMediaOf starts c's RTP on its engine (the second one for the second
// far end of a conference).
func (p *Phone) startMediaOf(c *call, remote *sipua.Media) {
	if c == nil || c.conn == nil || remote == nil || len(remote.Codecs) == 0 {
		return
	}
	// A resume or a re-INVITE to where the stream already went reuses
	// the addresses (and logs nothing): a steady call allocates nothing.
	addr, rtcpAddr := c.rtpTo, c.rtcpTo
	moved := addr == nil || remote.Host != c.toHost || remote.Port != c.toPort
	if moved {
		var err error
		addr, err = net.ResolveUDPAddr("udp", net.JoinHostPort(remote.Host, strconv.Itoa(remote.Port)))
		if err != nil {
			p.logf("phone: call %d: remote media %s:%d: %v", c.id, remote.Host, remote.Port, err)
			return
		}
		// RTCP on the port above RTP at both ends (RFC 3550 11, RFC 4566 5.14).
		rtcpAddr = &net.UDPAddr{IP: addr.IP, Port: addr.Port + 1}
	}
	codec, ok := audio.CodecByName(remote.Codecs[0])
	if !ok {
		p.logf("phone: call %d: codec %q not supported", c.id, remote.Codecs[0])
		return
	}
	if c.media {
		p.eng(c).StopStream()
	}
	// RFC 4733 digits with the payload type the far end offered, or digits
	// heard in its audio when it offered none.
	opts := audio.StreamOptions{
		DTMFPayloadType: remote.TelephoneEvent,
		InbandDTMF:      remote.TelephoneEvent == 0,
		RTCPConn:        c.rtcp,
		RTCPRemote:      rtcpAddr,
		SRTP:            srtpKeys(remote.SRTP),
	}
	if err := p.eng(c).StartStreamOptions(c.conn, addr, codec, opts); err != nil {
		p.logf("phone: call %d: start audio: %v", c.id, err)
		return
	}
	c.media = true
	if remote.Encrypted() != c.encrypted || c.remote == nil {
		if remote.Encrypted() {
			p.logf("phone: call %d: media encrypted (SRTP %s)", c.id, remote.SRTP.Suite)
		} else {
			p.logf("phone: call %d: media in the clear (RTP)", c.id)
		}
	}
	c.encrypted = remote.Encrypted()
	c.remote = remote
	p.dtmfPoll.arm(p.digitEvery)
	if moved || codec != c.codec {
		c.rtpTo, c.rtcpTo, c.toHost, c.toPort, c.codec = addr, rtcpAddr, remote.Host, remote.Port, codec
		p.logf("phone: call %d: audio %s to %s from port %d", c.id, codec, addr, c.conn.LocalAddr().(*net.UDPAddr).Port)
	}
}

// endCall releases the current call's audio and socket.
func (p *Phone) endCall() { p.endCallOf(p.call) }

// endCallOf releases a call's audio and socket and records it in the
// history; c is p.call or p.other.
func (p *Phone) endCallOf(c *call) {
	if c == nil {
		return
	}
	if c == p.other {
		p.other = nil
		if c.waiting {
			p.noAnswer.stop()
			if p.tone == "waiting" {
				p.setTone("none")
			}
		}
	} else {
		p.call = nil
		p.xfer = false
		if !c.answered {
			p.noAnswer.stop()
		}
	}
	if c.held {
		p.d.Out.LED("hold", "off")
	}
	if !c.media {
		p.recordEnd(c)
		c.closeSockets()
		return
	}
	if c.second { // the first engine's mute and digits belong to the other call
		p.unmix()
	} else {
		p.dtmfPoll.stop()
		if p.muted {
			p.muted = false
			p.d.Media.SetMute(false)
			p.d.Out.LED("mute", "off")
		}
		p.sentDTMF, p.rcvdDTMF = p.sentDTMF[:0], p.rcvdDTMF[:0]
	}
	p.recordEnd(c)
	p.eng(c).StopStream()
	c.closeSockets()
}

// closeSockets closes a call's RTP and RTCP sockets.
func (c *call) closeSockets() {
	if c.conn != nil {
		c.conn.Close()
	}
	if c.rtcp != nil {
		c.rtcp.Close()
	}
}

func (p *Phone) recordEnd(c *call) {
	res := c.result
	switch {
	case res != "":
	case c.answered:
		res = "answered"
	case c.incoming:
		res = "missed"
		p.missed++
	default:
		res = "cancelled"
	}
	p.addHist(histEntry{incoming: c.incoming, peer: c.peer, number: c.number, result: res})
}

func (p *Phone) callState(s string) { p.callStateOf(p.call, s) }

func (p *Phone) callStateOf(c *call, s string) {
	c.state = s
	p.d.Out.Call(int(c.id), s, c.peer)
}

func (p *Phone) setState(s State) {
	if p.state == s {
		return
	}
	p.state = s
	p.idle.Store(s == Idle)
	p.d.Out.Phone(s.String())
}

func (p *Phone) setTone(name string) {
	if p.tone == name {
		return
	}
	p.tone = name
	if err := p.d.Media.SetTone(name); err != nil {
		p.logf("phone: tone %s: %v", name, err)
	}
	p.d.Out.Tone(name)
}

// line is the line calls go out on: the first registered one, else the
// first configured one.
func (p *Phone) line() int {
	if n := p.selLine; n > 0 && p.d.Config.Lines[n-1].User != "" {
		return n
	}
	first := 0
	for i, l := range p.d.Config.Lines {
		if l.User == "" {
			continue
		}
		if p.regUp[i] {
			return i + 1
		}
		if first == 0 {
			first = i + 1
		}
	}
	if first == 0 {
		return 1
	}
	return first
}

func (p *Phone) localMedia(conn *net.UDPConn) sipua.Media {
	return sipua.Media{
		Host:   p.d.MediaHost,
		Port:   conn.LocalAddr().(*net.UDPAddr).Port,
		Codecs: p.d.Config.Codecs,
		Ptime:  p.d.Config.Ptime,
	}
}

// openRTP binds the next free pair of ports of the configured RTP range:
// RTP on the even one, RTCP on the odd one above it (RFC 3550 11). A range
// of 0-0 binds any two ports (tests).
func (p *Phone) openRTP() (rtp, rtcp *net.UDPConn, err error) {
	lo, hi := p.d.Config.RTPPortMin, p.d.Config.RTPPortMax
	if lo%2 == 1 {
		lo++
	}
	n := (hi - lo + 1) / 2 // pairs that fit
	if lo == 0 && hi == 0 {
		n = 1
	}
	if n <= 0 {
		return nil, nil, fmt.Errorf("phone: RTP port range %d-%d holds no pair", p.d.Config.RTPPortMin, hi)
	}
	ip := net.ParseIP(p.d.BindIP)
	var lastErr error
	for i := 0; i < n; i++ {
		port := lo + 2*((p.nextRTP+i)%n)
		rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			lastErr = err
			continue
		}
		rport := port + 1
		if port == 0 {
			rport = 0
		}
		rtcp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: rport})
		if err != nil {
			rtp.Close()
			lastErr = err
			continue
		}
		p.nextRTP = (p.nextRTP + i + 1) % n
		return rtp, rtcp, nil
	}
	return nil, nil, fmt.Errorf("phone: no free RTP/RTCP port pair in %d-%d: %w", lo, hi, lastErr)
}

// statusView is what Status reports: copied out of the phone by publish
// after every event, read by Status on any goroutine.
type statusView struct {
	reg       [len(config.Config{}.Lines)]string
	state     State
	calls     int
	encrypted bool // the current call's media runs SRTP
}

// publish copies what Status reports for other goroutines to read. It runs
// after every event, so it copies and builds nothing: the text is built
// only when asked for (Status, AppendStatus).
func (p *Phone) publish() {
	p.clockChanged()
	calls := 0
	if p.call != nil {
		calls++
	}
	if p.other != nil {
		calls++
	}
	p.statusMu.Lock()
	p.shown = statusView{reg: p.reg, state: p.state, calls: calls, encrypted: p.call != nil && p.call.encrypted}
	p.statusMu.Unlock()
}

// show puts the concatenated parts on a display row, built in the phone's
// reused text buffer (no allocation: hal.DisplayWriter).
func (p *Phone) show(row int, parts ...string) {
	b := p.lock(row, p.text[:0])
	for _, s := range parts {
		b = append(b, s...)
	}
	p.text = b
	p.showBytes(row, b)
}

// showBytes puts a row built in p.text on the display.
func (p *Phone) showBytes(row int, b []byte) {
	if p.dw != nil {
		p.dw.DisplayBytes(row, b)
		return
	}
	p.d.Out.Display(row, string(b))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Lock is the mark at the start of display row 1 while the current call's
// media is encrypted (SRTP): a padlock, then a space.
const Lock = "\U0001F512 "

// lock appends the lock to b, the start of display row row, when that row
// is the call's (1) and the current call is encrypted.
func (p *Phone) lock(row int, b []byte) []byte {
	if row == 1 && p.call != nil && p.call.encrypted && p.call.media {
		b = append(b, Lock...)
	}
	return b
}

// moved reports whether a re-INVITE's remote media differs from the
// stream's in what the engine uses: address, codec, digits or SRTP keys.
func moved(old, m *sipua.Media) bool {
	if old == nil {
		return true
	}
	if old.Host != m.Host || old.Port != m.Port || old.TelephoneEvent != m.TelephoneEvent ||
		len(old.Codecs) == 0 || len(m.Codecs) == 0 || old.Codecs[0] != m.Codecs[0] || old.Encrypted() != m.Encrypted() {
		return true
	}
	return m.Encrypted() && (!bytes.Equal(old.SRTP.Local, m.SRTP.Local) || !bytes.Equal(old.SRTP.Remote, m.SRTP.Remote))
}

// srtpKeys are the engine's SRTP keys for a call's negotiated ones; nil:
// RTP in the clear.
func srtpKeys(k *sipua.SRTPKeys) *audio.SRTPKeys {
	if k == nil {
		return nil
	}
	prof := audio.AESCM128SHA1_80
	if k.Suite == sdp.SuiteSHA1_32 {
		prof = audio.AESCM128SHA1_32
	}
	return &audio.SRTPKeys{Profile: prof, Local: k.Local, Remote: k.Remote}
}

// talkingTo is what the display says before the call's peer.
func (c *call) talkingTo() string {
	if c.named {
		return ""
	}
	return "Talking to "
}

// diverted shows where a call the phone placed went when the PBX says it
// went elsewhere (sipua.Divert): into a mailbox, "Voicemail of 1002",
// when it reached voicemail.number or the PBX named it so; else "Talking
// to 1003, diverted from 1002".
func (p *Phone) diverted(c *call, d sipua.Divert) {
	if d.From == "" || c.incoming {
		return
	}
	p.logf("phone: call %d: the PBX diverted it from %s to %s (%s)", c.id, d.From, d.To, d.Reason)
	switch vm := p.d.Config.VoicemailNumber; {
	case d.To != "" && d.To == vm:
		c.peer, c.named = "Voicemail of "+d.From, true
	case d.Name != "":
		c.peer, c.named = d.Name, true
	default:
		to := d.To
		if to == "" {
			to = c.peer
		}
		c.peer = to + ", diverted from " + d.From
	}
}
