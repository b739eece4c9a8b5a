// Package sipbench compares the SIP message parser and serialiser of
// github.com/deskphone/deskphone/sipua/sipmsg with github.com/emiago/sipgo's,
// side by side in one run, on the same messages: a 900-byte INVITE with SDP
// and a 200 OK (sipua/sipmsg/testdata/bench). It also compares sipua/sdp with
// github.com/pion/sdp/v3 on one PBX offer, audio and video
// (sipua/sdp/testdata/offers/asterisk-video.sdp): BenchmarkParseAnswer
// parses, answers by the same rules and writes the answer, BenchmarkParseSDP
// only parses, each with "own" and "pion" sub-benchmarks, and
// TestPionAnswerAgrees checks that the two answers say the same. It lives in
// a module of its own so that neither the firmware nor the main module
// depends on sipgo or pion/sdp.
//
//	cd tools/sipbench && go test -run '^$' -bench . -benchmem
//	cd tools/sipbench && go test -run '^$' -bench 'ParseAnswer|SDP' -benchmem .
//
// (make sipbench runs every benchmark once; BENCHTIME=1s make sipbench for
// figures.) BenchmarkSpeedup interleaves the two parsers in small batches so
// that both see the same machine load, and reports x-faster. It compares
// unlike work: ParseFrom checks the message and leaves its values as text,
// sipgo also builds typed Via, From, To, Contact and CSeq headers.
// BenchmarkSpeedupFields is the fair one: both sides parse and read what a
// user agent reads from every message (top Via branch and sent-by, From and
// To tags, Call-ID, CSeq, Contact host), sipmsg through its views, sipgo
// through its typed headers; TestSameFields checks they read the same. The
// budget (docs/DESIGN.md): at least 2x faster than sipgo, with 0
// allocations on sipmsg's side.
//
//	cd tools/sipbench && go test -count=8 -run '^$' -bench Speedup .
package sipbench

import (
	"os"
	"path/filepath"
	"runtime"
)

// Messages are the benchmark messages by name, read from the main module's
// testdata.
var Messages = []string{"invite.sip", "ok200.sip"}

// Load reads one benchmark message.
func Load(name string) ([]byte, error) {
	_, file, _, _ := runtime.Caller(0)
	return os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "sipua", "sipmsg", "testdata", "bench", name))
}
