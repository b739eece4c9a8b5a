package sipua

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

func TestRegBackoff(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{1, 30 * time.Second}, {2, 60 * time.Second}, {3, 120 * time.Second}, {4, 240 * time.Second},
		{6, 960 * time.Second}, {7, 1800 * time.Second}, {8, 1800 * time.Second}, {1000, 1800 * time.Second},
	} {
		if got := regBackoff(tc.failures); got != tc.want {
			t.Errorf("regBackoff(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

func TestRegRefreshAfter(t *testing.T) {
	for _, tc := range []struct {
		granted int
		want    time.Duration
	}{
		{3600, 3240 * time.Second}, // a tenth before
		{600, 540 * time.Second},
		{60, 54 * time.Second},
		{40, 35 * time.Second}, // at least 5 s before
		{30, 25 * time.Second},
		{8, 4 * time.Second}, // never before half
		{2, time.Second},
		{1, 500 * time.Millisecond},
	} {
		if got := regRefreshAfter(tc.granted); got != tc.want {
			t.Errorf("regRefreshAfter(%d) = %v, want %v", tc.granted, got, tc.want)
		}
	}
}

func TestRegRefreshSpread(t *testing.T) {
	for _, tc := range []struct {
		granted int
		want    time.Duration
	}{
		{3600, 360 * time.Second}, // a tenth: refreshed within 2880-3240 s
		{300, 30 * time.Second},   // 240-270 s
		{60, 6 * time.Second},     // 48-54 s
		{30, 3 * time.Second},     // 22-25 s
		{12, time.Second},         // 6-7 s: never before half
		{8, 0},
		{1, 0},
	} {
		if got := regRefreshSpread(tc.granted); got != tc.want {
			t.Errorf("regRefreshSpread(%d) = %v, want %v", tc.granted, got, tc.want)
		}
		if g := time.Duration(tc.granted) * time.Second; regRefreshAfter(tc.granted)-tc.want < g/2 {
			t.Errorf("granted %d: the earliest refresh is before half the lifetime", tc.granted)
		}
	}
}

// TestRefreshAndKeepaliveJitter: the refresh comes at a random moment of
// the spread before the latest time, the keepalive at 80-100% of its
// interval, each drawn from the line's jitter (here its least, its most,
// and a middle value).
func TestRefreshAndKeepaliveJitter(t *testing.T) {
	for _, tc := range []struct {
		name              string
		pick              func(d time.Duration) time.Duration // random in [0, d)
		refresh, keepWait time.Duration
	}{
		{"least", func(time.Duration) time.Duration { return 0 }, 270 * time.Second, 25 * time.Second},
		{"most", func(d time.Duration) time.Duration { return d - 1 }, 240 * time.Second, 20 * time.Second},
		{"half", func(d time.Duration) time.Duration { return d / 2 }, 255 * time.Second, 22500 * time.Millisecond},
	} {
		l := &line{jitter: tc.pick}
		if got := l.refreshAfter(300); got != tc.refresh {
			t.Errorf("%s: refreshAfter(300) = %v, want %v", tc.name, got, tc.refresh)
		}
		if got := l.keepaliveAfter(); got != tc.keepWait {
			t.Errorf("%s: keepaliveAfter = %v, want %v", tc.name, got, tc.keepWait)
		}
	}
}

// TestRegisterRefreshSpread: a registered line's refresh comes when its
// jitter says, within the spread, through the whole user agent.
func TestRegisterRefreshSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, line1(300))
		b.ua.do(func() error { // on the loop, which reads it
			b.ua.lines[0].jitter = func(d time.Duration) time.Duration { return d - 1 } // the earliest
			return nil
		})
		start := time.Now()
		r1 := b.next()
		b.ok(r1, 0)
		r2 := b.next()
		if d := r2.at.Sub(start); d != 240*time.Second {
			t.Fatalf("refresh after %v, want 240 s (270 s less the whole 30 s spread)", d)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"": 0, "120": 120 * time.Second, "18000;duration=3600": 18000 * time.Second,
		"120 (I'm in a meeting)": 120 * time.Second, "x": 0, "-1": 0,
	} {
		r := sipmsg.NewRequest("OPTIONS", "sip:x")
		if v != "" {
			r.Add("Retry-After", v)
		}
		if got := retryAfter(r); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// regNet is the network of a bubble UA: what the UA sends arrives on sent.
type regNet struct{ sent chan regSent }

type regSent struct {
	m  *sipmsg.Message
	to *net.UDPAddr
	at time.Time
}

func (n *regNet) Send(m *sipmsg.Message, to *net.UDPAddr) error {
	c, err := sipmsg.Parse(m.AppendTo(nil))
	if err != nil {
		return err
	}
	n.sent <- regSent{c, to, time.Now()}
	return nil
}

// bubbleUA is a UA without a socket, for synctest: its transaction layer
// sends into a channel and the test answers through receive. Every line
// starts registering at once.
type bubbleUA struct {
	t   *testing.T
	ua  *UA
	net *regNet
}

func newBubbleUA(t *testing.T, lines ...LineConfig) *bubbleUA {
	t.Helper()
	ua, err := New(Config{Listen: "127.0.0.1:5060", Lines: lines, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ua.lines {
		if err := l.resolve(); err != nil {
			t.Fatal(err)
		}
		// The random parts (refresh spread, keepalive, backoff) at their
		// least unless a test sets its own.
		l.jitter = func(time.Duration) time.Duration { return 0 }
	}
	n := &regNet{sent: make(chan regSent, 64)}
	ua.local = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	ua.contactHost = "127.0.0.1"
	ua.tl = transaction.NewLayer(transaction.Config{Transport: n, Post: ua.post})
	runLoop(t, ua)
	ua.post(func() {
		for _, l := range ua.lines {
			l.register(l.expires)
		}
	})
	return &bubbleUA{t: t, ua: ua, net: n}
}

// runLoop runs a UA's loop and event forwarder without its sockets (its
// transaction layer set to a fake network), as Start would, until the
// test ends.
func runLoop(t *testing.T, ua *UA) {
	ua.started.Store(true)
	go ua.loop()
	go func() {
		defer close(ua.forwarded)
		ua.forward()
	}()
	t.Cleanup(func() {
		close(ua.stop)
		<-ua.done
	})
}

// next returns the next REGISTER the UA sends (failing if the UA sends
// nothing more: the bubble deadlocks and the test ends).
func (b *bubbleUA) next() regSent {
	b.t.Helper()
	s := <-b.net.sent
	if s.m.Method != "REGISTER" {
		b.t.Fatalf("sent %s, want REGISTER", s.m.Method)
	}
	return s
}

// quiet reports that the UA sends nothing for d.
func (b *bubbleUA) quiet(d time.Duration) bool {
	select {
	case s := <-b.net.sent:
		b.t.Logf("sent after %v: %s", d, s.m.AppendTo(nil))
		return false
	case <-time.After(d):
		return true
	}
}

// answer sends the UA a response to req, with mod adding headers.
func (b *bubbleUA) answer(req regSent, code int, mod func(r *sipmsg.Message)) {
	r := sipmsg.NewResponse(req.m, code, "")
	r.Set("To", req.m.Get("To")+";tag=reg")
	if mod != nil {
		mod(r)
	}
	raw := r.AppendTo(nil)
	b.ua.post(func() { b.ua.receive(tUDP, raw, req.to) })
}

// ok answers 200 granting the asked lifetime (or granted if not 0).
func (b *bubbleUA) ok(req regSent, granted int) {
	if granted == 0 {
		fmt.Sscan(req.m.Get("Expires"), &granted)
	}
	b.answer(req, 200, func(r *sipmsg.Message) {
		r.Add("Contact", req.m.Get("Contact")+fmt.Sprintf(";expires=%d", granted))
	})
}

// challenge answers 401 with the challenges.
func (b *bubbleUA) challenge(req regSent, chs ...digest.Challenge) {
	b.answer(req, 401, func(r *sipmsg.Message) {
		for _, c := range chs {
			r.Add("WWW-Authenticate", c.String())
		}
	})
}

// event returns the next event.
func (b *bubbleUA) event() Event {
	b.t.Helper()
	select {
	case e := <-b.ua.events:
		return e
	case <-time.After(time.Hour):
		b.t.Fatal("no event")
		return Event{}
	}
}

// creds checks req's credentials against password and returns them.
func creds(t *testing.T, req regSent, password string) digest.Credentials {
	t.Helper()
	v := req.m.Get("Authorization")
	if v == "" {
		t.Fatalf("REGISTER without Authorization:\n%s", req.m.AppendTo(nil))
	}
	c, err := digest.ParseCredentials(v)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Verify("REGISTER", password) {
		t.Fatalf("credentials do not verify: %s", v)
	}
	if c.URI != req.m.RequestURI {
		t.Fatalf("digest uri %q, Request-URI %q", c.URI, req.m.RequestURI)
	}
	return c
}

func line1(expires int) LineConfig {
	return LineConfig{User: "1001", Password: "pw1001", Registrar: "127.0.0.1:5070", Expires: expires}
}

// TestRegisterSHA256Refresh: of an MD5 and a SHA-256 challenge the line
// answers SHA-256; it refreshes a tenth before expiry with the next nonce
// count on the same nonce; a stale=true answer is retried at once with the
// new nonce.
func TestRegisterSHA256Refresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, line1(600))
		start := time.Now()
		r1 := b.next()
		if r1.m.Get("Authorization") != "" || r1.m.Get("Expires") != "600" {
			t.Fatalf("first REGISTER:\n%s", r1.m.AppendTo(nil))
		}
		md5, sha := digest.NewChallengeAlg("pbx", digest.MD5), digest.NewChallengeAlg("pbx", digest.SHA256)
		b.challenge(r1, md5, sha)
		r2 := b.next()
		c := creds(t, r2, "pw1001")
		if c.Algorithm != "SHA-256" || c.Nonce != sha.Nonce || c.NC != "00000001" {
			t.Fatalf("answered %+v", c)
		}
		b.ok(r2, 0)
		if e := b.event(); e.Kind != RegChanged || e.RegText() != "registered" || e.Line != 1 {
			t.Fatalf("event %+v", e)
		}
		r3 := b.next()
		if d := r3.at.Sub(start); d != 540*time.Second {
			t.Fatalf("refresh after %v, want 540s", d)
		}
		c = creds(t, r3, "pw1001")
		if c.Nonce != sha.Nonce || c.NC != "00000002" || r3.m.Get("Call-ID") != r1.m.Get("Call-ID") {
			t.Fatalf("refresh credentials %+v", c)
		}
		fresh := digest.NewChallengeAlg("pbx", digest.SHA256)
		fresh.Stale = true
		b.challenge(r3, fresh)
		r4 := b.next()
		if !r4.at.Equal(r3.at) {
			t.Fatal("stale retry was not at once")
		}
		if c = creds(t, r4, "pw1001"); c.Nonce != fresh.Nonce || c.NC != "00000001" {
			t.Fatalf("stale retry credentials %+v", c)
		}
		b.ok(r4, 0)
		// Still registered all along: no event; the next refresh comes.
		if r5 := b.next(); r5.at.Sub(r4.at) != 540*time.Second {
			t.Fatalf("second refresh after %v", r5.at.Sub(r4.at))
		}
		select {
		case e := <-b.ua.events:
			t.Fatalf("event %+v", e)
		default:
		}
	})
}

// TestRegisterRechallenged: cached credentials the registrar no longer
// takes (a plain 401, as after its restart) are replaced by an answer to
// the new challenge in the same attempt; a 403 drops them, so the attempt
// after the backoff starts without credentials.
func TestRegisterRechallenged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, line1(600))
		ch1 := digest.NewChallengeAlg("pbx", digest.SHA256)
		b.challenge(b.next(), ch1)
		b.ok(b.next(), 0)
		r := b.next() // refresh with ch1's nonce, nc 2
		if c := creds(t, r, "pw1001"); c.Nonce != ch1.Nonce || c.NC != "00000002" {
			t.Fatalf("refresh %+v", c)
		}
		ch2 := digest.NewChallengeAlg("pbx", digest.MD5)
		b.challenge(r, ch2)
		r = b.next()
		if c := creds(t, r, "pw1001"); c.Nonce != ch2.Nonce || c.NC != "00000001" || c.Algorithm != "MD5" {
			t.Fatalf("answer to the new challenge %+v", c)
		}
		b.ok(r, 0)
		r = b.next()
		if c := creds(t, r, "pw1001"); c.Nonce != ch2.Nonce || c.NC != "00000002" {
			t.Fatalf("second refresh %+v", c)
		}
		b.answer(r, 403, nil)
		r = b.next()
		if r.m.Get("Authorization") != "" {
			t.Fatalf("after a 403 the credentials are still sent: %s", r.m.Get("Authorization"))
		}
		if e := b.event(); e.RegText() != "registered" {
			t.Fatalf("event %+v", e)
		}
		if e := b.event(); e.RegText() != "failed:403" {
			t.Fatalf("event %+v", e)
		}
	})
}

