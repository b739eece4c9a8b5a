package diag

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua"
)

// TestTraceSippCall: the user agent calls SIPp (the PBX of
// uas_voicemail.xml, which checks the phone's INVITE and BYE on the
// wire), through the trace hook as the firmware wires it, with log.sip
// on. Every message of the call that SIPp saw, sent or received, must be
// in the SIP trace in the same order, whole (the same bytes), with the
// direction, transport and peer; and in the log, in order.
func TestTraceSippCall(t *testing.T) {
	testtool.Long(t, "make race")
	port := testtool.Port(t)
	sippLog := filepath.Join(t.TempDir(), "sipp-messages.log")
	wait := testtool.SIPp(t, "-sf", "../../sipua/testdata/sipp/uas_voicemail.xml", "-p", fmt.Sprint(port),
		"-mp", fmt.Sprint(testtool.Ports(t, 4)), "-trace_msg", "-message_file", sippLog) // media: RTP and RTCP, audio and video
	tr := NewTrace(0, nil)
	var console syncBuffer
	l := NewLog(LogConfig{Console: &console})
	tr.SetLog(l)
	ua, err := sipua.New(sipua.Config{Listen: "127.0.0.1:0", Lines: []sipua.LineConfig{{User: "1001"}}, Trace: tr.Hook, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	id, err := ua.Dial(1, fmt.Sprintf("sip:1002@127.0.0.1:%d", port), sipua.Media{Host: "127.0.0.1", Port: 10000, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	next := func(want sipua.EventKind) {
		t.Helper()
		select {
		case e := <-ua.Events():
			if e.Kind != want {
				t.Fatalf("event %v %+v, want %v", e.Kind, e, want)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("no %v", want)
		}
	}
	next(sipua.CallProgress)
	next(sipua.CallAnswered)
	if err := ua.Hangup(id); err != nil {
		t.Fatal(err)
	}
	next(sipua.CallEnded)
	if err := wait(); err != nil {
		t.Fatal(err)
	}

	// SIPp's view, turned round: what it received the phone sent.
	var want []traced
	for _, m := range sippMessages(t, sippLog) {
		m.sent = !m.sent
		want = append(want, m)
	}
	var ring bytes.Buffer
	tr.Ring().WriteTo(&ring)
	peer := fmt.Sprintf("127.0.0.1:%d", port)
	// A retransmission (the first INVITE may come before SIPp listens)
	// is in the trace but may not be in SIPp's view: repeats are skipped.
	var got []traced
	for _, m := range traceRecords(t, ring.String(), peer) {
		if n := len(got); n > 0 && got[n-1] == m {
			continue
		}
		got = append(got, m)
	}
	if len(got) != len(want) || len(want) < 6 {
		t.Fatalf("trace holds %d messages, SIPp saw %d:\n%s\nSIPp:\n%s", len(got), len(want), summary(got), summary(want))
	}
	for i := range want {
		if got[i].sent != want[i].sent || got[i].msg != want[i].msg {
			t.Fatalf("message %d: trace %v %q\nSIPp (turned round) %v %q", i, got[i].sent, got[i].msg, want[i].sent, want[i].msg)
		}
	}
	// The log (log.sip = on) has the same messages in the same order.
	var heads [][]string
	for _, h := range regexp.MustCompile(`sip: (sent|received) UDP (?:to|from) `+regexp.QuoteMeta(peer)+` \(\d+ bytes\)\n(\S+ \S+)`).FindAllStringSubmatch(console.String(), -1) {
		if n := len(heads); n > 0 && heads[n-1][1] == h[1] && heads[n-1][2] == h[2] {
			continue // a retransmission, as above
		}
		heads = append(heads, h)
	}
	if len(heads) != len(want) {
		t.Fatalf("log holds %d SIP messages, want %d", len(heads), len(want))
	}
	for i, h := range heads {
		if (h[1] == "sent") != want[i].sent || !strings.HasPrefix(want[i].msg, h[2]) {
			t.Fatalf("log message %d: %s %s, want %v %.30q", i, h[1], h[2], want[i].sent, want[i].msg)
		}
	}
}

type traced struct {
	sent bool
	msg  string // the message, line ends as LF, without trailing blank lines
}

// normal makes SIPp's and the trace's copies of a message comparable:
// LF line ends, no blank lines at the end.
func normal(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// sippMessages reads SIPp's -trace_msg file: a dashed line with the
// time, "UDP message received [N] bytes :" or "UDP message sent (N
// bytes):", a blank line, the message.
func sippMessages(t *testing.T, file string) []traced {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []traced
	for _, block := range strings.Split(string(b), "-----------------------------------------------")[1:] {
		_, rest, _ := strings.Cut(block, "\n") // the time
		head, msg, _ := strings.Cut(rest, "\n")
		if !strings.Contains(head, "UDP message") {
			continue
		}
		out = append(out, traced{sent: strings.Contains(head, " sent "), msg: normal(strings.TrimPrefix(msg, "\n"))})
	}
	return out
}

// traceRecords splits the trace's text into its records to or from peer.
func traceRecords(t *testing.T, text, peer string) []traced {
	head := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\S+ (sent|received) UDP (to|from) (\S+) \((\d+) bytes\)$`)
	var out []traced
	var cur *traced
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.msg = normal(body.String())
			out = append(out, *cur)
		}
		cur = nil
		body.Reset()
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := head.FindStringSubmatch(line); m != nil {
			flush()
			if m[3] == peer {
				cur = &traced{sent: m[1] == "sent"}
			}
			continue
		}
		if cur != nil {
			body.WriteString(line + "\n")
		}
	}
	flush()
	return out
}

// syncBuffer is a bytes.Buffer safe for the log's writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func summary(ms []traced) string {
	var b strings.Builder
	for _, m := range ms {
		first, _, _ := strings.Cut(m.msg, "\n")
		fmt.Fprintf(&b, "  sent %v: %s\n", m.sent, first)
	}
	return b.String()
}
