package sipua

import (
	"time"

	"github.com/deskphone/deskphone/sipua/transaction"
)

// An alarm is a timer of the user agent: it runs f on the loop goroutine
// when it is due. The loop waits for the earliest armed alarm on one
// time.Timer (UA.clock, made at Start) in its own select, so a firing
// starts no goroutine: time.AfterFunc starts one each time, and a new
// goroutine allocates whenever more of them are alive at once than ever
// before, which made a steady call or an idle phone allocate now and then
// (DESIGN.md, the fixed-allocation core). An owner that keeps its alarm
// (a line's keepalive and refresh, the transaction layer's timers through
// loopClock) re-arms it without allocating.
//
// Owned by the loop goroutine: armed, stopped and fired only there (or
// once the loop has ended, by the one goroutine that stops the UA: Halt).
type alarm struct {
	ua   *UA
	f    func()
	when time.Time
	i    int // index in ua.alarms; -1: not armed
}

func (ua *UA) newAlarm(f func()) *alarm { return &alarm{ua: ua, f: f, i: -1} }

// reset arms a to fire d from now, moving it if it was armed already.
func (a *alarm) reset(d time.Duration) {
	ua := a.ua
	a.when = time.Now().Add(d)
	if a.i < 0 {
		a.i = len(ua.alarms)
		ua.alarms = append(ua.alarms, a)
	}
	ua.fixAlarm(a.i)
	ua.rearm()
}

// Reset is reset for the transaction layer, which re-arms the timers of
// a Client it starts again (transaction.StartClient); it reports whether
// a was armed.
func (a *alarm) Reset(d time.Duration) bool {
	was := a.armed()
	a.reset(d)
	return was
}

// Stop disarms a and reports whether it was armed (transaction.Timer).
func (a *alarm) Stop() bool {
	if a.i < 0 {
		return false
	}
	a.ua.removeAlarm(a.i)
	a.ua.rearm()
	return true
}

// armed reports whether a waits to fire.
func (a *alarm) armed() bool { return a.i >= 0 }

// after runs f on the loop goroutine after d; the returned function
// disarms it (on the loop). For the odd timer: one that fires again and
// again keeps an alarm (newAlarm, reset) instead.
func (ua *UA) after(d time.Duration, f func()) func() {
	a := ua.newAlarm(f)
	a.reset(d)
	return func() { a.Stop() }
}

// fireAlarms runs the alarms that are due, earliest first, from the loop
// (its clock fired). It runs at most as many as were armed when it began,
// so an alarm that re-arms itself at once (due now again under a frozen
// clock: testing/synctest) waits for the next turn of the loop.
func (ua *UA) fireAlarms() {
	now := time.Now()
	for n := len(ua.alarms); n > 0 && len(ua.alarms) > 0 && !ua.alarms[0].when.After(now); n-- {
		a := ua.alarms[0]
		ua.removeAlarm(0)
		a.f()
	}
	ua.rearm()
}

// rearm sets the loop's clock to the earliest alarm (or stops it).
func (ua *UA) rearm() {
	if len(ua.alarms) == 0 {
		ua.clock.Stop()
		return
	}
	ua.clock.Reset(time.Until(ua.alarms[0].when))
}

// The alarms are a binary min-heap on when, each alarm knowing its index.

func (ua *UA) removeAlarm(i int) {
	h := ua.alarms
	last := len(h) - 1
	a := h[i]
	if i != last {
		h[i] = h[last]
		h[i].i = i
	}
	h[last] = nil
	ua.alarms = h[:last]
	a.i = -1
	if i != last {
		ua.fixAlarm(i)
	}
}

// fixAlarm restores the heap after the alarm at i changed its moment.
func (ua *UA) fixAlarm(i int) {
	h := ua.alarms
	for i > 0 { // up
		p := (i - 1) / 2
		if !h[i].when.Before(h[p].when) {
			break
		}
		ua.swapAlarms(i, p)
		i = p
	}
	for { // down
		l, small := 2*i+1, i
		if l < len(h) && h[l].when.Before(h[small].when) {
			small = l
		}
		if r := l + 1; r < len(h) && h[r].when.Before(h[small].when) {
			small = r
		}
		if small == i {
			return
		}
		ua.swapAlarms(i, small)
		i = small
	}
}

func (ua *UA) swapAlarms(i, j int) {
	h := ua.alarms
	h[i], h[j] = h[j], h[i]
	h[i].i, h[j].i = i, j
}

// loopClock gives the transaction layer the UA's alarms: its timers fire
// on the loop, without a goroutine each (transaction.Config.OnOwner).
type loopClock UA

func (c *loopClock) AfterFunc(d time.Duration, f func()) transaction.Timer {
	a := (*UA)(c).newAlarm(f)
	a.reset(d)
	return a
}
