package resolve

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// build returns a response to q with id, its answers added by add.
func build(id uint16, q dnsmessage.Question, rcode dnsmessage.RCode, add func(b *dnsmessage.Builder)) []byte {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RCode: rcode})
	must(b.StartQuestions())
	must(b.Question(q))
	must(b.StartAnswers())
	if add != nil {
		add(&b)
	}
	out, err := b.Finish()
	must(err)
	return out
}

func hdr(q dnsmessage.Question, t dnsmessage.Type) dnsmessage.ResourceHeader {
	return dnsmessage.ResourceHeader{Name: q.Name, Type: t, Class: dnsmessage.ClassINET, TTL: 60}
}

// TestMalformedAnswers: a server answering nonsense costs a query, an
// error or a timeout, never a panic or a wrong target.
func TestMalformedAnswers(t *testing.T) {
	tests := []struct {
		name  string
		uri   string
		reply func(q dnsmessage.Question, id uint16) []byte
		err   error // wrapped by Lookup's error; nil: a timeout
	}{
		{"garbage", "sip:h.test:5060", func(dnsmessage.Question, uint16) []byte { return []byte("\x00\x01garbage") }, nil},
		{"header only, right ID", "sip:h.test:5060", func(_ dnsmessage.Question, id uint16) []byte {
			return []byte{byte(id >> 8), byte(id), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}
		}, ErrMalformed},
		{"cut in the answer", "sip:h.test:5060", func(q dnsmessage.Question, id uint16) []byte {
			m := build(id, q, 0, func(b *dnsmessage.Builder) {
				b.AResource(hdr(q, dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
			})
			return m[:len(m)-2]
		}, ErrMalformed},
		{"wrong ID: ignored", "sip:h.test:5060", func(q dnsmessage.Question, id uint16) []byte {
			return build(id+1, q, 0, func(b *dnsmessage.Builder) {
				b.AResource(hdr(q, dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
			})
		}, nil},
		{"other question: ignored", "sip:h.test:5060", func(q dnsmessage.Question, id uint16) []byte {
			q.Name = dnsmessage.MustNewName("evil.test.")
			return build(id, q, 0, func(b *dnsmessage.Builder) {
				b.AResource(hdr(q, dnsmessage.TypeA), dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
			})
		}, nil},
		{"a query, not a response", "sip:h.test:5060", func(q dnsmessage.Question, id uint16) []byte {
			m, _, _ := buildQuery(id, q.Name.String(), q.Type)
			return m
		}, nil},
		{"SERVFAIL", "sip:h.test:5060", func(q dnsmessage.Question, id uint16) []byte {
			return build(id, q, dnsmessage.RCodeServerFailure, nil)
		}, ErrServer},
		{"REFUSED", "sip:h.test:5060", func(q dnsmessage.Question, id uint16) []byte {
			return build(id, q, dnsmessage.RCodeRefused, nil)
		}, ErrServer},
		{"short A", "sip:h.test:5060", func(q dnsmessage.Question, id uint16) []byte {
			return build(id, q, 0, func(b *dnsmessage.Builder) {
				b.UnknownResource(hdr(q, dnsmessage.TypeA), dnsmessage.UnknownResource{Type: dnsmessage.TypeA, Data: []byte{192, 0}})
			})
		}, ErrMalformed},
		{"short SRV", "sip:h.test;transport=udp", func(q dnsmessage.Question, id uint16) []byte {
			return build(id, q, 0, func(b *dnsmessage.Builder) {
				b.UnknownResource(hdr(q, dnsmessage.TypeSRV), dnsmessage.UnknownResource{Type: dnsmessage.TypeSRV, Data: []byte{0, 1, 0}})
			})
		}, nil}, // SRV fails: falls back to A, which fails the same way (the answer is SRV-shaped)
		{"short NAPTR", "sip:h.test", func(q dnsmessage.Question, id uint16) []byte {
			return build(id, q, 0, func(b *dnsmessage.Builder) {
				b.UnknownResource(hdr(q, q.Type), dnsmessage.UnknownResource{Type: q.Type, Data: []byte{0, 1, 0, 2, 9, 's'}})
			})
		}, ErrMalformed},
		{"NAPTR compression loop", "sip:h.test", func(q dnsmessage.Question, id uint16) []byte {
			return build(id, q, 0, func(b *dnsmessage.Builder) {
				b.UnknownResource(hdr(q, q.Type), dnsmessage.UnknownResource{Type: q.Type, Data: []byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\xc0\x00")})
			})
		}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// a short try where a timeout is the expected end, a long one
			// where an answer is (so that a loaded machine does not flake)
			timeout := 2 * time.Second
			if tc.err == nil {
				timeout = 30 * time.Millisecond
			}
			e := newEnv(t, Config{Timeout: timeout, Attempts: 1})
			e.dns.set(func(f *fakeDNS) { f.reply = tc.reply })
			got, err := lookup(t, e, tc.uri)
			if err == nil || len(got) != 0 {
				t.Fatalf("Lookup = %q, %v; want an error", got, err)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Lookup error %v, want %v", err, tc.err)
			}
			var ne net.Error
			if tc.err == nil && !errors.Is(err, ErrMalformed) && !(errors.As(err, &ne) && ne.Timeout()) {
				t.Fatalf("Lookup error %v, want ErrMalformed or a timeout", err)
			}
		})
	}
}

func TestNAPTRCompressedReplacement(t *testing.T) {
	// the RDATA points at the question's name (offset 12)
	msg := []byte("\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07Example\x04test\x00")
	rdata := []byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\x04_sip\x04_tcp\xc0\x0c")
	n, err := parseNAPTR(rdata, msg)
	if err != nil {
		t.Fatal(err)
	}
	want := naptrRR{10, 20, "s", "SIP+D2T", "", "_sip._tcp.example.test"}
	if n != want {
		t.Fatalf("parseNAPTR = %+v, want %+v", n, want)
	}
	for _, bad := range [][]byte{
		[]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\x04_sip\xc0"),     // pointer cut
		[]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\x04_sip\xc0\x40"), // pointer past msg
		[]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\x04_sip\x80"),     // reserved label type
		[]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\x00\x00"),         // bytes after the name
	} {
		if _, err := parseNAPTR(bad, msg); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseNAPTR(%q) error %v, want ErrMalformed", bad, err)
		}
	}
}

func TestCNAMELoop(t *testing.T) {
	e := newEnv(t, Config{}, rrCNAME("a.test", 60, "b.test"), rrCNAME("b.test", 60, "a.test"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.r.Lookup(ctx, uri(t, "sip:a.test:5060")); err == nil {
		t.Fatal("a CNAME loop resolved")
	}
	if n := e.dns.count("a.test", dnsmessage.TypeA) + e.dns.count("b.test", dnsmessage.TypeA); n > 10 {
		t.Fatalf("%d queries for a CNAME loop", n)
	}
}

func TestParseSRV(t *testing.T) {
	msg := []byte("\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x04_sip\x04_udp\x07example\x04test\x00")
	tests := []struct {
		name  string
		rdata string
		want  srvRR
		ok    bool
	}{
		{"plain", "\x00\x0a\x00\x3c\x13\xc4\x04sip1\x07Example\x04test\x00", srvRR{10, 60, 5060, "sip1.example.test"}, true},
		{"root target", "\x00\x00\x00\x00\x00\x00\x00", srvRR{}, true},
		{"compressed target", "\x00\x01\x00\x01\x13\xc4\x04sip1\xc0\x16", srvRR{1, 1, 5060, "sip1.example.test"}, true},
		{"short", "\x00\x01\x00\x01\x13\xc4", srvRR{}, false},
		{"target runs past RDLENGTH", "\x00\x01\x00\x01\x13\xc4\x04sip1", srvRR{}, false},
		{"bytes after the target", "\x00\x01\x00\x01\x13\xc4\x00\x00", srvRR{}, false},
		{"pointer to the question", "\x00\x01\x00\x01\x13\xc4\xc0\x0c", srvRR{1, 1, 5060, "_sip._udp.example.test"}, true},
	}
	for _, tc := range tests {
		got, err := parseSRV([]byte(tc.rdata), msg)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("%s: parseSRV = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
		if !tc.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: parseSRV error %v, want ErrMalformed", tc.name, err)
		}
	}
	loop := []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc0\x0c")
	if _, err := parseSRV([]byte("\x00\x01\x00\x01\x13\xc4\xc0\x0c"), loop); !errors.Is(err, ErrMalformed) {
		t.Errorf("pointer loop: %v", err)
	}
}

func TestLowerASCII(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"sip.example.test": "sip.example.test",
		"SIP.Example.TEST": "sip.example.test",
		"\xff\xc3\x89A":    "\xff\xc3\x89a", // other bytes stay as they are (É is not folded)
	} {
		if got := lowerASCII(in); got != want {
			t.Errorf("lowerASCII(%q) = %q, want %q", in, got, want)
		}
	}
}
