package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// sipSocket sends requests to Kamailio from one UDP socket and reads their
// final responses.
type sipSocket struct {
	t    *testing.T
	c    *net.UDPConn
	to   *net.UDPAddr
	seq  uint32
	buf  []byte
	logf func(format string, args ...any)
}

func newSIPSocket(t *testing.T, to *net.UDPAddr) *sipSocket {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &sipSocket{t: t, c: c, to: to, buf: make([]byte, 65536), logf: t.Logf}
}

// request builds a request from user with a new CSeq (and Via branch).
func (s *sipSocket) request(method, ruri, from, to, callID string) *sipmsg.Message {
	s.seq++
	laddr := s.c.LocalAddr().String()
	m := sipmsg.NewRequest(method, ruri)
	m.Add("Via", fmt.Sprintf("SIP/2.0/UDP %s;branch=z9hG4bKdig%d%d;rport", laddr, time.Now().UnixNano()%1e9, s.seq))
	m.Add("Max-Forwards", "70")
	m.Add("From", "<sip:"+from+"@kamailio.test>;tag=t"+from)
	m.Add("To", "<sip:"+to+"@kamailio.test>")
	m.Add("Call-ID", callID)
	m.Add("CSeq", fmt.Sprintf("%d %s", s.seq, method))
	if method == "REGISTER" {
		m.Add("Contact", "<sip:"+from+"@"+laddr+">")
		m.Add("Expires", "60")
	}
	if method == "MESSAGE" {
		m.Add("Content-Type", "text/plain")
		m.Body = []byte("digest check")
	}
	return m
}

// resend makes m the next request of its chain: a new CSeq and branch
// (RFC 3261 section 22.1: a new transaction).
func (s *sipSocket) resend(m *sipmsg.Message) {
	s.seq++
	_, method, _ := m.CSeq()
	m.Set("CSeq", fmt.Sprintf("%d %s", s.seq, method))
	m.Set("Via", fmt.Sprintf("SIP/2.0/UDP %s;branch=z9hG4bKdig%d%d;rport", s.c.LocalAddr(), time.Now().UnixNano()%1e9, s.seq))
}

// do sends m and returns its final response (1xx skipped).
func (s *sipSocket) do(m *sipmsg.Message) *sipmsg.Message {
	s.t.Helper()
	if _, err := s.c.WriteToUDP(m.AppendTo(nil), s.to); err != nil {
		s.t.Fatal(err)
	}
	seq, _, _ := m.CSeq()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.c.SetReadDeadline(deadline)
		n, _, err := s.c.ReadFromUDP(s.buf)
		if err != nil {
			s.t.Fatalf("%s: no response: %v", m.Method, err)
		}
		r, err := sipmsg.Parse(append([]byte(nil), s.buf[:n]...))
		if err != nil || r.IsRequest() {
			continue
		}
		if rs, _, _ := r.CSeq(); rs != seq || r.StatusCode < 200 {
			continue
		}
		return r
	}
}

// send runs one attempt the way the UA's request sender does: Authorize,
// send, and on a 401/407 ask Challenged whether to go again.
func (s *sipSocket) send(c *digest.Client, m *sipmsg.Message) (*sipmsg.Message, *digest.Attempt, error) {
	a := &digest.Attempt{Dest: s.to.String()}
	for {
		c.Authorize(m, a)
		r := s.do(m)
		if r.StatusCode != 401 && r.StatusCode != 407 {
			return r, a, nil
		}
		for _, h := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
			for _, v := range r.GetAll(h) {
				s.logf("kamailio: %d %s: %s", r.StatusCode, h, v)
			}
		}
		retry, err := c.Challenged(r, a)
		if !retry {
			return r, a, err
		}
		s.resend(m)
	}
}

