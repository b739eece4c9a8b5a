package transaction

import (
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Over TCP and TLS a transaction knows its transport from its top Via: no
// retransmissions (timers A, E, G), and timers D, I, J, K are zero (RFC
// 3261 17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2); B, F and H still run.

func overTCP(m *sipmsg.Message) *sipmsg.Message {
	m.Set("Via", strings.Replace(m.Get("Via"), "SIP/2.0/UDP", "SIP/2.0/TCP", 1))
	return m
}

func TestReliable(t *testing.T) {
	for via, want := range map[string]bool{
		"SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1":       false,
		"SIP/2.0/udp 1.2.3.4":                       false,
		"SIP/2.0/TCP 1.2.3.4:5060;branch=z9hG4bK1":  true,
		"SIP / 2.0 / TLS 1.2.3.4;branch=z9hG4bK1":   true,
		"SIP/2.0/WSS x.invalid;branch=z9hG4bK1":     true,
		"SIP/2.0/TCP a, SIP/2.0/UDP b;branch=z9hG4": true,
		"garbage": false,
	} {
		m := sipmsg.NewRequest("OPTIONS", "sip:x")
		m.Add("Via", via)
		if got := Reliable(m); got != want {
			t.Errorf("Reliable(%q) = %v, want %v", via, got, want)
		}
	}
}

func TestReliableClientTimeouts(t *testing.T) {
	for _, method := range []string{"INVITE", "REGISTER"} {
		t.Run(method, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv()
				var gotErr error
				var errAt time.Duration
				e.do(func() {
					if _, err := e.l.NewClient(overTCP(request(method, "z9hG4bK1")), peer, ClientHandler{
						OnError: func(c *Client, err error) { gotErr, errAt = err, time.Since(e.rec.start) },
					}); err != nil {
						t.Fatal(err)
					}
				})
				sleep(40 * time.Second)
				synctest.Wait()
				if want := []string{"0s " + method}; !reflect.DeepEqual(e.rec.log(), want) {
					t.Errorf("sent %v, want %v (no timer A/E over TCP)", e.rec.log(), want)
				}
				if !errors.Is(gotErr, ErrTimeout) || errAt != 32*time.Second {
					t.Errorf("error %v at %v, want timer B/F at 32s", gotErr, errAt)
				}
			})
		})
	}
}

func TestReliableClientCompletedEndsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		inv := overTCP(request("INVITE", "z9hG4bK2"))
		reg := overTCP(request("REGISTER", "z9hG4bK3"))
		e.do(func() {
			_, _ = e.l.NewClient(inv, peer, ClientHandler{})
			_, _ = e.l.NewClient(reg, peer, ClientHandler{})
		})
		e.do(func() {
			e.l.HandleResponse(reply(inv, 486)) // ACKed, then timer D = 0
			e.l.HandleResponse(reply(reg, 200)) // timer K = 0
		})
		if c, _ := e.len(); c != 0 {
			t.Fatalf("%d client transactions left; timers D and K are zero over TCP", c)
		}
		if want := []string{"0s INVITE", "0s REGISTER", "0s ACK"}; !reflect.DeepEqual(e.rec.log(), want) {
			t.Fatalf("sent %v, want %v", e.rec.log(), want)
		}
	})
}

func TestReliableServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		inv := overTCP(request("INVITE", "z9hG4bK4"))
		opt := overTCP(request("OPTIONS", "z9hG4bK5"))
		var timedOut bool
		e.do(func() {
			s, _ := e.l.HandleRequest(inv, peer)
			s.OnTimeout = func(*Server, error) { timedOut = true }
			if err := s.Respond(reply(inv, 486)); err != nil {
				t.Fatal(err)
			}
			o, _ := e.l.HandleRequest(opt, peer)
			if err := o.Respond(reply(opt, 200)); err != nil {
				t.Fatal(err)
			}
		})
		sleep(10 * time.Second)
		if want := []string{"0s 486", "0s 200"}; !reflect.DeepEqual(e.rec.log(), want) {
			t.Fatalf("sent %v, want %v (no timer G over TCP)", e.rec.log(), want)
		}
		if _, s := e.len(); s != 1 {
			t.Fatalf("%d server transactions, want the INVITE's only (timer J is zero)", s)
		}
		ack := overTCP(request("ACK", "z9hG4bK4"))
		ack.Set("To", inv.Get("To")+";tag=b1")
		e.do(func() { e.l.HandleRequest(ack, peer) })
		if _, s := e.len(); s != 0 || timedOut {
			t.Fatalf("%d server transactions after the ACK (timer I is zero), timed out %v", s, timedOut)
		}
	})
}

func TestReliableServerTimerH(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		inv := overTCP(request("INVITE", "z9hG4bK6"))
		var errAt time.Duration
		e.do(func() {
			s, _ := e.l.HandleRequest(inv, peer)
			s.OnTimeout = func(*Server, error) { errAt = time.Since(e.rec.start) }
			_ = s.Respond(reply(inv, 480))
		})
		sleep(40 * time.Second)
		synctest.Wait()
		if errAt != 32*time.Second || len(e.rec.log()) != 1 {
			t.Fatalf("timer H at %v, sent %v; want 32s and one 480", errAt, e.rec.log())
		}
	})
}

// TestUnreachable: a connection that cannot be made fails the reliable
// transactions to that address at once (8.1.3.1), not after timer B/F;
// UDP ones and those to other addresses go on.
func TestUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		var errs []error
		h := ClientHandler{OnError: func(c *Client, err error) { errs = append(errs, err) }}
		other := &net.UDPAddr{IP: peer.IP, Port: peer.Port + 1}
		e.do(func() {
			_, _ = e.l.NewClient(overTCP(request("INVITE", "z9hG4bK7")), peer, h)
			_, _ = e.l.NewClient(overTCP(request("REGISTER", "z9hG4bK8")), peer, h)
			_, _ = e.l.NewClient(request("OPTIONS", "z9hG4bK9"), peer, h)           // UDP
			_, _ = e.l.NewClient(overTCP(request("OPTIONS", "z9hG4bKa")), other, h) // elsewhere
		})
		var n int
		e.do(func() { n = e.l.Unreachable(peer, errors.New("connection refused")) })
		if n != 2 || len(errs) != 2 || !errors.Is(errs[0], ErrTransport) || !errors.Is(errs[1], ErrTransport) {
			t.Fatalf("Unreachable ended %d, errors %v", n, errs)
		}
		if c, _ := e.len(); c != 2 {
			t.Fatalf("%d client transactions left, want the UDP one and the other address's", c)
		}
	})
}