// TestRegisterProxyAndRegistrar: a proxy's 407 and then the registrar's
// 401 are both answered in one attempt; both credentials go with the
// refresh.
func TestRegisterProxyAndRegistrar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, line1(600))
		proxy, reg := digest.NewChallengeAlg("proxy", digest.SHA256), digest.NewChallenge("pbx")
		r := b.next()
		b.answer(r, 407, func(m *sipmsg.Message) { m.Add("Proxy-Authenticate", proxy.String()) })
		r = b.next()
		if r.m.Get("Proxy-Authorization") == "" || r.m.Get("Authorization") != "" {
			t.Fatalf("after the 407:\n%s", r.m.AppendTo(nil))
		}
		b.challenge(r, reg)
		r = b.next()
		pc, err := digest.ParseCredentials(r.m.Get("Proxy-Authorization"))
		if err != nil || pc.Realm != "proxy" || !pc.Verify("REGISTER", "pw1001") {
			t.Fatalf("Proxy-Authorization %q %v", r.m.Get("Proxy-Authorization"), err)
		}
		if c := creds(t, r, "pw1001"); c.Realm != "pbx" {
			t.Fatalf("Authorization %+v", c)
		}
		b.ok(r, 0)
		r = b.next()
		// The proxy's nonce went with the two REGISTERs before.
		if pc, _ := digest.ParseCredentials(r.m.Get("Proxy-Authorization")); pc.NC != "00000003" {
			t.Fatalf("refresh Proxy-Authorization %q", r.m.Get("Proxy-Authorization"))
		}
		if c := creds(t, r, "pw1001"); c.NC != "00000002" {
			t.Fatalf("refresh Authorization %+v", c)
		}
		// A second 407 in one attempt, not stale: the attempt fails.
		b.answer(r, 407, func(m *sipmsg.Message) { m.Add("Proxy-Authenticate", proxy.String()) })
		r = b.next()
		b.answer(r, 407, func(m *sipmsg.Message) { m.Add("Proxy-Authenticate", proxy.String()) })
		b.event() // registered
		if e := b.event(); e.RegText() != "failed:407" {
			t.Fatalf("event %+v", e)
		}
	})
}

