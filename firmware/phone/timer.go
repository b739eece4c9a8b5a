package phone

import "time"

// timer is one of the phone's timers. Only Run's goroutine arms, stops and
// reads it; Run selects on C, which is nil (never ready) while disarmed.
// Time comes from the time package, so tests replace the clock by running
// the phone inside a testing/synctest bubble.
type timer struct{ t *time.Timer }

func (t *timer) arm(d time.Duration) {
	t.stop()
	t.t = time.NewTimer(d)
}

// stop disarms the timer; since Go 1.23 a stopped timer's channel never
// delivers a stale value.
func (t *timer) stop() {
	if t.t != nil {
		t.t.Stop()
		t.t = nil
	}
}

// fired is called by Run when C delivered.
func (t *timer) fired() { t.t = nil }

func (t *timer) C() <-chan time.Time {
	if t.t == nil {
		return nil
	}
	return t.t.C
}

func (t *timer) armed() bool { return t.t != nil }
