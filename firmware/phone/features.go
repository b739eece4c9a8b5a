package phone

import (
	"strconv"
	"time"
)

// dtmfPollEvery is how often, while a call has audio, Run reads the digits
// the engine received (RFC 4733 events or in-band tones), when the Media
// cannot say when one arrived (digitSignaller); one that can is read when
// it says, and polled only every dtmfPollSignalled, so that a call's
// phone goroutine does not wake 25 times a second (DESIGN.md, "Wake-ups").
const (
	dtmfPollEvery     = 40 * time.Millisecond
	dtmfPollSignalled = time.Minute
)

// digitSignaller is a Media that signals arriving digits (audio.Engine).
type digitSignaller interface{ DigitReady() <-chan struct{} }

// digitPoll is how often Run polls m for received digits.
func digitPoll(m Media) time.Duration {
	if _, ok := m.(digitSignaller); ok {
		return dtmfPollSignalled
	}
	return dtmfPollEvery
}

// digitSignal is m's digit signal, or nil (never ready).
func digitSignal(m Media) <-chan struct{} {
	if s, ok := m.(digitSignaller); ok {
		return s.DigitReady()
	}
	return nil
}

// dtmfDuration is how long each digit dialled during a call is sent.
const dtmfDuration = 100 * time.Millisecond

// sendDigit: a key pressed while connected goes to the far end as an RFC
// 4733 telephone-event; the display shows what was sent.
func (p *Phone) sendDigit(d byte) {
	c := p.call
	if c == nil || !c.media {
		return
	}
	if err := p.d.Media.SendDTMF(d, dtmfDuration); err != nil {
		p.logf("phone: call %d: DTMF %c: %v", c.id, d, err)
		return
	}
	if len(p.sentDTMF) < maxDigits {
		p.sentDTMF = append(p.sentDTMF, d)
	}
	p.showDigits(c, "  sent ", p.sentDTMF)
}

// pollDigits shows the digits the far end sent.
func (p *Phone) pollDigits() {
	c := p.call
	if c == nil || !c.media {
		return
	}
	got := false
	for {
		d, ok := p.d.Media.ReadDigit()
		if !ok {
			break
		}
		got = true
		if len(p.rcvdDTMF) >= maxDigits {
			p.rcvdDTMF = p.rcvdDTMF[:0]
		}
		p.rcvdDTMF = append(p.rcvdDTMF, d)
		p.d.Out.Log(dtmfReceived(d))
	}
	if got {
		p.showDigits(c, "  got ", p.rcvdDTMF)
	}
	p.dtmfPoll.arm(p.digitEvery)
}

// showDigits shows the call and the digits sent or received in it.
func (p *Phone) showDigits(c *call, what string, digits []byte) {
	b := append(p.lock(1, p.text[:0]), c.talkingTo()...)
	b = append(b, c.peer...)
	b = append(b, what...)
	b = append(b, digits...)
	p.text = b
	p.showBytes(1, b)
}

// dtmfLogs are the log lines of received digits, made once.
var dtmfLogs = func() (l [256]string) {
	for _, d := range []byte("0123456789*#ABCD") {
		l[d] = "dtmf received " + string(d)
	}
	return l
}()

// dtmfReceived is the log line of a received digit.
func dtmfReceived(d byte) string {
	if s := dtmfLogs[d]; s != "" {
		return s
	}
	return "dtmf received " + string(d)
}

// toggleMute: the mute key during a call; the far end hears silence.
func (p *Phone) toggleMute() {
	if p.call == nil || p.state != Connected {
		p.prompt("mute: no call")
		return
	}
	p.muted = !p.muted
	p.d.Media.SetMute(p.muted)
	p.d.Out.LED("mute", onOff(p.muted))
}

// onMWI shows a message-summary report: the counts, the lamp (on while any
// line has messages waiting) and the idle screen.
func (p *Phone) onMWI(m MWI) {
	i := m.Line - 1
	if i < 0 || i >= len(p.mwi) {
		i, m.Line = 0, 1
	}
	p.mwi[i] = m
	p.d.Out.MWI(m.Line, m.New, m.Old)
	waiting := false
	for _, x := range p.mwi {
		waiting = waiting || x.Waiting
	}
	p.d.Out.LED("mwi", onOff(waiting))
	if p.state == Idle {
		p.showIdle()
	}
}

// selectLine: a line key chooses the line the next calls go out on.
func (p *Phone) selectLine(n int) {
	if p.d.Config.Lines[n-1].User == "" {
		p.prompt("line " + strconv.Itoa(n) + " is not configured")
		return
	}
	p.selLine = n
	p.prompt("calls go out on line " + strconv.Itoa(n))
	if p.state == Idle || p.state == DialTone {
		p.d.Out.Display(0, p.lineRow(n))
	}
}
