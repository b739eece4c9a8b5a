package sipua

import (
	"net"
	"strconv"
	"testing"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// TestReceiveAllocs: the receive path allocates nothing for what a phone
// receives most (a keepalive, a retransmitted request the transaction
// layer absorbs, re-sending its response; a stray response), and for a
// new request only the copy the transaction keeps and what handling it
// needs (OPTIONS: its 200).
func TestReceiveAllocs(t *testing.T) {
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1001"}}}) // no Trace: it copies each message
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	from := peer.LocalAddr().(*net.UDPAddr)
	opt := sipmsg.NewRequest("OPTIONS", "sip:1001@127.0.0.1")
	opt.Add("Via", "SIP/2.0/UDP "+from.String()+";branch=z9hG4bKretrans;rport")
	opt.Add("From", "<sip:x@127.0.0.1>;tag=1")
	opt.Add("To", "<sip:1001@127.0.0.1>")
	opt.Add("Call-ID", "allocs")
	opt.Add("CSeq", "1 OPTIONS")
	optB := opt.AppendTo(nil)
	stray := []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnobody\r\nFrom: <sip:a@b>;tag=1\r\n" +
		"To: <sip:c@d>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	for _, tc := range []struct {
		name string
		b    []byte
		max  float64
	}{
		{"keepalive", []byte("\r\n\r\n"), 0},
		{"retransmitted request", optB, 0},
		{"stray response", stray, 0},
	} {
		var allocs float64
		_ = ua.do(func() error {
			ua.receive(tUDP, append([]byte(nil), optB...), from) // the first OPTIONS: a transaction, answered
			buf := make([]byte, len(tc.b))
			allocs = testing.AllocsPerRun(100, func() {
				copy(buf, tc.b) // ParseFrom may rewrite the buffer
				ua.receive(tUDP, buf, from)
			})
			return nil
		})
		if allocs > tc.max {
			t.Errorf("%s: %.1f allocations per message, want at most %.0f", tc.name, allocs, tc.max)
		}
	}
}

// BenchmarkReceive is the receive path of a retransmitted request (the
// transaction layer absorbs it and re-sends its response), the common
// case under load.
func BenchmarkReceive(b *testing.B) {
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1001"}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := ua.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer ua.Close()
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	from := peer.LocalAddr().(*net.UDPAddr)
	opt := sipmsg.NewRequest("OPTIONS", "sip:1001@127.0.0.1")
	opt.Add("Via", "SIP/2.0/UDP "+from.String()+";branch=z9hG4bKbench;rport")
	opt.Add("From", "<sip:x@127.0.0.1>;tag=1")
	opt.Add("To", "<sip:1001@127.0.0.1>")
	opt.Add("Call-ID", "bench")
	opt.Add("CSeq", "1 OPTIONS")
	src := opt.AppendTo(nil)
	buf := make([]byte, len(src))
	_ = ua.do(func() error {
		ua.receive(tUDP, append([]byte(nil), src...), from)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			copy(buf, src)
			ua.receive(tUDP, buf, from)
		}
		return nil
	})
}

// TestRegisterRefreshAllocs: a REGISTER refresh, with the credentials of
// the registrar's last challenge, allocates nothing: the line writes it as
// text into its buffer, parses it into its message and sends it in its
// Client (transaction.StartClient), and takes the 200 through views.
func TestRegisterRefreshAllocs(t *testing.T) {
	reg, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	from := reg.LocalAddr().(*net.UDPAddr)
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1001", Password: "secret", Registrar: from.String(), Expires: 60}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer ua.Halt() // no unREGISTER to wait for: the registrar here never answers
	buf := make([]byte, 0, 2048)
	answer := func(l *line, code int, extra string) {
		m := l.regOut.req // the REGISTER as last sent (a re-send with credentials is a copy)
		buf = strconv.AppendInt(append(buf[:0], "SIP/2.0 "...), int64(code), 10)
		buf = append(append(buf, " X\r\nVia: "...), m.Get("Via")...)
		buf = append(append(buf, "\r\nFrom: "...), m.Get("From")...)
		buf = append(append(append(buf, "\r\nTo: "...), m.Get("To")...), ";tag=reg"...)
		buf = append(append(buf, "\r\nCall-ID: "...), m.Get("Call-ID")...)
		buf = append(append(buf, "\r\nCSeq: "...), m.Get("CSeq")...)
		buf = append(append(append(buf, "\r\nContact: "...), m.Get("Contact")...), ";expires=60\r\n"...)
		buf = append(append(buf, extra...), "Content-Length: 0\r\n\r\n"...)
		ua.receive(tUDP, buf, from)
	}
	var allocs float64
	_ = ua.do(func() error {
		l := ua.lines[0]
		l.register(60)
		answer(l, 401, `WWW-Authenticate: Digest realm="pbx", nonce="n1", qop="auth", algorithm=MD5`+"\r\n")
		answer(l, 200, "") // to the re-send with credentials
		refresh := func() {
			l.register(60) // as the refresh alarm does (refreshDue)
			answer(l, 200, "")
		}
		refresh()
		if l.regState != Registered || l.regOut.req.Get("Authorization") == "" {
			t.Errorf("after a refresh: %v, credentials %q", l.regState, l.regOut.req.Get("Authorization"))
		}
		allocs = testing.AllocsPerRun(50, refresh)
		return nil
	})
	if allocs != 0 {
		t.Errorf("%v allocations a REGISTER refresh, want 0", allocs)
	}
}