// TestKamailioDigestClient: digest.Client against Kamailio's auth module,
// the request sender's loop without the UA: a REGISTER answered after its
// 401, the next one with cached credentials (the next nonce count) at
// once, a MESSAGE answered after its 407 (the proxy's kind of challenge, in
// the same realm), a replayed nonce count answered after the stale=true
// challenge, and a wrong password refused after one try.
func TestKamailioDigestClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		defines []string
		alg     string
	}{
		{"MD5", nil, ""},
		{"SHA-256", []string{"WITH_SHA256"}, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			k := startKamailio(t, ctx, tc.defines...)
			s := newSIPSocket(t, k.Addr)
			ruri := "sip:" + k.Addr.String()
			c := digest.NewClient("1001", "", "pw1001")

			check := func(what string, r *sipmsg.Message, a *digest.Attempt, err error, code, retries int) {
				t.Helper()
				if err != nil || r.StatusCode != code || a.Retries() != retries {
					t.Fatalf("%s: %d after %d retries (%v), want %d after %d", what, r.StatusCode, a.Retries(), err, code, retries)
				}
			}
			reg := s.request("REGISTER", ruri, "1001", "1001", "dig-reg-"+tc.name)
			r, a, err := s.send(c, reg)
			check("first REGISTER", r, a, err, 200, 1)
			if tc.alg != "" && !strings.Contains(reg.Get("Authorization"), "algorithm="+tc.alg) {
				t.Errorf("credentials: %s", reg.Get("Authorization"))
			}

			reg = s.request("REGISTER", ruri, "1001", "1001", "dig-reg-"+tc.name)
			r, a, err = s.send(c, reg)
			check("second REGISTER", r, a, err, 200, 0)
			if cr, _ := digest.ParseCredentials(reg.Get("Authorization")); cr.NC != "00000002" {
				t.Errorf("second REGISTER: nc %q, want 00000002", cr.NC)
			}

			// 1002 is not registered: past authentication, Kamailio says 404.
			msg := s.request("MESSAGE", "sip:1002@"+k.Addr.String(), "1001", "1002", "dig-msg-"+tc.name)
			r, a, err = s.send(c, msg)
			check("MESSAGE", r, a, err, 404, 1)
			if msg.Get("Proxy-Authorization") == "" || msg.Get("Authorization") == "" {
				t.Errorf("MESSAGE re-sent without both credentials: %s", msg)
			}
			msg = s.request("MESSAGE", "sip:1002@"+k.Addr.String(), "1001", "1002", "dig-msg2-"+tc.name)
			r, a, err = s.send(c, msg)
			check("second MESSAGE", r, a, err, 404, 0)

			// The same credentials again (a replayed nonce count): Kamailio
			// says stale, and the client answers the new nonce once.
			replay := reg.Get("Authorization")
			reg = s.request("REGISTER", ruri, "1001", "1001", "dig-reg-"+tc.name)
			reg.Set("Authorization", replay)
			stale := s.do(reg)
			if stale.StatusCode != 401 || !strings.Contains(strings.ToLower(stale.Get("WWW-Authenticate")), "stale=true") {
				t.Fatalf("replayed credentials: %d %s", stale.StatusCode, stale.Get("WWW-Authenticate"))
			}
			t.Logf("kamailio: stale: %s", stale.Get("WWW-Authenticate"))
			a = &digest.Attempt{Dest: k.Addr.String()}
			if retry, err := c.Challenged(stale, a); !retry || err != nil {
				t.Fatalf("stale: retry %v, %v", retry, err)
			}
			s.resend(reg)
			c.Authorize(reg, a)
			if r := s.do(reg); r.StatusCode != 200 {
				t.Fatalf("after stale: %d", r.StatusCode)
			}

			wrong := digest.NewClient("1002", "", "not-pw1002")
			r, a, err = s.send(wrong, s.request("REGISTER", ruri, "1002", "1002", "dig-wrong-"+tc.name))
			var refused *digest.Refused
			if !errors.As(err, &refused) || !errors.Is(err, digest.ErrRejected) || r.StatusCode != 401 || a.Retries() != 1 || refused.Realm != "kamailio.test" {
				t.Fatalf("wrong password: %d after %d retries, %v", r.StatusCode, a.Retries(), err)
			}
			t.Logf("wrong password: %v", err)

			var regs, msgs int
			for _, v := range k.Authenticated() {
				switch {
				case strings.HasPrefix(v, "REGISTER 1001 "):
					regs++
				case strings.HasPrefix(v, "MESSAGE 1001 "):
					msgs++
				}
			}
			if regs != 3 || msgs != 2 {
				t.Errorf("kamailio authenticated %d REGISTERs and %d MESSAGEs, want 3 and 2:\n%s", regs, msgs, strings.Join(k.Authenticated(), "\n"))
			}
		})
	}
}
