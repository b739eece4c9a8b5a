package interop

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// tcpSeen records the top Via of every request a UA received.
type tcpSeen struct {
	mu   sync.Mutex
	vias []string
}

func (s *tcpSeen) trace(td sipua.TraceDir, _ string, _ *net.UDPAddr, b []byte) {
	dir := td.String()
	if dir != "recv" {
		return
	}
	if m, err := sipmsg.Parse(b); err == nil && m.IsRequest() {
		s.mu.Lock()
		s.vias = append(s.vias, m.Method+" "+m.Get("Via"))
		s.mu.Unlock()
	}
}

func (s *tcpSeen) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.vias...)
}

// basicCall: a calls 1002 on b, which rings and answers; then one of
// them (the callee when calleeHangs) hangs up, and both see the call end
// with 200.
func basicCall(t *testing.T, a, b *sipua.UA, calleeHangs bool) {
	t.Helper()
	media := func(port int) sipua.Media {
		return sipua.Media{Host: "127.0.0.1", Port: port, Codecs: []string{"PCMU"}}
	}
	id, err := a.Dial(1, "1002", media(40000))
	if err != nil {
		t.Fatal(err)
	}
	in := nextEvent(t, b, sipua.CallIncoming)
	if err := b.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, a, sipua.CallProgress)
	if _, err := b.Answer(in.Call, media(40010)); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, a, sipua.CallAnswered)
	nextEvent(t, b, sipua.CallAnswered)
	if calleeHangs {
		err = b.Hangup(in.Call)
	} else {
		err = a.Hangup(id)
	}
	if err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, a, sipua.CallEnded); e.Call != id || e.Code != 200 {
		t.Fatalf("caller ended %+v", e)
	}
	if e := nextEvent(t, b, sipua.CallEnded); e.Code != 200 {
		t.Fatalf("callee ended %+v", e)
	}
}

func nextEvent(t *testing.T, ua *sipua.UA, want sipua.EventKind) sipua.Event {
	t.Helper()
	for {
		select {
		case e, ok := <-ua.Events():
			if !ok {
				t.Fatalf("events closed, want %v", want)
			}
			if e.Kind == want {
				return e
			}
			if e.Kind == sipua.CallEnded || e.Kind == sipua.RegChanged && e.RegText() != "registered" {
				t.Fatalf("event %v %+v, want %v", e.Kind, e, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %v", want)
		}
	}
}

// TestKamailioTCP: two user agents register with Kamailio over TCP (digest)
// and 1001 calls 1002 through it, every request and response over TCP.
func TestKamailioTCP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k := startKamailioOpts(t, ctx, KamailioOptions{TCP: true})
	start := func(user string) (*sipua.UA, *tcpSeen) {
		seen := &tcpSeen{}
		ua, err := sipua.New(sipua.Config{Listen: "127.0.0.1:0", UserAgent: "deskphone-interop", Trace: seen.trace, Logf: t.Logf,
			Lines: []sipua.LineConfig{{User: user, Password: "pw" + user, Registrar: k.Addr.String(), Transport: "tcp", Expires: 300}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := ua.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ua.Close() })
		if e := nextEvent(t, ua, sipua.RegChanged); e.RegText() != "registered" {
			t.Fatalf("%s: %+v", user, e)
		}
		return ua, seen
	}
	a, aSeen := start("1001")
	b, bSeen := start("1002")
	basicCall(t, a, b, true)
	for _, s := range []struct {
		who  string
		vias []string
		want []string
	}{{"1001", aSeen.all(), []string{"BYE"}}, {"1002", bSeen.all(), []string{"INVITE", "ACK"}}} {
		for _, w := range s.want {
			found := false
			for _, v := range s.vias {
				if strings.HasPrefix(v, w+" ") {
					found = true
					if !strings.HasPrefix(v, w+" SIP/2.0/TCP ") {
						t.Errorf("%s received %s not over TCP", s.who, v)
					}
				}
			}
			if !found {
				t.Errorf("%s received no %s: %q", s.who, w, s.vias)
			}
		}
	}
	if a.LocalAddr() == nil || b.LocalAddr() == nil {
		t.Fatal("no local address")
	}
}
