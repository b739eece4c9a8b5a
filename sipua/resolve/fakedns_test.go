package resolve

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeDNS is an in-process DNS server on 127.0.0.1 (UDP and TCP on one
// port) answering from a zone the test writes, built with dnsmessage.
type fakeDNS struct {
	addr string

	mu       sync.Mutex
	rrs      []fakeRR
	nx       map[string]bool                               // NXDOMAIN names
	soaTTL   uint32                                        // >0: negative answers carry an SOA with this TTL and MINIMUM
	truncate bool                                          // UDP answers say TC, with no records
	drop     int                                           // drop this many UDP queries, then answer
	reply    func(q dnsmessage.Question, id uint16) []byte // overrides the zone when it returns non-nil
	queries  map[string]int                                // "name TYPE" -> count (UDP and TCP)
	tcp      int                                           // queries over TCP
}

type fakeRR struct {
	name string // normalized
	typ  dnsmessage.Type
	ttl  uint32
	add  func(b *dnsmessage.Builder, h dnsmessage.ResourceHeader) error

	cname string // a CNAME's target
}

func mustName(s string) dnsmessage.Name {
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return dnsmessage.MustNewName(s)
}

func rrA(name string, ttl uint32, ip string) fakeRR {
	a := netip.MustParseAddr(ip)
	if a.Is4() {
		return fakeRR{normName(name), dnsmessage.TypeA, ttl, func(b *dnsmessage.Builder, h dnsmessage.ResourceHeader) error {
			return b.AResource(h, dnsmessage.AResource{A: a.As4()})
		}, ""}
	}
	return fakeRR{normName(name), dnsmessage.TypeAAAA, ttl, func(b *dnsmessage.Builder, h dnsmessage.ResourceHeader) error {
		return b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: a.As16()})
	}, ""}
}

func rrSRV(name string, ttl uint32, prio, weight, port uint16, target string) fakeRR {
	return fakeRR{normName(name), dnsmessage.TypeSRV, ttl, func(b *dnsmessage.Builder, h dnsmessage.ResourceHeader) error {
		return b.SRVResource(h, dnsmessage.SRVResource{Priority: prio, Weight: weight, Port: port, Target: mustName(target)})
	}, ""}
}

func rrCNAME(name string, ttl uint32, target string) fakeRR {
	return fakeRR{normName(name), dnsmessage.TypeCNAME, ttl, func(b *dnsmessage.Builder, h dnsmessage.ResourceHeader) error {
		return b.CNAMEResource(h, dnsmessage.CNAMEResource{CNAME: mustName(target)})
	}, normName(target)}
}

func rrNAPTR(name string, ttl uint32, order, pref uint16, flags, service, regexp, repl string) fakeRR {
	data := naptrRDATA(order, pref, flags, service, regexp, repl)
	return fakeRR{normName(name), typeNAPTR, ttl, func(b *dnsmessage.Builder, h dnsmessage.ResourceHeader) error {
		return b.UnknownResource(h, dnsmessage.UnknownResource{Type: typeNAPTR, Data: data})
	}, ""}
}

// naptrRDATA encodes a NAPTR record's RDATA (RFC 3403 section 4.1).
func naptrRDATA(order, pref uint16, flags, service, regexp, repl string) []byte {
	b := binary.BigEndian.AppendUint16(nil, order)
	b = binary.BigEndian.AppendUint16(b, pref)
	for _, s := range []string{flags, service, regexp} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	for l := range strings.SplitSeq(strings.TrimSuffix(repl, "."), ".") {
		if l != "" {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

func newFakeDNS(t testing.TB, rrs ...fakeRR) *fakeDNS {
	t.Helper()
	f := &fakeDNS{rrs: rrs, nx: map[string]bool{}, queries: map[string]int{}}
	var uc *net.UDPConn
	var tl *net.TCPListener
	for try := 0; ; try++ {
		var err error
		uc, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		tl, err = net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: uc.LocalAddr().(*net.UDPAddr).Port})
		if err == nil {
			break
		}
		uc.Close()
		if try == 20 {
			t.Fatal(err)
		}
	}
	f.addr = uc.LocalAddr().String()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := uc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if out := f.answer(buf[:n], false); out != nil {
				uc.WriteToUDP(out, from)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err == nil {
				in := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, in); err == nil {
					if out := f.answer(in, true); out != nil {
						c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(out))), out...))
					}
				}
			}
			c.Close()
		}
	}()
	t.Cleanup(func() {
		uc.Close()
		tl.Close()
		wg.Wait()
	})
	return f
}

func (f *fakeDNS) set(fn func(f *fakeDNS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeDNS) count(name string, t dnsmessage.Type) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[normName(name)+" "+typeName(t)]
}

func (f *fakeDNS) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.queries {
		n += c
	}
	return n
}

// answer builds the response to one query, or nil to drop it.
func (f *fakeDNS) answer(in []byte, tcp bool) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(in)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := normName(q.Name.String())
	f.queries[name+" "+typeName(q.Type)]++
	if tcp {
		f.tcp++
	}
	if !tcp && f.drop > 0 {
		f.drop--
		return nil
	}
	if f.reply != nil {
		if out := f.reply(q, h.ID); out != nil {
			return out
		}
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	if !tcp && f.truncate {
		rh.Truncated = true
		b := dnsmessage.NewBuilder(nil, rh)
		b.StartQuestions()
		b.Question(q)
		out, _ := b.Finish()
		return out
	}
	if f.nx[name] {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	must(b.StartQuestions())
	must(b.Question(q))
	must(b.StartAnswers())
	n := 0
	if !f.nx[name] {
		// in-zone CNAME chain, as an authoritative server gives it
		cur := name
		for hop := 0; hop < 8; hop++ {
			next := ""
			for _, r := range f.rrs {
				if r.name == cur && r.typ == dnsmessage.TypeCNAME && q.Type != dnsmessage.TypeCNAME {
					must(r.add(&b, dnsmessage.ResourceHeader{Name: mustName(r.name), Type: r.typ, Class: dnsmessage.ClassINET, TTL: r.ttl}))
					n++
					next = r.cname
				}
			}
			if next == "" {
				break
			}
			cur = next
		}
		for _, r := range f.rrs {
			if r.name == cur && r.typ == q.Type {
				must(r.add(&b, dnsmessage.ResourceHeader{Name: mustName(r.name), Type: r.typ, Class: dnsmessage.ClassINET, TTL: r.ttl}))
				n++
			}
		}
	}
	if n == 0 && f.soaTTL > 0 {
		must(b.StartAuthorities())
		must(b.SOAResource(dnsmessage.ResourceHeader{Name: mustName("example.test"), Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET, TTL: f.soaTTL},
			dnsmessage.SOAResource{NS: mustName("ns.example.test"), MBox: mustName("hostmaster.example.test"), Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, MinTTL: f.soaTTL}))
	}
	out, err := b.Finish()
	must(err)
	return out
}

func must(err error) {
	if err != nil && !errors.Is(err, dnsmessage.ErrSectionDone) {
		panic(err)
	}
}

// fakeClock is the injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