// TestRegisterNoChallengeLoop: a registrar that keeps challenging gets at
// most one answer per challenge kind per attempt, then the line backs off.
func TestRegisterNoChallengeLoop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stale bool
		sends int // REGISTERs of one attempt
	}{
		{"wrong password", false, 2},
		{"always stale", true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBubbleUA(t, line1(3600))
				for attempt := 1; attempt <= 3; attempt++ {
					var first regSent
					for i := 0; i < tc.sends; i++ {
						r := b.next()
						if i == 0 {
							first = r
						} else if !r.at.Equal(first.at) {
							t.Fatalf("attempt %d REGISTER %d %v after the first", attempt, i+1, r.at.Sub(first.at))
						}
						ch := digest.NewChallengeAlg("pbx", digest.SHA256)
						ch.Stale = tc.stale && i > 0
						b.challenge(r, ch)
					}
					if attempt == 1 {
						if e := b.event(); e.RegText() != "failed:401" {
							t.Fatalf("event %+v", e)
						}
					}
					// The next attempt waits the backoff: at least half its bound.
					if !b.quiet(regBackoff(attempt) / 2) {
						t.Fatalf("attempt %d: REGISTER within the backoff", attempt)
					}
				}
			})
		})
	}
}

// TestRegisterIntervalTooBrief: a 423 is followed at once with the
// registrar's Min-Expires, which the refreshes keep; a second 423 in the
// same attempt fails it.
func TestRegisterIntervalTooBrief(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, line1(60))
		r1 := b.next()
		if r1.m.Get("Expires") != "60" {
			t.Fatalf("Expires %s", r1.m.Get("Expires"))
		}
		b.answer(r1, 423, func(r *sipmsg.Message) { r.Add("Min-Expires", "300") })
		r2 := b.next()
		if r2.m.Get("Expires") != "300" || !r2.at.Equal(r1.at) {
			t.Fatalf("after 423: Expires %s, %v later", r2.m.Get("Expires"), r2.at.Sub(r1.at))
		}
		b.ok(r2, 0)
		if e := b.event(); e.RegText() != "registered" {
			t.Fatalf("event %+v", e)
		}
		r3 := b.next()
		if r3.m.Get("Expires") != "300" || r3.at.Sub(r2.at) != 270*time.Second {
			t.Fatalf("refresh: Expires %s after %v", r3.m.Get("Expires"), r3.at.Sub(r2.at))
		}
		b.answer(r3, 423, func(r *sipmsg.Message) { r.Add("Min-Expires", "600") })
		r4 := b.next()
		if r4.m.Get("Expires") != "600" {
			t.Fatalf("Expires %s", r4.m.Get("Expires"))
		}
		b.answer(r4, 423, func(r *sipmsg.Message) { r.Add("Min-Expires", "900") })
		if e := b.event(); e.RegText() != "failed:423" {
			t.Fatalf("event %+v", e)
		}
		if !b.quiet(regBackoff(1) / 2) {
			t.Fatal("REGISTER within the backoff")
		}
		// A 423 without a usable Min-Expires fails too.
		r5 := b.next()
		b.answer(r5, 423, nil)
		if !b.quiet(regBackoff(2) / 2) {
			t.Fatal("REGISTER within the backoff")
		}
	})
}

