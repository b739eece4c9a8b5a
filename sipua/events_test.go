package sipua

import (
	"testing"
	"time"
)

// TestEventsNeverBlockTheUA: while the phone reads no events the UA goes
// on answering calls into the API (each waits for the loop), and once the
// phone reads, every event comes, in order; past the ring, events are
// counted as dropped, not lost silently.
func TestEventsNeverBlockTheUA(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001"})
	n := eventRing + 40
	for i := range n {
		done := make(chan error, 1)
		go func() {
			done <- ua.do(func() error {
				ua.emit(Event{Kind: CallProgress, Call: CallID(1000 + i), Code: 180})
				return nil
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(deadline):
			t.Fatalf("event %d: the UA waited on the phone", i)
		}
	}
	// The channel holds some and the ring the rest; beyond both, dropped.
	// What comes, comes in order.
	got, last := 0, CallID(0)
	for got < n-int(ua.DroppedEvents()) {
		select {
		case e := <-ua.Events():
			if e.Call <= last {
				t.Fatalf("event %d is call %d after call %d: out of order", got, e.Call, last)
			}
			got, last = got+1, e.Call
		case <-time.After(deadline):
			t.Fatalf("got %d of %d events (%d dropped)", got, n, ua.DroppedEvents())
		}
	}
	if d := ua.DroppedEvents(); d == 0 || d > uint64(n-eventRing) {
		t.Fatalf("dropped %d of %d with a ring of %d", d, n, eventRing)
	}
}

// TestCloseWithEventsUnread: a phone that reads no events does not hold
// Close: what is queued is offered for eventFlush, then the channel
// closes (the forwarder, stopped while handing one over, puts it back
// and flushes instead of spinning on it).
func TestCloseWithEventsUnread(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001"})
	_ = ua.do(func() error {
		for i := range 40 {
			ua.emit(Event{Kind: CallProgress, Call: CallID(2000 + i), Code: 180})
		}
		return nil
	})
	closed := make(chan struct{})
	go func() { ua.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(closeWait + eventFlush + deadline):
		t.Fatal("Close held by events nobody reads")
	}
	n := 0
	for range ua.Events() {
		n++
	}
	if n == 0 || n > 40 {
		t.Fatalf("%d events left in the closed channel", n)
	}
}
