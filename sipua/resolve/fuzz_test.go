package resolve

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

var writeCorpus = flag.Bool("write-corpus", false, "write the fuzz seeds into testdata/fuzz (then commit them)")

// seedAnswers are real responses of the fake server to the step tests'
// queries, plus a few damaged ones: the fuzzers start from them.
func seedAnswers() [][]byte {
	f := &fakeDNS{rrs: zone(), nx: map[string]bool{"missing.test": true}, queries: map[string]int{}, soaTTL: 30}
	var out [][]byte
	for _, q := range []struct {
		name string
		t    dnsmessage.Type
	}{
		{"example.test", typeNAPTR}, {"onlysctp.test", typeNAPTR}, {"_sip._tcp.example.test", dnsmessage.TypeSRV},
		{"_sip._udp.nosvc.test", dnsmessage.TypeSRV}, {"sip2.example.test", dnsmessage.TypeA},
		{"sip2.example.test", dnsmessage.TypeAAAA}, {"alias.test", dnsmessage.TypeA}, {"missing.test", dnsmessage.TypeA},
		{"aonly.test", dnsmessage.TypeSRV},
	} {
		msg, _, err := buildQuery(0x1234, q.name, q.t)
		if err != nil {
			panic(err)
		}
		a := f.answer(msg, true)
		out = append(out, a, a[:len(a)-3])
	}
	return out
}

// FuzzParseAnswer: any bytes, asked as the message's own question (so
// that parsing goes past the header), parse or fail with ErrMalformed or
// ErrServer, never panic, and what parses holds only records of the type
// asked.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range seedAnswers() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var p dnsmessage.Parser
		h, err := p.Start(msg)
		q := dnsmessage.Question{Name: dnsmessage.MustNewName("example.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
		if err == nil {
			if q1, err := p.Question(); err == nil {
				q = q1
			}
		}
		for _, qt := range []dnsmessage.Type{q.Type, dnsmessage.TypeA, dnsmessage.TypeAAAA, dnsmessage.TypeSRV, typeNAPTR} {
			q.Type = qt
			a, err := parseAnswer(msg, h.ID, q)
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrServer) {
					t.Fatalf("error %v wraps neither ErrMalformed nor ErrServer", err)
				}
				continue
			}
			n := len(a.addrs) + len(a.srvs) + len(a.naptrs)
			if a.negative && n > 0 || a.cname != "" && n > 0 {
				t.Fatalf("negative or CNAME answer with %d records", n)
			}
			switch {
			case qt == dnsmessage.TypeA || qt == dnsmessage.TypeAAAA:
				if len(a.srvs)+len(a.naptrs) > 0 {
					t.Fatal("SRV or NAPTR records in an address answer")
				}
				for _, x := range a.addrs {
					if x.Is4() != (qt == dnsmessage.TypeA) {
						t.Fatalf("%v in a %v answer", x, qt)
					}
				}
			case qt == dnsmessage.TypeSRV && len(a.addrs)+len(a.naptrs) > 0,
				qt == typeNAPTR && len(a.addrs)+len(a.srvs) > 0:
				t.Fatalf("records of another type in a %v answer", qt)
			}
		}
	})
}

// FuzzNAPTR: any RDATA (and any message for its compression pointers)
// parses or fails with ErrMalformed; a parsed replacement is a name of
// at most 255 bytes; what the encoder writes parses back.
func FuzzNAPTR(f *testing.F) {
	f.Add(naptrRDATA(10, 20, "s", "SIP+D2U", "", "_sip._udp.example.test"), []byte(nil))
	f.Add(naptrRDATA(100, 50, "u", "E2U+sip", "!^.*$!sip:info@example.test!", "."), []byte(nil))
	f.Add([]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\xc0\x0c"), []byte("\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07example\x04test\x00"))
	f.Add([]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\xc0\x00"), []byte("\xc0\x00"))
	f.Add([]byte{0, 1, 0, 2, 200}, []byte(nil))
	f.Fuzz(func(t *testing.T, rdata, msg []byte) {
		n, err := parseNAPTR(rdata, msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(n.replacement) > 255 {
			t.Fatalf("replacement of %d bytes", len(n.replacement))
		}
		if n.replacement != "" && slices.Contains(strings.Split(n.replacement, "."), "") {
			return // a label holding a dot at its edge does not round-trip through the text form
		}
		enc := naptrRDATA(n.order, n.preference, n.flags, n.service, n.regexp, n.replacement)
		n2, err := parseNAPTR(enc, nil)
		if err != nil || n2 != n {
			t.Fatalf("round trip: %+v -> %+v, %v", n, n2, err)
		}
	})
}

// TestWriteCorpus writes the seeds as checked-in corpus files when run
// with -write-corpus (go test -run TestWriteCorpus -write-corpus).
func TestWriteCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("-write-corpus not set")
	}
	write := func(target string, args ...[]byte) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			fmt.Fprintf(&b, "[]byte(%q)\n", a)
		}
		sum := sha256.Sum256([]byte(b.String()))
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:8])), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range seedAnswers() {
		write("FuzzParseAnswer", s)
	}
	for _, s := range [][2][]byte{
		{naptrRDATA(10, 20, "s", "SIPS+D2T", "", "_sips._tcp.example.test"), nil},
		{naptrRDATA(1, 1, "", "", "", "."), nil},
		{[]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\xc0\x0c"), []byte("\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07example\x04test\x00")},
		{[]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\xc0\x0c"), []byte("\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c")},
		{[]byte("\x00\x0a\x00\x14\x01s\x07SIP+D2T\x00\x03sip"), nil},
		{[]byte("\x00\x0a\x00\x14\xffs"), nil},
	} {
		write("FuzzNAPTR", s[0], s[1])
	}
}
