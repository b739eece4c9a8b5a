package interop

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua"
	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/tools/pbx"
)

// wireMsg is one SIP message a UA sent or received, the parts the dialog
// authentication test checks.
type wireMsg struct {
	dir         string // "send" or "recv"
	method      string // the request's, or the CSeq's of a response
	status      int    // 0 for a request
	seq         uint32
	proxyAuthz, // a request's Proxy-Authorization
	proxyAuthn string // a 407's Proxy-Authenticate
}

func (w wireMsg) String() string {
	if w.status == 0 {
		return fmt.Sprintf("%s %s %d", w.dir, w.method, w.seq)
	}
	return fmt.Sprintf("%s %d (%d %s)", w.dir, w.status, w.seq, w.method)
}

// wireLog records the messages of one UA (its Config.Trace).
type wireLog struct {
	mu   sync.Mutex
	msgs []wireMsg
}

func (l *wireLog) trace(td sipua.TraceDir, _ string, _ *net.UDPAddr, b []byte) {
	dir := td.String()
	m, err := sipmsg.Parse(b)
	if err != nil {
		return
	}
	seq, method, _ := m.CSeq()
	w := wireMsg{dir: dir, method: method, status: m.StatusCode, seq: seq}
	if m.IsRequest() {
		w.proxyAuthz = m.Get("Proxy-Authorization")
	} else if m.StatusCode == 407 {
		w.proxyAuthn = m.Get("Proxy-Authenticate")
	}
	l.mu.Lock()
	l.msgs = append(l.msgs, w)
	l.mu.Unlock()
}

func (l *wireLog) all() []wireMsg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]wireMsg(nil), l.msgs...)
}

// find returns the first message that matches, ok false if none.
func (l *wireLog) find(match func(wireMsg) bool) (wireMsg, bool) {
	for _, w := range l.all() {
		if match(w) {
			return w, true
		}
	}
	return wireMsg{}, false
}

