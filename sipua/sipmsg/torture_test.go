package sipmsg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Outcomes in the torture table besides a status code.
const (
	parses = 0  // the message parses; what the UA answers is its business (see note)
	drop   = -1 // a response that fails to parse: dropped, never answered
)

// torture is RFC 4475 section 3, file by file: want is the outcome the RFC
// asks of a parser (a status code for a request that must be rejected), note
// what the application layer answers when that is the point of the test.
var torture = []struct {
	file, section string
	want          int
	note          string
}{
	{"wsinv", "3.1.1.1", parses, ""},
	{"intmeth", "3.1.1.2", parses, ""},
	{"esc01", "3.1.1.3", parses, ""},
	{"escnull", "3.1.1.4", parses, ""},
	{"esc02", "3.1.1.5", parses, "RE%47IST%45R is an unknown method: 405/501 from a UA"},
	{"lwsdisp", "3.1.1.6", parses, ""},
	{"longreq", "3.1.1.7", parses, ""},
	{"dblreq", "3.1.1.8", parses, "only the first message in the datagram counts"},
	{"semiuri", "3.1.1.9", parses, ""},
	{"transports", "3.1.1.10", parses, ""},
	{"mpart01", "3.1.1.11", parses, ""},
	{"unreason", "3.1.1.12", parses, ""},
	{"noreason", "3.1.1.13", parses, ""},
	{"badinv01", "3.1.2.1", 400, "extraneous separators in Via and Contact"},
	{"clerr", "3.1.2.2", 400, "Content-Length larger than the datagram (UDP)"},
	{"ncl", "3.1.2.3", 400, "negative Content-Length"},
	{"scalar02", "3.1.2.4", 400, "CSeq beyond 2**32-1"},
	{"scalarlg", "3.1.2.5", drop, "response with CSeq beyond 2**32-1"},
	{"quotbal", "3.1.2.6", 400, "unterminated quoted display name"},
	{"ltgtruri", "3.1.2.7", 400, "<> around the Request-URI"},
	{"lwsruri", "3.1.2.8", 400, "LWS in the Request-URI"},
	{"lwsstart", "3.1.2.9", 400, "several SP between request-line elements"},
	{"trws", "3.1.2.10", 400, "SP after the SIP version"},
	{"escruri", "3.1.2.11", 400, "escaped headers in the Request-URI"},
	{"baddate", "3.1.2.12", parses, "Date is not interpreted (the RFC allows accepting)"},
	{"regbadct", "3.1.2.13", 400, "URI with headers not enclosed in <>"},
	{"badaspec", "3.1.2.14", 400, "spaces inside <> in To"},
	{"baddn", "3.1.2.15", 400, "unquoted non-token display name"},
	{"badvers", "3.1.2.16", 505, "SIP/7.0"},
	{"mismatch01", "3.1.2.17", 400, "CSeq method differs from the request method"},
	{"mismatch02", "3.1.2.18", 400, "unknown method, CSeq method differs"},
	{"bigcode", "3.1.2.19", drop, "status code beyond 699"},
	{"badbranch", "3.2.1", parses, "branch without the magic cookie: RFC 2543 matching"},
	{"insuf", "3.3.1", 400, "Call-ID, From and To missing"},
	{"unkscm", "3.3.2", parses, "UAS answers 416 (unknown Request-URI scheme)"},
	{"novelsc", "3.3.3", parses, "UAS answers 416 (soap.beep not supported)"},
	{"unksm2", "3.3.4", parses, "unknown schemes in To/From/Contact are fine"},
	{"bext01", "3.3.5", parses, "UAS answers 420 (Require: nothingSupportsThis)"},
	{"invut", "3.3.6", parses, "UAS answers 415 (Content-Type application/unknownformat)"},
	{"regaut01", "3.3.7", parses, "registrar answers 401 (unknown authorization scheme)"},
	{"multi01", "3.3.8", 400, "several values in single-valued headers"},
	{"mcl01", "3.3.9", 400, "several Content-Length values"},
	{"bcast", "3.3.10", parses, ""},
	{"zeromf", "3.3.11", parses, "Max-Forwards 0: a UAS answers OPTIONS normally, a proxy 483"},
	{"cparam01", "3.3.12", parses, ""},
	{"cparam02", "3.3.13", parses, ""},
	{"regescrt", "3.3.14", parses, ""},
	{"sdp01", "3.3.15", parses, "UAS answers 406 (Accept: text/nobodyKnowsThis)"},
	{"inv2543", "3.4.1", parses, ""},
	{"test", "not in RFC 4475", 400, "request line without SIP version"},
}

func TestTorture(t *testing.T) {
	files, err := filepath.Glob("testdata/rfc4475/*.dat")
	if err != nil || len(files) != len(torture) {
		t.Fatalf("torture files: %d, want %d (%v)", len(files), len(torture), err)
	}
	var reused Message
	for _, tc := range torture {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/rfc4475/" + tc.file + ".dat")
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(b)
			errFrom := reused.ParseFrom(append([]byte(nil), b...))
			if (err == nil) != (errFrom == nil) {
				t.Fatalf("Parse: %v, ParseFrom: %v", err, errFrom)
			}
			switch tc.want {
			case parses:
				if err != nil {
					t.Fatalf("%s: Parse: %v", tc.section, err)
				}
				if !sameMessage(m, &reused) {
					t.Fatalf("ParseFrom differs from Parse")
				}
				// Round trip: the serialised form parses to the same message.
				m2, err := Parse(m.AppendTo(nil))
				if err != nil {
					t.Fatalf("reparse: %v", err)
				}
				if string(m.AppendTo(nil)) != string(m2.AppendTo(nil)) {
					t.Fatalf("round trip differs")
				}
			case drop:
				if err == nil || reused.IsRequest() {
					t.Fatalf("%s: want a dropped response, got err %v, request %v", tc.section, err, reused.IsRequest())
				}
			default:
				if err == nil {
					t.Fatalf("%s: accepted; want %d (%s)", tc.section, tc.want, tc.note)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				code, reason := ResponseFor(err)
				if code != tc.want || reason != ReasonPhrase(tc.want) {
					t.Fatalf("%s: ResponseFor(%v) = %d %q, want %d", tc.section, err, code, reason, tc.want)
				}
				if !reused.IsRequest() && !strings.HasPrefix(string(b), "SIP/") {
					t.Fatalf("a request's failed parse lost its method")
				}
				// The UAS builds its answer from what was parsed.
				r := NewResponse(&reused, code, reason)
				if reused.Get("Via") != "" && (r.Get("Via") == "" || r.StatusCode != tc.want) {
					t.Fatalf("no answer from the partial message: %q", r.String())
				}
			}
		})
	}
}

func TestResponseFor(t *testing.T) {
	if c, r := ResponseFor(nil); c != 0 || r != "" {
		t.Errorf("nil: %d %q", c, r)
	}
	if c, _ := ResponseFor(errors.New("other")); c != 400 {
		t.Errorf("other: %d", c)
	}
}

// sameMessage compares every field of two messages.
func sameMessage(a, b *Message) bool {
	if a.Method != b.Method || a.RequestURI != b.RequestURI || a.StatusCode != b.StatusCode ||
		a.Reason != b.Reason || string(a.Body) != string(b.Body) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i] != b.Headers[i] {
			return false
		}
	}
	return true
}
