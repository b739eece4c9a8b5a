package transaction

import (
	"errors"
	"reflect"
	"testing"
	"testing/synctest"
)

// TestTableBounded: with Max live transactions a new request gets a
// stateless 503 (no transaction) and NewClient fails with ErrFull, until
// the timers free a slot.
func TestTableBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv()
		e.l.cfg.Max = 2
		e.do(func() {
			for _, b := range []string{"z9hG4bKs1", "z9hG4bKs2"} {
				if s, up := e.l.HandleRequest(request("OPTIONS", b), peer); s == nil || !up {
					t.Fatalf("request %s not taken", b)
				}
			}
			if s, up := e.l.HandleRequest(request("OPTIONS", "z9hG4bKs3"), peer); s != nil || up {
				t.Fatal("a request beyond Max got a transaction")
			}
			if _, err := e.l.NewClient(request("OPTIONS", "z9hG4bKc1"), peer, ClientHandler{}); !errors.Is(err, ErrFull) {
				t.Fatalf("NewClient beyond Max: %v", err)
			}
		})
		if got := e.rec.log(); !reflect.DeepEqual(got, []string{"0s 503"}) {
			t.Fatalf("sent %q", got)
		}
	})
}

// TestRFC2543Key: without the magic cookie, requests match by Call-ID,
// CSeq and From (17.2.3): a retransmission is absorbed.
func TestRFC2543Key(t *testing.T) {
	e := newEnv()
	e.do(func() {
		if s, up := e.l.HandleRequest(request("OPTIONS", "old1"), peer); s == nil || !up {
			t.Fatal("first request not taken")
		}
		if s, up := e.l.HandleRequest(request("OPTIONS", "old1"), peer); s != nil || up {
			t.Fatal("retransmission not absorbed")
		}
	})
}

// TestKeys: the keys read the top Via as RFC 3261 17.1.3 and 17.2.3 say,
// whatever its spelling: the branch by name case-insensitively, past quoted
// parameters, sent-by with LWS around the colon (and, through ParseVia,
// inside it), the host case-insensitively.
func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		via, branch, host string
		port              int
	}{
		{"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport", "z9hG4bK1", "10.0.0.1", 5060},
		{"SIP/2.0/UDP 10.0.0.1;rport=5;received=1.2.3.4;BRANCH = z9hG4bK2", "z9hG4bK2", "10.0.0.1", 0},
		{"SIP/2.0/UDP h ; branch=z9hG4bK3 , SIP/2.0/UDP other;branch=x", "z9hG4bK3", "h", 0},
		{`SIP/2.0/UDP h;x="a;branch=b";branch=z9hG4bK4`, "z9hG4bK4", "h", 0},
		{" SIP / 2.0 / UDP Host.Example : 5070 ;branch=z9hG4bK5", "z9hG4bK5", "host.example", 5070},
		{"SIP/2.0/UDP [::1]:5070;branch=z9hG4bK6", "z9hG4bK6", "::1", 5070},
		{"SIP/2.0/UDP ho st:5060;branch=z9hG4bK7", "z9hG4bK7", "host", 5060},
	} {
		m := request("OPTIONS", "x")
		m.Set("Via", tc.via)
		s, err := serverKey(m)
		if err != nil || s != (skey{tc.branch, tc.host, tc.port, "OPTIONS"}) {
			t.Errorf("serverKey(%q) = %+v, %v", tc.via, s, err)
		}
		c, err := clientKey(m)
		if err != nil || c != (ckey{tc.branch, "OPTIONS"}) {
			t.Errorf("clientKey(%q) = %+v, %v", tc.via, c, err)
		}
	}
	m := request("OPTIONS", "x")
	m.Set("Via", "SIP/2.0/UDP")
	if _, err := serverKey(m); err == nil {
		t.Error("serverKey of a bad Via: no error")
	}
}

func TestClientKeyAllocs(t *testing.T) {
	r := reply(request("INVITE", "z9hG4bKa1"), 180)
	if n := testing.AllocsPerRun(100, func() { _, _ = clientKey(r) }); n != 0 {
		t.Fatalf("clientKey: %v allocations", n)
	}
}

func TestServerKeyAllocs(t *testing.T) {
	m := request("INVITE", "z9hG4bKa1")
	if n := testing.AllocsPerRun(100, func() { _, _ = serverKey(m) }); n != 0 {
		t.Fatalf("serverKey: %v allocations", n)
	}
}
