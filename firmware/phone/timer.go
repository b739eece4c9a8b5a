package phone

import "time"

// timer is one of the phone's timers. Only Run's goroutine arms, stops and
// reads it; Run selects on C, which is nil (never ready) while disarmed.
// Time comes from the time package, so tests replace the clock by running
// the phone inside a testing/synctest bubble.
//
// The time.Timer is made on the first arm and reset on every later one, so
// a timer armed again and again (the digit poll of a call, every 40 ms)
// allocates nothing (DESIGN.md: the fixed-allocation core).
type timer struct {
	t  *time.Timer
	on bool // armed and not yet fired or stopped
}

func (t *timer) arm(d time.Duration) {
	if t.t == nil {
		t.t = time.NewTimer(d)
	} else {
		// Since Go 1.23 Reset (as Stop) leaves no stale value in the
		// channel, fired or not.
		t.t.Reset(d)
	}
	t.on = true
}

// stop disarms the timer; since Go 1.23 a stopped timer's channel never
// delivers a stale value.
func (t *timer) stop() {
	if t.on {
		t.t.Stop()
		t.on = false
	}
}

// fired is called by Run when C delivered.
func (t *timer) fired() { t.on = false }

func (t *timer) C() <-chan time.Time {
	if !t.on {
		return nil
	}
	return t.t.C
}

func (t *timer) armed() bool { return t.on }
