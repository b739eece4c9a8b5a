package pbx

import (
	"fmt"
	"net"
	"testing"
)

func FuzzParseUsers(f *testing.F) {
	f.Add("1001:pw1,1002:pw2")
	f.Add("# users\n1001:pw1\n\n1002 : pw2\n")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUsers(s)
		if err != nil {
			return
		}
		// What parsed prints back into what parses the same.
		var b []byte
		for ext, pw := range u {
			b = fmt.Appendf(b, "%s:%s\n", ext, pw)
		}
		u2, err := ParseUsers(string(b))
		if err != nil || len(u2) != len(u) {
			t.Fatalf("round trip of %q: %v %v", s, u2, err)
		}
		for ext, pw := range u {
			if u2[ext] != pw {
				t.Fatalf("round trip of %q: %q -> %q", s, pw, u2[ext])
			}
		}
	})
}

// FuzzHandle feeds datagrams to the PBX's message handling, offline: no
// socket, addresses resolved from IP literals only, nothing written. It
// must never panic, and everything it sends must be a message it recorded.
func FuzzHandle(f *testing.F) {
	f.Add([]byte("OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.2.15:5061;branch=z9hG4bK1;rport\r\nFrom: <sip:1001@10.0.2.2>;tag=a\r\nTo: <sip:1001@10.0.2.2>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("REGISTER sip:10.0.2.2:5060 SIP/2.0\r\nv: SIP/2.0/UDP 10.0.2.15:5061;branch=z9hG4bK2\r\nf: <sip:1001@10.0.2.2>;tag=a\r\nt: <sip:1001@10.0.2.2>\r\ni: c2\r\nCSeq: 1 REGISTER\r\nm: <sip:1001@10.0.2.15:5061>;expires=30\r\nl: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKpbx00000000.1\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK3;received=127.0.0.1;rport=5070\r\nFrom: <sip:1001@x>;tag=a\r\nTo: <sip:1002@x>;tag=b\r\nCall-ID: c3\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("BYE sip:1002@127.0.0.1:5999 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK4\r\nRoute: <sip:pbx-00000000@10.0.2.2:5060;lr>\r\nMax-Forwards: 1\r\nFrom: <sip:1001@x>;tag=a\r\nTo: <sip:1002@x>;tag=b\r\nCall-ID: c4\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := offline(t)
		p.token = "00000000"
		sent := 0
		p.write = func([]byte, *net.UDPAddr) error { sent++; return nil }
		src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
		p.handle(data, src)
		p.handle(data, src) // and its retransmission
		outs := 0
		for _, e := range p.Ladder() {
			if e.Dir == "out" {
				outs++
			}
		}
		if outs != sent {
			t.Fatalf("sent %d datagrams, recorded %d", sent, outs)
		}
	})
}
