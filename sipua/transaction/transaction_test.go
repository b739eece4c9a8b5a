package transaction

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// recorder is a Transport that records what is sent and when (fake time).
type recorder struct {
	mu    sync.Mutex
	start time.Time
	sent  []string // "0s INVITE", "500ms INVITE", "1.5s 486", ...
	fail  bool
}

func (r *recorder) Send(m *sipmsg.Message, to *net.UDPAddr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("network down")
	}
	what := m.Method
	if what == "" {
		what = fmt.Sprint(m.StatusCode)
	}
	r.sent = append(r.sent, fmt.Sprintf("%v %s", time.Since(r.start), what))
	return nil
}

func (r *recorder) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

// env is a Layer whose timers run under mu, as the UA's goroutine would.
type env struct {
	mu  sync.Mutex
	rec *recorder
	l   *Layer
}

func newEnv() *env {
	e := &env{rec: &recorder{start: time.Now()}}
	e.l = NewLayer(Config{Transport: e.rec, Post: func(f func()) { e.mu.Lock(); defer e.mu.Unlock(); f() }})
	return e
}

func (e *env) do(f func()) { e.mu.Lock(); defer e.mu.Unlock(); f() }

func (e *env) len() (clients, servers int) {
	e.do(func() { clients, servers = e.l.Len() })
	return clients, servers
}

var peer = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}

func request(method, branch string) *sipmsg.Message {
	m := sipmsg.NewRequest(method, "sip:bob@127.0.0.1:5070")
	m.Add("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch="+branch+";rport")
	m.Add("Route", "<sip:proxy;lr>")
	m.Add("From", "<sip:alice@127.0.0.1>;tag=a1")
	m.Add("To", "<sip:bob@127.0.0.1>")
	m.Add("Call-ID", "c1@127.0.0.1")
	m.Add("CSeq", "7 "+method)
	return m
}

func reply(req *sipmsg.Message, code int) *sipmsg.Message {
	r := sipmsg.NewResponse(req, code, "")
	if code > 100 {
		r.Set("To", req.Get("To")+";tag=b1")
	}
	return r
}

func secs(ds ...float64) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprint(time.Duration(d*float64(time.Second))))
	}
	return out
}

func withWhat(ts []string, what ...string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		w := what[len(what)-1]
		if i < len(what) {
			w = what[i]
		}
		out[i] = t + " " + w
	}
	return out
}

func TestClientTimeouts(t *testing.T) {
	for _, tc := range []struct {
		method string
		at     []float64 // retransmission times (timer A or E)
	}{
		// Timer A doubles from T1 until timer B (64*T1 = 32 s), 17.1.1.2.
		{"INVITE", []float64{0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5}},
		// Timer E doubles up to T2 = 4 s until timer F (32 s), 17.1.2.2.
		{"REGISTER", []float64{0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv()
				var gotErr error
				var errAt time.Duration
				e.do(func() {
					_, err := e.l.NewClient(request(tc.method, "z9hG4bK1"), peer, ClientHandler{
						OnError: func(c *Client, err error) { gotErr, errAt = err, time.Since(e.rec.start) },
					})
					if err != nil {
						t.Fatal(err)
					}
				})
				sleep(40 * time.Second)
				synctest.Wait()
				if want := withWhat(secs(tc.at...), tc.method); !reflect.DeepEqual(e.rec.log(), want) {
					t.Errorf("sent %v\nwant %v", e.rec.log(), want)
				}
				if !errors.Is(gotErr, ErrTimeout) || errAt != 32*time.Second {
					t.Errorf("error %v at %v, want timeout at 32s", gotErr, errAt)
				}
				if c, s := e.len(); c+s != 0 {
					t.Errorf("transactions left: %d %d", c, s)
				}
			})
		})
	}
}

func TestInviteClientFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		var up []int
		inv := request("INVITE", "z9hG4bK2")
		e.do(func() {
			_, _ = e.l.NewClient(inv, peer, ClientHandler{OnResponse: func(c *Client, r *sipmsg.Message) { up = append(up, r.StatusCode) }})
		})
		sleep(time.Second) // one retransmission at 0.5 s
		var ack *sipmsg.Message
		rec := &capture{recorder: e.rec, last: &ack}
		e.do(func() { e.l.cfg.Transport = rec })
		e.do(func() {
			e.l.HandleResponse(reply(inv, 100))
			e.l.HandleResponse(reply(inv, 486))
		})
		sleep(time.Second)
		e.do(func() { e.l.HandleResponse(reply(inv, 486)) }) // retransmitted final: ACK again, not passed up
		want := []string{"0s INVITE", "500ms INVITE", "1s ACK", "2s ACK"}
		if !reflect.DeepEqual(e.rec.log(), want) || !reflect.DeepEqual(up, []int{100, 486}) {
			t.Fatalf("sent %v up %v", e.rec.log(), up)
		}
		// 17.1.1.3: the ACK has the INVITE's Via, Route, From, Call-ID, the response's To.
		if ack.Get("Via") != inv.Get("Via") || ack.Get("Route") != "<sip:proxy;lr>" || ack.Get("To") != "<sip:bob@127.0.0.1>;tag=b1" || ack.Get("CSeq") != "7 ACK" || ack.RequestURI != inv.RequestURI {
			t.Fatalf("ACK: %s", ack)
		}
		sleep(31*time.Second - time.Millisecond)
		if c, _ := e.len(); c != 1 {
			t.Fatal("terminated before timer D")
		}
		sleep(time.Second)
		if c, _ := e.len(); c != 0 {
			t.Fatal("not terminated after timer D")
		}
	})
}

type capture struct {
	*recorder
	last **sipmsg.Message
}

func (c *capture) Send(m *sipmsg.Message, to *net.UDPAddr) error {
	*c.last = m
	return c.recorder.Send(m, to)
}

func TestInviteClientSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		var up []int
		var errs []error
		inv := request("INVITE", "z9hG4bK3")
		e.do(func() {
			_, _ = e.l.NewClient(inv, peer, ClientHandler{
				OnResponse: func(c *Client, r *sipmsg.Message) { up = append(up, r.StatusCode) },
				OnError:    func(c *Client, err error) { errs = append(errs, err) },
			})
			e.l.HandleResponse(reply(inv, 180))
		})
		sleep(10 * time.Second) // Proceeding: no retransmissions, no timer B
		e.do(func() { e.l.HandleResponse(reply(inv, 200)) })
		sleep(time.Second)
		e.do(func() { e.l.HandleResponse(reply(inv, 200)) }) // Accepted: retransmitted 2xx goes up (RFC 6026)
		sleep(40 * time.Second)
		var matched bool
		e.do(func() { matched = e.l.HandleResponse(reply(inv, 200)) })
		if !reflect.DeepEqual(e.rec.log(), []string{"0s INVITE"}) || !reflect.DeepEqual(up, []int{180, 200, 200}) || errs != nil || matched {
			t.Fatalf("sent %v up %v errs %v late match %v", e.rec.log(), up, errs, matched)
		}
	})
}

func TestNonInviteProceeding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		var up []int
		req := request("BYE", "z9hG4bK4")
		e.do(func() {
			_, _ = e.l.NewClient(req, peer, ClientHandler{OnResponse: func(c *Client, r *sipmsg.Message) { up = append(up, r.StatusCode) }})
		})
		sleep(time.Second)
		e.do(func() { e.l.HandleResponse(reply(req, 100)) })
		sleep(10 * time.Second) // Proceeding: timer E fires at T2 intervals
		e.do(func() { e.l.HandleResponse(reply(req, 200)) })
		sleep(time.Second)
		e.do(func() { e.l.HandleResponse(reply(req, 200)) }) // Completed: absorbed
		sleep(5 * time.Second)                               // timer K
		want := withWhat(secs(0, 0.5, 1.5, 5.5, 9.5), "BYE")
		if !reflect.DeepEqual(e.rec.log(), want) || !reflect.DeepEqual(up, []int{100, 200}) {
			t.Fatalf("sent %v want %v up %v", e.rec.log(), want, up)
		}
		if c, _ := e.len(); c != 0 {
			t.Fatal("not terminated after timer K")
		}
	})
}