// waitFor waits (10 s at most) until a message that matches is logged.
func (l *wireLog) waitFor(t *testing.T, what string, match func(wireMsg) bool) wireMsg {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		if w, ok := l.find(match); ok {
			return w
		}
		if time.Now().After(end) {
			t.Fatalf("no %s: %v", what, l.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKamailioDialogAuth: the proxy challenges in-dialog requests.
// Kamailio (WITH_DIALOG_AUTH: re-INVITEs and BYEs it loose-routes must
// carry valid Proxy-Authorization, and each nonce is good for one request)
// between two UAs, 1001 and 1002, over UDP and over TCP. 1001 calls 1002,
// 1002 answers; 1001 holds the call: its re-INVITE, with the cached
// credentials of the INVITE (a used nonce), gets 407, and the re-send with
// the dialog's next CSeq answers the new nonce, passes and reaches 1002
// as CallHeld; then 1001 hangs up, and its BYE goes the same way: 407,
// re-sent, CallEnded on both. Checked on the wire of both phones (CSeqs,
// the nonce answered, Kamailio consuming the credentials, no ACK of a 407
// relayed to 1002) and on Kamailio's ladder and AUTHOK lines.
func TestKamailioDialogAuth(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			k, a, aw, b, bw, id := dialogAuthCall(t, transport)
			// The INVITE was challenged once: CSeq 1, 407, CSeq 2. The
			// dialog's re-INVITE then goes with CSeq 3.
			inv := aw.waitFor(t, "200 to the INVITE", func(w wireMsg) bool { return w.dir == "recv" && w.status == 200 && w.method == "INVITE" })
			if inv.seq != 2 {
				t.Fatalf("the INVITE passed with CSeq %d, want 2 (1 challenged)", inv.seq)
			}
			// The call is up on both sides before the hold: Kamailio's
			// workers may relay a re-INVITE sent right after the ACK before
			// the ACK itself, and 1002 answers that one 491 (1001 then
			// tries again, with other CSeqs than the ones checked here).
			bw.waitFor(t, "the ACK at 1002", func(w wireMsg) bool { return w.dir == "recv" && w.method == "ACK" && w.seq == inv.seq })

			if err := a.Hold(id, true); err != nil {
				t.Fatal(err)
			}
			if e := nextEvent(t, b, sipua.CallHeld); e.Remote == nil || e.Remote.Direction != "sendonly" {
				t.Fatalf("held %+v", e.Remote)
			}
			// The hold is done when 1001 has ACKed the re-INVITE's 200.
			reinv := aw.waitFor(t, "200 to the re-INVITE", func(w wireMsg) bool {
				return w.dir == "recv" && w.status == 200 && w.method == "INVITE" && w.seq > inv.seq
			})
			aw.waitFor(t, "ACK of the re-INVITE", func(w wireMsg) bool { return w.dir == "send" && w.method == "ACK" && w.seq == reinv.seq })
			if reinv.seq != 4 {
				t.Fatalf("the re-INVITE passed with CSeq %d, want 4 (3 challenged)", reinv.seq)
			}
			if err := a.Hangup(id); err != nil {
				t.Fatal(err)
			}
			if e := nextEvent(t, a, sipua.CallEnded); e.Call != id || e.Code != 200 {
				t.Fatalf("caller ended %+v", e)
			}
			if e := nextEvent(t, b, sipua.CallEnded); e.Code != 200 {
				t.Fatalf("callee ended %+v", e)
			}

			// 1001's wire: each in-dialog request challenged and re-sent
			// with the dialog's next CSeq and the 407's nonce.
			nonces := map[string]string{}
			for _, r := range []struct {
				method string
				seq    uint32 // the challenged one's; the re-send's is seq+1
			}{{"INVITE", 3}, {"BYE", 5}} {
				first, ok := aw.find(func(w wireMsg) bool { return w.dir == "send" && w.method == r.method && w.seq == r.seq })
				if !ok {
					t.Fatalf("1001 sent no %s with CSeq %d: %v", r.method, r.seq, aw.all())
				}
				ch, ok := aw.find(func(w wireMsg) bool {
					return w.dir == "recv" && w.status == 407 && w.method == r.method && w.seq == r.seq
				})
				if !ok {
					t.Fatalf("no 407 to 1001's %s %d: %v", r.method, r.seq, aw.all())
				}
				c, err := digest.ParseChallenge(ch.proxyAuthn)
				if err != nil || c.Nonce == "" {
					t.Fatalf("407 to %s: Proxy-Authenticate %q: %v", r.method, ch.proxyAuthn, err)
				}
				if cr, _ := digest.ParseCredentials(first.proxyAuthz); first.proxyAuthz != "" && cr.Nonce == c.Nonce {
					t.Errorf("%s %d already answered the nonce of its own 407", r.method, r.seq)
				}
				again, ok := aw.find(func(w wireMsg) bool { return w.dir == "send" && w.method == r.method && w.seq == r.seq+1 })
				if !ok {
					t.Fatalf("1001 did not re-send its %s with CSeq %d: %v", r.method, r.seq+1, aw.all())
				}
				cr, err := digest.ParseCredentials(again.proxyAuthz)
				if err != nil || cr.Nonce != c.Nonce || cr.Realm != "kamailio.test" || cr.Username != "1001" {
					t.Fatalf("%s %d: Proxy-Authorization %q, want one answering the 407's nonce %s (%v)", r.method, r.seq+1, again.proxyAuthz, c.Nonce, err)
				}
				if _, ok := aw.find(func(w wireMsg) bool {
					return w.dir == "recv" && w.status == 200 && w.method == r.method && w.seq == r.seq+1
				}); !ok {
					t.Fatalf("no 200 to 1001's %s %d: %v", r.method, r.seq+1, aw.all())
				}
				nonces[r.method] = c.Nonce
				t.Logf("%s: %d challenged (407 %s), %d passed", r.method, r.seq, strings.TrimPrefix(ch.proxyAuthn, "Digest "), r.seq+1)
			}

			// 1002's wire: the INVITE, re-INVITE and BYE that passed, without
			// the credentials Kamailio consumed, and only the ACKs of the
			// 2xx: the ACKs of the 407s stayed at Kamailio.
			var got []string
			for _, w := range bw.all() {
				if w.dir != "recv" || w.status != 0 {
					continue
				}
				got = append(got, fmt.Sprintf("%s %d", w.method, w.seq))
				if w.proxyAuthz != "" {
					t.Errorf("1002 received %s %d with Proxy-Authorization %s", w.method, w.seq, w.proxyAuthz)
				}
			}
			if want := "INVITE 2,ACK 2,INVITE 4,ACK 4,BYE 6"; strings.Join(dedup(got), ",") != want {
				t.Errorf("1002 received %q, want %s", got, want)
			}

			// Kamailio's ladder: after the call's 200, a re-INVITE in, its
			// 407 back to where it came from, the re-INVITE again relayed
			// to 1002 and its 200 relayed to 1001; then the BYE the same way.
			// Kamailio logs a message as it sends it: the test may see the
			// 200 to the BYE before the log line is read.
			ladder := waitLadder(k, func(e pbx.Entry) bool {
				return e.Dir == "out" && e.Status == 200 && e.Method == "BYE" && e.From == "1001"
			})
			at := seen(ladder, 0, func(e pbx.Entry) bool {
				return e.Dir == "out" && e.Status == 200 && e.Method == "INVITE" && e.From == "1001"
			})
			if at < 0 {
				t.Fatalf("no 200 to the INVITE at Kamailio:\n%s", dialogLadder(ladder))
			}
			for _, method := range []string{"INVITE", "BYE"} {
				var from *net.UDPAddr
				for _, s := range []struct {
					what  string
					match func(pbx.Entry) bool
				}{
					{method + " in from 1001", func(e pbx.Entry) bool {
						if e.Dir == "in" && e.Request && e.Method == method && e.From == "1001" {
							from = e.Peer
							return true
						}
						return false
					}},
					{"407 back to 1001", func(e pbx.Entry) bool {
						return e.Dir == "out" && e.Status == 407 && e.Method == method && e.Peer.String() == from.String()
					}},
					{method + " in again from 1001", func(e pbx.Entry) bool {
						return e.Dir == "in" && e.Request && e.Method == method && e.Peer.String() == from.String()
					}},
					{method + " relayed", func(e pbx.Entry) bool {
						return e.Dir == "out" && e.Request && e.Method == method && e.Peer.String() != from.String()
					}},
					{"200 relayed to 1001", func(e pbx.Entry) bool {
						return e.Dir == "out" && e.Status == 200 && e.Method == method && e.Peer.String() == from.String()
					}},
				} {
					i := seen(ladder, at, s.match)
					if i < 0 {
						t.Fatalf("no %s (%s) after entry %d of Kamailio's ladder:\n%s", s.what, method, at, dialogLadder(ladder))
					}
					at = i
				}
			}
			// Kamailio authenticated the INVITE, the re-INVITE and the BYE of
			// 1001, the last two with the nonces of their 407s.
			var authed []string
			for _, v := range k.Authenticated() {
				if strings.HasPrefix(v, "INVITE 1001 ") || strings.HasPrefix(v, "BYE 1001 ") {
					authed = append(authed, v)
				}
			}
			ok := len(authed) == 3
			for i, method := range []string{"INVITE", "INVITE", "BYE"} {
				if !ok || !strings.HasPrefix(authed[i], method+" ") {
					ok = false
					break
				}
			}
			if ok {
				for i, method := range map[int]string{1: "INVITE", 2: "BYE"} {
					cr, err := digest.ParseCredentials(strings.SplitN(authed[i], " ", 3)[2])
					ok = ok && err == nil && cr.Nonce == nonces[method]
				}
			}
			if !ok {
				t.Errorf("Kamailio authenticated of 1001 %q, want INVITE, re-INVITE (nonce %s), BYE (nonce %s)", authed, nonces["INVITE"], nonces["BYE"])
			}
			t.Logf("ladder at kamailio:\n%s", dialogLadder(ladder))
		})
	}
}

