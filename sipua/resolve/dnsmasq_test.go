package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestDnsmasq resolves against a real dnsmasq on 127.0.0.1, serving what a
// PBX domain with two Kamailio instances publishes: NAPTR for UDP and TCP,
// SRV at priorities 10 and 20 (ports A and B), A records; then fails the
// first over to the second as a user agent would.
func TestDnsmasq(t *testing.T) {
	testtool.Long(t, "make race")
	kam := testtool.Ports(t, 2) // the two instances' SIP ports, A and B
	portA, portB := kam, kam+1
	server := testtool.DNSMasq(t,
		"--local=/example.test/", // authoritative for the test domain: unknown names are NXDOMAIN
		"--local-ttl=60",
		"--naptr-record=example.test,10,10,s,SIP+D2U,,_sip._udp.example.test",
		"--naptr-record=example.test,20,10,s,SIP+D2T,,_sip._tcp.example.test",
		fmt.Sprintf("--srv-host=_sip._udp.example.test,kam1.example.test,%d,10,60", portA),
		fmt.Sprintf("--srv-host=_sip._udp.example.test,kam2.example.test,%d,20,60", portB),
		fmt.Sprintf("--srv-host=_sip._tcp.example.test,kam1.example.test,%d,10,0", portA),
		"--host-record=kam1.example.test,127.0.0.1",
		"--host-record=kam2.example.test,127.0.0.1,120",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// testtool.DNSMasq returns once dnsmasq answers, and its probe went
	// around this resolver: the test starts from an empty cache
	clk := newClock()
	r, err := New(Config{
		Servers: []string{server}, Timeout: time.Second,
		Now: clk.Now, Rand: func(int) int { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	u := uri(t, "sip:example.test")
	ts, err := r.Lookup(ctx, u)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	want := []string{
		fmt.Sprintf("udp 127.0.0.1:%d (kam1.example.test)", portA),
		fmt.Sprintf("udp 127.0.0.1:%d (kam2.example.test)", portB),
		fmt.Sprintf("tcp 127.0.0.1:%d (kam1.example.test)", portA),
	}
	if got := strs(ts); !slices.Equal(got, want) {
		t.Fatalf("Lookup = %q\nwant %q", got, want)
	}

	// the cache answers inline; the first instance fails, the second is first
	if c, ok := r.Cached(u); !ok || !slices.Equal(strs(c), want) {
		t.Fatalf("Cached = %q, %v", strs(c), ok)
	}
	r.Failed(ts[0])
	failover := []string{want[1], want[2], want[0]}
	if c, ok := r.Cached(u); !ok || !slices.Equal(strs(c), failover) {
		t.Fatalf("after Failed: Cached = %q, %v; want %q", strs(c), ok, failover)
	}
	// ... and the request reaches instance B there
	b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ts[1].Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, _ := r.Cached(u)
	conn, err := net.DialUDP("udp", nil, c[0].UDPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("OPTIONS sip:example.test SIP/2.0\r\n\r\n"))
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	if n, _, err := b.ReadFromUDP(buf); err != nil || !bytes.HasPrefix(buf[:n], []byte("OPTIONS")) {
		t.Fatalf("instance B got %q, %v", buf[:n], err)
	}

	// the failure passes: A is first again, from the cache (TTL 60 s)
	clk.Advance(31 * time.Second)
	if c, ok := r.Cached(u); !ok || !slices.Equal(strs(c), want) {
		t.Fatalf("after FailFor: Cached = %q, %v", strs(c), ok)
	}
	// the TTLs dnsmasq gave: 60 s (--local-ttl) for the records
	clk.Advance(30 * time.Second)
	if _, ok := r.Cached(u); ok {
		t.Fatal("cached past dnsmasq's 60 s TTL")
	}

	// a port: A only; a transport: that SRV only; a name dnsmasq does not know
	for _, tc := range []struct {
		uri  string
		want []string
		err  error
	}{
		{"sip:kam2.example.test:5070", []string{"udp 127.0.0.1:5070 (kam2.example.test)"}, nil},
		{"sip:example.test;transport=tcp", []string{want[2]}, nil},
		{"sip:missing.example.test", nil, ErrNotFound},
	} {
		ts, err := r.Lookup(ctx, uri(t, tc.uri))
		if !errors.Is(err, tc.err) || !slices.Equal(strs(ts), tc.want) {
			t.Errorf("Lookup(%s) = %q, %v; want %q, %v", tc.uri, strs(ts), err, tc.want, tc.err)
		}
	}
}
