package phone

import (
	"context"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua"
)

// TestSnapshot reads a registered phone with a call up and one in its
// history through Run, as the web page does.
func TestSnapshot(t *testing.T) {
	r := newRig(t)
	r.p.onSIP(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered})
	r.p.onSIP(incoming(1, "1002"))
	r.hook(true)
	r.hook(false) // call 1 ends: answered, in the history
	r.p.onSIP(incoming(2, "1003"))
	r.hook(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	s, err := r.p.Snapshot(sctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != Connected || len(s.Lines) != 1 || s.Lines[0].User != "1001" || s.Lines[0].Reg != "registered" || !s.Lines[0].Registered {
		t.Errorf("snapshot %+v", s)
	}
	if len(s.Calls) != 1 || s.Calls[0].ID != 2 || s.Calls[0].Peer != "1003" || s.Calls[0].State != "connected" || !s.Calls[0].Incoming {
		t.Errorf("calls %+v", s.Calls)
	}
	if len(s.History) != 1 || s.History[0].Peer != "1002" || s.History[0].Result != "answered" || s.History[0].Ended.IsZero() {
		t.Errorf("history %+v", s.History)
	}
}

// TestSnapshotNotRunning: a phone whose Run is not running does not hold
// the caller past its context.
func TestSnapshotNotRunning(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.p.Snapshot(ctx); err == nil {
		t.Fatal("no error")
	}
}