// dialogAuthCall starts Kamailio with WITH_DIALOG_AUTH (listening on TCP
// too for transport "tcp"), registers 1001 and 1002 over transport, and
// has 1001 call 1002, who answers. It returns the phones, their wires and
// the call's id at 1001.
func dialogAuthCall(t *testing.T, transport string) (k *Kamailio, a *sipua.UA, aw *wireLog, b *sipua.UA, bw *wireLog, id sipua.CallID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	k = startKamailioWith(t, ctx, transport == "tcp", "WITH_DIALOG_AUTH")
	start := func(user string) (*sipua.UA, *wireLog) {
		w := &wireLog{}
		ua, err := sipua.New(sipua.Config{Listen: "127.0.0.1:0", UserAgent: "deskphone-interop", Trace: w.trace, Logf: t.Logf,
			Lines: []sipua.LineConfig{{User: user, Password: "pw" + user, Registrar: k.Addr.String(), Transport: transport, Expires: 300}}})
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
		return ua, w
	}
	a, aw = start("1001")
	b, bw = start("1002")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("1001's wire: %v\n1002's wire: %v\nladder at kamailio:\n%s", aw.all(), bw.all(), dialogLadder(k.Ladder()))
		}
	})
	media := func(port int) sipua.Media {
		return sipua.Media{Host: "127.0.0.1", Port: port, Codecs: []string{"PCMU"}}
	}
	id, err := a.Dial(1, "1002", media(40000))
	if err != nil {
		t.Fatal(err)
	}
	inc := nextEvent(t, b, sipua.CallIncoming)
	if _, err := b.Answer(inc.Call, media(40010)); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, a, sipua.CallAnswered)
	nextEvent(t, b, sipua.CallAnswered)
	return k, a, aw, b, bw, id
}

