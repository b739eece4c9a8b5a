package sdp

import (
	"os"
	"strings"
	"testing"
)

// benchOffer is the offer the benchmarks answer: a PBX's (Asterisk's) audio
// and video, two m-lines (testdata/offers/asterisk-video.sdp, with CRLF line
// ends as a PBX sends it). tools/sipbench answers the same offer with this
// package and with pion/sdp/v3 side by side.
func benchOffer(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/offers/asterisk-video.sdp")
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n"))
}

// ownAnswer is what the UA does with an offer: parse, answer, write.
func ownAnswer(offer []byte, local Session, buf []byte) ([]byte, error) {
	o, err := Parse(offer)
	if err != nil {
		return nil, err
	}
	a, err := Answer(o, local)
	if err != nil {
		return nil, err
	}
	return a.AppendTo(buf[:0]), nil
}

// BenchmarkParseAnswer is what an incoming INVITE's offer costs: parse,
// answer and write the answer of a two-m-line offer. make bench runs it
// once; -benchtime=1s -benchmem for figures. The comparison with
// pion/sdp/v3 is in tools/sipbench (doc.go).
func BenchmarkParseAnswer(b *testing.B) {
	offer := benchOffer(b)
	local := phoneCaps()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ownAnswer(offer, local, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is the parse alone.
func BenchmarkParse(b *testing.B) {
	offer := benchOffer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(offer); err != nil {
			b.Fatal(err)
		}
	}
}
