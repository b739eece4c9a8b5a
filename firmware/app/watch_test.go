package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/hal"
)

// settleLog records when the watcher settles, and what the phone was doing.
type settleLog struct {
	mu    sync.Mutex
	at    []time.Time
	state string // the phone's state at the last settling, as the test set it
	now   string
	done  chan struct{}
}

func newSettleLog() *settleLog { return &settleLog{done: make(chan struct{}, 4)} }

func (s *settleLog) set(state string) { s.mu.Lock(); s.now = state; s.mu.Unlock() }

func (s *settleLog) settle(func(string, ...any)) {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.state = s.now
	s.mu.Unlock()
	s.done <- struct{}{}
}

func watcherFor(t *testing.T, s *settleLog) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := newWatcher(ctx, hal.Discard, time.Now(), func(string, ...any) {}, true)
	w.settle = s.settle
	return w
}

// TestSettleIdle: an idle phone settles once, settleAfter its first
// registration, and its idle spell's steady part starts after that.
func TestSettleIdle(t *testing.T) {
	t.Parallel()
	s := newSettleLog()
	w := watcherFor(t, s)
	s.set("idle")
	w.Phone("idle")
	reg := time.Now()
	w.Reg(1, "registered")
	select {
	case <-s.done:
	case <-time.After(settleAfter + 3*time.Second):
		t.Fatal("an idle, registered phone did not settle")
	}
	if d := s.at[0].Sub(reg); d < settleAfter {
		t.Errorf("settled %v after registering, want at least %v", d, settleAfter)
	}
	w.idle.mu.Lock()
	steady := w.idle.steady
	w.idle.mu.Unlock()
	if !steady.ok || steady.readTime.Before(s.at[0]) {
		t.Errorf("idle spell's steady part from %v, want after the settling at %v (ok %v)", steady.readTime, s.at[0], steady.ok)
	}
	w.Reg(1, "registered") // a refresh
	select {
	case <-s.done:
		t.Error("settled twice")
	case <-time.After(settleAfter + 500*time.Millisecond):
	}
}

// TestSettleWaitsOutACall: due in a call, the settling waits for the next
// idle spell, steadyAfter into it, never inside the call.
func TestSettleWaitsOutACall(t *testing.T) {
	t.Parallel()
	s := newSettleLog()
	w := watcherFor(t, s)
	w.Phone("idle")
	w.Reg(1, "registered")
	s.set("connected")
	w.Phone("connected")
	w.Call(1, "connected", "sip:1002@pbx")
	select {
	case <-s.done:
		t.Fatalf("settled in a call")
	case <-time.After(settleAfter + 500*time.Millisecond):
	}
	w.Call(1, "ended:200", "sip:1002@pbx")
	s.set("idle")
	idle := time.Now()
	w.Phone("idle")
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		t.Fatal("did not settle once idle again")
	}
	if s.state != "idle" {
		t.Errorf("settled while %s", s.state)
	}
	if d := s.at[0].Sub(idle); d < steadyAfter {
		t.Errorf("settled %v into the idle spell, want its read %v into it", d, steadyAfter)
	}
}