func TestTransportError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		e.rec.fail = true
		var got error
		e.do(func() {
			_, _ = e.l.NewClient(request("REGISTER", "z9hG4bK5"), peer, ClientHandler{OnError: func(c *Client, err error) { got = err }})
		})
		if !errors.Is(got, ErrTransport) {
			t.Fatalf("err %v", got)
		}
	})
}

func TestInviteServer(t *testing.T) {
	for _, acked := range []bool{true, false} {
		t.Run(fmt.Sprint("acked=", acked), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv()
				inv := request("INVITE", "z9hG4bK6")
				var srv *Server
				var timeout error
				e.do(func() {
					s, isNew := e.l.HandleRequest(inv.Clone(), peer)
					if s == nil || !isNew {
						t.Fatal("new INVITE not passed up")
					}
					srv = s
					srv.OnTimeout = func(s *Server, err error) { timeout = err }
					_ = srv.Respond(reply(srv.Request(), 100))
					s2, up := e.l.HandleRequest(inv.Clone(), peer) // retransmission: 100 again
					if s2 != nil || up {
						t.Fatal("retransmission passed up")
					}
					_ = srv.Respond(reply(srv.Request(), 486))
				})
				sleep(4 * time.Second) // timer G: 0.5, 1.5, 3.5
				if acked {
					ack := request("ACK", "z9hG4bK6")
					e.do(func() {
						if s, up := e.l.HandleRequest(ack, peer); s != nil || up {
							t.Fatal("ACK to non-2xx passed up")
						}
					})
					sleep(5 * time.Second) // timer I
				} else {
					sleep(40 * time.Second) // G until H at 32 s
				}
				want := withWhat(secs(0, 0, 0, 0.5, 1.5, 3.5), "100", "100", "486", "486")
				if !acked {
					want = withWhat(secs(0, 0, 0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5), "100", "100", "486", "486")
				}
				if !reflect.DeepEqual(e.rec.log(), want) {
					t.Errorf("sent %v\nwant %v", e.rec.log(), want)
				}
				if acked != (timeout == nil) || (!acked && !errors.Is(timeout, ErrTimeout)) {
					t.Errorf("timeout %v", timeout)
				}
				if _, s := e.len(); s != 0 {
					t.Error("not terminated")
				}
			})
		})
	}
}

func TestInviteServerAccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		inv := request("INVITE", "z9hG4bK7")
		e.do(func() {
			srv, _ := e.l.HandleRequest(inv.Clone(), peer)
			ok := reply(srv.Request(), 200)
			_ = srv.Respond(ok)
			if s, up := e.l.HandleRequest(inv.Clone(), peer); s != nil || up { // absorbed in Accepted
				t.Fatal("INVITE retransmission passed up")
			}
			if err := srv.Respond(ok); err != nil { // the TU's 2xx retransmission
				t.Fatal(err)
			}
			if err := srv.Respond(reply(srv.Request(), 486)); err == nil {
				t.Fatal("non-2xx after 2xx accepted")
			}
			ack := request("ACK", "z9hG4bKother") // ACK to 2xx: own branch, to the TU
			if s, up := e.l.HandleRequest(ack, peer); s != nil || !up {
				t.Fatal("ACK to 2xx not passed up")
			}
		})
		sleep(32 * time.Second) // timer L
		if _, s := e.len(); s != 0 || !reflect.DeepEqual(e.rec.log(), []string{"0s 200", "0s 200"}) {
			t.Fatalf("left %d, sent %v", s, e.rec.log())
		}
	})
}

func TestNonInviteServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		bye := request("BYE", "z9hG4bK8")
		e.do(func() {
			srv, _ := e.l.HandleRequest(bye.Clone(), peer)
			if s, up := e.l.HandleRequest(bye.Clone(), peer); s != nil || up { // Trying: absorbed, nothing to re-send
				t.Fatal("retransmission passed up")
			}
			_ = srv.Respond(reply(srv.Request(), 200))
		})
		sleep(10 * time.Second)
		e.do(func() { e.l.HandleRequest(bye.Clone(), peer) }) // Completed: final re-sent
		sleep(22*time.Second - time.Millisecond)
		if _, s := e.len(); s != 1 {
			t.Fatal("terminated before timer J")
		}
		sleep(time.Millisecond)
		if _, s := e.len(); s != 0 || !reflect.DeepEqual(e.rec.log(), []string{"0s 200", "10s 200"}) {
			t.Fatalf("left %d sent %v", s, e.rec.log())
		}
	})
}

func TestStampViaAndCancel(t *testing.T) {
	e := newEnv()
	inv := request("INVITE", "z9hG4bK9")
	from := &net.UDPAddr{IP: net.IPv4(10, 0, 2, 2), Port: 40000}
	var srv *Server
	e.do(func() { srv, _ = e.l.HandleRequest(inv, from) })
	// The transaction keeps its own copy of the request, stamped, and of
	// the source: the caller's message and address are reused.
	if got := srv.Request().Get("Via"); got != "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9;rport=40000;received=10.0.2.2" {
		t.Fatalf("Via %q", got)
	}
	if srv.Request() == inv || srv.Remote() == from || srv.Remote().String() != from.String() {
		t.Fatal("the transaction keeps the caller's message or address")
	}
	from.Port = 1 // the caller reuses it
	if srv.Remote().Port != 40000 {
		t.Fatal("Remote changed with the caller's address")
	}
	from.Port = 40000
	cancel := CancelFor(request("INVITE", "z9hG4bK9"))
	if cancel.Get("CSeq") != "7 CANCEL" || cancel.Get("Route") != "<sip:proxy;lr>" || cancel.Method != "CANCEL" {
		t.Fatalf("CANCEL %s", cancel)
	}
	e.do(func() {
		cs, up := e.l.HandleRequest(cancel, from)
		if cs == nil || !up || e.l.MatchCancel(cancel) != srv {
			t.Fatal("CANCEL does not match its INVITE")
		}
		if e.l.MatchCancel(CancelFor(request("INVITE", "z9hG4bKnone"))) != nil {
			t.Fatal("CANCEL matched a stranger")
		}
	})
	for _, s := range []State{Calling, Trying, Proceeding, Accepted, Completed, Confirmed, Terminated, 0} {
		if s.String() == "" {
			t.Fatal("State.String")
		}
	}
}

// sleep advances the bubble's fake clock and lets every timer due by then run.
func sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// A request nobody answers is said to be unanswered at its fourth send
// (3.5 s), once, long before timer F ends it; one that got a provisional
// response is not.
func TestClientUnanswered(t *testing.T) {
	for _, tc := range []struct {
		method      string
		provisional bool
		want        []time.Duration
	}{
		{"REGISTER", false, []time.Duration{3500 * time.Millisecond}},
		{"INVITE", false, []time.Duration{3500 * time.Millisecond}},
		{"REGISTER", true, nil},
	} {
		t.Run(fmt.Sprint(tc.method, tc.provisional), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv()
				var at []time.Duration
				var timedOut bool
				req := request(tc.method, "z9hG4bK9")
				e.do(func() {
					_, err := e.l.NewClient(req, peer, ClientHandler{
						OnUnanswered: func(c *Client) { at = append(at, time.Since(e.rec.start)) },
						OnError:      func(c *Client, err error) { timedOut = errors.Is(err, ErrTimeout) },
					})
					if err != nil {
						t.Fatal(err)
					}
				})
				if tc.provisional {
					sleep(time.Second)
					e.do(func() { e.l.HandleResponse(reply(req, 100)) })
				}
				sleep(40 * time.Second)
				synctest.Wait()
				if !reflect.DeepEqual(at, tc.want) || !timedOut {
					t.Fatalf("unanswered at %v (want %v), timed out %v", at, tc.want, timedOut)
				}
			})
		})
	}
}

