package panel

import (
	"testing"
	"time"
)

// TestRawClockSchedule: the frame clock goes to the poller first only
// when its next expiry is well ahead, and reads first when the loop is
// late, so no expiry is waited out: a late wait finds the one expiry that
// came (not two, a period lost), and an early one finds the next.
func TestRawClockSchedule(t *testing.T) {
	const period = 50 * time.Millisecond
	armed := time.Now()
	f, err := newTimerfd(period)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k := newRawClock(f, armed, period)
	if k == nil {
		t.Fatal("no raw clock")
	}
	// On time: each wait right after the last one's expiry, a period ahead
	// of the next, goes to the poller first and finds that one expiry.
	for i := range 3 {
		early := k.early
		if err := k.wait(); err != nil {
			t.Fatal(err)
		}
		if k.got != 1 {
			t.Fatalf("wait %d on time: %d expirations, want 1", i, k.got)
		}
		if k.early != early+1 {
			t.Fatalf("wait %d on time read first (a read that finds nothing)", i)
		}
	}
	if !k.next.After(time.Now()) {
		t.Fatalf("next expiry %v is behind", time.Until(k.next))
	}
	// Late: the loop worked past the next expiry (by half a period, a
	// margin for a loaded machine): the wait reads it at once.
	time.Sleep(period + period/2)
	if time.Until(k.next) > period/2 {
		t.Fatal("the schedule is ahead of the timer")
	}
	early := k.early
	if err := k.wait(); err != nil {
		t.Fatal(err)
	}
	if k.early != early {
		t.Fatal("late wait went to the poller first")
	}
	if k.got != 1 {
		t.Fatalf("late wait: %d expirations, want the 1 that came (2: it waited one out)", k.got)
	}
	// A timer closed under the wait ends it.
	f.Close()
	if err := k.wait(); err == nil {
		t.Fatal("wait on a closed timer returned no error")
	}
}
