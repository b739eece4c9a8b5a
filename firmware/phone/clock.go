package phone

import (
	"strconv"
	"time"
)

// The status row, panel.md's display row 3: the time and date ("09:41 Wed
// 2 Dec", time.zone and time.format), and while a call is connected how
// long it has run ("09:41 Wed 2 Dec  1:07"). The time comes from
// Deps.Clock (the phone's SNTP clock); while it is not known (a board
// without a battery that has not reached its NTP server) the row shows the
// call timer alone, or nothing. The call timer runs on the monotonic clock
// from the answer, so a clock set by SNTP mid-call does not jump it.
//
// clockTick is armed for the next change: the next minute on hook, the
// next second of the call timer in a call; an idle phone wakes once a
// minute for it, a call once a second (beside its 50 frames).

const statusRow = 3

// zoneOf is the configuration's time.zone, UTC when it cannot be loaded
// (the configuration checked it already).
func zoneOf(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// showClock puts the status row on the display and arms clockTick.
func (p *Phone) showClock() {
	if p.d.Clock == nil {
		return
	}
	b := p.text[:0]
	next := time.Minute // the clock is not known: look again in a minute
	if now, ok := p.d.Clock(); ok {
		t := now.In(p.zone)
		if p.hour12 {
			b = t.AppendFormat(b, "3:04pm Mon 2 Jan")
		} else {
			b = t.AppendFormat(b, "15:04 Mon 2 Jan")
		}
		next = time.Duration(60-t.Second())*time.Second - time.Duration(t.Nanosecond())
	}
	p.clockFor = p.timed()
	if c := p.clockFor; c != nil {
		p.clockSince = c.since
		d := time.Since(c.since)
		if len(b) > 0 {
			b = append(b, "  "...)
		}
		b = appendCallTime(b, d)
		next = min(next, time.Second-d%time.Second)
	}
	p.text = b
	p.showBytes(statusRow, b)
	p.clockTick.arm(next)
}

// appendCallTime appends d as M:SS, or H:MM:SS from an hour on.
func appendCallTime(b []byte, d time.Duration) []byte {
	s := int64(d / time.Second)
	if s >= 3600 {
		b = strconv.AppendInt(b, s/3600, 10)
		b = append(b, ':')
		b = append2(b, s/60%60)
	} else {
		b = strconv.AppendInt(b, s/60, 10)
	}
	b = append(b, ':')
	return append2(b, s%60)
}

// append2 appends n (0-99) as two digits.
func append2(b []byte, n int64) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// timed is the call whose timer the status row shows: the handset's
// call once connected; nil: none.
func (p *Phone) timed() *call {
	if c := p.call; c != nil && c.answered && !c.since.IsZero() {
		return c
	}
	return nil
}

// clockChanged puts the status row right when the call it times changed
// (connected, ended, swapped); publish asks after every event.
func (p *Phone) clockChanged() {
	if c := p.timed(); p.d.Clock != nil && (c != p.clockFor || (c != nil && c.since != p.clockSince)) {
		p.showClock()
	}
}

// connected marks c answered now, for its call timer.
func (p *Phone) connected(c *call) {
	c.answered = true
	c.since = time.Now()
}
