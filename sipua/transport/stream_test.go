package transport

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

const inv = "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP a\r\nContent-Length: 4\r\n\r\nv=0\n"

func TestFramer(t *testing.T) {
	type out struct {
		kind frameKind
		msg  string
		err  error
	}
	msg := func(s string) out { return out{kind: frameMessage, msg: s} }
	ping, pong := out{kind: framePing}, out{kind: framePong}
	for _, tc := range []struct {
		name  string
		reads []string
		max   int
		want  []out
	}{
		{"one", []string{inv}, 0, []out{msg(inv)}},
		{"split everywhere", strings.SplitAfter(inv, ""), 0, []out{msg(inv)}},
		{"split in body", []string{inv[:len(inv)-2], inv[len(inv)-2:]}, 0, []out{msg(inv)}},
		{"two in one read", []string{inv + inv}, 0, []out{msg(inv), msg(inv)}},
		{"two and a half", []string{inv + inv + inv[:10], inv[10:]}, 0, []out{msg(inv), msg(inv), msg(inv)}},
		{"compact l", []string{"OPTIONS sip:x SIP/2.0\r\nl: 2\r\n\r\nab"}, 0, []out{msg("OPTIONS sip:x SIP/2.0\r\nl: 2\r\n\r\nab")}},
		{"no length", []string{"OPTIONS sip:x SIP/2.0\r\nCall-ID: 1\r\n\r\n"}, 0, []out{msg("OPTIONS sip:x SIP/2.0\r\nCall-ID: 1\r\n\r\n")}},
		{"ping", []string{"\r\n\r\n"}, 0, []out{ping}},
		{"ping split", []string{"\r\n", "\r\n"}, 0, []out{ping}},
		{"pong then message", []string{"\r\n" + inv}, 0, []out{pong, msg(inv)}},
		{"ping then message", []string{"\r\n\r\n" + inv}, 0, []out{ping, msg(inv)}},
		{"lone pong waits", []string{"\r\n"}, 0, nil},
		{"bad length", []string{"INVITE sip:x SIP/2.0\r\nContent-Length: x1\r\n\r\n"}, 0, []out{{err: ErrBadLength}}},
		{"negative length", []string{"INVITE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n"}, 0, []out{{err: ErrBadLength}}},
		{"huge length", []string{"INVITE sip:x SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n"}, 0, []out{{err: ErrBadLength}}},
		{"oversize body", []string{"INVITE sip:x SIP/2.0\r\nContent-Length: 200\r\n\r\n"}, 100, []out{{err: ErrTooBig, msg: "INVITE sip:x SIP/2.0\r\nContent-Length: 200\r\n\r\n"}}},
		{"oversize head", []string{"INVITE sip:x SIP/2.0\r\n" + strings.Repeat("X: y\r\n", 30)}, 100, []out{{err: ErrTooBig}}},
		{"exactly max", []string{inv}, len(inv), []out{msg(inv)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = DefaultMaxMessage
			}
			f := newFramer(max)
			var got []out
		reads:
			for _, r := range tc.reads {
				n := copy(f.space(), r)
				if n < len(r) {
					got = append(got, out{err: ErrTooBig})
					break
				}
				f.wrote(n)
				for {
					k, m, err := f.next()
					if errors.Is(err, errNeedMore) {
						break
					}
					got = append(got, out{kind: k, msg: string(m), err: err})
					if err != nil {
						break reads
					}
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d frames %+v, want %+v", len(got), got, tc.want)
			}
			for i := range got {
				if got[i].kind != tc.want[i].kind || got[i].msg != tc.want[i].msg || !errors.Is(got[i].err, tc.want[i].err) {
					t.Errorf("frame %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestFramerAllocs(t *testing.T) {
	f := newFramer(DefaultMaxMessage)
	if n := testing.AllocsPerRun(100, func() {
		f.wrote(copy(f.space(), inv+"\r\n\r\n"))
		if k, _, err := f.next(); k != frameMessage || err != nil {
			t.Fatal(k, err)
		}
		if k, _, _ := f.next(); k != framePing {
			t.Fatal(k)
		}
	}); n != 0 {
		t.Errorf("%v allocations per message", n)
	}
}

type got struct {
	msg  string
	from *net.UDPAddr
}

func pair(t *testing.T, srv, cli StreamConfig) (a, b *Stream, ag, bg chan got) {
	t.Helper()
	ag, bg = make(chan got, 16), make(chan got, 16)
	srv.Handler = func(m []byte, from *net.UDPAddr) { ag <- got{string(m), from} }
	cli.Handler = func(m []byte, from *net.UDPAddr) { bg <- got{string(m), from} }
	a, b = NewStream(srv), NewStream(cli)
	if err := a.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b, ag, bg
}

func wait(t *testing.T, c chan got) got {
	t.Helper()
	select {
	case g := <-c:
		return g
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
	}
	return got{}
}

func udpOf(a *net.TCPAddr) *net.UDPAddr { return &net.UDPAddr{IP: a.IP, Port: a.Port} }

func TestStreamReuse(t *testing.T) {
	a, b, ag, bg := pair(t, StreamConfig{}, StreamConfig{})
	to := udpOf(a.LocalAddr())
	if err := b.Send([]byte(inv), to, ""); err != nil {
		t.Fatal(err)
	}
	g := wait(t, ag)
	if g.msg != inv {
		t.Fatalf("got %q", g.msg)
	}
	// The answer goes back on the same connection (18.2.2).
	if err := a.Send([]byte(inv), g.from, ""); err != nil {
		t.Fatal(err)
	}
	if g2 := wait(t, bg); g2.from.String() != to.String() {
		t.Fatalf("answer from %v, want %v", g2.from, to)
	}
	if err := b.Send([]byte(inv), to, ""); err != nil {
		t.Fatal(err)
	}
	wait(t, ag)
	if a.Len() != 1 || b.Len() != 1 {
		t.Fatalf("connections: %d and %d, want 1 and 1", a.Len(), b.Len())
	}
}

func TestStreamKeepaliveAndOversize(t *testing.T) {
	a, _, _, _ := pair(t, StreamConfig{MaxMessage: 200, Oversize: func(head []byte, _ *net.UDPAddr) []byte {
		return []byte("SIP/2.0 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n")
	}}, StreamConfig{})
	c, err := net.Dial("tcp", a.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("\r\n\r\n"))
	buf := make([]byte, 100)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "\r\n" {
		t.Fatalf("pong %q %v", buf[:n], err)
	}
	c.Write([]byte("INVITE sip:x SIP/2.0\r\nContent-Length: 500\r\n\r\n"))
	var all []byte
	for {
		n, err := c.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !strings.HasPrefix(string(all), "SIP/2.0 413") {
		t.Fatalf("got %q, want a 413 and close", all)
	}
}

func TestStreamLimits(t *testing.T) {
	a, _, _, _ := pair(t, StreamConfig{MaxConns: 1, IdleTimeout: 200 * time.Millisecond}, StreamConfig{})
	c1, err := net.Dial("tcp", a.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := net.Dial("tcp", a.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("second connection over MaxConns stayed open")
	}
	c1.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c1.Read(make([]byte, 1)); err == nil || errors.Is(err, errTimeout(err)) {
		t.Fatalf("idle connection: %v, want closed", err)
	}
}

// errTimeout returns err when it is a timeout, else a sentinel that never matches.
func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return errors.New("none")
}

// TestTLS: the client verifies the server's certificate against its roots
// and the name asked for (or the IP address), never accepting one that does
// not verify (InsecureSkipVerify in the caller's configuration is
// overridden), and presents its own certificate to a server that asks.
func TestTLS(t *testing.T) {
	ca, other := testtool.NewCA(t, "deskphone test CA"), testtool.NewCA(t, "someone else")
	good := ca.Issue(t, "pbx.test", testtool.LeafOptions{DNS: []string{"pbx.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	expired := ca.Issue(t, "pbx.test", testtool.LeafOptions{DNS: []string{"pbx.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	phone := ca.Issue(t, "phone 1001", testtool.LeafOptions{})
	strange := other.Issue(t, "phone 1001", testtool.LeafOptions{})
	server := func(c tls.Certificate) *tls.Config { return &tls.Config{Certificates: []tls.Certificate{c}} }
	askClient := &tls.Config{Certificates: []tls.Certificate{good.TLS}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	for _, tc := range []struct {
		name       string
		server     *tls.Config
		client     *tls.Config
		serverName string
		fail       string // CertError.What, "" = the connection comes up; "refused": a RefusedError
	}{
		{"trusted by IP", server(good.TLS), &tls.Config{RootCAs: ca.Pool()}, "", ""},
		{"trusted by name", server(good.TLS), &tls.Config{RootCAs: ca.Pool()}, "pbx.test", ""},
		{"wrong name", server(good.TLS), &tls.Config{RootCAs: ca.Pool()}, "other.test", "not valid for this name"},
		{"wrong IP", server(good.TLS), &tls.Config{RootCAs: ca.Pool()}, "127.0.0.2", "not valid for this name"},
		{"untrusted", server(good.TLS), &tls.Config{RootCAs: other.Pool()}, "pbx.test", "not trusted"},
		{"expired", server(expired.TLS), &tls.Config{RootCAs: ca.Pool()}, "pbx.test", "expired or not yet valid"},
		{"insecure is ignored", server(good.TLS), &tls.Config{RootCAs: other.Pool(), InsecureSkipVerify: true}, "pbx.test", "not trusted"},
		{"client certificate asked and given", askClient, &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{phone.TLS}}, "pbx.test", ""},
		{"client certificate asked, none", askClient, &tls.Config{RootCAs: ca.Pool()}, "pbx.test", "refused"},
		{"client certificate asked, untrusted", askClient, &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{strange.TLS}}, "pbx.test", "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan error, 1)
			cli := StreamConfig{TLS: true, ClientTLS: tc.client, Closed: func(_ *net.UDPAddr, err error) { closed <- err }, Logf: t.Logf}
			a, b, ag, bg := pair(t, StreamConfig{TLS: true, ServerTLS: tc.server}, cli)
			to := udpOf(a.LocalAddr())
			if err := b.Send([]byte(inv), to, tc.serverName); err != nil {
				t.Fatal(err)
			}
			if tc.fail != "" {
				select {
				case g := <-ag:
					t.Fatalf("received %q over an unverified connection", g.msg)
				case err := <-closed:
					var ce *CertError
					switch {
					case tc.fail == "refused":
						// TLS 1.3: the client's side of the handshake is
						// done before the server refuses; the alert comes
						// on the first read, before any message.
						var re *RefusedError
						if !errors.As(err, &re) || re.Name != tc.serverName {
							t.Fatalf("closed with %v, want a *RefusedError for %s", err, tc.serverName)
						}
						select {
						case g := <-ag:
							t.Fatalf("received %q without a valid client certificate", g.msg)
						default:
						}
					case !errors.As(err, &ce):
						t.Fatalf("closed with %v, want a *CertError", err)
					case ce.What() != tc.fail:
						t.Fatalf("%v: says %q, want %q", err, ce.What(), tc.fail)
					case !strings.Contains(err.Error(), "x509: "):
						t.Fatalf("%v: the x509 error is not kept", err)
					}
					t.Logf("closed: %v", err)
				case <-time.After(10 * time.Second):
					t.Fatal("the connection neither failed nor delivered")
				}
				return
			}
			g := wait(t, ag)
			if err := a.Send([]byte(inv), g.from, ""); err != nil {
				t.Fatal(err)
			}
			if wait(t, bg).msg != inv {
				t.Fatal("bad answer")
			}
		})
	}
	if err := NewStream(StreamConfig{TLS: true}).Listen("127.0.0.1:0"); err == nil {
		t.Fatal("TLS listener without a certificate")
	}
}

// BenchmarkFramer: one 900-byte INVITE framed out of a stream buffer.
func BenchmarkFramer(b *testing.B) {
	body := strings.Repeat("a=x\r\n", 100)
	msg := "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n" +
		"Call-ID: 1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	f := newFramer(DefaultMaxMessage)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		f.wrote(copy(f.space(), msg))
		if k, _, err := f.next(); k != frameMessage || err != nil {
			b.Fatal(k, err)
		}
	}
}

// BenchmarkStreamRoundTrip: a message over loopback TCP and back on the
// same connection.
func BenchmarkStreamRoundTrip(b *testing.B) {
	ag, bg := make(chan *net.UDPAddr, 1), make(chan struct{}, 1)
	srv := NewStream(StreamConfig{Handler: func(_ []byte, from *net.UDPAddr) { ag <- from }})
	cli := NewStream(StreamConfig{Handler: func([]byte, *net.UDPAddr) { bg <- struct{}{} }})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	defer cli.Close()
	to := udpOf(srv.LocalAddr())
	msg := []byte(inv)
	b.ReportAllocs()
	for b.Loop() {
		if err := cli.Send(msg, to, ""); err != nil {
			b.Fatal(err)
		}
		from := <-ag
		if err := srv.Send(msg, from, ""); err != nil {
			b.Fatal(err)
		}
		<-bg
	}
}

// TestStreamEvict: with the table full, a connection we open closes the
// least recently used one; Closed reports it.
func TestStreamEvict(t *testing.T) {
	closed := make(chan string, 4)
	a, b, ag, _ := pair(t, StreamConfig{}, StreamConfig{MaxConns: 1, Closed: func(r *net.UDPAddr, _ error) { closed <- r.String() }})
	c, _, cg, _ := pair(t, StreamConfig{}, StreamConfig{})
	if err := b.Send([]byte(inv), udpOf(a.LocalAddr()), ""); err != nil {
		t.Fatal(err)
	}
	wait(t, ag)
	if err := b.Send([]byte(inv), udpOf(c.LocalAddr()), ""); err != nil {
		t.Fatal(err)
	}
	wait(t, cg)
	select {
	case r := <-closed:
		if r != a.LocalAddr().String() {
			t.Fatalf("closed %s, want %v", r, a.LocalAddr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing evicted")
	}
	if b.Len() != 1 || !b.Has(udpOf(c.LocalAddr())) {
		t.Fatalf("table: %d, has c: %v", b.Len(), b.Has(udpOf(c.LocalAddr())))
	}
}

// TestStreamDialFails: a connection that cannot open reports why.
func TestStreamDialFails(t *testing.T) {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: testtool.Port(t)} // held: nothing listens there
	errs := make(chan error, 1)
	s := NewStream(StreamConfig{Closed: func(_ *net.UDPAddr, err error) { errs <- err }})
	defer s.Close()
	if err := s.Send([]byte(inv), to, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if err == nil {
			t.Fatal("no dial error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no Closed call")
	}
	if s.Has(to) {
		t.Fatal("failed connection still in the table")
	}
}

// FuzzFramer: any bytes, read in chunks of any size, frame without panic,
// every message within the bound, and the same messages whatever the split.
func FuzzFramer(f *testing.F) {
	f.Add([]byte(inv+inv), uint8(7))
	f.Add([]byte("\r\n\r\n\r\n"+inv), uint8(1))
	f.Add([]byte("OPTIONS sip:x SIP/2.0\r\nl: 3\r\n\r\nabc"), uint8(200))
	f.Add([]byte("INVITE sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		const max = 512
		run := func(step int) (msgs []string, failed bool) {
			fr := newFramer(max)
			for off := 0; off < len(data); {
				sp := fr.space()
				n := copy(sp, data[off:min(off+step, len(data))])
				if n == 0 {
					t.Fatal("framer full without an error")
				}
				fr.wrote(n)
				off += n
				for {
					k, m, err := fr.next()
					if errors.Is(err, errNeedMore) {
						break
					}
					if err != nil {
						return msgs, true
					}
					if k == frameMessage {
						if len(m) > max {
							t.Fatalf("message of %d bytes over %d", len(m), max)
						}
						msgs = append(msgs, string(m))
					}
				}
			}
			return msgs, false
		}
		a, aerr := run(int(chunk) + 1)
		b, berr := run(len(data) + 1)
		if aerr == berr && strings.Join(a, "|") != strings.Join(b, "|") {
			t.Fatalf("split by %d: %q; whole: %q", int(chunk)+1, a, b)
		}
	})
}