// TestStampViaAllocs: stamping received and rport costs the new Via
// alone; a top Via inside a comma list becomes a header of its own.
func TestStampViaAllocs(t *testing.T) {
	l := NewLayer(Config{Post: func(f func()) { f() }})
	from := &net.UDPAddr{IP: net.IPv4(10, 0, 2, 2), Port: 40000}
	const via = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9;rport"
	m := &sipmsg.Message{Method: "OPTIONS", Headers: []sipmsg.Header{{Name: "Via", Value: via}}}
	if n := testing.AllocsPerRun(50, func() {
		m.Headers[0].Value = via
		l.stampVia(m, from)
	}); n != 1 {
		t.Errorf("%v allocations a stamp, want 1", n)
	}
	if got := m.Get("Via"); got != "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9;rport=40000;received=10.0.2.2" {
		t.Fatalf("Via %q", got)
	}
	m.Headers[0].Value = via + ", SIP/2.0/UDP p.example;branch=z9hG4bKp"
	l.stampVia(m, from)
	if got := m.GetAll("Via"); len(m.Headers) != 2 || len(got) != 2 || got[0] != "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9;rport=40000;received=10.0.2.2" || got[1] != "SIP/2.0/UDP p.example;branch=z9hG4bKp" {
		t.Fatalf("Vias %q in %d headers", got, len(m.Headers))
	}
}

// ownerClock is a Clock whose timers the test fires itself, on its own
// goroutine (Config.OnOwner), and which can be re-armed (as sipua's
// alarms).
type ownerClock struct{ made []*ownerTimer }

type ownerTimer struct {
	f  func()
	on bool
}

func (c *ownerClock) AfterFunc(_ time.Duration, f func()) Timer {
	t := &ownerTimer{f: f, on: true}
	c.made = append(c.made, t)
	return t
}

func (t *ownerTimer) Stop() bool                              { was := t.on; t.on = false; return was }
func (t *ownerTimer) Reset(time.Duration) bool                { was := t.on; t.on = true; return was }
func (t *ownerTimer) fire()                                   { t.on = false; t.f() }
func (nopTransport) Send(*sipmsg.Message, *net.UDPAddr) error { return nil }

type nopTransport struct{}

// TestStartClientAllocs: a Client its TU keeps and starts again on an
// OnOwner layer (a line's REGISTERs) keeps its timers and re-arms them,
// and with Borrow takes its responses uncopied: a whole transaction,
// request to timer K, allocates nothing.
func TestStartClientAllocs(t *testing.T) {
	clock := &ownerClock{}
	l := NewLayer(Config{Transport: nopTransport{}, Post: func(f func()) { f() }, Clock: clock, OnOwner: true})
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}
	reqs := [2]*sipmsg.Message{request("REGISTER", "z9hG4bKr1"), request("REGISTER", "z9hG4bKr2")}
	oks := [2]*sipmsg.Message{reply(reqs[0], 200), reply(reqs[1], 200)}
	var c Client
	got := 0
	h := ClientHandler{OnResponse: func(_ *Client, r *sipmsg.Message) { got += r.StatusCode }, Borrow: true}
	round := func(i int) {
		if err := l.StartClient(&c, reqs[i], to, h); err != nil {
			t.Fatal(err)
		}
		if !l.HandleResponse(oks[i]) || c.State() != Completed {
			t.Fatalf("the 200 did not complete the transaction: %v", c.State())
		}
		for _, tm := range clock.made {
			if tm.on {
				tm.fire() // timer K
			}
		}
		if c.State() != Terminated {
			t.Fatalf("timer K left %v", c.State())
		}
	}
	round(0)
	if err := l.StartClient(&c, reqs[1], to, h); err != nil {
		t.Fatal(err)
	}
	if err := l.StartClient(&c, reqs[1], to, h); err == nil {
		t.Fatal("StartClient of a live transaction")
	}
	c.Terminate()
	round(1)
	made := len(clock.made)
	i := 0
	if n := testing.AllocsPerRun(50, func() { round(i % 2); i++ }); n != 0 {
		t.Errorf("%v allocations a transaction started again, want 0", n)
	}
	if len(clock.made) != made || made != 3 || got == 0 {
		t.Errorf("%d timers made (%d before the runs), want 3: A/E, B/F, D/K/M", len(clock.made), made)
	}
	if cl, _ := l.Len(); cl != 0 {
		t.Errorf("%d clients left", cl)
	}
}

