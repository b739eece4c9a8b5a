package transaction

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// TestCancelWhenFull: with the table at Max, a new request gets a
// stateless 503, but a CANCEL of a live INVITE server transaction is taken
// (RFC 3261 9.2) and answered normally: 200 to the CANCEL, 487 to the
// INVITE. A CANCEL that matches no INVITE still gets the 503; the
// CANCEL's retransmission is absorbed.
func TestCancelWhenFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		e.l.cfg.Max = 2
		inv := request("INVITE", "z9hG4bKinv")
		e.do(func() {
			srv, up := e.l.HandleRequest(inv, peer)
			if srv == nil || !up {
				t.Fatal("INVITE not taken")
			}
			_ = srv.Respond(sipmsg.NewResponse(inv, 180, ""))
			if s, up := e.l.HandleRequest(request("OPTIONS", "z9hG4bKo1"), peer); s == nil || !up {
				t.Fatal("OPTIONS not taken")
			}
			// Full: another OPTIONS and a CANCEL of no INVITE get 503.
			if s, up := e.l.HandleRequest(request("OPTIONS", "z9hG4bKo2"), peer); s != nil || up {
				t.Fatal("a request beyond Max got a transaction")
			}
			if s, up := e.l.HandleRequest(request("CANCEL", "z9hG4bKnone"), peer); s != nil || up {
				t.Fatal("a CANCEL of no INVITE got a transaction beyond Max")
			}
			// The CANCEL of the live INVITE goes through.
			cancel := request("CANCEL", "z9hG4bKinv")
			cs, up := e.l.HandleRequest(cancel, peer)
			if cs == nil || !up {
				t.Fatal("the CANCEL of a live INVITE was refused with the table full")
			}
			if e.l.MatchCancel(cancel) != srv {
				t.Fatal("MatchCancel does not find the INVITE")
			}
			_ = cs.Respond(sipmsg.NewResponse(cancel, 200, ""))
			_ = srv.Respond(reply(inv, 487))
			// A retransmitted CANCEL is absorbed: the 200 again.
			if s, up := e.l.HandleRequest(request("CANCEL", "z9hG4bKinv"), peer); s != nil || up {
				t.Fatal("a retransmitted CANCEL was passed up")
			}
			// The 487's ACK (the INVITE's branch) is absorbed.
			if s, up := e.l.HandleRequest(request("ACK", "z9hG4bKinv"), peer); s != nil || up {
				t.Fatal("the ACK of the 487 was passed up")
			}
			if srv.State() != Confirmed {
				t.Fatalf("INVITE after its ACK: %v", srv.State())
			}
		})
		want := []string{"0s 180", "0s 503", "0s 503", "0s 200", "0s 487", "0s 200"}
		if got := e.rec.log(); !reflect.DeepEqual(got, want) {
			t.Fatalf("sent %q\nwant %q", got, want)
		}
	})
}

// TestAckWithInviteBranch: an ACK that matches the INVITE's transaction
// (a peer that reuses the INVITE's branch for the ACK of a 2xx) is passed
// up in the Accepted state (RFC 6026 section 7.1), every time, and the
// transaction stays Accepted until timer L; after a non-2xx final the same
// ACK is the transaction's and is absorbed (17.2.1).
func TestAckWithInviteBranch(t *testing.T) {
	for _, tc := range []struct {
		code  int
		up    bool
		state State
	}{
		{200, true, Accepted},
		{486, false, Confirmed},
	} {
		t.Run(sipmsg.ReasonPhrase(tc.code), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv()
				inv := request("INVITE", "z9hG4bKsame")
				var srv *Server
				e.do(func() {
					srv, _ = e.l.HandleRequest(inv, peer)
					_ = srv.Respond(reply(inv, tc.code))
					for i := 0; i < 2; i++ { // the ACK, and its retransmission for a retransmitted 2xx
						s, up := e.l.HandleRequest(request("ACK", "z9hG4bKsame"), peer)
						if s != nil || up != tc.up {
							t.Fatalf("ACK %d after %d: passed up %v, want %v", i, tc.code, up, tc.up)
						}
					}
					if srv.State() != tc.state {
						t.Fatalf("state %v, want %v", srv.State(), tc.state)
					}
				})
				sleep(64*T1 + time.Second)
				if _, s := e.len(); s != 0 {
					t.Fatalf("%d server transactions left", s)
				}
			})
		})
	}
}