// TestRegisterBackoff: while the registrar fails, each wait is random
// within [bound/2, bound] of a doubling bound capped at 30 min; a
// Retry-After longer than that is honoured; success resets it.
func TestRegisterBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, line1(3600))
		prev := b.next()
		var waits []time.Duration
		for f := 1; f <= 9; f++ {
			b.answer(prev, 503, nil)
			r := b.next()
			d := r.at.Sub(prev.at)
			waits = append(waits, d)
			if bound := regBackoff(f); d < bound/2 || d > bound {
				t.Fatalf("failure %d: waited %v, want within [%v, %v]", f, d, bound/2, bound)
			}
			prev = r
		}
		t.Logf("waits: %v", waits)
		b.answer(prev, 503, func(r *sipmsg.Message) { r.Add("Retry-After", "3000") })
		r := b.next()
		if d := r.at.Sub(prev.at); d != regBackoffMax {
			t.Fatalf("Retry-After 3000 beyond the cap: waited %v", d)
		}
		b.answer(r, 408, nil)
		r = b.next()
		b.ok(r, 0)
		r = b.next() // the refresh
		b.answer(r, 500, nil)
		r2 := b.next()
		if d := r2.at.Sub(r.at); d < regBackoff(1)/2 || d > regBackoff(1) {
			t.Fatalf("after a success the backoff starts over: waited %v", d)
		}
		b.answer(r2, 503, func(r *sipmsg.Message) { r.Add("Retry-After", "120") })
		if r3 := b.next(); r3.at.Sub(r2.at) < 120*time.Second {
			t.Fatalf("Retry-After 120: waited %v", r3.at.Sub(r2.at))
		}
	})
}