// laxClock is an ownerClock that can fire late (LaxClock): it records
// each timer's wait and slack.
type laxClock struct {
	ownerClock
	waits  []time.Duration
	slacks []time.Duration
}

func (c *laxClock) AfterFunc(d time.Duration, f func()) Timer {
	c.waits, c.slacks = append(c.waits, d), append(c.slacks, 0)
	return c.ownerClock.AfterFunc(d, f)
}

func (c *laxClock) AfterFuncLax(d, slack time.Duration, f func()) Timer {
	c.waits, c.slacks = append(c.waits, d), append(c.slacks, slack)
	return c.ownerClock.AfterFunc(d, f)
}

// TestEndTimersLax: on a layer whose timers fire on their owner and may
// fire late (sipua's alarms), the timers that end an absorbing state (D,
// I, J, K, L, M) are made with EndSlack and the others (A, B, E, F, G, H)
// without; on a clock that cannot, every timer is a plain one.
func TestEndTimersLax(t *testing.T) {
	run := func(clock Clock, onOwner bool, steps func(l *Layer)) {
		l := NewLayer(Config{Transport: nopTransport{}, Post: func(f func()) { f() }, Clock: clock, OnOwner: onOwner})
		steps(l)
	}
	client := func(method string, code int) func(l *Layer) {
		return func(l *Layer) {
			req := request(method, "z9hG4bKc"+method)
			if _, err := l.NewClient(req, peer, ClientHandler{}); err != nil {
				t.Fatal(err)
			}
			if !l.HandleResponse(reply(req, code)) {
				t.Fatalf("%s %d not matched", method, code)
			}
		}
	}
	server := func(method string, code int, ack bool) func(l *Layer) {
		return func(l *Layer) {
			req := request(method, "z9hG4bKs"+method)
			s, isNew := l.HandleRequest(req, peer)
			if s == nil || !isNew {
				t.Fatalf("%s not passed up", method)
			}
			if err := s.Respond(reply(s.Request(), code)); err != nil {
				t.Fatal(err)
			}
			if ack {
				l.HandleRequest(request("ACK", "z9hG4bKs"+method), peer)
			}
		}
	}
	const t1 = 64 * T1
	for _, tc := range []struct {
		name   string
		steps  func(l *Layer)
		waits  []time.Duration // in the order made
		slacks []time.Duration
	}{
		{"K: non-INVITE client", client("OPTIONS", 200), []time.Duration{T1, t1, T4}, []time.Duration{0, 0, EndSlack}},
		{"D: INVITE client, a failure", client("INVITE", 486), []time.Duration{T1, t1, t1}, []time.Duration{0, 0, EndSlack}},
		{"M: INVITE client, a 2xx", client("INVITE", 200), []time.Duration{T1, t1, t1}, []time.Duration{0, 0, EndSlack}},
		{"J: non-INVITE server", server("OPTIONS", 200, false), []time.Duration{t1}, []time.Duration{EndSlack}},
		{"L: INVITE server, a 2xx", server("INVITE", 200, false), []time.Duration{t1}, []time.Duration{EndSlack}},
		{"G, H, I: INVITE server, a failure and its ACK", server("INVITE", 486, true), []time.Duration{T1, t1, T4}, []time.Duration{0, 0, EndSlack}},
	} {
		c := &laxClock{}
		run(c, true, tc.steps)
		if !reflect.DeepEqual(c.waits, tc.waits) || !reflect.DeepEqual(c.slacks, tc.slacks) {
			t.Errorf("%s: timers %v with slack %v, want %v with %v", tc.name, c.waits, c.slacks, tc.waits, tc.slacks)
		}
		c = &laxClock{}
		run(c, false, tc.steps) // Posted timers: the owner's wake-ups are not known
		for i, s := range c.slacks {
			if s != 0 {
				t.Errorf("%s, not on the owner: timer %d (%v) made with slack %v", tc.name, i, c.waits[i], s)
			}
		}
	}
}