// TestKamailioDialogAuthClose: 1001 shuts down (Close) in a call through
// Kamailio with WITH_DIALOG_AUTH: its BYE gets 407 while its
// un-REGISTER is on the way, and Close waits for the call: the BYE is
// re-sent with credentials and reaches 1002, whose call ends.
func TestKamailioDialogAuthClose(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			k, a, aw, b, _, _ := dialogAuthCall(t, transport)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if e := nextEvent(t, b, sipua.CallEnded); e.Code != 200 {
				t.Fatalf("callee ended %+v", e)
			}
			ch, ok := aw.find(func(w wireMsg) bool { return w.dir == "recv" && w.status == 407 && w.method == "BYE" })
			if !ok {
				t.Fatalf("1001's BYE was not challenged: %v", aw.all())
			}
			if _, ok := aw.find(func(w wireMsg) bool {
				return w.dir == "send" && w.method == "BYE" && w.seq == ch.seq+1 && w.proxyAuthz != ""
			}); !ok {
				t.Fatalf("1001 did not re-send its BYE with credentials: %v", aw.all())
			}
			if _, ok := aw.find(func(w wireMsg) bool { return w.dir == "recv" && w.status == 200 && w.method == "REGISTER" }); !ok {
				t.Fatalf("no un-REGISTER answered: %v", aw.all())
			}
			t.Logf("ladder at kamailio:\n%s", dialogLadder(k.Ladder()))
		})
	}
}

// waitLadder returns Kamailio's ladder once it has an entry that
// matches, or after 5 s.
func waitLadder(k *Kamailio, match func(pbx.Entry) bool) []pbx.Entry {
	end := time.Now().Add(5 * time.Second)
	for {
		ladder := k.Ladder()
		if seen(ladder, 0, match) >= 0 || time.Now().After(end) {
			return ladder
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dedup drops repeats of the element before (retransmissions over UDP).
func dedup(s []string) []string {
	var out []string
	for _, v := range s {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// dialogLadder is Kamailio's ladder without the REGISTERs, one message a
// line.
func dialogLadder(ladder []pbx.Entry) string {
	var b strings.Builder
	for i, e := range ladder {
		if e.Method == "REGISTER" {
			continue
		}
		arrow := "<-"
		if e.Dir == "out" {
			arrow = "->"
		}
		fmt.Fprintf(&b, "  %3d kamailio %s %-21s %s\n", i, arrow, e.Peer, e.Summary)
	}
	return b.String()
}