// TestRegisterTimeoutBackoff: a registrar that never answers costs one
// transaction (timer F, 32 s) per attempt, then the backoff.
func TestRegisterTimeoutBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, line1(3600))
		first := b.next()
		var last regSent
		for s := range b.net.sent { // retransmissions of the same REGISTER
			if s.m.Get("CSeq") != first.m.Get("CSeq") {
				last = s
				break
			}
		}
		if d := last.at.Sub(first.at); d < 32*time.Second+regBackoff(1)/2 || d > 32*time.Second+regBackoff(1) {
			t.Fatalf("second attempt %v after the first", d)
		}
		if e := b.event(); e.Kind != RegTrouble || e.Detail != "registrar 127.0.0.1:5070 does not answer (retrying)" {
			t.Fatalf("event %+v, want the trouble first", e)
		}
		if e := b.event(); e.RegText() != "failed:408" || e.Detail != "registrar 127.0.0.1:5070 does not answer" {
			t.Fatalf("event %+v", e)
		}
	})
}

// TestRegisterLines: each line registers on its own: one line's failures
// and backoff do not hold up another's registration and refreshes.
func TestRegisterLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l2 := LineConfig{User: "2001", Password: "pw2001", Registrar: "127.0.0.1:5080", Expires: 120}
		b := newBubbleUA(t, line1(600), l2)
		start := time.Now()
		byLine := func(r regSent) int {
			if r.to.Port == 5080 {
				return 2
			}
			return 1
		}
		ch := digest.NewChallenge("pbx")
		var refreshes1, attempts2 []time.Duration
		for len(refreshes1) < 3 {
			r := b.next()
			switch n := byLine(r); {
			case n == 1 && r.m.Get("Authorization") == "":
				b.challenge(r, ch)
			case n == 1:
				creds(t, r, "pw1001")
				refreshes1 = append(refreshes1, r.at.Sub(start))
				b.ok(r, 0)
			case n == 2:
				if !strings.Contains(r.m.Get("From"), "2001") {
					t.Fatalf("line 2 From %s", r.m.Get("From"))
				}
				attempts2 = append(attempts2, r.at.Sub(start))
				b.answer(r, 503, nil)
			}
		}
		t.Logf("line 1 registered at %v; line 2 attempts at %v", refreshes1, attempts2)
		if refreshes1[0] != 0 || refreshes1[1] != 540*time.Second || refreshes1[2] != 1080*time.Second {
			t.Fatalf("line 1 REGISTERs at %v", refreshes1)
		}
		if len(attempts2) < 3 {
			t.Fatalf("line 2 attempts %v", attempts2)
		}
		states := map[int][]string{}
		for {
			select {
			case e := <-b.ua.events:
				states[e.Line] = append(states[e.Line], e.RegText())
				continue
			default:
			}
			break
		}
		if strings.Join(states[1], ",") != "registered" || strings.Join(states[2], ",") != "failed:503" {
			t.Fatalf("events %v", states)
		}
	})
}

