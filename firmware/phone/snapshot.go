package phone

import (
	"context"
	"fmt"
	"time"
)

// Snapshot is what an administrator's page shows of the phone: its state,
// its lines, its calls and its call history, copied on the phone's
// goroutine so that it is one consistent moment.
type Snapshot struct {
	State   State
	Lines   []LineView     // the configured lines, line 1 first
	Calls   []CallView     // the calls up: the handset's first
	History []HistoryEntry // newest first, at most history.size
}

// LineView is one configured line.
type LineView struct {
	Line       int // 1-based
	User       string
	Registrar  string // "" = no registration (peer-to-peer)
	Reg        string // as the panel shows it: registered, unregistered, failed:403, ...
	Registered bool
}

// CallView is one call that is up.
type CallView struct {
	ID       int
	Peer     string
	State    string // panel.md call state: calling, ringing, connected, held, ...
	Incoming bool
	Waiting  bool // an incoming call ringing in while another is up
}

// HistoryEntry is one call of the call history.
type HistoryEntry struct {
	Incoming bool
	Peer     string // as shown
	Number   string // to call back
	Result   string // answered, missed, busy, rejected, cancelled, forwarded:TARGET, failed:CODE
	Ended    time.Time
}

// Snapshot asks the running phone for a Snapshot. It waits for the phone's
// goroutine (Run) to copy one between two events, until ctx ends. Safe
// from any goroutine; the phone allocates only when asked.
func (p *Phone) Snapshot(ctx context.Context) (Snapshot, error) {
	reply := make(chan Snapshot, 1)
	select {
	case p.snapReq <- reply:
	case <-ctx.Done():
		return Snapshot{}, fmt.Errorf("phone: snapshot: %w", ctx.Err())
	}
	select {
	case s := <-reply:
		return s, nil
	case <-ctx.Done():
		return Snapshot{}, fmt.Errorf("phone: snapshot: %w", ctx.Err())
	}
}

// snapshot copies the phone's state; only Run calls it.
func (p *Phone) snapshot() Snapshot {
	s := Snapshot{State: p.state}
	for i, l := range p.d.Config.Lines {
		if l.User == "" {
			continue
		}
		s.Lines = append(s.Lines, LineView{Line: i + 1, User: l.User, Registrar: l.Registrar, Reg: p.reg[i], Registered: p.regUp[i]})
	}
	for _, c := range []*call{p.call, p.other} {
		if c != nil {
			s.Calls = append(s.Calls, CallView{ID: int(c.id), Peer: c.peer, State: c.state, Incoming: c.incoming, Waiting: c.waiting})
		}
	}
	for _, h := range p.hist {
		s.History = append(s.History, HistoryEntry{Incoming: h.incoming, Peer: h.peer, Number: h.number, Result: h.result, Ended: h.ended})
	}
	return s
}
