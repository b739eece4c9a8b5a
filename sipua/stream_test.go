package sipua

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// wire records every message a UA sent and received, with its first lines.
type wire struct {
	mu   sync.Mutex
	msgs []string
}

func (w *wire) fn(dir string, _ *net.UDPAddr, b []byte) {
	w.mu.Lock()
	w.msgs = append(w.msgs, dir+" "+string(b))
	w.mu.Unlock()
}

// find returns the first message with dir and start-line prefix.
func (w *wire) find(dir, start string) *sipmsg.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.msgs {
		if strings.HasPrefix(s, dir+" "+start) {
			m, err := sipmsg.Parse([]byte(strings.TrimPrefix(s, dir+" ")))
			if err == nil {
				return m
			}
		}
	}
	return nil
}

func startUACfg(t *testing.T, cfg Config) (*UA, *wire) {
	t.Helper()
	w := &wire{}
	cfg.Listen, cfg.UserAgent, cfg.Trace, cfg.Logf = "127.0.0.1:0", "deskphone-test", w.fn, t.Logf
	ua, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return ua, w
}

// writeCert makes a self-signed certificate for 127.0.0.1 in dir and
// returns the certificate and key file names.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestCallOverStream runs the whole call (INVITE to BYE, both ways of
// hanging up) between two UAs over TCP and over TLS.
func TestCallOverStream(t *testing.T) {
	cert, key := writeCert(t, t.TempDir())
	for _, tc := range []struct {
		name, via string
		cfg       Config
		port      func(*UA) int
	}{
		{"tcp", "TCP", Config{}, func(u *UA) int { return u.LocalAddr().Port }},
		{"tls", "TLS", Config{TLSCertFile: cert, TLSKeyFile: key, TLSCAFile: cert}, func(u *UA) int { return u.TLSAddr().Port }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, cb := tc.cfg, tc.cfg
			ca.Lines = []LineConfig{{User: "1001", DisplayName: "Alice"}}
			cb.Lines = []LineConfig{{User: "1002"}}
			a, aw := startUACfg(t, ca)
			b, bw := startUACfg(t, cb)
			to := fmt.Sprintf("sip:1002@127.0.0.1:%d;transport=%s", tc.port(b), tc.name)
			for round, calleeHangs := range []bool{false, true} {
				id, err := a.Dial(1, to, media(10000, "PCMU"))
				if err != nil {
					t.Fatal(err)
				}
				in := expect(t, b, CallIncoming)
				if in.Peer != "Alice" {
					t.Fatalf("incoming %+v", in)
				}
				if err := b.Ring(in.Call); err != nil {
					t.Fatal(err)
				}
				expect(t, a, CallProgress)
				if _, err := b.Answer(in.Call, media(20000, "PCMU")); err != nil {
					t.Fatal(err)
				}
				expect(t, b, CallAnswered)
				expect(t, a, CallAnswered)
				if calleeHangs {
					err = b.Hangup(in.Call)
				} else {
					err = a.Hangup(id)
				}
				if err != nil {
					t.Fatal(err)
				}
				if e := expect(t, a, CallEnded); e.Code != 200 {
					t.Fatalf("round %d: caller ended %+v", round, e)
				}
				if e := expect(t, b, CallEnded); e.Code != 200 {
					t.Fatalf("round %d: callee ended %+v", round, e)
				}
			}
			inv := bw.find("recv", "INVITE ")
			if inv == nil {
				t.Fatal("callee saw no INVITE")
			}
			wantContact := fmt.Sprintf("<sip:1001@127.0.0.1:%d;transport=%s>", tc.port(a), tc.name)
			if !strings.HasPrefix(inv.Get("Via"), "SIP/2.0/"+tc.via+" 127.0.0.1:"+strconv.Itoa(tc.port(a))) || inv.Get("Contact") != wantContact {
				t.Errorf("INVITE Via %q Contact %q, want %s and %s", inv.Get("Via"), inv.Get("Contact"), tc.via, wantContact)
			}
			ok := aw.find("recv", "SIP/2.0 200")
			if ok == nil || ok.Get("Contact") != fmt.Sprintf("<sip:1002@127.0.0.1:%d;transport=%s>", tc.port(b), tc.name) {
				t.Errorf("200 OK Contact: %v", ok)
			}
			if bye := aw.find("recv", "BYE "); bye == nil || !strings.HasPrefix(bye.Get("Via"), "SIP/2.0/"+tc.via) {
				t.Errorf("callee's BYE: %v", bye)
			}
			s := a.tcp
			if tc.name == "tls" {
				s = a.tls
			}
			if n := s.Len(); n < 1 || n > 2 {
				t.Errorf("caller has %d %s connections, want 1 or 2 (reused across calls)", n, tc.name)
			}
		})
	}
}

// tcpRegistrar answers REGISTERs on one TCP connection.
func tcpRegistrar(t *testing.T) (addr string, got chan *sipmsg.Message) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan *sipmsg.Message, 8)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			var head []byte
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if line == "\r\n" && len(head) == 0 {
					continue
				}
				head = append(head, line...)
				if line == "\r\n" {
					break
				}
			}
			m, err := sipmsg.Parse(head)
			if err != nil {
				return
			}
			if n, _ := strconv.Atoi(m.Get("Content-Length")); n > 0 {
				io.CopyN(io.Discard, r, int64(n))
			}
			got <- m
			resp := sipmsg.NewResponse(m, 200, "")
			resp.Add("Contact", m.Get("Contact")+";expires=60")
			resp.Add("Content-Length", "0")
			c.Write(resp.AppendTo(nil))
		}
	}()
	return ln.Addr().String(), got
}

func TestRegisterOverTCP(t *testing.T) {
	addr, got := tcpRegistrar(t)
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001", Registrar: addr, Transport: "TCP"}}})
	if e := expect(t, ua, RegChanged); e.RegState != "registered" {
		t.Fatalf("reg %+v", e)
	}
	m := <-got
	port := ua.LocalAddr().Port
	if !strings.HasPrefix(m.Get("Via"), "SIP/2.0/TCP ") || m.Get("Contact") != fmt.Sprintf("<sip:1001@127.0.0.1:%d;transport=tcp>", port) {
		t.Fatalf("REGISTER Via %q Contact %q", m.Get("Via"), m.Get("Contact"))
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1", Transport: "sctp"}}}); err == nil {
		t.Fatal("transport sctp accepted")
	}
}

func TestOversizeOverTCP(t *testing.T) {
	ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1001"}}})
	c, err := net.Dial("tcp", ua.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(deadline))
	fmt.Fprintf(c, "INVITE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig\r\n"+
		"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: big\r\nCSeq: 1 INVITE\r\nContent-Length: 100000\r\n\r\n")
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "SIP/2.0 413 ") || !strings.Contains(string(b), "Call-ID: big") {
		t.Fatalf("got %q, want a 413 and close", b)
	}
}