// TestRegisterNATRebinding: when the registrar's 2xx reports another
// received/rport than the last one (the NAT rebound the phone's mapping,
// RFC 3581), the phone registers again at once, not at the next refresh;
// the same address again is no reason to.
func TestRegisterNATRebinding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleUA(t, LineConfig{User: "1001", Registrar: "127.0.0.1:5070", Expires: 600})
		seen := func(port int) func(r *sipmsg.Message) {
			return func(r *sipmsg.Message) {
				r.Set("Via", strings.Replace(r.Get("Via"), ";rport", fmt.Sprintf(";rport=%d;received=192.0.2.7", port), 1))
			}
		}
		ok := func(req regSent, port int) {
			b.answer(req, 200, func(r *sipmsg.Message) {
				seen(port)(r)
				r.Add("Contact", req.m.Get("Contact")+";expires=600")
			})
		}
		r1 := b.next()
		ok(r1, 4000)
		b.event() // registered
		r2 := b.next()
		if d := r2.at.Sub(r1.at); d != 540*time.Second {
			t.Fatalf("refresh after %v, want 540s", d)
		}
		ok(r2, 4000) // the same mapping
		r3 := b.next()
		if d := r3.at.Sub(r2.at); d != 540*time.Second {
			t.Fatalf("refresh after %v with the same mapping, want 540s", d)
		}
		ok(r3, 4100) // rebound
		r4 := b.next()
		if d := r4.at.Sub(r3.at); d > 2*time.Second {
			t.Fatalf("re-REGISTER %v after the rebinding, want at once (at most 2 s)", d)
		}
		ok(r4, 4100)
		if r5 := b.next(); r5.at.Sub(r4.at) != 540*time.Second {
			t.Fatalf("after the re-REGISTER the refresh came after %v", r5.at.Sub(r4.at))
		}
	})
}
