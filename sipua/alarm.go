package sipua

import (
	"slices"
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
// An alarm with slack is due at its moment but may fire up to slack
// later: it fires at the first turn of the loop after its moment (a
// message, a posted call, another alarm), and wakes the loop itself only
// at its moment plus slack. The transaction layer's timers that only end
// an absorbing state are such (transaction.LaxClock): on an idle phone the
// end of a registration's transaction, 5 s after its response, then rides
// on the next keepalive instead of waking the phone on its own.
//
// Owned by the loop goroutine: armed, stopped and fired only there (or
// once the loop has ended, by the one goroutine that stops the UA: Halt).
type alarm struct {
	ua    *UA
	f     func()
	when  time.Time
	slack time.Duration
	i     int // index in ua.alarms; -1: not armed
}

func (ua *UA) newAlarm(f func()) *alarm { return &alarm{ua: ua, f: f, i: -1} }

// dueCap is how many alarms fireAlarms runs at once without growing its
// scratch (an allocation in a steady phone): a line's refresh and
// keepalive, the transactions' ends riding with them.
const dueCap = 16

// latest is when a must have fired: its moment plus its slack.
func (a *alarm) latest() time.Time { return a.when.Add(a.slack) }

// reset arms a to fire d from now, moving it if it was armed already.
func (a *alarm) reset(d time.Duration) {
	ua := a.ua
	a.when = time.Now().Add(d)
	if a.i < 0 {
		a.i = len(ua.alarms)
		ua.alarms = append(ua.alarms, a)
		if a.slack > 0 {
			ua.lax++
		}
	}
	if a.slack > 0 && (ua.lax == 1 || a.when.Before(ua.laxNext)) {
		ua.laxNext = a.when
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

// fireAlarms runs the alarms that are due, earliest first, from the loop:
// its clock fired, or a turn of it came after ua.laxNext. It runs only
// the alarms that were due when it began, so an alarm that re-arms itself
// at once (due now again under a frozen clock: testing/synctest) waits for
// the next turn of the loop.
func (ua *UA) fireAlarms() {
	now := time.Now()
	if ua.laxDue(now) {
		ua.fireAll(now)
	} else {
		// No alarm with slack is due (laxNext is at or before the earliest
		// moment of theirs): what is due is at the heap's top.
		for n := len(ua.alarms); n > 0 && len(ua.alarms) > 0 && !ua.alarms[0].latest().After(now); n-- {
			a := ua.alarms[0]
			ua.removeAlarm(0)
			a.f()
		}
	}
	ua.rearm()
}

// laxDue reports whether a turn of the loop at now should run alarms:
// one with slack may be due.
func (ua *UA) laxDue(now time.Time) bool { return ua.lax > 0 && !now.Before(ua.laxNext) }

// fireAll runs every alarm whose moment has come, wherever it is in the
// heap (those with slack are ordered by their latest moment), earliest
// first; one that an earlier one stopped or moved is not run. Then it
// finds the earliest moment of the alarms with slack left, which bounds
// how often the loop's turns look (a flood's server transactions each
// have one).
func (ua *UA) fireAll(now time.Time) {
	due := ua.due[:0]
	for _, a := range ua.alarms {
		if !a.when.After(now) {
			due = append(due, a)
		}
	}
	slices.SortFunc(due, func(a, b *alarm) int { return a.when.Compare(b.when) })
	for _, a := range due {
		if a.armed() && !a.when.After(now) {
			ua.removeAlarm(a.i)
			a.f()
		}
	}
	clear(due)
	ua.due = due[:0]
	first := true
	for _, a := range ua.alarms {
		if a.slack > 0 && (first || a.when.Before(ua.laxNext)) {
			ua.laxNext, first = a.when, false
		}
	}
}

// rearm sets the loop's clock to the earliest latest moment (or stops it).
func (ua *UA) rearm() {
	if len(ua.alarms) == 0 {
		ua.clock.Stop()
		return
	}
	ua.clock.Reset(time.Until(ua.alarms[0].latest()))
}

// The alarms are a binary min-heap on their latest moment, each alarm
// knowing its index.

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
	if a.slack > 0 {
		ua.lax--
	}
	if i != last {
		ua.fixAlarm(i)
	}
}

// fixAlarm restores the heap after the alarm at i changed its moment.
func (ua *UA) fixAlarm(i int) {
	h := ua.alarms
	for i > 0 { // up
		p := (i - 1) / 2
		if !h[i].latest().Before(h[p].latest()) {
			break
		}
		ua.swapAlarms(i, p)
		i = p
	}
	for { // down
		l, small := 2*i+1, i
		if l < len(h) && h[l].latest().Before(h[small].latest()) {
			small = l
		}
		if r := l + 1; r < len(h) && h[r].latest().Before(h[small].latest()) {
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

// AfterFuncLax is AfterFunc for a timer that may fire up to slack late
// (transaction.LaxClock).
func (c *loopClock) AfterFuncLax(d, slack time.Duration, f func()) transaction.Timer {
	a := (*UA)(c).newAlarm(f)
	a.slack = max(slack, 0)
	a.reset(d)
	return a
}
