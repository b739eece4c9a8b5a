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

func TestBranchOf(t *testing.T) {
	for _, tc := range []struct {
		via, want string
		ok        bool
	}{
		{"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport", "z9hG4bK1", true},
		{"SIP/2.0/UDP 10.0.0.1;rport=5;received=1.2.3.4;BRANCH = z9hG4bK2", "z9hG4bK2", true},
		{"SIP/2.0/UDP h ; branch=z9hG4bK3 , SIP/2.0/UDP other;branch=x", "z9hG4bK3", true},
		{"SIP/2.0/UDP h, SIP/2.0/UDP other;branch=x", "", false},
		{"SIP/2.0/UDP h;x=\"a;branch=b\";branch=c", "", false},
		{"SIP/2.0/UDP h;branchx=1", "", false},
		{"SIP/2.0/UDP h;branch=", "", false},
	} {
		got, ok := branchOf(tc.via)
		if got != tc.want || ok != tc.ok {
			t.Errorf("branchOf(%q) = %q, %v; want %q, %v", tc.via, got, ok, tc.want, tc.ok)
		}
	}
}

func TestClientKeyAllocs(t *testing.T) {
	r := reply(request("INVITE", "z9hG4bKa1"), 180)
	if n := testing.AllocsPerRun(100, func() { _, _ = clientKey(r) }); n != 0 {
		t.Fatalf("clientKey: %v allocations", n)
	}
}

func TestSentByOf(t *testing.T) {
	for via, want := range map[string]string{
		"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1": "10.0.0.1:5060",
		" SIP / 2.0 / UDP host.example ;branch=x":   "host.example",
		"SIP/2.0/UDP [::1]:5070":                    "[::1]:5070",
		"garbage":                                   "",
	} {
		if got := sentByOf(via); got != want {
			t.Errorf("sentByOf(%q) = %q, want %q", via, got, want)
		}
	}
}
