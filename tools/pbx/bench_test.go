package pbx

import (
	"net"
	"net/netip"
	"testing"
)

// offline returns a PBX that handles datagrams without a socket.
func offline(tb testing.TB) *PBX {
	p, err := New(Config{Listen: "127.0.0.1:5060"})
	if err != nil {
		tb.Fatal(err)
	}
	p.addr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	p.resolve = func(hp string) (*net.UDPAddr, error) {
		ap, err := netip.ParseAddrPort(hp)
		if err != nil {
			return nil, err
		}
		return net.UDPAddrFromAddrPort(ap), nil
	}
	p.write = func([]byte, *net.UDPAddr) error { return nil }
	return p
}

// BenchmarkOptions measures one request the PBX answers itself: parse,
// ladder, response, cache.
func BenchmarkOptions(b *testing.B) {
	p := offline(b)
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	msg := []byte("OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.2.15:5061;branch=z9hG4bK1;rport\r\nFrom: <sip:1001@10.0.2.2>;tag=a\r\nTo: <sip:1001@10.0.2.2>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		p.handle(msg, src)
		clear(p.st.cache) // every iteration a new transaction
	}
}
